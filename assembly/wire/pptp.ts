// PPTP control messages (RFC 2637 §1.4, §2), carried on TCP port 1723.
// Every message starts with the same 12 bytes; the fields the data path
// rewrites are 16-bit Call IDs right after them:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |            Length             |  PPTP Message Type (1 = ctrl) |  0
//   +-------------------------------+-------------------------------+
//   |                    Magic Cookie 0x1A2B3C4D                    |  4
//   +-------------------------------+-------------------------------+
//   |     Control Message Type      |           Reserved0           |  8
//   +-------------------------------+-------------------------------+
//   |  (Call ID | Peer's Call ID)   | (Peer's Call ID | …)          | 12
//   +-------------------------------+-------------------------------+
//
// PNS = the client that places the call (our LAN host, which dials out:
// Outgoing-Call-Request), PAC = the server. The messages that carry the
// PNS's own Call ID, which the CE translates into a value of its port set
// (nat/pptp.ts):
//
//   direction   message (type, length)                field at
//   PNS → PAC   Outgoing-Call-Request   (7, 168)      Call ID          12
//   PNS → PAC   Incoming-Call-Reply     (10, 24)      Call ID          12  (Peer's, the PAC's, at 14)
//   PNS → PAC   Call-Clear-Request      (12, 16)      Call ID          12
//   PAC → PNS   Outgoing-Call-Reply     (8, 32)       Peer's Call ID   14  (the PAC's own at 12)
//   PAC → PNS   Incoming-Call-Connected (11, 28)      Peer's Call ID   12
//   PAC → PNS   Call-Disconnect-Notify  (13, 148)     Call ID          12  (as deployed PACs fill it
//                                                                           and Linux's NAT helper reads it)
//   PAC → PNS   WAN-Error-Notify        (14, 40)      Peer's Call ID   12
//
// Set-Link-Info (PNS → PAC) names the PAC's call ID and the connection
// messages (types 1–6) name none: they pass untouched. The length of each
// message type is fixed by the RFC, so the Length field is checked against
// it: a stream that disagrees is not parsed further (an ALG that guesses
// would rewrite payload bytes).
//
// Contract: `pptpCheck(p, len)` first (len = the bytes from p to the end of
// the segment); accessors never check. Values are in host order.
import { checksumUpdate16At } from "./checksum";
import { TCP_CHECKSUM } from "./tcp";

/** TCP port of the PPTP control connection (RFC 2637 §1.4). */
export const PPTP_PORT: i32 = 1723;
export const PPTP_MAGIC_COOKIE: u32 = 0x1A2B3C4D;
export const PPTP_MESSAGE_CONTROL: i32 = 1;

export const PPTP_LENGTH: i32 = 0;
export const PPTP_MESSAGE_TYPE: i32 = 2;
export const PPTP_COOKIE: i32 = 4;
export const PPTP_CONTROL_TYPE: i32 = 8;
/** Call ID, or Peer's Call ID in ICCN / WEN / SLI. */
export const PPTP_CALL_ID: i32 = 12;
/** Peer's Call ID of Outgoing-Call-Reply and Incoming-Call-Reply. */
export const PPTP_PEER_CALL_ID: i32 = 14;
/** The common header. */
export const PPTP_HEADER_LEN: i32 = 12;

/** Control message types (RFC 2637 §2). */
export const PPTP_START_CONTROL_REQUEST: i32 = 1;
export const PPTP_START_CONTROL_REPLY: i32 = 2;
export const PPTP_STOP_CONTROL_REQUEST: i32 = 3;
export const PPTP_STOP_CONTROL_REPLY: i32 = 4;
export const PPTP_ECHO_REQUEST: i32 = 5;
export const PPTP_ECHO_REPLY: i32 = 6;
export const PPTP_OUTGOING_CALL_REQUEST: i32 = 7;
export const PPTP_OUTGOING_CALL_REPLY: i32 = 8;
export const PPTP_INCOMING_CALL_REQUEST: i32 = 9;
export const PPTP_INCOMING_CALL_REPLY: i32 = 10;
export const PPTP_INCOMING_CALL_CONNECTED: i32 = 11;
export const PPTP_CALL_CLEAR_REQUEST: i32 = 12;
export const PPTP_CALL_DISCONNECT_NOTIFY: i32 = 13;
export const PPTP_WAN_ERROR_NOTIFY: i32 = 14;
export const PPTP_SET_LINK_INFO: i32 = 15;

/** Length of each control message type 1..15 (RFC 2637 §2.1–§2.15); index 0 unused. */
const LENGTHS: StaticArray<i32> = [0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24];

