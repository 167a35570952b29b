// `mape calc`: the CE's IPv4 address, PSID, port set and MAP IPv6 address
// under a MAP rule, computed and formatted by the wasm module (assembly/config/calc.ts).

import { Engine } from "../engine.js";
import { configureFromArgs } from "../config/source.js";
import { UsageError } from "./usage.js";

export const summary = "compute a CE's IPv4 address, PSID, ports and MAP IPv6 address from a MAP rule";

export const usage = `usage:
  mape calc [--json | --format human|json|mapcalc]
            [--rule <ipv6-prefix>/<len>,<ipv4-prefix>/<len>,<ea-bits>[,<psid-offset>] [--br <ipv6>]...
             | --config <file.json>
             | --dhcpv6 <hex | OpenWrt rule string> [--dhcpv6-type map-e|map-t|lw4o6]
             | --uci <file> --interface <name>
             | --rules <file> [--rules-format hb46pp|v6plus|ocn]]
            [--prefix <end-user-ipv6-prefix>/<len>] [--legacy-iid]
            [--tunnel-mtu <1280..9000>] [--hop-limit <1..255>]
            [--filtering endpoint-independent|address-dependent|address-and-port-dependent]
            [--mss-clamp off|auto|<mss>] [--tc-from-tos on|off]
            [--udp-timeout <s>] [--dns-timeout <s>] [--tcp-established-timeout <s>]
            [--tcp-transitory-timeout <s>] [--icmp-timeout <s>]
            [--max-sessions-per-host <n>] [--max-sessions-per-mapping <n>]
            [--inner-fragmentation on|off]
            [--pptp on|off] [--br-pptp on|off]

With no configuration flags: the built-in default, the JANOG interop rule
2403:9200::/32 -> 203.86.225.0/28, 16 EA bits, PSID offset 4,
BR 2403:9200:fff0::2, end-user prefix 2403:9200:1234::/48.
--format mapcalc prints the KEY=value lines of OpenWrt's mapcalc.
--rules reads an HB46PP (v6mig-prov), JPNE v6plus (JSON or JSONP) or OCN
rule answer; the format is detected unless given. The rule whose IPv6
prefix is the longest match of --prefix is the BMR; the output names it
(or says that no rule matched).`;

type Format = "human" | "json" | "mapcalc";
const FORMAT_CODE: Readonly<Record<Format, number>> = { human: 0, json: 1, mapcalc: 2 };

export function run(argv: string[]): number {
  // The module parses the configuration flags, installs the result and
  // renders the output (the native router program prints the same bytes).
  const engine = Engine.load();
  const source = configureFromArgs(engine, argv, "calc");
  let format: Format = "human";
  for (let i = 0; i < source.rest.length; i++) {
    const a = source.rest[i];
    if (a === "--json") format = "json";
    else if (a === "--format" || a.startsWith("--format=")) {
      const v = a === "--format" ? source.rest[++i] : a.slice("--format=".length);
      if (v !== "human" && v !== "json" && v !== "mapcalc") throw new UsageError(`--format: '${v ?? ""}' is not human, json or mapcalc`);
      format = v;
    } else if (a === "--help" || a === "-h") {
      console.log(usage);
      return 0;
    } else throw new UsageError(`calc: unknown argument '${a}' (see 'mape calc --help')`);
  }
  process.stdout.write(engine.calcText(FORMAT_CODE[format]));
  return 0;
}
