// The libFuzzer targets over the wasm2c translation of build/mape.wasm
// (tests/fuzz/native): built, every seed of the repo corpus replayed, then
// each target fuzzed for a few seconds (FUZZ_NATIVE_SECONDS, default 3),
// one at a time. A wasm trap or a violated invariant (native/harness.h) is a
// crash: the test fails and names the input libFuzzer saved. `npm run fuzz`
// runs the same targets for longer.
//
// Needs clang with its fuzzer runtime (Debian clang, libclang-rt-14-dev)
// and wasm2c (Debian wabt): skipped without them, failing under CI=true.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { skipUnlessCI } from "../host/prereq.js";
import { repoRoot } from "../e2e/files.js";

const SECONDS = Number(process.env.FUZZ_NATIVE_SECONDS ?? 3);

function missing(): string | undefined {
  for (const [cmd, pkg] of [["clang", "clang"], ["wasm2c", "wabt"]]) {
    const r = spawnSync(cmd, ["--version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) return `${cmd} not found (Debian package ${pkg})`;
  }
  return undefined;
}

interface Native {
  build(o: { quiet: boolean }): Promise<Record<string, string>>;
  TARGETS: string[];
}
interface Runner {
  runTarget(bin: string, target: string, seconds: number): { status: number | null; stats: { runs: number; execPerSec: number; cov: number; ft: number; crashed: boolean }; cpuSeconds: number; output: string };
  replayCorpus(bin: string, target: string): { status: number | null; output: string; seeds: number };
}

const skip = skipUnlessCI(missing());

test(`libFuzzer: configure, CE and BR targets replay their corpus and fuzz ${SECONDS} s each without a crash`, { skip }, async (t) => {
  const dir = join(repoRoot(), "tests", "fuzz", "native");
  const native = (await import(pathToFileURL(join(dir, "build.mjs")).href)) as Native;
  const runner = (await import(pathToFileURL(join(dir, "run.mjs")).href)) as Runner;
  const bins = await native.build({ quiet: true });
  for (const target of native.TARGETS) {
    const replay = runner.replayCorpus(bins[target], target);
    assert.equal(replay.status, 0, `replaying the ${target} corpus (${replay.seeds} seeds) crashed:\n${tail(replay.output)}`);
    const r = runner.runTarget(bins[target], target, SECONDS);
    const s = r.stats;
    t.diagnostic(`${target}: ${replay.seeds} seeds replayed; ${s.runs} executions in ${SECONDS} s (${s.execPerSec} exec/s), cov ${s.cov} ft ${s.ft}`);
    assert.ok(r.status === 0 && !s.crashed, `fuzz-${target} crashed:\n${tail(r.output)}`);
    assert.ok(s.runs > 0 && s.cov > 0, `fuzz-${target} ran no input:\n${tail(r.output)}`);
  }
});

function tail(out: string): string {
  const keep = out.split("\n").filter((l) => /invariant violated|wasm trap|ERROR|SUMMARY|Test unit written|^\s+#\d+ .* in (mape_|LLVMFuzzer|w2c_)/.test(l));
  return keep.slice(0, 30).join("\n");
}
