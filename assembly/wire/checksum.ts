// The Internet checksum: RFC 1071 full sum, RFC 1624 incremental update,
// IPv4 / IPv6 pseudo headers (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1) and
// the IPv4 UDP zero-checksum rule (RFC 768).
//
// Byte order: every value that crosses this API is in HOST order — a
// "partial sum" (u32), a checksum (u16), a field value, an IPv4 address.
// The wasm loads are little-endian, so the words summed internally are
// byte-swapped network words; RFC 1071 §2(B) says a ones-complement sum is
// byte-order independent, so `checksumAdd` sums swapped words and swaps
// the folded result once at the end. Consequences:
//   - store a checksum with the header's setter (`setIpv4Checksum(p, c)`),
//     which writes it big-endian like every other field;
//   - a partial sum from `checksumAdd` may be added to another partial sum
//     or to a host-order field value with plain `+`; fold once at the end.
//
// Partial sums are u32 and kept far from overflow: `checksumAdd` returns
// its input plus at most 0xFFFF and the pseudo-header sums stay below 2^19,
// so thousands can be added before one fold.
//
// 0x0000 and 0xFFFF are the two ones-complement zeros (RFC 1624 §3).
// Computed from scratch, a checksum is 0xFFFF only when every summed word
// is zero (never for a real header); RFC 1624 eqn. 3, used here, keeps
// that property for incremental updates, where RFC 1141's eqn. 2 would
// produce 0xFFFF where a recomputation gives 0x0000.

/**
 * Adds `len` bytes at `p` (network order) to the partial sum `sum`.
 * An odd final byte is padded with a zero byte on its right (RFC 1071
 * §4.1); so only the LAST chunk of a multi-call sum may have odd length.
 * Returns `sum` plus this chunk's folded host-order sum (at most 0xFFFF).
 */
