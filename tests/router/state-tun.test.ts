// `mape ce --state` of the router program (x86_64) on a TUN: the Node host's
// test (tests/host/state-tun.ts) with the native program as the instance.
import { NODE_SERVE, mapeBin } from "../host/ce-tun.js";
import { stateTunTests } from "../host/state-tun.js";
import { targetNamed, command, missing } from "./router.js";

const x86 = targetNamed("x86_64");
const native = command(x86);

stateTunTests({ ...NODE_SERVE, label: "router x86_64", cmd: native, statsCmds: [native, [process.execPath, mapeBin()]], missing: missing(x86) });
