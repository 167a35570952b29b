// The CE data path stage by stage, through the same exports the host uses
// (init / start / process over the slots). Packets come from the builders;
// the configuration is the JANOG interop rule in CE mode.
import { W, MODE_CE, ipv4, parseIPv6 } from "./map_helpers";
import {
  PKT_A, PKT_B, ip4, buildIpv4Udp, buildIpv4Tcp, buildIpv4InIpv6, buildIpv4IcmpEcho, buildIpv4IcmpError,
  buildIpv6IcmpError, copyBytes,
} from "./builders";
import { fragmentOf } from "./br_helpers";
import { init, start, process, inputPtr, inputLengths, outputOffsets, outputLengths } from "../../assembly/datapath/process";
import { counterPackets, countersReset,
  C_FWD_TO_IPV6, C_FWD_TO_IPV4, C_ICMP_GENERATED,
  D_SECURITY_IPV4_DST, D_SECURITY_PORT, D_SECURITY_IPV6_DST, D_SECURITY_IPV6_SRC, D_SECURITY_IPV6_SRC_UNKNOWN,
  D_IPV6_NOT_FOR_US, D_IPV4_TTL_EXPIRED, D_IPV4_DF_TOO_BIG, D_IPV4_BAD_CHECKSUM, D_NAT_NO_MAPPING,
  D_NAT_FILTERED, D_NAT_TABLE_FULL, C_MESH, C_HELD, C_ICMP_RATE_LIMITED, C_HAIRPIN, C_OUT_IPV6,
  D_SECURITY_PORT as D_PORT, D_ICMPV6_UNSUPPORTED, D_IPV4_MARTIAN, D_ICMP_REDIRECT, D_ICMP_SOURCE_QUENCH,
  D_ICMP_FILTERED, D_ICMPV6_UNTRUSTED_SOURCE, D_ICMPV6_QUOTE_ENDPOINT, D_ICMPV6_QUOTE_NOT_OURS,
  C_ICMP_MTU_FLOOR, C_PTB_RECEIVED, C_FWD_TO_IPV4 as C_TO_LAN, D_IPV4_BAD_L4,
} from "../../assembly/datapath/counters";
import { ICMP_PER_SECOND, ICMP_PER_HOST, ICMP4_MTU_FLOOR } from "../../assembly/datapath/icmp";
import { ipv4Src, ipv4Dst, ipv4Ttl, ipv4ComputeChecksum, ipv4Checksum, ipv4TotalLength, setIpv4Ttl,
  ipv4FillChecksum, setIpv4Checksum, IP_PROTO_IPIP, IP_PROTO_ICMP, ipv4Protocol, ipv4Check, IPV4_OK,
  setIpv4Fragment,
} from "../../assembly/wire/ipv4";
import { ipv6Src, ipv6Dst, ipv6NextHeader, ipv6HopLimit, ipv6AddrEqual, ipv6PayloadLength } from "../../assembly/wire/ipv6";
import { udpSrcPort, udpDstPort, udpChecksumValid4 } from "../../assembly/wire/udp";
import { tcpFindMss, tcpChecksum, setTcpDataOffset } from "../../assembly/wire/tcp";
import { icmp4Type, icmp4Code, icmp4Mtu, icmp4Check, ICMP4_OK } from "../../assembly/wire/icmp4";
import { isOwnPort } from "../../assembly/map/api";

const CE_ADDR = "2403:9200:1234::cb56:e101:234";
const BR_ADDR = "2403:9200:fff0::2";
const LAN_HOST = ip4(192, 168, 1, 10);
const LAN_C = ip4(192, 168, 1, 12);
const REMOTE = ip4(198, 51, 100, 7);
const OUR_V4 = ip4(203, 86, 225, 1);
const ceAddr = memory.data(16, 16);
const brAddr = memory.data(16, 16);
const other6 = memory.data(16, 16);

/**
 * The JANOG CE; `flags` 1 makes its rule a forwarding rule too (F flag: mesh
 * peers); `filtering` (RFC 4787 REQ-8: 0 EIF, 1 ADF, 2 APDF), −1 the default.
 */
