#!/usr/bin/env node
// Thin launcher: the CLI is bundled by rollup into build/host/mape.js.
import { main } from "../build/host/mape.js";

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`mape: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
);
