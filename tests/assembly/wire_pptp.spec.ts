// PPTP (RFC 2637): the enhanced GRE header (wire/gre.ts), the control
// messages (wire/pptp.ts), the CE's call table (nat/pptp.ts) and the
// control-connection ALG (datapath/pptp.ts).
import {
  greCheck, greVersion, greProtocol, grePayloadLength, greCallId, setGreCallId, greEmit, GRE_OK, GRE_TOO_SHORT,
  GRE_BAD_VERSION, GRE_BAD_HEADER, GRE_PROTOCOL_PPP,
} from "../../assembly/wire/gre";
import {
  pptpCheck, pptpLength, pptpControlType, pptpField, pptpTypeLength, pptpEmitHeader, pptpPnsCallIdFromPns,
  pptpPnsCallIdFromPac, setTcpPayload16Update, PPTP_OK, PPTP_TRUNCATED, PPTP_BAD_MESSAGE, PPTP_CALL_ID,
  PPTP_PEER_CALL_ID, PPTP_START_CONTROL_REQUEST, PPTP_OUTGOING_CALL_REQUEST, PPTP_OUTGOING_CALL_REPLY,
  PPTP_INCOMING_CALL_REPLY, PPTP_INCOMING_CALL_CONNECTED, PPTP_CALL_CLEAR_REQUEST, PPTP_CALL_DISCONNECT_NOTIFY,
  PPTP_WAN_ERROR_NOTIFY, PPTP_SET_LINK_INFO, PPTP_ECHO_REQUEST,
} from "../../assembly/wire/pptp";
import { tcpComputeChecksum4, tcpChecksumValid4, setTcpChecksum } from "../../assembly/wire/tcp";
import {
  pptpReset, pptpCallOpen, pptpCallByExt, pptpCallByServerId, pptpCallClient, pptpCallClientId, pptpCallClose,
  pptpCallCount, PPTP_CALLS, PPTP_CALL_TIMEOUT_MS,
} from "../../assembly/nat/pptp";
import { pptpFromLan, pptpFromWan } from "../../assembly/datapath/pptp";
import {
  countersReset, counterPackets, C_PPTP_CALLS, C_PPTP_CONTROL_SPLIT, C_PPTP_CONTROL_MALFORMED,
  D_PPTP_CALL_TABLE_FULL,
} from "../../assembly/datapath/counters";
import { PKT_A, ip4, firstDiff, buildIpv4Tcp } from "./builders";

/** GRE v1 with S and A: flags 0x3081, PPP, payload 4 bytes, call ID 0x4000, seq 1, ack 2, LCP bytes. */
const FX_GRE: usize = memory.data<u8>([
  0x30, 0x81, 0x88, 0x0b, 0x00, 0x04, 0x40, 0x00,
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
  0xff, 0x03, 0xc0, 0x21,
]);
const FX_GRE_LEN = 20;
/** GRE v1 without S/A, as greEmit writes it: payload 4, call ID 0x1234. */
const FX_GRE_PLAIN: usize = memory.data<u8>([0x20, 0x01, 0x88, 0x0b, 0x00, 0x04, 0x12, 0x34]);

const CLIENT = ip4(192, 168, 1, 10);
const CLIENT_B = ip4(192, 168, 1, 11);
const SERVER = ip4(198, 51, 100, 7);
const CE = ip4(203, 86, 225, 1);

describe("gre: deconstruct", () => {
  it("reads the fixture's fields", () => {
    expect<i32>(greCheck(FX_GRE, FX_GRE_LEN)).toBe(GRE_OK);
    expect<i32>(greVersion(FX_GRE)).toBe(1);
    expect<i32>(greProtocol(FX_GRE)).toBe(GRE_PROTOCOL_PPP);
    expect<i32>(grePayloadLength(FX_GRE)).toBe(4);
    expect<i32>(greCallId(FX_GRE)).toBe(0x4000);
  });
});

