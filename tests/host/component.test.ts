// The WebAssembly component (wit/mape.wit, docs/component.md): transpiled
// with jco, instantiated in Node, driven through its WIT interface only —
// configure the JANOG CE, one UDP packet from the LAN out through the
// tunnel and its reply back, counters by name, the argument regions at
// their limits, and batches the adapter refuses (too many packets, too many
// bytes) with an error result instead of a trap, the instance staying usable.
//
// Uses build/mape.component.wasm (`npm run build:component`); builds it
// in memory through scripts/component.mjs when it is missing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readConfigSource } from "../../host/config/source.js";
import { componentBytes, errorPayload, instance, type Counter, type Datapath } from "./component-driver.js";
import { dissect, ip6, ipip6, pattern, udp4 } from "./packets.js";


const CE4 = "203.86.225.1";
const CE6 = "2403:9200:1234::cb56:e101:234";
const BR = "2403:9200:fff0::2";
const PSID = 0x234;
const PORTS = Array.from({ length: 15 }, (_, i) => ((i + 1) << 12) | PSID);
const T0 = 1_700_000_000_000;
const JANOG = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48"];

function janogCe(): Uint8Array {
  return readConfigSource(JANOG, "ce").encoded.bytes;
}

function byName(list: Counter[]): Map<string, Counter> {
  return new Map(list.map((c) => [c.name, c]));
}

function nonZero(list: Counter[]): Record<string, number> {
  return Object.fromEntries(list.filter((c) => c.packets !== 0n).map((c) => [c.name, Number(c.packets)]));
}

// ---- tests ----

test("component: the WIT world is the one in wit/mape.wit, with no imports", async () => {
  const component = await componentBytes();
  const { componentWit } = await import("@bytecodealliance/jco");
  const wit: string = await componentWit(component);
  assert.ok(!/\bimport\b/.test(wit), "the component imports nothing");
  assert.match(wit, /export mape:datapath\/datapath@0\.2\.0;/);
  const dp = await instance();
  const fns = Object.keys(dp).filter((k) => typeof (dp as unknown as Record<string, unknown>)[k] === "function").sort();
  assert.deepEqual(fns, ["ceInfo", "configure", "counters", "init", "limits", "processBatch", "start"]);
});

test("component: configure reports errors as config-error, nothing half-applies", async () => {
  const dp = await instance();
  assert.equal(dp.ceInfo(), undefined, "no BMR before configure");
  assert.throws(() => dp.configure(new Uint8Array(0)), (e: { payload?: unknown }) => {
    assert.deepEqual(e.payload, { code: 4, offset: 0, optionCode: 0 }); // CONTAINER_MISSING
    return true;
  });
  const good = janogCe();
  const cut = good.slice(0, good.length - 3);
  assert.throws(() => dp.configure(cut), (e: { payload?: { code: number } }) => e.payload?.code === 1); // TRUNCATED
  assert.throws(() => dp.configure(new Uint8Array(16385)), (e: { payload?: { code: number } }) => e.payload?.code === 28);
  assert.equal(dp.ceInfo(), undefined, "failed configures installed nothing");
  dp.configure(good);
  const ce = dp.ceInfo()!;
  assert.deepEqual({ ...ce, mapAddress: [...ce.mapAddress] }, {
    ipv4: 0xcb56e101, ipv4PrefixLength: 32, psid: PSID, psidLength: 12, psidOffset: 4, portCount: 15,
    mapAddress: [...ip6(CE6)],
  });
});

