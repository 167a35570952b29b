// What the CE and BR stages share: the per-packet result (where the packet
// now starts and how long it is), the batch clock, the ordering of extra
// outputs, and the steps both sides take toward the tunnel (encapsulation,
// fragmentation of a packet too big for it, flow labels) and the RFC 7597 §8.1
// source check for packets without a port. ICMP (errors, quotes, the rate
// limiter) is icmp.ts.
//
// A stage returns its next hop when the packet leaves (TO_IPV6 / TO_IPV4;
// pktPtr / pktLen), HELD when the module keeps it, or the one drop reason
// (a D_* counter).
import { settings } from "../settings";
import { Rule, ruleMapIPv6, ipv6Hi, ruleFirstPort, rulePsidOfIPv6 } from "../map/rule";
import {
  ipv4Src, ipv4Dst, ipv4Protocol, ipv4Tos, ipv4HeaderLength, ipv4FragmentOffset, ipv4MoreFragments,
  setIpv4VersionIhl, setIpv4Tos, setIpv4TotalLength, setIpv4Id, setIpv4Fragment, setIpv4Ttl,
  setIpv4Protocol, setIpv4Src, setIpv4Dst, ipv4FillChecksum, ipv4TotalLength, IPV4_TOO_SHORT,
  IPV4_BAD_VERSION, IPV4_BAD_IHL, IPV4_BAD_TOTAL_LENGTH, IPV4_HEADER_LEN, IP_PROTO_IPIP, IP_PROTO_ICMP,
} from "../wire/ipv4";
import {
  setIpv6Fixed, setIpv6HopLimit, setIpv6Src,
  setIpv6Dst, ipv6Src, ipv6Dst, ipv6AddrCopy, ipv6AddrEqual, setIpv6Frag, IPV6_HEADER_LEN, IPV6_TOO_SHORT,
  IPV6_BAD_VERSION, IPV6_FRAG_HEADER_LEN, IPV6_NH_FRAGMENT,
} from "../wire/ipv6";
import { setIcmp6Type, icmp6FillChecksum, ICMP6_ECHO_REPLY } from "../wire/icmp6";
import { spare, emit } from "./slots";
import { frag4HeldPtr, frag4HeldLen, frag4Release } from "./frag4";
import {
  reasm6Add, reasm6Free, reasmPtr, reasmLen, reasmCtx, R6_HELD, R6_DONE, R6_BAD, R6_FULL,
} from "./reasm6";
import { domain, brAddressPtr } from "../map/provision";
import { lpmIPv6 } from "../map/lpm";
import {
  count, countN, C_OUT_IPV6, C_OUT_IPV4, C_FRAGMENTS_OUT, C_REASSEMBLED, C_RELEASED, C_RELEASED_DROPPED,
  D_IPV4_TRUNCATED, D_IPV4_BAD_VERSION, D_IPV4_BAD_IHL, D_IPV4_BAD_LENGTH, D_IPV4_BAD_CHECKSUM,
  D_IPV4_DF_TOO_BIG, D_IPV6_FRAGMENT_BAD, D_IPV6_FRAGMENT_TABLE_FULL, D_IPV6_FRAGMENT_TOO_BIG,
  D_IPV6_TRUNCATED, D_IPV6_BAD_VERSION, D_IPV6_BAD_LENGTH, D_SECURITY_IPV6_SRC_UNKNOWN,
  D_IPV4_UNSUPPORTED_PROTOCOL, D_IPV4_ESP, D_IPV4_AH,
} from "./counters";

/**
 * What a stage returns: where the packet goes next (TO_IPV6, TO_IPV4: it
 * leaves at pktPtr / pktLen), HELD when the module keeps it, or the one
 * drop reason (a D_* counter, > 0). The caller counts the packet that
 * leaves in out-ipv6 / out-ipv4 (process, or releasedResult for a released
 * fragment); what a stage makes besides it (further fragments, ICMP errors)
 * it counts itself.
 */
export const HELD: i32 = -1;
export const TO_IPV6: i32 = -2;
export const TO_IPV4: i32 = -3;

/** True when a stage result is a next hop (the packet leaves). */
@inline export function forwarded(r: i32): bool { return r < HELD; }

