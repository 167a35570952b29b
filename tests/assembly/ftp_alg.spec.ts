// The FTP ALG (assembly/datapath/ftp.ts): PORT / EPRT / 227 parsing and
// rewriting, the expected data connection (natExpect), sequence / ack / SACK
// adjustment, and the room a grown segment needs; plus plain ESP / AH drops
// and NAT-T-like UDP (RFC 3948) through the CE. The CE is the JANOG interop
// rule (15 ports: 4660, 8756, … 61988), as in ce_datapath.spec.ts.
import { W, MODE_CE, parseIPv6 } from "./map_helpers";
import { PKT_A, ip4, buildIpv4Tcp, buildIpv4Udp, buildIpv4InIpv6, buildIpv4Header, copyBytes } from "./builders";
import { setupBr, addr6, input, setLen, run, outPtr, outLen as brOutLen, BR1, CE_A_RFC } from "./br_helpers";
import { init, start, process, inputPtr, inputLengths, outputOffsets, outputLengths } from "../../assembly/datapath/process";
import {
  counterPackets, countersReset, C_FWD_TO_IPV6, C_FWD_TO_IPV4, D_NAT_FILTERED, D_IPV4_ESP, D_IPV4_AH,
  D_FTP_ALG_NO_ROOM, C_FTP_ALG_REWRITTEN, C_FTP_ALG_SPLIT, C_FTP_ALG_MALFORMED, C_FTP_ALG_OTHER_ADDRESS,
} from "../../assembly/datapath/counters";
import {
  ftpParse, ftpText, ftpTextPtr, ftpAddr, ftpDataPort, ftpSpanAt, ftpSpanLen, ftpContexts,
  FTP_NONE, FTP_PORT, FTP_EPRT, FTP_227, FTP_SPLIT, FTP_MALFORMED,
} from "../../assembly/datapath/ftp";
import { slotTailroom, slotPtr } from "../../assembly/datapath/slots";
import { HEADROOM, SLOT_SIZE } from "../../assembly/config";
import { ipv4Src, ipv4Dst, ipv4TotalLength, ipv4ComputeChecksum, ipv4Checksum, IPV4_HEADER_LEN } from "../../assembly/wire/ipv4";
import {
  tcpSeq, tcpAck, tcpChecksumValid4, tcpComputeChecksum4, setTcpChecksum, setTcpDataOffset, tcpSrcPort,
  tcpDstPort, TCP_HEADER_LEN,
} from "../../assembly/wire/tcp";
import { udpSrcPort, udpDstPort, setUdpChecksum, udpComputeChecksum4 } from "../../assembly/wire/udp";
import { natExpect, natFindSession, natSessionClass, natTimeout, NAT_TCP, NAT_UDP, NAT_CLASS_UDP } from "../../assembly/nat/nat";
import { isOwnPort } from "../../assembly/map/api";

const CE_ADDR = "2403:9200:1234::cb56:e101:234";
const BR_ADDR = "2403:9200:fff0::2";
const LAN_HOST = ip4(192, 168, 1, 10);
const LAN_SRV = ip4(192, 168, 1, 12);
/** A LAN host whose address is shorter in text than ours: its PORT line grows by 4 bytes. */
const LAN_TEN = ip4(10, 0, 0, 5);
const REMOTE = ip4(198, 51, 100, 7);
const OUR_V4 = ip4(203, 86, 225, 1);
const ceAddr = memory.data(16, 16);
const brAddr = memory.data(16, 16);
const TXT: usize = memory.data(1024, 8);

const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const SYN_ACK = 0x12;

// ---- helpers -------------------------------------------------------------------

/** The JANOG CE with this filtering (0 EIF, 1 ADF, 2 APDF) and tunnel MTU; optional dns timeout. */
function configureCe(filtering: i32 = 2, mtu: i32 = 1500, dnsTimeout: i32 = 0): void {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix("2403:9200:1234::", 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE).setting(3, 2, mtu).setting(5, 1, filtering);
  if (dnsTimeout > 0) W.setting(9, 4, dnsTimeout);
  W.close(l);
  expect<i32>(W.configure()).toBe(0);
  expect<i32>(init(64, 1024, 7)).toBe(0);
  expect<i32>(start(0)).toBe(0);
  memory.copy(ceAddr, parseIPv6(CE_ADDR), 16);
  memory.copy(brAddr, parseIPv6(BR_ADDR), 16);
  countersReset();
}

