// IPv6 header (RFC 8200 §3), extension headers (§4) and addresses.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version| Traffic Class |           Flow Label                  |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Payload Length        |  Next Header  |   Hop Limit   |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Source Address (16)                   |  8
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                      Destination Address (16)                 | 24
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Fragment header (RFC 8200 §4.5), 8 bytes:
//   | Next Header | Reserved | Fragment Offset (13) |Res|M| Identification (32) |
//
// Contract: `ipv6Check(p, len)` must return IPV6_OK before any accessor is
// used on untrusted bytes; `ipv6Upper` is the only way to find the upper
// layer. Accessors and setters never check. Values are in host order.
import { checksumAdd } from "./checksum";

export const IPV6_VTC_FLOW: i32 = 0;
export const IPV6_PAYLOAD_LENGTH: i32 = 4;
export const IPV6_NEXT_HEADER: i32 = 6;
export const IPV6_HOP_LIMIT: i32 = 7;
export const IPV6_SRC: i32 = 8;
export const IPV6_DST: i32 = 24;
export const IPV6_HEADER_LEN: i32 = 40;
export const IPV6_ADDR_LEN: i32 = 16;
/** Minimum link MTU every IPv6 link must carry (RFC 8200 §5). */
export const IPV6_MIN_MTU: i32 = 1280;

/** Extension header / next header values walked by ipv6Upper. */
export const IPV6_NH_HOP_BY_HOP: i32 = 0;
export const IPV6_NH_ROUTING: i32 = 43;
export const IPV6_NH_FRAGMENT: i32 = 44;
export const IPV6_NH_DEST_OPTS: i32 = 60;
export const IPV6_NH_NONE: i32 = 59;

/** Fragment header fields (offsets from the fragment header). */
export const IPV6_FRAG_NEXT_HEADER: i32 = 0;
export const IPV6_FRAG_OFFSET_FLAGS: i32 = 2;
export const IPV6_FRAG_ID: i32 = 4;
export const IPV6_FRAG_HEADER_LEN: i32 = 8;

/** At most this many extension headers are walked (bounds the work per packet). */
export const IPV6_MAX_EXT_HEADERS: i32 = 8;

// Reason codes (block 17–31, see ipv4.ts).
export const IPV6_OK: i32 = 0;
/** Fewer than 40 bytes. */
export const IPV6_TOO_SHORT: i32 = 17;
/** Version field is not 6. */
export const IPV6_BAD_VERSION: i32 = 18;
/** 40 + Payload Length exceeds the buffer. (Jumbograms, RFC 2675, are not supported.) */
export const IPV6_BAD_PAYLOAD_LENGTH: i32 = 19;
/** An extension header runs past the end of the packet. */
export const IPV6_EXT_TRUNCATED: i32 = 20;
/** More than IPV6_MAX_EXT_HEADERS extension headers. */
export const IPV6_EXT_TOO_MANY: i32 = 21;
/** Hop-by-Hop Options not directly after the IPv6 header (RFC 8200 §4.1). */
export const IPV6_EXT_HOP_BY_HOP_NOT_FIRST: i32 = 22;
/** A second Fragment header (RFC 8200 §4.1: each extension header at most once). */
export const IPV6_EXT_FRAGMENT_TWICE: i32 = 23;

// ---------------------------------------------------------------------------
// Fixed header accessors (host order, no checks)

