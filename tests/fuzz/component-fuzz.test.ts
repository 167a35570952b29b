// Fuzzing the WebAssembly component's calls through jco (wit/mape.wit):
// random configure bytes (mutated CE and BR configurations, random bytes,
// lengths up to 128 KiB), init with boundary slot and session counts,
// start, and process-batch with random packet counts (0 … beyond batch-max)
// and sizes (0 … 65,535 bytes, input-capacity ± 1), packets from the CE
// and BR fuzz corpora or random. Checked on every call:
//   - nothing traps (a trap would poison the instance: every later call
//     would fail) — errors come back as `result` errors only;
//   - configure: ok or a config-error; a failed configure leaves ce-info as
//     it was;
//   - process-batch: more than batch-max packets → too-many-packets; a
//     batch within limits().batch-bytes is always taken; a refused batch
//     counts nothing; a taken batch counts every packet once in packets and
//     bytes (cut to input-capacity): in-ipv4 + in-ipv6 +
//     drop-unknown-version, and forwarded + held + drops;
//   - every output is IPv4 or IPv6 with a length its header agrees with.
// FUZZ_SEED / FUZZ_COMPONENT_CALLS override the seed and the volume.

import { test } from "node:test";
import assert from "node:assert/strict";
import { errorPayload, instance, type Counter, type Datapath } from "../host/component-driver.js";
import * as P from "../host/packets.js";
import { brConfig, ceConfig } from "./profiles.js";
import { Rng } from "./rng.js";
import { mutate } from "./mutate.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_7597);
const CALLS = Number(process.env.FUZZ_COMPONENT_CALLS ?? 1500);

function sums(list: Counter[]): { inP: bigint; inB: bigint; outP: bigint; outB: bigint } {
  let inP = 0n, inB = 0n, outP = 0n, outB = 0n;
  for (const c of list) {
    if (c.name === "in-ipv4" || c.name === "in-ipv6" || c.name === "drop-unknown-version") { inP += c.packets; inB += c.bytes; }
    if (c.name === "forwarded-to-ipv6" || c.name === "forwarded-to-ipv4" || c.name === "held" || c.name.startsWith("drop-")) { outP += c.packets; outB += c.bytes; }
  }
  return { inP, inB, outP, outB };
}

function call<T>(what: string, f: () => T): { ok: true; value: T } | { ok: false; payload: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || (e as Error)?.constructor?.name !== "ComponentError") {
      throw new assert.AssertionError({ message: `${what} did not return a result error: ${(e as Error)?.constructor?.name} ${(e as Error)?.message}` });
    }
    return { ok: false, payload: errorPayload(e) };
  }
}

function packetPool(): Uint8Array[] {
  const ce4 = "203.86.225.1";
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    pool.push(P.udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: 5000 + i, dstPort: 53, payload: P.pattern(20 + 100 * i, i) }));
    pool.push(P.tcp4({ src: "192.168.1.11", dst: "198.51.100.8", srcPort: 40000 + i, dstPort: 443, flags: "S", options: { mss: 1460 } }));
    pool.push(P.icmp4Echo({ src: "192.168.1.12", dst: "8.8.8.8", id: i, seq: i }));
    pool.push(P.ipip6({ src: "2403:9200:fff0::2", dst: "2403:9200:1234::cb56:e101:234", inner: P.udp4({ src: "198.51.100.7", dst: ce4, srcPort: 53, dstPort: 0x1234 + (i << 12) }) }));
    pool.push(P.ipip6({ src: "2403:9200:1234::cb56:e101:234", dst: "2403:9200:fff0::2", inner: P.udp4({ src: ce4, dst: "198.51.100.7", srcPort: 0x1234 + (i << 12), dstPort: 53 }) }));
    pool.push(P.udp4({ src: "198.51.100.7", dst: ce4, srcPort: 53, dstPort: 0x1234 + (i << 12), payload: P.pattern(1400, i) }));
  }
  pool.push(...P.fragmentIpv4(P.udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: 5000, dstPort: 53, payload: P.pattern(3000) }), 1000));
  return pool;
}

function packet(r: Rng, pool: Uint8Array[], cap: number): Uint8Array {
  const k = r.int(10);
  if (k === 0) return new Uint8Array(r.pick([0, 1, cap - 1, cap, cap + 1, 9000, 65535, r.int(70000)])).map(() => r.byte());
  if (k === 1) return new Uint8Array(r.int(100)).map(() => r.byte());
  const base = r.pick(pool);
  const b = new Uint8Array(Math.max(cap, base.length) + 8);
  b.set(base);
  const len = k < 5 ? base.length : mutate(r, b, base.length, cap);
  return b.slice(0, len);
}