/** Writes ASCII text at p; returns its length. */
function text(p: usize, s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u8>(p + <usize>i, <u8>s.charCodeAt(i));
  return s.length;
}

/** The n bytes at p as a string. */
function str(p: usize, n: i32): string {
  return String.UTF8.decodeUnsafe(p, <usize>n);
}

/** IPv4 + TCP with `payload` as its data (valid checksums) at buf. */
function tcpText(buf: usize, src: u32, dst: u32, sport: i32, dport: i32, flags: i32, seq: u32, ack: u32,
                 payload: string): i32 {
  const n = payload.length;
  const len = buildIpv4Tcp(buf, src, dst, sport, dport, flags, seq, ack, 0, n);
  const t = buf + IPV4_HEADER_LEN;
  text(t + TCP_HEADER_LEN, payload);
  setTcpChecksum(t, 0);
  setTcpChecksum(t, tcpComputeChecksum4(t, len - IPV4_HEADER_LEN, src, dst));
  return len;
}

/**
 * IPv4 + UDP whose payload starts with `first`: 0 is the non-ESP marker
 * (4 zero bytes, RFC 3948 §2.2), 0xff a NAT-keepalive byte (§2.3).
 */
function udpWith(buf: usize, src: u32, dst: u32, sport: i32, dport: i32, n: i32, first: i32): i32 {
  const len = buildIpv4Udp(buf, src, dst, sport, dport, n);
  const u = buf + IPV4_HEADER_LEN;
  if (first == 0xff) store<u8>(u + 8, 0xff);
  else store<u32>(u + 8, 0);
  setUdpChecksum(u, 0);
  setUdpChecksum(u, udpComputeChecksum4(u, len - IPV4_HEADER_LEN, src, dst));
  return len;
}

/** Runs the packet at PKT_A (len bytes) as input 0 at time `now`; returns the number of outputs. */
function run1(len: i32, now: f64 = 1000): i32 {
  copyBytes(inputPtr(0), PKT_A, len);
  store<i32>(inputLengths(), len);
  return process(1, now);
}
function out(j: i32): usize { return <usize>load<i32>(outputOffsets() + (<usize>j << 2)); }
function outLen(j: i32): i32 { return load<i32>(outputLengths() + (<usize>j << 2)); }

/** A TCP segment from the LAN; returns the inner IPv4 packet of the tunnel output (0 when none). */
function fromLan(src: u32, sport: i32, dport: i32, flags: i32, seq: u32, ack: u32, payload: string,
                 now: f64 = 1000): usize {
  const len = tcpText(PKT_A, src, REMOTE, sport, dport, flags, seq, ack, payload);
  if (run1(len, now) != 1) return 0;
  return out(0) + 40;
}

/** A TCP segment from REMOTE to our address through the BR; returns the IPv4 packet delivered to the LAN (0 when none). */
function fromWan(sport: i32, dport: i32, flags: i32, seq: u32, ack: u32, payload: string, now: f64 = 1000): usize {
  const inner = tcpText(PKT_A + 40, REMOTE, OUR_V4, sport, dport, flags, seq, ack, payload);
  const len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner);
  if (run1(len, now) != 1) return 0;
  return out(0);
}

/** The TCP payload of the IPv4 packet at p as a string. */
function payloadOf(p: usize): string {
  const t = p + IPV4_HEADER_LEN;
  const hl = (<i32>load<u8>(t, 12) >> 4) << 2;
  return str(t + <usize>hl, ipv4TotalLength(p) - IPV4_HEADER_LEN - hl);
}

/** Both checksums of the IPv4/TCP packet at p are right. */
function checksumsOk(p: usize): bool {
  return ipv4ComputeChecksum(p) == ipv4Checksum(p) &&
    tcpChecksumValid4(p + IPV4_HEADER_LEN, ipv4TotalLength(p) - IPV4_HEADER_LEN, ipv4Src(p), ipv4Dst(p));
}

/** The data port named by a rewritten "PORT 203,86,225,1,p1,p2" line. */
function portOfPortLine(s: string): i32 {
  const parts = s.substring(5, s.length - 2).split(",");
  return I32.parseInt(parts[4]) * 256 + I32.parseInt(parts[5]);
}