describe("gre: construct", () => {
  it("greEmit writes the plain header; setGreCallId changes only the call ID", () => {
    memory.fill(PKT_A, 0, 16);
    greEmit(PKT_A, 4, 0x1234);
    expect<i32>(firstDiff(PKT_A, FX_GRE_PLAIN, 8)).toBe(-1);
    setGreCallId(PKT_A, 0xbeef);
    expect<i32>(greCallId(PKT_A)).toBe(0xbeef);
    expect<i32>(firstDiff(PKT_A, FX_GRE_PLAIN, 6)).toBe(-1);
  });
});

describe("gre: check", () => {
  it("each reason", () => {
    memory.copy(PKT_A, FX_GRE, FX_GRE_LEN);
    expect<i32>(greCheck(PKT_A, 3)).toBe(GRE_TOO_SHORT);
    // S and A announce 8 more bytes than the fixed 8.
    expect<i32>(greCheck(PKT_A, 12)).toBe(GRE_BAD_HEADER);
    expect<i32>(greCheck(PKT_A, 16)).toBe(GRE_OK);
    store<u8>(PKT_A, 0x80, 1); // version 0 (RFC 2784)
    expect<i32>(greCheck(PKT_A, FX_GRE_LEN)).toBe(GRE_BAD_VERSION);
    store<u8>(PKT_A, 0x82, 1); // version 2
    expect<i32>(greCheck(PKT_A, FX_GRE_LEN)).toBe(GRE_BAD_VERSION);
    memory.copy(PKT_A, FX_GRE, FX_GRE_LEN);
    store<u8>(PKT_A, 0x10, 0); // K clear
    expect<i32>(greCheck(PKT_A, FX_GRE_LEN)).toBe(GRE_BAD_HEADER);
    store<u8>(PKT_A, 0xb0, 0); // C set
    expect<i32>(greCheck(PKT_A, FX_GRE_LEN)).toBe(GRE_BAD_HEADER);
    store<u8>(PKT_A, 0x31, 0); // Recur 1
    expect<i32>(greCheck(PKT_A, FX_GRE_LEN)).toBe(GRE_BAD_HEADER);
    memory.copy(PKT_A, FX_GRE, FX_GRE_LEN);
    store<u16>(PKT_A, bswap<u16>(0x0800), 2); // IPv4, not PPP
    expect<i32>(greCheck(PKT_A, FX_GRE_LEN)).toBe(GRE_BAD_HEADER);
  });
});

