// Writes seeds for the libFuzzer targets to build/fuzz-native/seeds/<target>/;
// `npm run fuzz -- --update-corpus` merges those (and what the runs found)
// into the corpus kept in the repo, tests/fuzz/corpus/<target>/, keeping
// only inputs that add coverage (libFuzzer -merge=1). The seeds:
//   configure  the option bytes of every e2e case's configuration, of the
//              examples/ files in CE, BR and calc mode, and of the fuzz
//              profiles (tests/fuzz/profiles.ts);
//   ce         each e2e case's in.pcap as one packet stream (a batch per
//              record, the clock stepping with the capture's timestamps),
//              plus streams from the Node fuzzer's CE corpus;
//   br         streams from the structure-aware BR generator
//              (tests/fuzz/br-corpus.ts).
// Files are named by their SHA-1, as libFuzzer names what it adds.
//
//   npx tsc -p tsconfig.json && node build/ts/tests/fuzz/native/seed.js
//   npm run fuzz -- --seconds 10 --update-corpus

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readPcapFile } from "../../../host/pcap.js";
import { configFromJson } from "../../../host/config/source.js";
import { repoRoot } from "../../e2e/files.js";
import { brConfig, ceConfig } from "../profiles.js";
import { brSeedStreams, ceSeedStreams } from "../streams.js";

/** Largest seed file: the corpus stays small. */
const MAX_SEED = 16384;

/** The clock step byte of a batch boundary (harness.c mape_feed) closest to `ms`. */
export function stepByte(ms: number): number {
  if (ms <= 0) return 0;
  if (ms < 200 * 50) return Math.min(199, Math.round(ms / 50));
  if (ms >= 310000) return 255;
  return Math.min(254, 199 + Math.round(ms / 5000));
}

/** Encodes batches of packets as the targets' length-prefixed stream. */
export function encodeStream(batches: { packets: Uint8Array[]; stepMs: number }[], cap = 3968): Uint8Array {
  const parts: number[] = [];
  for (const b of batches) {
    for (const p of b.packets) {
      const n = Math.min(p.length, cap);
      parts.push(n >> 8, n & 255);
      for (let i = 0; i < n; i++) parts.push(p[i]);
    }
    parts.push(0xff, stepByte(b.stepMs));
  }
  return Uint8Array.from(parts);
}

function write(dir: string, bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > MAX_SEED) return false;
  const name = createHash("sha1").update(bytes).digest("hex");
  writeFileSync(join(dir, name), bytes);
  return true;
}

export function seed(root = repoRoot()): Record<string, number> {
  const corpus = join(root, "build", "fuzz-native", "seeds");
  const dirs = { configure: join(corpus, "configure"), ce: join(corpus, "ce"), br: join(corpus, "br") };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const counts: Record<string, number> = { configure: 0, ce: 0, br: 0 };
  const add = (t: keyof typeof dirs, b: Uint8Array): void => void (write(dirs[t], b) && counts[t]++);

  // configure
  add("configure", ceConfig());
  add("configure", brConfig());
  const cases = join(root, "tests", "e2e", "cases");
  for (const name of readdirSync(cases).sort()) {
    const cfg = join(cases, name, "config.json");
    if (existsSync(cfg)) add("configure", configFromJson(JSON.parse(readFileSync(cfg, "utf8"))).encoded.bytes);
  }
  for (const f of readdirSync(join(root, "examples")).filter((f) => f.endsWith(".json")).sort()) {
    const doc = JSON.parse(readFileSync(join(root, "examples", f), "utf8")) as Record<string, unknown>;
    for (const mode of ["ce", "br", "calc"]) {
      const d: Record<string, unknown> = { ...doc, mode };
      if (mode === "br") delete d.endUserPrefix;
      try {
        add("configure", configFromJson(d).encoded.bytes);
      } catch { /* that mode does not take this file (e.g. MAP-T outside calc) */ }
    }
  }

  // ce: the e2e captures
  for (const name of readdirSync(cases).sort()) {
    const pcap = join(cases, name, "in.pcap");
    if (!existsSync(pcap)) continue;
    const recs = readPcapFile(pcap);
    const batches = recs.map((r, i) => ({ packets: [r.data], stepMs: i + 1 < recs.length ? recs[i + 1].timestampMs - r.timestampMs : 0 }));
    add("ce", encodeStream(batches));
  }
  for (const s of ceSeedStreams()) add("ce", encodeStream(s));
  for (const s of brSeedStreams()) add("br", encodeStream(s));
  return counts;
}

if (process.argv[1]?.endsWith("seed.js")) console.log("fuzz seeds written to build/fuzz-native/seeds/:", seed());
