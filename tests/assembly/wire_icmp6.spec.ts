import { icmp6Type, icmp6Code, icmp6Checksum, icmp6EchoId, icmp6EchoSeq, icmp6Mtu, icmp6Pointer, icmp6Quote,
  icmp6IsError, setIcmp6Type, setIcmp6Code, setIcmp6Checksum, setIcmp6EchoId, setIcmp6EchoSeq, setIcmp6Mtu,
  setIcmp6Pointer, setIcmp6Unused, icmp6ComputeChecksum, icmp6FillChecksum, icmp6Check,
  ICMP6_OK, ICMP6_TOO_SHORT, ICMP6_BAD_CHECKSUM, ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY, ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAMETER_PROBLEM, ICMP6_DEST_UNREACHABLE, ICMP6_CODE_SOURCE_POLICY, ICMP6_QUOTE,
  ICMP6_MLD2_REPORT } from "../../assembly/wire/icmp6";
import { checksumUpdateIpv6Address } from "../../assembly/wire/checksum";
import { ipv6Src, ipv6Dst, ipv6AddrCopy, ipv6Check, ipv6Upper, ipv6UpperOffset, ipv6UpperProtocol,
  IPV6_OK, IPV6_MIN_MTU } from "../../assembly/wire/ipv6";
import { IP_PROTO_ICMPV6 } from "../../assembly/wire/ipv4";
import { PKT_A, PKT_B, ADDR_A, ADDR_B, ADDR_C, ip6, firstDiff, copyBytes, buildIpv6, buildIpv6IcmpEcho,
  buildIpv6IcmpError, FX_IPV6_ICMP_ECHO, FX_IPV6_ICMP_ECHO_LEN, FX_IPV6_IPIP, FX_IPV6_IPIP_LEN } from "./builders";

