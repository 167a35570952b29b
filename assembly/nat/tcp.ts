// The NAPT's TCP session state machine (RFC 5382 §5, shaped after RFC 6146
// §3.5.2.2 and RFC 7857 §2.2). It only decides which idle timeout applies:
// the NAT never judges sequence numbers, and a packet is never dropped
// because of the state (RFC 5382 REQ-2: every valid TCP sequence passes).
//
//                 out SYN              in SYN
//   (new, out) ──────────▶ OUT_SYN ──────────┐
//   (new, in)  ──────────▶ IN_SYN  ──────────┤ out SYN
//                 in SYN (EIF/ADF only)      ▼
//                                        ESTABLISHED
//                               out FIN ╱          ╲ in FIN
//                                 FIN_OUT          FIN_IN
//                               in FIN  ╲          ╱ out FIN
//                                         FIN_BOTH
//   RST in any state ─▶ TRANS;   TRANS + any non-RST packet ─▶ ESTABLISHED
//   (an RST may be spoofed or lost: RFC 7857 §2.2 keeps the session for the
//   transitory time, and traffic that goes on revives it, as RFC 6146 does);
//   a SYN without ACK in FIN_BOTH or TRANS starts a new connection on the
//   same tuple (port reuse after TIME_WAIT).
//   A session created by an outbound non-SYN (a flow picked up mid-stream,
//   e.g. after a CE restart) starts in TRANS.
//
// Timeout class: ESTABLISHED, FIN_OUT, FIN_IN use the established idle
// timeout (≥ 2 h 4 min, RFC 5382 REQ-5; a half-closed connection may idle
// as long as an open one); OUT_SYN, IN_SYN, FIN_BOTH, TRANS are transitory
// (≥ 4 min).

/** TCP header flag bits as they appear in the flags byte (RFC 9293 §3.1). */
export const TCP_FIN: i32 = 0x01;
export const TCP_SYN: i32 = 0x02;
export const TCP_RST: i32 = 0x04;
export const TCP_ACK: i32 = 0x10;

/** States (values stored in the session record; 0 = not TCP). */
export const TCP_OUT_SYN: i32 = 1;
export const TCP_IN_SYN: i32 = 2;
export const TCP_ESTABLISHED: i32 = 3;
export const TCP_FIN_OUT: i32 = 4;
export const TCP_FIN_IN: i32 = 5;
export const TCP_FIN_BOTH: i32 = 6;
export const TCP_TRANS: i32 = 7;

/** State of a session created by a packet with these flags in this direction. */
@inline
export function tcpInitialState(outbound: bool, flags: i32): i32 {
  if ((flags & (TCP_SYN | TCP_RST)) == TCP_SYN) return outbound ? TCP_OUT_SYN : TCP_IN_SYN;
  return TCP_TRANS;
}

/** True when an inbound packet with these flags may open a new session (a bare SYN). */
@inline
export function tcpMayOpenInbound(flags: i32): bool {
  return (flags & (TCP_SYN | TCP_RST | TCP_ACK | TCP_FIN)) == TCP_SYN;
}

/** True when the state uses the established (long) idle timeout. */
@inline
export function tcpIsEstablished(state: i32): bool {
  return state >= TCP_ESTABLISHED && state <= TCP_FIN_IN;
}

/** The state after a packet with `flags` travelling `outbound` (or inbound). */
export function tcpNextState(state: i32, outbound: bool, flags: i32): i32 {
  if (flags & TCP_RST) return TCP_TRANS;
  const syn = (flags & TCP_SYN) != 0;
  const fin = (flags & TCP_FIN) != 0;
  switch (state) {
    case TCP_OUT_SYN:
      return syn && !outbound ? TCP_ESTABLISHED : TCP_OUT_SYN;
    case TCP_IN_SYN:
      return syn && outbound ? TCP_ESTABLISHED : TCP_IN_SYN;
    case TCP_FIN_BOTH:
      if (syn && (flags & TCP_ACK) == 0) return outbound ? TCP_OUT_SYN : TCP_IN_SYN;
      return TCP_FIN_BOTH;
    case TCP_TRANS:
      if (syn && (flags & TCP_ACK) == 0) return outbound ? TCP_OUT_SYN : TCP_IN_SYN;
      if (!fin) return TCP_ESTABLISHED;
      return outbound ? TCP_FIN_OUT : TCP_FIN_IN;
    case TCP_ESTABLISHED:
      if (!fin) return TCP_ESTABLISHED;
      return outbound ? TCP_FIN_OUT : TCP_FIN_IN;
    case TCP_FIN_OUT:
      return fin && !outbound ? TCP_FIN_BOTH : TCP_FIN_OUT;
    case TCP_FIN_IN:
      return fin && outbound ? TCP_FIN_BOTH : TCP_FIN_IN;
    default:
      return tcpInitialState(outbound, flags);
  }
}