test("component: the JANOG CE encapsulates a LAN packet to the BR and decapsulates the reply", async () => {
  const dp = await instance();
  assert.throws(() => dp.start(false), "start before init fails");
  assert.deepEqual(dp.limits(), { slotCount: 0, batchMax: 0, inputCapacity: 0, sessionCapacity: 0, batchBytes: 0 });
  dp.configure(janogCe());
  dp.init(64, 1024, 1);
  dp.start(false);
  assert.deepEqual(dp.limits(), {
    slotCount: 64, batchMax: 32, inputCapacity: 4096 - 128, sessionCapacity: 1024, batchBytes: 32 * 4096 - 32 * 8,
  });

  const p = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000, payload: pattern(20) });
  const out = dp.processBatch([p], T0);
  assert.equal(out.length, 1);
  const d = dissect(out[0]);
  assert.deepEqual(d.problems, []);
  assert.equal(d.version, 6);
  assert.equal(d.src, CE6);
  assert.equal(d.dst, BR);
  assert.equal(d.protocol, 4, "IPv4-in-IPv6");
  assert.equal(out[0].length, p.length + 40);
  const inner = d.inner!;
  assert.ok(inner, "an inner IPv4 packet");
  assert.equal(inner.src, CE4);
  assert.equal(inner.dst, "198.51.100.7");
  assert.equal(inner.udp?.srcPort, PORTS[0]);

  const reply = udp4({ src: "198.51.100.7", dst: CE4, srcPort: 40000, dstPort: PORTS[0], payload: pattern(8) });
  const back = dp.processBatch([ipip6({ src: BR, dst: CE6, hopLimit: 60, inner: reply })], T0 + 10);
  assert.equal(back.length, 1);
  const b = dissect(back[0]);
  assert.deepEqual(b.problems, []);
  assert.equal(b.version, 4);
  assert.equal(b.dst, "192.168.1.10");
  assert.equal(b.udp?.dstPort, PORTS[0]);

  const c = byName(dp.counters());
  assert.equal(c.get("in-ipv4")?.packets, 1n);
  assert.equal(c.get("in-ipv6")?.packets, 1n);
  assert.equal(c.get("forwarded-to-ipv6")?.packets, 1n);
  assert.equal(c.get("out-ipv6")?.bytes, BigInt(p.length + 40));
  assert.equal(c.get("forwarded-to-ipv4")?.packets, 1n);
  assert.equal(c.get("sessions-active")?.packets, 1n);
  assert.equal(dp.counters().length, c.size, "names are unique");
  assert.deepEqual(dp.processBatch([], T0 + 20), [], "an empty batch");
});

test("component: full batches of the largest packets fit the argument regions; longer packets are cut, not trapped", async () => {
  const dp = await instance();
  dp.configure(janogCe());
  dp.init(64, 1024, 1);
  dp.start(false);
  const { batchMax, inputCapacity } = dp.limits();
  for (let round = 0; round < 3; round++) {
    const full = Array.from({ length: batchMax }, (_, i) =>
      udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[i % 15], dstPort: 40000 + i, payload: pattern(inputCapacity - 28, i) }));
    const out = dp.processBatch(full, T0 + round);
    // 3968-byte packets exceed the 1500-byte tunnel: each becomes IPv4 fragments, or an ICMP error when DF is set.
    assert.ok(out.length >= batchMax, `round ${round}: ${out.length} outputs`);
  }
  const long = new Uint8Array(inputCapacity + 1000);
  long.set(udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000 }));
  dp.processBatch([long], T0 + 5);
  assert.ok(nonZero(dp.counters())["in-ipv4"] === 3 * batchMax + 1);
});

/** A packet list the adapter must refuse: asserts the error and returns nothing. */
function refused(dp: Datapath, packets: Uint8Array[], want: "too-many-packets" | "too-many-bytes"): void {
  assert.throws(() => dp.processBatch(packets, T0), (e: unknown) => {
    assert.ok(!(e instanceof WebAssembly.RuntimeError), `a trap, not an error result: ${(e as Error).message}`);
    assert.equal(errorPayload(e), want);
    return true;
  });
}

/** The instance still works after a refused batch: a LAN packet goes out, the counters moved by it alone. */
function stillUsable(dp: Datapath, before: Counter[]): void {
  assert.deepEqual(nonZero(dp.counters()), nonZero(before), "a refused batch counts nothing");
  const p = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[1], dstPort: 40001 });
  const out = dp.processBatch([p], T0 + 1);
  assert.equal(out.length, 1);
  assert.equal(dissect(out[0]).src, CE6);
  const c = byName(dp.counters());
  assert.equal(c.get("in-ipv4")!.packets, (byName(before).get("in-ipv4")?.packets ?? 0n) + 1n);
}

