// Counters. Every packet that enters `process` leaves with exactly one
// outcome: forwarded (counted per direction) or dropped for one named reason
// through `drop(reason, len)`. Each counter is a pair of u64 (packets, bytes)
// in one fixed array, so the host reads them all with one view.
//
//   COUNTERS: [ packets(0) | bytes(0) | packets(1) | bytes(1) | ... ]  u64 each
//
// The names (exported to the host through counterName) are the single source
// of truth; docs/counters.md explains each. Append new counters at the end of
// a group; names are what the host and the tests use, not the numbers.
import {
  natCounter, NAT_C_EVICTED_HOST_LIMIT, NAT_C_EVICTED_MAPPING_LIMIT, NAT_C_REFUSED_SHARE, NAT_C_RECLAIMED_SHARE,
  NAT_C_PORT_REUSED,
} from "../nat/nat";

// ---- inputs -----------------------------------------------------------------
/** IPv4 packets received (from the LAN on a CE, from the internet on a BR). */
export const C_IN_IPV4: i32 = 0;
/** IPv6 packets received from the IPv6 network. */
export const C_IN_IPV6: i32 = 1;

// ---- outcomes: every input ends in exactly one of these or one drop-* -------
/** Inputs that left toward the IPv6 side (encapsulated, possibly as fragments). */
export const C_FWD_TO_IPV6: i32 = 2;
/** Inputs that left toward the IPv4 side (decapsulated or hairpinned). */
export const C_FWD_TO_IPV4: i32 = 3;
/** Inputs kept by the module: fragments waiting for the rest, ICMP consumed. */
export const C_HELD: i32 = 4;

// ---- statistics (not outcomes) ---------------------------------------------
/** Every IPv6 packet emitted, generated ones included. */
export const C_OUT_IPV6: i32 = 5;
/** Every IPv4 packet emitted, generated ones included. */
export const C_OUT_IPV4: i32 = 6;
/** Packets hairpinned inside the CE (RFC 4787 REQ-9). */
export const C_HAIRPIN: i32 = 7;
/** Packets encapsulated straight to a peer CE (forwarding rule, mesh). */
export const C_MESH: i32 = 8;
/** ICMP error messages the module generated. */
export const C_ICMP_GENERATED: i32 = 9;
/** Extra IPv4 fragments made from too-big DF-clear packets. */
export const C_FRAGMENTS_OUT: i32 = 10;
/** IPv6 packets reassembled from fragments. */
export const C_REASSEMBLED: i32 = 11;
/** Held IPv4 fragments released when their first fragment came. */
export const C_RELEASED: i32 = 12;
/** Held fragments whose time ran out (they were counted as held). */
export const C_EXPIRED_FRAGMENTS: i32 = 13;
/** Packets the module made but could not emit for lack of a spare slot. */
export const C_NO_SLOT: i32 = 14;
/** ICMPv6 Packet Too Big messages that lowered a tunnel path MTU. */
export const C_PTB_RECEIVED: i32 = 15;

