import { tcpSrcPort, tcpDstPort, tcpSeq, tcpAck, tcpDataOffset, tcpFlags, tcpWindow, tcpChecksum, tcpUrgent,
  setTcpSrcPort, setTcpDstPort, setTcpSeq, setTcpAck, setTcpDataOffset, setTcpFlags, setTcpWindow,
  setTcpChecksum, setTcpUrgent, tcpComputeChecksum4, tcpComputeChecksum6, tcpChecksumValid4, tcpChecksumValid6,
  tcpCheck, tcpFindMss, tcpClampMss,
  TCP_OK, TCP_TOO_SHORT, TCP_BAD_DATA_OFFSET, TCP_SYN, TCP_ACK_FLAG, TCP_FIN, TCP_PSH } from "../../assembly/wire/tcp";
import { ipv6Src, ipv6Dst } from "../../assembly/wire/ipv6";
import { PKT_A, PKT_B, ADDR_A, ADDR_B, ip4, ip6, firstDiff, copyBytes, buildIpv4Tcp, buildIpv6Tcp,
  FX_IPV4_TCP_SYN, FX_IPV4_TCP_SYN_LEN, FX_IPV4_TCP_NOP_MSS, FX_IPV4_TCP_NOP_MSS_LEN } from "./builders";

const SRC = ip4(192, 0, 2, 1);
const DST = ip4(198, 51, 100, 2);

