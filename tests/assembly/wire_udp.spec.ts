import { udpSrcPort, udpDstPort, udpLength, udpChecksum, setUdpSrcPort, setUdpDstPort, setUdpLength,
  setUdpChecksum, udpComputeChecksum4, udpComputeChecksum6, udpChecksumValid4, udpChecksumValid6, udpCheck,
  UDP_OK, UDP_TOO_SHORT, UDP_BAD_LENGTH, UDP_HEADER_LEN } from "../../assembly/wire/udp";
import { udpChecksumUpdate16, udpChecksumUpdate32, udpChecksumUpdateIpv6Address } from "../../assembly/wire/checksum";
import { ipv4Src, ipv4Dst, ipv4Payload, ipv4PayloadLength, setIpv4SrcUpdate } from "../../assembly/wire/ipv4";
import { ipv6Src, ipv6Dst, ipv6AddrCopy } from "../../assembly/wire/ipv6";
import { PKT_A, PKT_B, ADDR_A, ADDR_B, ADDR_C, ip4, ip6, firstDiff, copyBytes, buildIpv4Udp, buildIpv6Udp,
  FX_IPV4_UDP, FX_IPV4_UDP_LEN, FX_IPV6_UDP, FX_IPV6_UDP_LEN } from "./builders";

const SRC = ip4(192, 0, 2, 1);
const DST = ip4(198, 51, 100, 2);

