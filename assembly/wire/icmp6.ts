// ICMPv6 (RFC 4443).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | echo: Identifier | Sequence Number                            |  4
//   | packet too big: MTU (32)                                      |
//   | parameter problem: Pointer (32)                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | errors: as much of the invoking packet as fits in 1280 bytes  |  8
//
// The checksum covers an IPv6 pseudo header (RFC 4443 §2.3, RFC 8200 §8.1),
// so icmp6Check takes the two addresses as well.
// Contract: `icmp6Check` first; accessors never check.
import { checksumAdd, checksumFold, pseudoHeaderSum6 } from "./checksum";
import { IP_PROTO_ICMPV6 } from "./ipv4";

export const ICMP6_TYPE: i32 = 0;
export const ICMP6_CODE: i32 = 1;
export const ICMP6_CHECKSUM: i32 = 2;
export const ICMP6_ECHO_ID: i32 = 4;
export const ICMP6_ECHO_SEQ: i32 = 6;
/** MTU of Packet Too Big (32 bits). */
export const ICMP6_MTU: i32 = 4;
/** Pointer of Parameter Problem (32 bits). */
export const ICMP6_POINTER: i32 = 4;
/** Where the quoted (invoking) packet starts in an error message. */
export const ICMP6_QUOTE: i32 = 8;
export const ICMP6_HEADER_LEN: i32 = 8;

/** Error types (< 128) and their codes. */
export const ICMP6_DEST_UNREACHABLE: i32 = 1;
export const ICMP6_CODE_NO_ROUTE: i32 = 0;
export const ICMP6_CODE_ADMIN_PROHIBITED: i32 = 1;
export const ICMP6_CODE_BEYOND_SCOPE: i32 = 2;
export const ICMP6_CODE_ADDRESS_UNREACHABLE: i32 = 3;
export const ICMP6_CODE_PORT_UNREACHABLE: i32 = 4;
/** Source address failed ingress/egress policy (RFC 4443 §3.1): a BR's spoofing answer (RFC 7597 §8.1). */
export const ICMP6_CODE_SOURCE_POLICY: i32 = 5;
export const ICMP6_CODE_REJECT_ROUTE: i32 = 6;
export const ICMP6_PACKET_TOO_BIG: i32 = 2;
export const ICMP6_TIME_EXCEEDED: i32 = 3;
export const ICMP6_CODE_HOP_LIMIT_EXCEEDED: i32 = 0;
export const ICMP6_CODE_REASSEMBLY_EXCEEDED: i32 = 1;
export const ICMP6_PARAMETER_PROBLEM: i32 = 4;
export const ICMP6_CODE_BAD_HEADER_FIELD: i32 = 0;
export const ICMP6_CODE_UNKNOWN_NEXT_HEADER: i32 = 1;
export const ICMP6_CODE_UNKNOWN_OPTION: i32 = 2;
/** Informational types. */
export const ICMP6_ECHO_REQUEST: i32 = 128;
export const ICMP6_ECHO_REPLY: i32 = 129;
/** Neighbour Discovery (RFC 4861) and MLDv2 (RFC 3810): never tunnelled, recognised to drop by name. */
export const ICMP6_ROUTER_SOLICITATION: i32 = 133;
export const ICMP6_ROUTER_ADVERTISEMENT: i32 = 134;
export const ICMP6_NEIGHBOR_SOLICITATION: i32 = 135;
export const ICMP6_NEIGHBOR_ADVERTISEMENT: i32 = 136;
export const ICMP6_MLD2_REPORT: i32 = 143;

// Reason codes (block 81–95, see ipv4.ts).
export const ICMP6_OK: i32 = 0;
/** Fewer than 8 bytes. */
export const ICMP6_TOO_SHORT: i32 = 81;
/** Checksum (with the IPv6 pseudo header) does not verify. */
export const ICMP6_BAD_CHECKSUM: i32 = 82;