/** Where the packet starts and how long it is after a stage returned 0. */
export let pktPtr: usize = 0;
export let pktLen: i32 = 0;

/** Sets the stage result. */
@inline export function leave(p: usize, len: i32): void {
  pktPtr = p;
  pktLen = len;
}

/** The batch's clock (ms), set by process. */
export let now: u64 = 0;
export function setNow(t: u64): void { now = t; }

// Pieces made while the current input is being handled (further fragments,
// released held fragments) go out after it, so a packet's fragments leave
// in order: first piece, then the rest.
const LATER_MAX: i32 = 64;
const LATER: usize = memory.data(LATER_MAX * 8, 8);
let laterN: i32 = 0;

export function emitLater(p: usize, len: i32): void {
  if (laterN >= LATER_MAX) { emit(p, len); return; }
  store<u32>(LATER + (<usize>laterN << 3), <u32>p);
  store<i32>(LATER + (<usize>laterN << 3), len, 4);
  laterN++;
}

/** Emits what emitLater kept; process calls it after each input. */
export function flushLater(): void {
  for (let i = 0; i < laterN; i++) {
    emit(<usize>load<u32>(LATER + (<usize>i << 3)), load<i32>(LATER + (<usize>i << 3), 4));
  }
  laterN = 0;
}

/** IPsec protocol numbers (RFC 4303 ESP, RFC 4302 AH). */
const IP_PROTO_ESP: i32 = 50;
const IP_PROTO_AH: i32 = 51;

/**
 * The drop reason of an IPv4 protocol without ports (CE and BR). On a
 * shared address only a port tells whose packet it is (RFC 7597 §5.1), so
 * plain ESP and AH cannot pass and are named: IPsec behind a NAPT uses
 * NAT traversal (RFC 3948: ESP in UDP 4500, IKE on UDP 500/4500), which is
 * ordinary UDP here. AH authenticates the very addresses NAPT rewrites.
 */
export function noPortReason(proto: i32): i32 {
  if (proto == IP_PROTO_ESP) return D_IPV4_ESP;
  if (proto == IP_PROTO_AH) return D_IPV4_AH;
  return D_IPV4_UNSUPPORTED_PROTOCOL;
}

/** Maps an ipv4Check reason to its drop counter. */
export function ipv4Reason(r: i32): i32 {
  if (r == IPV4_TOO_SHORT) return D_IPV4_TRUNCATED;
  if (r == IPV4_BAD_VERSION) return D_IPV4_BAD_VERSION;
  if (r == IPV4_BAD_IHL) return D_IPV4_BAD_IHL;
  if (r == IPV4_BAD_TOTAL_LENGTH) return D_IPV4_BAD_LENGTH;
  return D_IPV4_BAD_CHECKSUM;
}

/** Maps an ipv6Check reason to its drop counter. */
export function ipv6Reason(r: i32): i32 {
  if (r == IPV6_TOO_SHORT) return D_IPV6_TRUNCATED;
  if (r == IPV6_BAD_VERSION) return D_IPV6_BAD_VERSION;
  return D_IPV6_BAD_LENGTH;
}

/** 0/8, 127/8, multicast, class E and broadcast: never forwarded. */
@inline export function martian(a: u32): bool {
  const top = a >>> 24;
  return top == 0 || top == 127 || top >= 224;
}

/**
 * RFC 6438 flow label from the inner flow. Pass l4 = 0 for fragments so
 * every piece of a packet gets the same label (RFC 6437 §3).
 */
export function flowLabel(p: usize, l4: usize): i32 {
  let h = ipv4Src(p) * 0x9E3779B1 ^ ipv4Dst(p);
  if (l4 != 0) h ^= load<u32>(l4);
  h ^= <u32>ipv4Protocol(p);
  h = (h ^ (h >>> 15)) * 0x2C1B3C6D;
  h = (h ^ (h >>> 12)) * 0x297A2D39;
  h ^= h >>> 15;
  return <i32>(h & 0xFFFFF);
}

/**
 * Writes the outer IPv6 header in front of the IPv4 packet at p (into the
 * headroom): RFC 7597 §7.1/§8.2, RFC 2473 §6, no encapsulation-limit
 * option; traffic class from the TOS when settings.tcFromTos (RFC 2983
 * uniform model). Returns the new start.
 */
