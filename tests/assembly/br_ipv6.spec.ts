// BR, IPv6 from the CEs (RFC 7597 §8.1, §8.2): BR addresses, the source
// check (recompute the CE's MAP address, compare), decapsulation, CE -> CE
// hairpin, fragments, ICMPv6 to the BR.
import { setupBr, input, setLen, run, outPtr, outLen, outSrc6, outDst6, outVersion, packets, unbalanced,
  addr6, decTtl, setTtl, BR1, BR2, CE_A_RFC, CE_A_LEGACY, CE_B_RFC, V6, fragmentOf } from "./br_helpers";
import { canonIPv6 } from "./map_helpers";
import { buildIpv4Udp, buildIpv4IcmpEcho, buildIpv4IcmpError, buildIpv4InIpv6, buildIpv6IcmpEcho,
  buildIpv6IcmpError, buildIpv6Udp, buildIpv6Fragment, ip4, PKT_A, PKT_B, ADDR_A, ADDR_B, ADDR_C,
  firstDiff, copyBytes } from "./builders";
import { ipv4Src, ipv4Dst, ipv4TotalLength, ipv4Check, IPV4_OK } from "../../assembly/wire/ipv4";
import { icmp4Type, icmp4Code, icmp4Mtu, icmp4Check, ICMP4_OK } from "../../assembly/wire/icmp4";
import { icmp6Type, icmp6Check, ICMP6_OK } from "../../assembly/wire/icmp6";
import { ipv6Src, ipv6Dst } from "../../assembly/wire/ipv6";
import { C_FWD_TO_IPV4, C_FWD_TO_IPV6, C_HAIRPIN, C_HELD, C_REASSEMBLED, C_PTB_RECEIVED, C_ICMP_GENERATED,
  D_SECURITY_IPV6_SRC, D_SECURITY_IPV6_SRC_UNKNOWN, D_SECURITY_IPV6_DST, D_IPV6_NOT_FOR_US,
  D_IPV6_UNSUPPORTED_NEXT_HEADER, D_BR_PORT_OUTSIDE, D_IPV4_TTL_EXPIRED, D_IPV4_DF_TOO_BIG,
  D_ICMPV6_QUOTE_NOT_OURS, D_ICMPV6_QUOTE_ENDPOINT, D_ICMPV6_RATE_LIMITED, D_ICMPV6_UNSUPPORTED,
  C_ICMP_RATE_LIMITED } from "../../assembly/datapath/counters";
import { ICMP_PER_HOST, ICMP_PER_SECOND } from "../../assembly/datapath/icmp";

const HOST: u32 = ip4(198, 51, 100, 7);
const CE_A: u32 = ip4(203, 86, 225, 1);
const CE_B: u32 = ip4(192, 0, 2, 18);

/** Tunnels the IPv4 packet already at input(i) + 40 from `from` to `to`; sets the input length. */
function tunnel(i: i32, from: string, to: string, v4len: i32): void {
  const p = input(i);
  setLen(i, buildIpv4InIpv6(p, addr6(ADDR_A, from), addr6(ADDR_B, to), v4len));
}

/** UDP from the JANOG CE (sport) to dst:dport, tunnelled from `from` to BR1. */
function udpFromCe(i: i32, from: string, sport: i32, dst: u32, dport: i32): i32 {
  const l = buildIpv4Udp(input(i) + V6, CE_A, dst, sport, dport, 24);
  tunnel(i, from, BR1, l);
  return l;
}

