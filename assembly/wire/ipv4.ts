// IPv4 header (RFC 791 §3.1).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |Type of Service|          Total Length         |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |Flags|      Fragment Offset    |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |  8
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          | 12
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        | 16
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options                    |    Padding    | 20..
//
// Contract (as gVisor's header.IPv4): bytes from the network are untrusted;
// `ipv4Check(p, len)` must return IPV4_OK before any accessor is used.
// Accessors and setters never check bounds. Values are in host order;
// `p` points at the first byte of the header.
import { checksumAdd, checksumFold, checksumHeader20Ok, checksumUpdate16, checksumUpdate32, checksumDelta16, checksumDelta32,
  checksumApplyDelta } from "./checksum";

export const IPV4_VERSION_IHL: i32 = 0;
export const IPV4_TOS: i32 = 1;
export const IPV4_TOTAL_LENGTH: i32 = 2;
export const IPV4_ID: i32 = 4;
export const IPV4_FLAGS_FRAGMENT: i32 = 6;
export const IPV4_TTL: i32 = 8;
export const IPV4_PROTOCOL: i32 = 9;
export const IPV4_CHECKSUM: i32 = 10;
export const IPV4_SRC: i32 = 12;
export const IPV4_DST: i32 = 16;
/** Length of a header without options. */
export const IPV4_HEADER_LEN: i32 = 20;
/** Longest header: IHL = 15. */
export const IPV4_MAX_HEADER_LEN: i32 = 60;

/** Flags in the 16-bit flags/fragment-offset word. */
export const IPV4_FLAG_DF: u16 = 0x4000;
export const IPV4_FLAG_MF: u16 = 0x2000;
export const IPV4_FRAGMENT_MASK: u16 = 0x1FFF;

/** Protocol numbers (IANA) used by the data path. */
export const IP_PROTO_HOPOPTS: i32 = 0;
export const IP_PROTO_ICMP: i32 = 1;
export const IP_PROTO_IPIP: i32 = 4;
export const IP_PROTO_TCP: i32 = 6;
export const IP_PROTO_UDP: i32 = 17;
export const IP_PROTO_IPV6: i32 = 41;
export const IP_PROTO_ICMPV6: i32 = 58;

// Reason codes returned by ipv4Check. The wire layer numbers its reasons
// in blocks of 16 per header (IPv4 1–15, IPv6 17–31, UDP 33–47, TCP 49–63,
// ICMPv4 65–79, ICMPv6 81–95) so one counter array can hold them all.
/** The header can be trusted. */
export const IPV4_OK: i32 = 0;
/** Fewer than 20 bytes. */
export const IPV4_TOO_SHORT: i32 = 1;
/** Version field is not 4. */
export const IPV4_BAD_VERSION: i32 = 2;
/** IHL below 5, or the header (IHL × 4) runs past the buffer. */
export const IPV4_BAD_IHL: i32 = 3;
/** Total Length below the header length or above the buffer length. */
export const IPV4_BAD_TOTAL_LENGTH: i32 = 4;
/** Header checksum does not verify. */
export const IPV4_BAD_CHECKSUM: i32 = 5;

// ---------------------------------------------------------------------------
// Accessors (host order, no checks)

