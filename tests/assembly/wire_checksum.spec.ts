import { checksumAdd, checksumFold, checksumReduce, checksumOf, checksumUpdate16, checksumUpdate32,
  checksumUpdateIpv6Address, checksumUpdate16At, pseudoHeaderSum4, pseudoHeaderSum6,
  udpChecksumFinish, udpChecksumUpdate16, udpChecksumUpdate32, udpChecksumUpdateIpv6Address,
  checksumDelta16, checksumDelta32, checksumApplyDelta, checksumUpdateAddrPort,
  udpChecksumUpdateAddrPort, checksumHeader20Ok } from "../../assembly/wire/checksum";
import { PKT_A, PKT_B, ADDR_A, ADDR_B, ip6 } from "./builders";

// RFC 1071 §3 numerical example.
const RFC1071: usize = memory.data<u8>([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);

let rng: u32 = 0x12345678;
function rand(): u32 {
  // xorshift32: deterministic, so a failure reproduces.
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}
function randomBytes(p: usize, len: i32): void {
  for (let i = 0; i < len; i++) store<u8>(p + <usize>i, <u8>rand());
}

/** Reference RFC 1071 sum: big-endian byte pairs, one at a time, folded. */
function naiveSum(p: usize, len: i32): u32 {
  let s: u32 = 0;
  let i = 0;
  for (; i + 1 < len; i += 2) s += (<u32>load<u8>(p + <usize>i) << 8) | <u32>load<u8>(p + <usize>i + 1);
  if (i < len) s += <u32>load<u8>(p + <usize>i) << 8;
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return s;
}

describe("checksum: RFC 1071 full sum", () => {
  it("RFC 1071 §3 example sums to 0xDDF2 and checksum 0x220D", () => {
    expect<u32>(checksumReduce(checksumAdd(0, RFC1071, 8))).toBe(0xDDF2);
    expect<u16>(checksumOf(RFC1071, 8)).toBe(0x220D);
  });

  it("odd length pads the last byte on the right", () => {
    // 0x0001 + 0xF200
    expect<u32>(checksumReduce(checksumAdd(0, RFC1071, 3))).toBe(0xF201);
    expect<u32>(checksumAdd(0, RFC1071, 0)).toBe(0);
  });

  it("partial sums add up across chunks of even length", () => {
    const s = checksumAdd(checksumAdd(0, RFC1071, 4), RFC1071 + 4, 4);
    expect<u32>(checksumReduce(s)).toBe(0xDDF2);
  });

  it("a buffer including its own checksum folds to 0", () => {
    randomBytes(PKT_A, 30);
    store<u16>(PKT_A, 0, 10);
    const c = checksumOf(PKT_A, 30);
    store<u16>(PKT_A, bswap<u16>(c), 10);
    expect<u16>(checksumOf(PKT_A, 30)).toBe(0);
  });

  it("matches a byte-pair reference at every length 0..300 and alignment 0..7", () => {
    randomBytes(PKT_A, 320);
    let bad = 0;
    for (let a = 0; a < 8; a++) {
      for (let n = 0; n <= 300; n++) {
        if (checksumReduce(checksumAdd(0, PKT_A + <usize>a, n)) != naiveSum(PKT_A + <usize>a, n)) {
          // 0 and 0xFFFF are the same ones-complement zero
          if (!(n == 0)) bad++;
        }
      }
    }
    expect<i32>(bad).toBe(0);
  });

  it("checksumHeader20Ok answers as the full sum does: random, sealed, all-zero and all-0xFF headers", () => {
    // The five-load check of an option-less IPv4 header against the
    // reference sum, at every alignment: random 20 bytes (nearly always
    // bad), the same sealed with their checksum (good), and the edges.
    let bad = 0;
    let good = 0;
    for (let i = 0; i < 20000; i++) {
      const p = PKT_A + <usize>(i & 7);
      randomBytes(p, 20);
      if (i % 3 == 1) {
        store<u16>(p, 0, 10);
        store<u16>(p, bswap<u16>(checksumOf(p, 20)), 10);
      }
      const want = naiveSum(p, 20) == 0xFFFF;
      if (want) good++;
      if (checksumHeader20Ok(p) != want) bad++;
    }
    expect<i32>(bad).toBe(0);
    expect<bool>(good > 6000).toBe(true); // the sealed third all pass
    memory.fill(PKT_A, 0, 20);
    expect<bool>(checksumHeader20Ok(PKT_A)).toBe(false); // sums to 0, not 0xFFFF
    memory.fill(PKT_A, 0xFF, 20);
    expect<bool>(checksumHeader20Ok(PKT_A)).toBe(true);
  });

  it("all-0xFF input sums to 0xFFFF without overflow (long buffer)", () => {
    memory.fill(PKT_B, 0xFF, 2048);
    expect<u32>(checksumReduce(checksumAdd(0, PKT_B, 2048))).toBe(0xFFFF);
  });
});

describe("checksum: RFC 1624 incremental update", () => {
  it("RFC 1624 §4 example: HC 0xDD2F, m 0x5555 -> 0x3285 gives 0x0000 (eqn. 3)", () => {
    expect<u16>(checksumUpdate16(0xDD2F, 0x5555, 0x3285)).toBe(0x0000);
  });

  it("an unchanged field leaves a non-zero checksum unchanged", () => {
    expect<u16>(checksumUpdate16(0x1234, 0xABCD, 0xABCD)).toBe(0x1234);
    expect<u16>(checksumUpdate32(0x1234, 0xC0000201, 0xC0000201)).toBe(0x1234);
  });

  it("equals a full recomputation over thousands of random changes", () => {
    // Data of 64 bytes with checksum C; change one field; compare the
    // incremental result with checksumOf of the changed data.
    let bad16 = 0, bad32 = 0, bad6 = 0, badOdd = 0;
    for (let round = 0; round < 3000; round++) {
      randomBytes(PKT_A, 64);
      if ((round & 15) == 0) memory.fill(PKT_A, 0xFF, 64); // all -0 words
      if ((round & 15) == 1) memory.fill(PKT_A, 0, 32);
      let c = checksumOf(PKT_A, 64);

      const off = <i32>(rand() % 31) << 1;              // even offset for 16 bits
      const old16 = bswap<u16>(load<u16>(PKT_A + <usize>off));
      const new16 = <u16>rand();
      store<u16>(PKT_A + <usize>off, bswap<u16>(new16));
      c = checksumUpdate16(c, old16, new16);
      if (c != checksumOf(PKT_A, 64)) bad16++;

      const off4 = <i32>(rand() % 15) << 2;
      const old32 = bswap<u32>(load<u32>(PKT_A + <usize>off4));
      const new32 = (round & 7) == 0 ? old32 ^ 0xFFFF : rand();
      store<u32>(PKT_A + <usize>off4, bswap<u32>(new32));
      c = checksumUpdate32(c, old32, new32);
      if (c != checksumOf(PKT_A, 64)) bad32++;

      const off16 = <i32>(rand() % 3) << 4;
      randomBytes(ADDR_A, 16);
      c = checksumUpdateIpv6Address(c, PKT_A + <usize>off16, ADDR_A);
      memory.copy(PKT_A + <usize>off16, ADDR_A, 16);
      if (c != checksumOf(PKT_A, 64)) bad6++;

      const offOdd = 1 + (<i32>(rand() % 30) << 1);     // odd offset (a TCP option)
      const po = PKT_A + <usize>offOdd;
      const oldO = bswap<u16>(load<u16>(po));
      const newO = <u16>rand();
      store<u16>(po, bswap<u16>(newO));
      c = checksumUpdate16At(c, offOdd, oldO, newO);
      if (c != checksumOf(PKT_A, 64)) badOdd++;
    }
    expect<i32>(bad16).toBe(0);
    expect<i32>(bad32).toBe(0);
    expect<i32>(bad6).toBe(0);
    expect<i32>(badOdd).toBe(0);
  });
});

describe("checksum: pseudo headers", () => {
  it("IPv4 pseudo header sums the same bytes as RFC 768 lays out", () => {
    // src 192.0.2.1, dst 198.51.100.2, zero, proto 17, length 20
    const ph: usize = memory.data<u8>([0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x00, 0x11, 0x00, 0x14]);
    expect<u32>(checksumReduce(pseudoHeaderSum4(0xC0000201, 0xC6336402, 17, 20)))
      .toBe(checksumReduce(checksumAdd(0, ph, 12)));
  });

  it("IPv6 pseudo header sums the same bytes as RFC 8200 §8.1 lays out", () => {
    ip6(ADDR_A, 0x20010db800000000, 1);
    ip6(ADDR_B, 0x20010db800010000, 2);
    memory.copy(PKT_B, ADDR_A, 16);
    memory.copy(PKT_B + 16, ADDR_B, 16);
    store<u32>(PKT_B, bswap<u32>(70000), 32);     // 32-bit length, above 16 bits
    store<u32>(PKT_B, bswap<u32>(58), 36);        // 3 zero bytes + next header
    expect<u32>(checksumReduce(pseudoHeaderSum6(ADDR_A, ADDR_B, 58, 70000)))
      .toBe(checksumReduce(checksumAdd(0, PKT_B, 40)));
  });
});

describe("checksum: UDP zero checksum (RFC 768)", () => {
  it("a computed 0 is transmitted as 0xFFFF", () => {
    expect<u16>(udpChecksumFinish(0)).toBe(0xFFFF);
    expect<u16>(udpChecksumFinish(0x1234)).toBe(0x1234);
  });

  it("incremental updates leave 0 (no checksum) alone", () => {
    expect<u16>(udpChecksumUpdate16(0, 0x1111, 0x2222)).toBe(0);
    expect<u16>(udpChecksumUpdate32(0, 0xC0000201, 0x0A000001)).toBe(0);
    ip6(ADDR_A, 0x20010db800000000, 1);
    ip6(ADDR_B, 0x20010db800010000, 2);
    expect<u16>(udpChecksumUpdateIpv6Address(0, ADDR_A, ADDR_B)).toBe(0);
  });

  it("an incremental result of 0 is transmitted as 0xFFFF", () => {
    expect<u16>(udpChecksumUpdate16(0xDD2F, 0x5555, 0x3285)).toBe(0xFFFF);
    // and 0xFFFF (a computed zero) is a valid starting value
    expect<u16>(udpChecksumUpdate16(0xFFFF, 0x3285, 0x5555)).toBe(checksumUpdate16(0xFFFF, 0x3285, 0x5555));
  });
});

// One update for several changes (the data path's NAPT and TTL): the same
// checksum, bit for bit, as one update per field, including the 0 / 0xFFFF
// corners (hc and fields drawn from the corners half of the time).
function corner16(): u16 {
  const r = rand();
  if ((r & 3) == 0) return 0;
  if ((r & 3) == 1) return 0xFFFF;
  return <u16>(r >>> 8);
}
function addr(): u32 { return (rand() & 7) == 0 ? ((rand() & 1) ? 0xFFFFFFFF : 0) : rand(); }

describe("checksum: several changes, one update", () => {
  it("checksumUpdateAddrPort equals checksumUpdate32 then checksumUpdate16", () => {
    let wrong = 0;
    for (let i = 0; i < 20000; i++) {
      const hc = corner16();
      const oa = addr(), na = addr();
      const op = corner16(), np = <u16>(1 + (rand() % 0xFFFF)); // the NAPT never writes port 0
      if (checksumUpdateAddrPort(hc, oa, na, op, np) != checksumUpdate16(checksumUpdate32(hc, oa, na), op, np)) wrong++;
      if (udpChecksumUpdateAddrPort(hc, oa, na, op, np) != udpChecksumUpdate16(udpChecksumUpdate32(hc, oa, na), op, np)) wrong++;
    }
    expect<i32>(wrong).toBe(0);
  });

  it("summed deltas applied once equal one update per changed field", () => {
    let wrong = 0;
    for (let i = 0; i < 20000; i++) {
      const hc = <u16>(rand() % 0xFFFF); // a header checksum: never the all-zero-sum 0xFFFF
      const oa = addr(), na = addr();
      const ot = <u16>(0x200 | (rand() & 0xFDFF)), nt = <u16>(ot - 0x100); // TTL word, TTL >= 2, decremented
      const oi = corner16(), ni = corner16();
      let seq = hc;
      if (oa != na) seq = checksumUpdate32(seq, oa, na);
      seq = checksumUpdate16(seq, ot, nt);
      if (oi != ni) seq = checksumUpdate16(seq, oi, ni);
      const one = checksumApplyDelta(hc, checksumDelta32(oa, na) + checksumDelta16(ot, nt) + checksumDelta16(oi, ni));
      if (one != seq) wrong++;
    }
    expect<i32>(wrong).toBe(0);
    // The TTL decrement's term is the constant of wire/ipv4.ts ipv4DecrementTtlDelta.
    expect<u32>(checksumDelta16(0x4011, 0x3F11)).toBe(0xFEFF);
  });
});
