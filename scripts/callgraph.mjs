// The module's call graph, from the wasm binary: it must be acyclic. The
// router program (scripts/router.mjs) compiles the wasm2c translation
// without wasm2c's stack-depth counting (WASM_RT_USE_STACK_DEPTH_COUNT=0:
// no increment, compare and decrement of a global in every function), which
// is sound only if the module cannot recurse. Without recursion, indirect
// calls or imports, the deepest chain of calls is a fixed number of frames,
// known at build time, and the C stack it takes is bounded.
//
// What is read: the import section (an imported function is the host, which
// could call back into the module: refused), the function and code sections
// (every instruction decoded; `call f` (0x10) and `return_call f` (0x12) are
// the edges; `call_indirect`, `return_call_indirect`, `call_ref` and
// `ref.func` are refused, as is any opcode this decoder does not know), and
// the "name" custom section for the names in messages.
//
//   node scripts/callgraph.mjs [file.wasm]   (default: build/mape.wasm)
// prints the function count and the maximum call depth, or one line naming
// the functions of each cycle and exits 1.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte() {
    if (this.pos >= this.end) throw new Error("unexpected end of section");
    return this.b[this.pos++];
  }
  /** An unsigned or signed LEB128 (the value of a signed one is not needed, only its length). */
  leb() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const c = this.byte();
      if (shift < 32) result |= (c & 0x7f) << shift;
      shift += 7;
      if ((c & 0x80) === 0) return result >>> 0;
      if (shift > 70) throw new Error("LEB128 too long");
    }
  }
  skip(n) {
    if (this.pos + n > this.end) throw new Error("unexpected end of section");
    this.pos += n;
  }
  name() {
    const n = this.leb();
    const s = Buffer.from(this.b.subarray(this.pos, this.pos + n)).toString("utf8");
    this.skip(n);
    return s;
  }
}

/** A blocktype of block/loop/if: 0x40, a value type, or a type index (s33). */
function blockType(r) {
  const c = r.b[r.pos];
  if (c === 0x40 || (c >= 0x6f && c <= 0x7f)) r.pos++;
  else r.leb();
}

/**
 * The functions each body calls: callees[i] (indices into the module's
 * function index space) for every defined function i (after the imports).
 */
function decodeBody(r, end, self) {
  const calls = [];
  const refuse = (what) => {
    throw new Error(`${what} in ${self()}`);
  };
  // Locals: vec of (count, valtype).
  for (let n = r.leb(); n > 0; n--) {
    r.leb();
    r.byte();
  }
  while (r.pos < end) {
    const op = r.byte();
    if (op === 0x10 || op === 0x12) calls.push(r.leb());
    else if (op === 0x11 || op === 0x13) refuse("an indirect call (call_indirect)");
    else if (op === 0x14 || op === 0x15) refuse("a call through a reference (call_ref)");
    else if (op === 0xd2) refuse("a function reference (ref.func)");
    else if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1) continue;
    else if (op >= 0x02 && op <= 0x04) blockType(r);
    else if (op === 0x0c || op === 0x0d || (op >= 0x20 && op <= 0x26)) r.leb();
    else if (op === 0x0e) {
      for (let n = r.leb(); n >= 0; n--) r.leb(); // the targets, then the default
    } else if (op === 0x1c) {
      for (let n = r.leb(); n > 0; n--) r.byte();
    } else if (op >= 0x28 && op <= 0x3e) {
      r.leb();
      r.leb();
    } else if (op === 0x3f || op === 0x40) r.leb();
    else if (op === 0x41 || op === 0x42) r.leb();
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op >= 0x45 && op <= 0xc4) continue;
    else if (op === 0xd0) r.byte();
    else if (op === 0xfc) {
      const sub = r.leb();
      if (sub <= 7) continue; // saturating truncations
      else if (sub === 8 || sub === 10 || sub === 12 || sub === 14) { r.leb(); r.leb(); } // memory.init, memory.copy, table.init, table.copy
      else if (sub === 9 || sub === 11 || sub === 13 || (sub >= 15 && sub <= 17)) r.leb(); // data.drop, memory.fill, elem.drop, table.grow/size/fill
      else refuse(`an unknown instruction 0xfc ${sub}`);
    } else refuse(`an unknown instruction 0x${op.toString(16).padStart(2, "0")}`);
  }
  if (r.pos !== end) throw new Error(`a function body overruns its size in ${self()}`);
  return calls;
}

/** Function names from the "name" section (subsection 1), index -> name. */
function names(r, end) {
  const out = new Map();
  if (r.name() !== "name") return out;
  while (r.pos < end) {
    const id = r.byte();
    const size = r.leb();
    const next = r.pos + size;
    if (id === 1) {
      for (let n = r.leb(); n > 0; n--) {
        const i = r.leb();
        out.set(i, r.name());
      }
    }
    r.pos = next;
  }
  return out;
}

/**
 * The call graph of a wasm binary: { names, callees, imported } with
 * callees[i] the sorted distinct callees of function i (the function index
 * space: imported functions first). Throws on what it cannot vouch for
 * (imports of functions, indirect calls, unknown instructions).
 */
