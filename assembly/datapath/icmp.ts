// ICMP for the CE and the BR, in one room both import, so the two can never
// silently differ: the quote of an ICMP error parsed once into a small
// record, the ICMPv4 errors the module builds (its own, and the ones it
// relays from ICMPv6 errors about tunnelled packets), the 576-byte quote
// clamp, the ICMPv6 → ICMPv4 mapping, the Redirect / Source Quench policy,
// the next-hop MTU floor, and the rate limiter.
//
// Every ICMP error is untrusted: anyone can send one, with any source, and
// quote any bytes. What each side accepts, and why, is in
// docs/threat-model.md; in short, an error is used only when the quoted
// packet is one this module could have sent (CE: from its own address and
// port, to a remote its NAPT filtering would admit an answer from; BR:
// toward the CE that owns the quoted destination address and port).
//
// Rate limiter (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)): one token bucket per
// KIND of error, so a burst of one kind (a LAN host's TTL-1 flood, a
// traceroute) cannot starve another (Fragmentation Needed, which PMTU
// discovery depends on), and inside each kind a small fixed table of
// per-host buckets keyed by a hash of the host the error is sent to (CE:
// the LAN host; BR: the internet sender), so one host cannot use up a
// kind for the others either. Windows of 1000 ms of the batch clock.
//
//   BUCKETS: | kind 0: total i32 | host slot 0 .. HOST_SLOTS-1 i32 | kind 1 … | kind 2 … |
import {
  ipv4Src, ipv4Dst, ipv4Protocol, ipv4HeaderLength, ipv4TotalLength, ipv4FragmentOffset,
  setIpv4VersionIhl, setIpv4Tos, setIpv4TotalLength, setIpv4Id, setIpv4Fragment, setIpv4Ttl,
  setIpv4Protocol, setIpv4Src, setIpv4Dst, ipv4FillChecksum, IPV4_HEADER_LEN, IP_PROTO_ICMP,
  IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_IPIP,
} from "../wire/ipv4";
import {
  icmp4Type, icmp4Code, icmp4IsError, icmp4EchoId, icmp4Mtu, setIcmp4Type, setIcmp4Code, setIcmp4Unused,
  setIcmp4Mtu, icmp4FillChecksum, ICMP4_HEADER_LEN, ICMP4_ECHO_REQUEST, ICMP4_ECHO_REPLY,
  ICMP4_DEST_UNREACHABLE, ICMP4_TIME_EXCEEDED, ICMP4_CODE_FRAGMENTATION_NEEDED, ICMP4_CODE_HOST_UNREACHABLE,
  ICMP4_CODE_TTL_EXCEEDED,
} from "../wire/icmp4";
import {
  ICMP6_PACKET_TOO_BIG, ICMP6_DEST_UNREACHABLE, ICMP6_TIME_EXCEEDED, ICMP6_PARAMETER_PROBLEM,
} from "../wire/icmp6";
import { IPV6_HEADER_LEN, ipv6NextHeader } from "../wire/ipv6";
import { spare } from "./slots";
import { quote, quote4 } from "./parse";
import { now, martian } from "./stage";
import {
  count, C_ICMP_GENERATED, C_ICMP_RATE_LIMITED, D_ICMP_REDIRECT, D_ICMP_SOURCE_QUENCH,
} from "./counters";

// ---- the quote of an ICMP error ----------------------------------------------------

/**
 * Parses the IPv4 packet quoted at q (qlen bytes) into the quote record
 * (parse.ts quote4, the parse every IPv4 packet gets). Returns its header
 * length, or 0 when the quote cannot be used.
 */
export function quoteParse(q: usize, qlen: i32): i32 {
  return quote4(quote, q, qlen);
}

/**
 * The IPv4 packet inside the quote of an ICMPv6 error about a tunnel packet
 * (q6len bytes at q6: the outer IPv6 header the module wrote, no extension
 * headers, next header 4, then the IPv4 packet): parsed with quoteParse.
 * Returns the quoted IPv4 header length, or 0 when the quote is not one of
 * our tunnel packets. The caller checks the quoted IPv6 addresses.
 */
export function quoteTunnel(q6: usize, q6len: i32): i32 {
  if (q6len < IPV6_HEADER_LEN + IPV4_HEADER_LEN + 8 || (load<u8>(q6) >> 4) != 6) return 0;
  if (ipv6NextHeader(q6) != IP_PROTO_IPIP) return 0;
  return quoteParse(q6 + IPV6_HEADER_LEN, q6len - IPV6_HEADER_LEN);
}

// ---- policy -----------------------------------------------------------------------------

/**
 * Source Quench (type 4) and Redirect (type 5) are never forwarded, in
 * either direction, by the CE or the BR: Source Quench is deprecated
 * (RFC 6633: hosts MUST ignore it, routers SHOULD NOT send it), and a
 * Redirect only means something on the link it was sent on (RFC 1812
 * §5.2.7.2: a router never sends one across a tunnel, so one that comes
 * through is forged). Returns the drop reason, or 0 for other types.
 */