export function encapsulate(p: usize, len: i32, label: i32, src6: usize, dst6: usize): usize {
  const o = p - IPV6_HEADER_LEN;
  outerHeader(o, len, IP_PROTO_IPIP, trafficClass(p), label, src6, dst6);
  return o;
}

/** The outer traffic class for the IPv4 packet at p (RFC 2983 uniform model when settings.tcFromTos). */
@inline function trafficClass(p: usize): i32 {
  return settings.tcFromTos != 0 ? ipv4Tos(p) : 0;
}

/** One outer IPv6 header at o: payload `payloadLen` bytes of next header `nh`. */
function outerHeader(o: usize, payloadLen: i32, nh: i32, tc: i32, label: i32, src6: usize, dst6: usize): void {
  setIpv6Fixed(o, tc, label, payloadLen, nh, settings.hopLimit);
  setIpv6Src(o, src6);
  setIpv6Dst(o, dst6);
}

// Identification of the IPv6 fragments the module makes (RFC 8200 §4.5:
// unique among the recent fragmented packets of one source and
// destination; RFC 7739 §5: not predictable from outside). A counter run
// through a keyed bijection of 32 bits: no value comes back before 2^32
// packets, and without the key (the instance's seed, set by init) the next
// one cannot be guessed from the last.
let fragIdCounter: u32 = 0;
let fragIdKey: u32 = 0x9E3779B9;

/** Keys the fragment identification (process.ts init passes its seed). */
export function fragmentIdSeed(seed: u32): void {
  fragIdKey = seed * 0x2C1B3C6D ^ 0x9E3779B9;
  fragIdCounter = seed ^ (seed >>> 16);
}

/** The next fragment identification (a permutation of the counter: xor-shift and odd multiplies are invertible). */
function nextFragmentId(): u32 {
  let h = (fragIdCounter++) ^ fragIdKey;
  h = (h ^ (h >>> 16)) * 0x7FEB352D;
  h = (h ^ (h >>> 15)) * 0x846CA68B;
  h ^= h >>> 16;
  return h ^ fragIdKey;
}

/**
 * A DF-clear IPv4 packet (p, len) too big for a tunnel whose IPv4 room is
 * `maxInner` bytes (path MTU − 40), toward dst6. One function for the CE
 * and the BR. RFC 7597 §8.3.1 sends this case to RFC 2473 §7.2: the
 * packet is encapsulated whole and the IPv6 tunnel packet is fragmented
 * (the default; the far end reassembles before it decapsulates, so every
 * decapsulated packet carries its ports). With settings.innerFragmentation
 * the IPv4 packet is cut first and each piece encapsulated on its own.
 * The first piece stays in place (the stage result); the others, built in
 * spare slots, leave right after it. The flow label is the packet's, for
 * every piece (RFC 6437 §3).
 */
export function fragmentAndEncapsulate(p: usize, len: i32, maxInner: i32, label: i32,
                                       src6: usize, dst6: usize): i32 {
  if (settings.innerFragmentation != 0) return fragmentInner(p, len, maxInner, label, src6, dst6);
  return fragmentOuter(p, len, maxInner, label, src6, dst6);
}

/**
 * RFC 2473 §7.2 / RFC 8200 §4.5: the tunnel packet (outer header + the whole
 * IPv4 packet) cut into IPv6 fragments of at most the path MTU. The outer
 * header is the unfragmentable part; every piece carries a copy and a
 * Fragment header, and the IPv4 packet is the fragmentable part:
 *
 *   | IPv6 (40, next header 44) | Fragment (8, next header 4, offset, M, id) | bytes [off, off + n) of the IPv4 packet |
 *
 * Every piece but the last carries a multiple of 8 bytes.
 */