// @ts-ignore: decorator
@inline export function icmp6Type(p: usize): i32 { return load<u8>(p, ICMP6_TYPE); }
// @ts-ignore: decorator
@inline export function icmp6Code(p: usize): i32 { return load<u8>(p, ICMP6_CODE); }
/** Checksum (host order). */
// @ts-ignore: decorator
@inline export function icmp6Checksum(p: usize): u16 { return bswap<u16>(load<u16>(p, ICMP6_CHECKSUM)); }
// @ts-ignore: decorator
@inline export function icmp6EchoId(p: usize): i32 { return bswap<u16>(load<u16>(p, ICMP6_ECHO_ID)); }
// @ts-ignore: decorator
@inline export function icmp6EchoSeq(p: usize): i32 { return bswap<u16>(load<u16>(p, ICMP6_ECHO_SEQ)); }
/** MTU of Packet Too Big. */
// @ts-ignore: decorator
@inline export function icmp6Mtu(p: usize): u32 { return bswap<u32>(load<u32>(p, ICMP6_MTU)); }
/** Pointer of Parameter Problem (byte offset into the invoking packet). */
// @ts-ignore: decorator
@inline export function icmp6Pointer(p: usize): u32 { return bswap<u32>(load<u32>(p, ICMP6_POINTER)); }
/** Pointer to the quoted packet of an error message. */
// @ts-ignore: decorator
@inline export function icmp6Quote(p: usize): usize { return p + ICMP6_QUOTE; }
/** Error messages have types 0..127 (RFC 4443 §2.1). */
// @ts-ignore: decorator
@inline export function icmp6IsError(type: i32): bool { return type < 128; }

// @ts-ignore: decorator
@inline export function setIcmp6Type(p: usize, v: i32): void { store<u8>(p, <u8>v, ICMP6_TYPE); }
// @ts-ignore: decorator
@inline export function setIcmp6Code(p: usize, v: i32): void { store<u8>(p, <u8>v, ICMP6_CODE); }
// @ts-ignore: decorator
@inline export function setIcmp6Checksum(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v), ICMP6_CHECKSUM); }
// @ts-ignore: decorator
@inline export function setIcmp6EchoId(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), ICMP6_ECHO_ID); }
// @ts-ignore: decorator
@inline export function setIcmp6EchoSeq(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), ICMP6_ECHO_SEQ); }
// @ts-ignore: decorator
@inline export function setIcmp6Mtu(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v), ICMP6_MTU); }
// @ts-ignore: decorator
@inline export function setIcmp6Pointer(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v), ICMP6_POINTER); }
/** Zeroes the 4-byte rest-of-header (Destination Unreachable, Time Exceeded). */
// @ts-ignore: decorator
@inline export function setIcmp6Unused(p: usize): void { store<u32>(p, 0, 4); }

/** Checksum of the `len`-byte message between `src` and `dst`; the stored field is taken out of the sum. */
export function icmp6ComputeChecksum(p: usize, len: i32, src: usize, dst: usize): u16 {
  return checksumFold(pseudoHeaderSum6(src, dst, IP_PROTO_ICMPV6, len)
    + checksumAdd(0, p, len) + (<u32>~icmp6Checksum(p) & 0xFFFF));
}

/** Recomputes and stores the checksum. */
export function icmp6FillChecksum(p: usize, len: i32, src: usize, dst: usize): void {
  setIcmp6Checksum(p, icmp6ComputeChecksum(p, len, src, dst));
}

/**
 * ICMP6_OK when the `len` bytes at `p` (the upper-layer payload, after
 * extension headers) hold an ICMPv6 message of at least 8 bytes whose
 * checksum verifies with the pseudo header of `src` and `dst` (pointers
 * to the IPv6 addresses). The quoted packet of an error is not checked.
 */
export function icmp6Check(p: usize, len: i32, src: usize, dst: usize): i32 {
  if (len < ICMP6_HEADER_LEN) return ICMP6_TOO_SHORT;
  if (checksumFold(pseudoHeaderSum6(src, dst, IP_PROTO_ICMPV6, len) + checksumAdd(0, p, len)) != 0) return ICMP6_BAD_CHECKSUM;
  return ICMP6_OK;
}
