// MAP rules (RFC 7597 §5) and the MAP IPv6 address (RFC 7597 §6).
//
// The End-user IPv6 prefix of a CE, RFC 7597 §5:
//
//    |     n bits         |  o bits   | s bits  |   128-n-o-s bits      |
//    +--------------------+-----------+---------+------------+----------+
//    |  Rule IPv6 prefix  |  EA bits  |subnet ID|     interface ID      |
//    +--------------------+-----------+---------+-----------------------+
//    |<---  End-user IPv6 prefix  --->|
//
// The EA bits, RFC 7597 §5.2: the IPv4 suffix, then the PSID.
//
//    |<------ 32 bits (IPv4 address) ------>|     |<------ 16 bits (port) ------>|
//    +-------------------+------------------+     +-------+--------+-------------+
//    | Rule IPv4 prefix  |    IPv4 suffix   |     |   A   |  PSID  |      j      |
//    +-------------------+------------------+     +-------+--------+-------------+
//    |<----- r bits ---->|<---- p bits ---->|     |<- a ->|<- k -->|<--- m ----->|
//                        |<-------------- EA bits: o = p + q ------------>|
//                                            (q = o - p PSID bits, k = q)
//
//   o + r < 32: the EA bits hold only o of the p suffix bits: the CE gets an
//               IPv4 prefix of length r + o and no PSID (RFC 7597 §5.2).
//   o + r = 32: a full IPv4 address, no PSID.
//   o + r > 32: a shared address; q = o + r - 32 PSID bits (at most 16).
//   o = 0:      the rule names one CE; its PSID, if any, comes explicitly
//               from S46_PORTPARAMS (RFC 7598 §4.5), left-aligned there.
//
// The interface identifier, RFC 7597 §6 (PSID right-aligned, IPv4 address or,
// for a prefix CE, the IPv4 prefix right-padded with zeros):
//
//    |     16 bits    |          32 bits           |    16 bits   |
//    +----------------+----------------------------+--------------+
//    |        0       |  IPv4 address              |  PSID        |
//
// and the pre-RFC layout (draft-ietf-softwire-map-03), still used by v6plus
// and OCN CEs in the field (LEGACY_IID): 0(8) | IPv4(32) | PSID(16) | 0(8).
//
// "If the End-user IPv6 prefix length is larger than 64, the most significant
// parts of the interface identifier are overwritten by the prefix" (RFC 7597
// §6). Rules with n + o > 64 are refused (PREFIX6_PLUS_EA, see parseRule in
// provision.ts), so the n + o bits a rule defines never reach the interface
// id and ruleMapIPv6 writes it whole. Only a CE's own delegated prefix can be
// longer than 64 bits; provision.ts computeCe overwrites the top of its
// interface id with those bits.
//
// Everything that depends only on the rule (masks, shifts) is computed once
// by ruleFinish(); the per-packet functions below are a few shifts. The
// upper 64 bits of an IPv6 address are handled as one u64 in host order:
// n + o <= 64 is checked at install (PREFIX6_PLUS_EA), so the EA bits always
// sit in that half, at bit position eaShift = 64 - n - o from the right.
import { psidOfPort } from "./portset";

/** A rule record in the fixed rule table. Fill with ruleSet() then ruleFinish(). */
@unmanaged
export class Rule {
  /** Rule IPv6 prefix as 16 bytes in network order (ruleIPv6Prefix points here). */
  prefix6Net0: u64 = 0;
  prefix6Net1: u64 = 0;
  /** The same prefix in host order, masked to n bits: upper and lower 64 bits. */
  prefix6Hi: u64 = 0;
  prefix6Lo: u64 = 0;
  /** Mask of o bits (EA bits, right-aligned). */
  eaMask: u64 = 0;
  /** Rule IPv4 prefix, host order, masked to r bits. */
  prefix4: u32 = 0;
  /** Mask of the r prefix bits. */
  prefix4Mask: u32 = 0;
  /** Mask of the r + p' bits that name a CE's IPv4 address or prefix. */
  ceMask: u32 = 0;
  /** Mask of p' bits (the IPv4 suffix carried in the EA bits, right-aligned). */
  suffixMask: u32 = 0;
  /** n: Rule IPv6 prefix length (0..64; 128 for an lw4o6 /128 binding). */
  prefix6Len: i32 = 0;
  /** r: Rule IPv4 prefix length. */
  prefix4Len: i32 = 0;
  /** o: EA bits length. */
  eaLen: i32 = 0;
  /** a: PSID offset. */
  psidOffset: i32 = 0;
  /** k: PSID length (= q when the EA bits carry the PSID). */
  psidLength: i32 = 0;
  /** The explicit PSID (right-aligned) of a rule with o = 0 and k > 0, else 0. */
  psid: i32 = 0;
  /** 1 when the F flag is set: a Forwarding Mapping Rule (RFC 7598 §4.1). */
  forwarding: i32 = 0;
  /** 1 for the pre-RFC interface id layout. */
  legacyIid: i32 = 0;
  /** 1 when the PSID comes from S46_PORTPARAMS, not from EA bits (o = 0, k > 0). */
  explicitPsid: i32 = 0;
  /** p' = min(o, 32 - r): IPv4 suffix bits carried in the EA bits. */
  suffixBits: i32 = 0;
  /** 32 - r - p': where the suffix sits in the IPv4 address (0 unless a prefix CE). */
  suffixShift: i32 = 0;
  /** q = o - p' : PSID bits carried in the EA bits. */
  eaPsidBits: i32 = 0;
  /** 64 - n - o: where the EA bits end in the upper half of the IPv6 address. */
  eaShift: i32 = 0;
  /** r + p': 32 for a full or shared address, less for a prefix CE. */
  ceIPv4Len: i32 = 0;
  /** The first port of PSID 0's set (A = 1, j = 0): 2^(16-a), or 0 when a = 0. */
  psidPortBase: i32 = 0;
  /** 16 - a - k: where the PSID sits in a port. */
  psidPortShift: i32 = 0;
  /** Mask of q bits (the PSID bits carried in the EA bits, right-aligned). */
  eaPsidMask: u64 = 0;
}

