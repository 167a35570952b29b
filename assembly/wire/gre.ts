// Enhanced GRE header of PPTP (RFC 2637 §4.1; GRE version 1, after
// RFC 1701/1702). The CE and the BR both read it through this one file.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-----+-+---------+-----+-------------------------------+
//   |C|R|K|S|s|Recur|A| Flags   | Ver |   Protocol Type (0x880B)      |  0
//   +-+-+-+-+-+-----+-+---------+-----+-------------------------------+
//   |    Key (HW): Payload Length     |    Key (LW): Call ID          |  4
//   +---------------------------------+-------------------------------+
//   |              Sequence Number (present when S = 1)               |  8
//   +-----------------------------------------------------------------+
//   |         Acknowledgment Number (present when A = 1)              |  8 or 12
//   +-----------------------------------------------------------------+
//
// The Call ID is the one the RECEIVER of the packet chose (the peer's call
// ID of the Outgoing-Call-Reply / Incoming-Call-Reply): GRE toward our LAN
// client carries the call ID the CE gave the server for it (a value of our
// port set, nat/pptp.ts), GRE from the client carries the server's. There is
// no checksum in version 1 (C = 0), so rewriting the call ID or the IPv4
// addresses costs no L4 checksum work.
//
// Contract: `greCheck(p, len)` first (len = the IP payload length);
// accessors and setters never check. Values are in host order.

/** IP protocol number of GRE (IANA). */
export const IP_PROTO_GRE: i32 = 47;

export const GRE_FLAGS_VERSION: i32 = 0;
export const GRE_PROTOCOL: i32 = 2;
export const GRE_PAYLOAD_LENGTH: i32 = 4;
export const GRE_CALL_ID: i32 = 6;
/** The fixed part of a version 1 header (through the key). */
export const GRE_HEADER_LEN: i32 = 8;

/** Bits of the first 16-bit word. */
export const GRE_FLAG_C: i32 = 0x8000;
export const GRE_FLAG_R: i32 = 0x4000;
export const GRE_FLAG_K: i32 = 0x2000;
export const GRE_FLAG_S: i32 = 0x1000;
export const GRE_FLAG_SSR: i32 = 0x0800;
export const GRE_RECUR_MASK: i32 = 0x0700;
export const GRE_FLAG_A: i32 = 0x0080;
export const GRE_VERSION_MASK: i32 = 0x0007;
/** The version PPTP uses (RFC 2637 §4.1). */
export const GRE_VERSION_PPTP: i32 = 1;
/** Protocol type of PPP inside PPTP's GRE. */
export const GRE_PROTOCOL_PPP: i32 = 0x880B;

// Reason codes (block 97–111, see wire/index.ts).
export const GRE_OK: i32 = 0;
/** Fewer than 4 bytes: not even the version is there. */
export const GRE_TOO_SHORT: i32 = 97;
/** A version other than 1 (RFC 2784's version 0 has no call ID: nothing to route or translate by). */
export const GRE_BAD_VERSION: i32 = 98;
/**
 * Version 1 but not PPTP's shape: K clear, C/R/s/Recur set, a protocol
 * other than PPP, or shorter than the fields its flags announce.
 */
export const GRE_BAD_HEADER: i32 = 99;

/** The first 16-bit word (flags and version). */
// @ts-ignore: decorator
@inline export function greFlagsVersion(p: usize): i32 { return bswap<u16>(load<u16>(p, GRE_FLAGS_VERSION)); }
/** Version: 1 for PPTP. */
// @ts-ignore: decorator
@inline export function greVersion(p: usize): i32 { return greFlagsVersion(p) & GRE_VERSION_MASK; }
/** Protocol type (0x880B, PPP). */
// @ts-ignore: decorator
@inline export function greProtocol(p: usize): i32 { return bswap<u16>(load<u16>(p, GRE_PROTOCOL)); }
/** Key high half: length of the payload after the GRE header. */
// @ts-ignore: decorator
@inline export function grePayloadLength(p: usize): i32 { return bswap<u16>(load<u16>(p, GRE_PAYLOAD_LENGTH)); }
/** Key low half: the call ID the receiver chose. */
// @ts-ignore: decorator
@inline export function greCallId(p: usize): i32 { return bswap<u16>(load<u16>(p, GRE_CALL_ID)); }
/** Sets the call ID (no checksum to update: version 1 has none). */
// @ts-ignore: decorator
@inline export function setGreCallId(p: usize, v: i32): void { store<u16>(p, bswap<u16>(<u16>v), GRE_CALL_ID); }

/** Writes a version 1 header without sequence or acknowledgment numbers (tests, builders). */
export function greEmit(p: usize, payloadLen: i32, callId: i32): void {
  store<u16>(p, bswap<u16>(<u16>(GRE_FLAG_K | GRE_VERSION_PPTP)), GRE_FLAGS_VERSION);
  store<u16>(p, bswap<u16>(<u16>GRE_PROTOCOL_PPP), GRE_PROTOCOL);
  store<u16>(p, bswap<u16>(<u16>payloadLen), GRE_PAYLOAD_LENGTH);
  setGreCallId(p, callId);
}

/**
 * GRE_OK when the `len` bytes at `p` start with a PPTP GRE header (version
 * 1, K set, C/R/s/Recur clear, protocol PPP, the sequence and
 * acknowledgment numbers its flags announce all present). The payload
 * length is not compared with the bytes that follow: that is the end
 * host's business, and the call ID is all the data path needs.
 */
export function greCheck(p: usize, len: i32): i32 {
  if (len < 4) return GRE_TOO_SHORT;
  const fv = greFlagsVersion(p);
  if ((fv & GRE_VERSION_MASK) != GRE_VERSION_PPTP) return GRE_BAD_VERSION;
  if ((fv & GRE_FLAG_K) == 0 || (fv & (GRE_FLAG_C | GRE_FLAG_R | GRE_FLAG_SSR | GRE_RECUR_MASK)) != 0) {
    return GRE_BAD_HEADER;
  }
  let need = GRE_HEADER_LEN;
  if ((fv & GRE_FLAG_S) != 0) need += 4;
  if ((fv & GRE_FLAG_A) != 0) need += 4;
  if (len < need) return GRE_BAD_HEADER;
  if (greProtocol(p) != GRE_PROTOCOL_PPP) return GRE_BAD_HEADER;
  return GRE_OK;
}
