// An independent encoder of PPTP (RFC 2637) for the tests: control
// messages on TCP 1723 (§2) and the enhanced GRE header (§4.1) with a PPP
// frame inside. Written from the RFC, not from the module, so the e2e rows
// compare the module's rewrites against bytes it did not make.
import { ipv4, type Ipv4Header } from "./packets.js";

export const PROTO_GRE = 47;
export const PPTP_PORT = 1723;

/** Control message types (RFC 2637 §2) and their fixed lengths. */
export const PPTP = {
  START_CONTROL_REQUEST: 1,
  START_CONTROL_REPLY: 2,
  ECHO_REQUEST: 5,
  OUTGOING_CALL_REQUEST: 7,
  OUTGOING_CALL_REPLY: 8,
  INCOMING_CALL_REQUEST: 9,
  INCOMING_CALL_REPLY: 10,
  INCOMING_CALL_CONNECTED: 11,
  CALL_CLEAR_REQUEST: 12,
  CALL_DISCONNECT_NOTIFY: 13,
  WAN_ERROR_NOTIFY: 14,
  SET_LINK_INFO: 15,
} as const;
const LENGTHS = [0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24];

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, (v >>> 16) & 0xffff);
  put16(b, at + 2, v & 0xffff);
}

/**
 * A control message of `type`: the common header (Length, message type 1,
 * magic cookie 0x1A2B3C4D, control type), then 16-bit `fields` at their
 * offsets from the message start (12 = Call ID, 14 = Peer's Call ID);
 * the rest zero except the protocol version of the connection messages.
 */
export function pptpControl(type: number, fields: Record<number, number> = {}): Uint8Array {
  const len = LENGTHS[type];
  if (!len) throw new Error(`unknown PPTP control message type ${type}`);
  const m = new Uint8Array(len);
  put16(m, 0, len);
  put16(m, 2, 1);
  put32(m, 4, 0x1a2b3c4d);
  put16(m, 8, type);
  if (type === PPTP.START_CONTROL_REQUEST || type === PPTP.START_CONTROL_REPLY) {
    put16(m, 12, 0x0100); // protocol version 1.0
    if (type === PPTP.START_CONTROL_REPLY) m[14] = 1; // result: successful channel establishment
    put32(m, 16, 1); // framing capabilities: asynchronous
    put16(m, 24, 1); // maximum channels
    put16(m, 26, 1); // firmware revision
  }
  if (type === PPTP.OUTGOING_CALL_REQUEST) {
    put32(m, 16, 300); // minimum BPS
    put32(m, 20, 100000000); // maximum BPS
    put32(m, 24, 1); // bearer type: analog
    put32(m, 28, 1); // framing type: asynchronous
    put16(m, 32, 64); // packet receive window
  }
  if (type === PPTP.OUTGOING_CALL_REPLY) {
    m[16] = 1; // result: connected
    put32(m, 20, 100000000); // connect speed
    put16(m, 24, 64); // packet receive window
  }
  for (const [off, v] of Object.entries(fields)) put16(m, Number(off), v);
  return m;
}

export interface GreFields {
  /** The key's call ID: the one the receiver chose. */
  callId: number;
  /** Sequence number (S bit) when given. */
  seq?: number;
  /** Acknowledgment number (A bit) when given. */
  ack?: number;
  /** GRE version (default 1; 0 builds an RFC 2784 header without a key). */
  version?: number;
  payload?: Uint8Array;
}

/** A PPP LCP Echo-Request in HDLC-like framing (address 0xFF, control 0x03), as PPTP carries PPP. */
export function pppLcpEcho(id = 1, magic = 0x01020304): Uint8Array {
  const b = new Uint8Array(12);
  b.set([0xff, 0x03, 0xc0, 0x21, 0x09, id, 0x00, 0x08]);
  put32(b, 8, magic);
  return b;
}

/** The enhanced GRE header (RFC 2637 §4.1) and its payload. */
export function gre(f: GreFields): Uint8Array {
  const payload = f.payload ?? pppLcpEcho();
  const version = f.version ?? 1;
  if (version !== 1) {
    // RFC 2784: no key, protocol type PPP for a like-for-like comparison.
    const b = new Uint8Array(4 + payload.length);
    put16(b, 0, version & 7);
    put16(b, 2, 0x880b);
    b.set(payload, 4);
    return b;
  }
  const hl = 8 + (f.seq !== undefined ? 4 : 0) + (f.ack !== undefined ? 4 : 0);
  const b = new Uint8Array(hl + payload.length);
  put16(b, 0, 0x2000 | (f.seq !== undefined ? 0x1000 : 0) | (f.ack !== undefined ? 0x0080 : 0) | 1);
  put16(b, 2, 0x880b);
  put16(b, 4, payload.length);
  put16(b, 6, f.callId);
  let at = 8;
  if (f.seq !== undefined) { put32(b, at, f.seq); at += 4; }
  if (f.ack !== undefined) { put32(b, at, f.ack); at += 4; }
  b.set(payload, at);
  return b;
}

/** An IPv4 packet carrying GRE. */
export function gre4(f: Ipv4Header & GreFields): Uint8Array {
  return ipv4({ ...f, proto: PROTO_GRE, payload: gre(f) });
}