function configureCe(mtu: i32 = 1500, flags: i32 = 0, filtering: i32 = -1): void {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(flags, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix("2403:9200:1234::", 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE).setting(3, 2, mtu);
  if (filtering >= 0) W.setting(5, 1, filtering);
  W.close(l);
  expect<i32>(W.configure()).toBe(0);
  expect<i32>(init(64, 1024, 7)).toBe(0);
  expect<i32>(start(0)).toBe(0);
  memory.copy(ceAddr, parseIPv6(CE_ADDR), 16);
  memory.copy(brAddr, parseIPv6(BR_ADDR), 16);
  countersReset();
}

/** Puts the packet at PKT_A (len bytes) into input 0 and runs one batch. */
function run1(len: i32, now: f64 = 1000): i32 {
  copyBytes(inputPtr(0), PKT_A, len);
  store<i32>(inputLengths(), len);
  return process(1, now);
}
function out(j: i32): usize { return <usize>load<i32>(outputOffsets() + (<usize>j << 2)); }
function outLen(j: i32): i32 { return load<i32>(outputLengths() + (<usize>j << 2)); }

/** An IPv4-in-IPv6 packet from `src6` to `dst6` carrying a UDP packet. */
function wanUdp(src6: usize, dst6: usize, src: u32, dst: u32, sport: i32, dport: i32): i32 {
  const inner = buildIpv4Udp(PKT_A + 40, src, dst, sport, dport, 16);
  return buildIpv4InIpv6(PKT_A, src6, dst6, inner);
}

describe("CE: LAN to WAN", () => {
  it("encapsulates a UDP packet to the BR with the source NAPTed into the port set", () => {
    configureCe();
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
    expect<i32>(run1(len)).toBe(1);
    const o = out(0);
    expect<i32>(outLen(0)).toBe(len + 40);
    expect<i32>(ipv6NextHeader(o)).toBe(IP_PROTO_IPIP);
    expect<i32>(ipv6HopLimit(o)).toBe(64);
    expect<bool>(ipv6AddrEqual(ipv6Src(o), ceAddr)).toBe(true);
    expect<bool>(ipv6AddrEqual(ipv6Dst(o), brAddr)).toBe(true);
    const p = o + 40;
    expect<u32>(ipv4Src(p)).toBe(OUR_V4);
    expect<u32>(ipv4Dst(p)).toBe(REMOTE);
    expect<i32>(ipv4Ttl(p)).toBe(63);
    expect<u16>(ipv4ComputeChecksum(p)).toBe(ipv4Checksum(p));
    expect<i32>(udpSrcPort(p + 20)).toBe(4660); // in the set and free: kept
    expect<bool>(udpChecksumValid4(p + 20, len - 20, ipv4Src(p), ipv4Dst(p))).toBe(true);
    expect<u64>(counterPackets(C_FWD_TO_IPV6)).toBe(1);
  });

  it("moves a source port outside the set into it", () => {
    configureCe();
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 40000, 53, 20);
    expect<i32>(run1(len)).toBe(1);
    const sport = udpSrcPort(out(0) + 60);
    expect<i32>(isOwnPort(sport)).toBe(1);
  });

  it("clamps the MSS of a SYN to the tunnel MTU", () => {
    configureCe();
    const len = buildIpv4Tcp(PKT_A, LAN_HOST, REMOTE, 4660, 80, 0x02, 1000, 0, 1460, 0);
    expect<i32>(run1(len)).toBe(1);
    const tcp = out(0) + 60;
    const at = tcpFindMss(tcp);
    expect<i32>(at).toBeGreaterThan(0);
    expect<i32>(<i32>bswap<u16>(load<u16>(tcp + <usize>at))).toBe(1420);
  });

  it("answers TTL 1 with ICMPv4 time exceeded and drops the packet", () => {
    configureCe();
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
    setIpv4Ttl(PKT_A, 1);
    ipv4FillChecksum(PKT_A);
    expect<i32>(run1(len)).toBe(1);
    const o = out(0);
    expect<i32>(ipv4Protocol(o)).toBe(IP_PROTO_ICMP);
    expect<u32>(ipv4Dst(o)).toBe(LAN_HOST);
    expect<i32>(icmp4Type(o + 20)).toBe(11);
    expect<u64>(counterPackets(D_IPV4_TTL_EXPIRED)).toBe(1);
    expect<u64>(counterPackets(C_ICMP_GENERATED)).toBe(1);
  });

  it("answers a DF packet too big for the tunnel with fragmentation needed (MTU − 40)", () => {
    configureCe(1280);
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 9, 1300);
    expect<i32>(run1(len)).toBe(1);
    const o = out(0);
    expect<i32>(icmp4Type(o + 20)).toBe(3);
    expect<i32>(icmp4Code(o + 20)).toBe(4);
    expect<i32>(icmp4Mtu(o + 20)).toBe(1240);
    expect<u64>(counterPackets(D_IPV4_DF_TOO_BIG)).toBe(1);
  });

  it("refuses an outbound TCP RST that would need a new mapping as drop-nat-filtered", () => {
    configureCe();
    const len = buildIpv4Tcp(PKT_A, LAN_HOST, REMOTE, 4660, 80, 0x04);
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_NAT_FILTERED)).toBe(1);
    expect<u64>(counterPackets(D_NAT_TABLE_FULL)).toBe(0);
  });

  it("sends no time exceeded about an ICMP error (RFC 1812 §4.3.2.7)", () => {
    configureCe();
    const q = buildIpv4Udp(PKT_B, REMOTE, LAN_HOST, 53, 4660, 20);
    const len = buildIpv4IcmpError(PKT_A, LAN_HOST, REMOTE, 3, 3, 0, PKT_B, q);
    setIpv4Ttl(PKT_A, 1);
    ipv4FillChecksum(PKT_A);
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_TTL_EXPIRED)).toBe(1);
    expect<u64>(counterPackets(C_ICMP_GENERATED)).toBe(0);
    expect<u64>(counterPackets(C_ICMP_RATE_LIMITED)).toBe(0);
  });

  it("rate-limits per kind and per host: one host's TTL-1 burst leaves another host's fragmentation needed alone", () => {
    configureCe();
    expect<i32>(ICMP_PER_SECOND).toBe(200);
    expect<i32>(ICMP_PER_HOST).toBe(50);
    // A clock of its own: the limiter is per module, not reset by init.
    const t0: f64 = 500000;
    let made = 0;
    for (let i = 0; i < ICMP_PER_SECOND + 5; i++) {
      const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
      setIpv4Ttl(PKT_A, 1);
      ipv4FillChecksum(PKT_A);
      made += run1(len, t0 + <f64>(i >> 5)); // a monotonic clock (backward steps do not count)
    }
    // One host gets its share of one kind, no more.
    expect<i32>(made).toBe(ICMP_PER_HOST);
    expect<u64>(counterPackets(C_ICMP_GENERATED)).toBe(<u64>ICMP_PER_HOST);
    expect<u64>(counterPackets(C_ICMP_RATE_LIMITED)).toBe(<u64>(ICMP_PER_SECOND + 5 - ICMP_PER_HOST));
    expect<u64>(counterPackets(D_IPV4_TTL_EXPIRED)).toBe(<u64>(ICMP_PER_SECOND + 5));
    // Another host's Fragmentation Needed in the same second: its PMTU discovery still works.
    const big = buildIpv4Udp(PKT_A, LAN_C, REMOTE, 4662, 9, 1500);
    expect<i32>(run1(big, t0 + 999)).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_C);
    expect<i32>(icmp4Type(out(0) + 20)).toBe(3);
    expect<i32>(icmp4Code(out(0) + 20)).toBe(4);
    expect<u64>(counterPackets(D_IPV4_DF_TOO_BIG)).toBe(1);
    // So does the bursting host's own: another kind.
    const big2 = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 9, 1500);
    expect<i32>(run1(big2, t0 + 999)).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
    // And another host's time exceeded: its own bucket of the kind.
    const ttl = buildIpv4Udp(PKT_A, LAN_C, REMOTE, 4662, 53, 20);
    setIpv4Ttl(PKT_A, 1);
    ipv4FillChecksum(PKT_A);
    expect<i32>(run1(ttl, t0 + 999)).toBe(1);
    expect<i32>(icmp4Type(out(0) + 20)).toBe(11);
    // The next second has a fresh allowance.
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
    setIpv4Ttl(PKT_A, 1);
    ipv4FillChecksum(PKT_A);
    expect<i32>(run1(len, t0 + 1000)).toBe(1);
    expect<i32>(icmp4Type(out(0) + 20)).toBe(11);
    expect<u64>(counterPackets(C_ICMP_RATE_LIMITED)).toBe(<u64>(ICMP_PER_SECOND + 5 - ICMP_PER_HOST));
  });

  it("caps one kind at ICMP_PER_SECOND across hosts", () => {
    configureCe();
    const t0: f64 = 700000;
    let made = 0;
    for (let h = 0; h < 8; h++) {
      for (let i = 0; i < ICMP_PER_HOST; i++) {
        const len = buildIpv4Udp(PKT_A, ip4(192, 168, 1, 100 + h * 17), REMOTE, 4660, 53, 20);
        setIpv4Ttl(PKT_A, 1);
        ipv4FillChecksum(PKT_A);
        made += run1(len, t0);
      }
    }
    expect<i32>(made).toBeLessThanOrEqual(ICMP_PER_SECOND);
    expect<u64>(counterPackets(C_ICMP_GENERATED) + counterPackets(C_ICMP_RATE_LIMITED)).toBe(<u64>(8 * ICMP_PER_HOST));
  });

  it("clamps the MSS only within the packet: a short first fragment's options past its end are left alone", () => {
    // A SYN cut after 24 TCP bytes (four NOPs), Data Offset 60: the rest of
    // the options is in the next fragment. The slot holds stale bytes after
    // the packet; once they look like an MSS option, once not. The clamp
    // must read neither: both outputs are the same.
    let sum0: u16 = 0;
    for (let round = 0; round < 2; round++) {
      configureCe();
      const len = buildIpv4Tcp(PKT_A, LAN_HOST, REMOTE, 4660, 80, 0x02, 1000, 0, 0, 4);
      expect<i32>(len).toBe(44);
      const t = PKT_A + 20;
      store<u32>(t + 20, 0x01010101); // four NOPs
      setTcpDataOffset(t, 60);
      setIpv4Fragment(PKT_A, false, true, 0);
      ipv4FillChecksum(PKT_A);
      copyBytes(inputPtr(0), PKT_A, len);
      // Stale bytes: MSS 9000, or zeros (End of option list).
      store<u32>(inputPtr(0) + <usize>len, round == 0 ? bswap<u32>(0x02042328) : 0);
      store<i32>(inputLengths(), len);
      expect<i32>(process(1, 1000)).toBe(1);
      const o = out(0) + 60;
      expect<i32>(outLen(0)).toBe(len + 40);
      if (round == 0) sum0 = tcpChecksum(o);
      else expect<u16>(tcpChecksum(o)).toBe(sum0);
      expect<u32>(load<u32>(inputPtr(0) + <usize>len)).toBe(round == 0 ? bswap<u32>(0x02042328) : 0);
    }
  });

  it("drops a bad header checksum under its own name", () => {
    configureCe();
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
    setIpv4Checksum(PKT_A, ipv4Checksum(PKT_A) ^ 0x10);
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_BAD_CHECKSUM)).toBe(1);
  });
});