/** Version (4 for a valid header). */
// @ts-ignore: decorator
@inline export function ipv4Version(p: usize): i32 { return load<u8>(p) >> 4; }
/** Internet Header Length in 32-bit words. */
// @ts-ignore: decorator
@inline export function ipv4Ihl(p: usize): i32 { return load<u8>(p) & 0xF; }
/** Header length in bytes (IHL × 4): the offset of the payload. */
// @ts-ignore: decorator
@inline export function ipv4HeaderLength(p: usize): i32 { return (<i32>load<u8>(p) & 0xF) << 2; }
/** Type of Service / DSCP+ECN byte (RFC 2474, RFC 3168). */
// @ts-ignore: decorator
@inline export function ipv4Tos(p: usize): i32 { return load<u8>(p, IPV4_TOS); }
/** Total Length: header plus data, in bytes. */
// @ts-ignore: decorator
@inline export function ipv4TotalLength(p: usize): i32 { return bswap<u16>(load<u16>(p, IPV4_TOTAL_LENGTH)); }
/** Identification. */
// @ts-ignore: decorator
@inline export function ipv4Id(p: usize): i32 { return bswap<u16>(load<u16>(p, IPV4_ID)); }
/** The 16-bit flags + fragment offset word. */
// @ts-ignore: decorator
@inline export function ipv4FlagsFragment(p: usize): u16 { return bswap<u16>(load<u16>(p, IPV4_FLAGS_FRAGMENT)); }
/** The 3 flag bits: bit 2 reserved (evil bit), bit 1 DF, bit 0 MF. */
// @ts-ignore: decorator
@inline export function ipv4Flags(p: usize): i32 { return <i32>ipv4FlagsFragment(p) >> 13; }
/** Don't Fragment flag. */
// @ts-ignore: decorator
@inline export function ipv4DontFragment(p: usize): bool { return (ipv4FlagsFragment(p) & IPV4_FLAG_DF) != 0; }
/** More Fragments flag. */
// @ts-ignore: decorator
@inline export function ipv4MoreFragments(p: usize): bool { return (ipv4FlagsFragment(p) & IPV4_FLAG_MF) != 0; }
/** Fragment offset in BYTES (the field × 8). */
// @ts-ignore: decorator
@inline export function ipv4FragmentOffset(p: usize): i32 { return <i32>(ipv4FlagsFragment(p) & IPV4_FRAGMENT_MASK) << 3; }
/** True for any fragment (MF set or offset non-zero): ports are not in every piece. */
// @ts-ignore: decorator
@inline export function ipv4IsFragment(p: usize): bool { return (ipv4FlagsFragment(p) & (IPV4_FLAG_MF | IPV4_FRAGMENT_MASK)) != 0; }
/** Time to Live. */
// @ts-ignore: decorator
@inline export function ipv4Ttl(p: usize): i32 { return load<u8>(p, IPV4_TTL); }
/** Protocol of the payload. */
// @ts-ignore: decorator
@inline export function ipv4Protocol(p: usize): i32 { return load<u8>(p, IPV4_PROTOCOL); }
/** Header Checksum (host order). */
// @ts-ignore: decorator
@inline export function ipv4Checksum(p: usize): u16 { return bswap<u16>(load<u16>(p, IPV4_CHECKSUM)); }
/** Source address (host order: 192.0.2.1 is 0xC0000201). */
// @ts-ignore: decorator
@inline export function ipv4Src(p: usize): u32 { return bswap<u32>(load<u32>(p, IPV4_SRC)); }
/** Destination address (host order). */
// @ts-ignore: decorator
@inline export function ipv4Dst(p: usize): u32 { return bswap<u32>(load<u32>(p, IPV4_DST)); }
/** Pointer to the payload (after options). */
// @ts-ignore: decorator
@inline export function ipv4Payload(p: usize): usize { return p + <usize>ipv4HeaderLength(p); }
/** Payload length: Total Length minus header length. */
// @ts-ignore: decorator
@inline export function ipv4PayloadLength(p: usize): i32 { return ipv4TotalLength(p) - ipv4HeaderLength(p); }

// ---------------------------------------------------------------------------
// Setters (host order, no checks, checksum NOT updated unless the name says so)

