// Port sets of RFC 7597 §5.1 (the Generalized Modulus Algorithm).
//
//     0                   8                   15
//    +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//    |        A          |     PSID      |             j             |
//    +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//    |<----- a bits ---->|<-- k bits --->|<------- m bits ---------->|
//
//    port = (A << (16 - a)) | (PSID << m) | j,   m = 16 - a - k
//
// A runs from 1 to 2^a - 1 when a > 0 (ports below 2^(16-a), the system
// ports for the default a = 6, are never in a set), and is 0 when a = 0.
// j runs from 0 to 2^m - 1. So a set has (2^a - 1) * 2^m ports when a > 0.
//
// The NAPT allocates by *index* into the set, so every range is used, not
// just the first: index i = (A - Amin) * 2^m + j, and back.

/** A port set: the values of one PSID under one rule, precomputed once. */
@unmanaged
export class PortSet {
  /** a: PSID offset (0..15). */
  offset: i32 = 0;
  /** k: PSID length (0..16, offset + k <= 16). */
  psidLength: i32 = 0;
  /** m = 16 - a - k: bits of j. */
  m: i32 = 0;
  /** The PSID value, right-aligned (0 when k = 0). */
  psid: i32 = 0;
  /** Smallest A: 1 when a > 0, else 0. */
  aMin: i32 = 0;
  /** Number of ports in the set. */
  count: i32 = 0;
  /**
   * Membership in two compares (portSetHas, per packet), set by
   * portSetInit: the PSID field in place ((2^k - 1) << m) and its value
   * (PSID << m), and the smallest port of the set's first A (2^(16-a)
   * when a > 0, else 0).
   */
  psidMask: i32 = 0;
  psidBits: i32 = 0;
  minPort: i32 = 0;
}

/** Fills `s` for offset a, PSID length k and a PSID. Caller checks a + k <= 16. */
export function portSetInit(s: PortSet, offset: i32, psidLength: i32, psid: i32): void {
  const m = 16 - offset - psidLength;
  s.offset = offset;
  s.psidLength = psidLength;
  s.m = m;
  s.psid = psidLength > 0 ? psid & ((1 << psidLength) - 1) : 0;
  s.aMin = offset > 0 ? 1 : 0;
  s.count = ((1 << offset) - s.aMin) << m;
  s.psidMask = ((1 << psidLength) - 1) << m;
  s.psidBits = s.psid << m;
  s.minPort = offset > 0 ? 1 << (16 - offset) : 0;
}

/** The port at index i (0 <= i < count). */
@inline
export function portSetPort(s: PortSet, i: i32): i32 {
  const m = s.m;
  const A = (i >>> m) + s.aMin;
  const j = i & ((1 << m) - 1);
  return (A << (16 - s.offset)) | (s.psid << m) | j;
}

/** The index of a port in the set, or -1 when the port is not in it. */
@inline
export function portSetIndex(s: PortSet, port: i32): i32 {
  const m = s.m;
  const A = (port & 0xffff) >>> (16 - s.offset); // a = 0 shifts by 16: A = 0
  if (A < s.aMin) return -1;
  if (((port >>> m) & ((1 << s.psidLength) - 1)) != s.psid) return -1;
  return ((A - s.aMin) << m) | (port & ((1 << m) - 1));
}

/**
 * True when the port is in the set: portSetIndex(s, port) >= 0 without the
 * index (the PSID bits lie in the low 16 bits, m + k <= 16; A >= aMin is
 * port >= 2^(16-a)).
 */
@inline
export function portSetHas(s: PortSet, port: i32): bool {
  return (port & s.psidMask) == s.psidBits && (port & 0xffff) >= s.minPort;
}

/** The PSID a port carries under offset a and length k; -1 below 2^(16-a). */
@inline
export function psidOfPort(offset: i32, psidLength: i32, port: i32): i32 {
  const p = port & 0xffff;
  if (offset > 0 && (p >>> (16 - offset)) == 0) return -1;
  return (p >>> (16 - offset - psidLength)) & ((1 << psidLength) - 1);
}

/** Number of contiguous ranges: one per A (2^m ports each), merged into one when k = 0. */
export function portSetRangeCount(s: PortSet): i32 {
  return s.psidLength == 0 ? 1 : (1 << s.offset) - s.aMin;
}

/** First port of range r (ascending). */
export function portSetRangeFirst(s: PortSet, r: i32): i32 {
  if (s.psidLength == 0) return portSetPort(s, 0);
  return portSetPort(s, r << s.m);
}

/** Last port of range r (ascending). */
export function portSetRangeLast(s: PortSet, r: i32): i32 {
  if (s.psidLength == 0) return portSetPort(s, s.count - 1);
  return portSetPort(s, ((r + 1) << s.m) - 1);
}
