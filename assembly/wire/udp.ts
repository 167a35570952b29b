// UDP header (RFC 768).
//
//    0      7 8     15 16    23 24    31
//   +--------+--------+--------+--------+
//   |   Source Port   | Destination Port|  0
//   +--------+--------+--------+--------+
//   |     Length      |    Checksum     |  4
//   +--------+--------+--------+--------+
//
// Contract: `udpCheck(p, len)` first (len = the IP payload length);
// accessors and setters never check. Values are in host order.
// Over IPv4 a checksum of 0 means "none" (see checksum.ts).
import { checksumAdd, checksumFold, pseudoHeaderSum4, pseudoHeaderSum6, udpChecksumFinish } from "./checksum";
import { IP_PROTO_UDP } from "./ipv4";

export const UDP_SRC_PORT: i32 = 0;
export const UDP_DST_PORT: i32 = 2;
export const UDP_LENGTH: i32 = 4;
export const UDP_CHECKSUM: i32 = 6;
export const UDP_HEADER_LEN: i32 = 8;

// Reason codes (block 33–47, see ipv4.ts).
export const UDP_OK: i32 = 0;
/** Fewer than 8 bytes. */
export const UDP_TOO_SHORT: i32 = 33;
/** Length field below 8 or above the bytes the IP layer carries. */
export const UDP_BAD_LENGTH: i32 = 34;

// @ts-ignore: decorator
@inline export function udpSrcPort(p: usize): i32 { return bswap<u16>(load<u16>(p, UDP_SRC_PORT)); }
// @ts-ignore: decorator
@inline export function udpDstPort(p: usize): i32 { return bswap<u16>(load<u16>(p, UDP_DST_PORT)); }
/** Length: header plus data, in bytes. */
// @ts-ignore: decorator
@inline export function udpLength(p: usize): i32 { return bswap<u16>(load<u16>(p, UDP_LENGTH)); }
/** Checksum (host order; 0 = none over IPv4). */
// @ts-ignore: decorator
@inline export function udpChecksum(p: usize): u16 { return bswap<u16>(load<u16>(p, UDP_CHECKSUM)); }

// @ts-ignore: decorator
@inline export function setUdpSrcPort(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), UDP_SRC_PORT); }
// @ts-ignore: decorator
@inline export function setUdpDstPort(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), UDP_DST_PORT); }
// @ts-ignore: decorator
@inline export function setUdpLength(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), UDP_LENGTH); }
// @ts-ignore: decorator
@inline export function setUdpChecksum(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v), UDP_CHECKSUM); }

/**
 * The checksum of the UDP datagram at `p` of `len` bytes over IPv4, as it
 * must be transmitted (computed 0 becomes 0xFFFF). The stored checksum
 * field is taken out of the sum, so it need not be zeroed first.
 */
export function udpComputeChecksum4(p: usize, len: i32, src: u32, dst: u32): u16 {
  let s = pseudoHeaderSum4(src, dst, IP_PROTO_UDP, len) + checksumAdd(0, p, len);
  s += <u32>(~udpChecksum(p) & 0xFFFF);
  return udpChecksumFinish(checksumFold(s));
}

/** As udpComputeChecksum4, over IPv6 (addresses by pointer). */
export function udpComputeChecksum6(p: usize, len: i32, src: usize, dst: usize): u16 {
  let s = pseudoHeaderSum6(src, dst, IP_PROTO_UDP, len) + checksumAdd(0, p, len);
  s += <u32>(~udpChecksum(p) & 0xFFFF);
  return udpChecksumFinish(checksumFold(s));
}

/** True when the stored checksum verifies over IPv4 (or is 0 = none). */
export function udpChecksumValid4(p: usize, len: i32, src: u32, dst: u32): bool {
  if (udpChecksum(p) == 0) return true;
  return checksumFold(pseudoHeaderSum4(src, dst, IP_PROTO_UDP, len) + checksumAdd(0, p, len)) == 0;
}

/** True when the stored checksum verifies over IPv6 (0 is invalid there, RFC 8200 §8.1). */
export function udpChecksumValid6(p: usize, len: i32, src: usize, dst: usize): bool {
  if (udpChecksum(p) == 0) return false;
  return checksumFold(pseudoHeaderSum6(src, dst, IP_PROTO_UDP, len) + checksumAdd(0, p, len)) == 0;
}

/**
 * UDP_OK when the `len` bytes at `p` (the IP payload) start with a UDP
 * header whose Length fits: 8 <= Length <= len. Bytes after Length are
 * tolerated (as Linux does); use udpLength afterwards.
 */
export function udpCheck(p: usize, len: i32): i32 {
  if (len < UDP_HEADER_LEN) return UDP_TOO_SHORT;
  const l = udpLength(p);
  if (l < UDP_HEADER_LEN || l > len) return UDP_BAD_LENGTH;
  return UDP_OK;
}
