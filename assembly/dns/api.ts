// The DNS proxy's exports (docs/abi.md "DNS proxy"): the protocol is in
// proxy.ts; the hosts own the sockets and call these.
import { settings } from "../settings";
import { dns23Count, dns23Ptr, dnsUpstreamCountActive, dnsUpstreamPtrActive } from "../map/provision";
import { DNS_BUFFER_SIZE, DNS_SLOTS, DNS_SOCKETS, dnsBufferPtr } from "./proxy";
export { dnsQuery, dnsAnswer, dnsPoll, dnsClientGone, dnsUpstreamFailed, dnsOutKind, dnsOutUpstream,
  dnsOutSocket, dnsOutEntry, dnsOutClientAddr, dnsOutClientPort, dnsOutConn, dnsOutstanding } from "./proxy";

/** Where a DNS message goes in and out (DNS_BUFFER_SIZE bytes). */
export function dnsBuffer(): usize { return dnsBufferPtr(); }
export function dnsBufferSize(): i32 { return DNS_BUFFER_SIZE; }
/** Outstanding queries at most. */
export function dnsSlots(): i32 { return DNS_SLOTS; }
/** UDP sockets the host opens toward the upstreams (dnsOutSocket is one of 0..n-1). */
export function dnsSocketCount(): i32 { return DNS_SOCKETS; }
/** The LAN IPv4 address (host order) the proxy answers on, 0 = no proxy (--dns-proxy; in force since start()). */
export function dnsProxyAddress(): u32 { return <u32>settings.dnsProxyAddress; }
/** The LAN port the proxy answers on (--dns-proxy <addr>:<port>, default 53). */
export function dnsProxyPort(): i32 { return settings.dnsProxyPort; }
/** Upstream resolvers in force: --dns-upstream, else DHCPv6 OPTION_DNS_SERVERS (23). */
export function dnsUpstreamCount(): i32 { return dnsUpstreamCountActive(); }
/** Pointer to the 16 bytes of upstream i, 0 when i is out of range. */
export function dnsUpstream(i: i32): usize { return i >= 0 && i < dnsUpstreamCountActive() ? dnsUpstreamPtrActive(i) : 0; }
/** Resolvers of the configured configuration's OPTION_DNS_SERVERS (RFC 3646), 0 when none. */
export function dnsServerCount(): i32 { return dns23Count(); }
/** Pointer to the 16 bytes of OPTION_DNS_SERVERS address i, 0 when out of range. */
export function dnsServer(i: i32): usize { return i >= 0 && i < dns23Count() ? dns23Ptr(i) : 0; }