describe("pptp: messages", () => {
  it("fixed lengths and the Call ID fields per direction (RFC 2637 §2)", () => {
    expect<i32>(pptpTypeLength(PPTP_START_CONTROL_REQUEST)).toBe(156);
    expect<i32>(pptpTypeLength(PPTP_OUTGOING_CALL_REQUEST)).toBe(168);
    expect<i32>(pptpTypeLength(PPTP_OUTGOING_CALL_REPLY)).toBe(32);
    expect<i32>(pptpTypeLength(PPTP_SET_LINK_INFO)).toBe(24);
    expect<i32>(pptpTypeLength(0)).toBe(0);
    expect<i32>(pptpTypeLength(16)).toBe(0);
    expect<i32>(pptpPnsCallIdFromPns(PPTP_OUTGOING_CALL_REQUEST)).toBe(PPTP_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPns(PPTP_INCOMING_CALL_REPLY)).toBe(PPTP_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPns(PPTP_CALL_CLEAR_REQUEST)).toBe(PPTP_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPns(PPTP_SET_LINK_INFO)).toBe(-1);
    expect<i32>(pptpPnsCallIdFromPns(PPTP_ECHO_REQUEST)).toBe(-1);
    expect<i32>(pptpPnsCallIdFromPac(PPTP_OUTGOING_CALL_REPLY)).toBe(PPTP_PEER_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPac(PPTP_INCOMING_CALL_CONNECTED)).toBe(PPTP_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPac(PPTP_CALL_DISCONNECT_NOTIFY)).toBe(PPTP_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPac(PPTP_WAN_ERROR_NOTIFY)).toBe(PPTP_CALL_ID);
    expect<i32>(pptpPnsCallIdFromPac(PPTP_OUTGOING_CALL_REQUEST)).toBe(-1);
  });

  it("pptpCheck: whole, truncated, and each bad header", () => {
    memory.fill(PKT_A, 0, 256);
    pptpEmitHeader(PKT_A, PPTP_OUTGOING_CALL_REQUEST);
    expect<i32>(pptpLength(PKT_A)).toBe(168);
    expect<i32>(pptpControlType(PKT_A)).toBe(PPTP_OUTGOING_CALL_REQUEST);
    expect<i32>(pptpCheck(PKT_A, 168)).toBe(PPTP_OK);
    expect<i32>(pptpCheck(PKT_A, 200)).toBe(PPTP_OK);
    expect<i32>(pptpCheck(PKT_A, 167)).toBe(PPTP_TRUNCATED);
    expect<i32>(pptpCheck(PKT_A, 11)).toBe(PPTP_TRUNCATED);
    store<u16>(PKT_A, bswap<u16>(32), 0); // a length other than the type's
    expect<i32>(pptpCheck(PKT_A, 168)).toBe(PPTP_BAD_MESSAGE);
    pptpEmitHeader(PKT_A, PPTP_OUTGOING_CALL_REQUEST);
    store<u8>(PKT_A, 0x4e, 7); // magic cookie
    expect<i32>(pptpCheck(PKT_A, 168)).toBe(PPTP_BAD_MESSAGE);
    pptpEmitHeader(PKT_A, PPTP_OUTGOING_CALL_REQUEST);
    store<u16>(PKT_A, bswap<u16>(2), 2); // management message, not control
    expect<i32>(pptpCheck(PKT_A, 168)).toBe(PPTP_BAD_MESSAGE);
    pptpEmitHeader(PKT_A, PPTP_OUTGOING_CALL_REQUEST);
    store<u16>(PKT_A, bswap<u16>(16), 8); // unknown control type
    expect<i32>(pptpCheck(PKT_A, 168)).toBe(PPTP_BAD_MESSAGE);
  });

  it("setTcpPayload16Update keeps the TCP checksum valid at even and odd offsets", () => {
    const n = buildIpv4Tcp(PKT_A, CE, SERVER, 4660, 1723, 0x18, 1000, 0, 0, 64);
    const t = PKT_A + 20;
    const tl = n - 20;
    expect<bool>(tcpChecksumValid4(t, tl, CE, SERVER)).toBe(true);
    setTcpPayload16Update(t, 32, 0x1234);
    expect<i32>(pptpField(t, 32)).toBe(0x1234);
    expect<bool>(tcpChecksumValid4(t, tl, CE, SERVER)).toBe(true);
    setTcpPayload16Update(t, 41, 0xfffe);
    expect<i32>(pptpField(t, 41)).toBe(0xfffe);
    expect<bool>(tcpChecksumValid4(t, tl, CE, SERVER)).toBe(true);
  });
});

describe("pptp: call table", () => {
  it("opens, finds both ways, replaces per (server, call ID), closes, idles out", () => {
    pptpReset();
    const c = pptpCallOpen(CLIENT, SERVER, 4660, 1, -1, 1000);
    expect<i32>(c).toBeGreaterThanOrEqual(0);
    expect<i32>(pptpCallByExt(SERVER, 4660, 1001)).toBe(c);
    expect<i32>(pptpCallByExt(SERVER + 1, 4660, 1001)).toBe(-1);
    // The server has not answered: no GRE from the client is ours yet.
    expect<i32>(pptpCallByServerId(CLIENT, SERVER, 0, 1001)).toBe(-1);
    // Same connection, new call: replaced, not a second record.
    const c2 = pptpCallOpen(CLIENT, SERVER, 4660, 2, 0x4000, 2000);
    expect<i32>(c2).toBe(c);
    expect<i32>(pptpCallCount(2000)).toBe(1);
    expect<i32>(pptpCallClientId(c)).toBe(2);
    expect<i32>(pptpCallByServerId(CLIENT, SERVER, 0x4000, 2001)).toBe(c);
    expect<i32>(pptpCallByServerId(CLIENT_B, SERVER, 0x4000, 2001)).toBe(-1);
    expect<u32>(pptpCallClient(c)).toBe(CLIENT);
    // Idle out: found just before the timeout (refreshing it), not after.
    expect<i32>(pptpCallByExt(SERVER, 4660, 2001 + PPTP_CALL_TIMEOUT_MS - 1)).toBe(c);
    expect<i32>(pptpCallByExt(SERVER, 4660, 2001 + 2 * PPTP_CALL_TIMEOUT_MS)).toBe(-1);
    const c3 = pptpCallOpen(CLIENT, SERVER, 8756, 1, 0x4001, 5000);
    pptpCallClose(c3);
    expect<i32>(pptpCallByExt(SERVER, 8756, 5001)).toBe(-1);
  });

  it("full: the call past PPTP_CALLS is refused, an idle one frees a record", () => {
    pptpReset();
    for (let i = 0; i < PPTP_CALLS; i++) expect<i32>(pptpCallOpen(CLIENT, SERVER, 4096 + i, 1, -1, 100)).toBeGreaterThanOrEqual(0);
    expect<i32>(pptpCallOpen(CLIENT, SERVER, 9999, 1, -1, 200)).toBe(-1);
    expect<i32>(pptpCallOpen(CLIENT, SERVER, 9999, 1, -1, 100 + PPTP_CALL_TIMEOUT_MS)).toBeGreaterThanOrEqual(0);
    pptpReset();
    expect<i32>(pptpCallCount(0)).toBe(0);
  });
});

