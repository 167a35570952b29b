// A test whose prerequisites are missing skips with the reason on a
// developer's machine, but under CI=true it fails: a skip there would hide a
// missing install step in `npm run setup`.

import assert from "node:assert/strict";
import { test } from "node:test";

/**
 * Returns the skip reason for node:test's `skip` option. Under CI=true a
 * reason also registers a failing test that names it, so the run is red.
 */
export function skipUnlessCI(reason: string | undefined): string | undefined {
  if (reason !== undefined && process.env.CI === "true") {
    test(`prerequisites present under CI=true: ${reason}`, () => {
      assert.fail(`missing prerequisite under CI=true (npm run setup must install it): ${reason}`);
    });
  }
  return reason;
}
