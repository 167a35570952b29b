#!/usr/bin/env node
// npm run fuzz: coverage-guided fuzzing with libFuzzer over the wasm2c
// translation of build/mape.wasm (README.md in this folder). Builds the
// targets (build.mjs), then runs each one in turn — never two at once —
// for a bounded time, starting from the corpus kept in the repo
// (tests/fuzz/corpus/<target>/, read only) plus a working corpus under
// build/fuzz-native/corpus/<target>/ that keeps what earlier runs found.
//
//   npm run fuzz [-- --seconds N] [--target configure|ce|br]… [--update-corpus]
//
// --seconds N      per target (default 60)
// --target T       only these targets (default all three)
// --update-corpus  afterwards, merge into the repo corpus only the inputs
//                  that add coverage (libFuzzer -merge=1, small ones first):
//                  from the working corpus and from the seeds that
//                  tests/fuzz/native/seed.ts wrote to build/fuzz-native/seeds/
// A crash (a wasm trap or a violated invariant, see harness.h) leaves the
// input in build/fuzz-native/artifacts/ and makes the exit status 1.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, OUT, ROOT, TARGETS } from "./build.mjs";

export const CORPUS = join(ROOT, "tests", "fuzz", "corpus");
const MAX_LEN = 16384;

/** The last libFuzzer status line's figures and the final stats. */
export function parseStats(text) {
  const lines = text.split("\n").filter((l) => /^#\d+\s+(INITED|NEW|REDUCE|pulse|DONE)/.test(l));
  const last = lines[lines.length - 1] ?? "";
  const num = (re, s = last) => Number((s.match(re) ?? [])[1] ?? NaN);
  return {
    runs: num(/stat::number_of_executed_units:\s+(\d+)/, text) || num(/^#(\d+)/),
    execPerSec: num(/stat::average_exec_per_sec:\s+(\d+)/, text) || num(/exec\/s: (\d+)/),
    cov: num(/cov: (\d+)/),
    ft: num(/ft: (\d+)/),
    corpus: (last.match(/corp: (\S+)/) ?? [])[1],
    crashed: /ERROR: libFuzzer|invariant violated|wasm trap|SUMMARY: (Address|Undefined)/.test(text),
  };
}

/**
 * Runs one target for `seconds` (wall clock, as libFuzzer counts it).
 * Returns the status, the parsed figures, the CPU seconds it used and its output.
 */
export function runTarget(bin, target, seconds, extra = []) {
  const work = join(OUT, "corpus", target);
  const artifacts = join(OUT, "artifacts");
  mkdirSync(work, { recursive: true });
  mkdirSync(artifacts, { recursive: true });
  const args = [`-max_total_time=${seconds}`, `-max_len=${MAX_LEN}`, "-print_final_stats=1", `-artifact_prefix=${artifacts}/${target}-`,
    ...extra, work, join(CORPUS, target)];
  const res = spawnSync("bash", ["-c", 'TIMEFORMAT="cpu %U %S"; time "$@"', "time", bin, ...args], {
    encoding: "utf8", maxBuffer: 64 << 20, timeout: (seconds + 120) * 1000,
  });
  const out = `${res.stdout ?? ""}${res.stderr ?? ""}`;
  const cpu = out.match(/cpu ([\d.]+) ([\d.]+)\s*$/);
  return { status: res.status, stats: parseStats(out), cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, output: out };
}

/** Replays the repo corpus of a target once (no mutation): every seed must run clean. */
export function replayCorpus(bin, target) {
  const res = spawnSync(bin, ["-runs=0", `-max_len=${MAX_LEN}`, join(CORPUS, target)], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
  return { status: res.status, output: `${res.stdout ?? ""}${res.stderr ?? ""}`, seeds: readdirSync(join(CORPUS, target)).length };
}

async function main(argv) {
  let seconds = 60;
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--seconds") seconds = Number(argv[++i]);
    else if (argv[i] === "--target") only.push(argv[++i]);
    else if (argv[i] === "--update-corpus") continue;
    else throw new Error(`unknown argument '${argv[i]}' (--seconds N, --target ${TARGETS.join("|")}, --update-corpus)`);
  }
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error("--seconds takes a whole number of seconds ≥ 1");
  for (const t of only) if (!TARGETS.includes(t)) throw new Error(`--target: '${t}' is not one of ${TARGETS.join(", ")}`);
  const bins = await build({ quiet: true });
  let failed = false;
  for (const t of only.length ? only : TARGETS) {
    const r = runTarget(bins[t], t, seconds);
    const s = r.stats;
    console.log(`fuzz ${t}: ${s.runs} executions in ${seconds} s (${s.execPerSec} exec/s, ${r.cpuSeconds.toFixed(0)} CPU-s), cov ${s.cov} ft ${s.ft}, corpus ${s.corpus}` +
      (r.status === 0 && !s.crashed ? "" : ` — CRASH, see build/fuzz-native/artifacts/`));
    if (r.status !== 0 || s.crashed) {
      failed = true;
      console.log(r.output.split("\n").filter((l) => /invariant violated|wasm trap|ERROR|SUMMARY|Test unit written/.test(l)).join("\n"));
    }
    if (argv.includes("--update-corpus")) {
      const from = [join(OUT, "corpus", t), join(OUT, "seeds", t)].filter((d) => existsSync(d));
      spawnSync(bins[t], ["-merge=1", `-max_len=${MAX_LEN}`, join(CORPUS, t), ...from], { stdio: "ignore" });
      console.log(`  corpus ${t}: ${readdirSync(join(CORPUS, t)).length} files`);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`fuzz: ${e?.message ?? e}`);
    process.exit(2);
  });
}
