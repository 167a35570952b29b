// The CE's PPTP ALG on the TCP 1723 control connection (RFC 2637;
// settings.pptp). ce.ts calls it with a whole TCP segment that has just
// been NAPTed (LAN → WAN) or matched a session (WAN → LAN); it walks the
// control messages in the segment (wire/pptp.ts) and rewrites the PNS's
// (our LAN client's) Call ID:
//
//   LAN → WAN  Outgoing-Call-Request, Incoming-Call-Reply: Call ID := the
//              control connection's external port (a value of our port
//              set; nat/pptp.ts opens the call); Call-Clear-Request: the
//              same, for a known call.
//   WAN → LAN  Outgoing-Call-Reply: Peer's Call ID := the client's own
//              (and the server's Call ID is learned: outbound GRE carries
//              it); Incoming-Call-Connected, WAN-Error-Notify,
//              Call-Disconnect-Notify: likewise (CDN ends the call).
//
// Rewrites keep the length, so no sequence number moves; the TCP checksum
// is updated incrementally per field (wire/pptp.ts setTcpPayload16Update).
// A message cut by the segment's end is not rewritten (counted in
// pptp-control-split: the call then fails rather than leak a wrong ID);
// bytes that are not a control message stop the walk
// (pptp-control-malformed). GRE itself is translated in ce.ts (greFromLan,
// greFromWan) through the call table.
import { tcpDataOffset } from "../wire/tcp";
import {
  pptpCheck, pptpControlType, pptpField, pptpLength, pptpPnsCallIdFromPns, pptpPnsCallIdFromPac,
  setTcpPayload16Update, PPTP_OK, PPTP_TRUNCATED, PPTP_CALL_ID, PPTP_PEER_CALL_ID,
  PPTP_INCOMING_CALL_REPLY, PPTP_CALL_CLEAR_REQUEST, PPTP_OUTGOING_CALL_REPLY, PPTP_CALL_DISCONNECT_NOTIFY,
} from "../wire/pptp";
import {
  pptpCallOpen, pptpCallByExt, pptpCallClientId, pptpCallLearnServerId, pptpCallClose,
} from "../nat/pptp";
import {
  count, C_PPTP_CALLS, C_PPTP_CONTROL_SPLIT, C_PPTP_CONTROL_MALFORMED, D_PPTP_CALL_TABLE_FULL,
} from "./counters";

/**
 * Walks the messages of the TCP segment at `tcp` (`len` bytes, header
 * included) from LAN client `client` to server `server`, whose control
 * connection has external port `ext`. Returns 0, or D_PPTP_CALL_TABLE_FULL
 * when a call cannot be opened (the segment is dropped; the client
 * retransmits it).
 */
export function pptpFromLan(tcp: usize, len: i32, client: u32, server: u32, ext: i32, now: u64): i32 {
  let off = tcpDataOffset(tcp);
  while (off < len) {
    const m = tcp + <usize>off;
    const r = pptpCheck(m, len - off);
    if (r != PPTP_OK) { count(r == PPTP_TRUNCATED ? C_PPTP_CONTROL_SPLIT : C_PPTP_CONTROL_MALFORMED, len); return 0; }
    const type = pptpControlType(m);
    const at = pptpPnsCallIdFromPns(type);
    if (at >= 0) {
      const clientId = pptpField(m, at);
      if (type == PPTP_CALL_CLEAR_REQUEST) {
        // Only for the call this connection placed: anything else is not ours to translate.
        const c = pptpCallByExt(server, ext, now);
        if (c >= 0 && pptpCallClientId(c) == clientId) setTcpPayload16Update(tcp, off + at, ext);
      } else {
        const serverId = type == PPTP_INCOMING_CALL_REPLY ? pptpField(m, PPTP_PEER_CALL_ID) : -1;
        if (pptpCallOpen(client, server, ext, clientId, serverId, now) < 0) return D_PPTP_CALL_TABLE_FULL;
        count(C_PPTP_CALLS, len);
        setTcpPayload16Update(tcp, off + at, ext);
      }
    }
    off += pptpLength(m);
  }
  return 0;
}

/**
 * Walks the messages of the TCP segment at `tcp` (`len` bytes) from
 * `server` to our external port `ext` (before the destination is put back
 * to the LAN client: the order does not matter to incremental checksums).
 * A field is rewritten only when it holds `ext` and the call is known.
 */
export function pptpFromWan(tcp: usize, len: i32, server: u32, ext: i32, now: u64): void {
  let off = tcpDataOffset(tcp);
  while (off < len) {
    const m = tcp + <usize>off;
    const r = pptpCheck(m, len - off);
    if (r != PPTP_OK) { count(r == PPTP_TRUNCATED ? C_PPTP_CONTROL_SPLIT : C_PPTP_CONTROL_MALFORMED, len); return; }
    const type = pptpControlType(m);
    const at = pptpPnsCallIdFromPac(type);
    if (at >= 0 && pptpField(m, at) == ext) {
      const c = pptpCallByExt(server, ext, now);
      if (c >= 0) {
        if (type == PPTP_OUTGOING_CALL_REPLY) pptpCallLearnServerId(c, pptpField(m, PPTP_CALL_ID));
        setTcpPayload16Update(tcp, off + at, pptpCallClientId(c));
        if (type == PPTP_CALL_DISCONNECT_NOTIFY) pptpCallClose(c);
      }
    }
    off += pptpLength(m);
  }
}
