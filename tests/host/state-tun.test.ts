// `mape ce --state` of the Node host on a TUN (tests/host/state-tun.ts).
import { NODE_SERVE } from "./ce-tun.js";
import { stateTunTests } from "./state-tun.js";

stateTunTests(NODE_SERVE);
