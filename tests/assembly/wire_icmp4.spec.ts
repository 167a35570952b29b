import { icmp4Type, icmp4Code, icmp4Checksum, icmp4EchoId, icmp4EchoSeq, icmp4Mtu, icmp4Pointer, icmp4Quote,
  icmp4IsError, setIcmp4Type, setIcmp4Code, setIcmp4Checksum, setIcmp4EchoId, setIcmp4EchoSeq, setIcmp4Mtu,
  setIcmp4Pointer, setIcmp4Unused, icmp4ComputeChecksum, icmp4FillChecksum, icmp4Check,
  ICMP4_OK, ICMP4_TOO_SHORT, ICMP4_BAD_CHECKSUM, ICMP4_ECHO_REQUEST, ICMP4_ECHO_REPLY,
  ICMP4_DEST_UNREACHABLE, ICMP4_CODE_FRAGMENTATION_NEEDED, ICMP4_TIME_EXCEEDED, ICMP4_PARAMETER_PROBLEM,
  ICMP4_QUOTE } from "../../assembly/wire/icmp4";
import { checksumUpdate16 } from "../../assembly/wire/checksum";
import { ipv4Check, ipv4TotalLength, IPV4_OK, IP_PROTO_ICMP } from "../../assembly/wire/ipv4";
import { PKT_A, PKT_B, ip4, firstDiff, copyBytes, buildIpv4IcmpEcho, buildIpv4IcmpError,
  FX_IPV4_ICMP_ECHO, FX_IPV4_ICMP_ECHO_LEN, FX_IPV4_UDP, FX_IPV4_UDP_LEN } from "./builders";

const SRC = ip4(192, 0, 2, 1);
const DST = ip4(198, 51, 100, 2);

describe("icmp4: deconstruct", () => {
  it("reads the echo request fixture", () => {
    const m = FX_IPV4_ICMP_ECHO + 20;
    expect<i32>(icmp4Check(m, 16)).toBe(ICMP4_OK);
    expect<i32>(icmp4Type(m)).toBe(ICMP4_ECHO_REQUEST);
    expect<i32>(icmp4Code(m)).toBe(0);
    expect<u16>(icmp4Checksum(m)).toBe(0x5435);
    expect<i32>(icmp4EchoId(m)).toBe(0x1234);
    expect<i32>(icmp4EchoSeq(m)).toBe(1);
    expect<bool>(icmp4IsError(icmp4Type(m))).toBe(false);
    expect<u16>(icmp4ComputeChecksum(m, 16)).toBe(0x5435);
  });
});