// ---- drops ------------------------------------------------------------------
export const D_FIRST: i32 = 16;
export const D_UNKNOWN_VERSION: i32 = 16;
export const D_IPV4_TRUNCATED: i32 = 17;
export const D_IPV4_BAD_VERSION: i32 = 18;
export const D_IPV4_BAD_IHL: i32 = 19;
export const D_IPV4_BAD_LENGTH: i32 = 20;
export const D_IPV4_BAD_CHECKSUM: i32 = 21;
export const D_IPV4_BAD_L4: i32 = 22;
export const D_IPV4_UNSUPPORTED_PROTOCOL: i32 = 23;
export const D_IPV4_TTL_EXPIRED: i32 = 24;
export const D_IPV4_DF_TOO_BIG: i32 = 25;
export const D_IPV4_MARTIAN: i32 = 26;
export const D_IPV6_TRUNCATED: i32 = 27;
export const D_IPV6_BAD_VERSION: i32 = 28;
export const D_IPV6_BAD_LENGTH: i32 = 29;
export const D_IPV6_BAD_EXTENSION: i32 = 30;
export const D_IPV6_NOT_FOR_US: i32 = 31;
export const D_IPV6_UNSUPPORTED_NEXT_HEADER: i32 = 32;
export const D_IPV6_FRAGMENT_BAD: i32 = 33;
export const D_IPV6_FRAGMENT_TABLE_FULL: i32 = 34;
export const D_IPV6_FRAGMENT_TOO_BIG: i32 = 35;
export const D_SECURITY_IPV4_DST: i32 = 36;
export const D_SECURITY_PORT: i32 = 37;
export const D_SECURITY_IPV6_DST: i32 = 38;
export const D_SECURITY_IPV6_SRC: i32 = 39;
export const D_SECURITY_IPV6_SRC_UNKNOWN: i32 = 40;
export const D_NAT_NO_MAPPING: i32 = 41;
export const D_NAT_FILTERED: i32 = 42;
export const D_NAT_PORT_EXHAUSTED: i32 = 43;
export const D_NAT_TABLE_FULL: i32 = 44;
export const D_ICMP_UNSUPPORTED: i32 = 45;
export const D_ICMP_BAD_QUOTE: i32 = 46;
export const D_ICMPV6_UNSUPPORTED: i32 = 47;
export const D_ICMPV6_BAD_QUOTE: i32 = 48;
export const D_FRAGMENT_HOLD_FULL: i32 = 49;
export const D_FRAGMENT_BAD: i32 = 50;
export const D_NOT_CONFIGURED: i32 = 51;
export const D_BR_NO_RULE: i32 = 52;
export const D_BR_PORT_OUTSIDE: i32 = 53;
/** One past the last drop counter: drops are D_FIRST .. D_END - 1 (statistics follow). */
export const D_END: i32 = 54;
/** Held fragments released and then refused (they were counted as held). */
export const C_RELEASED_DROPPED: i32 = 54;

// ---- session gauges and totals (copied from the NAT when the host reads) ---
// Their "bytes" half stays 0.
export const G_FIRST: i32 = 55;
export const G_SESSIONS_ACTIVE: i32 = 55;
export const G_MAPPINGS_ACTIVE: i32 = 56;
export const G_SESSIONS_CREATED: i32 = 57;
export const G_SESSIONS_EXPIRED: i32 = 58;
export const G_SESSIONS_REFUSED_NO_PORT: i32 = 59;
export const G_SESSIONS_REFUSED_FULL: i32 = 60;
export const G_MAPPINGS_CREATED: i32 = 61;
export const G_SESSIONS_EVICTED: i32 = 62;
/** Number of session gauges (G_FIRST … G_SESSIONS_EVICTED). */
export const G_COUNT: i32 = 8;

// ---- appended later (statistics, not outcomes) ------------------------------
/** ICMPv4 errors the module did not make because of the rate limit (icmp.ts icmpAllowed). */
export const C_ICMP_RATE_LIMITED: i32 = 63;
/** Inputs of a process() call past batchMax, not read (bytes 0); a negative count counts 1. */
export const D_BATCH_OVERFLOW: i32 = 64;
/** process() calls whose nowMs the module clock did not take as given (invalid, backward, or a step above the cap). */
export const C_CLOCK_ADJUSTED: i32 = 65;
/** Held IPv4 fragments dropped to make room (the oldest of their source, or of the table; counted as held before). */
export const C_FRAGMENTS_EVICTED: i32 = 66;
/** IPv6 reassembly contexts dropped to make room (the oldest of their source /64, or of the table). */
export const C_REASSEMBLY_EVICTED: i32 = 67;
/** NAT sessions evicted because their LAN host reached its session limit (copied from the NAT). */
export const G_SESSIONS_EVICTED_HOST_LIMIT: i32 = 68;
/** NAT sessions evicted because their mapping reached its session limit (copied from the NAT). */
export const G_SESSIONS_EVICTED_MAPPING_LIMIT: i32 = 69;

// ---- appended later: ICMP policy (icmp.ts); drops D2_FIRST .. D2_END - 1 ----
export const D2_FIRST: i32 = 70;
/** An ICMP Redirect, either way (never meaningful across a tunnel). */
export const D_ICMP_REDIRECT: i32 = 70;
/** An ICMP Source Quench, either way (deprecated, RFC 6633). */
export const D_ICMP_SOURCE_QUENCH: i32 = 71;
/** An ICMP error whose quoted remote the session's filtering would not admit. */
export const D_ICMP_FILTERED: i32 = 72;
/** An ICMPv6 error (other than Packet Too Big) from a source that is not a tunnel endpoint. */
export const D_ICMPV6_UNTRUSTED_SOURCE: i32 = 73;
/** An ICMPv6 error quoting an IPv4 packet this module could not have sent (address outside it). */
export const D_ICMPV6_QUOTE_NOT_OURS: i32 = 74;
/** An ICMPv6 error whose quoted IPv6 destination is not where the quoted IPv4 packet would go. */
export const D_ICMPV6_QUOTE_ENDPOINT: i32 = 75;
/** An ICMPv6 error not relayed as ICMPv4 because of the rate limit. */
export const D_ICMPV6_RATE_LIMITED: i32 = 76;
export const D2_END: i32 = 77;
/** Relayed Fragmentation Needed messages whose next-hop MTU was raised to the floor (statistic). */
export const C_ICMP_MTU_FLOOR: i32 = 77;

