import { ipv4Version, ipv4Ihl, ipv4HeaderLength, ipv4Tos, ipv4TotalLength, ipv4Id, ipv4Flags,
  ipv4DontFragment, ipv4MoreFragments, ipv4FragmentOffset, ipv4IsFragment, ipv4Ttl, ipv4Protocol,
  ipv4Checksum, ipv4Src, ipv4Dst, ipv4Payload, ipv4PayloadLength,
  setIpv4VersionIhl, setIpv4Tos, setIpv4TotalLength, setIpv4Id, setIpv4Fragment, setIpv4FlagsFragment,
  ipv4FlagsFragment, setIpv4Ttl, setIpv4Protocol, setIpv4Src, setIpv4Dst, setIpv4Checksum,
  ipv4ComputeChecksum, ipv4FillChecksum, ipv4DecrementTtl, setIpv4SrcUpdate, setIpv4DstUpdate,
  setIpv4TotalLengthUpdate, setIpv4TtlUpdate, ipv4Check,
  IPV4_OK, IPV4_TOO_SHORT, IPV4_BAD_VERSION, IPV4_BAD_IHL, IPV4_BAD_TOTAL_LENGTH, IPV4_BAD_CHECKSUM,
  IP_PROTO_UDP } from "../../assembly/wire/ipv4";
import { PKT_A, PKT_B, ip4, firstDiff, copyBytes, buildIpv4Header, buildIpv4Udp,
  FX_IPV4_UDP, FX_IPV4_UDP_LEN, FX_IPV4_OPTS_UDP, FX_IPV4_OPTS_UDP_LEN } from "./builders";

const SRC = ip4(192, 0, 2, 1);
const DST = ip4(198, 51, 100, 2);

describe("ipv4: deconstruct", () => {
  it("reads every field of the UDP fixture", () => {
    const p = FX_IPV4_UDP;
    expect<i32>(ipv4Check(p, FX_IPV4_UDP_LEN)).toBe(IPV4_OK);
    expect<i32>(ipv4Version(p)).toBe(4);
    expect<i32>(ipv4Ihl(p)).toBe(5);
    expect<i32>(ipv4HeaderLength(p)).toBe(20);
    expect<i32>(ipv4Tos(p)).toBe(0);
    expect<i32>(ipv4TotalLength(p)).toBe(40);
    expect<i32>(ipv4Id(p)).toBe(0x1c46);
    expect<i32>(ipv4Flags(p)).toBe(2);
    expect<bool>(ipv4DontFragment(p)).toBe(true);
    expect<bool>(ipv4MoreFragments(p)).toBe(false);
    expect<i32>(ipv4FragmentOffset(p)).toBe(0);
    expect<bool>(ipv4IsFragment(p)).toBe(false);
    expect<i32>(ipv4Ttl(p)).toBe(64);
    expect<i32>(ipv4Protocol(p)).toBe(IP_PROTO_UDP);
    expect<u16>(ipv4Checksum(p)).toBe(0x3248);
    expect<u32>(ipv4Src(p)).toBe(SRC);
    expect<u32>(ipv4Dst(p)).toBe(DST);
    expect<usize>(ipv4Payload(p)).toBe(p + 20);
    expect<i32>(ipv4PayloadLength(p)).toBe(20);
  });

  it("reads a header with options (router alert), TOS, TTL 1, no DF", () => {
    const p = FX_IPV4_OPTS_UDP;
    expect<i32>(ipv4Check(p, FX_IPV4_OPTS_UDP_LEN)).toBe(IPV4_OK);
    expect<i32>(ipv4Ihl(p)).toBe(6);
    expect<i32>(ipv4HeaderLength(p)).toBe(24);
    expect<i32>(ipv4Tos(p)).toBe(0xb8);
    expect<i32>(ipv4Ttl(p)).toBe(1);
    expect<bool>(ipv4DontFragment(p)).toBe(false);
    expect<i32>(ipv4PayloadLength(p)).toBe(9);
    expect<u16>(ipv4ComputeChecksum(p)).toBe(ipv4Checksum(p));
  });

  it("reads fragment fields", () => {
    copyBytes(PKT_A, FX_IPV4_UDP, FX_IPV4_UDP_LEN);
    setIpv4Fragment(PKT_A, false, true, 1480);
    expect<u16>(ipv4FlagsFragment(PKT_A)).toBe(0x2000 | 185);
    expect<bool>(ipv4MoreFragments(PKT_A)).toBe(true);
    expect<i32>(ipv4FragmentOffset(PKT_A)).toBe(1480);
    expect<bool>(ipv4IsFragment(PKT_A)).toBe(true);
    setIpv4Fragment(PKT_A, false, false, 8);
    expect<bool>(ipv4IsFragment(PKT_A)).toBe(true);
  });
});

