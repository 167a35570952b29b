// `mape br`: a MAP-E border relay on a TUN (host/runner.ts does the work).

import { serve } from "../runner.js";

export const summary = "run a MAP-E BR on a TUN until SIGTERM (SIGHUP reloads, SIGUSR1 prints counters)";

export const usage = `usage:
  mape br (--rule <ipv6-prefix>/<len>,<ipv4-prefix>/<len>,<ea-bits>[,<psid-offset>] --br <own-ipv6>...
           | --config <file.json>
           | --dhcpv6 <hex | OpenWrt rule string> [--dhcpv6-type map-e|lw4o6]
           | --uci <file> --interface <name>)
          [--tun <name>] [--routes] [--control <path>]

Creates the TUN <name> (default mapebr0; a persistent one of that name is
attached instead), brings it up (addrgenmode none) and runs the BR's data
path on it until SIGTERM or SIGINT, then exits 0. The S46_BR addresses of
the configuration are the BR's own. Prints the routes the operator must add:
  ip -4 route add <each rule's IPv4 prefix> dev <tun> mtu <tunnel MTU - 40>
  ip -6 route add <each BR address>/128 dev <tun>
or adds them itself with --routes (and removes them on exit). The rules'
IPv6 prefixes are not routed into the TUN: packets toward the CEs leave by
the host's own IPv6 routing.

SIGHUP re-reads the configuration (a bad one leaves the running one in
force); 'mape stats --tun <name>' (or SIGUSR1) prints the counters.`;

export function run(argv: string[]): Promise<number> {
  return serve({ mode: "br", argv, usage, defaultTun: "mapebr0" });
}