function fragmentOuter(p: usize, len: i32, maxInner: i32, label: i32, src6: usize, dst6: usize): i32 {
  const chunk = (maxInner - IPV6_FRAG_HEADER_LEN) & ~7;
  if (chunk < 8) return D_IPV4_DF_TOO_BIG;
  const head = IPV6_HEADER_LEN + IPV6_FRAG_HEADER_LEN;
  const tc = trafficClass(p);
  const id = nextFragmentId();
  const mark = laterN;
  let pieces = 0;
  let bytes = 0;
  for (let off = chunk; off < len; off += chunk) {
    const n = min(chunk, len - off);
    const q = spare(n + head);
    if (q == 0) { laterN = mark; return D_IPV4_DF_TOO_BIG; }
    memory.copy(q, p + <usize>off, <usize>n);
    emitLater(fragmentHeaders(q, n, off, off + n < len, id, tc, label, src6, dst6), n + head);
    pieces++;
    bytes += n + head;
  }
  leave(fragmentHeaders(p, chunk, 0, true, id, tc, label, src6, dst6), chunk + head);
  countN(C_FRAGMENTS_OUT, pieces, bytes);
  countN(C_OUT_IPV6, pieces, bytes);
  return TO_IPV6;
}

/** Writes the IPv6 and Fragment headers in front of the n data bytes at q; returns the start. */
function fragmentHeaders(q: usize, n: i32, off: i32, more: bool, id: u32, tc: i32, label: i32,
                         src6: usize, dst6: usize): usize {
  const f = q - IPV6_FRAG_HEADER_LEN;
  setIpv6Frag(f, IP_PROTO_IPIP, off, more, id);
  const o = f - IPV6_HEADER_LEN;
  outerHeader(o, IPV6_FRAG_HEADER_LEN + n, IPV6_NH_FRAGMENT, tc, label, src6, dst6);
  return o;
}

/**
 * settings.innerFragmentation: the IPv4 packet is fragmented (RFC 791)
 * before encapsulation, so the far end sees ordinary IPv4 fragments, each
 * in its own IPv6 packet.
 */
function fragmentInner(p: usize, len: i32, maxInner: i32, label: i32, src6: usize, dst6: usize): i32 {
  const hl = ipv4HeaderLength(p);
  const chunk = (maxInner - hl) & ~7;
  if (chunk < 8) return D_IPV4_DF_TOO_BIG;
  const baseOff = ipv4FragmentOffset(p);
  const lastMore = ipv4MoreFragments(p);
  const dataLen = len - hl;
  const mark = laterN;
  let pieces = 0;
  let bytes = 0;
  // Later pieces first: their data is read from the original before it is cut.
  for (let off = chunk; off < dataLen; off += chunk) {
    const n = min(chunk, dataLen - off);
    const q = spare(hl + n + IPV6_HEADER_LEN);
    if (q == 0) { laterN = mark; return D_IPV4_DF_TOO_BIG; }
    memory.copy(q, p, <usize>hl);
    memory.copy(q + <usize>hl, p + <usize>(hl + off), <usize>n);
    setIpv4TotalLength(q, hl + n);
    setIpv4Fragment(q, false, off + n < dataLen || lastMore, baseOff + off);
    ipv4FillChecksum(q);
    const o = encapsulate(q, hl + n, label, src6, dst6);
    emitLater(o, hl + n + IPV6_HEADER_LEN);
    pieces++;
    bytes += hl + n;
  }
  countN(C_FRAGMENTS_OUT, pieces, bytes);
  countN(C_OUT_IPV6, pieces, bytes + pieces * IPV6_HEADER_LEN);
  setIpv4TotalLength(p, hl + chunk);
  setIpv4Fragment(p, false, true, baseOff);
  ipv4FillChecksum(p);
  leave(encapsulate(p, hl + chunk, label, src6, dst6), hl + chunk + IPV6_HEADER_LEN);
  return TO_IPV6;
}

/** A BR address of the domain, or an address inside a rule of the lpm index (CE: FMRs; BR: all). */
function outerSourceKnown(src: usize): bool {
  for (let i = 0; i < domain.brCount; i++) {
    if (ipv6AddrEqual(src, brAddressPtr(i))) return true;
  }
  return lpmIPv6(src) >= 0;
}

/**
 * Feeds an outer IPv6 fragment (fragment header at `fragAt`) to
 * reassembly (RFC 8200 §4.5; RFC 7597 §8.3.2 lets the far end fragment the
 * tunnel packet). Returns 0 when the whole packet is rebuilt — in a spare
 * slot, at pktPtr / pktLen, for the caller to run — HELD, or a drop reason.
 */
