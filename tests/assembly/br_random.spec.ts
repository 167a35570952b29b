// BR robustness: valid packets of every kind the BR handles, with random
// bytes changed and random lengths, in batches. Whatever comes in, every
// input must leave with exactly one outcome and every output must lie in
// the module's memory with a sane length (bounded: counts, one assert).
import { setupBr, input, setLen, run, outPtr, outLen, unbalanced, addr6, fragmentOf,
  BR1, BR2, CE_A_RFC, V6 } from "./br_helpers";
import { rngSeed, rand, randIn } from "./map_helpers";
import { buildIpv4Udp, buildIpv4Tcp, buildIpv4IcmpEcho, buildIpv4IcmpError, buildIpv4InIpv6,
  buildIpv6IcmpEcho, buildIpv6IcmpError, ip4, PKT_A } from "./builders";
import { ipv4FillChecksum } from "../../assembly/wire/ipv4";
import { inputCapacity, batchMax } from "../../assembly/datapath/process";

const HOST: u32 = ip4(198, 51, 100, 7);
const CE_A: u32 = ip4(203, 86, 225, 1);
const CE_B: u32 = ip4(192, 0, 2, 18);
// Addresses parsed once (parsing allocates; nothing is freed with the stub runtime).
const CE6: usize = memory.data(16, 16);
const BR1_6: usize = memory.data(16, 16);
const BR2_6: usize = memory.data(16, 16);
const R6: usize = memory.data(16, 16);

/** One valid packet of kind k at p; returns its length. */
function valid(k: i32, p: usize): i32 {
  const port = randIn(0, 65535);
  if (k == 0) return buildIpv4Udp(p, HOST, CE_A, 53, port, randIn(0, 1500));
  if (k == 1) return buildIpv4Tcp(p, HOST, CE_A, 80, port, 0x12);
  if (k == 2) return buildIpv4IcmpEcho(p, HOST, CE_A, randIn(0, 1) * 8, port, 1, 8);
  if (k == 3) {
    const ql = buildIpv4Udp(PKT_A, CE_A, HOST, port, 53, 8);
    return buildIpv4IcmpError(p, HOST, CE_A, 3, 4, 1400, PKT_A, ql);
  }
  if (k == 4) {
    buildIpv4Udp(PKT_A, HOST, CE_A, 53, port, 200);
    return fragmentOf(p, PKT_A, randIn(0, 2) * 64, 64);
  }
  if (k == 5 || k == 6) {
    const l = k == 5 ? buildIpv4Udp(p + V6, CE_A, HOST, 4660 + randIn(0, 1), 53, randIn(0, 64))
                     : buildIpv4Udp(p + V6, CE_A, CE_B, 4660, 1232 + randIn(-300, 3), 16);
    return buildIpv4InIpv6(p, CE6, randIn(0, 1) ? BR1_6 : BR2_6, l);
  }
  if (k == 7) {
    buildIpv4Udp(PKT_A, CE_A, CE_B, 4660, 1232, 200);
    const l = fragmentOf(p + V6, PKT_A, randIn(0, 2) * 64, 64);
    return buildIpv4InIpv6(p, CE6, BR1_6, l);
  }
  if (k == 8) return buildIpv6IcmpEcho(p, CE6, BR1_6, 128, 1, 1, 8);
  // An ICMPv6 error about a packet the BR tunnelled.
  const inner = buildIpv4Udp(PKT_A + V6, HOST, CE_A, 53, 4660, 100);
  buildIpv4InIpv6(PKT_A, BR1_6, CE6, inner);
  return buildIpv6IcmpError(p, R6, BR1_6, randIn(1, 3), 0,
    1280, PKT_A, inner + V6);
}

describe("BR: random packets", () => {
  it("every input has exactly one outcome; outputs stay in memory", () => {
    expect<i32>(setupBr(0, 1280)).toBe(0);
    addr6(CE6, CE_A_RFC);
    addr6(BR1_6, BR1);
    addr6(BR2_6, BR2);
    addr6(R6, "2001:db8::1");
    rngSeed(0xB0B);
    const memEnd = <usize>memory.size() << 16;
    let bad = 0;
    let t: f64 = 1000;
    for (let batch = 0; batch < 1000; batch++) {
      const n = randIn(1, min(6, batchMax()));
      for (let i = 0; i < n; i++) {
        const p = input(i);
        let len = valid(randIn(0, 9), p);
        const flips = randIn(0, 3);
        for (let f = 0; f < flips; f++) {
          store<u8>(p + <usize>randIn(0, max(len - 1, 0)), <u8>rand());
        }
        // Often keep the IPv4 header checksum right so the change reaches the deeper code.
        if (rand() & 1) {
          const v = load<u8>(p) >> 4;
          if (v == 4 && (load<u8>(p) & 15) >= 5) ipv4FillChecksum(p);
          if (v == 6 && len > V6 + 20 && (load<u8>(p + V6) & 15) >= 5) ipv4FillChecksum(p + V6);
        }
        if ((rand() & 7) == 0) len = randIn(0, len);
        setLen(i, min(len, inputCapacity()));
      }
      const m = run(n, t);
      t += <f64>randIn(0, 3000);
      for (let j = 0; j < m; j++) {
        const o = outPtr(j);
        const l = outLen(j);
        if (l <= 0 || l > 4096 || o == 0 || o + <usize>l > memEnd) bad++;
      }
    }
    expect<i32>(bad).toBe(0);
    expect<i32>(unbalanced()).toBe(0);
  });
});
