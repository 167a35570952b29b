// Properties over bounded pseudo-random rules and end-user prefixes, and the
// longest-prefix lookups against a brute-force scan. Failures are counted and
// asserted once (with the stub runtime every expect() allocates).
import { W, OPT_MAPE, MODE_CE, MODE_BR, MODE_CALC, rngSeed, rand, randIn, parseIPv6, ipv4 } from "./map_helpers";
import { ceIPv4, ceIPv4PrefixLength, cePsid, cePsidLength, cePsidOffset, cePortCount, isOwnPort,
  portToPsid, mapIPv6, ceIPv6Address, scratch, ruleForIPv4, ruleForIPv6, ruleCount, ruleIPv4Prefix,
  ruleIPv4PrefixLength, ruleIPv6Prefix, ruleIPv6PrefixLength, ruleIsForwarding } from "../../assembly/map/api";
import { PortSet, portSetInit, portSetPort } from "../../assembly/map/portset";
import { lpmIPv4Lengths, lpmIPv6Lengths } from "../../assembly/map/lpm";

const marks = new StaticArray<u8>(65536);
const set = new PortSet();
const addr = memory.data(16, 16);

function mask64(len: i32): u64 {
  return len <= 0 ? 0 : len >= 64 ? <u64>(-1) : <u64>(-1) << <u64>(64 - len);
}
function mask32(len: i32): u32 {
  return len == 0 ? 0 : <u32>(-1) << <u32>(32 - len);
}
function rand64(): u64 { return (<u64>rand() << 32) | <u64>rand(); }
function same16(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

let failures = 0;
let configured = 0;
let sharedSeen = 0;
let prefixSeen = 0;

/** One random rule and end-user prefix, installed as a CE, then every port checked. */
function checkRandomRule(): void {
  const r = randIn(0, 32);
  const p = 32 - r;
  let o: i32;
  const kind = randIn(0, 2);
  if (kind == 0) o = randIn(0, p < 8 ? p : 8);              // prefix or full
  else o = p + randIn(0, 16);                                // shared (q = o - p)
  if (o > 48) o = 48;
  const q = o > p ? o - p : 0;
  if (q > 16) return;
  const a = randIn(0, q == 16 ? 0 : (16 - q < 15 ? 16 - q : 15));
  const n = randIn(0, 64 - o);
  const hi = rand64() & mask64(n);
  const v4 = rand() & mask32(r);
  const ea = o == 0 ? <u64>0 : rand64() & ((<u64>1 << <u64>o) - 1);
  const euLen = n + o + randIn(0, 64 - n - o);
  const euHi = hi | (o == 0 ? <u64>0 : ea << <u64>(64 - n - o));
  W.reset();
  const c = W.open(OPT_MAPE);
  const rr = W.ruleOpenRaw(1, o, v4, r, hi, 0, n);
  W.portParams(a, 0, 0).close(rr);
  W.br("2001:db8:ffff::1").close(c);
  W.iaPrefixRaw(euHi, 0, euLen).local(MODE_CE, randIn(0, 1));
  if (W.configure() != 0) { failures++; return; }
  configured++;
  const k = cePsidLength();
  if (k > 0) sharedSeen++;
  if (ceIPv4PrefixLength() < 32) prefixSeen++;
  // Structure: k = q, the prefix is kept, the length is min(32, r + o).
  if (k != q || cePsidOffset() != a) failures++;
  if ((ceIPv4() & mask32(r)) != v4) failures++;
  if (ceIPv4PrefixLength() != (r + o < 32 ? r + o : 32)) failures++;
  // Count: (2^a - 1) * 2^m when a > 0, 2^m when a = 0.
  const m = 16 - a - k;
  const count = a > 0 ? ((1 << a) - 1) << m : 1 << m;
  if (cePortCount() != count) failures++;
  // Every port of the set maps back to the CE's PSID, no other port is in
  // it, and the BR's reverse mapping of an owned port is the CE's address.
  const own6 = ceIPv6Address();
  const v4ce = ceIPv4();
  const psid = cePsid();
  let owned = 0;
  for (let port = 0; port < 65536; port++) {
    const mine = isOwnPort(port) == 1;
    const pp = portToPsid(0, port);
    const low = a > 0 && port < (1 << (16 - a));
    if (mine) owned++;
    if (low) { if (mine || pp != -1) failures++; continue; }
    if (mine != (pp == psid)) failures++;
    if (mine) {
      if (mapIPv6(0, v4ce, port, addr) != 0 || !same16(addr, own6)) failures++;
    } else if (mapIPv6(0, v4ce, port, addr) == 0 && same16(addr, own6)) {
      failures++;
    }
  }
  if (owned != count) failures++;
  // The PSIDs partition the ports at and above 2^(16-a).
  memory.fill(changetype<usize>(marks), 0, 65536);
  const psids = 1 << k;
  for (let ps = 0; ps < psids; ps++) {
    portSetInit(set, a, k, ps);
    for (let i = 0; i < set.count; i++) {
      const port = portSetPort(set, i);
      if (marks[port] != 0 || portToPsid(0, port) != ps) failures++;
      marks[port] = 1;
    }
  }
  const floor = a > 0 ? 1 << (16 - a) : 0;
  for (let port = 0; port < 65536; port++) {
    if ((marks[port] == 1) != (port >= floor)) failures++;
  }
}

describe("properties over pseudo-random rules", () => {
  it("40 rules: port set, PSID, count, reverse mapping, partition", () => {
    rngSeed(20240601);
    failures = 0;
    configured = 0;
    for (let i = 0; i < 40; i++) checkRandomRule();
    expect<i32>(failures).toBe(0);
    expect<i32>(configured).toBeGreaterThan(30);
    expect<i32>(sharedSeen).toBeGreaterThan(5);
    expect<i32>(prefixSeen).toBeGreaterThan(2);
  });
});

/** Brute-force longest match over the installed rules (optionally FMRs only). */
function scan4(a: u32, all: bool): i32 {
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < ruleCount(); i++) {
    if (!all && ruleIsForwarding(i) == 0) continue;
    const len = ruleIPv4PrefixLength(i);
    if ((a & mask32(len)) == ruleIPv4Prefix(i) && len > bestLen) { best = i; bestLen = len; }
  }
  return best;
}
function scan6(p: usize, all: bool): i32 {
  const hi = bswap<u64>(load<u64>(p));
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < ruleCount(); i++) {
    if (!all && ruleIsForwarding(i) == 0) continue;
    const len = ruleIPv6PrefixLength(i);
    const rhi = bswap<u64>(load<u64>(ruleIPv6Prefix(i)));
    if ((hi & mask64(len)) == rhi && len > bestLen) { best = i; bestLen = len; }
  }
  return best;
}

