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
          [--inner-fragmentation on|off] [--ftp-alg on|off] [--ftp-port <n>]
          [--inner-fragmentation on|off]
          [--pptp on|off] [--br-pptp on|off]
          [--forward tcp|udp:<port>=<lan-ipv4>[:<port>]]... [--pcp <lan-ipv4>]
          [--dns-proxy <lan-ipv4>[:port] [--dns-upstream <ipv6>]...]
          [--fair-share on|off] [--fair-reserve <ports>] [--port-reuse on|off|auto]
          [--tun <name>] [--routes] [--control <path>]
          [--state <file> [--state-interval <seconds>]]

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

--ftp-alg (default on) rewrites FTP PORT / EPRT from LAN clients and 227
from LAN servers to the CE's address and a port of its set; --ftp-port is
the control connections' TCP port (default 21).
--forward tcp:<port>=<lan-ipv4>[:<port>] (repeatable; JSON "forwards", UCI
'list forward') forwards an external port of our set to a LAN host: any
remote may open it, it never expires, it is hairpinned. A port outside the
CE's port set is refused with one line listing the set's ranges. --pcp
<lan-ipv4> serves PCP (RFC 6887 MAP) and NAT-PMP (RFC 6886) on that
address, UDP port 5351: a client gets the port it asks for when it is in
our set and free, else the nearest free one of the set. 'mape stats' lists
the forwards and mappings.
--dns-proxy answers the LAN's DNS (UDP and TCP) on that address of the CE
host (port 53 unless given) and carries each query over IPv6 to the
--dns-upstream resolvers (up to 8; else the DHCPv6 reply's option 23 of
--dhcpv6), from the host's WAN address: no port of the set is used for
DNS. 'mape stats' counts it (dns-*).
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

--state <file> keeps the NAT state (mappings, sessions, TCP states, idle
timers) across a restart or an upgrade of the program: it is read at start,
before any traffic, when its BMR (IPv4 address, PSID, MAP address) is the
configured one, and written atomically (a temporary file renamed over it)
at SIGTERM/SIGINT and every --state-interval seconds (default 60; 0 = only
at exit), so a crash loses at most that interval. One line says what
happened ('restored N sessions from <file>', or why the image was refused:
truncated, corrupt, another format version, another BMR); a refused or
unreadable image means the CE starts empty. A missing file is a first start.

SIGHUP re-reads the configuration: with the same IPv4 address and port set
the NAT sessions survive (the log line says whether they did); a bad new
configuration leaves the running one in force. 'mape stats --tun <name>' (or SIGUSR1) prints the
counters. Configuration sources are those of 'mape calc' (with no source:
the built-in JANOG rule).`;

export function run(argv: string[]): Promise<number> {
  return serve({ mode: "ce", argv, usage, defaultTun: "mape0" });
}