let rng: u32 = 0xBADC0DE;
function rand(): u32 { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

describe("udp: deconstruct", () => {
  it("reads the IPv4 fixture", () => {
    const u = FX_IPV4_UDP + 20;
    expect<i32>(udpCheck(u, 20)).toBe(UDP_OK);
    expect<i32>(udpSrcPort(u)).toBe(1234);
    expect<i32>(udpDstPort(u)).toBe(53);
    expect<i32>(udpLength(u)).toBe(20);
    expect<u16>(udpChecksum(u)).toBe(0xce3b);
    expect<bool>(udpChecksumValid4(u, 20, SRC, DST)).toBe(true);
    expect<u16>(udpComputeChecksum4(u, 20, SRC, DST)).toBe(0xce3b);
  });

  it("reads the IPv6 fixture (pseudo header with 128-bit addresses)", () => {
    const p = FX_IPV6_UDP;
    const u = p + 40;
    expect<i32>(udpCheck(u, 20)).toBe(UDP_OK);
    expect<u16>(udpChecksum(u)).toBe(0x5efd);
    expect<bool>(udpChecksumValid6(u, 20, ipv6Src(p), ipv6Dst(p))).toBe(true);
    expect<u16>(udpComputeChecksum6(u, 20, ipv6Src(p), ipv6Dst(p))).toBe(0x5efd);
  });
});

describe("udp: construct", () => {
  it("setters and the checksum rebuild the IPv4 fixture's datagram", () => {
    memory.fill(PKT_A, 0, 64);
    memory.copy(PKT_A + 8, FX_IPV4_UDP + 28, 12);   // "hello, world"
    setUdpSrcPort(PKT_A, 1234);
    setUdpDstPort(PKT_A, 53);
    setUdpLength(PKT_A, 20);
    setUdpChecksum(PKT_A, udpComputeChecksum4(PKT_A, 20, SRC, DST));
    expect<i32>(firstDiff(PKT_A, FX_IPV4_UDP + 20, 20)).toBe(-1);
  });

  it("builders make datagrams whose checksums verify", () => {
    let n = buildIpv4Udp(PKT_A, SRC, DST, 5000, 5001, 333);
    expect<i32>(n).toBe(20 + 8 + 333);
    expect<bool>(udpChecksumValid4(PKT_A + 20, n - 20, SRC, DST)).toBe(true);
    n = buildIpv6Udp(PKT_B, ip6(ADDR_A, 0x20010db800000000, 1), ip6(ADDR_B, 0x20010db800010000, 2), 7, 9, 1001);
    expect<i32>(n).toBe(40 + 8 + 1001);
    expect<bool>(udpChecksumValid6(PKT_B + 40, n - 40, ipv6Src(PKT_B), ipv6Dst(PKT_B))).toBe(true);
  });
});

describe("udp: check", () => {
  it("returns each reason for a mutated fixture", () => {
    const u = PKT_A;
    copyBytes(u, FX_IPV4_UDP + 20, 20);
    expect<i32>(udpCheck(u, 7)).toBe(UDP_TOO_SHORT);
    expect<i32>(udpCheck(u, 19)).toBe(UDP_BAD_LENGTH);   // Length 20 > 19 carried
    expect<i32>(udpCheck(u, 24)).toBe(UDP_OK);           // trailing bytes tolerated
    setUdpLength(u, 7);
    expect<i32>(udpCheck(u, 20)).toBe(UDP_BAD_LENGTH);
    setUdpLength(u, UDP_HEADER_LEN);
    expect<i32>(udpCheck(u, 20)).toBe(UDP_OK);
  });
});

describe("udp: zero checksum (RFC 768)", () => {
  it("0 means none over IPv4, is invalid over IPv6", () => {
    copyBytes(PKT_A, FX_IPV6_UDP, FX_IPV6_UDP_LEN);
    setUdpChecksum(PKT_A + 40, 0);
    expect<bool>(udpChecksumValid6(PKT_A + 40, 20, ipv6Src(PKT_A), ipv6Dst(PKT_A))).toBe(false);
    copyBytes(PKT_A, FX_IPV4_UDP, FX_IPV4_UDP_LEN);
    setUdpChecksum(PKT_A + 20, 0);
    expect<bool>(udpChecksumValid4(PKT_A + 20, 20, SRC, DST)).toBe(true);
  });

  it("a datagram whose checksum computes to 0 carries 0xFFFF, which verifies", () => {
    buildIpv4Udp(PKT_A, SRC, DST, 1, 2, 2);
    const u = PKT_A + 20;
    store<u16>(u, 0, 8);                                  // payload word 0
    const c = udpComputeChecksum4(u, 10, SRC, DST);
    store<u16>(u, bswap<u16>(c), 8);                      // payload now sums to -0
    expect<u16>(udpComputeChecksum4(u, 10, SRC, DST)).toBe(0xFFFF);
    setUdpChecksum(u, 0xFFFF);
    expect<bool>(udpChecksumValid4(u, 10, SRC, DST)).toBe(true);
  });
});

describe("udp: round trip through NAT-style rewrites", () => {
  it("incremental address + port rewrites equal a recomputation (IPv4 and IPv6)", () => {
    let bad = 0;
    let zeroKept = 0;
    for (let i = 0; i < 1000; i++) {
      const n = buildIpv4Udp(PKT_A, rand(), rand(), <i32>(rand() & 0xFFFF), <i32>(rand() & 0xFFFF), <i32>(rand() % 64));
      const u = ipv4Payload(PKT_A);
      const ul = ipv4PayloadLength(PKT_A);
      const none = (i & 7) == 0;
      if (none) setUdpChecksum(u, 0);
      const newSrc = rand();
      const newPort = <i32>(rand() & 0xFFFF);
      setUdpChecksum(u, udpChecksumUpdate32(udpChecksum(u), ipv4Src(PKT_A), newSrc));
      setUdpChecksum(u, udpChecksumUpdate16(udpChecksum(u), <u16>udpSrcPort(u), <u16>newPort));
      setUdpSrcPort(u, newPort);
      setIpv4SrcUpdate(PKT_A, newSrc);
      if (none) {
        if (udpChecksum(u) == 0) zeroKept++;
      } else if (udpChecksum(u) != udpComputeChecksum4(u, ul, ipv4Src(PKT_A), ipv4Dst(PKT_A))) bad++;
      if (n != 28 + ul - 8) bad++;
    }
    for (let i = 0; i < 500; i++) {
      ip6(ADDR_A, (<u64>rand() << 32) | rand(), (<u64>rand() << 32) | rand());
      ip6(ADDR_B, (<u64>rand() << 32) | rand(), (<u64>rand() << 32) | rand());
      const n = buildIpv6Udp(PKT_B, ADDR_A, ADDR_B, <i32>(rand() & 0xFFFF), 53, <i32>(rand() % 64));
      const u = PKT_B + 40;
      ip6(ADDR_C, (<u64>rand() << 32) | rand(), (<u64>rand() << 32) | rand());
      setUdpChecksum(u, udpChecksumUpdateIpv6Address(udpChecksum(u), ipv6Dst(PKT_B), ADDR_C));
      ipv6AddrCopy(ipv6Dst(PKT_B), ADDR_C);
      if (udpChecksum(u) != udpComputeChecksum6(u, n - 40, ipv6Src(PKT_B), ipv6Dst(PKT_B))) bad++;
    }
    expect<i32>(bad).toBe(0);
    expect<i32>(zeroKept).toBe(125);
  });
});
