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

// The 64-bit targets bound the module's accesses by guard pages (rt.c): a
// fault inside the module's reservation is its out-of-bounds trap. The test
// build opens only the first 64 KiB of the memory, so instantiating (the
// module's data segments are written high up) faults on the guard.
test("an out-of-bounds access on the guard pages: one line naming it, exit status 70", { skip: skipUnlessCI(existsSync(exe) ? undefined : `${exe} is not built: run npm run build`) }, () => {
  const r = spawnSync(exe, ["calc"], { encoding: "utf8", env: { ...process.env, MAPE_TEST_MEMORY_OPEN: "65536" } });
  assert.equal(r.status, 70, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "mape: the data path trapped: out-of-bounds memory access (in instantiate)\n");
});

// A fault outside the module's memory is the host's own bug: it ends as the
// crash it is (SIGSEGV), never reported as a trap of the data path.
test("a fault outside the module's memory is not reported as a trap", { skip: skipUnlessCI(existsSync(exe) ? undefined : `${exe} is not built: run npm run build`) }, () => {
  const r = spawnSync(exe, ["calc"], { encoding: "utf8", env: { ...process.env, MAPE_TEST_HOST_FAULT: "1" } });
  assert.equal(r.status, null);
  assert.equal(r.signal, "SIGSEGV");
  assert.doesNotMatch(r.stderr, /trapped/);
});

// The 32-bit targets check each access against the memory's fixed size
// (native/router/wasm-rt-check.h). Its test build, for x86_64, lowers the
// bound to 64 KiB: the module's first access above it must trap.
const exe32 = join(repoRoot(), "build", "router", "x86_64-trap32", "mape");
test("an access past the 32-bit targets' fixed-size check: one line naming it, exit status 70", { skip: skipUnlessCI(existsSync(exe32) ? undefined : `${exe32} is not built: run npm run build`) }, () => {
  const r = spawnSync(exe32, ["calc"], { encoding: "utf8", env: { ...process.env, MAPE_TEST_MEMORY_OPEN: "65536" } });
  assert.equal(r.status, 70, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "mape: the data path trapped: out-of-bounds memory access (in instantiate)\n");
  // The check's bound is the memory's last byte: with all of it open the same build runs.
  const ok = spawnSync(exe32, ["calc"], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
});