/** Bytes of one rule record (the table stride). */
export const RULE_BYTES: i32 = <i32>offsetof<Rule>();

/** Mask of the first `len` bits of a 32-bit value (len 0..32). */
@inline
export function mask32(len: i32): u32 {
  return len == 0 ? 0 : <u32>(-1) << <u32>(32 - len);
}

/** Mask of the first `len` bits of a 64-bit value (len 0..64). */
@inline
export function mask64(len: i32): u64 {
  return len <= 0 ? 0 : len >= 64 ? <u64>(-1) : <u64>(-1) << <u64>(64 - len);
}

/** Upper 64 bits of the IPv6 address at p, host order. */
@inline
export function ipv6Hi(p: usize): u64 {
  return bswap<u64>(load<u64>(p));
}

/** Lower 64 bits of the IPv6 address at p, host order. */
@inline
export function ipv6Lo(p: usize): u64 {
  return bswap<u64>(load<u64>(p, 8));
}

/** Writes an IPv6 address given as two host-order halves. */
@inline
export function storeIpv6(p: usize, hi: u64, lo: u64): void {
  store<u64>(p, bswap<u64>(hi));
  store<u64>(p, bswap<u64>(lo), 8);
}

/** Sets the provisioned fields of a rule. The prefix is masked here. */
export function ruleSet(rule: Rule, prefix6Hi: u64, prefix6Lo: u64, prefix6Len: i32,
  prefix4: u32, prefix4Len: i32, eaLen: i32, psidOffset: i32, psidLength: i32,
  psid: i32, forwarding: i32, legacyIid: i32): void {
  rule.prefix6Len = prefix6Len;
  rule.prefix6Hi = prefix6Hi & mask64(prefix6Len);
  rule.prefix6Lo = prefix6Lo & mask64(prefix6Len - 64);
  rule.prefix4Len = prefix4Len;
  rule.prefix4Mask = mask32(prefix4Len);
  rule.prefix4 = prefix4 & rule.prefix4Mask;
  rule.eaLen = eaLen;
  rule.psidOffset = psidOffset;
  rule.psidLength = psidLength;
  rule.psid = psid;
  rule.forwarding = forwarding;
  rule.legacyIid = legacyIid;
}

/**
 * Computes the derived values of a rule whose provisioned fields are set and
 * were validated (r <= 32, o <= 48, n + o <= 64 or an lw4o6 /128, q <= 16,
 * a + k <= 16, k = q when o > 0 and q > 0).
 */
export function ruleFinish(rule: Rule): void {
  const r = rule.prefix4Len;
  const o = rule.eaLen;
  const p = 32 - r;
  const pSuffix = o < p ? o : p;
  rule.suffixBits = pSuffix;
  rule.suffixShift = p - pSuffix;
  rule.suffixMask = pSuffix == 32 ? <u32>(-1) : (<u32>1 << <u32>pSuffix) - 1;
  rule.eaPsidBits = o - pSuffix;
  rule.eaShift = 64 - rule.prefix6Len - o;
  rule.eaMask = o == 0 ? 0 : (<u64>1 << <u64>o) - 1;
  rule.ceIPv4Len = r + pSuffix;
  rule.ceMask = mask32(r + pSuffix);
  rule.explicitPsid = o == 0 && rule.psidLength > 0 ? 1 : 0;
  if (rule.explicitPsid == 0) rule.psid = 0;
  const a = rule.psidOffset;
  rule.psidPortBase = a > 0 ? 1 << (16 - a) : 0;
  rule.psidPortShift = rule.psidLength > 0 ? 16 - a - rule.psidLength : 0;
  rule.eaPsidMask = (<u64>1 << <u64>rule.eaPsidBits) - 1;
  store<u64>(changetype<usize>(rule) + offsetof<Rule>("prefix6Net0"), bswap<u64>(rule.prefix6Hi));
  store<u64>(changetype<usize>(rule) + offsetof<Rule>("prefix6Net1"), bswap<u64>(rule.prefix6Lo));
}