/** A control connection LAN_HOST:40000 → REMOTE:21 up to the server's greeting; returns the CE's ext port. */
function controlOpen(host: u32 = LAN_HOST): i32 {
  const syn = fromLan(host, 40000, 21, SYN, 1000, 0, "");
  expect<bool>(syn != 0).toBe(true);
  const ext = tcpSrcPort(syn + IPV4_HEADER_LEN);
  expect<usize>(fromWan(21, ext, SYN_ACK, 5000, 1001, "")).not.toBe(0);
  return ext;
}

// ---- parsing -----------------------------------------------------------------

describe("FTP ALG: parsing", () => {
  it("finds a PORT command, case-insensitively, with the span of its six numbers", () => {
    const n = text(TXT, "port 192,168,1,10,156,64\r\n");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_PORT);
    expect<u32>(ftpAddr).toBe(LAN_HOST);
    expect<i32>(ftpDataPort).toBe(40000);
    expect<string>(str(TXT + <usize>ftpSpanAt, ftpSpanLen)).toBe("192,168,1,10,156,64");
  });

  it("finds an EPRT command (RFC 2428) with any delimiter, the span from first to last delimiter", () => {
    const n = text(TXT, "EPRT !1!192.168.1.10!40000!\r\n");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_EPRT);
    expect<u32>(ftpAddr).toBe(LAN_HOST);
    expect<i32>(ftpDataPort).toBe(40000);
    expect<string>(str(TXT + <usize>ftpSpanAt, ftpSpanLen)).toBe("!1!192.168.1.10!40000!");
    expect<i32>(ftpText(FTP_EPRT, OUR_V4, 8756)).toBe(21);
    expect<string>(str(ftpTextPtr(), 21)).toBe("!1!203.86.225.1!8756!");
  });

  it("finds a PORT line after another command in the same segment", () => {
    const n = text(TXT, "TYPE I\r\nPORT 192,168,1,10,156,64\r\n");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_PORT);
    expect<i32>(ftpSpanAt).toBe(13);
  });

  it("calls malformed PORT and EPRT lines malformed", () => {
    const bad: string[] = [
      "PORT 192,168,1,10,156\r\n",          // five numbers
      "PORT 192,168,1,256,156,64\r\n",      // 256
      "PORT 192,168,1,10,156,64,1\r\n",     // seven
      "PORT 192,168,1,10,0,0\r\n",          // port 0
      "PORT192,168,1,10,156,64\r\n",        // no space
      "PORT 1922,168,1,10,156,64\r\n",      // four digits
      "EPRT |2|::1|40000|\r\n",             // IPv6 on a NAPT44 control connection
      "EPRT |1|192.168.1|40000|\r\n",       // three parts
      "EPRT |1|192.168.1.10|70000|\r\n",    // port > 65535
      "EPRT |1|192.168.1.10|40000\r\n",     // no closing delimiter
      "EPRT 1192.168.1.10140000|\r\n",      // a digit as delimiter
    ];
    for (let i = 0; i < bad.length; i++) {
      const n = text(TXT, bad[i]);
      expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_MALFORMED, bad[i]);
    }
  });

  it("calls a command cut by the end of the segment split, and nothing else", () => {
    let n = text(TXT, "PORT 192,168,1,10,15");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_SPLIT);
    n = text(TXT, "NOOP\r\nPO");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_SPLIT);
    n = text(TXT, "NOOP\r\nLIS");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_NONE);
    n = text(TXT, "PASV\r\n");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_NONE);
    n = text(TXT, "227 Entering Passive Mode (192,168,1,12,195,80)\r\n");
    expect<i32>(ftpParse(TXT, n, true)).toBe(FTP_NONE); // a client does not send replies
  });

  it("finds the six numbers of a 227 reply after its first digit (RFC 1123 §4.1.2.6)", () => {
    const n = text(TXT, "227 Entering Passive Mode (192,168,1,12,195,80).\r\n");
    expect<i32>(ftpParse(TXT, n, false)).toBe(FTP_227);
    expect<u32>(ftpAddr).toBe(LAN_SRV);
    expect<i32>(ftpDataPort).toBe(50000);
    expect<string>(str(TXT + <usize>ftpSpanAt, ftpSpanLen)).toBe("192,168,1,12,195,80");
    expect<i32>(ftpParse(TXT, text(TXT, "PORT 192,168,1,10,156,64\r\n"), false)).toBe(FTP_NONE);
  });
});

// ---- through the CE ----------------------------------------------------------------