/** Writes version 4 and the IHL (in 32-bit words). */
// @ts-ignore: decorator
@inline export function setIpv4VersionIhl(p: usize, ihl: i32): void { store<u8>(p, <u8>(0x40 | (ihl & 0xF))); }
// @ts-ignore: decorator
@inline export function setIpv4Tos(p: usize, v: i32): void { store<u8>(p, <u8>v, IPV4_TOS); }
// @ts-ignore: decorator
@inline export function setIpv4TotalLength(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), IPV4_TOTAL_LENGTH); }
// @ts-ignore: decorator
@inline export function setIpv4Id(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), IPV4_ID); }
/** Writes the whole flags + fragment-offset word. */
// @ts-ignore: decorator
@inline export function setIpv4FlagsFragment(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v), IPV4_FLAGS_FRAGMENT); }
/** Writes the flags word from parts: DF, MF and an offset in bytes (multiple of 8). */
// @ts-ignore: decorator
@inline export function setIpv4Fragment(p: usize, df: bool, mf: bool, offsetBytes: i32): void {
  setIpv4FlagsFragment(p, <u16>((df ? IPV4_FLAG_DF : 0) | (mf ? IPV4_FLAG_MF : 0) | ((offsetBytes >> 3) & IPV4_FRAGMENT_MASK)));
}
// @ts-ignore: decorator
@inline export function setIpv4Ttl(p: usize, v: i32): void { store<u8>(p, <u8>v, IPV4_TTL); }
// @ts-ignore: decorator
@inline export function setIpv4Protocol(p: usize, v: i32): void { store<u8>(p, <u8>v, IPV4_PROTOCOL); }
// @ts-ignore: decorator
@inline export function setIpv4Checksum(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v), IPV4_CHECKSUM); }
// @ts-ignore: decorator
@inline export function setIpv4Src(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v), IPV4_SRC); }
// @ts-ignore: decorator
@inline export function setIpv4Dst(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v), IPV4_DST); }

// ---------------------------------------------------------------------------
// Checksum

/** Computes the header checksum over IHL × 4 bytes (the field counted as 0). */
export function ipv4ComputeChecksum(p: usize): u16 {
  const hl = ipv4HeaderLength(p);
  // Sum with the stored checksum included, then take it out again: saves
  // writing a zero into the packet first.
  let s = checksumAdd(0, p, hl);
  s += <u32>(~ipv4Checksum(p) & 0xFFFF);
  return checksumFold(s);
}

/** Recomputes and stores the header checksum. */
export function ipv4FillChecksum(p: usize): void {
  setIpv4Checksum(p, ipv4ComputeChecksum(p));
}

/** Sets the TTL and updates the checksum incrementally (RFC 1624; RFC 1812 §5.3.1). */
// @ts-ignore: decorator
@inline export function setIpv4TtlUpdate(p: usize, ttl: i32): void {
  // TTL shares a 16-bit word with Protocol.
  const old = load<u16>(p, IPV4_TTL);
  setIpv4Ttl(p, ttl);
  const now = load<u16>(p, IPV4_TTL);
  if (old != now) setIpv4Checksum(p, checksumUpdate16(ipv4Checksum(p), bswap<u16>(old), bswap<u16>(now)));
}

/** Decrements the TTL by one, updating the checksum (caller checked TTL > 1). */
// @ts-ignore: decorator
@inline export function ipv4DecrementTtl(p: usize): void {
  setIpv4TtlUpdate(p, ipv4Ttl(p) - 1);
}

/** Sets the source address and updates the header checksum incrementally. */
// @ts-ignore: decorator
@inline export function setIpv4SrcUpdate(p: usize, v: u32): void {
  const old = ipv4Src(p);
  if (old != v) {
    setIpv4Checksum(p, checksumUpdate32(ipv4Checksum(p), old, v));
    setIpv4Src(p, v);
  }
}

/** Sets the destination address and updates the header checksum incrementally. */
// @ts-ignore: decorator
@inline export function setIpv4DstUpdate(p: usize, v: u32): void {
  const old = ipv4Dst(p);
  if (old != v) {
    setIpv4Checksum(p, checksumUpdate32(ipv4Checksum(p), old, v));
    setIpv4Dst(p, v);
  }
}

// Setters that leave the header checksum to ONE later update: each returns
// its RFC 1624 delta (checksum.ts checksumDelta16/32); add the deltas of
// every field a stage changes and call ipv4ChecksumApply once.

