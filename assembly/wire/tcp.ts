// TCP header (RFC 9293 §3.1).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Sequence Number                        |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Acknowledgment Number                      |  8
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             | 12
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           Checksum            |         Urgent Pointer        | 16
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           Options                             | 20..
//
// Contract: `tcpCheck(p, len)` first (len = the IP payload length);
// accessors and setters never check. Values are in host order.
import { checksumAdd, checksumFold, checksumUpdate16At, checksumUpdate32, pseudoHeaderSum4, pseudoHeaderSum6 } from "./checksum";
import { IP_PROTO_TCP } from "./ipv4";

export const TCP_SRC_PORT: i32 = 0;
export const TCP_DST_PORT: i32 = 2;
export const TCP_SEQ: i32 = 4;
export const TCP_ACK: i32 = 8;
export const TCP_DATA_OFFSET: i32 = 12;
export const TCP_FLAGS: i32 = 13;
export const TCP_WINDOW: i32 = 14;
export const TCP_CHECKSUM: i32 = 16;
export const TCP_URGENT: i32 = 18;
export const TCP_HEADER_LEN: i32 = 20;
export const TCP_MAX_HEADER_LEN: i32 = 60;

/** Control bits (the byte at offset 13). */
export const TCP_FIN: i32 = 0x01;
export const TCP_SYN: i32 = 0x02;
export const TCP_RST: i32 = 0x04;
export const TCP_PSH: i32 = 0x08;
export const TCP_ACK_FLAG: i32 = 0x10;
export const TCP_URG: i32 = 0x20;
export const TCP_ECE: i32 = 0x40;
export const TCP_CWR: i32 = 0x80;

/** Option kinds (RFC 9293 §3.2). */
export const TCP_OPT_END: i32 = 0;
export const TCP_OPT_NOP: i32 = 1;
export const TCP_OPT_MSS: i32 = 2;
export const TCP_OPT_MSS_LEN: i32 = 4;

// Reason codes (block 49–63, see ipv4.ts).
export const TCP_OK: i32 = 0;
/** Fewer than 20 bytes. */
export const TCP_TOO_SHORT: i32 = 49;
/** Data Offset below 5 words or past the end of the segment. */
export const TCP_BAD_DATA_OFFSET: i32 = 50;

// @ts-ignore: decorator
@inline export function tcpSrcPort(p: usize): i32 { return bswap<u16>(load<u16>(p, TCP_SRC_PORT)); }
// @ts-ignore: decorator
@inline export function tcpDstPort(p: usize): i32 { return bswap<u16>(load<u16>(p, TCP_DST_PORT)); }
/** Sequence Number. */
// @ts-ignore: decorator
@inline export function tcpSeq(p: usize): u32 { return bswap<u32>(load<u32>(p, TCP_SEQ)); }
/** Acknowledgment Number. */
// @ts-ignore: decorator
@inline export function tcpAck(p: usize): u32 { return bswap<u32>(load<u32>(p, TCP_ACK)); }
/** Header length in BYTES (Data Offset × 4). */
// @ts-ignore: decorator
@inline export function tcpDataOffset(p: usize): i32 { return (<i32>load<u8>(p, TCP_DATA_OFFSET) >> 4) << 2; }
/** Control bits CWR..FIN (TCP_* flag constants). */
// @ts-ignore: decorator
@inline export function tcpFlags(p: usize): i32 { return load<u8>(p, TCP_FLAGS); }
// @ts-ignore: decorator
@inline export function tcpWindow(p: usize): i32 { return bswap<u16>(load<u16>(p, TCP_WINDOW)); }
/** Checksum (host order). */
// @ts-ignore: decorator
@inline export function tcpChecksum(p: usize): u16 { return bswap<u16>(load<u16>(p, TCP_CHECKSUM)); }
// @ts-ignore: decorator
@inline export function tcpUrgent(p: usize): i32 { return bswap<u16>(load<u16>(p, TCP_URGENT)); }

// @ts-ignore: decorator
@inline export function setTcpSrcPort(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), TCP_SRC_PORT); }
// @ts-ignore: decorator
@inline export function setTcpDstPort(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), TCP_DST_PORT); }
// @ts-ignore: decorator
@inline export function setTcpSeq(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v), TCP_SEQ); }
// @ts-ignore: decorator
@inline export function setTcpAck(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v), TCP_ACK); }
/** Sets Data Offset from a header length in bytes (multiple of 4); clears the reserved bits. */
// @ts-ignore: decorator
@inline export function setTcpDataOffset(p: usize, bytes: i32): void { store<u8>(p, <u8>((bytes >> 2) << 4), TCP_DATA_OFFSET); }
// @ts-ignore: decorator
@inline export function setTcpFlags(p: usize, v: i32): void { store<u8>(p, <u8>v, TCP_FLAGS); }
// @ts-ignore: decorator
@inline export function setTcpWindow(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), TCP_WINDOW); }
// @ts-ignore: decorator
@inline export function setTcpChecksum(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v), TCP_CHECKSUM); }
// @ts-ignore: decorator
@inline export function setTcpUrgent(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), TCP_URGENT); }

/** Sets the sequence number and updates the checksum incrementally (RFC 1624). */
export function setTcpSeqUpdate(p: usize, v: u32): void {
  const old = tcpSeq(p);
  if (old == v) return;
  setTcpChecksum(p, checksumUpdate32(tcpChecksum(p), old, v));
  setTcpSeq(p, v);
}

