// `mape ce --state <file>` in the Node host (host/stateimage.ts): the state
// image goes to a file atomically and comes back into a new instance (a
// restart) with the same external ports; a missing file is a quiet first
// start; an unreadable or refused one gives one line and the CE starts empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../host/engine.js";
import { DataPath } from "../../host/datapath.js";
import { readConfigSource } from "../../host/config/source.js";
import { exportImage, importImage, loadState, saveState, writeFileAtomic, ImageError, type ImageExports } from "../../host/stateimage.js";
import { udp4, tcp4 } from "./packets.js";

const CE_ARGS = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", "2403:9200:fff0::2", "--prefix", "2403:9200:1234::/48"];

function ceDataPath(args = CE_ARGS): DataPath {
  const engine = Engine.load();
  engine.configure(readConfigSource(args, "ce").encoded);
  const dp = new DataPath(engine, { seed: Math.floor(Math.random() * 2 ** 32) });
  dp.start(false);
  return dp;
}

const img = (dp: DataPath): ImageExports => dp.exports as unknown as ImageExports;
const active = (dp: DataPath): number => dp.counters()["sessions-active"].packets;

/** Sends one LAN packet; returns the external (IPv4 source) port it left with. */
function send(dp: DataPath, pkt: Uint8Array, now: number): number {
  dp.setInput(0, pkt);
  assert.equal(dp.process(1, now), 1);
  const o = dp.output(0);
  return (o[40 + 20] << 8) | o[40 + 21];
}

const udpOut = (sport: number): Uint8Array => udp4({ src: "192.168.1.2", dst: "198.51.100.1", srcPort: sport, dstPort: 7000, payload: new Uint8Array(8) });
const synOut = (sport: number): Uint8Array => tcp4({ src: "192.168.1.2", dst: "198.51.100.1", srcPort: sport, dstPort: 80, flags: 0x02 } as Parameters<typeof tcp4>[0]);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "mape-state-"));
}

test("a saved image restores into a new instance: same sessions, same external ports", () => {
  const dir = tempDir();
  try {
    const file = join(dir, "ce.state");
    const a = ceDataPath();
    // Local ports outside the set: the external ports are random draws, not the kept local port.
    const ports = [50001, 50002, 50003].map((p, i) => send(a, udpOut(p), 1000 + i));
    const tports = [50011, 50012].map((p, i) => send(a, synOut(p), 2000 + i));
    assert.equal(active(a), 5);
    const r = saveState(img(a), file, 3000);
    assert.equal(r.ok, true, r.line);
    assert.equal(r.sessions, 5);
    assert.equal(r.line, `saved 5 sessions to ${file}`);
    assert.equal(statSync(file).size, 64 + 5 * 16 + 5 * 20 + 4);

    const b = ceDataPath();
    assert.equal(active(b), 0);
    assert.equal(loadState(img(b), file, 10), `restored 5 sessions from ${file}`);
    assert.equal(active(b), 5);
    // The same flows leave on the same ports (found, not new: the session count stays).
    assert.deepEqual([50001, 50002, 50003].map((p, i) => send(b, udpOut(p), 20 + i)), ports);
    assert.deepEqual([50011, 50012].map((p, i) => send(b, synOut(p), 30 + i)), tports);
    assert.equal(active(b), 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFileAtomic replaces the file whole and leaves no temporary file; a failed write keeps the old one", () => {
  const dir = tempDir();
  try {
    const file = join(dir, "ce.state");
    writeFileSync(file, "old");
    writeFileAtomic(file, new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual([...readFileSync(file)], [1, 2, 3, 4]);
    assert.deepEqual(readdirSync(dir), ["ce.state"]);
    // The target is a directory: the rename fails, the directory stays, no temporary file is left.
    const d = join(dir, "sub");
    mkdirSync(d);
    assert.throws(() => writeFileAtomic(d, new Uint8Array([9])));
    assert.equal(statSync(d).isDirectory(), true);
    assert.deepEqual(readdirSync(dir).sort(), ["ce.state", "sub"]);
    // saveState says so in one line and throws nothing.
    const dp = ceDataPath();
    send(dp, udpOut(50001), 1000);
    const r = saveState(img(dp), d, 2000);
    assert.equal(r.ok, false);
    assert.match(r.line, /^state not saved to .*sub: E[A-Z]+/);
    assert.equal(r.line.includes("\n"), false);
    // A directory that does not exist: the same, nothing created.
    const r2 = saveState(img(dp), join(dir, "none", "ce.state"), 2000);
    assert.equal(r2.ok, false);
    assert.match(r2.line, /ENOENT/);
    assert.deepEqual(readdirSync(dir).sort(), ["ce.state", "sub"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing file is a quiet first start; an unreadable one is one line; the CE starts empty", () => {
  const dir = tempDir();
  try {
    const dp = ceDataPath();
    assert.equal(loadState(img(dp), join(dir, "absent.state"), 10), undefined);
    assert.equal(active(dp), 0);
    const line = loadState(img(dp), dir, 10); // a directory: EISDIR
    assert.match(line ?? "", /^state .* not read, starting empty: EISDIR/);
    assert.equal(line!.includes("\n"), false);
    assert.equal(active(dp), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("refused images (truncated, bit-flipped, another BMR, not an image) are one line each and nothing is imported", () => {
  const dir = tempDir();
  try {
    const a = ceDataPath();
    for (let p = 50001; p < 50005; p++) send(a, udpOut(p), 1000);
    const good = exportImage(img(a), 2000);
    const cases: [string, Uint8Array, DataPath, RegExp][] = [
      ["truncated", good.subarray(0, good.length - 7), ceDataPath(), /refused, starting empty: truncated: \d+ of \d+ bytes/],
      ["flipped", (() => { const b = good.slice(); b[100] ^= 4; return b; })(), ceDataPath(), /refused, starting empty: checksum mismatch/],
      ["other-bmr", good, ceDataPath([...CE_ARGS.slice(0, 5), "2403:9200:1235::/48"]), /refused, starting empty: made for another BMR/],
      ["not-an-image", new TextEncoder().encode(`{"not": "an image", "padding": "${"x".repeat(80)}"}`), ceDataPath(), /not a NAT state image/],
    ];
    for (const [name, bytes, dp, re] of cases) {
      const file = join(dir, `${name}.state`);
      writeFileSync(file, bytes);
      const line = loadState(img(dp), file, 10);
      assert.match(line ?? "", re, name);
      assert.equal(line!.includes("\n"), false);
      assert.equal(active(dp), 0, name);
    }
    assert.throws(() => importImage(img(ceDataPath()), good.subarray(0, 10), 10), (e) => e instanceof ImageError && e.code < 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
