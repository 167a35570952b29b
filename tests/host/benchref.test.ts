// The benchmark's native reference (bench/ref.c) must do the module's work,
// not something cheaper: on the same packets as the module bench, its
// outputs must equal the module's, byte for byte (NAPT, checksums, TTL,
// outer header with the module's flow label). A correctness check of the
// reference, not a timing one: nothing here is timed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawDataPath } from "../fuzz/driver.js";
import { readConfigSource } from "../../host/config/source.js";
import { buildNative, writeCaseFile, KIND_LAN, KIND_WAN, type NativeCase } from "../../bench/native.js";
import * as P from "./packets.js";
import { skipUnlessCI } from "./prereq.js";

const ARGS = ["--rule", "2001:db8::/32,192.0.2.0/24,8,0", "--prefix", "2001:db8:1200::/40", "--br", "2001:db8:ffff::1"];
const BR = "2001:db8:ffff::1";
const gcc = spawnSync("gcc", ["--version"]).status === 0;

const lanHost = (j: number): Uint8Array => Uint8Array.of(10, 1, (j >> 8) & 255, j & 255);
const remote = (r: number): Uint8Array => Uint8Array.of(198, 18, 0, r);

test("bench/ref.c forwards the module bench's packets exactly as the module does", { skip: skipUnlessCI(gcc ? undefined : "gcc is not installed") }, () => {
  const work = mkdtempSync(join(tmpdir(), "mape-benchref-"));
  try {
    const bins = buildNative();
    const dp = new RawDataPath(ARGS, { slots: 256, sessions: 65536, seed: 1 });
    const batch = dp.batchMax;
    // 256 sessions, TOS and payloads varied so the traffic class, flow label and checksums differ per packet.
    const flows: { j: number; r: number; ext: number }[] = [];
    for (let s = 0; s < 2 * batch; s++) flows.push({ j: s % 128, r: s >> 7, ext: 0 });
    const lan = (f: { j: number; r: number }, size: number, k: number): Uint8Array =>
      P.udp4({ src: lanHost(f.j), dst: remote(f.r), srcPort: 20000 + f.j, dstPort: 4433, tos: (k * 4) & 0xfc, payload: P.pattern(size - 28, k) });
    const setup = flows.map((f, k) => {
      const p = P.udp4({ src: lanHost(f.j), dst: remote(f.r), srcPort: 20000 + f.j, dstPort: 4433, payload: new Uint8Array(36) });
      void k;
      return p;
    });
    for (let at = 0; at < flows.length; at += batch) {
      for (let i = 0; i < batch; i++) dp.put(i, setup[at + i]);
      assert.equal(dp.process(batch, 1000), batch);
      for (let i = 0; i < batch; i++) { const o = dp.output(i); flows[at + i].ext = (o[60] << 8) | o[61]; }
    }
    const base = {
      ce4: dp.ceIPv4(), ce6: dp.ceIPv6(), br6: P.ip6(BR), rule4: Uint8Array.of(192, 0, 2, 0), rule4Len: 24,
      config: readConfigSource(ARGS, "ce").encoded.bytes, batch, setup,
      flows: flows.map((f) => ({ intAddr: lanHost(f.j), remAddr: remote(f.r), intPort: 20000 + f.j, remPort: 4433, extPort: f.ext, proto: 17 })),
    };
    for (const kind of [KIND_LAN, KIND_WAN]) {
      const size = 100;
      const stride = kind === KIND_LAN ? size : size + 40;
      const pk = flows.slice(0, batch).map((f, k) => {
        const l = lan(f, size, k);
        if (kind === KIND_LAN) return l;
        const inner = P.udp4({ src: remote(f.r), dst: dp.ceIPv4(), srcPort: 4433, dstPort: f.ext, tos: (k * 4) & 0xfc, payload: P.pattern(size - 28, k) });
        return P.ipip6({ src: BR, dst: dp.ceIPv6(), inner });
      });
      const bytes = new Uint8Array(batch * stride);
      pk.forEach((p, i) => bytes.set(p, i * stride));
      const c: NativeCase = { ...base, kind, count: batch, stride, packets: bytes };
      const file = join(work, `case-${kind}.bin`);
      writeCaseFile(file, c);
      const dump = join(work, `out-${kind}.bin`);
      const r = spawnSync(bins.ref, [file, "--iters", "1", "--dump", dump], { encoding: "utf8" });
      assert.equal(r.status, 0, `ref failed: ${r.stderr}`);
      // The module, on the same batch.
      for (let i = 0; i < batch; i++) dp.put(i, pk[i]);
      assert.equal(dp.process(batch, 1000), batch);
      const got = readFileSync(dump);
      let at = 0;
      for (let i = 0; i < batch; i++) {
        const n = got.readUInt32LE(at);
        const refOut = new Uint8Array(got.subarray(at + 4, at + 4 + n));
        at += 4 + n;
        const mod = dp.output(i);
        assert.deepEqual(refOut, new Uint8Array(mod), `${kind === KIND_LAN ? "LAN→WAN" : "WAN→LAN"} packet ${i}: the reference's output differs from the module's`);
      }
      assert.equal(at, got.length, "the reference emitted more packets than the module");
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("bench --e2e options: --host node|native, anything else refused with one line", async () => {
  const { e2eOptions } = await import("../../bench/e2e.js");
  assert.deepEqual(e2eOptions(["--e2e", "--host", "native", "--seconds", "2", "--json"]), { json: true, seconds: 2, preset: undefined, host: "native" });
  assert.equal(e2eOptions(["--e2e"]).host, undefined);
  assert.throws(() => e2eOptions(["--e2e", "--host", "wasmtime"]), /^Error: --host is node or native, not 'wasmtime'$/);
});
