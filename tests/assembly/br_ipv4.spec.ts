// BR, IPv4 from the internet toward the CEs (RFC 7597 §8.2): rule lookup,
// the port that names the CE, encapsulation, fragments, tunnel MTU, TTL.
import { setupBr, input, setLen, run, outPtr, outLen, outSrc6, outDst6, outVersion, packets, unbalanced,
  fragmentOf, clearDf, decTtl, setTtl, BR1, CE_A_RFC, CE_A_LEGACY, V6 } from "./br_helpers";
import { canonIPv6 } from "./map_helpers";
import { buildIpv4Udp, buildIpv4IcmpEcho, buildIpv4IcmpError, ip4, PKT_A, PKT_B, firstDiff, copyBytes } from "./builders";
import { ipv6NextHeader, ipv6HopLimit, ipv6PayloadLength, ipv6TrafficClass } from "../../assembly/wire/ipv6";
import { ipv4Src, ipv4Dst, ipv4TotalLength, ipv4Protocol, ipv4FragmentOffset, ipv4MoreFragments, ipv4Check,
  setIpv4Fragment, ipv4FillChecksum, IPV4_OK } from "../../assembly/wire/ipv4";
import { icmp4Type, icmp4Code, icmp4Mtu, icmp4Check, ICMP4_OK } from "../../assembly/wire/icmp4";
import { C_FWD_TO_IPV6, C_HELD, C_RELEASED, C_ICMP_GENERATED, C_FRAGMENTS_OUT, C_OUT_IPV4,
  D_BR_NO_RULE, D_BR_PORT_OUTSIDE, D_IPV4_TTL_EXPIRED, D_IPV4_DF_TOO_BIG, D_ICMP_BAD_QUOTE,
  D_IPV4_UNSUPPORTED_PROTOCOL, D_FRAGMENT_BAD } from "../../assembly/datapath/counters";

const HOST: u32 = ip4(198, 51, 100, 7);
const CE_A: u32 = ip4(203, 86, 225, 1);

/** Checks output j is the IPv4 packet saved at `inner` (len bytes), tunnelled BR1 -> `ce`. */
function expectTunnelled(j: i32, ce: string, inner: usize, len: i32): void {
  expect<i32>(outVersion(j)).toBe(6);
  expect<i32>(outLen(j)).toBe(len + V6);
  expect<string>(outSrc6(j)).toBe(canonIPv6(BR1));
  expect<string>(outDst6(j)).toBe(canonIPv6(ce));
  expect<i32>(ipv6NextHeader(outPtr(j))).toBe(4);
  expect<i32>(ipv6HopLimit(outPtr(j))).toBe(64);
  expect<i32>(ipv6PayloadLength(outPtr(j))).toBe(len);
  expect<i32>(firstDiff(outPtr(j) + V6, inner, len)).toBe(-1);
}