describe("CE: WAN to LAN", () => {
  it("decapsulates a reply and de-NAPTs it to the LAN host", () => {
    configureCe();
    run1(buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20));
    const len = wanUdp(brAddr, ceAddr, REMOTE, OUR_V4, 53, 4660);
    expect<i32>(run1(len, 1100)).toBe(1);
    const p = out(0);
    expect<i32>(outLen(0)).toBe(len - 40);
    expect<u32>(ipv4Dst(p)).toBe(LAN_HOST);
    expect<i32>(udpDstPort(p + 20)).toBe(4660);
    expect<bool>(udpChecksumValid4(p + 20, ipv4TotalLength(p) - 20, ipv4Src(p), ipv4Dst(p))).toBe(true);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(1);
  });

  it("drops what no mapping covers", () => {
    configureCe();
    expect<i32>(run1(wanUdp(brAddr, ceAddr, REMOTE, OUR_V4, 53, 8756))).toBe(0);
    expect<u64>(counterPackets(D_NAT_NO_MAPPING)).toBe(1);
  });

  it("applies each security check of RFC 7597 §8.1 under its own counter", () => {
    configureCe();
    run1(buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20));
    // inner destination not our address
    run1(wanUdp(brAddr, ceAddr, REMOTE, ip4(203, 86, 225, 2), 53, 4660));
    expect<u64>(counterPackets(D_SECURITY_IPV4_DST)).toBe(1);
    // destination port outside our port set
    run1(wanUdp(brAddr, ceAddr, REMOTE, OUR_V4, 53, 4661));
    expect<u64>(counterPackets(D_SECURITY_PORT)).toBe(1);
    // outer destination not our MAP address
    memory.copy(other6, ceAddr, 16);
    store<u8>(other6 + 15, 0x35);
    run1(wanUdp(brAddr, other6, REMOTE, OUR_V4, 53, 4660));
    expect<u64>(counterPackets(D_SECURITY_IPV6_DST)).toBe(1);
    // outer source covered by no rule and not the BR
    memory.copy(other6, parseIPv6("2001:db8::1"), 16);
    run1(wanUdp(other6, ceAddr, REMOTE, OUR_V4, 53, 4660));
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC_UNKNOWN)).toBe(1);
    // multicast (an MLD report, say) is not for us
    memory.copy(other6, parseIPv6("ff02::16"), 16);
    run1(wanUdp(brAddr, other6, REMOTE, OUR_V4, 53, 4660));
    expect<u64>(counterPackets(D_IPV6_NOT_FOR_US)).toBe(1);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(0);
  });

  it("never grows memory", () => {
    expect<i32>(memory.size()).toBe(128);
  });
});

