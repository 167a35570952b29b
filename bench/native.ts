// The native side of `npm run bench` (docs/benchmark.md): builds and runs
// the C reference (bench/ref.c) and the module translated by wasm2c
// (bench/modbench.c around build/bench/mape.c) on the module bench's own
// packets, written to a case file, and counts instructions per packet with
// valgrind's callgrind.
//
// Case file (little-endian u32s):
//
//   "MAPEBNC1" | kind (0 LAN→WAN, 1 WAN→LAN, 2 new sessions) | count | stride | batch
//   | ce4 (4) | ce6 (16) | br6 (16) | rule IPv4 prefix (4) | its length
//   | nflows | nflows × (intAddr 4, remAddr 4, intPort 2, remPort 2, extPort 2, proto 1, pad 1; big-endian fields)
//   | configLen | encoded configuration (configure's bytes)
//   | nsetup | nsetup × 64-byte LAN packets that open the sessions, in order (at t = 1000 ms)
//   | count × stride bytes: the packets, batch after batch
//
// Generated C stays under build/bench/; the two drivers are self-contained.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const KIND_LAN = 0;
export const KIND_WAN = 1;
export const KIND_NEW = 2;

export interface CaseFlow { intAddr: Uint8Array; remAddr: Uint8Array; intPort: number; remPort: number; extPort: number; proto: number }

export interface NativeCase {
  kind: number;
  count: number;
  stride: number;
  batch: number;
  ce4: Uint8Array;
  ce6: Uint8Array;
  br6: Uint8Array;
  rule4: Uint8Array;
  rule4Len: number;
  flows: CaseFlow[];
  config: Uint8Array;
  /** Session-opening packets, 64 bytes each. */
  setup: Uint8Array[];
  packets: Uint8Array;
}

/** The repository root (holding package.json and bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "bench", "ref.c"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find the repository root (package.json with bench/ref.c)");
}

export function encodeCase(c: NativeCase): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (...v: number[]): void => {
    const b = new Uint8Array(4 * v.length);
    const dv = new DataView(b.buffer);
    v.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true));
    parts.push(b);
  };
  parts.push(new TextEncoder().encode("MAPEBNC1"));
  u32(c.kind, c.count, c.stride, c.batch);
  parts.push(c.ce4, c.ce6, c.br6, c.rule4);
  u32(c.rule4Len, c.flows.length);
  const fl = new Uint8Array(16 * c.flows.length);
  c.flows.forEach((f, i) => {
    const o = 16 * i;
    fl.set(f.intAddr, o);
    fl.set(f.remAddr, o + 4);
    fl[o + 8] = f.intPort >> 8; fl[o + 9] = f.intPort & 255;
    fl[o + 10] = f.remPort >> 8; fl[o + 11] = f.remPort & 255;
    fl[o + 12] = f.extPort >> 8; fl[o + 13] = f.extPort & 255;
    fl[o + 14] = f.proto;
  });
  parts.push(fl);
  u32(c.config.length);
  parts.push(c.config);
  u32(c.setup.length);
  for (const s of c.setup) {
    if (s.length !== 64) throw new Error("setup packets are 64 bytes");
    parts.push(s);
  }
  if (c.packets.length !== c.count * c.stride) throw new Error("packets: count × stride bytes");
  parts.push(c.packets);
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export interface Binaries { ref: string; modbench?: string; problems: string[] }

function run(cmd: string, args: string[], timeoutMs = 120_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 1 << 24 });
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

const newer = (a: string, ...b: string[]): boolean => existsSync(a) && b.every((x) => statSync(a).mtimeMs >= statSync(x).mtimeMs);

/**
 * Builds build/bench/ref (gcc -O2) and, when wasm2c and Debian's
 * libwasm-rt-impl are there, build/bench/modbench from build/mape.wasm.
 * Returns the paths and what could not be built.
 */
export function buildNative(root = repoRoot()): Binaries {
  const out = join(root, "build", "bench");
  mkdirSync(out, { recursive: true });
  const problems: string[] = [];
  const refSrc = join(root, "bench", "ref.c");
  const ref = join(out, "ref");
  if (!newer(ref, refSrc)) {
    const r = run("gcc", ["-O2", "-Wall", "-o", ref, refSrc]);
    if (!r.ok) throw new Error(`gcc -O2 bench/ref.c failed: ${r.err.trim()}`);
  }
  const wasm = join(root, "build", "mape.wasm");
  const modSrc = join(root, "bench", "modbench.c");
  const c = join(out, "mape.c");
  const modbench = join(out, "modbench");
  if (!newer(c, wasm)) {
    const w = run("wasm2c", [wasm, "-n", "mape", "-o", c]);
    if (!w.ok) { problems.push(`wasm2c: ${w.err.trim() || "not found (Debian package wabt)"}`); return { ref, problems }; }
  }
  if (!newer(modbench, c, modSrc)) {
    const g = run("gcc", ["-O2", "-I", out, "-o", modbench, modSrc, c, "-lwasm-rt-impl", "-lm"]);
    if (!g.ok) { problems.push(`gcc -O2 of the wasm2c output failed: ${g.err.trim().split("\n").slice(-3).join(" ")}`); return { ref, problems }; }
  }
  return { ref, modbench, problems };
}

export interface NativeResult { case: string; packets: number; nsProcess: number; nsTotal?: number; nsRestore?: number }

/** Runs a driver on a case file; returns its JSON line. */
export function runDriver(bin: string, caseFile: string, seconds: number, extra: string[] = []): NativeResult {
  const r = run(bin, [caseFile, "--seconds", String(seconds), ...extra], 600_000);
  if (!r.ok) throw new Error(`${bin}: ${r.err.trim()}`);
  return JSON.parse(r.out.trim().split("\n").pop()!) as NativeResult;
}

/** Instructions (Ir) callgrind collected inside `fn` for a run of `iters` timed batches. */
function collected(bin: string, caseFile: string, fn: string, iters: number): number {
  const r = run("valgrind", ["--tool=callgrind", `--toggle-collect=${fn}`, "--callgrind-out-file=/dev/null", bin, caseFile, "--iters", String(iters)], 600_000);
  const m = /Collected\s*:\s*(\d+)/.exec(r.err);
  if (!r.ok || !m) throw new Error(`callgrind of ${bin}: ${r.err.trim().split("\n").slice(-3).join(" ")}`);
  return Number(m[1]);
}

/**
 * Instructions per packet of the batch function (ref_process or the
 * module's process), deterministic: two runs that differ only in the
 * number of timed iterations, the difference divided by the packets it
 * adds (setup, checks and the restore copy cancel out or are outside the
 * collected function). For new sessions an iteration is a whole round
 * (its re-initialisation included).
 */
export function instructionsPerPacket(bin: string, fn: string, caseFile: string, packetsPerIter: number, iters: [number, number]): number {
  const a = collected(bin, caseFile, fn, iters[0]);
  const b = collected(bin, caseFile, fn, iters[1]);
  return (b - a) / ((iters[1] - iters[0]) * packetsPerIter);
}

export function haveValgrind(): boolean {
  return run("valgrind", ["--version"]).ok;
}

export function writeCaseFile(path: string, c: NativeCase): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeCase(c));
}