export function checksumAdd(sum: u32, p: usize, len: i32): u32 {
  // Four 64-bit loads per round; each 64-bit word is split into two 32-bit
  // halves so the u64 accumulator cannot carry out (len < 2^31).
  let acc: u64 = 0;
  let n = len;
  while (n >= 32) {
    const a = load<u64>(p);
    const b = load<u64>(p, 8);
    const c = load<u64>(p, 16);
    const d = load<u64>(p, 24);
    acc += (a & 0xFFFFFFFF) + (a >> 32) + (b & 0xFFFFFFFF) + (b >> 32)
         + (c & 0xFFFFFFFF) + (c >> 32) + (d & 0xFFFFFFFF) + (d >> 32);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    const a = load<u64>(p);
    acc += (a & 0xFFFFFFFF) + (a >> 32);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    acc += <u64>load<u32>(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += <u64>load<u16>(p);
    p += 2;
    n -= 2;
  }
  // A lone final byte is the high byte of a network word: in the swapped
  // (little-endian) domain it is the low byte.
  if (n > 0) acc += <u64>load<u8>(p);
  // Fold 64 -> 16 bits (end-around carries), then swap to host order.
  acc = (acc & 0xFFFFFFFF) + (acc >> 32);
  acc = (acc & 0xFFFFFFFF) + (acc >> 32);
  let s = <u32>acc;
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return sum + <u32>bswap<u16>(<u16>s);
}

/**
 * True when the 20 bytes at `p` — an IPv4 header without options, its
 * checksum field included — sum to the ones-complement zero 0xFFFF: the
 * same answer as `checksumFold(checksumAdd(0, p, 20)) == 0`, in five loads
 * and one fold instead of checksumAdd's loop (every forwarded packet's
 * header is checked; RFC 1071 §4.1's unrolled sum).
 */
// @ts-ignore: decorator
@inline
export function checksumHeader20Ok(p: usize): bool {
  // Five 32-bit words (byte-swapped network words: the sum is order
  // independent, and 0xFFFF is its own swap) in a u64: no carry is lost.
  let a: u64 = <u64>load<u32>(p) + <u64>load<u32>(p, 4) + <u64>load<u32>(p, 8)
             + <u64>load<u32>(p, 12) + <u64>load<u32>(p, 16);
  a = (a & 0xFFFFFFFF) + (a >> 32); // < 2^32 + 5
  a = (a & 0xFFFFFFFF) + (a >> 32); // < 2^32
  let s = <u32>a;
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return s == 0xFFFF;
}

/**
 * Folds a host-order partial sum to 16 bits and complements it: the value
 * to store in a checksum field (host order). Also the verification: a
 * header summed over its own (correct) checksum folds to 0.
 */
// @ts-ignore: decorator
@inline
export function checksumFold(sum: u32): u16 {
  let s = (sum & 0xFFFF) + (sum >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return <u16>~s;
}

/** Folds a partial sum to 16 bits WITHOUT complementing (the ones-complement sum itself). */
// @ts-ignore: decorator
@inline
export function checksumReduce(sum: u32): u32 {
  let s = (sum & 0xFFFF) + (sum >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return s;
}

/** The checksum of `len` bytes at `p` alone (host order): ICMPv4, IPv4 header. */
export function checksumOf(p: usize, len: i32): u16 {
  return checksumFold(checksumAdd(0, p, len));
}

// ---------------------------------------------------------------------------
// RFC 1624 incremental update, eqn. 3: HC' = ~(~HC + ~m + m').
// All arguments and results in host order. Callers should skip the update
// when m == m' (RFC 1624 erratum 4782: with HC = 0 the result would flip
// to 0xFFFF) — harmless, but the setters below do it for free.

/** New checksum after a 16-bit field changes from `old` to `now`. */
// @ts-ignore: decorator
@inline
export function checksumUpdate16(hc: u16, old: u16, now: u16): u16 {
  return checksumFold((<u32>~hc & 0xFFFF) + (<u32>~old & 0xFFFF) + <u32>now);
}

/** New checksum after a 32-bit field (e.g. an IPv4 address) changes. */
// @ts-ignore: decorator
@inline
export function checksumUpdate32(hc: u16, old: u32, now: u32): u16 {
  return checksumFold((<u32>~hc & 0xFFFF)
    + (~old >> 16) + (~old & 0xFFFF)
    + (now >> 16) + (now & 0xFFFF));
}

/**
 * New checksum after an IPv4 address and a port change together (NAPT, a
 * TCP checksum over the pseudo header): one fold for both. Equal to
 * checksumUpdate32 then checksumUpdate16 (ones-complement sums commute,
 * and the address term is never 0, so no intermediate zero can differ).
 */
// @ts-ignore: decorator
@inline
export function checksumUpdateAddrPort(hc: u16, oldAddr: u32, addr: u32, oldPort: u16, port: u16): u16 {
  return checksumFold((<u32>~hc & 0xFFFF)
    + (~oldAddr >> 16) + (~oldAddr & 0xFFFF) + (addr >> 16) + (addr & 0xFFFF)
    + (<u32>~oldPort & 0xFFFF) + <u32>port);
}

/**
 * The RFC 1624 term of one 16-bit field change (~m + m'), 0 when it does
 * not change: several changes of one header add their deltas and fold
 * once (checksumApplyDelta), so a header whose address, TTL and ID all
 * change gets one update, not three. In ones complement the sum of the
 * terms is the sum of the single updates, so the result is the same.
 */
// @ts-ignore: decorator
@inline
export function checksumDelta16(old: u16, now: u16): u32 {
  return old == now ? 0 : (<u32>~old & 0xFFFF) + <u32>now;
}

/** The RFC 1624 term of one 32-bit field change (an IPv4 address), 0 when unchanged. */
// @ts-ignore: decorator
@inline
export function checksumDelta32(old: u32, now: u32): u32 {
  return old == now ? 0 : (~old >> 16) + (~old & 0xFFFF) + (now >> 16) + (now & 0xFFFF);
}

/** The checksum `hc` after the summed deltas (RFC 1624 eqn. 3, one fold); `hc` when there are none. */
// @ts-ignore: decorator
@inline
export function checksumApplyDelta(hc: u16, delta: u32): u16 {
  return delta == 0 ? hc : checksumFold((<u32>~hc & 0xFFFF) + delta);
}

/**
 * New checksum after the 16 bytes at `oldAddr` are replaced by the 16
 * bytes at `newAddr` (an IPv6 address in a pseudo header, or in a packet
 * quoted by ICMPv6). Both buffers must be readable: call before copying.
 * ~(sum of words) equals the sum of the complemented words in ones
 * complement, so one fold of each address suffices.
 */
export function checksumUpdateIpv6Address(hc: u16, oldAddr: usize, newAddr: usize): u16 {
  const o = checksumReduce(checksumAdd(0, oldAddr, 16));
  const n = checksumReduce(checksumAdd(0, newAddr, 16));
  return checksumFold((<u32>~hc & 0xFFFF) + (~o & 0xFFFF) + n);
}

/**
 * New checksum when a 16-bit value at byte offset `off` (relative to the
 * start of the checksummed data) changes, even when `off` is odd: a field
 * at an odd offset straddles two checksum words and contributes its
 * byte-swapped value (RFC 1071 §2(B)). Used for TCP options (MSS).
 */
// @ts-ignore: decorator
@inline
export function checksumUpdate16At(hc: u16, off: i32, old: u16, now: u16): u16 {
  if (off & 1) {
    old = bswap<u16>(old);
    now = bswap<u16>(now);
  }
  return checksumUpdate16(hc, old, now);
}

// ---------------------------------------------------------------------------
// Pseudo headers. Each returns a host-order partial sum; add the transport
// header + payload with `checksumAdd` and fold with `checksumFold`.

/**
 * IPv4 pseudo header (RFC 768, RFC 9293 §3.1): source and destination
 * address (host order, as `ipv4Src` returns them), zero, protocol, and the
 * transport length (header + data, NOT including the IP header).
 */
// @ts-ignore: decorator
@inline
export function pseudoHeaderSum4(src: u32, dst: u32, protocol: i32, length: i32): u32 {
  return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)
    + <u32>(protocol & 0xFF) + <u32>(length & 0xFFFF);
}

/**
 * IPv6 pseudo header (RFC 8200 §8.1): the 16-byte source and destination
 * addresses at `src` / `dst`, the upper-layer packet length (32 bits) and
 * the next header value of the upper layer (not of an extension header).
 */
export function pseudoHeaderSum6(src: usize, dst: usize, nextHeader: i32, length: i32): u32 {
  let s = checksumAdd(0, src, 16) + checksumAdd(0, dst, 16);
  return s + (<u32>length >> 16) + (<u32>length & 0xFFFF) + <u32>(nextHeader & 0xFF);
}

// ---------------------------------------------------------------------------
// UDP over IPv4: a transmitted checksum of 0 means "no checksum" (RFC 768).
// A computed 0x0000 is therefore sent as 0xFFFF (the other zero), and a
// stored 0 must stay 0 through incremental updates (it covers nothing).
// Over IPv6 a zero UDP checksum is not allowed (RFC 8200 §8.1), but the
// same functions are correct there: a computed 0 still becomes 0xFFFF.

/** A freshly computed UDP checksum as it must be transmitted: 0 becomes 0xFFFF. */
// @ts-ignore: decorator
@inline
export function udpChecksumFinish(c: u16): u16 {
  return c == 0 ? <u16>0xFFFF : c;
}

/** Incremental update of a UDP checksum for a 16-bit change; 0 ("none") stays 0. */
// @ts-ignore: decorator
@inline
export function udpChecksumUpdate16(hc: u16, old: u16, now: u16): u16 {
  if (hc == 0) return 0;
  return udpChecksumFinish(checksumUpdate16(hc, old, now));
}

/** Incremental update of a UDP checksum for a 32-bit change; 0 ("none") stays 0. */
// @ts-ignore: decorator
@inline
export function udpChecksumUpdate32(hc: u16, old: u32, now: u32): u16 {
  if (hc == 0) return 0;
  return udpChecksumFinish(checksumUpdate32(hc, old, now));
}

/** checksumUpdateAddrPort for a UDP checksum: 0 ("none") stays 0, a result of 0 is sent as 0xFFFF. */
// @ts-ignore: decorator
@inline
export function udpChecksumUpdateAddrPort(hc: u16, oldAddr: u32, addr: u32, oldPort: u16, port: u16): u16 {
  if (hc == 0) return 0;
  return udpChecksumFinish(checksumUpdateAddrPort(hc, oldAddr, addr, oldPort, port));
}

/** Incremental update of a UDP checksum for a 16-byte address change; 0 stays 0. */
export function udpChecksumUpdateIpv6Address(hc: u16, oldAddr: usize, newAddr: usize): u16 {
  if (hc == 0) return 0;
  return udpChecksumFinish(checksumUpdateIpv6Address(hc, oldAddr, newAddr));
}