test(`fuzz: ${CALLS} component calls (configure, init, start, process-batch) through jco (seed 0x${SEED.toString(16)})`, async () => {
  const r = new Rng(SEED);
  const dp: Datapath = await instance();
  const configs = [ceConfig(), brConfig()];
  const pool = packetPool();
  let refusedPackets = 0, refusedBytes = 0, taken = 0, packets = 0, configured = 0, outputs = 0;
  for (let n = 0; n < CALLS; n++) {
    const what = r.int(20);
    if (what === 0) {
      // configure: a valid one, a mutated one, random bytes, a length at or past the buffer.
      const base = r.pick(configs);
      let bytes: Uint8Array;
      const k = r.int(5);
      if (k === 0) bytes = base;
      else if (k === 1) bytes = new Uint8Array(r.pick([0, 1, 16383, 16384, 16385, 20480, 65536, 128 * 1024])).map(() => r.byte());
      else {
        bytes = base.slice();
        for (let m = r.range(1, 4); m > 0; m--) bytes[r.int(bytes.length)] = r.interestingByte();
        if (r.chance(0.3)) bytes = bytes.slice(0, r.int(bytes.length + 1));
      }
      const ce = dp.ceInfo();
      const res = call(`configure(${bytes.length} bytes)`, () => dp.configure(bytes));
      if (res.ok) configured++;
      else {
        assert.equal(typeof (res.payload as { code?: unknown }).code, "number", "a config-error");
        assert.deepEqual(dp.ceInfo(), ce, "a refused configure changes nothing");
      }
    } else if (what === 1) {
      const slots = r.pick([0, 1, 2, 3, 8, 64, 256, 4096, 4097, 0x7fffffff, 0xffffffff]);
      const sessions = r.pick([0, 1, 64, 1024, 65536, 1 << 24, 0xffffffff]);
      call(`init(${slots}, ${sessions})`, () => dp.init(slots, sessions, r.u32()));
      call("start", () => dp.start(r.chance(0.5)));
    } else if (what === 2) {
      call("start", () => dp.start(r.chance(0.5)));
    } else {
      const lim = dp.limits();
      const count = r.chance(0.1) ? r.pick([lim.batchMax + 1, 2 * lim.batchMax + 3, 5000]) : r.int(lim.batchMax + 1);
      const batch = Array.from({ length: count }, () => packet(r, pool, lim.inputCapacity || 3968));
      const bytes = batch.reduce((s, p) => s + p.length, 0);
      const before = sums(dp.counters());
      const res = call(`process-batch(${count} packets, ${bytes} bytes)`, () => dp.processBatch(batch, 1e6 + n * 37));
      const after = sums(dp.counters());
      if (count > lim.batchMax) {
        assert.ok(!res.ok && res.payload === "too-many-packets", `${count} > batch-max ${lim.batchMax} packets must be refused`);
      } else if (bytes + 8 * count <= lim.batchBytes) {
        assert.ok(res.ok, `a batch of ${count} packets, ${bytes} bytes within batch-bytes ${lim.batchBytes} was refused: ${String(!res.ok && res.payload)}`);
      }
      if (!res.ok) {
        assert.ok(res.payload === "too-many-packets" || res.payload === "too-many-bytes", `batch-error ${String(res.payload)}`);
        assert.deepEqual(after, before, "a refused batch counts nothing");
        if (res.payload === "too-many-packets") refusedPackets++;
        else refusedBytes++;
        continue;
      }
      taken++;
      packets += count;
      const cut = BigInt(batch.reduce((s, p) => s + Math.min(p.length, lim.inputCapacity), 0));
      assert.equal(after.inP - before.inP, BigInt(count), "every packet received once");
      assert.equal(after.inB - before.inB, cut, "received bytes");
      assert.equal(after.outP - before.outP, BigInt(count), "one outcome per packet");
      assert.equal(after.outB - before.outB, cut, "outcome bytes");
      for (const o of res.value) {
        outputs++;
        const v = o[0] >> 4;
        assert.ok(v === 4 || v === 6, `output of IP version ${v}`);
        const len = v === 4 ? (o[2] << 8) | o[3] : ((o[4] << 8) | o[5]) + 40;
        assert.equal(len, o.length, "output length agrees with its header");
      }
    }
  }
  // A single list too large for the fixed memory: the runtime refuses to lower it (jco: RangeError), and the
  // next call starts afresh (the adapter forgets the abandoned call).
  assert.throws(() => dp.configure(new Uint8Array(1 << 20)), RangeError);
  dp.configure(ceConfig());
  assert.equal(dp.ceInfo()?.portCount, 15);
  console.log(`fuzz component: ${CALLS} calls, ${configured} configures taken, ${taken} batches (${packets} packets, ${outputs} outputs) taken, ` +
    `${refusedPackets} refused as too-many-packets, ${refusedBytes} as too-many-bytes`);
  assert.ok(taken > 0 && refusedPackets > 0 && refusedBytes > 0 && configured > 0, "every branch reached");
});