export function callGraph(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new Error("not a wasm binary");
  const r = new Reader(b, 8);
  const imported = 0; // imported functions are refused below: the index space is the module's own
  let declared = 0;
  const bodies = [];
  let fnNames = new Map();
  const exported = new Map();
  while (r.pos < b.length) {
    const id = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    if (end > b.length) throw new Error("a section overruns the file");
    const s = new Reader(b, r.pos, end);
    if (id === 0) {
      try {
        fnNames = names(s, end);
      } catch {
        fnNames = new Map(); // a malformed name section only costs the names
      }
    } else if (id === 2) {
      for (let n = s.leb(); n > 0; n--) {
        const what = `${s.name()}.${s.name()}`;
        const kind = s.byte();
        if (kind === 0) throw new Error(`imports a function (${what}): the host could call back into the module`);
        if (kind === 1) { s.byte(); const f = s.byte(); s.leb(); if (f & 1) s.leb(); } // table: reftype, limits
        else if (kind === 2) { const f = s.byte(); s.leb(); if (f & 1) s.leb(); } // memory: limits
        else if (kind === 3) { s.byte(); s.byte(); } // global: valtype, mutability
        else throw new Error(`an import of unknown kind ${kind}`);
      }
    } else if (id === 3) {
      declared = s.leb();
    } else if (id === 7) {
      for (let n = s.leb(); n > 0; n--) {
        const name = s.name();
        const kind = s.byte();
        const i = s.leb();
        if (kind === 0 && !exported.has(i)) exported.set(i, `export ${name}`);
      }
    } else if (id === 10) {
      const n = s.leb();
      if (n !== declared) throw new Error("function and code sections disagree");
      for (let i = 0; i < n; i++) {
        const len = s.leb();
        const bodyEnd = s.pos + len;
        bodies.push({ pos: s.pos, end: bodyEnd });
        s.pos = bodyEnd;
      }
    }
    r.pos = end;
  }
  const nameOf = (i) => fnNames.get(i) ?? (exported.has(i) ? `func[${i}] (${exported.get(i)})` : `func[${i}]`);
  const total = imported + bodies.length;
  const callees = [];
  for (let i = 0; i < bodies.length; i++) {
    const { pos, end } = bodies[i];
    const calls = decodeBody(new Reader(b, pos, end), end, () => nameOf(imported + i));
    for (const c of calls) if (c >= total) throw new Error(`${nameOf(imported + i)} calls function ${c}, which does not exist`);
    callees.push([...new Set(calls)].sort((x, y) => x - y));
  }
  return { names: Array.from({ length: total }, (_, i) => nameOf(i)), callees };
}

/**
 * The cycles (strongly connected components with a cycle: more than one
 * function, or one that calls itself), each a list of names, and when there
 * are none the maximum call depth in frames (a function that calls nothing
 * is 1) with its deepest chain.
 */
export function analyse(bytes) {
  const { names: fn, callees } = callGraph(bytes);
  const n = callees.length;
  // Tarjan's strongly connected components, iterative (no recursion here either).
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = [];
  const cycles = [];
  // Every function in the order Tarjan closes its component: a component is
  // closed after everything it reaches, so callees come first.
  const order = [];
  let next = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    const work = [[root, 0]];
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1];
      const [v, k] = top;
      if (k < callees[v].length) {
        top[1]++;
        const w = callees[v][k];
        if (index[w] < 0) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      work.pop();
      if (work.length) {
        const u = work[work.length - 1][0];
        low[u] = Math.min(low[u], low[v]);
      }
      if (low[v] === index[v]) {
        const scc = [];
        let w;
        do {
          w = stack.pop();
          onStack[w] = 0;
          scc.push(w);
          order.push(w);
        } while (w !== v);
        if (scc.length > 1 || callees[v].includes(v)) cycles.push(scc.reverse().map((i) => fn[i]));
      }
    }
  }
  if (cycles.length) return { functions: n, cycles };
  // Depth: acyclic, so every component is one function and `order` has
  // each one after all of its callees.
  const depth = new Int32Array(n);
  const via = new Int32Array(n).fill(-1);
  for (const v of order) {
    depth[v] = 1;
    for (const w of callees[v]) {
      if (depth[w] + 1 > depth[v]) {
        depth[v] = depth[w] + 1;
        via[v] = w;
      }
    }
  }
  let deepest = 0;
  for (let i = 1; i < n; i++) if (depth[i] > depth[deepest]) deepest = i;
  const chain = [];
  for (let v = n ? deepest : -1; v >= 0; v = via[v]) chain.push(fn[v]);
  return { functions: n, cycles: [], maxDepth: n ? depth[deepest] : 0, chain };
}

/**
 * Checks that the wasm at `file` cannot recurse: returns { functions,
 * maxDepth, chain }, or throws one line naming the functions of every cycle.
 */
export function checkCallGraph(file) {
  let a;
  try {
    a = analyse(readFileSync(file));
  } catch (e) {
    throw new Error(`callgraph: ${file}: ${e.message}`);
  }
  if (a.cycles.length) {
    const list = a.cycles.map((c) => [...c, c[0]].join(" -> ")).join("; ");
    const hint = a.cycles.flat().some((f) => f.startsWith("func[")) ? " (asc --debug keeps the names)" : "";
    throw new Error(`callgraph: ${file}: the module can recurse (${a.cycles.length} cycle${a.cycles.length > 1 ? "s" : ""}): ${list}${hint}`);
  }
  return a;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const file = process.argv[2] ?? join(root, "build", "mape.wasm");
  try {
    const a = checkCallGraph(file);
    console.log(`callgraph: ${a.functions} functions, no recursion; maximum call depth ${a.maxDepth} frames (${a.chain.join(" -> ")})`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
