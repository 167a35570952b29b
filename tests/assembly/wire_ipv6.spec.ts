import { ipv6Version, ipv6TrafficClass, ipv6FlowLabel, ipv6PayloadLength, ipv6NextHeader, ipv6HopLimit,
  ipv6Src, ipv6Dst, ipv6Payload, setIpv6VersionClassFlow, setIpv6TrafficClass, setIpv6FlowLabel,
  setIpv6PayloadLength, setIpv6NextHeader, setIpv6HopLimit, setIpv6Src, setIpv6Dst,
  ipv6FragNextHeader, ipv6FragOffset, ipv6FragMore, ipv6FragId, setIpv6Frag,
  ipv6AddrEqual, ipv6AddrCopy, ipv6PrefixMatch, ipv6Check, ipv6Upper,
  ipv6UpperOffset, ipv6UpperProtocol, ipv6UpperProtocolAt, ipv6FragHeaderAt, ipv6FragmentOffset,
  ipv6FragmentMore, ipv6FragmentId,
  IPV6_OK, IPV6_TOO_SHORT, IPV6_BAD_VERSION, IPV6_BAD_PAYLOAD_LENGTH, IPV6_EXT_TRUNCATED,
  IPV6_EXT_TOO_MANY, IPV6_EXT_HOP_BY_HOP_NOT_FIRST, IPV6_EXT_FRAGMENT_TWICE,
  IPV6_NH_DEST_OPTS, IPV6_NH_HOP_BY_HOP, IPV6_NH_FRAGMENT, IPV6_NH_NONE, IPV6_MAX_EXT_HEADERS } from "../../assembly/wire/ipv6";
import { ipv4Check, IPV4_OK, IP_PROTO_UDP, IP_PROTO_TCP, IP_PROTO_IPIP, IP_PROTO_ICMPV6 } from "../../assembly/wire/ipv4";
import { PKT_A, PKT_B, ADDR_A, ADDR_B, ADDR_C, ip6, firstDiff, copyBytes, buildIpv6, buildIpv6Udp,
  buildIpv6Fragment, buildIpv4InIpv6,
  FX_IPV6_UDP, FX_IPV6_UDP_LEN, FX_IPV6_ICMP_ECHO, FX_IPV6_ICMP_ECHO_LEN, FX_IPV6_EXT_UDP, FX_IPV6_EXT_UDP_LEN,
  FX_IPV6_FRAG_LATER, FX_IPV6_FRAG_LATER_LEN, FX_IPV6_IPIP, FX_IPV6_IPIP_LEN } from "./builders";

/** Writes an 8-byte extension header (options padded with PadN) at `h`. */
function ext8(h: usize, nextHeader: i32): void {
  memory.fill(h, 0, 8);
  store<u8>(h, <u8>nextHeader);
  store<u8>(h, 1, 2);      // PadN
  store<u8>(h, 4, 3);      // 4 bytes of padding
}