export function reassemble(p: usize, len: i32, fragAt: i32): i32 {
  // State only for a source that could send us a whole packet: a BR address
  // or an address some rule covers (a CE's FMR peers; every CE for a BR).
  // The full check of RFC 7597 §8.1 needs the inner packet and runs after.
  if (!outerSourceKnown(ipv6Src(p))) return D_SECURITY_IPV6_SRC_UNKNOWN;
  const a = reasm6Add(p, len, fragAt, now);
  if (a == R6_HELD) return HELD;
  if (a == R6_BAD) return D_IPV6_FRAGMENT_BAD;
  if (a == R6_FULL) return D_IPV6_FRAGMENT_TABLE_FULL;
  if (a != R6_DONE) return D_IPV6_FRAGMENT_TOO_BIG;
  const q = spare(reasmLen);
  if (q == 0) { reasm6Free(reasmCtx); return D_IPV6_FRAGMENT_TABLE_FULL; }
  memory.copy(q, reasmPtr, <usize>reasmLen);
  reasm6Free(reasmCtx);
  count(C_REASSEMBLED, reasmLen);
  leave(q, reasmLen);
  return 0;
}

/** Answers an ICMPv6 echo request in place, from `self` (RFC 4443 §4.2). */
export function echoReply6(p: usize, len: i32, ic: usize, iclen: i32, self: usize): i32 {
  ipv6AddrCopy(PEER6, ipv6Src(p));
  setIpv6Src(p, self);
  setIpv6Dst(p, PEER6);
  setIpv6HopLimit(p, settings.hopLimit);
  setIcmp6Type(ic, ICMP6_ECHO_REPLY);
  icmp6FillChecksum(ic, iclen, ipv6Src(p), ipv6Dst(p));
  leave(p, len);
  return TO_IPV6;
}
const PEER6: usize = memory.data(16, 16);

/**
 * RFC 7597 §8.1 for a packet that carries no usable port (a non-first
 * inner fragment; on the CE also an ICMPv4 error, whose source is a router
 * or the peer CE itself): the outer source must be the MAP address of *some*
 * CE of `rule` (the rule of the inner source, by LPM) that holds the inner
 * source address `src`. The PSID is read back from the outer source's own
 * EA bits (or is the rule's explicit one), the first port of that PSID's
 * set is mapped with `src`, and the result must equal the outer source. So
 * a CE can only send with its own IPv4 address; which port set it claims
 * cannot be checked without a port. The derived address is left in `out`
 * (16 bytes; equal to outerSrc when the check passed). CE and BR both use
 * this one function.
 */
export function sourceOkWithoutPort(outerSrc: usize, rule: Rule, src: u32, out: usize): bool {
  let port = 0;
  if (rule.psidLength > 0) {
    // Shifts and masks computed at install (map/rule.ts ruleFinish).
    const psid = rule.explicitPsid ? rule.psid : rulePsidOfIPv6(rule, ipv6Hi(outerSrc));
    port = ruleFirstPort(rule, psid);
  }
  return ruleMapIPv6(rule, src, port, out) && ipv6AddrEqual(out, outerSrc);
}

/**
 * Moves held IPv4 fragment i (frag4.ts) into a spare slot, at its headroom
 * so it can be encapsulated in place, and frees its hold. Returns the copy,
 * or 0 when no slot is left (the fragment is lost; it was counted as held).
 */
export function takeHeld(i: i32): usize {
  const len = frag4HeldLen(i);
  const q = spare(len + IPV6_HEADER_LEN);
  if (q != 0) {
    memory.copy(q, frag4HeldPtr(i), <usize>len);
    count(C_RELEASED, len);
  }
  frag4Release(i);
  return q;
}

/**
 * Where a released fragment goes after its stage returned r: out after the
 * current input, or — refused — into a statistic, since its outcome was
 * "held" when it arrived.
 */
export function releasedResult(r: i32, len: i32): void {
  if (forwarded(r)) {
    count(r == TO_IPV6 ? C_OUT_IPV6 : C_OUT_IPV4, pktLen);
    emitLater(pktPtr, pktLen);
  } else if (r > 0) count(C_RELEASED_DROPPED, len);
}
