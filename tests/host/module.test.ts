import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { instantiate, wasmPath } from "../../host/module.js";

test("release module has no imports and fixed memory", () => {
  const mod = new WebAssembly.Module(new Uint8Array(readFileSync(wasmPath("release"))));
  assert.deepEqual(WebAssembly.Module.imports(mod), []);
  const inst = instantiate("release");
  const mem = inst.exports.memory as WebAssembly.Memory;
  assert.equal(mem.buffer.byteLength, 128 * 65536);
  assert.throws(() => mem.grow(1));
});