describe("BR: IPv4 to a CE", () => {
  it("UDP to 203.86.225.1:4660 is tunnelled to the JANOG CE (RFC interface id)", () => {
    expect<i32>(setupBr()).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 32);
    setLen(0, len);
    copyBytes(PKT_B, input(0), len);
    decTtl(PKT_B);
    expect<i32>(run(1)).toBe(1);
    expectTunnelled(0, CE_A_RFC, PKT_B, len);
    // Encapsulation in place: the outer header sits in the headroom.
    expect<usize>(outPtr(0)).toBe(input(0) - V6);
    expect<i32>(packets(C_FWD_TO_IPV6)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("with LEGACY_IID the pre-RFC interface id", () => {
    expect<i32>(setupBr(1)).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 32);
    setLen(0, len);
    copyBytes(PKT_B, input(0), len);
    decTtl(PKT_B);
    expect<i32>(run(1)).toBe(1);
    expectTunnelled(0, CE_A_LEGACY, PKT_B, len);
  });

  it("another port of the same PSID goes to the same CE; another PSID elsewhere", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv4Udp(input(0), HOST, CE_A, 53, 8756, 8));     // 0x2234: PSID 0x234
    setLen(1, buildIpv4Udp(input(1), HOST, CE_A, 53, 4661, 8));     // 0x1235: PSID 0x235
    expect<i32>(run(2)).toBe(2);
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_A_RFC));
    expect<string>(outDst6(1)).toBe(canonIPv6("2403:9200:1235::cb56:e101:235"));
  });

  it("traffic class from the TOS (tcFromTos default on)", () => {
    expect<i32>(setupBr()).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 8);
    store<u8>(input(0), 0xb8, 1); // DSCP EF
    clearDf(input(0));            // recomputes the header checksum
    setLen(0, len);
    expect<i32>(run(1)).toBe(1);
    expect<i32>(ipv6TrafficClass(outPtr(0))).toBe(0xb8);
  });

  it("a port below 2^(16-a) is outside every port set", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv4Udp(input(0), HOST, CE_A, 53, 4000, 8));
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_BR_PORT_OUTSIDE)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("a destination in no rule is dropped", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv4Udp(input(0), HOST, ip4(203, 86, 226, 1), 53, 4660, 8));
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_BR_NO_RULE)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("ICMP echo: the identifier is the port", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv4IcmpEcho(input(0), HOST, CE_A, 0, 4660, 1, 16));   // reply to the CE's ping
    setLen(1, buildIpv4IcmpEcho(input(1), HOST, CE_A, 8, 8756, 1, 16));   // request to a CE port
    setLen(2, buildIpv4IcmpEcho(input(2), HOST, CE_A, 0, 100, 1, 16));    // id below 4096
    expect<i32>(run(3)).toBe(2);
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_A_RFC));
    expect<string>(outDst6(1)).toBe(canonIPv6(CE_A_RFC));
    expect<i32>(packets(D_BR_PORT_OUTSIDE)).toBe(1);
  });

  it("an ICMP error quoting a packet the CE sent goes to that CE (quoted source port)", () => {
    expect<i32>(setupBr()).toBe(0);
    // The CE's packet 203.86.225.1:4660 -> 198.51.100.7:53, as a router saw it.
    const ql = buildIpv4Udp(PKT_A, CE_A, HOST, 4660, 53, 8);
    setLen(0, buildIpv4IcmpError(input(0), ip4(198, 51, 100, 254), CE_A, 11, 0, 0, PKT_A, ql));
    // The same error about a packet from another address: not a quote of this CE.
    const ql2 = buildIpv4Udp(PKT_A, ip4(203, 86, 225, 2), HOST, 4660, 53, 8);
    setLen(1, buildIpv4IcmpError(input(1), ip4(198, 51, 100, 254), CE_A, 11, 0, 0, PKT_A, ql2));
    expect<i32>(run(2)).toBe(1);
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_A_RFC));
    expect<i32>(packets(D_ICMP_BAD_QUOTE)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("a protocol without ports cannot be mapped to a shared address", () => {
    expect<i32>(setupBr()).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 8);
    store<u8>(input(0), 47, 9); // GRE
    clearDf(input(0));
    setLen(0, len);
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_IPV4_UNSUPPORTED_PROTOCOL)).toBe(1);
  });

  it("TTL 1 is dropped, not tunnelled", () => {
    expect<i32>(setupBr()).toBe(0);
    setLen(0, buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 8));
    setTtl(input(0), 1);
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_IPV4_TTL_EXPIRED)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });
});

