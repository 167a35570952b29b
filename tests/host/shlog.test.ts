// The doubles' recorder (shlog.ts) keeps each record on its own line when
// several doubles write at once. The per-argument recorder it replaced
// failed this (1,058 of 1,200 lines torn, four writers here), and so the
// fetcher tests failed now and then under load.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LOG_FN } from "./shlog.js";

test("mape_test_log: four concurrent writers, every record whole", { timeout: 60_000 }, async () => {
  const t = mkdtempSync(join(tmpdir(), "mape-shlog-"));
  try {
    const log = join(t, "log");
    writeFileSync(log, "");
    const script = `${LOG_FN}\ni=0; while [ $i -lt 300 ]; do mape_test_log "w$1" a "b c" d e f; i=$((i+1)); done\n`;
    const one = (w: number): Promise<number | null> => new Promise((resolve) => {
      const c = spawn("sh", ["-c", script, "sh", String(w)], { env: { ...process.env, MAPE_TEST_LOG: log }, stdio: "ignore" });
      c.on("close", resolve);
    });
    const codes = await Promise.all([1, 2, 3, 4].map(one));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const lines = readFileSync(log, "utf8").split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1200);
    const torn = lines.filter((l) => !/^w[1-4] \[a\] \[b c\] \[d\] \[e\] \[f\]$/.test(l));
    assert.deepEqual(torn, []);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});
