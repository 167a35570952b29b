// A trap inside the module ends the router program with one line naming it
// and exit status 70 (never a silent corruption). The test build
// build/router/x86_64-trap/mape keeps wasm2c's depth counting and allows
// the module 4 call frames (WASM_RT_MAX_CALL_STACK_DEPTH=4), so reading the
// configuration of `mape calc` exhausts the call stack inside the translated
// module's own code (the module cannot recurse: scripts/callgraph.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../e2e/files.js";
import { skipUnlessCI } from "../host/prereq.js";

const exe = join(repoRoot(), "build", "router", "x86_64-trap", "mape");

test("a trap inside the module: one line naming it, exit status 70", { skip: skipUnlessCI(existsSync(exe) ? undefined : `${exe} is not built: run npm run build`) }, () => {
  const r = spawnSync(exe, ["calc"], { encoding: "utf8" });
  assert.equal(r.status, 70, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "mape: the data path trapped: call stack exhausted (in configFromArgs)\n");
});