describe("BR: IPv6 from a CE", () => {
  it("from the right CE: decapsulated toward the internet (start moved forward)", () => {
    expect<i32>(setupBr()).toBe(0);
    const l = udpFromCe(0, CE_A_RFC, 4660, HOST, 53);
    copyBytes(PKT_B, input(0) + V6, l);
    decTtl(PKT_B);
    expect<i32>(run(1)).toBe(1);
    expect<i32>(outVersion(0)).toBe(4);
    expect<usize>(outPtr(0)).toBe(input(0) + V6);
    expect<i32>(outLen(0)).toBe(l);
    expect<i32>(firstDiff(outPtr(0), PKT_B, l)).toBe(-1);
    expect<i32>(packets(C_FWD_TO_IPV4)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("any of the BR addresses is accepted; others are not", () => {
    expect<i32>(setupBr()).toBe(0);
    tunnel(0, CE_A_RFC, BR2, buildIpv4Udp(input(0) + V6, CE_A, HOST, 4660, 53, 8));
    tunnel(1, CE_A_RFC, "2403:9200:fff0::9", buildIpv4Udp(input(1) + V6, CE_A, HOST, 4660, 53, 8));
    tunnel(2, CE_A_RFC, "ff02::1", buildIpv4Udp(input(2) + V6, CE_A, HOST, 4660, 53, 8));
    expect<i32>(run(3)).toBe(1);
    expect<i32>(outVersion(0)).toBe(4);
    expect<i32>(packets(D_SECURITY_IPV6_DST)).toBe(1);
    expect<i32>(packets(D_IPV6_NOT_FOR_US)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("spoofed: right prefix, wrong PSID; a port no CE has; a source in no rule", () => {
    expect<i32>(setupBr()).toBe(0);
    udpFromCe(0, CE_A_RFC, 4661, HOST, 53); // PSID 0x235 belongs to 2403:9200:1235::
    udpFromCe(1, CE_A_RFC, 1000, HOST, 53); // below 2^12: no CE's port
    tunnel(2, CE_A_RFC, BR1, buildIpv4Udp(input(2) + V6, ip4(10, 1, 2, 3), HOST, 4660, 53, 8));
    udpFromCe(3, "2403:9200:1235::cb56:e101:235", 4661, HOST, 53); // that CE itself: fine
    expect<i32>(run(4)).toBe(1);
    expect<i32>(packets(D_SECURITY_IPV6_SRC)).toBe(2);
    expect<i32>(packets(D_SECURITY_IPV6_SRC_UNKNOWN)).toBe(1);
    expect<i32>(packets(C_FWD_TO_IPV4)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("with LEGACY_IID the source check expects the legacy interface id", () => {
    expect<i32>(setupBr(1)).toBe(0);
    udpFromCe(0, CE_A_LEGACY, 4660, HOST, 53);
    udpFromCe(1, CE_A_RFC, 4660, HOST, 53);
    expect<i32>(run(2)).toBe(1);
    expect<i32>(packets(D_SECURITY_IPV6_SRC)).toBe(1);
  });

  it("ICMP echo from a CE: the identifier is the port", () => {
    expect<i32>(setupBr()).toBe(0);
    tunnel(0, CE_A_RFC, BR1, buildIpv4IcmpEcho(input(0) + V6, CE_A, HOST, 8, 8756, 1, 8));
    tunnel(1, CE_A_RFC, BR1, buildIpv4IcmpEcho(input(1) + V6, CE_A, HOST, 8, 4661, 1, 8));
    expect<i32>(run(2)).toBe(1);
    expect<i32>(packets(D_SECURITY_IPV6_SRC)).toBe(1);
  });

  it("an ICMP error from a CE is checked by the quoted destination port", () => {
    expect<i32>(setupBr()).toBe(0);
    // The CE got 198.51.100.7:53 -> 203.86.225.1:4660 and answers Port Unreachable.
    let ql = buildIpv4Udp(PKT_A, HOST, CE_A, 53, 4660, 8);
    tunnel(0, CE_A_RFC, BR1, buildIpv4IcmpError(input(0) + V6, CE_A, HOST, 3, 3, 0, PKT_A, ql));
    ql = buildIpv4Udp(PKT_A, HOST, CE_A, 53, 4661, 8);
    tunnel(1, CE_A_RFC, BR1, buildIpv4IcmpError(input(1) + V6, CE_A, HOST, 3, 3, 0, PKT_A, ql));
    expect<i32>(run(2)).toBe(1);
    expect<i32>(outVersion(0)).toBe(4);
    expect<i32>(packets(D_SECURITY_IPV6_SRC)).toBe(1);
  });

  it("TTL 1 is dropped", () => {
    expect<i32>(setupBr()).toBe(0);
    const l = buildIpv4Udp(input(0) + V6, CE_A, HOST, 4660, 53, 8);
    setTtl(input(0) + V6, 1);
    tunnel(0, CE_A_RFC, BR1, l);
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_IPV4_TTL_EXPIRED)).toBe(1);
  });

  it("a next header other than IPv4 is not for the BR", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv6Udp(input(0), addr6(ADDR_A, CE_A_RFC), addr6(ADDR_B, BR1), 4660, 53, 8));
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_IPV6_UNSUPPORTED_NEXT_HEADER)).toBe(1);
  });
});

describe("BR: CE -> CE hairpin", () => {
  it("re-encapsulated to the other CE without leaving as IPv4", () => {
    expect<i32>(setupBr()).toBe(0);
    const l = udpFromCe(0, CE_A_RFC, 4660, CE_B, 1232);
    copyBytes(PKT_B, input(0) + V6, l);
    decTtl(PKT_B);
    udpFromCe(1, CE_A_RFC, 4660, CE_B, 1000); // below 2^(16-6)
    expect<i32>(run(2)).toBe(1);
    expect<i32>(outVersion(0)).toBe(6);
    expect<string>(outSrc6(0)).toBe(canonIPv6(BR1));
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_B_RFC));
    expect<i32>(outLen(0)).toBe(l + V6);
    expect<i32>(firstDiff(outPtr(0) + V6, PKT_B, l)).toBe(-1);
    expect<i32>(packets(C_HAIRPIN)).toBe(1);
    expect<i32>(packets(C_FWD_TO_IPV6)).toBe(1);
    expect<i32>(packets(D_BR_PORT_OUTSIDE)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("a hairpin too big for a lowered path MTU with DF: Fragmentation Needed back to the sending CE", () => {
    expect<i32>(setupBr()).toBe(0);
    // An ICMPv6 Packet Too Big (MTU 1280) from a router toward CE B about a packet the BR sent.
    const inner = buildIpv4Udp(PKT_A + V6, HOST, CE_B, 53, 1232, 1400);
    buildIpv4InIpv6(PKT_A, addr6(ADDR_A, BR1), addr6(ADDR_B, CE_B_RFC), inner);
    setLen(0, buildIpv6IcmpError(input(0), addr6(ADDR_C, "2001:db8:ffff::1"), addr6(ADDR_A, BR1), 2, 0, 1280,
      PKT_A, 1232));
    const l = buildIpv4Udp(input(1) + V6, CE_A, CE_B, 4660, 1232, 1300);
    tunnel(1, CE_A_RFC, BR1, l);
    expect<i32>(run(2)).toBe(2);
    expect<i32>(packets(C_PTB_RECEIVED)).toBe(1);
    // Output 0: the PTB turned into an ICMPv4 Fragmentation Needed to the internet sender.
    expect<i32>(outVersion(0)).toBe(4);
    expect<u32>(ipv4Dst(outPtr(0))).toBe(HOST);
    expect<i32>(icmp4Mtu(outPtr(0) + 20)).toBe(1240);
    // Output 1: the hairpin's error, tunnelled back to CE A.
    expect<i32>(packets(D_IPV4_DF_TOO_BIG)).toBe(1);
    expect<i32>(outVersion(1)).toBe(6);
    expect<string>(outDst6(1)).toBe(canonIPv6(CE_A_RFC));
    const e = outPtr(1) + V6;
    expect<i32>(ipv4Check(e, outLen(1) - V6)).toBe(IPV4_OK);
    expect<u32>(ipv4Dst(e)).toBe(CE_A);
    expect<u32>(ipv4Src(e)).toBe(CE_B);
    expect<i32>(icmp4Check(e + 20, outLen(1) - V6 - 20)).toBe(ICMP4_OK);
    expect<i32>(icmp4Type(e + 20)).toBe(3);
    expect<i32>(icmp4Code(e + 20)).toBe(4);
    expect<i32>(icmp4Mtu(e + 20)).toBe(1240);
    expect<i32>(packets(C_ICMP_GENERATED)).toBe(2);
    expect<i32>(unbalanced()).toBe(0);
  });
});

describe("BR: fragments from a CE", () => {
  it("outer IPv6 fragments are reassembled, then decapsulated", () => {
    expect<i32>(setupBr()).toBe(0);
    const l = buildIpv4Udp(PKT_A, CE_A, HOST, 4660, 53, 100); // 128 bytes
    copyBytes(input(0) + 48, PKT_A, 64);
    setLen(0, buildIpv6Fragment(input(0), addr6(ADDR_A, CE_A_RFC), addr6(ADDR_B, BR1), 4, 0, true, 77, 64));
    copyBytes(input(1) + 48, PKT_A + 64, l - 64);
    setLen(1, buildIpv6Fragment(input(1), addr6(ADDR_A, CE_A_RFC), addr6(ADDR_B, BR1), 4, 64, false, 77, l - 64));
    expect<i32>(run(2)).toBe(1);
    expect<i32>(packets(C_HELD)).toBe(1);
    expect<i32>(packets(C_REASSEMBLED)).toBe(1);
    expect<i32>(outVersion(0)).toBe(4);
    expect<i32>(outLen(0)).toBe(l);
    decTtl(PKT_A);
    expect<i32>(firstDiff(outPtr(0), PKT_A, l)).toBe(-1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("inner IPv4 fragments: a later one before its first gets the check without a port", () => {
    expect<i32>(setupBr()).toBe(0);
    buildIpv4Udp(PKT_A, CE_A, HOST, 4660, 53, 100);
    // From the right CE: forwarded at once.
    tunnel(0, CE_A_RFC, BR1, fragmentOf(input(0) + V6, PKT_A, 64, 44));
    // From a CE of another IPv4 address (203.86.225.5): spoofed.
    tunnel(1, "2403:9200:5123::cb56:e105:123", BR1, fragmentOf(input(1) + V6, PKT_A, 64, 44));
    // The first fragment, then (next batch) a later one checked with its ports.
    tunnel(2, CE_A_RFC, BR1, fragmentOf(input(2) + V6, PKT_A, 0, 64));
    expect<i32>(run(3)).toBe(2);
    expect<i32>(packets(D_SECURITY_IPV6_SRC)).toBe(1);
    // A CE sharing 203.86.225.1 with another PSID cannot send the rest of CE A's packet once the
    // first fragment was seen (the full check with the remembered port).
    tunnel(0, "2403:9200:1235::cb56:e101:235", BR1, fragmentOf(input(0) + V6, PKT_A, 64, 44));
    tunnel(1, CE_A_RFC, BR1, fragmentOf(input(1) + V6, PKT_A, 64, 44));
    expect<i32>(run(2, 1100)).toBe(1);
    expect<i32>(packets(D_SECURITY_IPV6_SRC)).toBe(2);
    expect<i32>(packets(C_FWD_TO_IPV4)).toBe(3);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("hairpinned fragments out of order are held until the first one names the CE", () => {
    expect<i32>(setupBr()).toBe(0);
    buildIpv4Udp(PKT_A, CE_A, CE_B, 4660, 1232, 100);
    tunnel(0, CE_A_RFC, BR1, fragmentOf(input(0) + V6, PKT_A, 64, 44));
    tunnel(1, CE_A_RFC, BR1, fragmentOf(input(1) + V6, PKT_A, 0, 64));
    expect<i32>(run(2)).toBe(2);
    expect<i32>(packets(C_HELD)).toBe(1);
    expect<i32>(packets(C_HAIRPIN)).toBe(2);
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_B_RFC));
    expect<string>(outDst6(1)).toBe(canonIPv6(CE_B_RFC));
    expect<i32>(unbalanced()).toBe(0);
  });
});

describe("BR: ICMPv6 to the BR", () => {
  it("echo request to the second BR address is answered from it", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv6IcmpEcho(input(0), addr6(ADDR_A, CE_A_RFC), addr6(ADDR_B, BR2), 128, 7, 1, 16));
    expect<i32>(run(1)).toBe(1);
    expect<string>(outSrc6(0)).toBe(canonIPv6(BR2));
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_A_RFC));
    const o = outPtr(0);
    expect<i32>(icmp6Type(o + V6)).toBe(129);
    expect<i32>(icmp6Check(o + V6, outLen(0) - V6, ipv6Src(o), ipv6Dst(o))).toBe(ICMP6_OK);
  });

  it("a Packet Too Big lowers the tunnel MTU toward that CE", () => {
    expect<i32>(setupBr()).toBe(0);
    const inner = buildIpv4Udp(PKT_A + V6, HOST, CE_A, 53, 4660, 1400);
    buildIpv4InIpv6(PKT_A, addr6(ADDR_A, BR1), addr6(ADDR_B, CE_A_RFC), inner);
    setLen(0, buildIpv6IcmpError(input(0), addr6(ADDR_C, "2001:db8:ffff::1"), addr6(ADDR_A, BR1), 2, 0, 1400,
      PKT_A, 1232));
    // Next: 1400 bytes with DF toward that CE no longer fit (1400 + 40 > 1400).
    setLen(1, buildIpv4Udp(input(1), HOST, CE_A, 53, 4660, 1372));
    expect<i32>(run(2)).toBe(2);
    expect<i32>(icmp4Mtu(outPtr(0) + 20)).toBe(1360);
    expect<i32>(icmp4Mtu(outPtr(1) + 20)).toBe(1360);
    expect<u32>(ipv4Dst(outPtr(1))).toBe(HOST);
    expect<i32>(ipv4TotalLength(outPtr(1))).toBe(576);
    expect<i32>(unbalanced()).toBe(0);
  });
});

// Issue "hostile input" item 1: the BR must not reflect spoofed ICMPv6
// errors. It relays one only when the quoted packet is one it could have
// sent: toward a CE of a rule, to the MAP address owning (address, port).
const ROUTER6 = "2001:db8:ffff::1";

/**
 * An ICMPv6 error (type, rest) from ROUTER6 to BR1 into input(i), quoting a
 * tunnel packet BR1 → `to6` carrying UDP src:53 → dst:dport.
 */
function errorToBr(i: i32, type: i32, rest: u32, to6: string, src: u32, dst: u32, dport: i32): void {
  const inner = buildIpv4Udp(PKT_A + V6, src, dst, 53, dport, 64);
  const t = buildIpv4InIpv6(PKT_A, addr6(ADDR_A, BR1), addr6(ADDR_B, to6), inner);
  setLen(i, buildIpv6IcmpError(input(i), addr6(ADDR_C, ROUTER6), addr6(ADDR_A, BR1), type, 0, rest, PKT_A, t));
}

describe("BR: ICMPv6 errors relayed only about packets the BR could have sent", () => {
  it("a quote toward an address in no rule (e.g. 8.8.8.8) is not reflected", () => {
    expect<i32>(setupBr()).toBe(0);
    errorToBr(0, 1, 0, CE_B_RFC, HOST, ip4(8, 8, 8, 8), 1232);
    errorToBr(1, 3, 0, CE_B_RFC, HOST, ip4(8, 8, 8, 8), 1232);
    errorToBr(2, 2, 1280, CE_B_RFC, HOST, ip4(8, 8, 8, 8), 1232);
    expect<i32>(run(3)).toBe(0);
    expect<i32>(packets(D_ICMPV6_QUOTE_NOT_OURS)).toBe(3);
    expect<i32>(packets(C_PTB_RECEIVED)).toBe(0);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("a quote whose IPv6 destination is not the CE owning (address, port) is not relayed", () => {
    expect<i32>(setupBr()).toBe(0);
    errorToBr(0, 1, 0, CE_A_RFC, HOST, CE_B, 1232);   // CE B's port, CE A's address
    errorToBr(1, 1, 0, CE_B_RFC, HOST, CE_B, 4660);   // a port CE B does not hold
    errorToBr(2, 2, 1280, CE_A_RFC, HOST, CE_B, 1232); // nor a Packet Too Big: the MTU stays
    expect<i32>(run(3)).toBe(0);
    expect<i32>(packets(D_ICMPV6_QUOTE_ENDPOINT)).toBe(3);
    expect<i32>(packets(C_PTB_RECEIVED)).toBe(0);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("the right quote is relayed; Parameter Problem too, as host unreachable (one mapping with the CE)", () => {
    expect<i32>(setupBr()).toBe(0);
    errorToBr(0, 1, 0, CE_B_RFC, HOST, CE_B, 1232);
    errorToBr(1, 4, 6, CE_B_RFC, HOST, CE_B, 1232);
    errorToBr(2, 3, 0, CE_B_RFC, HOST, CE_B, 1232);
    expect<i32>(run(3)).toBe(3);
    for (let j = 0; j < 3; j++) {
      const o = outPtr(j);
      expect<u32>(ipv4Src(o)).toBe(CE_B);
      expect<u32>(ipv4Dst(o)).toBe(HOST);
      expect<i32>(icmp4Check(o + 20, outLen(j) - 20)).toBe(ICMP4_OK);
    }
    expect<i32>(icmp4Type(outPtr(0) + 20)).toBe(3);
    expect<i32>(icmp4Code(outPtr(0) + 20)).toBe(1);
    expect<i32>(icmp4Type(outPtr(1) + 20)).toBe(3);
    expect<i32>(icmp4Code(outPtr(1) + 20)).toBe(1);
    expect<i32>(icmp4Type(outPtr(2) + 20)).toBe(11);
    expect<i32>(packets(D_ICMPV6_UNSUPPORTED)).toBe(0);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("what it relays is rate-limited (drop-icmpv6-rate-limited)", () => {
    expect<i32>(setupBr()).toBe(0);
    // A clock of its own: the limiter is per module, not reset by init.
    const t0: f64 = 900000;
    let made = 0;
    for (let b = 0; b < 40; b++) {
      for (let i = 0; i < 8; i++) errorToBr(i, 1, 0, CE_B_RFC, HOST, CE_B, 1232);
      made += run(8, t0 + <f64>b);
    }
    // 320 in, one victim: its share of the kind.
    expect<i32>(made).toBe(ICMP_PER_HOST);
    expect<i32>(packets(D_ICMPV6_RATE_LIMITED)).toBe(320 - ICMP_PER_HOST);
    expect<i32>(packets(C_ICMP_RATE_LIMITED)).toBe(0);
    // Many victims: never more than the kind's limit in a second.
    let many = 0;
    for (let b = 0; b < 40; b++) {
      for (let i = 0; i < 8; i++) errorToBr(i, 1, 0, CE_B_RFC, ip4(198, 51, 100, 10 + b), CE_B, 1232);
      many += run(8, t0 + 2000 + <f64>b);
    }
    expect<i32>(many).toBeLessThanOrEqual(ICMP_PER_SECOND);
    expect<i32>(many).toBeGreaterThan(ICMP_PER_HOST);
    expect<i32>(unbalanced()).toBe(0);
  });
});