/** Sets the acknowledgment number and updates the checksum incrementally. */
export function setTcpAckUpdate(p: usize, v: u32): void {
  const old = tcpAck(p);
  if (old == v) return;
  setTcpChecksum(p, checksumUpdate32(tcpChecksum(p), old, v));
  setTcpAck(p, v);
}

/**
 * Sets the 32-bit value at byte `off` of the segment (a SACK block edge,
 * RFC 2018: an option may sit at an odd offset, hence the byte-aligned
 * update) and updates the checksum incrementally.
 */
export function setTcpWord32Update(p: usize, off: i32, v: u32): void {
  const old = bswap<u32>(load<u32>(p + <usize>off));
  if (old == v) return;
  let c = checksumUpdate16At(tcpChecksum(p), off, <u16>(old >>> 16), <u16>(v >>> 16));
  c = checksumUpdate16At(c, off + 2, <u16>old, <u16>v);
  store<u32>(p + <usize>off, bswap<u32>(v));
  setTcpChecksum(p, c);
}

/** Checksum of the segment at `p` of `len` bytes over IPv4; the stored field is taken out of the sum. */
export function tcpComputeChecksum4(p: usize, len: i32, src: u32, dst: u32): u16 {
  let s = pseudoHeaderSum4(src, dst, IP_PROTO_TCP, len) + checksumAdd(0, p, len);
  s += <u32>(~tcpChecksum(p) & 0xFFFF);
  return checksumFold(s);
}

/** Checksum of the segment over IPv6 (addresses by pointer). */
export function tcpComputeChecksum6(p: usize, len: i32, src: usize, dst: usize): u16 {
  let s = pseudoHeaderSum6(src, dst, IP_PROTO_TCP, len) + checksumAdd(0, p, len);
  s += <u32>(~tcpChecksum(p) & 0xFFFF);
  return checksumFold(s);
}

/** True when the stored checksum verifies over IPv4. */
export function tcpChecksumValid4(p: usize, len: i32, src: u32, dst: u32): bool {
  return checksumFold(pseudoHeaderSum4(src, dst, IP_PROTO_TCP, len) + checksumAdd(0, p, len)) == 0;
}

/** True when the stored checksum verifies over IPv6. */
export function tcpChecksumValid6(p: usize, len: i32, src: usize, dst: usize): bool {
  return checksumFold(pseudoHeaderSum6(src, dst, IP_PROTO_TCP, len) + checksumAdd(0, p, len)) == 0;
}

/**
 * TCP_OK when the `len` bytes at `p` (the IP payload) start with a TCP
 * header whose Data Offset is at least 5 words and fits in `len`.
 */
export function tcpCheck(p: usize, len: i32): i32 {
  if (len < TCP_HEADER_LEN) return TCP_TOO_SHORT;
  const hl = tcpDataOffset(p);
  if (hl < TCP_HEADER_LEN || hl > len) return TCP_BAD_DATA_OFFSET;
  return TCP_OK;
}

/**
 * Offset (from `p`) of the MSS option's 16-bit value in a segment that
 * passed tcpCheck, or 0 when there is none or the options are malformed
 * (a zero/short length byte, or an option running past Data Offset).
 * `avail` is how many bytes of the segment are really there: a first
 * IPv4 fragment may stop inside the options (tcpCheck is only given what
 * it holds when the caller checks a whole segment), and nothing past
 * `avail` is read — an option that would run past it counts as absent.
 * Options are walked whatever the flags; MSS is only meaningful in a SYN.
 */
export function tcpFindMss(p: usize, avail: i32 = TCP_MAX_HEADER_LEN): i32 {
  let end = tcpDataOffset(p);
  if (end > avail) end = avail;
  let off = TCP_HEADER_LEN;
  // Each round consumes at least one byte: bounded by 40 rounds.
  while (off < end) {
    const kind = <i32>load<u8>(p + <usize>off);
    if (kind == TCP_OPT_END) return 0;
    if (kind == TCP_OPT_NOP) { off++; continue; }
    if (off + 2 > end) return 0;
    const olen = <i32>load<u8>(p + <usize>off, 1);
    if (olen < 2 || off + olen > end) return 0;
    if (kind == TCP_OPT_MSS) return olen == TCP_OPT_MSS_LEN ? off + 2 : 0;
    off += olen;
  }
  return 0;
}

/**
 * MSS clamping for a tunnel: encapsulation adds 40 bytes, and RFC 7597 §8.3
 * otherwise leaves the CE/BR to fragment; lowering the MSS option (RFC 9293
 * §3.7.1) of a SYN makes TCP avoid that. When the segment is a SYN (with
 * or without ACK) carrying an MSS option above `maxMss`, lowers it to
 * `maxMss` and updates the TCP checksum incrementally (the option may sit
 * at an odd offset after NOPs). `avail` is the number of the segment's
 * bytes present (the IP payload length: less than Data Offset in a short
 * first fragment); only those are read or written (tcpFindMss). A SYN
 * whose MSS option lies past the first fragment is left as it is.
 * Returns 1 when the MSS was lowered, 0 otherwise. At least the 20-byte
 * header is present.
 */
export function tcpClampMss(p: usize, maxMss: i32, avail: i32): i32 {
  if ((tcpFlags(p) & TCP_SYN) == 0) return 0;
  const at = tcpFindMss(p, avail);
  if (at == 0) return 0;
  const old = bswap<u16>(load<u16>(p + <usize>at));
  if (<i32>old <= maxMss) return 0;
  const now = <u16>maxMss;
  store<u16>(p + <usize>at, bswap<u16>(now));
  setTcpChecksum(p, checksumUpdate16At(tcpChecksum(p), at, old, now));
  return 1;
}