describe("icmp4: construct", () => {
  it("setters rebuild the echo fixture's message", () => {
    memory.fill(PKT_A, 0, 32);
    memory.copy(PKT_A + 8, FX_IPV4_ICMP_ECHO + 28, 8);  // "abcdefgh"
    setIcmp4Type(PKT_A, ICMP4_ECHO_REQUEST);
    setIcmp4Code(PKT_A, 0);
    setIcmp4EchoId(PKT_A, 0x1234);
    setIcmp4EchoSeq(PKT_A, 1);
    icmp4FillChecksum(PKT_A, 16);
    expect<i32>(firstDiff(PKT_A, FX_IPV4_ICMP_ECHO + 20, 16)).toBe(-1);
  });

  it("an echo reply built by the builder verifies", () => {
    const n = buildIpv4IcmpEcho(PKT_A, DST, SRC, ICMP4_ECHO_REPLY, 0x1234, 1, 56);
    expect<i32>(n).toBe(84);
    expect<i32>(ipv4Check(PKT_A, n)).toBe(IPV4_OK);
    expect<i32>(icmp4Check(PKT_A + 20, n - 20)).toBe(ICMP4_OK);
  });

  it("fragmentation needed quotes the packet and carries the next-hop MTU", () => {
    const n = buildIpv4IcmpError(PKT_A, ip4(203, 0, 113, 1), SRC, ICMP4_DEST_UNREACHABLE,
      ICMP4_CODE_FRAGMENTATION_NEEDED, 1400, FX_IPV4_UDP, 28);
    expect<i32>(n).toBe(20 + 8 + 28);
    const m = PKT_A + 20;
    expect<i32>(icmp4Check(m, n - 20)).toBe(ICMP4_OK);
    expect<bool>(icmp4IsError(icmp4Type(m))).toBe(true);
    expect<i32>(icmp4Mtu(m)).toBe(1400);
    expect<usize>(icmp4Quote(m)).toBe(m + ICMP4_QUOTE);
    expect<i32>(firstDiff(icmp4Quote(m), FX_IPV4_UDP, 28)).toBe(-1);
    // the quote is truncated: its Total Length exceeds what is quoted
    expect<i32>(ipv4TotalLength(icmp4Quote(m))).toBe(FX_IPV4_UDP_LEN);
    expect<i32>(ipv4Check(icmp4Quote(m), 28)).not.toBe(IPV4_OK);
  });

  it("rest-of-header setters for MTU, pointer and unused", () => {
    memory.fill(PKT_A, 0xAA, 8);
    setIcmp4Mtu(PKT_A, 1280);
    expect<u32>(load<u32>(PKT_A, 4)).toBe(bswap<u32>(1280));
    setIcmp4Pointer(PKT_A, 9);
    expect<i32>(icmp4Pointer(PKT_A)).toBe(9);
    expect<u32>(load<u32>(PKT_A, 4)).toBe(9);
    setIcmp4Unused(PKT_A);
    expect<u32>(load<u32>(PKT_A, 4)).toBe(0);
    expect<bool>(icmp4IsError(ICMP4_TIME_EXCEEDED)).toBe(true);
    expect<bool>(icmp4IsError(ICMP4_PARAMETER_PROBLEM)).toBe(true);
  });
});

describe("icmp4: check", () => {
  it("returns each reason for a mutated fixture", () => {
    copyBytes(PKT_A, FX_IPV4_ICMP_ECHO + 20, 16);
    expect<i32>(icmp4Check(PKT_A, 7)).toBe(ICMP4_TOO_SHORT);
    expect<i32>(icmp4Check(PKT_A, 15)).toBe(ICMP4_BAD_CHECKSUM);
    setIcmp4EchoSeq(PKT_A, 2);
    expect<i32>(icmp4Check(PKT_A, 16)).toBe(ICMP4_BAD_CHECKSUM);
    setIcmp4Checksum(PKT_A, icmp4ComputeChecksum(PKT_A, 16));
    expect<i32>(icmp4Check(PKT_A, 16)).toBe(ICMP4_OK);
  });
});

describe("icmp4: round trip", () => {
  it("a NAT rewrite of the echo identifier, done incrementally, still verifies", () => {
    copyBytes(PKT_A, FX_IPV4_ICMP_ECHO, FX_IPV4_ICMP_ECHO_LEN);
    const m = PKT_A + 20;
    let bad = 0;
    for (let id = 0; id < 65536; id += 97) {
      setIcmp4Checksum(m, checksumUpdate16(icmp4Checksum(m), <u16>icmp4EchoId(m), <u16>id));
      setIcmp4EchoId(m, id);
      if (icmp4Check(m, 16) != ICMP4_OK) bad++;
    }
    expect<i32>(bad).toBe(0);
    // and parse -> emit reproduces the message
    memory.fill(PKT_B, 0, 16);
    memory.copy(PKT_B + 8, m + 8, 8);
    setIcmp4Type(PKT_B, icmp4Type(m));
    setIcmp4Code(PKT_B, icmp4Code(m));
    setIcmp4Checksum(PKT_B, icmp4Checksum(m));
    setIcmp4EchoId(PKT_B, icmp4EchoId(m));
    setIcmp4EchoSeq(PKT_B, icmp4EchoSeq(m));
    expect<i32>(firstDiff(PKT_B, m, 16)).toBe(-1);
    expect<i32>(IP_PROTO_ICMP).toBe(1);
  });
});