/**
 * The first port of `psid`'s set under the rule (A = 1, or 0 when a = 0;
 * j = 0: RFC 7597 §5.1), from the values ruleFinish computed.
 */
@inline
export function ruleFirstPort(rule: Rule, psid: i32): i32 {
  return rule.psidPortBase | (psid << rule.psidPortShift);
}

/** The PSID carried in the EA bits of a MAP IPv6 address's upper 64 bits (host order). */
@inline
export function rulePsidOfIPv6(rule: Rule, hi: u64): i32 {
  return <i32>((hi >>> <u64>rule.eaShift) & rule.eaPsidMask);
}

/** The EA bits of an end-user prefix (upper 64 bits, host order) under a rule. */
@inline
export function ruleEaBits(rule: Rule, prefixHi: u64): u64 {
  return (prefixHi >>> <u64>rule.eaShift) & rule.eaMask;
}

/** The IPv4 address (or prefix) the EA bits give (RFC 7597 §5.2). */
@inline
export function ruleIPv4FromEa(rule: Rule, ea: u64): u32 {
  const suffix = <u32>(ea >>> <u64>rule.eaPsidBits) & rule.suffixMask;
  return rule.prefix4 | (suffix << <u32>rule.suffixShift);
}

/** The PSID the EA bits give, or the rule's explicit PSID when o = 0. */
@inline
export function rulePsidFromEa(rule: Rule, ea: u64): i32 {
  if (rule.explicitPsid) return rule.psid;
  return <i32>(ea & ((<u64>1 << <u64>rule.eaPsidBits) - 1));
}

/** The interface identifier (lower 64 bits, host order), RFC 7597 §6 or the legacy layout. */
@inline
export function ruleInterfaceId(rule: Rule, ipv4: u32, psid: i32): u64 {
  if (rule.legacyIid) return (<u64>ipv4 << 24) | (<u64>(psid & 0xffff) << 8);
  return (<u64>ipv4 << 16) | <u64>(psid & 0xffff);
}

/**
 * The MAP IPv6 address of the CE that owns (ipv4, port) under the rule,
 * written to out (16 bytes). False when no CE of the rule owns them: the
 * address is outside the rule's IPv4 prefix, or the rule shares addresses
 * (k > 0) and the port lies below 2^(16-a) or, for an explicit-PSID rule,
 * carries another PSID. With k = 0 every port belongs to the CE.
 *
 * End-user prefix = rule prefix | EA bits (IPv4 suffix, PSID), subnet id 0,
 * then the interface id (RFC 7597 §5.2, §6). n + o <= 64, so no prefix bit
 * overwrites the interface id here; a CE whose delegated prefix is longer
 * than 64 bits has those bits in its own address (computeCe) and agrees with
 * this one only when they are 0. An lw4o6 /128 binding is the address
 * itself (RFC 7596 §5.1).
 */
export function ruleMapIPv6(rule: Rule, ipv4: u32, port: i32, out: usize): bool {
  if ((ipv4 & rule.prefix4Mask) != rule.prefix4) return false;
  let psid = 0;
  if (rule.psidLength > 0) {
    psid = psidOfPort(rule.psidOffset, rule.psidLength, port);
    if (psid < 0) return false;
    if (rule.explicitPsid && psid != rule.psid) return false;
  }
  if (rule.prefix6Len == 128) {
    storeIpv6(out, rule.prefix6Hi, rule.prefix6Lo);
    return true;
  }
  const suffix = (ipv4 >>> <u32>rule.suffixShift) & rule.suffixMask;
  const ea = rule.explicitPsid ? <u64>0 : ((<u64>suffix << <u64>rule.eaPsidBits) | <u64>psid);
  const hi = rule.prefix6Hi | ((ea & rule.eaMask) << <u64>rule.eaShift);
  storeIpv6(out, hi, ruleInterfaceId(rule, ipv4 & rule.ceMask, psid));
  return true;
}

/** True when the first `len` bits of (hi, lo) equal the rule's IPv6 prefix. */
@inline
export function ruleContains6(rule: Rule, hi: u64, lo: u64, len: i32): bool {
  const n = rule.prefix6Len;
  if (len < n) return false;
  return (hi & mask64(n)) == rule.prefix6Hi && (lo & mask64(n - 64)) == rule.prefix6Lo;
}
