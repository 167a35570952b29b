// `mape ce`: a MAP-E customer edge on a TUN (host/runner.ts does the work).

import { serve } from "../runner.js";

export const summary = "run a MAP-E CE on a TUN until SIGTERM (SIGHUP reloads, SIGUSR1 prints counters)";

export const usage = `usage:
  mape ce [--rule <ipv6-prefix>/<len>,<ipv4-prefix>/<len>,<ea-bits>[,<psid-offset>] --br <ipv6>...
           | --config <file.json>
           | --dhcpv6 <hex | OpenWrt rule string> [--dhcpv6-type map-e|lw4o6]
           | --uci <file> --interface <name>
           | --rules <file> [--rules-format hb46pp|v6plus|ocn]
           | --auto [--hb46pp-domain <domain>] [--dns-server <ipv6>]... [--ca <file> | --insecure]
                    [--rules-state <file>] [--vendorid <OUI>-<name>]]
          [--prefix <end-user-ipv6-prefix>/<len>] [--legacy-iid]
          [--max-sessions-per-host <n>] [--max-sessions-per-mapping <n>]
          [--inner-fragmentation on|off]
          [--fair-share on|off] [--fair-reserve <ports>] [--port-reuse on|off|auto]
          [--tun <name>] [--routes] [--control <path>]

Creates the TUN <name> (default mape0; a persistent one of that name is
attached instead), brings it up (addrgenmode none) and runs the CE's data
path on it until SIGTERM or SIGINT, then exits 0 (a TUN it created goes
away). Prints the routes the operator must add:
  ip -4 route add default dev <tun> mtu <tunnel MTU - 40>
  ip -6 route add <CE MAP IPv6 address>/128 dev <tun>
or adds them itself with --routes (and removes them on exit). The IPv6
route toward the BR and IPv4/IPv6 forwarding are the host's: a warning says
when they are missing.

--max-sessions-per-host / --max-sessions-per-mapping bound the NAT sessions
of one LAN host (default 16384) and of one mapping (default 4096; 0 = no
limit): a new session past a limit evicts the offender's oldest
non-established session, never another host's.

--fair-share (default on): once a port set is full, a LAN host below its
share (set size / hosts holding ports) gets a port reclaimed from a host
above its share (transitory TCP first, established TCP last); a host at its
share is refused with ICMP 3/13. --fair-reserve (default 2) keeps the last
ports of each set for hosts below their share. --port-reuse (default auto:
on below 1024 ports) lets a TCP connection share an external port with
others toward a different remote address and port (RFC 7857 §3); UDP keeps
endpoint-independent mapping. mape stats shows the port budget.

--auto provisions the CE from HB46PP (v6mig-prov): a TXT query for
4over6.info (or --hb46pp-domain) to the line's IPv6 resolver (--dns-server,
else the system's IPv6 ones) names the server; its JSON answer gives the
rules (refetched at its ttl, on SIGHUP, and after failures as the spec's
retry times say). The last good rules are kept in --rules-state (default
/var/lib/mape/<tun>.rules.json; '' keeps none) and used at start until a
fetch succeeds. t=b in the TXT record checks the server's certificate
against the system's CAs, or only --ca <file> when given; --insecure
checks none. --vendorid is sent as is (default 020000-mape_wasm, a locally
administered id, nobody's OUI).

SIGHUP re-reads the configuration: with the same IPv4 address and port set
the NAT sessions survive (the log line says whether they did); a bad new
configuration leaves the running one in force. 'mape stats --tun <name>' (or SIGUSR1) prints the
counters. Configuration sources are those of 'mape calc' (with no source:
the built-in JANOG rule).`;

export function run(argv: string[]): Promise<number> {
  return serve({ mode: "ce", argv, usage, defaultTun: "mape0" });
}