/** An IPv4+TCP segment CE:4660 → SERVER:1723 whose payload is the OCRQ-bearing messages; returns the TCP length. */
function segment(types: StaticArray<i32>, callId: i32): i32 {
  let payload = 0;
  for (let i = 0; i < types.length; i++) payload += pptpTypeLength(types[i]);
  const n = buildIpv4Tcp(PKT_A, CE, SERVER, 4660, 1723, 0x18, 1000, 0, 0, payload);
  const t = PKT_A + 20;
  let at = t + 20;
  memory.fill(at, 0, payload);
  for (let i = 0; i < types.length; i++) {
    pptpEmitHeader(at, types[i]);
    store<u16>(at, bswap<u16>(<u16>callId), PPTP_CALL_ID);
    store<u16>(at, bswap<u16>(<u16>callId), PPTP_PEER_CALL_ID);
    at += <usize>pptpTypeLength(types[i]);
  }
  setTcpChecksum(t, 0);
  setTcpChecksum(t, tcpComputeChecksum4(t, n - 20, CE, SERVER));
  return n - 20;
}

describe("pptp: control-connection ALG", () => {
  it("LAN → WAN: the Outgoing-Call-Request after a Start-Control-Connection-Request gets the external port as Call ID", () => {
    pptpReset();
    countersReset();
    const tl = segment([PPTP_START_CONTROL_REQUEST, PPTP_OUTGOING_CALL_REQUEST], 1);
    const t = PKT_A + 20;
    expect<i32>(pptpFromLan(t, tl, CLIENT, SERVER, 4660, 10)).toBe(0);
    expect<i32>(pptpField(t + 20 + 156, PPTP_CALL_ID)).toBe(4660);
    // Start-Control-Connection-Request carries no call: its bytes stay.
    expect<i32>(pptpField(t + 20, PPTP_CALL_ID)).toBe(1);
    expect<bool>(tcpChecksumValid4(t, tl, CE, SERVER)).toBe(true);
    expect<u64>(counterPackets(C_PPTP_CALLS)).toBe(1);
    const c = pptpCallByExt(SERVER, 4660, 11);
    expect<i32>(pptpCallClientId(c)).toBe(1);
  });

  it("WAN → LAN: the Outgoing-Call-Reply's Peer's Call ID goes back, the server's call ID is learned", () => {
    // (the call from the test above)
    const tl = segment([PPTP_OUTGOING_CALL_REPLY], 4660);
    const t = PKT_A + 20;
    store<u16>(t + 20, bswap<u16>(0x4000), PPTP_CALL_ID);
    setTcpChecksum(t, 0);
    setTcpChecksum(t, tcpComputeChecksum4(t, tl, CE, SERVER));
    pptpFromWan(t, tl, SERVER, 4660, 12);
    expect<i32>(pptpField(t + 20, PPTP_PEER_CALL_ID)).toBe(1);
    expect<i32>(pptpField(t + 20, PPTP_CALL_ID)).toBe(0x4000);
    expect<bool>(tcpChecksumValid4(t, tl, CE, SERVER)).toBe(true);
    expect<i32>(pptpCallByServerId(CLIENT, SERVER, 0x4000, 13)).toBeGreaterThanOrEqual(0);
  });

  it("a Peer's Call ID that is not ours, or an unknown call, is left alone", () => {
    const tl = segment([PPTP_OUTGOING_CALL_REPLY], 8756);
    const t = PKT_A + 20;
    pptpFromWan(t, tl, SERVER, 4660, 14);
    expect<i32>(pptpField(t + 20, PPTP_PEER_CALL_ID)).toBe(8756);
    pptpFromWan(t, tl, SERVER, 8756, 14);
    expect<i32>(pptpField(t + 20, PPTP_PEER_CALL_ID)).toBe(8756);
  });

  it("a message cut by the segment's end and a non-PPTP payload are counted, not rewritten", () => {
    pptpReset();
    countersReset();
    const tl = segment([PPTP_OUTGOING_CALL_REQUEST], 1);
    const t = PKT_A + 20;
    expect<i32>(pptpFromLan(t, tl - 10, CLIENT, SERVER, 4660, 20)).toBe(0);
    expect<i32>(pptpField(t + 20, PPTP_CALL_ID)).toBe(1);
    expect<u64>(counterPackets(C_PPTP_CONTROL_SPLIT)).toBe(1);
    store<u8>(t + 20, 0x55, 5); // magic cookie
    expect<i32>(pptpFromLan(t, tl, CLIENT, SERVER, 4660, 20)).toBe(0);
    expect<i32>(pptpField(t + 20, PPTP_CALL_ID)).toBe(1);
    expect<u64>(counterPackets(C_PPTP_CONTROL_MALFORMED)).toBe(1);
    expect<i32>(pptpCallCount(20)).toBe(0);
  });

  it("a full call table drops the Outgoing-Call-Request (drop-pptp-call-table-full)", () => {
    pptpReset();
    for (let i = 0; i < PPTP_CALLS; i++) pptpCallOpen(CLIENT_B, SERVER, 4096 + i, 1, -1, 30);
    const tl = segment([PPTP_OUTGOING_CALL_REQUEST], 1);
    expect<i32>(pptpFromLan(PKT_A + 20, tl, CLIENT, SERVER, 60000, 31)).toBe(D_PPTP_CALL_TABLE_FULL);
    pptpReset();
  });

  it("incoming call: the Incoming-Call-Reply opens the call with the server's call ID known; Incoming-Call-Connected is put back", () => {
    pptpReset();
    countersReset();
    const tl = segment([PPTP_INCOMING_CALL_REPLY], 7);
    const t = PKT_A + 20;
    store<u16>(t + 20, bswap<u16>(0x6000), PPTP_PEER_CALL_ID); // the PAC's call ID
    setTcpChecksum(t, 0);
    setTcpChecksum(t, tcpComputeChecksum4(t, tl, CE, SERVER));
    expect<i32>(pptpFromLan(t, tl, CLIENT, SERVER, 4660, 40)).toBe(0);
    expect<i32>(pptpField(t + 20, PPTP_CALL_ID)).toBe(4660);
    expect<i32>(pptpField(t + 20, PPTP_PEER_CALL_ID)).toBe(0x6000);
    expect<bool>(tcpChecksumValid4(t, tl, CE, SERVER)).toBe(true);
    // GRE from the client to the PAC's call is ours at once.
    expect<i32>(pptpCallByServerId(CLIENT, SERVER, 0x6000, 41)).toBeGreaterThanOrEqual(0);
    const tl2 = segment([PPTP_INCOMING_CALL_CONNECTED], 4660);
    pptpFromWan(t, tl2, SERVER, 4660, 42);
    expect<i32>(pptpField(t + 20, PPTP_CALL_ID)).toBe(7);
    expect<bool>(tcpChecksumValid4(t, tl2, CE, SERVER)).toBe(true);
    pptpReset();
  });
});