// Reason codes (block 113–127, see wire/index.ts).
export const PPTP_OK: i32 = 0;
/** The message does not end inside these bytes (split across segments, or a truncated header). */
export const PPTP_TRUNCATED: i32 = 113;
/** Not a control message, wrong magic cookie, unknown type, or a Length other than the type's. */
export const PPTP_BAD_MESSAGE: i32 = 114;

/** Length of the message (header included). */
// @ts-ignore: decorator
@inline export function pptpLength(p: usize): i32 { return bswap<u16>(load<u16>(p, PPTP_LENGTH)); }
// @ts-ignore: decorator
@inline export function pptpMessageType(p: usize): i32 { return bswap<u16>(load<u16>(p, PPTP_MESSAGE_TYPE)); }
// @ts-ignore: decorator
@inline export function pptpCookie(p: usize): u32 { return bswap<u32>(load<u32>(p, PPTP_COOKIE)); }
// @ts-ignore: decorator
@inline export function pptpControlType(p: usize): i32 { return bswap<u16>(load<u16>(p, PPTP_CONTROL_TYPE)); }
/** The 16-bit field at `off` of the message (PPTP_CALL_ID, PPTP_PEER_CALL_ID). */
// @ts-ignore: decorator
@inline export function pptpField(p: usize, off: i32): i32 { return bswap<u16>(load<u16>(p + <usize>off)); }

/** The fixed length of control message `type`, 0 for an unknown type. */
export function pptpTypeLength(type: i32): i32 {
  return type >= 1 && type <= 15 ? unchecked(LENGTHS[type]) : 0;
}

/**
 * PPTP_OK when the `len` bytes at `p` hold a whole control message: the
 * header (control type, magic cookie), a known type, and its fixed length.
 * PPTP_TRUNCATED when it is cut by the end of the bytes, PPTP_BAD_MESSAGE
 * otherwise.
 */
export function pptpCheck(p: usize, len: i32): i32 {
  if (len < PPTP_HEADER_LEN) return PPTP_TRUNCATED;
  if (pptpMessageType(p) != PPTP_MESSAGE_CONTROL || pptpCookie(p) != PPTP_MAGIC_COOKIE) return PPTP_BAD_MESSAGE;
  const want = pptpTypeLength(pptpControlType(p));
  if (want == 0 || pptpLength(p) != want) return PPTP_BAD_MESSAGE;
  if (len < want) return PPTP_TRUNCATED;
  return PPTP_OK;
}

/**
 * Where a message sent by the PNS (our LAN client) carries the PNS's own
 * Call ID (table in the file header), -1 when it carries none.
 */
export function pptpPnsCallIdFromPns(type: i32): i32 {
  if (type == PPTP_OUTGOING_CALL_REQUEST || type == PPTP_INCOMING_CALL_REPLY ||
      type == PPTP_CALL_CLEAR_REQUEST) return PPTP_CALL_ID;
  return -1;
}

/** Where a message sent by the PAC (the server) carries the PNS's Call ID, -1 when none. */
export function pptpPnsCallIdFromPac(type: i32): i32 {
  if (type == PPTP_OUTGOING_CALL_REPLY) return PPTP_PEER_CALL_ID;
  if (type == PPTP_INCOMING_CALL_CONNECTED || type == PPTP_CALL_DISCONNECT_NOTIFY ||
      type == PPTP_WAN_ERROR_NOTIFY) return PPTP_CALL_ID;
  return -1;
}

/**
 * Sets the 16-bit field `at` bytes after the TCP header start `tcp` to v
 * and updates the TCP checksum incrementally (RFC 1624; an odd offset from
 * the header start swaps the bytes, checksum.ts checksumUpdate16At). Same
 * length, so no sequence number moves.
 */
export function setTcpPayload16Update(tcp: usize, at: i32, v: i32): void {
  const old = bswap<u16>(load<u16>(tcp + <usize>at));
  if (old == <u16>v) return;
  store<u16>(tcp + <usize>at, bswap<u16>(<u16>v));
  const c = bswap<u16>(load<u16>(tcp, TCP_CHECKSUM));
  store<u16>(tcp, bswap<u16>(checksumUpdate16At(c, at, old, <u16>v)), TCP_CHECKSUM);
}

/** Writes the common header of a control message of `type` (tests, builders); the body is the caller's. */
export function pptpEmitHeader(p: usize, type: i32): void {
  store<u16>(p, bswap<u16>(<u16>pptpTypeLength(type)), PPTP_LENGTH);
  store<u16>(p, bswap<u16>(<u16>PPTP_MESSAGE_CONTROL), PPTP_MESSAGE_TYPE);
  store<u32>(p, bswap<u32>(PPTP_MAGIC_COOKIE), PPTP_COOKIE);
  store<u16>(p, bswap<u16>(<u16>type), PPTP_CONTROL_TYPE);
  store<u16>(p, 0, PPTP_CONTROL_TYPE + 2);
}
