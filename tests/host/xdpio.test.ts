// bench/xdpio.c and its driver (npm run bench -- --xdp): both receivers
// take packets off the veth in namespaces the test makes, and the report
// is built from what they counted. No figure is asserted (speed lives in
// npm run bench); only that each path delivers and says how it ran.

import assert from "node:assert/strict";
import { test } from "node:test";
import { runXdpBench, formatXdp, xdpMissing } from "../../bench/xdp.js";
import { skipUnlessCI } from "./prereq.js";

const missing = skipUnlessCI(xdpMissing());

test("AF_XDP and TUN receivers both take the sender's frames (bench --xdp)", { skip: missing, timeout: 60_000 }, async () => {
  const r = await runXdpBench({ seconds: 1, rounds: 1 });
  assert.equal(r.unavailable, undefined);
  assert.deepEqual(r.trials.map((t) => t.mode), ["tun", "xdp"]);
  for (const t of r.trials) {
    assert.ok(t.offered > 0, `${t.mode}: the sender sent`);
    assert.ok(t.received > 0, `${t.mode}: the receiver counted packets`);
    assert.ok(t.received <= t.offered * 1.01, `${t.mode}: no more received than sent`);
  }
  assert.match(r.trials[1].xdpMode, /^(driver|generic)$/);
  const text = formatXdp(r).join("\n");
  assert.match(text, /AF_XDP \/ TUN \d+\.\d\d ×/);
});