// RFC 7597 §8.1 for packets without a usable port, in mesh mode: the JANOG
// rule with the F flag, so every CE of 2403:9200::/32 is a peer. The peer
// holds 203.86.225.2 with PSID 0x345 (ports 4933, 9029, …); WRONG_PEER is
// another CE of the rule (203.86.225.3); NOT_A_CE is inside the rule prefix
// with the peer's EA bits but not its interface id.
const PEER_V4 = ip4(203, 86, 225, 2);
const PEER_PORT = 4933;
const PEER6 = "2403:9200:2345::cb56:e102:345";
const WRONG_PEER6 = "2403:9200:3456::cb56:e103:456";
const NOT_A_CE6 = "2403:9200:2345::1";
const peer6 = memory.data(16, 16);

/** The LAN host's UDP 4660 → peer:4933, straight to the peer (mesh). */
function meshFlow(): void {
  configureCe(1500, 1);
  memory.copy(peer6, parseIPv6(PEER6), 16);
  expect<i32>(run1(buildIpv4Udp(PKT_A, LAN_HOST, PEER_V4, 4660, PEER_PORT, 20))).toBe(1);
  expect<bool>(ipv6AddrEqual(ipv6Dst(out(0)), peer6)).toBe(true);
  expect<u64>(counterPackets(C_MESH)).toBe(1);
  // The peer's reply (72 bytes of UDP), cut into [0, 40) and [40, 72), in PKT_B.
  buildIpv4Udp(PKT_B, PEER_V4, OUR_V4, PEER_PORT, 4660, 64);
}