test("component: more packets than batch-max are refused with too-many-packets; the instance stays usable", async () => {
  const dp = await instance();
  dp.configure(janogCe());
  dp.init(8, 64, 1);
  dp.start(false);
  const p = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000 });
  assert.equal(dp.processBatch([p, p, p, p], T0).length, 4);
  const before = dp.counters();
  refused(dp, [p, p, p, p, p], "too-many-packets");
  refused(dp, Array.from({ length: 5000 }, () => p), "too-many-packets");
  stillUsable(dp, before);
});

test("component: before init any packet is too many (batch-max 0), and configure still works afterwards", async () => {
  const dp = await instance();
  const p = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000 });
  refused(dp, [p], "too-many-packets");
  assert.deepEqual(dp.processBatch([], T0), []);
  dp.configure(janogCe());
  assert.equal(dp.ceInfo()?.portCount, 15);
});

test("component: 9 packets of 65,535 bytes at 256 slots exceed the argument memory: refused with too-many-bytes, no trap", async () => {
  const dp = await instance();
  dp.configure(janogCe());
  dp.init(256, 1024, 1);
  dp.start(false);
  const { batchBytes } = dp.limits();
  const huge = Array.from({ length: 9 }, () => new Uint8Array(65535).fill(0x45));
  assert.ok(9 * 65535 > batchBytes);
  const before = dp.counters();
  refused(dp, huge, "too-many-bytes");
  stillUsable(dp, before);
  // Within batch-bytes the same packets are taken and cut (then dropped as truncated).
  const fit = Math.floor(batchBytes / (65535 + 8));
  assert.deepEqual(dp.processBatch(huge.slice(0, fit), T0 + 2), []);
  assert.equal(byName(dp.counters()).get("in-ipv4")!.packets, 1n + BigInt(fit));
});

test("component: 128 packets of 9,000 bytes at 256 slots: refused with too-many-bytes, then taken in batches of batch-bytes", async () => {
  const dp = await instance();
  dp.configure(janogCe());
  dp.init(256, 1024, 1);
  dp.start(false);
  const { batchMax, batchBytes } = dp.limits();
  assert.equal(batchMax, 128);
  const jumbo = Array.from({ length: 128 }, (_, i) => {
    const p = new Uint8Array(9000);
    p.set(udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[i % 15], dstPort: 40000 }));
    return p;
  });
  const before = dp.counters();
  refused(dp, jumbo, "too-many-bytes");
  stillUsable(dp, before);
  const per = Math.floor(batchBytes / (9000 + 8));
  let taken = 0;
  for (let i = 0; i < jumbo.length; i += per) {
    dp.processBatch(jumbo.slice(i, i + per), T0 + 10 + i);
    taken += jumbo.slice(i, i + per).length;
  }
  assert.equal(byName(dp.counters()).get("in-ipv4")!.packets, 1n + BigInt(taken));
});

test("component: configure with more bytes than any argument region returns CONFIG_LENGTH, before and after init", async () => {
  const dp = await instance();
  for (const size of [16385, 20 * 1024, 100 * 1024]) {
    assert.throws(() => dp.configure(new Uint8Array(size)), (e: unknown) => {
      assert.ok(!(e instanceof WebAssembly.RuntimeError), `configure(${size} bytes) trapped`);
      return (errorPayload(e) as { code?: number })?.code === 28;
    });
  }
  dp.configure(janogCe());
  dp.init(8, 64, 1);
  assert.throws(() => dp.configure(new Uint8Array(100 * 1024)), (e: unknown) => (errorPayload(e) as { code?: number })?.code === 28);
  assert.equal(dp.ceInfo()?.portCount, 15, "the configuration in force is kept");
});

test("component: per-call cost of process-batch with 64 packets (diagnostic)", async (t) => {
  const dp = await instance();
  dp.configure(janogCe());
  dp.init(256, 0, 1);
  dp.start(false);
  const batch = Array.from({ length: 64 }, (_, i) =>
    udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[i % 15], dstPort: 40000 + (i % 8), payload: pattern(64, i) }));
  for (let i = 0; i < 200; i++) dp.processBatch(batch, T0 + i);
  const calls = 2000;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) assert.equal(dp.processBatch(batch, T0 + 1000 + i).length, 64);
  const us = ((performance.now() - t0) * 1000) / calls;
  t.diagnostic(`process-batch, 64 × ${batch[0].length}-byte packets: ${us.toFixed(1)} µs per call, ${(us / 64).toFixed(2)} µs per packet`);
});
