// `mape ce` of the router program (x86_64) on a TUN in a network namespace:
// the Node host's tests (tests/host/ce-tun.ts) with the native program as the
// instance, its stats read by both hosts' `mape stats`; and a Node instance
// read by the native `mape stats` (the control socket protocol is one).
import { NODE_SERVE, ceTunTests, mapeBin } from "../host/ce-tun.js";
import { targetNamed, command, missing } from "./router.js";

const x86 = targetNamed("x86_64");
const native = command(x86);

ceTunTests({
  ...NODE_SERVE,
  label: "router x86_64",
  cmd: native,
  statsCmds: [native, [process.execPath, mapeBin()]],
  missing: missing(x86),
});

ceTunTests({ ...NODE_SERVE, label: "Node instance, router x86_64 stats", statsCmds: [native], missing: missing(x86) });