// ---- appended later (FTP ALG, IPsec, PPTP, DNS proxy, NAT shares, inbound ports, state image, provisioning): drops D3_FIRST .. D3_END - 1, then statistics ----
export const D3_FIRST: i32 = 78;
/** Plain IPsec ESP (protocol 50): no port to share an address by (NAT-T, UDP 4500, is the way). */
export const D_IPV4_ESP: i32 = 78;
/** IPsec AH (protocol 51): no port, and it authenticates the addresses NAPT rewrites. */
export const D_IPV4_AH: i32 = 79;
/** An FTP command or reply the ALG rewrote that would no longer fit the slot, the tunnel MTU or the MSS. */
export const D_FTP_ALG_NO_ROOM: i32 = 80;
/** GRE that is not version 1 (or too short to say): GRE version 0 has no call ID to translate or route by. */
export const D_PPTP_GRE_VERSION: i32 = 81;
/** GRE version 1 whose header is not PPTP's (K clear, C/R/s/Recur set, not PPP, truncated). */
export const D_PPTP_GRE_BAD_HEADER: i32 = 82;
/** CE: PPTP GRE that belongs to no call the control-connection ALG saw (either direction). */
export const D_PPTP_NO_CALL: i32 = 83;
/** CE: an Outgoing-Call-Request / Incoming-Call-Reply dropped because every call record is live. */
export const D_PPTP_CALL_TABLE_FULL: i32 = 84;
export const D3_END: i32 = 85;
/** PCP / NAT-PMP messages dropped unanswered: shorter than 2 bytes, a response (R bit), a NAT-PMP mapping request cut short. */
export const D_PCP_MALFORMED: i32 = 85;
/** FTP PORT / EPRT commands and 227 replies rewritten to our address and a port of the set (statistic). */
export const C_FTP_ALG_REWRITTEN: i32 = 86;
/** An FTP PORT / EPRT / 227 line not ended in its segment: passed unchanged, not guessed (statistic). */
export const C_FTP_ALG_SPLIT: i32 = 87;
/** A malformed PORT / EPRT / 227 line (or EPRT of another family): passed unchanged (statistic). */
export const C_FTP_ALG_MALFORMED: i32 = 88;
/** A PORT / EPRT / 227 naming another address than its sender's: passed unchanged (statistic). */
export const C_FTP_ALG_OTHER_ADDRESS: i32 = 89;
/** A PORT / EPRT / 227 whose data connection got no mapping (set exhausted, table full): passed unchanged. */
export const C_FTP_ALG_NO_MAPPING: i32 = 90;
/** A rewrite that changes the length with no free ALG context for its session: passed unchanged. */
export const C_FTP_ALG_TABLE_FULL: i32 = 91;
/** CE: calls the ALG opened (statistic). */
export const C_PPTP_CALLS: i32 = 92;
/** CE: a PPTP control message cut by the end of its TCP segment, not rewritten (statistic; the call fails). */
export const C_PPTP_CONTROL_SPLIT: i32 = 93;
/** CE: TCP 1723 payload that is not a PPTP control message, not parsed further (statistic). */
export const C_PPTP_CONTROL_MALFORMED: i32 = 94;
/** PCP and NAT-PMP requests answered (statistic). */
export const C_PCP_REQUESTS: i32 = 95;
/** Of those, answered with an error result (statistic). */
export const C_PCP_ERRORS: i32 = 96;
/** ICMP destination unreachable 3/13 sent to a LAN host for a new flow the NAPT refused (RFC 5508 REQ-8; statistic). */
export const C_NAT_REFUSED_ICMP: i32 = 97;
/** New mappings refused because their host held its fair share of a full port set (copied from the NAT). */
export const G_SHARE_REFUSED: i32 = 98;
/** Sessions reclaimed from hosts above their fair share for a host below it (copied from the NAT). */
export const G_SHARE_RECLAIMED: i32 = 99;
/** TCP mappings given an external port another mapping holds, toward another remote (RFC 7857 §3; copied from the NAT). */
export const G_SHARE_PORT_REUSED: i32 = 100;
/** LAN queries sent upstream (first sends). */
export const C_DNS_QUERIES: i32 = 101;
/** Answers relayed to LAN clients. */
export const C_DNS_ANSWERS: i32 = 102;
/** Truncated UDP answers whose query was asked again over TCP. */
export const C_DNS_TCP_RETRIES: i32 = 103;
/** Queries sent again (next upstream) after an upstream did not answer in time. */
export const C_DNS_RETRANSMITS: i32 = 104;
/** Answers too large for the client's UDP size, sent as header and question with TC. */
export const C_DNS_ANSWERS_TRUNCATED: i32 = 105;
/** A LAN query that is not one: short, an answer, not exactly one question, a bad name or records. */
export const D_DNS_QUERY_BAD: i32 = 106;
/** A LAN query longer than the proxy keeps for a retry (QUERY_MAX). */
export const D_DNS_QUERY_TOO_LONG: i32 = 107;
/** A LAN query while every slot of the outstanding table is taken. */
export const D_DNS_TABLE_FULL: i32 = 108;
/** A LAN query (or a retry) with no upstream resolver configured. */
export const D_DNS_NO_UPSTREAM: i32 = 109;
/** An upstream message that is not an answer with one question. */
export const D_DNS_ANSWER_BAD: i32 = 110;
/** An answer whose ID, upstream and socket match no outstanding query. */
export const D_DNS_ANSWER_UNKNOWN: i32 = 111;
/** An answer with an outstanding query's ID but another name, type or class. */
export const D_DNS_ANSWER_MISMATCH: i32 = 112;
/** A query no upstream answered in DNS_TRIES sends. */
export const D_DNS_TIMEOUT: i32 = 113;
/** A query whose LAN TCP client closed before the answer came. */
export const D_DNS_CLIENT_GONE: i32 = 114;
export const COUNTER_COUNT: i32 = 115;

