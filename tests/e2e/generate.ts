// Writes every case of cases.ts to tests/e2e/cases/<name>/ (see files.ts).
// Run after changing cases.ts, and commit the result:
//
//   npx tsc -p tsconfig.json && node build/ts/tests/e2e/generate.js
//
// Folders of cases that no longer exist are removed. The expected packets
// come from the builders alone: nothing here runs the wasm module.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allCases } from "./cases.js";
import { caseFiles, casesDir } from "./files.js";

const dir = casesDir();
mkdirSync(dir, { recursive: true });
const cases = allCases();
const names = new Set<string>();
for (const c of cases) {
  if (names.has(c.name)) throw new Error(`two cases are named ${c.name}`);
  names.add(c.name);
  const d = join(dir, c.name);
  mkdirSync(d, { recursive: true });
  for (const [file, bytes] of Object.entries(caseFiles(c))) writeFileSync(join(d, file), bytes);
}
for (const old of readdirSync(dir)) {
  if (!names.has(old)) rmSync(join(dir, old), { recursive: true, force: true });
}
console.log(`wrote ${cases.length} cases to ${dir}`);
