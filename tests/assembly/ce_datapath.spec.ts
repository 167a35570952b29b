// The CE data path stage by stage, through the same exports the host uses
// (init / start / process over the slots). Packets come from the builders;
// the configuration is the JANOG interop rule in CE mode.
import { W, MODE_CE, ipv4, parseIPv6 } from "./map_helpers";
import {
  PKT_A, ip4, buildIpv4Udp, buildIpv4Tcp, buildIpv4InIpv6, buildIpv4IcmpEcho, copyBytes,
} from "./builders";
import { init, start, process, inputPtr, inputLengths, outputOffsets, outputLengths } from "../../assembly/datapath/process";
import { counterPackets, countersReset,
  C_FWD_TO_IPV6, C_FWD_TO_IPV4, C_ICMP_GENERATED,
  D_SECURITY_IPV4_DST, D_SECURITY_PORT, D_SECURITY_IPV6_DST, D_SECURITY_IPV6_SRC, D_SECURITY_IPV6_SRC_UNKNOWN,
  D_IPV6_NOT_FOR_US, D_IPV4_TTL_EXPIRED, D_IPV4_DF_TOO_BIG, D_IPV4_BAD_CHECKSUM, D_NAT_NO_MAPPING,
} from "../../assembly/datapath/counters";
import { ipv4Src, ipv4Dst, ipv4Ttl, ipv4ComputeChecksum, ipv4Checksum, ipv4TotalLength, setIpv4Ttl,
  ipv4FillChecksum, setIpv4Checksum, IP_PROTO_IPIP, IP_PROTO_ICMP, ipv4Protocol } from "../../assembly/wire/ipv4";
import { ipv6Src, ipv6Dst, ipv6NextHeader, ipv6HopLimit, ipv6AddrEqual, ipv6PayloadLength } from "../../assembly/wire/ipv6";
import { udpSrcPort, udpDstPort, udpChecksumValid4 } from "../../assembly/wire/udp";
import { tcpFindMss } from "../../assembly/wire/tcp";
import { icmp4Type, icmp4Code, icmp4Mtu } from "../../assembly/wire/icmp4";
import { isOwnPort } from "../../assembly/map/api";

const CE_ADDR = "2403:9200:1234::cb56:e101:234";
const BR_ADDR = "2403:9200:fff0::2";
const LAN_HOST = ip4(192, 168, 1, 10);
const REMOTE = ip4(198, 51, 100, 7);
const OUR_V4 = ip4(203, 86, 225, 1);
const ceAddr = memory.data(16, 16);
const brAddr = memory.data(16, 16);
const other6 = memory.data(16, 16);

function configureCe(mtu: i32 = 1500): void {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix("2403:9200:1234::", 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE).setting(3, 2, mtu);
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