const NAMES: StaticArray<string> = [
  "in-ipv4", "in-ipv6",
  "forwarded-to-ipv6", "forwarded-to-ipv4", "held",
  "out-ipv6", "out-ipv4", "hairpin", "mesh", "icmp-generated", "fragments-out",
  "reassembled", "released", "expired-fragments", "no-slot", "ptb-received",
  "drop-unknown-version",
  "drop-ipv4-truncated", "drop-ipv4-bad-version", "drop-ipv4-bad-ihl",
  "drop-ipv4-bad-length", "drop-ipv4-bad-checksum", "drop-ipv4-bad-l4",
  "drop-ipv4-unsupported-protocol", "drop-ipv4-ttl-expired", "drop-ipv4-df-too-big",
  "drop-ipv4-martian",
  "drop-ipv6-truncated", "drop-ipv6-bad-version", "drop-ipv6-bad-length",
  "drop-ipv6-bad-extension", "drop-ipv6-not-for-us", "drop-ipv6-unsupported-next-header",
  "drop-ipv6-fragment-bad", "drop-ipv6-fragment-table-full", "drop-ipv6-fragment-too-big",
  "drop-security-ipv4-dst", "drop-security-port", "drop-security-ipv6-dst",
  "drop-security-ipv6-src", "drop-security-ipv6-src-unknown",
  "drop-nat-no-mapping", "drop-nat-filtered", "drop-nat-port-exhausted", "drop-nat-table-full",
  "drop-icmp-unsupported", "drop-icmp-bad-quote",
  "drop-icmpv6-unsupported", "drop-icmpv6-bad-quote",
  "drop-fragment-hold-full", "drop-fragment-bad",
  "drop-not-configured", "drop-br-no-rule", "drop-br-port-outside",
  "released-dropped",
  "sessions-active", "mappings-active", "sessions-created", "sessions-expired",
  "sessions-refused-no-port", "sessions-refused-full", "mappings-created", "sessions-evicted",
  "icmp-rate-limited",
  "drop-batch-overflow", "clock-adjusted", "fragments-evicted", "reassembly-evicted",
  "sessions-evicted-host-limit", "sessions-evicted-mapping-limit",
  "drop-icmp-redirect", "drop-icmp-source-quench", "drop-icmp-filtered",
  "drop-icmpv6-untrusted-source", "drop-icmpv6-quote-not-ours", "drop-icmpv6-quote-endpoint",
  "drop-icmpv6-rate-limited",
  "icmp-mtu-floor",
  "drop-ipv4-esp", "drop-ipv4-ah", "drop-ftp-alg-no-room", "drop-pptp-gre-version",
  "drop-pptp-gre-bad-header", "drop-pptp-no-call", "drop-pptp-call-table-full",
  "drop-pcp-malformed", "ftp-alg-rewritten", "ftp-alg-split-command", "ftp-alg-malformed",
  "ftp-alg-other-address", "ftp-alg-no-mapping", "ftp-alg-table-full", "pptp-calls",
  "pptp-control-split", "pptp-control-malformed", "pcp-requests", "pcp-errors", "nat-refused-icmp",
  "share-refused", "share-reclaimed", "share-port-reused", "dns-queries", "dns-answers",
  "dns-tcp-retries", "dns-retransmits", "dns-answers-truncated", "dns-drop-query-bad",
  "dns-drop-query-too-long", "dns-drop-table-full", "dns-drop-no-upstream", "dns-drop-answer-bad",
  "dns-drop-answer-unknown", "dns-drop-answer-mismatch", "dns-drop-timeout",
  "dns-drop-client-gone",
];

