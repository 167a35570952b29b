// `mape ce` of the Node host on a TUN in a network namespace (the tests are
// tests/host/ce-tun.ts, shared with the router program's run).
import { NODE_SERVE, ceTunTests } from "./ce-tun.js";

ceTunTests(NODE_SERVE);
