// The WebAssembly component (wit/mape.wit, docs/component.md): transpiled
// with jco, instantiated in Node, driven through its WIT interface only —
// configure the JANOG CE, one UDP packet from the LAN out through the
// tunnel and its reply back, counters by name, the argument regions at
// their limits, and the trap on an oversized batch.
//
// Uses build/mape.component.wasm (`npm run build:component`); builds it
// in memory through scripts/component.mjs when it is missing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readConfigSource } from "../../host/config/source.js";
import { dissect, ip6, ipip6, pattern, udp4 } from "./packets.js";

function root(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

const CE4 = "203.86.225.1";
const CE6 = "2403:9200:1234::cb56:e101:234";
const BR = "2403:9200:fff0::2";
const PSID = 0x234;
const PORTS = Array.from({ length: 15 }, (_, i) => ((i + 1) << 12) | PSID);
const T0 = 1_700_000_000_000;
const JANOG = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48"];

interface Counter { name: string; packets: bigint; bytes: bigint }
interface Datapath {
  configure(options: Uint8Array): void;
  init(slots: number, sessions: number, seed: number): void;
  start(keepSessions: boolean): void;
  limits(): { slotCount: number; batchMax: number; inputCapacity: number; sessionCapacity: number };
  processBatch(packets: Uint8Array[], nowMs: number): Uint8Array[];
  counters(): Counter[];
  ceInfo(): {
    ipv4: number; ipv4PrefixLength: number; psid: number; psidLength: number; psidOffset: number;
    portCount: number; mapAddress: Uint8Array;
  } | undefined;
}

// ---- the component, transpiled once into a temporary directory ----

const work = mkdtempSync(join(tmpdir(), "mape-component-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
let entry: Promise<string> | undefined;
let instances = 0;

async function transpiled(): Promise<string> {
  const script = await import(pathToFileURL(join(root(), "scripts", "component.mjs")).href);
  const path = join(root(), "build", "mape.component.wasm");
  const component = existsSync(path) ? new Uint8Array(readFileSync(path)) : (await script.buildComponent()).component;
  return script.transpileTo(component, join(work, "component"));
}

/** A fresh instance of the component (a new module URL instantiates the core module anew). */
async function instance(): Promise<Datapath> {
  entry ??= transpiled();
  const url = `${pathToFileURL(await entry).href}?instance=${++instances}`;
  const mod = await import(url);
  return mod.datapath as Datapath;
}

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
  const script = await import(pathToFileURL(join(root(), "scripts", "component.mjs")).href);
  const path = join(root(), "build", "mape.component.wasm");
  const component = existsSync(path) ? new Uint8Array(readFileSync(path)) : (await script.buildComponent()).component;
  const { componentWit } = await import("@bytecodealliance/jco");
  const wit: string = await componentWit(component);
  assert.ok(!/\bimport\b/.test(wit), "the component imports nothing");
  assert.match(wit, /export mape:datapath\/datapath@0\.1\.0;/);
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
  assert.deepEqual(dp.limits(), { slotCount: 0, batchMax: 0, inputCapacity: 0, sessionCapacity: 0 });
  dp.configure(janogCe());
  dp.init(64, 1024, 1);
  dp.start(false);
  assert.deepEqual(dp.limits(), { slotCount: 64, batchMax: 32, inputCapacity: 4096 - 128, sessionCapacity: 1024 });

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

test("component: more packets than batch-max trap (and poison only that instance)", async () => {
  const dp = await instance();
  dp.configure(janogCe());
  dp.init(8, 64, 1);
  dp.start(false);
  const p = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000 });
  assert.equal(dp.processBatch([p, p, p, p], T0).length, 4);
  assert.throws(() => dp.processBatch([p, p, p, p, p], T0), WebAssembly.RuntimeError);
  const other = await instance();
  other.configure(janogCe());
  assert.equal(other.ceInfo()?.portCount, 15);
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
