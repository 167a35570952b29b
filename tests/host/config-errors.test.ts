// Every configure() error code has a host message, and the host's table, the
// module's list (assembly/map/errors.ts) and docs/abi.md agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MODULE_ERRORS, moduleErrorMessage } from "../../host/config/errors.js";

const root = new URL("../../../../", import.meta.url); // build/ts/tests/host → repo root

function abiTable(): Map<number, string> {
  const md = readFileSync(new URL("docs/abi.md", root), "utf8");
  const section = md.slice(md.indexOf("### Error codes"));
  const rows = new Map<number, string>();
  for (const m of section.matchAll(/^\| (\d+) \| ([A-Z0-9_]+) \|/gm)) rows.set(Number(m[1]), m[2]);
  return rows;
}

function moduleTable(): Map<number, string> {
  const src = readFileSync(new URL("assembly/map/errors.ts", root), "utf8");
  const rows = new Map<number, string>();
  for (const m of src.matchAll(/export const ERR_([A-Z0-9_]+): i32 = (\d+);/g)) rows.set(Number(m[2]), m[1]);
  return rows;
}

test("every code of the module has a host message with the same name", () => {
  const mod = moduleTable();
  assert.ok(mod.size >= 25, "assembly/map/errors.ts lists the codes");
  for (const [code, name] of mod) {
    assert.ok(MODULE_ERRORS[code], `code ${code} (${name}) has no message in host/config/errors.ts`);
    assert.equal(MODULE_ERRORS[code][0], name, `code ${code}`);
    assert.ok(MODULE_ERRORS[code][1].length > 10);
  }
  for (const code of Object.keys(MODULE_ERRORS).map(Number)) assert.ok(mod.has(code), `host code ${code} is not in the module`);
});

test("docs/abi.md lists the same codes", () => {
  const abi = abiTable();
  assert.ok(abi.size >= 25);
  for (const [code, name] of abi) assert.equal(MODULE_ERRORS[code]?.[0], name, `abi.md code ${code}`);
});

test("an unknown code still gets a message", () => {
  assert.match(moduleErrorMessage(999), /999/);
  assert.match(moduleErrorMessage(12), /EA_LENGTH/);
});