@inline export function icmpRefusedType(t: i32): i32 {
  if (t == 5) return D_ICMP_REDIRECT;
  if (t == 4) return D_ICMP_SOURCE_QUENCH;
  return 0;
}

/**
 * The smallest next-hop MTU a relayed Fragmentation Needed may announce to
 * a LAN host. RFC 791 lets a link have 68 bytes, RFC 1191 §3 lets a host go
 * that low, and that is the attack (a forged MTU 68 makes a host send
 * 28-byte segments). No tunnel path the CE serves is that small: RFC 1122
 * §3.3.3 makes 576 the datagram every host accepts, and Linux floors at
 * 552 (`min_pmtu`). Values below (and 0, RFC 1191 §5's "unknown") are
 * raised to this floor, not ignored, so a real small MTU still gets a
 * working (if fragmented) path.
 */
export const ICMP4_MTU_FLOOR: i32 = 552;

/**
 * Raises the next-hop MTU of a Fragmentation Needed at ic to
 * ICMP4_MTU_FLOOR when below it. True when it changed (the caller
 * refills the ICMP checksum).
 */
export function icmp4MtuFloor(ic: usize): bool {
  if (icmp4Type(ic) != ICMP4_DEST_UNREACHABLE || icmp4Code(ic) != ICMP4_CODE_FRAGMENTATION_NEEDED) return false;
  if (icmp4Mtu(ic) >= ICMP4_MTU_FLOOR) return false;
  setIcmp4Mtu(ic, ICMP4_MTU_FLOOR);
  return true;
}

// ---- ICMPv6 → ICMPv4 ---------------------------------------------------------------------

/** Kinds of ICMPv4 error, each with its own rate limit. */
export const ICMP_KIND_TTL: i32 = 0;     // Time Exceeded
export const ICMP_KIND_PMTU: i32 = 1;    // Fragmentation Needed
export const ICMP_KIND_UNREACH: i32 = 2; // other Destination Unreachable (relayed)
/**
 * Communication administratively prohibited (3/13) for a new flow the NAPT
 * has no port or session for (RFC 5508 REQ-8, RFC 4787 / RFC 5382): its own
 * kind, so an exhausted CE answering a flooding host cannot use up the
 * tokens PMTU discovery or traceroute depend on.
 */
export const ICMP_KIND_NAT: i32 = 3;
const KINDS: i32 = 4;

/**
 * The ICMPv4 error an ICMPv6 error about a tunnel packet becomes, for the
 * CE and the BR alike (RFC 2473 §8.3, IPv4 original packet; RFC 7597
 * §8.2): (kind << 16) | (type << 8) | code, or -1 when not relayed.
 *   Packet Too Big          → Fragmentation Needed (3/4), the MTU − 40
 *   Destination Unreachable → host unreachable (3/1)
 *   Parameter Problem       → host unreachable (3/1): the tunnel is one link
 *                             for the inner packet, its header is not the host's
 *   Time Exceeded           → time exceeded in transit (11/0)
 * Anything else (informational types, unknown errors) is not relayed.
 */
export function icmp6To4(t: i32): i32 {
  if (t == ICMP6_PACKET_TOO_BIG) {
    return (ICMP_KIND_PMTU << 16) | (ICMP4_DEST_UNREACHABLE << 8) | ICMP4_CODE_FRAGMENTATION_NEEDED;
  }
  if (t == ICMP6_DEST_UNREACHABLE || t == ICMP6_PARAMETER_PROBLEM) {
    return (ICMP_KIND_UNREACH << 16) | (ICMP4_DEST_UNREACHABLE << 8) | ICMP4_CODE_HOST_UNREACHABLE;
  }
  if (t == ICMP6_TIME_EXCEEDED) {
    return (ICMP_KIND_TTL << 16) | (ICMP4_TIME_EXCEEDED << 8) | ICMP4_CODE_TTL_EXCEEDED;
  }
  return -1;
}

// ---- rate limiter -------------------------------------------------------------------------

/** ICMPv4 errors of one kind the module sends per second (RFC 1812 §4.3.2.8). */
export const ICMP_PER_SECOND: i32 = 200;
/** ICMPv4 errors of one kind per second toward one host (slot of the host table). */
export const ICMP_PER_HOST: i32 = 50;
/** Per-host buckets per kind (hosts whose hash collides share one). */
export const ICMP_HOST_SLOTS: i32 = 16;

const ROW: i32 = 1 + ICMP_HOST_SLOTS;
const BUCKETS: usize = memory.data(KINDS * ROW * 4, 4);
// Start of the current window; "never" at first, so the first error opens one.
let window: u64 = u64.MAX_VALUE;

@inline function bucket(kind: i32, i: i32): usize {
  return BUCKETS + (<usize>(kind * ROW + i) << 2);
}

/**
 * Takes one token of `kind` for an error sent to `host`; false when the
 * kind or the host's slot is used up for this window.
 */