/** The fragment [off, off + n) of the reply in PKT_B, tunnelled from `src6`, at PKT_A. */
function wanFragment(src6: string, off: i32, n: i32, id: i32 = 0): i32 {
  const flen = fragmentOf(PKT_A + 40, PKT_B, off, n);
  if (id != 0) {
    store<u16>(PKT_A + 44, bswap<u16>(<u16>id));
    ipv4FillChecksum(PKT_A + 40);
  }
  memory.copy(other6, parseIPv6(src6), 16);
  return buildIpv4InIpv6(PKT_A, other6, ceAddr, flen);
}

/** A port unreachable the peer sends about our packet 4660 → peer:4933, tunnelled from `src6`. */
function wanPortUnreachable(src6: string): i32 {
  const q = buildIpv4Udp(PKT_B + 256, OUR_V4, PEER_V4, 4660, PEER_PORT, 20);
  const ilen = buildIpv4IcmpError(PKT_A + 40, PEER_V4, OUR_V4, 3, 3, 0, PKT_B + 256, q);
  memory.copy(other6, parseIPv6(src6), 16);
  return buildIpv4InIpv6(PKT_A, other6, ceAddr, ilen);
}

describe("CE: source check without a port (RFC 7597 §8.1, mesh)", () => {
  it("a later inner fragment must come from the peer CE holding its source address", () => {
    meshFlow();
    expect<i32>(run1(wanFragment(PEER6, 0, 40))).toBe(1); // first fragment: full check with the port
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(1);
    // A CE of the rule that does not hold 203.86.225.2.
    expect<i32>(run1(wanFragment(WRONG_PEER6, 40, 32))).toBe(0);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC)).toBe(1);
    // Inside the rule prefix, the peer's EA bits, not its MAP address.
    expect<i32>(run1(wanFragment(NOT_A_CE6, 40, 32))).toBe(0);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC)).toBe(2);
    // The right peer.
    expect<i32>(run1(wanFragment(PEER6, 40, 32))).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(2);
    // From the BR: exempt.
    expect<i32>(run1(wanFragment(BR_ADDR, 40, 32))).toBe(1);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(3);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC_UNKNOWN)).toBe(0);
  });

  it("a later inner fragment before its first is checked the same way before it is held", () => {
    meshFlow();
    expect<i32>(run1(wanFragment(WRONG_PEER6, 40, 32, 77))).toBe(0);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC)).toBe(1);
    expect<u64>(counterPackets(C_HELD)).toBe(0);
    expect<i32>(run1(wanFragment(PEER6, 40, 32, 77))).toBe(0);
    expect<u64>(counterPackets(C_HELD)).toBe(1);
    // Its first fragment releases it: both reach the LAN host.
    expect<i32>(run1(wanFragment(PEER6, 0, 40, 77))).toBe(2);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
    expect<u32>(ipv4Dst(out(1))).toBe(LAN_HOST);
  });

  it("an ICMPv4 error from a peer CE must come from the peer holding its source address", () => {
    meshFlow();
    expect<i32>(run1(wanPortUnreachable(WRONG_PEER6))).toBe(0);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC)).toBe(1);
    expect<i32>(run1(wanPortUnreachable(NOT_A_CE6))).toBe(0);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC)).toBe(2);
    expect<i32>(run1(wanPortUnreachable(PEER6))).toBe(1);
    const p = out(0);
    expect<u32>(ipv4Dst(p)).toBe(LAN_HOST);
    expect<i32>(icmp4Type(p + 20)).toBe(3);
    expect<u32>(ipv4Src(p + 28)).toBe(LAN_HOST); // the quote, as the LAN host sent it
    // Through the BR an error may come from any router: exempt.
    expect<i32>(run1(wanPortUnreachable(BR_ADDR))).toBe(1);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(2);
  });
});

// RFC 5508 REQ-7 (through RFC 7597 §8.2): LAN host B refuses a packet that
// LAN host A hairpinned to it; the error goes back to A inside the CE.
const LAN_B = ip4(192, 168, 1, 11);

/** B (LAN_B:8756) makes its mapping; A (LAN_HOST:4660) sends to our address:8756, hairpinned to B. Returns B's port unreachable (at PKT_A). */
function hairpinnedError(): i32 {
  configureCe(1500, 0, 0); // endpoint-independent filtering: the hairpinned packet passes
  expect<i32>(run1(buildIpv4Udp(PKT_A, LAN_B, REMOTE, 8756, 53, 20))).toBe(1);
  expect<i32>(run1(buildIpv4Udp(PKT_A, LAN_HOST, OUR_V4, 4660, 8756, 20))).toBe(1);
  const atB = out(0);
  expect<u32>(ipv4Src(atB)).toBe(OUR_V4);
  expect<u32>(ipv4Dst(atB)).toBe(LAN_B);
  expect<i32>(udpSrcPort(atB + 20)).toBe(4660);
  const q = outLen(0);
  memory.copy(PKT_B + 256, atB, <usize>q);
  return buildIpv4IcmpError(PKT_A, LAN_B, OUR_V4, 3, 3, 0, PKT_B + 256, q);
}

