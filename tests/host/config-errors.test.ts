// Every configure() error code has a message in the module's error line
// (assembly/config/encode.ts moduleMessage), and that table, the module's
// list of codes (assembly/map/errors.ts) and docs/abi.md agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

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

/** The messages of the module's error line: ERR_X → [name, message]. */
function messageTable(): Map<string, [string, string]> {
  const src = readFileSync(new URL("assembly/config/encode.ts", root), "utf8");
  const rows = new Map<string, [string, string]>();
  for (const m of src.matchAll(/case E\.ERR_([A-Z0-9_]+): \{ n = "([A-Z0-9_]+)"; m = "([^"]+)";/g)) rows.set(m[1], [m[2], m[3]]);
  return rows;
}

test("every code of the module has a message with the same name", () => {
  const mod = moduleTable();
  const msg = messageTable();
  assert.ok(mod.size >= 25, "assembly/map/errors.ts lists the codes");
  for (const [code, name] of mod) {
    assert.ok(msg.has(name), `code ${code} (${name}) has no message in assembly/config/encode.ts`);
    assert.equal(msg.get(name)![0], name, `code ${code}`);
    assert.ok(msg.get(name)![1].length > 10);
  }
  for (const name of msg.keys()) assert.ok([...mod.values()].includes(name), `message for ${name}, which is not a module code`);
});

test("docs/abi.md lists the same codes", () => {
  const abi = abiTable();
  const mod = moduleTable();
  assert.ok(abi.size >= 25);
  assert.equal(abi.size, mod.size);
  for (const [code, name] of abi) assert.equal(mod.get(code), name, `abi.md code ${code}`);
});