describe("FTP ALG: PORT and EPRT through the CE", () => {
  it("rewrites PORT to our address and a port of the set, and the server's data connection gets in (APDF)", () => {
    configureCe(2);
    const ext = controlOpen();
    const cmd = "PORT 192,168,1,10,156,66\r\n";
    const o = fromLan(LAN_HOST, 40000, 21, PSH_ACK, 1001, 5001, cmd);
    expect<bool>(o != 0).toBe(true);
    const line = payloadOf(o);
    expect<bool>(line.startsWith("PORT 203,86,225,1,")).toBe(true, line);
    expect<bool>(line.endsWith("\r\n")).toBe(true);
    const data = portOfPortLine(line);
    expect<i32>(isOwnPort(data)).toBe(1);
    expect<bool>(checksumsOk(o)).toBe(true);
    expect<i32>(ipv4TotalLength(o)).toBe(40 + line.length);
    expect<u32>(tcpSeq(o + IPV4_HEADER_LEN)).toBe(1001); // the rewritten segment starts where it did
    expect<u64>(counterPackets(C_FTP_ALG_REWRITTEN)).toBe(1);
    // The server connects from port 20 to the data port: admitted (the placeholder), to the LAN host's port.
    const d = fromWan(20, data, SYN, 7000, 0, "");
    expect<bool>(d != 0).toBe(true);
    expect<u32>(ipv4Dst(d)).toBe(LAN_HOST);
    expect<i32>(tcpDstPort(d + IPV4_HEADER_LEN)).toBe(40002);
    // The placeholder admits one connection: another remote port of the server is filtered again.
    expect<usize>(fromWan(2020, data, SYN, 7100, 0, "")).toBe(0);
    expect<u64>(counterPackets(D_NAT_FILTERED)).toBe(1);
    // And the control connection's port is untouched.
    expect<i32>(ext).not.toBe(data);
  });

  it("rewrites EPRT keeping its delimiter", () => {
    configureCe(2);
    controlOpen();
    const o = fromLan(LAN_HOST, 40000, 21, PSH_ACK, 1001, 5001, "EPRT |1|192.168.1.10|40001|\r\n");
    const line = payloadOf(o);
    expect<bool>(line.startsWith("EPRT |1|203.86.225.1|")).toBe(true, line);
    const data = I32.parseInt(line.substring(21, line.length - 3));
    expect<i32>(isOwnPort(data)).toBe(1);
    expect<bool>(checksumsOk(o)).toBe(true);
    const d = fromWan(20, data, SYN, 7000, 0, "");
    expect<bool>(d != 0).toBe(true);
    expect<i32>(tcpDstPort(d + IPV4_HEADER_LEN)).toBe(40001);
  });

  it("moves later sequence numbers, acknowledgments and SACK edges by the change; a retransmission from before keeps the old offset", () => {
    configureCe(2);
    const ext = controlOpen(LAN_TEN);
    const cmd = "PORT 10,0,0,5,156,66\r\n"; // 22 bytes; "203,86,225,1" is 4 longer than "10,0,0,5"
    const o = fromLan(LAN_TEN, 40000, 21, PSH_ACK, 1001, 5001, cmd);
    const delta = payloadOf(o).length - cmd.length;
    expect<i32>(delta).toBe(4);
    expect<i32>(ftpContexts()).toBe(1);
    // The next segment: seq moves by delta.
    const o2 = fromLan(LAN_TEN, 40000, 21, PSH_ACK, 1001 + 22, 5001, "LIST\r\n");
    expect<u32>(tcpSeq(o2 + IPV4_HEADER_LEN)).toBe(1001 + 22 + delta);
    expect<bool>(checksumsOk(o2)).toBe(true);
    // A retransmission of a segment from before the rewrite: no offset.
    const o3 = fromLan(LAN_TEN, 40000, 21, PSH_ACK, 990, 5001, "TYPE I\r\n");
    expect<u32>(tcpSeq(o3 + IPV4_HEADER_LEN)).toBe(990);
    // The rewritten segment retransmitted: rewritten again, same start, the offset not counted twice.
    const o4 = fromLan(LAN_TEN, 40000, 21, PSH_ACK, 1001, 5001, cmd);
    expect<u32>(tcpSeq(o4 + IPV4_HEADER_LEN)).toBe(1001);
    expect<string>(payloadOf(o4)).toBe(payloadOf(o));
    const o5 = fromLan(LAN_TEN, 40000, 21, PSH_ACK, 1001 + 22 + 6, 5001, "QUIT\r\n");
    expect<u32>(tcpSeq(o5 + IPV4_HEADER_LEN)).toBe(1001 + 22 + 6 + delta);
    // The server's acknowledgment of everything: back by delta.
    const a = fromWan(21, ext, ACK, 5001, 1001 + 22 + 6 + delta, "");
    expect<u32>(tcpAck(a + IPV4_HEADER_LEN)).toBe(1001 + 22 + 6);
    expect<bool>(checksumsOk(a)).toBe(true);
    // An ack of the bytes before the PORT segment: unchanged.
    const a2 = fromWan(21, ext, ACK, 5001, 1001, "");
    expect<u32>(tcpAck(a2 + IPV4_HEADER_LEN)).toBe(1001);
    // SACK (RFC 2018): NOP NOP SACK(10) one block after the rewrite; its edges move back too.
    const inner = buildIpv4Tcp(PKT_A + 40, REMOTE, OUR_V4, 21, ext, ACK, 5001, 1001, 0, 0);
    const t = PKT_A + 40 + IPV4_HEADER_LEN;
    // Grow the header by 12 bytes of options.
    store<u8>(t, 1, 20); store<u8>(t, 1, 21); store<u8>(t, 5, 22); store<u8>(t, 10, 23);
    store<u32>(t + 24, bswap<u32>(<u32>(1001 + 22 + delta)));
    store<u32>(t + 28, bswap<u32>(<u32>(1001 + 22 + 6 + delta)));
    setTcpDataOffset(t, 32);
    buildIpv4Header(PKT_A + 40, REMOTE, OUR_V4, 6, 32);
    setTcpChecksum(t, 0);
    setTcpChecksum(t, tcpComputeChecksum4(t, 32, REMOTE, OUR_V4));
    expect<i32>(inner).toBe(40);
    const len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, 52);
    expect<i32>(run1(len)).toBe(1);
    const s = out(0);
    const st = s + IPV4_HEADER_LEN;
    expect<u32>(bswap<u32>(load<u32>(st + 24))).toBe(1001 + 22);
    expect<u32>(bswap<u32>(load<u32>(st + 28))).toBe(1001 + 22 + 6);
    expect<bool>(checksumsOk(s)).toBe(true);
  });

  it("a new connection (SYN) on the same tuple forgets the offset", () => {
    configureCe(2);
    controlOpen(LAN_TEN);
    fromLan(LAN_TEN, 40000, 21, PSH_ACK, 1001, 5001, "PORT 10,0,0,5,156,66\r\n");
    expect<i32>(ftpContexts()).toBe(1);
    fromLan(LAN_TEN, 40000, 21, SYN, 900000, 0, "");
    expect<i32>(ftpContexts()).toBe(0);
    const o = fromLan(LAN_TEN, 40000, 21, ACK, 900001, 5001, "");
    expect<u32>(tcpSeq(o + IPV4_HEADER_LEN)).toBe(900001);
  });

  it("passes a split command, a malformed one and another host's address unchanged, counted", () => {
    configureCe(2);
    controlOpen();
    let o = fromLan(LAN_HOST, 40000, 21, PSH_ACK, 1001, 5001, "PORT 192,168,1,10,1");
    expect<string>(payloadOf(o)).toBe("PORT 192,168,1,10,1");
    expect<u64>(counterPackets(C_FTP_ALG_SPLIT)).toBe(1);
    o = fromLan(LAN_HOST, 40000, 21, PSH_ACK, 1020, 5001, "PORT 192,168,1,10,999,1\r\n");
    expect<string>(payloadOf(o)).toBe("PORT 192,168,1,10,999,1\r\n");
    expect<u64>(counterPackets(C_FTP_ALG_MALFORMED)).toBe(1);
    o = fromLan(LAN_HOST, 40000, 21, PSH_ACK, 1045, 5001, "PORT 192,168,1,99,156,64\r\n");
    expect<string>(payloadOf(o)).toBe("PORT 192,168,1,99,156,64\r\n");
    expect<u64>(counterPackets(C_FTP_ALG_OTHER_ADDRESS)).toBe(1);
    expect<u64>(counterPackets(C_FTP_ALG_REWRITTEN)).toBe(0);
    expect<i32>(ftpContexts()).toBe(0);
    expect<bool>(checksumsOk(o)).toBe(true);
  });

  it("refuses to grow a segment past 536 bytes of payload or the tunnel MTU (drop-ftp-alg-no-room)", () => {
    configureCe(2);
    controlOpen(LAN_TEN);
    // 600 bytes of NOOPs, then a PORT line that grows ("10,0,0,5" → "203,86,225,1").
    let big = "";
    for (let i = 0; i < 100; i++) big += "NOOP\r\n";
    big += "PORT 10,0,0,5,156,66\r\n";
    const len = tcpText(PKT_A, LAN_TEN, REMOTE, 40000, 21, PSH_ACK, 1001, 5001, big);
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_FTP_ALG_NO_ROOM)).toBe(1);
  });

  it("grows a segment that stays under 536 bytes of payload and the tunnel MTU", () => {
    configureCe(2, 1280);
    controlOpen(LAN_TEN);
    // 500 bytes of payload (under 536) in a packet that just fits the 1280-byte tunnel.
    let pad = "";
    for (let i = 0; i < 79; i++) pad += "NOOP\r\n";
    pad += "PORT 10,0,0,5,156,66\r\n";
    expect<i32>(pad.length).toBe(496);
    // 536 bytes of IPv4 (496 of payload) grow to 540: under the 536-byte payload rule and the
    // 1280-byte tunnel (the MTU check is what a lower tunnel MTU would meet; 1280 is the floor).
    const len = tcpText(PKT_A, LAN_TEN, REMOTE, 40000, 21, PSH_ACK, 1001, 5001, pad);
    expect<i32>(run1(len)).toBe(1);
    expect<i32>(outLen(0)).toBe(len + 40 + 4);
  });

  it("the tailroom of a slot is what is left of it after the packet", () => {
    configureCe(2);
    const p = slotPtr(3) + HEADROOM;
    expect<i32>(slotTailroom(p, 100)).toBe(SLOT_SIZE - HEADROOM - 100);
    expect<i32>(slotTailroom(p, SLOT_SIZE - HEADROOM)).toBe(0);
    expect<i32>(slotTailroom(PKT_A, 100)).toBe(0); // not in a slot
  });

  it("is off with LOCAL 24 = 0", () => {
    W.reset();
    const c = W.open(94);
    const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
    W.portParams(4, 12, 0).close(r);
    W.br(BR_ADDR).close(c);
    W.iaPrefix("2403:9200:1234::", 48);
    const l = W.localOpen();
    W.setting(1, 1, MODE_CE).setting(24, 1, 0);
    W.close(l);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(init(64, 1024, 7)).toBe(0);
    expect<i32>(start(0)).toBe(0);
    countersReset();
    controlOpen();
    const o = fromLan(LAN_HOST, 40000, 21, PSH_ACK, 1001, 5001, "PORT 192,168,1,10,156,64\r\n");
    expect<string>(payloadOf(o)).toBe("PORT 192,168,1,10,156,64\r\n");
  });
});