describe("ipv4: construct", () => {
  it("setters rebuild the UDP fixture header byte for byte", () => {
    memory.fill(PKT_A, 0, 64);
    setIpv4VersionIhl(PKT_A, 5);
    setIpv4Tos(PKT_A, 0);
    setIpv4TotalLength(PKT_A, 40);
    setIpv4Id(PKT_A, 0x1c46);
    setIpv4Fragment(PKT_A, true, false, 0);
    setIpv4Ttl(PKT_A, 64);
    setIpv4Protocol(PKT_A, IP_PROTO_UDP);
    setIpv4Src(PKT_A, SRC);
    setIpv4Dst(PKT_A, DST);
    ipv4FillChecksum(PKT_A);
    expect<i32>(firstDiff(PKT_A, FX_IPV4_UDP, 20)).toBe(-1);
  });

  it("the UDP builder rebuilds the whole fixture", () => {
    memory.fill(PKT_A, 0, 64);
    // builder payload is a pattern: copy the fixture's payload over it afterwards
    buildIpv4Header(PKT_A, SRC, DST, IP_PROTO_UDP, 20, 64, 0x1c46, true);
    expect<i32>(firstDiff(PKT_A, FX_IPV4_UDP, 20)).toBe(-1);
    const n = buildIpv4Udp(PKT_B, SRC, DST, 1234, 53, 100);
    expect<i32>(n).toBe(128);
    expect<i32>(ipv4Check(PKT_B, n)).toBe(IPV4_OK);
  });
});

describe("ipv4: check", () => {
  it("returns each reason for a mutated fixture", () => {
    const p = PKT_A;
    const n = FX_IPV4_UDP_LEN;
    copyBytes(p, FX_IPV4_UDP, n);
    expect<i32>(ipv4Check(p, 19)).toBe(IPV4_TOO_SHORT);
    expect<i32>(ipv4Check(p, n + 20)).toBe(IPV4_OK); // trailing link padding is fine

    store<u8>(p, 0x65);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_BAD_VERSION);
    setIpv4VersionIhl(p, 4);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_BAD_IHL);
    setIpv4VersionIhl(p, 15);                        // 60-byte header in 40 bytes
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_BAD_IHL);
    setIpv4VersionIhl(p, 5);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_OK);

    setIpv4TotalLength(p, n + 1);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_BAD_TOTAL_LENGTH);
    setIpv4TotalLength(p, 19);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_BAD_TOTAL_LENGTH);
    setIpv4TotalLength(p, n);

    setIpv4Ttl(p, 63);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_BAD_CHECKSUM);
    ipv4FillChecksum(p);
    expect<i32>(ipv4Check(p, n)).toBe(IPV4_OK);
  });

  it("a total length below the options is refused", () => {
    copyBytes(PKT_A, FX_IPV4_OPTS_UDP, FX_IPV4_OPTS_UDP_LEN);
    setIpv4TotalLength(PKT_A, 22);
    expect<i32>(ipv4Check(PKT_A, FX_IPV4_OPTS_UDP_LEN)).toBe(IPV4_BAD_TOTAL_LENGTH);
  });

  it("reason codes are distinct and non-zero", () => {
    expect<i32>(IPV4_TOO_SHORT * IPV4_BAD_VERSION * IPV4_BAD_IHL * IPV4_BAD_TOTAL_LENGTH * IPV4_BAD_CHECKSUM).not.toBe(0);
    expect<i32>(IPV4_TOO_SHORT ^ IPV4_BAD_VERSION ^ IPV4_BAD_IHL ^ IPV4_BAD_TOTAL_LENGTH ^ IPV4_BAD_CHECKSUM).toBe(1 ^ 2 ^ 3 ^ 4 ^ 5);
  });
});

describe("ipv4: round trip and incremental setters", () => {
  it("parse then emit every field gives the same header", () => {
    const p = FX_IPV4_OPTS_UDP;
    memory.fill(PKT_A, 0, 64);
    memory.copy(PKT_A + 20, p + 20, 4);             // the option bytes are not fields
    setIpv4VersionIhl(PKT_A, ipv4Ihl(p));
    setIpv4Tos(PKT_A, ipv4Tos(p));
    setIpv4TotalLength(PKT_A, ipv4TotalLength(p));
    setIpv4Id(PKT_A, ipv4Id(p));
    setIpv4FlagsFragment(PKT_A, ipv4FlagsFragment(p));
    setIpv4Ttl(PKT_A, ipv4Ttl(p));
    setIpv4Protocol(PKT_A, ipv4Protocol(p));
    setIpv4Checksum(PKT_A, ipv4Checksum(p));
    setIpv4Src(PKT_A, ipv4Src(p));
    setIpv4Dst(PKT_A, ipv4Dst(p));
    expect<i32>(firstDiff(PKT_A, p, 24)).toBe(-1);
  });

  it("TTL, address and length updates keep the checksum equal to a recomputation", () => {
    copyBytes(PKT_A, FX_IPV4_UDP, FX_IPV4_UDP_LEN);
    let bad = 0;
    for (let i = 0; i < 300; i++) {
      ipv4DecrementTtl(PKT_A);
      if (ipv4Checksum(PKT_A) != ipv4ComputeChecksum(PKT_A)) bad++;
      setIpv4SrcUpdate(PKT_A, ipv4Src(PKT_A) * 2654435761 + <u32>i);
      if (ipv4Checksum(PKT_A) != ipv4ComputeChecksum(PKT_A)) bad++;
      setIpv4DstUpdate(PKT_A, ipv4Dst(PKT_A) ^ (<u32>i << 7));
      if (ipv4Checksum(PKT_A) != ipv4ComputeChecksum(PKT_A)) bad++;
      setIpv4TotalLengthUpdate(PKT_A, 20 + ((i * 37) & 0xFFF));
      if (ipv4Checksum(PKT_A) != ipv4ComputeChecksum(PKT_A)) bad++;
      setIpv4TtlUpdate(PKT_A, (i * 11) & 0xFF);
      if (ipv4Checksum(PKT_A) != ipv4ComputeChecksum(PKT_A)) bad++;
    }
    expect<i32>(bad).toBe(0);
  });
});