describe("longest-prefix lookups", () => {
  it("overlapping prefixes, hand-picked", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(0, 24, "10.0.0.0", 8, "2001:db8::", 32);        // 0
    W.rule(0, 16, "10.1.0.0", 16, "2001:db8:1::", 48);     // 1
    W.rule(0, 8, "10.1.2.0", 24, "2001:db8:1:200::", 56);  // 2
    W.rule(0, 0, "10.1.2.3", 32, "2001:db8:1:203::", 64);  // 3
    W.rule(0, 8, "10.1.2.0", 24, "2001:db9::", 56);        // 4: same IPv4 prefix as 2
    W.br("2001:db8:ffff::1").close(c);
    W.local(MODE_BR);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(lpmIPv4Lengths()).toBe(4);
    expect<i32>(ruleForIPv4(ipv4("10.1.2.3"))).toBe(3);
    expect<i32>(ruleForIPv4(ipv4("10.1.2.4"))).toBe(2);
    expect<i32>(ruleForIPv4(ipv4("10.1.3.4"))).toBe(1);
    expect<i32>(ruleForIPv4(ipv4("10.2.3.4"))).toBe(0);
    expect<i32>(ruleForIPv4(ipv4("11.0.0.1"))).toBe(-1);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db8:1:203::1"))).toBe(3);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db8:1:2ff::1"))).toBe(2);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db8:1:300::1"))).toBe(1);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db8:2::1"))).toBe(0);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db9::5"))).toBe(4);
    expect<i32>(ruleForIPv6(parseIPv6("2001:dba::5"))).toBe(-1);
  });

  it("a CE looks up only forwarding rules (F flag)", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(0, 16, "192.0.2.0", 24, "2001:db8::", 40);     // BMR, not an FMR
    W.rule(1, 16, "198.51.100.0", 24, "2001:db9::", 40);  // FMR
    W.br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:12:3400::", 56).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(ruleForIPv4(ipv4("192.0.2.18"))).toBe(-1);
    expect<i32>(ruleForIPv4(ipv4("198.51.100.7"))).toBe(1);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db8:12:3400::1"))).toBe(-1);
    expect<i32>(ruleForIPv6(parseIPv6("2001:db9:12:3400::1"))).toBe(1);
  });

  it("random overlapping rule sets agree with a brute-force scan", () => {
    rngSeed(7);
    let wrong = 0;
    let hits = 0;
    for (let round = 0; round < 6; round++) {
      const all = round % 2 == 0;
      const nrules = randIn(20, 120);
      W.reset();
      const c = W.open(OPT_MAPE);
      for (let i = 0; i < nrules; i++) {
        // Few lengths over a small space, so prefixes nest and repeat.
        const len4 = randIn(0, 8) * 4;
        const v4 = (0x0a000000 | (rand() & 0x00ff0f0f)) & mask32(len4);
        const len6 = randIn(2, 8) * 8;
        const hi = (<u64>0x20010db8 << 32 | (<u64>(rand() & 0x0f0f0f0f))) & mask64(len6);
        W.close(W.ruleOpenRaw(randIn(0, 1), 0, v4, len4, hi, 0, len6));
      }
      W.br("2001:db8:ffff::1").close(c);
      W.local(all ? MODE_BR : MODE_CALC);
      if (W.configure() != 0) { wrong++; continue; }
      for (let t = 0; t < 3000; t++) {
        const a4 = 0x0a000000 | (rand() & 0x00ff0f0f);
        const want = scan4(a4, all);
        if (want >= 0) hits++;
        if (ruleForIPv4(a4) != want) wrong++;
        store<u64>(addr, bswap<u64>(<u64>0x20010db8 << 32 | (<u64>(rand() & 0x0f0f0f0f))));
        store<u64>(addr, rand64(), 8);
        if (ruleForIPv6(addr) != scan6(addr, all)) wrong++;
      }
    }
    expect<i32>(wrong).toBe(0);
    expect<i32>(hits).toBeGreaterThan(3000);
    expect<i32>(lpmIPv6Lengths()).toBeLessThanOrEqual(7);
  });
});