describe("CE: hairpinned ICMP errors (RFC 5508 REQ-7)", () => {
  it("turns a LAN host's error about a hairpinned packet around to the sender, never toward the BR", () => {
    const len = hairpinnedError();
    expect<i32>(run1(len)).toBe(1);
    const p = out(0);
    expect<i32>(outLen(0)).toBe(len); // IPv4 to the LAN, not encapsulated
    expect<i32>(ipv4Check(p, len)).toBe(IPV4_OK);
    expect<u32>(ipv4Src(p)).toBe(OUR_V4); // B's external address
    expect<u32>(ipv4Dst(p)).toBe(LAN_HOST); // REQ-7a: the quote's source after translation
    expect<i32>(ipv4Ttl(p)).toBe(63);
    expect<i32>(icmp4Type(p + 20)).toBe(3);
    expect<i32>(icmp4Code(p + 20)).toBe(3);
    expect<i32>(icmp4Check(p + 20, len - 20)).toBe(ICMP4_OK);
    // The quote: what A sent (A:4660 → our address:8756), header and UDP checksums right.
    const q = p + 28;
    expect<i32>(ipv4Check(q, len - 28)).toBe(IPV4_OK);
    expect<u32>(ipv4Src(q)).toBe(LAN_HOST);
    expect<u32>(ipv4Dst(q)).toBe(OUR_V4);
    expect<i32>(udpSrcPort(q + 20)).toBe(4660);
    expect<i32>(udpDstPort(q + 20)).toBe(8756);
    expect<bool>(udpChecksumValid4(q + 20, ipv4TotalLength(q) - 20, ipv4Src(q), ipv4Dst(q))).toBe(true);
    expect<u64>(counterPackets(C_HAIRPIN)).toBe(2);
    expect<u64>(counterPackets(C_OUT_IPV6)).toBe(1); // B's first packet only
  });

  it("drops a hairpinned error whose quoted source port is not one of ours", () => {
    const len = hairpinnedError();
    // Quoted source port 4661 (outside the port set): rewrite it and its checksums.
    store<u16>(PKT_A + 48, bswap<u16>(4661));
    store<u16>(PKT_A + 54, 0); // UDP checksum 0: none
    store<u16>(PKT_A + 22, 0);
    expect<i32>(icmp4Check(PKT_A + 20, len - 20)).not.toBe(ICMP4_OK);
    const c = buildIpv4IcmpError(PKT_A, LAN_B, OUR_V4, 3, 3, 0, PKT_A + 28, len - 28);
    expect<i32>(run1(c)).toBe(0);
    expect<u64>(counterPackets(D_PORT)).toBe(1);
    expect<u64>(counterPackets(C_HAIRPIN)).toBe(1);
  });
});

describe("CE: ICMPv6 errors from inside the tunnel (RFC 2473 §8.3)", () => {
  it("relays a Parameter Problem about a tunnelled packet as ICMPv4 host unreachable", () => {
    configureCe();
    const sent = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
    expect<i32>(run1(sent)).toBe(1);
    const t = outLen(0);
    memory.copy(PKT_B + 256, out(0), <usize>t);
    // Erroneous header field, pointer 6 (the tunnel header's Next Header).
    const len = buildIpv6IcmpError(PKT_A, brAddr, ceAddr, 4, 0, 6, PKT_B + 256, t);
    expect<i32>(run1(len)).toBe(1);
    const p = out(0);
    expect<u32>(ipv4Src(p)).toBe(OUR_V4);
    expect<u32>(ipv4Dst(p)).toBe(LAN_HOST);
    expect<i32>(icmp4Type(p + 20)).toBe(3);
    expect<i32>(icmp4Code(p + 20)).toBe(1);
    expect<i32>(icmp4Check(p + 20, outLen(0) - 20)).toBe(ICMP4_OK);
    expect<u32>(ipv4Src(p + 28)).toBe(LAN_HOST); // the quote, as the LAN host sent it
    expect<u64>(counterPackets(C_ICMP_GENERATED)).toBe(1);
    expect<u64>(counterPackets(D_ICMPV6_UNSUPPORTED)).toBe(0);
  });
});

// Issue "hostile input" item 5: ICMP errors from the WAN pass the session's
// filtering and the martian checks; Redirect and Source Quench never pass;
// ICMPv6 errors only from plausible senders; a floor on next-hop MTUs.
const ROUTER = ip4(192, 0, 2, 1);
const OTHER_REMOTE = ip4(198, 51, 100, 99);
const STRANGER6 = "2001:db8:bad::1";

/** An ICMPv4 error from `from` through the BR about our packet OUR_V4:4660 → qdst:qdport (UDP). */
function wanIcmpError(from: u32, qdst: u32, qdport: i32, type: i32, code: i32, rest: u32 = 0): i32 {
  const q = buildIpv4Udp(PKT_B + 256, OUR_V4, qdst, 4660, qdport, 20);
  const ilen = buildIpv4IcmpError(PKT_A + 40, from, OUR_V4, type, code, rest, PKT_B + 256, q);
  return buildIpv4InIpv6(PKT_A, brAddr, ceAddr, ilen);
}

