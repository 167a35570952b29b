// The router program's module figures beside Node's (npm run bench): the
// same case — the session-setup packets and the batches bench.ts times —
// written to a file and timed by `mape bench` of build/router/x86_64/mape
// (the same module through wasm2c, native/router/bench.c) in the same run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find the repository root");
}

// MAPE_NATIVE_EXE=<path> times another build of the router program (e.g. one
// compiled with other flags) against the same Node run.
export const ROUTER_DIR = join(repoRoot(), "build", "router");
export const NATIVE_EXE = process.env.MAPE_NATIVE_EXE || join(repoRoot(), "build", "router", "x86_64", "mape");

export interface NativeCase {
  args: string[];
  sessions: number;
  seed: number;
  seconds: number;
  setup: Uint8Array[];
  /** count * stride bytes: the batches, back to back. */
  packets: Uint8Array;
  count: number;
  stride: number;
  batch: number;
  restoreBytes: number;
  expect: string;
}

/** Times the case with the router program: packets and milliseconds (process + restore, restore alone); undefined when it is not built. */
export function nativeTime(c: NativeCase): { packets: number; ms: number; restoreMs: number } | undefined {
  if (!existsSync(NATIVE_EXE)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "mape-bench-"));
  try {
    const setupBytes = c.setup.reduce((n, p) => n + 4 + p.length, 0);
    const buf = new Uint8Array(24 + setupBytes + c.packets.length);
    const dv = new DataView(buf.buffer);
    [0x4245504d, c.setup.length, c.count, c.stride, c.batch, c.restoreBytes].forEach((v, i) => dv.setUint32(4 * i, v, true));
    let at = 24;
    for (const p of c.setup) {
      dv.setUint32(at, p.length, true);
      buf.set(p, at + 4);
      at += 4 + p.length;
    }
    buf.set(c.packets, at);
    const file = join(dir, "case.bin");
    writeFileSync(file, buf);
    const r = spawnSync(NATIVE_EXE, ["bench", ...c.args, "--case", file, "--sessions", String(c.sessions), "--seed", String(c.seed), "--seconds", String(c.seconds), "--expect", c.expect], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`mape bench (router program) failed: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as { packets: number; ms: number; restoreMs: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