describe("BR: IPv4 fragments to a CE", () => {
  it("fragments out of order, in one batch, reach the same CE in order", () => {
    expect<i32>(setupBr()).toBe(0);
    const whole = buildIpv4Udp(PKT_A, HOST, CE_A, 53, 4660, 100); // 128 bytes, data 108
    expect<i32>(whole).toBe(128);
    const l1 = fragmentOf(input(0), PKT_A, 48, 60); // last
    const l2 = fragmentOf(input(1), PKT_A, 24, 24); // middle
    const l3 = fragmentOf(input(2), PKT_A, 0, 24);  // first: has the ports
    setLen(0, l1);
    setLen(1, l2);
    setLen(2, l3);
    expect<i32>(run(3)).toBe(3);
    expect<i32>(packets(C_HELD)).toBe(2);
    expect<i32>(packets(C_RELEASED)).toBe(2);
    let wrong = 0;
    for (let j = 0; j < 3; j++) if (outDst6(j) != canonIPv6(CE_A_RFC)) wrong++;
    expect<i32>(wrong).toBe(0);
    // The first fragment leaves first, the released ones after it.
    expect<i32>(ipv4FragmentOffset(outPtr(0) + V6)).toBe(0);
    expect<i32>(ipv4FragmentOffset(outPtr(1) + V6) + ipv4FragmentOffset(outPtr(2) + V6)).toBe(72);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("a later fragment held across batches is released by the first", () => {
    expect<i32>(setupBr()).toBe(0);
    buildIpv4Udp(PKT_A, HOST, CE_A, 53, 8756, 100);
    setLen(0, fragmentOf(input(0), PKT_A, 64, 44));
    expect<i32>(run(1, 1000)).toBe(0);
    setLen(0, fragmentOf(input(0), PKT_A, 0, 64));
    expect<i32>(run(1, 1500)).toBe(2);
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_A_RFC));
    expect<string>(outDst6(1)).toBe(canonIPv6(CE_A_RFC));
    expect<i32>(ipv4FragmentOffset(outPtr(1) + V6)).toBe(64);
    // A later fragment after its first goes straight through.
    setLen(0, fragmentOf(input(0), PKT_A, 64, 44));
    expect<i32>(run(1, 1600)).toBe(1);
    expect<string>(outDst6(0)).toBe(canonIPv6(CE_A_RFC));
    expect<i32>(unbalanced()).toBe(0);
  });
  // RFC 791, the same checks the CE makes (datapath/parse.ts): until the BR
  // parsed with the CE's function it tunnelled both of these.
  it("a first fragment whose data is not a multiple of 8 is drop-fragment-bad", () => {
    expect<i32>(setupBr()).toBe(0);
    buildIpv4Udp(PKT_A, HOST, CE_A, 53, 4660, 100);
    setLen(0, fragmentOf(input(0), PKT_A, 0, 20)); // MF set, 20 data bytes
    expect<i32>(run(1)).toBe(0);
    expect<i32>(packets(D_FRAGMENT_BAD)).toBe(1);
    expect<i32>(packets(C_FWD_TO_IPV6)).toBe(0);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("a later fragment that reaches past 65535 is drop-fragment-bad", () => {
    expect<i32>(setupBr()).toBe(0);
    buildIpv4Udp(PKT_A, HOST, CE_A, 53, 4660, 100);
    setLen(0, fragmentOf(input(0), PKT_A, 0, 64));
    setLen(1, fragmentOf(input(1), PKT_A, 64, 44));
    setIpv4Fragment(input(1), false, false, 65528); // last piece at 65528: 44 bytes run past 65535
    ipv4FillChecksum(input(1));
    expect<i32>(run(2)).toBe(1);
    expect<i32>(packets(D_FRAGMENT_BAD)).toBe(1);
    expect<i32>(unbalanced()).toBe(0);
  });
});

describe("BR: tunnel MTU", () => {
  it("DF set and too big: ICMPv4 Fragmentation Needed (MTU - 40) to the sender", () => {
    expect<i32>(setupBr(0, 1280)).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 1272); // 1300 bytes
    setLen(0, len);
    expect<i32>(run(1)).toBe(1);
    expect<i32>(packets(D_IPV4_DF_TOO_BIG)).toBe(1);
    expect<i32>(packets(C_ICMP_GENERATED)).toBe(1);
    expect<i32>(packets(C_OUT_IPV4)).toBe(1);
    const o = outPtr(0);
    expect<i32>(outVersion(0)).toBe(4);
    expect<i32>(ipv4Check(o, outLen(0))).toBe(IPV4_OK);
    expect<u32>(ipv4Dst(o)).toBe(HOST);
    expect<u32>(ipv4Src(o)).toBe(CE_A);
    expect<i32>(ipv4Protocol(o)).toBe(1);
    expect<i32>(icmp4Check(o + 20, outLen(0) - 20)).toBe(ICMP4_OK);
    expect<i32>(icmp4Type(o + 20)).toBe(3);
    expect<i32>(icmp4Code(o + 20)).toBe(4);
    expect<i32>(icmp4Mtu(o + 20)).toBe(1240);
    expect<i32>(ipv4TotalLength(o)).toBe(576);
    expect<i32>(unbalanced()).toBe(0);
  });

  it("DF clear and too big: the tunnel packet leaves as IPv6 fragments (RFC 2473 §7.2)", () => {
    expect<i32>(setupBr(0, 1280)).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 1272);
    clearDf(input(0));
    setLen(0, len);
    expect<i32>(run(1)).toBe(2);
    expect<i32>(packets(C_FRAGMENTS_OUT)).toBe(1);
    expect<i32>(outLen(0)).toBe(1280 - ((1280 - 48) & 7));
    const a = outPtr(0);
    const b = outPtr(1);
    // Fixed header (next header 44), Fragment header (next header 4).
    expect<i32>(load<u8>(a + 6)).toBe(44);
    expect<i32>(load<u8>(a + 40)).toBe(4);
    expect<i32>(load<u8>(b + 6)).toBe(44);
    expect<u32>(load<u32>(a + 44)).toBe(load<u32>(b + 44)); // one identification
    const offB = <i32>bswap<u16>(load<u16>(b + 42));
    expect<i32>(offB & 1).toBe(0); // last: M clear
    expect<i32>(<i32>bswap<u16>(load<u16>(a + 42)) & 1).toBe(1);
    expect<i32>(offB & ~7).toBe(outLen(0) - 48);
    expect<i32>(outLen(0) - 48 + outLen(1) - 48).toBe(len);
    // The inner IPv4 header is whole in the first piece, DF still clear, not fragmented.
    expect<i32>(ipv4Check(a + 48, len)).toBe(IPV4_OK);
    expect<bool>(ipv4MoreFragments(a + 48)).toBe(false);
    expect<string>(outDst6(1)).toBe(canonIPv6(CE_A_RFC));
    expect<i32>(unbalanced()).toBe(0);
  });

  it("DF clear and too big, innerFragmentation: fragmented as IPv4, each piece tunnelled", () => {
    expect<i32>(setupBr(0, 1280, 1)).toBe(0);
    const len = buildIpv4Udp(input(0), HOST, CE_A, 53, 4660, 1272);
    clearDf(input(0));
    setLen(0, len);
    expect<i32>(run(1)).toBe(2);
    expect<i32>(packets(C_FRAGMENTS_OUT)).toBe(1);
    expect<i32>(outLen(0) <= 1280).toBe(true);
    const a = outPtr(0) + V6;
    const b = outPtr(1) + V6;
    expect<i32>(ipv4Check(a, outLen(0) - V6)).toBe(IPV4_OK);
    expect<i32>(ipv4Check(b, outLen(1) - V6)).toBe(IPV4_OK);
    expect<bool>(ipv4MoreFragments(a)).toBe(true);
    expect<bool>(ipv4MoreFragments(b)).toBe(false);
    expect<i32>(ipv4FragmentOffset(b)).toBe(ipv4TotalLength(a) - 20);
    expect<i32>(ipv4TotalLength(a) + ipv4TotalLength(b) - 20).toBe(len);
    expect<string>(outDst6(1)).toBe(canonIPv6(CE_A_RFC));
    expect<i32>(unbalanced()).toBe(0);
  });
});
