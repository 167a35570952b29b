// The on-disk form of an end-to-end case (tests/e2e/cases/<name>/), shared by
// the generator and the runner so both agree on every byte:
//
//   config.json     the JSON configuration (docs/config.md)
//   in.pcap         the input packets, raw IP (link type 101), one per step
//   expected.pcap   the expected output packets, raw IP, each stamped with the
//                   time of the input that causes it
//   counters.json   {"counters": {name: packets}}: every non-zero counter
//   case.json       {"description", "steps": [notes], "free": {…}, "knownBug", "mode"} (see cases.ts;
//                   mode "br": run with --br-mode)

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LINKTYPE_RAW, encodePcap, type PcapWriteRecord } from "../../host/pcap.js";
import { T0_MS, type E2ECase } from "./cases.js";

/** The repository root (the directory holding package.json), from wherever this file was compiled to. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "tests", "e2e"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find the repository root (package.json with tests/e2e/)");
}

export function casesDir(): string {
  return join(repoRoot(), "tests", "e2e", "cases");
}

const json = (v: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/** Every file of a case, by name. */
export function caseFiles(c: E2ECase): Record<string, Uint8Array> {
  const input: PcapWriteRecord[] = [];
  const expected: PcapWriteRecord[] = [];
  let t = T0_MS;
  c.steps.forEach((s, i) => {
    if (s.at !== undefined) t = T0_MS + s.at * 1000;
    else if (i > 0) t += 1;
    input.push({ timestampMs: t, data: s.send });
    for (const e of s.expect) expected.push({ timestampMs: t, data: e });
  });
  const meta: Record<string, unknown> = { description: c.description, steps: c.steps.map((s) => s.note) };
  if (c.free) meta.free = c.free;
  if (c.knownBug) meta.knownBug = c.knownBug;
  if (c.mode) meta.mode = c.mode;
  return {
    "config.json": json(c.config),
    "in.pcap": encodePcap(input, { linkType: LINKTYPE_RAW }),
    "expected.pcap": encodePcap(expected, { linkType: LINKTYPE_RAW }),
    "counters.json": json({ counters: c.counters }),
    "case.json": json(meta),
  };
}