/** Version (6 for a valid header). */
// @ts-ignore: decorator
@inline export function ipv6Version(p: usize): i32 { return load<u8>(p) >> 4; }
/** Traffic Class (DSCP + ECN). */
// @ts-ignore: decorator
@inline export function ipv6TrafficClass(p: usize): i32 { return <i32>(bswap<u32>(load<u32>(p)) >> 20) & 0xFF; }
/** Flow Label (20 bits). */
// @ts-ignore: decorator
@inline export function ipv6FlowLabel(p: usize): i32 { return <i32>bswap<u32>(load<u32>(p)) & 0xFFFFF; }
/** Payload Length: bytes after the 40-byte header, extension headers included. */
// @ts-ignore: decorator
@inline export function ipv6PayloadLength(p: usize): i32 { return bswap<u16>(load<u16>(p, IPV6_PAYLOAD_LENGTH)); }
/** Next Header of the fixed header. */
// @ts-ignore: decorator
@inline export function ipv6NextHeader(p: usize): i32 { return load<u8>(p, IPV6_NEXT_HEADER); }
/** Hop Limit. */
// @ts-ignore: decorator
@inline export function ipv6HopLimit(p: usize): i32 { return load<u8>(p, IPV6_HOP_LIMIT); }
/** Pointer to the 16-byte source address. */
// @ts-ignore: decorator
@inline export function ipv6Src(p: usize): usize { return p + IPV6_SRC; }
/** Pointer to the 16-byte destination address. */
// @ts-ignore: decorator
@inline export function ipv6Dst(p: usize): usize { return p + IPV6_DST; }
/** Pointer to what follows the fixed header. */
// @ts-ignore: decorator
@inline export function ipv6Payload(p: usize): usize { return p + IPV6_HEADER_LEN; }

/** Writes version 6, traffic class and flow label in one word. */
// @ts-ignore: decorator
@inline export function setIpv6VersionClassFlow(p: usize, trafficClass: i32, flowLabel: i32): void {
  store<u32>(p, bswap<u32>(<u32>(0x60000000 | ((trafficClass & 0xFF) << 20) | (flowLabel & 0xFFFFF))));
}
/** Sets the Traffic Class, keeping version and flow label. */
// @ts-ignore: decorator
@inline export function setIpv6TrafficClass(p: usize, v: i32): void {
  const w = bswap<u32>(load<u32>(p));
  store<u32>(p, bswap<u32>((w & 0xF00FFFFF) | (<u32>(v & 0xFF) << 20)));
}
/** Sets the Flow Label, keeping version and traffic class. */
// @ts-ignore: decorator
@inline export function setIpv6FlowLabel(p: usize, v: i32): void {
  const w = bswap<u32>(load<u32>(p));
  store<u32>(p, bswap<u32>((w & 0xFFF00000) | <u32>(v & 0xFFFFF)));
}
// @ts-ignore: decorator
@inline export function setIpv6PayloadLength(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), IPV6_PAYLOAD_LENGTH); }
// @ts-ignore: decorator
@inline export function setIpv6NextHeader(p: usize, v: i32): void { store<u8>(p, <u8>v, IPV6_NEXT_HEADER); }
// @ts-ignore: decorator
@inline export function setIpv6HopLimit(p: usize, v: i32): void { store<u8>(p, <u8>v, IPV6_HOP_LIMIT); }
/**
 * Writes the first 8 bytes — version 6, traffic class, flow label, payload
 * length, next header, hop limit — in one store (a new header: the
 * encapsulation writes these together for every packet).
 */
// @ts-ignore: decorator
@inline export function setIpv6Fixed(p: usize, trafficClass: i32, flowLabel: i32, payloadLength: i32,
                                     nextHeader: i32, hopLimit: i32): void {
  const w0 = bswap<u32>(<u32>(0x60000000 | ((trafficClass & 0xFF) << 20) | (flowLabel & 0xFFFFF)));
  const w1 = <u32>bswap<u16>(<u16>payloadLength) | (<u32>(nextHeader & 0xFF) << 16) | (<u32>(hopLimit & 0xFF) << 24);
  store<u64>(p, <u64>w0 | (<u64>w1 << 32));
}
/** Copies 16 bytes from `a` into the source address. */
// @ts-ignore: decorator
@inline export function setIpv6Src(p: usize, a: usize): void { ipv6AddrCopy(p + IPV6_SRC, a); }
/** Copies 16 bytes from `a` into the destination address. */
// @ts-ignore: decorator
@inline export function setIpv6Dst(p: usize, a: usize): void { ipv6AddrCopy(p + IPV6_DST, a); }

// ---------------------------------------------------------------------------
// Fragment header accessors (`f` points at the fragment header)