let rng: u32 = 0x5EED;
function rand(): u32 { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

function mssAt(t: usize, at: i32): i32 { return bswap<u16>(load<u16>(t + <usize>at)); }

describe("tcp: deconstruct", () => {
  it("reads every field of a Linux-style SYN", () => {
    const t = FX_IPV4_TCP_SYN + 20;
    expect<i32>(tcpCheck(t, 40)).toBe(TCP_OK);
    expect<i32>(tcpSrcPort(t)).toBe(40000);
    expect<i32>(tcpDstPort(t)).toBe(80);
    expect<u32>(tcpSeq(t)).toBe(0x01020304);
    expect<u32>(tcpAck(t)).toBe(0);
    expect<i32>(tcpDataOffset(t)).toBe(40);
    expect<i32>(tcpFlags(t)).toBe(TCP_SYN);
    expect<i32>(tcpWindow(t)).toBe(64240);
    expect<u16>(tcpChecksum(t)).toBe(0xc040);
    expect<i32>(tcpUrgent(t)).toBe(0);
    expect<bool>(tcpChecksumValid4(t, 40, SRC, DST)).toBe(true);
    const at = tcpFindMss(t);
    expect<i32>(at).toBe(22);
    expect<i32>(mssAt(t, at)).toBe(1460);
  });

  it("finds an MSS option at an odd offset after a NOP (SYN-ACK)", () => {
    const t = FX_IPV4_TCP_NOP_MSS + 20;
    expect<i32>(tcpFlags(t)).toBe(TCP_SYN | TCP_ACK_FLAG);
    expect<u32>(tcpSeq(t)).toBe(0xfffffff0);
    expect<u32>(tcpAck(t)).toBe(0x11223344);
    expect<i32>(tcpFindMss(t)).toBe(23);
    expect<i32>(mssAt(t, 23)).toBe(9000);
  });
});

describe("tcp: construct", () => {
  it("setters rebuild the SYN fixture", () => {
    memory.fill(PKT_A, 0, 64);
    memory.copy(PKT_A + 20, FX_IPV4_TCP_SYN + 40, 20);   // the options block
    setTcpSrcPort(PKT_A, 40000);
    setTcpDstPort(PKT_A, 80);
    setTcpSeq(PKT_A, 0x01020304);
    setTcpAck(PKT_A, 0);
    setTcpDataOffset(PKT_A, 40);
    setTcpFlags(PKT_A, TCP_SYN);
    setTcpWindow(PKT_A, 64240);
    setTcpUrgent(PKT_A, 0);
    setTcpChecksum(PKT_A, tcpComputeChecksum4(PKT_A, 40, SRC, DST));
    expect<i32>(firstDiff(PKT_A, FX_IPV4_TCP_SYN + 20, 40)).toBe(-1);
  });

  it("builders make segments whose checksums verify, with an MSS option", () => {
    let n = buildIpv4Tcp(PKT_A, SRC, DST, 1000, 80, TCP_SYN, 7, 0, 1460, 0);
    expect<i32>(n).toBe(44);
    expect<bool>(tcpChecksumValid4(PKT_A + 20, 24, SRC, DST)).toBe(true);
    expect<i32>(tcpFindMss(PKT_A + 20)).toBe(22);
    n = buildIpv6Tcp(PKT_B, ip6(ADDR_A, 0x20010db800000000, 1), ip6(ADDR_B, 0x20010db800010000, 2),
      443, 5555, TCP_PSH | TCP_ACK_FLAG, 1, 2, 0, 501);
    expect<i32>(n).toBe(40 + 20 + 501);
    expect<bool>(tcpChecksumValid6(PKT_B + 40, n - 40, ipv6Src(PKT_B), ipv6Dst(PKT_B))).toBe(true);
    expect<u16>(tcpComputeChecksum6(PKT_B + 40, n - 40, ipv6Src(PKT_B), ipv6Dst(PKT_B))).toBe(tcpChecksum(PKT_B + 40));
  });
});

describe("tcp: check", () => {
  it("returns each reason for a mutated fixture", () => {
    const t = PKT_A;
    copyBytes(t, FX_IPV4_TCP_SYN + 20, 40);
    expect<i32>(tcpCheck(t, 19)).toBe(TCP_TOO_SHORT);
    expect<i32>(tcpCheck(t, 39)).toBe(TCP_BAD_DATA_OFFSET);  // options cut
    setTcpDataOffset(t, 16);
    expect<i32>(tcpCheck(t, 40)).toBe(TCP_BAD_DATA_OFFSET);
    setTcpDataOffset(t, 60);
    expect<i32>(tcpCheck(t, 40)).toBe(TCP_BAD_DATA_OFFSET);
    setTcpDataOffset(t, 20);
    expect<i32>(tcpCheck(t, 40)).toBe(TCP_OK);
  });
});

describe("tcp: MSS clamping", () => {
  it("lowers an MSS above the limit and keeps the checksum valid", () => {
    copyBytes(PKT_A, FX_IPV4_TCP_SYN, FX_IPV4_TCP_SYN_LEN);
    const t = PKT_A + 20;
    expect<i32>(tcpClampMss(t, 1460, 60)).toBe(0);
    expect<i32>(firstDiff(PKT_A, FX_IPV4_TCP_SYN, FX_IPV4_TCP_SYN_LEN)).toBe(-1);
    expect<i32>(tcpClampMss(t, 1420, 60)).toBe(1);
    expect<i32>(mssAt(t, 22)).toBe(1420);
    expect<bool>(tcpChecksumValid4(t, 40, SRC, DST)).toBe(true);
  });

  it("handles the odd offset after a NOP", () => {
    copyBytes(PKT_A, FX_IPV4_TCP_NOP_MSS, FX_IPV4_TCP_NOP_MSS_LEN);
    const t = PKT_A + 20;
    expect<i32>(tcpClampMss(t, 1440, 60)).toBe(1);
    expect<i32>(mssAt(t, 23)).toBe(1440);
    expect<bool>(tcpChecksumValid4(t, 28, SRC, DST)).toBe(true);
  });

  it("leaves non-SYN segments and malformed options alone", () => {
    copyBytes(PKT_A, FX_IPV4_TCP_SYN, FX_IPV4_TCP_SYN_LEN);
    const t = PKT_A + 20;
    setTcpFlags(t, TCP_ACK_FLAG);
    expect<i32>(tcpClampMss(t, 536, 60)).toBe(0);
    setTcpFlags(t, TCP_SYN);
    store<u8>(t, 0, 21);                 // MSS option length 0: malformed
    expect<i32>(tcpFindMss(t)).toBe(0);
    expect<i32>(tcpClampMss(t, 536, 60)).toBe(0);
    store<u8>(t, 40, 21);                // option runs past Data Offset
    expect<i32>(tcpFindMss(t)).toBe(0);
    store<u8>(t, 4, 21);
    store<u8>(t, 0, 20);                 // End of option list first
    expect<i32>(tcpFindMss(t)).toBe(0);
    buildIpv4Tcp(PKT_B, SRC, DST, 1, 2, TCP_SYN | TCP_FIN);
    expect<i32>(tcpFindMss(PKT_B + 20)).toBe(0);  // no options at all
  });

  it("clamped checksums equal a recomputation for random SYNs with 0-3 leading NOPs", () => {
    let bad = 0;
    for (let i = 0; i < 1000; i++) {
      const nops = <i32>(rand() & 3);
      const mss = <i32>(rand() & 0xFFFF);
      const n = buildIpv4Tcp(PKT_A, rand(), rand(), 1024 + i, 80, TCP_SYN, rand(), 0, 0, 12 + <i32>(rand() & 15));
      const t = PKT_A + 20;
      // Rebuild as options: NOP * nops, MSS, then NOP padding to 12 bytes.
      for (let k = 0; k < 12; k++) store<u8>(t + 20 + <usize>k, 1);
      store<u8>(t + 20 + <usize>nops, 2);
      store<u8>(t + 20 + <usize>nops, 4, 1);
      store<u16>(t + 20 + <usize>nops, bswap<u16>(<u16>mss), 2);
      setTcpDataOffset(t, 32);
      const s = bswap<u32>(load<u32>(PKT_A, 12));
      const d = bswap<u32>(load<u32>(PKT_A, 16));
      setTcpChecksum(t, tcpComputeChecksum4(t, n - 20, s, d));
      const clamped = tcpClampMss(t, 1400, 60);
      if (clamped != (mss > 1400 ? 1 : 0)) bad++;
      if (mssAt(t, 22 + nops) != (mss > 1400 ? 1400 : mss)) bad++;
      if (!tcpChecksumValid4(t, n - 20, s, d)) bad++;
    }
    expect<i32>(bad).toBe(0);
  });
});