describe("FTP ALG: 227 from a LAN server", () => {
  it("rewrites the passive address of a server reached through a mapping, and lets the client's data connection in", () => {
    configureCe(2);
    // A mapping to the LAN server's port 21 (what a static forward gives), made here by hand.
    const ctl = natExpect(NAT_TCP, LAN_SRV, 21, REMOTE, 1000);
    expect<i32>(isOwnPort(ctl)).toBe(1);
    const syn = fromWan(33000, ctl, SYN, 100, 0, "");
    expect<bool>(syn != 0).toBe(true);
    expect<u32>(ipv4Dst(syn)).toBe(LAN_SRV);
    expect<i32>(tcpDstPort(syn + IPV4_HEADER_LEN)).toBe(21);
    const sa = fromLan(LAN_SRV, 21, 33000, SYN_ACK, 9000, 101, "");
    expect<bool>(sa != 0).toBe(true);
    const reply = "227 Entering Passive Mode (192,168,1,12,195,80).\r\n";
    const o = fromLan(LAN_SRV, 21, 33000, PSH_ACK, 9001, 101, reply);
    const line = payloadOf(o);
    expect<bool>(line.startsWith("227 Entering Passive Mode (203,86,225,1,")).toBe(true, line);
    expect<bool>(checksumsOk(o)).toBe(true);
    const inner = line.substring(27, line.indexOf(")"));
    const parts = inner.split(",");
    const data = I32.parseInt(parts[4]) * 256 + I32.parseInt(parts[5]);
    expect<i32>(isOwnPort(data)).toBe(1);
    // The client connects from any port of its own.
    const d = fromWan(33001, data, SYN, 200, 0, "");
    expect<bool>(d != 0).toBe(true);
    expect<u32>(ipv4Dst(d)).toBe(LAN_SRV);
    expect<i32>(tcpDstPort(d + IPV4_HEADER_LEN)).toBe(50000);
    // The client's ack of the reply moves back.
    const delta = line.length - reply.length;
    const a = fromWan(33000, ctl, ACK, 101, 9001 + <u32>line.length, "");
    expect<u32>(tcpAck(a + IPV4_HEADER_LEN)).toBe(9001 + <u32>reply.length);
    expect<i32>(delta).toBe(0 + delta);
  });
});