/** LAN_HOST:4660 → REMOTE:53; keeps the tunnel packet at PKT_B + 512 and returns its length. */
function sendOne(): i32 {
  const sent = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 20);
  expect<i32>(run1(sent)).toBe(1);
  const t = outLen(0);
  memory.copy(PKT_B + 512, out(0), <usize>t);
  return t;
}

describe("CE: hostile ICMP from the WAN", () => {
  it("applies the session's filtering to the quoted remote (drop-icmp-filtered)", () => {
    configureCe(1500, 0, 2); // address-and-port-dependent
    sendOne();
    // The session's own remote: delivered.
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 53, 3, 3))).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
    // Same remote, another port; another remote: not admitted under APDF.
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 54, 3, 3))).toBe(0);
    expect<i32>(run1(wanIcmpError(ROUTER, OTHER_REMOTE, 53, 3, 3))).toBe(0);
    expect<u64>(counterPackets(D_ICMP_FILTERED)).toBe(2);
    // Address-dependent: another port of the same remote passes, another remote does not.
    configureCe(1500, 0, 1);
    sendOne();
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 54, 3, 3))).toBe(1);
    expect<i32>(run1(wanIcmpError(ROUTER, OTHER_REMOTE, 53, 3, 3))).toBe(0);
    expect<u64>(counterPackets(D_ICMP_FILTERED)).toBe(1);
  });

  it("drops Redirect and Source Quench both ways under their own names", () => {
    configureCe();
    sendOne();
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 53, 5, 1, ROUTER))).toBe(0);
    expect<u64>(counterPackets(D_ICMP_REDIRECT)).toBe(1);
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 53, 4, 0))).toBe(0);
    expect<u64>(counterPackets(D_ICMP_SOURCE_QUENCH)).toBe(1);
    // From the LAN: a quench about a packet the LAN host received.
    const q = buildIpv4Udp(PKT_B, REMOTE, LAN_HOST, 53, 4660, 20);
    expect<i32>(run1(buildIpv4IcmpError(PKT_A, LAN_HOST, REMOTE, 4, 0, 0, PKT_B, q))).toBe(0);
    expect<i32>(run1(buildIpv4IcmpError(PKT_A, LAN_HOST, REMOTE, 5, 0, ROUTER, PKT_B, q))).toBe(0);
    expect<u64>(counterPackets(D_ICMP_SOURCE_QUENCH)).toBe(2);
    expect<u64>(counterPackets(D_ICMP_REDIRECT)).toBe(2);
    expect<u64>(counterPackets(C_FWD_TO_IPV6)).toBe(1); // only sendOne's packet
  });

  it("refuses martian outer sources of ICMP errors (RFC 1812 §5.3.7)", () => {
    configureCe();
    sendOne();
    expect<i32>(run1(wanIcmpError(ip4(127, 0, 0, 1), REMOTE, 53, 3, 3))).toBe(0);
    expect<i32>(run1(wanIcmpError(ip4(224, 0, 0, 1), REMOTE, 53, 3, 3))).toBe(0);
    expect<u64>(counterPackets(D_IPV4_MARTIAN)).toBe(2);
    expect<u64>(counterPackets(C_TO_LAN)).toBe(0);
  });

  it("refuses martian, own and LAN inner sources even with endpoint-independent filtering", () => {
    configureCe(1500, 0, 0);
    sendOne();
    const bad: u32[] = [ip4(127, 0, 0, 1), ip4(0, 1, 2, 3), ip4(224, 0, 0, 1), ip4(240, 0, 0, 1),
      ip4(255, 255, 255, 255), OUR_V4, LAN_HOST];
    for (let i = 0; i < bad.length; i++) {
      // Source port 4660: for our own address, one of our own ports.
      expect<i32>(run1(wanUdp(brAddr, ceAddr, bad[i], OUR_V4, 4660, 4660))).toBe(0);
    }
    expect<u64>(counterPackets(D_IPV4_MARTIAN)).toBe(<u64>bad.length);
    expect<u64>(counterPackets(C_TO_LAN)).toBe(0);
    // A stranger is still admitted (EIF).
    expect<i32>(run1(wanUdp(brAddr, ceAddr, OTHER_REMOTE, OUR_V4, 1234, 4660))).toBe(1);
  });

  it("raises a relayed Fragmentation Needed below the floor to ICMP4_MTU_FLOOR", () => {
    configureCe();
    sendOne();
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 53, 3, 4, 68))).toBe(1);
    const p = out(0);
    expect<i32>(icmp4Mtu(p + 20)).toBe(ICMP4_MTU_FLOOR);
    expect<i32>(icmp4Check(p + 20, outLen(0) - 20)).toBe(ICMP4_OK);
    expect<u64>(counterPackets(C_ICMP_MTU_FLOOR)).toBe(1);
    // A sane one is left as it is.
    expect<i32>(run1(wanIcmpError(ROUTER, REMOTE, 53, 3, 4, 1400))).toBe(1);
    expect<i32>(icmp4Mtu(out(0) + 20)).toBe(1400);
    expect<u64>(counterPackets(C_ICMP_MTU_FLOOR)).toBe(1);
  });

  it("takes ICMPv6 errors other than Packet Too Big only from the BR (drop-icmpv6-untrusted-source)", () => {
    configureCe();
    const t = sendOne();
    memory.copy(other6, parseIPv6(STRANGER6), 16);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, other6, ceAddr, 1, 0, 0, PKT_B + 512, t))).toBe(0);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, other6, ceAddr, 3, 0, 0, PKT_B + 512, t))).toBe(0);
    expect<u64>(counterPackets(D_ICMPV6_UNTRUSTED_SOURCE)).toBe(2);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, brAddr, ceAddr, 1, 0, 0, PKT_B + 512, t))).toBe(1);
    expect<i32>(icmp4Type(out(0) + 20)).toBe(3);
    // A Packet Too Big may come from any router of the path; its MTU is floored at 1280.
    const big = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, 53, 1400);
    expect<i32>(run1(big)).toBe(1);
    const bt = outLen(0);
    memory.copy(PKT_B + 512, out(0), <usize>bt);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, other6, ceAddr, 2, 0, 600, PKT_B + 512, 1232))).toBe(1);
    expect<i32>(icmp4Mtu(out(0) + 20)).toBe(1240);
    expect<u64>(counterPackets(C_PTB_RECEIVED)).toBe(1);
  });

  it("relays an ICMPv6 error only about a tunnel packet it could have sent", () => {
    configureCe();
    const t = sendOne();
    // The quoted outer destination is not the BR (nor a peer): not a packet we sent there.
    memory.copy(PKT_B + 512 + 24, parseIPv6("2001:db8::1"), 16);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, brAddr, ceAddr, 2, 0, 1280, PKT_B + 512, t))).toBe(0);
    expect<u64>(counterPackets(D_ICMPV6_QUOTE_ENDPOINT)).toBe(1);
    expect<u64>(counterPackets(C_PTB_RECEIVED)).toBe(0); // the path MTU table was not touched
    // The quoted inner source is not our address.
    sendOne();
    store<u8>(PKT_B + 512 + 40 + 15, 2);
    ipv4FillChecksum(PKT_B + 512 + 40);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, brAddr, ceAddr, 1, 0, 0, PKT_B + 512, t))).toBe(0);
    expect<u64>(counterPackets(D_ICMPV6_QUOTE_NOT_OURS)).toBe(1);
    // The quoted remote does not pass the filtering (default: address-dependent).
    sendOne();
    store<u32>(PKT_B + 512 + 40 + 16, bswap<u32>(OTHER_REMOTE));
    ipv4FillChecksum(PKT_B + 512 + 40);
    expect<i32>(run1(buildIpv6IcmpError(PKT_A, brAddr, ceAddr, 1, 0, 0, PKT_B + 512, t))).toBe(0);
    expect<u64>(counterPackets(D_ICMP_FILTERED)).toBe(1);
    expect<u64>(counterPackets(C_ICMP_GENERATED)).toBe(0);
  });
});