const COUNTERS: usize = memory.data(COUNTER_COUNT * 16, 16);

/** Counts one packet of `len` bytes under counter `c`. */
@inline
export function count(c: i32, len: i32): void {
  countN(c, 1, len);
}

/** Counts `n` packets of `bytes` bytes in all under counter `c`. */
@inline
export function countN(c: i32, n: i32, bytes: i32): void {
  const p = COUNTERS + (<usize>c << 4);
  store<u64>(p, load<u64>(p) + <u64>n);
  store<u64>(p, load<u64>(p, 8) + <u64>bytes, 8);
}

/** Adds a batch's sums (`n` packets, `bytes` bytes) to counter `c` (process.ts). */
@inline
export function countBatch(c: i32, n: i32, bytes: u64): void {
  const p = COUNTERS + (<usize>c << 4);
  store<u64>(p, load<u64>(p) + <u64>n);
  store<u64>(p, load<u64>(p, 8) + bytes, 8);
}

/** Drops a packet for one named reason. Every drop goes through here. */
@inline
export function drop(reason: i32, len: i32): void {
  count(reason, len);
}

export function countersReset(): void {
  memory.fill(COUNTERS, 0, COUNTER_COUNT * 16);
}

export function counterPackets(c: i32): u64 {
  return load<u64>(COUNTERS + (<usize>c << 4));
}

// ---- exports (docs/abi.md §3) -------------------------------------------------

/** Number of counters. */
export function counterCount(): i32 {
  return COUNTER_COUNT;
}

/**
 * Pointer to the counters: COUNTER_COUNT pairs of u64 (packets, bytes).
 * The session gauges are refreshed from the NAT first (in the order of
 * NAT_C_ACTIVE_SESSIONS … NAT_C_SESSIONS_EVICTED).
 */
export function counterValues(): usize {
  for (let i = 0; i < G_COUNT; i++) {
    store<u64>(COUNTERS + (<usize>(G_FIRST + i) << 4), <u64>natCounter(i));
  }
  store<u64>(COUNTERS + (<usize>G_SESSIONS_EVICTED_HOST_LIMIT << 4), natCounter(NAT_C_EVICTED_HOST_LIMIT));
  store<u64>(COUNTERS + (<usize>G_SESSIONS_EVICTED_MAPPING_LIMIT << 4), natCounter(NAT_C_EVICTED_MAPPING_LIMIT));
  store<u64>(COUNTERS + (<usize>G_SHARE_REFUSED << 4), natCounter(NAT_C_REFUSED_SHARE));
  store<u64>(COUNTERS + (<usize>G_SHARE_RECLAIMED << 4), natCounter(NAT_C_RECLAIMED_SHARE));
  store<u64>(COUNTERS + (<usize>G_SHARE_PORT_REUSED << 4), natCounter(NAT_C_PORT_REUSED));
  return COUNTERS;
}

/** Pointer to the UTF-16 name of counter i; its byte length is the u32 at ptr - 4. */
export function counterName(i: i32): usize {
  if (<u32>i >= <u32>COUNTER_COUNT) return 0;
  return changetype<usize>(unchecked(NAMES[i]));
}