let rng: u32 = 0xC0FFEE;
function rand(): u32 { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

describe("ipv6: deconstruct", () => {
  it("reads every field of the UDP fixture", () => {
    const p = FX_IPV6_UDP;
    expect<i32>(ipv6Check(p, FX_IPV6_UDP_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6Version(p)).toBe(6);
    expect<i32>(ipv6TrafficClass(p)).toBe(0xb8);
    expect<i32>(ipv6FlowLabel(p)).toBe(0x12345);
    expect<i32>(ipv6PayloadLength(p)).toBe(20);
    expect<i32>(ipv6NextHeader(p)).toBe(IP_PROTO_UDP);
    expect<i32>(ipv6HopLimit(p)).toBe(64);
    expect<bool>(ipv6AddrEqual(ipv6Src(p), ip6(ADDR_A, 0x20010db800000000, 1))).toBe(true);
    expect<bool>(ipv6AddrEqual(ipv6Dst(p), ip6(ADDR_B, 0x20010db800010000, 2))).toBe(true);
    expect<usize>(ipv6Payload(p)).toBe(p + 40);
  });

  it("reads the MAP-E encapsulation fixture: IPv4 inside", () => {
    const p = FX_IPV6_IPIP;
    expect<i32>(ipv6Check(p, FX_IPV6_IPIP_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6Upper(p, FX_IPV6_IPIP_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperProtocol).toBe(IP_PROTO_IPIP);
    expect<i32>(ipv6UpperOffset).toBe(40);
    expect<i32>(ipv4Check(p + 40, FX_IPV6_IPIP_LEN - 40)).toBe(IPV4_OK);
  });
});

describe("ipv6: construct", () => {
  it("setters rebuild the UDP fixture header", () => {
    memory.fill(PKT_A, 0, 64);
    setIpv6VersionClassFlow(PKT_A, 0xb8, 0x12345);
    setIpv6PayloadLength(PKT_A, 20);
    setIpv6NextHeader(PKT_A, IP_PROTO_UDP);
    setIpv6HopLimit(PKT_A, 64);
    setIpv6Src(PKT_A, ip6(ADDR_A, 0x20010db800000000, 1));
    setIpv6Dst(PKT_A, ip6(ADDR_B, 0x20010db800010000, 2));
    expect<i32>(firstDiff(PKT_A, FX_IPV6_UDP, 40)).toBe(-1);
  });

  it("traffic class and flow label setters keep the other fields", () => {
    copyBytes(PKT_A, FX_IPV6_UDP, 40);
    setIpv6TrafficClass(PKT_A, 0x01);
    expect<i32>(ipv6FlowLabel(PKT_A)).toBe(0x12345);
    expect<i32>(ipv6Version(PKT_A)).toBe(6);
    setIpv6FlowLabel(PKT_A, 0xFFFFF);
    expect<i32>(ipv6TrafficClass(PKT_A)).toBe(0x01);
    expect<i32>(ipv6FlowLabel(PKT_A)).toBe(0xFFFFF);
  });

  it("builders rebuild the echo and encapsulation fixtures' headers", () => {
    memory.fill(PKT_A, 0, 128);
    buildIpv6(PKT_A, ip6(ADDR_A, 0x20010db800000000, 1), ip6(ADDR_B, 0x20010db800010000, 2),
      IP_PROTO_ICMPV6, 16, 255);
    expect<i32>(firstDiff(PKT_A, FX_IPV6_ICMP_ECHO, 40)).toBe(-1);
    // MAP-E: the IPv4 packet sits at +40 (headroom); the IPv6 header goes in front
    copyBytes(PKT_A + 40, FX_IPV6_IPIP + 40, FX_IPV6_IPIP_LEN - 40);
    const n = buildIpv4InIpv6(PKT_A, ip6(ADDR_A, 0x20010db8ffff0000, 1),
      ip6(ADDR_B, 0x20010db800123400, 0x0000c00002010034), 36);
    expect<i32>(n).toBe(FX_IPV6_IPIP_LEN);
    expect<i32>(firstDiff(PKT_A, FX_IPV6_IPIP, n)).toBe(-1);
  });

  it("fragment header setter rebuilds the later-fragment fixture", () => {
    memory.fill(PKT_A, 0, 128);
    memory.copy(PKT_A + 48, FX_IPV6_FRAG_LATER + 48, 16);
    const n = buildIpv6Fragment(PKT_A, ip6(ADDR_A, 0x20010db800000000, 1), ip6(ADDR_B, 0x20010db800010000, 2),
      IP_PROTO_TCP, 1480, false, 0xcafe, 16);
    expect<i32>(n).toBe(FX_IPV6_FRAG_LATER_LEN);
    expect<i32>(firstDiff(PKT_A, FX_IPV6_FRAG_LATER, n)).toBe(-1);
    const f = PKT_A + 40;
    expect<i32>(ipv6FragNextHeader(f)).toBe(IP_PROTO_TCP);
    expect<i32>(ipv6FragOffset(f)).toBe(1480);
    expect<bool>(ipv6FragMore(f)).toBe(false);
    expect<u32>(ipv6FragId(f)).toBe(0xcafe);
    setIpv6Frag(f, IP_PROTO_UDP, 65528, true, 0xFFFFFFFF);
    expect<i32>(ipv6FragOffset(f)).toBe(65528);
    expect<bool>(ipv6FragMore(f)).toBe(true);
    expect<u32>(ipv6FragId(f)).toBe(0xFFFFFFFF);
  });
});

describe("ipv6: check", () => {
  it("returns each reason for a mutated fixture", () => {
    const p = PKT_A;
    const n = FX_IPV6_UDP_LEN;
    copyBytes(p, FX_IPV6_UDP, n);
    expect<i32>(ipv6Check(p, 39)).toBe(IPV6_TOO_SHORT);
    expect<i32>(ipv6Check(p, n + 4)).toBe(IPV6_OK);
    setIpv6PayloadLength(p, 21);
    expect<i32>(ipv6Check(p, n)).toBe(IPV6_BAD_PAYLOAD_LENGTH);
    setIpv6PayloadLength(p, 0);
    expect<i32>(ipv6Check(p, n)).toBe(IPV6_OK);
    store<u8>(p, 0x45);
    expect<i32>(ipv6Check(p, n)).toBe(IPV6_BAD_VERSION);
  });
});

describe("ipv6: extension header walk", () => {
  it("no extension headers: the upper layer follows the fixed header", () => {
    expect<i32>(ipv6Upper(FX_IPV6_UDP, FX_IPV6_UDP_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperOffset).toBe(40);
    expect<i32>(ipv6UpperProtocol).toBe(IP_PROTO_UDP);
    expect<i32>(ipv6UpperProtocolAt).toBe(6);
    expect<i32>(ipv6FragHeaderAt).toBe(0);
    expect<i32>(ipv6Upper(FX_IPV6_ICMP_ECHO, FX_IPV6_ICMP_ECHO_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperProtocol).toBe(IP_PROTO_ICMPV6);
  });

  it("skips hop-by-hop and destination options, reports a first fragment", () => {
    expect<i32>(ipv6Check(FX_IPV6_EXT_UDP, FX_IPV6_EXT_UDP_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6Upper(FX_IPV6_EXT_UDP, FX_IPV6_EXT_UDP_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperOffset).toBe(64);
    expect<i32>(ipv6UpperProtocol).toBe(IP_PROTO_UDP);
    expect<i32>(ipv6UpperProtocolAt).toBe(56);
    expect<i32>(ipv6FragHeaderAt).toBe(56);
    expect<i32>(ipv6FragmentOffset).toBe(0);
    expect<bool>(ipv6FragmentMore).toBe(true);
    expect<u32>(ipv6FragmentId).toBe(0xdeadbeef);
  });

  it("stops at a later fragment: what follows is not a header", () => {
    expect<i32>(ipv6Upper(FX_IPV6_FRAG_LATER, FX_IPV6_FRAG_LATER_LEN)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperOffset).toBe(48);
    expect<i32>(ipv6UpperProtocol).toBe(IP_PROTO_TCP);
    expect<i32>(ipv6FragHeaderAt).toBe(40);
    expect<i32>(ipv6FragmentOffset).toBe(1480);
    expect<bool>(ipv6FragmentMore).toBe(false);
    expect<u32>(ipv6FragmentId).toBe(0xcafe);
    // a later plain packet resets the fragment results
    ipv6Upper(FX_IPV6_UDP, FX_IPV6_UDP_LEN);
    expect<i32>(ipv6FragHeaderAt).toBe(0);
    expect<u32>(ipv6FragmentId).toBe(0);
  });

  it("truncated extension headers", () => {
    expect<i32>(ipv6Upper(FX_IPV6_EXT_UDP, 44)).toBe(IPV6_EXT_TRUNCATED);   // hop-by-hop cut
    expect<i32>(ipv6Upper(FX_IPV6_EXT_UDP, 60)).toBe(IPV6_EXT_TRUNCATED);   // fragment cut
    copyBytes(PKT_A, FX_IPV6_EXT_UDP, FX_IPV6_EXT_UDP_LEN);
    store<u8>(PKT_A + 48, 10, 1);                                          // dest opts claims 88 bytes
    expect<i32>(ipv6Upper(PKT_A, FX_IPV6_EXT_UDP_LEN)).toBe(IPV6_EXT_TRUNCATED);
  });

  it("at most 8 extension headers are walked", () => {
    const a = ip6(ADDR_A, 0x20010db800000000, 1);
    const b = ip6(ADDR_B, 0x20010db800010000, 2);
    for (let i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
      ext8(PKT_A + 40 + <usize>(i * 8), i == IPV6_MAX_EXT_HEADERS - 1 ? IPV6_NH_NONE : IPV6_NH_DEST_OPTS);
    }
    let n = buildIpv6(PKT_A, a, b, IPV6_NH_DEST_OPTS, IPV6_MAX_EXT_HEADERS * 8);
    expect<i32>(ipv6Upper(PKT_A, n)).toBe(IPV6_OK);
    expect<i32>(ipv6UpperProtocol).toBe(IPV6_NH_NONE);
    expect<i32>(ipv6UpperOffset).toBe(n);
    ext8(PKT_A + 40 + <usize>((IPV6_MAX_EXT_HEADERS - 1) * 8), IPV6_NH_DEST_OPTS);
    ext8(PKT_A + 40 + <usize>(IPV6_MAX_EXT_HEADERS * 8), IPV6_NH_NONE);
    n = buildIpv6(PKT_A, a, b, IPV6_NH_DEST_OPTS, (IPV6_MAX_EXT_HEADERS + 1) * 8);
    expect<i32>(ipv6Upper(PKT_A, n)).toBe(IPV6_EXT_TOO_MANY);
  });

  it("hop-by-hop must come first; a second fragment header is refused", () => {
    const a = ip6(ADDR_A, 0x20010db800000000, 1);
    const b = ip6(ADDR_B, 0x20010db800010000, 2);
    ext8(PKT_A + 40, IPV6_NH_HOP_BY_HOP);
    ext8(PKT_A + 48, IPV6_NH_NONE);
    let n = buildIpv6(PKT_A, a, b, IPV6_NH_DEST_OPTS, 16);
    expect<i32>(ipv6Upper(PKT_A, n)).toBe(IPV6_EXT_HOP_BY_HOP_NOT_FIRST);
    setIpv6Frag(PKT_A + 40, IPV6_NH_FRAGMENT, 0, true, 1);
    setIpv6Frag(PKT_A + 48, IP_PROTO_UDP, 0, true, 1);
    n = buildIpv6(PKT_A, a, b, IPV6_NH_FRAGMENT, 16);
    expect<i32>(ipv6Upper(PKT_A, n)).toBe(IPV6_EXT_FRAGMENT_TWICE);
  });
});

describe("ipv6: addresses", () => {
  it("equal, copy", () => {
    ip6(ADDR_A, 0x20010db800000000, 1);
    ip6(ADDR_B, 0x20010db800000000, 2);
    expect<bool>(ipv6AddrEqual(ADDR_A, ADDR_B)).toBe(false);
    ipv6AddrCopy(ADDR_C, ADDR_A);
    expect<bool>(ipv6AddrEqual(ADDR_A, ADDR_C)).toBe(true);
    ip6(ADDR_B, 0x20010db800000001, 1);
    expect<bool>(ipv6AddrEqual(ADDR_A, ADDR_B)).toBe(false);
  });

  it("prefix match at the boundaries", () => {
    ip6(ADDR_A, 0x20010db812345678, 0x0000000000000000);
    ip6(ADDR_B, 0x20010db812345679, 0x8000000000000000);   // differs at bit 63 and bit 64
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 0)).toBe(true);
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 32)).toBe(true);
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 63)).toBe(true);
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 64)).toBe(false);
    ip6(ADDR_B, 0x20010db812345678, 0x0000000000000001);   // differs at bit 127
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 64)).toBe(true);
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 127)).toBe(true);
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_B, 128)).toBe(false);
    expect<bool>(ipv6PrefixMatch(ADDR_A, ADDR_A, 128)).toBe(true);
  });

  it("prefix match agrees with the first differing bit for random pairs", () => {
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      const hi = (<u64>rand() << 32) | <u64>rand();
      const lo = (<u64>rand() << 32) | <u64>rand();
      const d = <i32>(rand() % 128);           // the first differing bit
      ip6(ADDR_A, hi, lo);
      if (d < 64) ip6(ADDR_B, hi ^ (<u64>1 << <u64>(63 - d)), lo ^ <u64>rand());
      else ip6(ADDR_B, hi, lo ^ (<u64>1 << <u64>(127 - d)));
      const n = <i32>(rand() % 129);
      if (ipv6PrefixMatch(ADDR_A, ADDR_B, n) != (n <= d)) bad++;
    }
    expect<i32>(bad).toBe(0);
  });
});