// The ICMP checksum (datapath/ce.ts): an echo is translated with an
// incremental update (RFC 1624), so a wrong checksum stays wrong by the same
// amount for the host that verifies it, and the payload is not summed; an
// ICMP error, whose checksum the CE recomputes after translating its quote,
// is still verified and its drop counted.
describe("CE: ICMP checksums", () => {
  it("an echo request with a wrong checksum leaves translated, its checksum still wrong", () => {
    configureCe();
    const len = buildIpv4IcmpEcho(PKT_A, LAN_HOST, REMOTE, 8, 0x1234, 1, 16);
    store<u8>(PKT_A + 30, load<u8>(PKT_A + 30) ^ 0xff); // a payload byte, checksum left as it was
    expect<i32>(icmp4Check(PKT_A + 20, len - 20)).not.toBe(ICMP4_OK);
    expect<i32>(run1(len)).toBe(1);
    const o = out(0) + 40;
    expect<u32>(ipv4Src(o)).toBe(OUR_V4);
    expect<i32>(icmp4Check(o + 20, len - 20)).not.toBe(ICMP4_OK);
    // Restoring the byte makes the translated message verify: only the corruption is left.
    store<u8>(o + 30, load<u8>(o + 30) ^ 0xff);
    expect<i32>(icmp4Check(o + 20, len - 20)).toBe(ICMP4_OK);
    expect<u64>(counterPackets(C_FWD_TO_IPV6)).toBe(1);
  });

  it("an ICMP error with a wrong checksum is drop-ipv4-bad-l4", () => {
    configureCe();
    const q = buildIpv4Udp(PKT_B, REMOTE, LAN_HOST, 53, 4660, 20);
    const len = buildIpv4IcmpError(PKT_A, LAN_HOST, REMOTE, 3, 3, 0, PKT_B, q);
    store<u8>(PKT_A + 40, load<u8>(PKT_A + 40) ^ 0xff);
    expect<i32>(run1(len)).toBe(0);
    expect<u64>(counterPackets(D_IPV4_BAD_L4)).toBe(1);
  });
});