// @ts-ignore: decorator
@inline export function ipv6FragNextHeader(f: usize): i32 { return load<u8>(f, IPV6_FRAG_NEXT_HEADER); }
/** Fragment offset in BYTES (the 13-bit field × 8). */
// @ts-ignore: decorator
@inline export function ipv6FragOffset(f: usize): i32 { return <i32>bswap<u16>(load<u16>(f, IPV6_FRAG_OFFSET_FLAGS)) & 0xFFF8; }
/** M flag: more fragments follow. */
// @ts-ignore: decorator
@inline export function ipv6FragMore(f: usize): bool { return (load<u8>(f, IPV6_FRAG_OFFSET_FLAGS + 1) & 1) != 0; }
// @ts-ignore: decorator
@inline export function ipv6FragId(f: usize): u32 { return bswap<u32>(load<u32>(f, IPV6_FRAG_ID)); }
/** Writes a whole fragment header: next header, offset in bytes (multiple of 8), M flag, identification. */
// @ts-ignore: decorator
@inline export function setIpv6Frag(f: usize, nextHeader: i32, offsetBytes: i32, more: bool, id: u32): void {
  store<u8>(f, <u8>nextHeader, IPV6_FRAG_NEXT_HEADER);
  store<u8>(f, 0, 1);
  store<u16>(f, bswap<u16>(<u16>((offsetBytes & 0xFFF8) | (more ? 1 : 0))), IPV6_FRAG_OFFSET_FLAGS);
  store<u32>(f, bswap<u32>(id), IPV6_FRAG_ID);
}

// ---------------------------------------------------------------------------
// Addresses (16 bytes in network order at a pointer)