export function icmpRateTake(kind: i32, host: u32): bool {
  if (now >= window + 1000 || now < window) {
    window = now;
    for (let k = 0; k < KINDS; k++) {
      store<i32>(bucket(k, 0), ICMP_PER_SECOND);
      for (let i = 1; i < ROW; i++) store<i32>(bucket(k, i), ICMP_PER_HOST);
    }
  }
  let h = host * 0x9E3779B1;
  h ^= h >>> 16;
  const slot = 1 + <i32>(h & <u32>(ICMP_HOST_SLOTS - 1));
  const total = bucket(kind, 0);
  const mine = bucket(kind, slot);
  if (load<i32>(total) <= 0 || load<i32>(mine) <= 0) return false;
  store<i32>(total, load<i32>(total) - 1);
  store<i32>(mine, load<i32>(mine) - 1);
  return true;
}

/**
 * May the module make an ICMPv4 error of `kind` about the IPv4 packet at
 * `orig` (as received)? RFC 1812 §4.3.2.7: never about an ICMP error, a
 * non-first fragment or a martian source; RFC 1812 §4.3.2.8: rate-limited
 * (icmpRateTake). Suppressed ones count in `icmp-rate-limited` (a
 * statistic: the packet has its own outcome).
 */
export function icmpAllowed(orig: usize, kind: i32): bool {
  if (ipv4FragmentOffset(orig) != 0 || martian(ipv4Src(orig))) return false;
  if (ipv4Protocol(orig) == IP_PROTO_ICMP) {
    const l4len = ipv4TotalLength(orig) - ipv4HeaderLength(orig);
    if (l4len < 1 || icmp4IsError(icmp4Type(orig + <usize>ipv4HeaderLength(orig)))) return false;
  }
  if (!icmpRateTake(kind, ipv4Src(orig))) {
    count(C_ICMP_RATE_LIMITED, ipv4TotalLength(orig));
    return false;
  }
  return true;
}

// ---- building ICMPv4 errors -----------------------------------------------------------------

/** RFC 1812 §4.3.2.3: an error carries as much of the packet as fits in 576 bytes. */
export const ICMP_QUOTE_MAX: i32 = 576 - IPV4_HEADER_LEN - ICMP4_HEADER_LEN;

/** How many bytes of a `len`-byte packet an ICMPv4 error quotes. */
@inline export function icmpQuoteLen(len: i32): i32 {
  return len > ICMP_QUOTE_MAX ? ICMP_QUOTE_MAX : len;
}

/** A 20-byte IPv4 header for an error the module makes (DF set, TTL 64). */
function buildIpv4Header(p: usize, total: i32, proto: i32, src: u32, dst: u32): void {
  setIpv4VersionIhl(p, 5);
  setIpv4Tos(p, 0);
  setIpv4TotalLength(p, total);
  setIpv4Id(p, 0);
  setIpv4Fragment(p, true, false, 0);
  setIpv4Ttl(p, 64);
  setIpv4Protocol(p, proto);
  setIpv4Src(p, src);
  setIpv4Dst(p, dst);
  ipv4FillChecksum(p);
}

/**
 * Writes an ICMPv4 error at p: IPv4 header src → dst (icmp4ErrorStart
 * is buildIpv4Header's: DF, TTL 64), ICMP type, code,
 * the next-hop MTU when mtu > 0, then qlen bytes of quote copied from q
 * (q may overlap p: the copy is a move). The ICMP checksum is left for
 * icmp4ErrorSeal, so the caller may rewrite the quote in between. Returns
 * the total length.
 */
export function icmp4ErrorStart(p: usize, src: u32, dst: u32, type: i32, code: i32, mtu: i32,
                                q: usize, qlen: i32): i32 {
  const ic = p + IPV4_HEADER_LEN;
  memory.copy(ic + ICMP4_HEADER_LEN, q, <usize>qlen);
  const total = IPV4_HEADER_LEN + ICMP4_HEADER_LEN + qlen;
  buildIpv4Header(p, total, IP_PROTO_ICMP, src, dst);
  setIcmp4Type(ic, type);
  setIcmp4Code(ic, code);
  setIcmp4Unused(ic);
  if (mtu > 0) setIcmp4Mtu(ic, mtu);
  return total;
}

/** Fills the ICMP checksum of the error icmp4ErrorStart wrote and counts it in icmp-generated. */
export function icmp4ErrorSeal(p: usize, total: i32): void {
  icmp4FillChecksum(p + IPV4_HEADER_LEN, total - IPV4_HEADER_LEN);
  count(C_ICMP_GENERATED, total);
}

/**
 * Makes an ICMPv4 error of `kind` about the packet at `orig` (origLen
 * bytes, as received) from `src` to the packet's source, in a spare slot
 * with `room` bytes before it for an outer header. Returns the error (its
 * length is ipv4TotalLength), or 0 when icmpAllowed refused or no slot was
 * left.
 */
export function icmpMake(orig: usize, origLen: i32, kind: i32, type: i32, code: i32, mtu: i32,
                         src: u32, room: i32): usize {
  if (!icmpAllowed(orig, kind)) return 0;
  const q = icmpQuoteLen(origLen);
  const p = spare(IPV4_HEADER_LEN + ICMP4_HEADER_LEN + q + room);
  if (p == 0) return 0;
  const total = icmp4ErrorStart(p, src, ipv4Src(orig), type, code, mtu, orig, q);
  icmp4ErrorSeal(p, total);
  return p;
}