describe("icmp6: deconstruct", () => {
  it("reads the echo request fixture", () => {
    const p = FX_IPV6_ICMP_ECHO;
    expect<i32>(ipv6Upper(p, FX_IPV6_ICMP_ECHO_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperProtocol).toBe(IP_PROTO_ICMPV6);
    const m = p + <usize>ipv6UpperOffset;
    expect<i32>(icmp6Check(m, 16, ipv6Src(p), ipv6Dst(p))).toBe(ICMP6_OK);
    expect<i32>(icmp6Type(m)).toBe(ICMP6_ECHO_REQUEST);
    expect<i32>(icmp6Code(m)).toBe(0);
    expect<u16>(icmp6Checksum(m)).toBe(0x9de9);
    expect<i32>(icmp6EchoId(m)).toBe(0x4321);
    expect<i32>(icmp6EchoSeq(m)).toBe(7);
    expect<bool>(icmp6IsError(icmp6Type(m))).toBe(false);
    expect<u16>(icmp6ComputeChecksum(m, 16, ipv6Src(p), ipv6Dst(p))).toBe(0x9de9);
  });
});

describe("icmp6: construct", () => {
  it("setters rebuild the echo fixture", () => {
    memory.fill(PKT_A, 0, 64);
    const a = ip6(ADDR_A, 0x20010db800000000, 1);
    const b = ip6(ADDR_B, 0x20010db800010000, 2);
    const m = PKT_A + 40;
    memory.copy(m + 8, FX_IPV6_ICMP_ECHO + 48, 8);   // "ping6..."
    setIcmp6Type(m, ICMP6_ECHO_REQUEST);
    setIcmp6Code(m, 0);
    setIcmp6EchoId(m, 0x4321);
    setIcmp6EchoSeq(m, 7);
    const n = buildIpv6(PKT_A, a, b, IP_PROTO_ICMPV6, 16, 255);
    icmp6FillChecksum(m, 16, a, b);
    expect<i32>(n).toBe(FX_IPV6_ICMP_ECHO_LEN);
    expect<i32>(firstDiff(PKT_A, FX_IPV6_ICMP_ECHO, n)).toBe(-1);
  });

  it("an echo reply built by the builder verifies", () => {
    const n = buildIpv6IcmpEcho(PKT_A, ip6(ADDR_A, 0x20010db800010000, 2), ip6(ADDR_B, 0x20010db800000000, 1),
      ICMP6_ECHO_REPLY, 0x4321, 7, 1000);
    expect<i32>(ipv6Check(PKT_A, n)).toBe(IPV6_OK);
    expect<i32>(icmp6Check(PKT_A + 40, n - 40, ipv6Src(PKT_A), ipv6Dst(PKT_A))).toBe(ICMP6_OK);
  });

  it("packet too big quotes the invoking packet and carries the MTU", () => {
    const n = buildIpv6IcmpError(PKT_A, ip6(ADDR_A, 0x20010db8ffff0000, 1), ip6(ADDR_B, 0x20010db800123400, 0x0000c00002010034),
      ICMP6_PACKET_TOO_BIG, 0, <u32>IPV6_MIN_MTU, FX_IPV6_IPIP, FX_IPV6_IPIP_LEN);
    const m = PKT_A + 40;
    expect<i32>(icmp6Check(m, n - 40, ipv6Src(PKT_A), ipv6Dst(PKT_A))).toBe(ICMP6_OK);
    expect<bool>(icmp6IsError(icmp6Type(m))).toBe(true);
    expect<u32>(icmp6Mtu(m)).toBe(1280);
    expect<usize>(icmp6Quote(m)).toBe(m + ICMP6_QUOTE);
    expect<i32>(firstDiff(icmp6Quote(m), FX_IPV6_IPIP, FX_IPV6_IPIP_LEN)).toBe(-1);
  });

  it("rest-of-header setters: pointer, unused, MTU; error vs informational", () => {
    memory.fill(PKT_A, 0xAA, 8);
    setIcmp6Pointer(PKT_A, 40);
    expect<u32>(icmp6Pointer(PKT_A)).toBe(40);
    setIcmp6Unused(PKT_A);
    expect<u32>(load<u32>(PKT_A, 4)).toBe(0);
    setIcmp6Mtu(PKT_A, 1500);
    expect<u32>(icmp6Mtu(PKT_A)).toBe(1500);
    expect<bool>(icmp6IsError(ICMP6_PARAMETER_PROBLEM)).toBe(true);
    expect<bool>(icmp6IsError(ICMP6_DEST_UNREACHABLE)).toBe(true);
    expect<bool>(icmp6IsError(ICMP6_MLD2_REPORT)).toBe(false);
    expect<i32>(ICMP6_CODE_SOURCE_POLICY).toBe(5);
  });
});

describe("icmp6: check", () => {
  it("returns each reason for a mutated fixture", () => {
    copyBytes(PKT_A, FX_IPV6_ICMP_ECHO, FX_IPV6_ICMP_ECHO_LEN);
    const m = PKT_A + 40;
    const s = ipv6Src(PKT_A);
    const d = ipv6Dst(PKT_A);
    expect<i32>(icmp6Check(m, 7, s, d)).toBe(ICMP6_TOO_SHORT);
    expect<i32>(icmp6Check(m, 16, d, s)).toBe(ICMP6_OK);             // sum is symmetric in src/dst
    expect<i32>(icmp6Check(m, 16, s, ip6(ADDR_C, 0x20010db800010000, 3))).toBe(ICMP6_BAD_CHECKSUM);
    setIcmp6EchoSeq(m, 8);
    expect<i32>(icmp6Check(m, 16, s, d)).toBe(ICMP6_BAD_CHECKSUM);
    setIcmp6Checksum(m, icmp6ComputeChecksum(m, 16, s, d));
    expect<i32>(icmp6Check(m, 16, s, d)).toBe(ICMP6_OK);
  });
});

describe("icmp6: round trip", () => {
  it("rewriting the destination address incrementally keeps the checksum valid", () => {
    copyBytes(PKT_A, FX_IPV6_ICMP_ECHO, FX_IPV6_ICMP_ECHO_LEN);
    const m = PKT_A + 40;
    ip6(ADDR_C, 0x20010db8abcd0000, 0x1234567890abcdef);
    setIcmp6Checksum(m, checksumUpdateIpv6Address(icmp6Checksum(m), ipv6Dst(PKT_A), ADDR_C));
    ipv6AddrCopy(ipv6Dst(PKT_A), ADDR_C);
    expect<i32>(icmp6Check(m, 16, ipv6Src(PKT_A), ipv6Dst(PKT_A))).toBe(ICMP6_OK);
    // parse -> emit
    memory.fill(PKT_B, 0, 16);
    memory.copy(PKT_B + 8, m + 8, 8);
    setIcmp6Type(PKT_B, icmp6Type(m));
    setIcmp6Code(PKT_B, icmp6Code(m));
    setIcmp6Checksum(PKT_B, icmp6Checksum(m));
    setIcmp6EchoId(PKT_B, icmp6EchoId(m));
    setIcmp6EchoSeq(PKT_B, icmp6EchoSeq(m));
    expect<i32>(firstDiff(PKT_B, m, 16)).toBe(-1);
  });
});