/** True when the two addresses are equal (two 64-bit compares). */
// @ts-ignore: decorator
@inline export function ipv6AddrEqual(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

/** Copies an address from `src` to `dst`. */
// @ts-ignore: decorator
@inline export function ipv6AddrCopy(dst: usize, src: usize): void {
  const lo = load<u64>(src);
  const hi = load<u64>(src, 8);
  store<u64>(dst, lo);
  store<u64>(dst, hi, 8);
}

/** True when the first `bits` bits (0..128) of `a` and `b` agree. */
export function ipv6PrefixMatch(a: usize, b: usize, bits: i32): bool {
  // Big-endian 64-bit halves so that "first n bits" are the high bits.
  if (bits <= 0) return true;
  const a0 = bswap<u64>(load<u64>(a));
  const b0 = bswap<u64>(load<u64>(b));
  if (bits < 64) return ((a0 ^ b0) >> <u64>(64 - bits)) == 0;
  if (a0 != b0) return false;
  if (bits == 64) return true;
  const a1 = bswap<u64>(load<u64>(a, 8));
  const b1 = bswap<u64>(load<u64>(b, 8));
  if (bits >= 128) return a1 == b1;
  return ((a1 ^ b1) >> <u64>(128 - bits)) == 0;
}

/** Partial checksum sum of an address (for pseudo headers built by hand). */
// @ts-ignore: decorator
@inline export function ipv6AddrSum(a: usize): u32 { return checksumAdd(0, a, 16); }

// ---------------------------------------------------------------------------
// Validation

/**
 * Returns IPV6_OK when the `len` bytes at `p` start with a trustworthy
 * fixed IPv6 header whose payload fits in `len`, else an IPV6_* reason.
 * Bytes after 40 + Payload Length are allowed (use that as the length).
 */
export function ipv6Check(p: usize, len: i32): i32 {
  if (len < IPV6_HEADER_LEN) return IPV6_TOO_SHORT;
  if ((load<u8>(p) >> 4) != 6) return IPV6_BAD_VERSION;
  if (IPV6_HEADER_LEN + ipv6PayloadLength(p) > len) return IPV6_BAD_PAYLOAD_LENGTH;
  return IPV6_OK;
}

// ---------------------------------------------------------------------------
// Extension-header walk. Results live in module globals (no allocation);
// they are valid after ipv6Upper returned IPV6_OK, until the next call.

/** Offset (from the IPv6 header) of the upper-layer header. */
export let ipv6UpperOffset: i32 = 0;
/** Upper-layer protocol (6, 17, 58, 59 = none, or anything not walked). */
export let ipv6UpperProtocol: i32 = 0;
/** Offset of the byte that holds ipv6UpperProtocol (6 for the fixed header). */
export let ipv6UpperProtocolAt: i32 = 0;
/** Offset of the Fragment header, 0 when there is none. */
export let ipv6FragHeaderAt: i32 = 0;
/** Fragment offset in bytes (0 when not a fragment). */
export let ipv6FragmentOffset: i32 = 0;
/** M flag of the fragment header (false when not a fragment). */
export let ipv6FragmentMore: bool = false;
/** Identification of the fragment header (0 when not a fragment). */
export let ipv6FragmentId: u32 = 0;

/**
 * Walks the extension headers of the IPv6 packet at `p` of `len` bytes
 * (after ipv6Check; pass 40 + Payload Length, not the buffer size).
 * Skips Hop-by-Hop (0, first only), Routing (43) and Destination Options
 * (60); records a Fragment header (44) and stops after it when the
 * fragment offset is not 0 (the bytes that follow are not a header then).
 * Anything else (TCP, UDP, ICMPv6, No Next Header, ESP, AH, unknown) is
 * the upper layer. At most IPV6_MAX_EXT_HEADERS are walked: extension
 * chains are attacker-controlled and the work per packet must be bounded.
 * Returns IPV6_OK or an IPV6_EXT_* reason; results in the globals above.
 */
// @ts-ignore: decorator
@inline export function ipv6Upper(p: usize, len: i32): i32 {
  const nh = <i32>load<u8>(p, IPV6_NEXT_HEADER);
  if (ipv6IsWalked(nh)) return ipv6UpperWalk(p, len);
  // No extension header (nearly every packet): the fixed header's Next
  // Header is the upper layer; the walk below would stop at once with the
  // same results, without reading any byte past the fixed header.
  ipv6UpperOffset = IPV6_HEADER_LEN;
  ipv6UpperProtocol = nh;
  ipv6UpperProtocolAt = IPV6_NEXT_HEADER;
  ipv6FragHeaderAt = 0;
  ipv6FragmentOffset = 0;
  ipv6FragmentMore = false;
  ipv6FragmentId = 0;
  return IPV6_OK;
}

/** The extension headers ipv6Upper walks (anything else is the upper layer). */
// @ts-ignore: decorator
@inline function ipv6IsWalked(nh: i32): bool {
  return nh == IPV6_NH_HOP_BY_HOP || nh == IPV6_NH_ROUTING || nh == IPV6_NH_DEST_OPTS || nh == IPV6_NH_FRAGMENT;
}

/** ipv6Upper when the fixed header is followed by an extension header. */
function ipv6UpperWalk(p: usize, len: i32): i32 {
  let nh = <i32>load<u8>(p, IPV6_NEXT_HEADER);
  let at = IPV6_NEXT_HEADER;
  let off = IPV6_HEADER_LEN;
  ipv6FragHeaderAt = 0;
  ipv6FragmentOffset = 0;
  ipv6FragmentMore = false;
  ipv6FragmentId = 0;
  for (let i = 0; ; i++) {
    if (!ipv6IsWalked(nh)) break;
    if (i == IPV6_MAX_EXT_HEADERS) return IPV6_EXT_TOO_MANY;
    // Every extension header is a multiple of 8 bytes, at least 8.
    if (off + 8 > len) return IPV6_EXT_TRUNCATED;
    const h = p + <usize>off;
    if (nh == IPV6_NH_FRAGMENT) {
      if (ipv6FragHeaderAt != 0) return IPV6_EXT_FRAGMENT_TWICE;
      ipv6FragHeaderAt = off;
      ipv6FragmentOffset = ipv6FragOffset(h);
      ipv6FragmentMore = ipv6FragMore(h);
      ipv6FragmentId = ipv6FragId(h);
      at = off;
      nh = load<u8>(h);
      off += IPV6_FRAG_HEADER_LEN;
      if (ipv6FragmentOffset != 0) break;
      continue;
    }
    if (nh == IPV6_NH_HOP_BY_HOP && off != IPV6_HEADER_LEN) return IPV6_EXT_HOP_BY_HOP_NOT_FIRST;
    const hl = (<i32>load<u8>(h, 1) + 1) << 3;
    if (off + hl > len) return IPV6_EXT_TRUNCATED;
    at = off;
    nh = load<u8>(h);
    off += hl;
  }
  ipv6UpperOffset = off;
  ipv6UpperProtocol = nh;
  ipv6UpperProtocolAt = at;
  return IPV6_OK;
}
