// The 32-bit targets' bounds check lives in wasm_rt_memcpy and checks the
// `addr` of wasm2c's load/store helpers (native/router/wasm-rt-check.h): the
// router build must refuse generated C that copies module memory anywhere
// else (scripts/wasm2c-check.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../e2e/files.js";
import { skipUnlessCI } from "../host/prereq.js";

const root = repoRoot();
const load = async (): Promise<{ checkedAccesses: (c: string) => void }> => import(pathToFileURL(join(root, "scripts", "wasm2c-check.mjs")).href);
const gen = join(root, "build", "router", "gen", "mape.c");

test("the generated C of the module passes the check", { skip: skipUnlessCI(existsSync(gen) ? undefined : `${gen} is not built: run npm run build`) }, async () => {
  const { checkedAccesses } = await load();
  assert.doesNotThrow(() => checkedAccesses(readFileSync(gen, "utf8")));
});

test("a copy of module memory outside the load/store helpers fails the build", async () => {
  const { checkedAccesses } = await load();
  const helpers = "    wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1)); \\\n    wasm_rt_memcpy(&mem->data[addr], &wrapped, sizeof(t1)); \\\n";
  assert.doesNotThrow(() => checkedAccesses(helpers));
  assert.throws(() => checkedAccesses(`${helpers}  wasm_rt_memcpy(&v, &mem->data[offset], 4);\n`), /cannot check it \(wasm_rt_memcpy\(&v, &mem->data\[offset\], 4\);\)/);
  assert.throws(() => checkedAccesses("no helpers at all\n"), /no load\/store helper found/);
});
