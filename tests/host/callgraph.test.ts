// scripts/callgraph.mjs, the build's proof that the module cannot recurse
// (the router program is compiled without wasm2c's stack-depth counting):
// hand-assembled modules with and without recursion, an indirect call and
// an import it must refuse, and build/mape.wasm itself.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "./component-driver.js";
import { skipUnlessCI } from "./prereq.js";

interface Analysis { functions: number; cycles: string[][]; maxDepth?: number; chain?: string[] }
interface CallGraph {
  analyse(bytes: Uint8Array): Analysis;
  checkCallGraph(file: string): Analysis;
}
const script = join(root(), "scripts", "callgraph.mjs");
const cg = (await import(pathToFileURL(script).href)) as CallGraph;

/** An unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const str = (s: string): number[] => [...leb(s.length), ...Buffer.from(s)];

/**
 * A module of functions of type () -> () with the given bodies (their
 * instructions, without the final `end`), named in a "name" section, and
 * optionally a table and imports.
 */
function module(bodies: number[][], opts: { names?: string[]; table?: boolean; importFunc?: boolean } = {}): Uint8Array {
  const types = section(1, vec([[0x60, 0, 0]]));
  const imports = opts.importFunc ? section(2, vec([[...str("env"), ...str("host"), 0x00, 0]])) : [];
  const funcs = section(3, vec(bodies.map(() => [0])));
  const table = opts.table ? section(4, vec([[0x70, 0x00, 1]])) : [];
  const mem = section(5, vec([[0x00, 1]]));
  const code = section(10, vec(bodies.map((b) => {
    const body = [0x00, ...b, 0x0b]; // no locals
    return [...leb(body.length), ...body];
  })));
  const names = opts.names
    ? (() => {
        const map = vec(opts.names.map((n, i) => [...leb(i), ...str(n)]));
        const sub = [1, ...leb(map.length), ...map];
        return section(0, [...str("name"), ...sub]);
      })()
    : [];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...funcs, ...table, ...mem, ...code, ...names]);
}
const call = (f: number): number[] => [0x10, ...leb(f)];
// Instructions around the calls, so the decoder has to step over immediates:
// a loop with br_if, a negative i32.const, a load and store, memory.copy, an
// f64 constant, br_table.
const busy = [
  0x02, 0x40, 0x03, 0x40, 0x41, 0x7f, 0x0d, 0x01, 0x0b, 0x0b, // block loop i32.const -1 br_if 1 end end
  0x41, 0x00, 0x41, 0x00, 0x28, 0x02, 0x08, 0x36, 0x02, 0x00, // i32.const 0 (i32.load offset=8) i32.store
  0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0a, 0x00, 0x00, // memory.copy
  0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1a, // f64.const 1 drop
  0x02, 0x40, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x00, 0x0b, // block (br_table 0 0 (i32.const 0)) end
];

test("an acyclic module: no cycles, its deepest chain in frames", () => {
  const a = cg.analyse(module([[...busy, ...call(1), ...call(2)], [...call(2), ...busy], busy, []], { names: ["top", "mid", "leaf", "alone"] }));
  assert.equal(a.functions, 4);
  assert.deepEqual(a.cycles, []);
  assert.equal(a.maxDepth, 3);
  assert.deepEqual(a.chain, ["top", "mid", "leaf"]);
});

test("self-recursion and mutual recursion are cycles, named", () => {
  const a = cg.analyse(module([[...busy, ...call(0)], [...call(2)], [...call(3)], [...call(1)], [...call(1)]], { names: ["self", "a", "b", "c", "entry"] }));
  assert.deepEqual(a.cycles.map((c) => [...c].sort()), [["self"], ["a", "b", "c"]]);
  assert.equal(a.maxDepth, undefined);
});

test("a recursive module fails the check with one line naming the cycle; the CLI exits 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "callgraph-"));
  try {
    const bad = join(dir, "bad.wasm");
    writeFileSync(bad, module([[...call(1)], [...busy, ...call(0)], []], { names: ["ping", "pong", "other"] }));
    assert.throws(() => cg.checkCallGraph(bad), (e: Error) => {
      assert.equal(e.message, `callgraph: ${bad}: the module can recurse (1 cycle): ping -> pong -> ping`);
      return true;
    });
    const good = join(dir, "good.wasm");
    writeFileSync(good, module([[...call(1)], busy], { names: ["ping", "pong"] }));
    assert.equal(cg.checkCallGraph(good).maxDepth, 2);
    // Unnamed: indices, with a hint.
    writeFileSync(bad, module([[...call(0)]]));
    assert.throws(() => cg.checkCallGraph(bad), /func\[0\] -> func\[0\] \(asc --debug keeps the names\)$/);
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, [script, bad], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    assert.equal(status, 1);
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /the module can recurse/);
    assert.match(execFileSync(process.execPath, [script, good], { encoding: "utf8" }), /^callgraph: 2 functions, no recursion; maximum call depth 2 frames \(ping -> pong\)$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("what it cannot vouch for fails loudly: call_indirect, an imported function, an unknown instruction", () => {
  assert.throws(() => cg.analyse(module([[0x41, 0x00, 0x11, 0x00, 0x00]], { table: true, names: ["dispatch"] })), /an indirect call \(call_indirect\) in dispatch/);
  assert.throws(() => cg.analyse(module([[]], { importFunc: true })), /imports a function \(env\.host\)/);
  assert.throws(() => cg.analyse(module([[0xfd, 0x0c]], { names: ["simd"] })), /an unknown instruction 0xfd in simd/);
});

const wasm = join(root(), "build", "mape.wasm");
test("build/mape.wasm cannot recurse", { skip: skipUnlessCI(existsSync(wasm) ? undefined : "build/mape.wasm is missing (npm run build:wasm)") }, () => {
  const a = cg.checkCallGraph(wasm);
  assert.ok(a.functions > 100);
  assert.ok((a.maxDepth ?? 0) > 1);
});