// ---- IPsec ------------------------------------------------------------------

describe("IPsec on a shared address", () => {
  it("drops plain ESP and AH from the LAN and from the WAN with their own counters", () => {
    configureCe(2);
    let len = buildIpv4Header(PKT_A, LAN_HOST, REMOTE, 50, 32) + 32;
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_ESP)).toBe(1);
    len = buildIpv4Header(PKT_A, LAN_HOST, REMOTE, 51, 32) + 32;
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_AH)).toBe(1);
    const inner = buildIpv4Header(PKT_A + 40, REMOTE, OUR_V4, 50, 32) + 32;
    len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner);
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_ESP)).toBe(2);
  });

  it("the BR drops plain ESP from the internet with drop-ipv4-esp", () => {
    expect<i32>(setupBr()).toBe(0);
    countersReset();
    const len = buildIpv4Header(input(0), REMOTE, OUR_V4, 50, 32) + 32;
    setLen(0, len);
    expect<i32>(run(1)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_ESP)).toBe(1);
  });

  it("carries IKE (UDP 500, then 4500 with the non-ESP marker), ESP-in-UDP and keepalives both ways, one mapping, past 20 s gaps", () => {
    // ADF-free EIM check: endpoint-independent filtering too, and a 1 s DNS timeout that must not apply.
    configureCe(0, 1500, 1);
    expect<i32>(natTimeout(NAT_CLASS_UDP)).toBeGreaterThanOrEqual(120);
    let t: f64 = 1000;
    // IKE_SA_INIT on 500.
    let len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 500, 500, 300);
    expect<i32>(run1(len, t)).toBe(1);
    const ext500 = udpSrcPort(out(0) + 60);
    expect<i32>(isOwnPort(ext500)).toBe(1);
    // The responder's answer.
    let inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, 500, ext500, 300);
    len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner);
    expect<i32>(run1(len, t)).toBe(1);
    expect<i32>(udpDstPort(out(0) + 20)).toBe(500);
    // Then 4500: non-ESP marker (4 zero bytes) + IKE, from the LAN.
    len = udpWith(PKT_A, LAN_HOST, REMOTE, 4500, 4500, 200, 0);
    expect<i32>(run1(len, t)).toBe(1);
    const ext = udpSrcPort(out(0) + 60);
    expect<i32>(isOwnPort(ext)).toBe(1);
    const s = natFindSession(NAT_UDP, LAN_HOST, 4500, REMOTE, 4500);
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_UDP);
    // Keepalives (one 0xFF byte, RFC 3948 §2.3) every 20 s, and ESP-in-UDP from the far end between them.
    for (let k = 0; k < 10; k++) {
      t += 20000;
      len = udpWith(PKT_A, LAN_HOST, REMOTE, 4500, 4500, 1, 0xff);
      expect<i32>(run1(len, t)).toBe(1);
      expect<i32>(udpSrcPort(out(0) + 60)).toBe(ext); // the same mapping (EIM)
      inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, 4500, ext, 120); // ESP in UDP (SPI != 0)
      len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner);
      expect<i32>(run1(len, t + 5000)).toBe(1);
      expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
      expect<i32>(udpDstPort(out(0) + 20)).toBe(4500);
    }
    // After a 250 s silence (longer than the DNS class, shorter than the UDP one) the far end still gets in.
    t += 250000;
    inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, 4500, ext, 1);
    len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner);
    expect<i32>(run1(len, t)).toBe(1);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(12);
    expect<u64>(counterPackets(C_FWD_TO_IPV6)).toBe(12);
  });
});