/** Sets the source address; returns its checksum delta. */
// @ts-ignore: decorator
@inline export function setIpv4SrcDelta(p: usize, v: u32): u32 {
  const d = checksumDelta32(ipv4Src(p), v);
  setIpv4Src(p, v);
  return d;
}

/** Sets the destination address; returns its checksum delta. */
// @ts-ignore: decorator
@inline export function setIpv4DstDelta(p: usize, v: u32): u32 {
  const d = checksumDelta32(ipv4Dst(p), v);
  setIpv4Dst(p, v);
  return d;
}

/** Sets the TTL; returns the checksum delta of its 16-bit word (shared with Protocol). */
// @ts-ignore: decorator
@inline export function setIpv4TtlDelta(p: usize, ttl: i32): u32 {
  const old = load<u16>(p, IPV4_TTL);
  setIpv4Ttl(p, ttl);
  return checksumDelta16(bswap<u16>(old), bswap<u16>(load<u16>(p, IPV4_TTL)));
}

/**
 * Decrements the TTL (caller checked TTL > 1); returns the checksum delta,
 * a constant: the word TTL·256 + Protocol drops by 256, and ~m + m' =
 * 0xFFFF − m + (m − 0x100) = 0xFEFF (RFC 1624 eqn. 3; no wrap for TTL ≥ 1).
 */
// @ts-ignore: decorator
@inline export function ipv4DecrementTtlDelta(p: usize): u32 {
  store<u8>(p, load<u8>(p, IPV4_TTL) - 1, IPV4_TTL);
  return 0xFEFF;
}

/** Sets the Identification; returns its checksum delta. */
// @ts-ignore: decorator
@inline export function setIpv4IdDelta(p: usize, id: i32): u32 {
  const d = checksumDelta16(<u16>ipv4Id(p), <u16>id);
  setIpv4Id(p, id);
  return d;
}

/** Applies the summed deltas of the …Delta setters to the header checksum (one update). */
// @ts-ignore: decorator
@inline export function ipv4ChecksumApply(p: usize, delta: u32): void {
  if (delta != 0) setIpv4Checksum(p, checksumApplyDelta(ipv4Checksum(p), delta));
}

/** Sets Total Length and updates the header checksum incrementally. */
// @ts-ignore: decorator
@inline export function setIpv4TotalLengthUpdate(p: usize, v: i32): void {
  const old = <u16>ipv4TotalLength(p);
  if (old != <u16>v) {
    setIpv4Checksum(p, checksumUpdate16(ipv4Checksum(p), old, <u16>v));
    setIpv4TotalLength(p, v);
  }
}

// ---------------------------------------------------------------------------
// Validation

/**
 * Returns IPV4_OK when the `len` bytes at `p` hold an IPv4 header that can
 * be trusted, else the first failing reason code (IPV4_*). Options (IHL > 5)
 * are allowed and not parsed. Bytes after Total Length (link padding) are
 * allowed: use ipv4TotalLength, not `len`, as the packet length afterwards.
 * Fragments are not rejected here (the caller decides).
 */
// @ts-ignore: decorator
@inline export function ipv4Check(p: usize, len: i32): i32 {
  if (len < IPV4_HEADER_LEN) return IPV4_TOO_SHORT;
  const vi = <i32>load<u8>(p);
  if ((vi >> 4) != 4) return IPV4_BAD_VERSION;
  const hl = (vi & 0xF) << 2;
  if (hl < IPV4_HEADER_LEN || hl > len) return IPV4_BAD_IHL;
  const tl = ipv4TotalLength(p);
  if (tl < hl || tl > len) return IPV4_BAD_TOTAL_LENGTH;
  // Nearly every header has no options: five loads (checksum.ts).
  const sumOk = hl == IPV4_HEADER_LEN ? checksumHeader20Ok(p) : checksumFold(checksumAdd(0, p, hl)) == 0;
  if (!sumOk) return IPV4_BAD_CHECKSUM;
  return IPV4_OK;
}
