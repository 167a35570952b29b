// ICMP for IPv4 (RFC 792; RFC 1191 for the next-hop MTU; RFC 1812 §5.2.7).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | echo: Identifier | Sequence Number                            |  4
//   | dest unreach code 4: unused (16) | Next-Hop MTU (16)          |
//   | param problem: Pointer (8) | unused (24)                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | errors: quoted IP header + at least 8 bytes of its data       |  8
//
// The checksum covers the whole ICMP message, no pseudo header.
// Contract: `icmp4Check(p, len)` first; accessors never check.
import { checksumAdd, checksumFold } from "./checksum";

export const ICMP4_TYPE: i32 = 0;
export const ICMP4_CODE: i32 = 1;
export const ICMP4_CHECKSUM: i32 = 2;
export const ICMP4_ECHO_ID: i32 = 4;
export const ICMP4_ECHO_SEQ: i32 = 6;
/** Next-Hop MTU of Destination Unreachable / Fragmentation Needed (RFC 1191 §4). */
export const ICMP4_MTU: i32 = 6;
/** Pointer of Parameter Problem. */
export const ICMP4_POINTER: i32 = 4;
/** Where the quoted (offending) packet starts in an error message. */
export const ICMP4_QUOTE: i32 = 8;
export const ICMP4_HEADER_LEN: i32 = 8;

/** Types and codes used by a NAT / tunnel endpoint. */
export const ICMP4_ECHO_REPLY: i32 = 0;
export const ICMP4_DEST_UNREACHABLE: i32 = 3;
export const ICMP4_CODE_NET_UNREACHABLE: i32 = 0;
export const ICMP4_CODE_HOST_UNREACHABLE: i32 = 1;
export const ICMP4_CODE_PROTOCOL_UNREACHABLE: i32 = 2;
export const ICMP4_CODE_PORT_UNREACHABLE: i32 = 3;
export const ICMP4_CODE_FRAGMENTATION_NEEDED: i32 = 4;
export const ICMP4_CODE_SOURCE_ROUTE_FAILED: i32 = 5;
/** Communication administratively prohibited (RFC 1812 §5.2.7.1). */
export const ICMP4_CODE_ADMIN_PROHIBITED: i32 = 13;
export const ICMP4_ECHO_REQUEST: i32 = 8;
export const ICMP4_TIME_EXCEEDED: i32 = 11;
export const ICMP4_CODE_TTL_EXCEEDED: i32 = 0;
export const ICMP4_CODE_REASSEMBLY_EXCEEDED: i32 = 1;
export const ICMP4_PARAMETER_PROBLEM: i32 = 12;
export const ICMP4_CODE_POINTER: i32 = 0;

// Reason codes (block 65–79, see ipv4.ts).
export const ICMP4_OK: i32 = 0;
/** Fewer than 8 bytes. */
export const ICMP4_TOO_SHORT: i32 = 65;
/** Checksum over the message does not verify. */
export const ICMP4_BAD_CHECKSUM: i32 = 66;

// @ts-ignore: decorator
@inline export function icmp4Type(p: usize): i32 { return load<u8>(p, ICMP4_TYPE); }
// @ts-ignore: decorator
@inline export function icmp4Code(p: usize): i32 { return load<u8>(p, ICMP4_CODE); }
/** Checksum (host order). */
// @ts-ignore: decorator
@inline export function icmp4Checksum(p: usize): u16 { return bswap<u16>(load<u16>(p, ICMP4_CHECKSUM)); }
/** Echo Identifier (the "port" a NAT maps for echo, RFC 5508 §3.1). */
// @ts-ignore: decorator
@inline export function icmp4EchoId(p: usize): i32 { return bswap<u16>(load<u16>(p, ICMP4_ECHO_ID)); }
// @ts-ignore: decorator
@inline export function icmp4EchoSeq(p: usize): i32 { return bswap<u16>(load<u16>(p, ICMP4_ECHO_SEQ)); }
/** Next-Hop MTU of a Fragmentation Needed message (0 from pre-RFC 1191 routers). */
// @ts-ignore: decorator
@inline export function icmp4Mtu(p: usize): i32 { return bswap<u16>(load<u16>(p, ICMP4_MTU)); }
// @ts-ignore: decorator
@inline export function icmp4Pointer(p: usize): i32 { return load<u8>(p, ICMP4_POINTER); }
/** Pointer to the quoted packet of an error message. */
// @ts-ignore: decorator
@inline export function icmp4Quote(p: usize): usize { return p + ICMP4_QUOTE; }

/** True for the error types that quote a packet (3, 11, 12; also 4 source quench, 5 redirect). */
// @ts-ignore: decorator
@inline export function icmp4IsError(type: i32): bool {
  return type == ICMP4_DEST_UNREACHABLE || type == ICMP4_TIME_EXCEEDED
    || type == ICMP4_PARAMETER_PROBLEM || type == 4 || type == 5;
}

// @ts-ignore: decorator
@inline export function setIcmp4Type(p: usize, v: i32): void { store<u8>(p, <u8>v, ICMP4_TYPE); }
// @ts-ignore: decorator
@inline export function setIcmp4Code(p: usize, v: i32): void { store<u8>(p, <u8>v, ICMP4_CODE); }
// @ts-ignore: decorator
@inline export function setIcmp4Checksum(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v), ICMP4_CHECKSUM); }
// @ts-ignore: decorator
@inline export function setIcmp4EchoId(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), ICMP4_ECHO_ID); }
// @ts-ignore: decorator
@inline export function setIcmp4EchoSeq(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), ICMP4_ECHO_SEQ); }
/** Writes the 4-byte rest-of-header of Fragmentation Needed: unused 0, then the MTU. */
// @ts-ignore: decorator
@inline export function setIcmp4Mtu(p: usize, v: i32): void { store<u16>(p, 0, 4); store<u16>(p, bswap<u16>(<u16>v), ICMP4_MTU); }
/** Writes the 4-byte rest-of-header of Parameter Problem: pointer, then 3 unused bytes. */
// @ts-ignore: decorator
@inline export function setIcmp4Pointer(p: usize, v: i32): void { store<u32>(p, <u32>(v & 0xFF), ICMP4_POINTER); }
/** Zeroes the 4-byte rest-of-header (Time Exceeded, other Destination Unreachable codes). */
// @ts-ignore: decorator
@inline export function setIcmp4Unused(p: usize): void { store<u32>(p, 0, 4); }

/** Computes the checksum of the message (the stored field is taken out of the sum). */
export function icmp4ComputeChecksum(p: usize, len: i32): u16 {
  return checksumFold(checksumAdd(0, p, len) + (<u32>~icmp4Checksum(p) & 0xFFFF));
}

/** Recomputes and stores the checksum of the `len`-byte message. */
export function icmp4FillChecksum(p: usize, len: i32): void {
  setIcmp4Checksum(p, icmp4ComputeChecksum(p, len));
}

/**
 * ICMP4_OK when the `len` bytes at `p` (the IP payload) hold an ICMP
 * message of at least 8 bytes whose checksum verifies. The quoted packet
 * of an error is NOT checked here: check it as IPv4 (it is untrusted too,
 * and usually truncated: its Total Length may exceed what is quoted).
 */
export function icmp4Check(p: usize, len: i32): i32 {
  if (len < ICMP4_HEADER_LEN) return ICMP4_TOO_SHORT;
  if (checksumFold(checksumAdd(0, p, len)) != 0) return ICMP4_BAD_CHECKSUM;
  return ICMP4_OK;
}
