// Builds the router program: build/router/<target>/mape for x86_64, mipsel,
// mips (big-endian) and aarch64, static and stripped, from
//   - build/mape.wasm, exactly as built, translated by wasm2c (Debian wabt
//     1.0.32) into build/router/gen/mape.{c,h}: a build output, never edited;
//   - native/router/*.c (the host and its wasm2c runtime) and native/tunio.c
//     (the TUN batch I/O it shares with the N-API addon);
//   - build/router/gen/usage.h: the usage texts of host/commands/*.ts, so
//     both hosts print one manual.
// Bounds checks stay on: every load and store of the module is checked, on
// the 32-bit targets explicitly against the memory's fixed size
// (MAPE_MEMCHECK_FIXED), on the 64-bit ones (guard: true) by guard pages
// around the memory (MAPE_GUARD_PAGES): native/router/wasm-rt-check.h and
// rt.c say how. The module cannot recurse:
// generate() checks that its call graph is acyclic (scripts/callgraph.mjs;
// no indirect calls, no imports), so its deepest chain of calls is known at
// build time and wasm2c's stack-depth counting (a global incremented,
// compared and decremented in every function) is compiled out
// (WASM_RT_USE_STACK_DEPTH_COUNT=0) on every target but x86_64-trap.
// Big-endian (mips): the memory
// keeps wasm's little-endian layout and loads/stores swap bytes
// (native/router/wasm-rt-swap.h says why not wasm2c's WABT_BIG_ENDIAN).
//
//   node scripts/router.mjs [target...]     (default: all four)
// A target whose compiler is missing fails the build (npm run setup
// installs them); MAPE_ROUTER_TARGETS=x86_64 limits the set.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkedAccesses } from "./wasm2c-check.mjs";
import { checkCallGraph } from "./callgraph.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "router");
const gen = join(out, "gen");

// opt: the optimisation of the module's C and the host. Every target takes
// -O2: a router's CPU is the product's limit, and -Os keeps wasm2c's
// bounds-checked load/store helpers out of line — a third less module code
// for mipsel, at 1.6 to 2.5 times the time per packet (x86_64; see
// docs/benchmark.md, "The router program's size", for the per-lever sizes).
// A firmware builder short of flash may pass -Os in MAPE_ROUTER_OPT.
// The MIPS builds are non-PIC (-fno-pie -mno-shared -mplt: MIPS PIC goes
// through the GOT on every call and global access, and Debian's compilers
// default to PIE). The module's data segments come merged by npm run
// build:wasm (scripts/merge-segments.mjs: wasm2c writes a bounds check and
// a memcpy per segment, and gcc -O2 turns constant copies into stores of
// immediates).
// MAPE_ROUTER_MIPS16=1: the module of the MIPS builds in MIPS16e
// (-mips16; the host stays MIPS32, -minterlink-mips16), which the 24Kc/74Kc
// of ath79 and the 1004Kc of MT7621 run: 70 KB less for mipsel at -O2; the
// pcap suite and the differential test pass under qemu-user. Not the
// default: its cost per packet on a router's CPU is not measured here. The
// host is never MIPS16e: then `mape pcap` writes 0 timestamps under
// qemu-user (docs/benchmark.md).
const OPT = process.env.MAPE_ROUTER_OPT ? process.env.MAPE_ROUTER_OPT.split(/\s+/).filter(Boolean) : ["-O2"];
// At -O2 the module's C of the MIPS builds also takes flags that trim gcc's
// own growth without touching the inlining of wasm2c's load/store helpers:
// 4 KB less for mipsel and, in the x86_64 callgrind proxy of the same
// flags, fewer instructions per packet (docs/benchmark.md). mod: flags of
// the module's C only (the host keeps the target's).
const MIPS_TRIM = OPT.includes("-O2")
  ? ["-fno-inline-small-functions", "-fno-partial-inlining", "-falign-functions=1", "-falign-jumps=1", "-falign-loops=1", "-falign-labels=1", "-fno-tree-vectorize"]
  : [];
const MIPS16 = process.env.MAPE_ROUTER_MIPS16 === "1";
const MIPS = [...OPT, "-fno-pie", "-mno-shared", "-mplt", ...(MIPS16 ? ["-minterlink-mips16"] : [])];
const MIPS_MOD = MIPS16 ? ["-mips16"] : MIPS_TRIM;
export const TARGETS = {
  x86_64: { cc: "gcc", opt: OPT, guard: true, defines: [] },
  // For the tests only: wasm2c's depth counting kept, with a call stack of
  // 4 frames, so the module traps (call stack exhausted) inside its own
  // code (the module cannot recurse: a limit below its real depths, which
  // the configuration parsers exceed at once, is the only way to exhaust
  // it), and rt.c's test hook (MAPE_TEST_MEMORY_OPEN) to make its accesses
  // fault on the guard pages: the host's trap exit (one line, status 70)
  // can be seen to work for both. Not installed anywhere.
  "x86_64-trap": { cc: "gcc", opt: ["-O2"], guard: true, defines: ["-DWASM_RT_MAX_CALL_STACK_DEPTH=4", "-DMAPE_RT_TEST_HOOKS"], depthCount: true, noDynamic: true },
  // For the tests only: the 32-bit targets' bounds check (wasm-rt-check.h)
  // built for x86_64, with rt.c's test hook to lower its bound, so its trap
  // can be seen to work where the tests run natively. Not installed anywhere.
  "x86_64-trap32": { cc: "gcc", opt: ["-O2"], defines: ["-DMAPE_RT_TEST_HOOKS"], noDynamic: true },
  mipsel: { cc: "mipsel-linux-gnu-gcc", opt: MIPS, mod: MIPS_MOD, link: ["-no-pie"], defines: [] },
  mips: { cc: "mips-linux-gnu-gcc", opt: MIPS, mod: MIPS_MOD, link: ["-no-pie"], defines: [] },
  aarch64: { cc: "aarch64-linux-gnu-gcc", opt: OPT, guard: true, defines: [] },
};

const HOST_SOURCES = ["native/router/main.c", "native/router/mod.c", "native/router/rt.c", "native/router/pcap.c", "native/router/serve.c", "native/router/pcp.c", "native/router/bench.c", "native/tunio.c", "native/router/image.c", "native/router/dns.c", "native/router/hb46pp.c", "native/router/rules_diag.c"];
const HEADERS = ["native/router/mod.h", "native/router/host.h", "native/router/wasm-rt-swap.h", "native/router/wasm-rt-check.h", "native/tunio.h", "native/router/image.h", "native/router/dns.h", "native/router/rules_diag.h", "native/router/pcp.h"];
const COMMANDS = ["calc", "pcap", "ce", "br", "stats"];

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
  } catch (e) {
    const why = e.code === "ENOENT" ? `${cmd} is not installed (npm run setup installs it)` : `${cmd} failed`;
    throw new Error(`router build: ${why}`);
  }
}

/** A C string literal for text. */
function cString(s) {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, '\\n" \\\n  "')}"`;
}

/** summary and usage of host/commands/<name>.ts, as the Node CLI prints them. */
function usageOf(name) {
  const src = readFileSync(join(root, "host", "commands", `${name}.ts`), "utf8");
  const summary = /export const summary = "((?:[^"\\]|\\.)*)";/.exec(src);
  const usage = /export const usage = `([^`]*)`;/.exec(src);
  if (!summary || !usage || usage[1].includes("${")) throw new Error(`router build: cannot read the usage text of host/commands/${name}.ts`);
  return { summary: JSON.parse(`"${summary[1]}"`), usage: usage[1] };
}

function generate() {
  mkdirSync(gen, { recursive: true });
  const wasm = join(root, "build", "mape.wasm");
  if (!existsSync(wasm)) throw new Error("router build: build/mape.wasm is missing (npm run build:wasm)");
  // No recursion, or no build: the targets compile without depth counting.
  let graph;
  try {
    graph = checkCallGraph(wasm);
  } catch (e) {
    throw new Error(`router build: ${e.message}`);
  }
  console.log(`router: build/mape.wasm: ${graph.functions} functions, no recursion, at most ${graph.maxDepth} calls deep`);
  if (mtime(join(gen, "mape.c")) < mtime(wasm)) run("wasm2c", [wasm, "-o", join(gen, "mape.c")]);
  // wasm-rt.h: Debian's, then native/router/wasm-rt-swap.h (byte-swapping
  // loads and stores on big-endian targets; nothing on little-endian ones),
  // then native/router/wasm-rt-check.h (the 32-bit targets' bounds check).
  copyFileSync("/usr/include/wasm-rt.h", join(gen, "wasm-rt.orig.h"));
  const rt = '// Generated by scripts/router.mjs: do not edit.\n#include "wasm-rt.orig.h"\n#include "wasm-rt-swap.h"\n#include "wasm-rt-check.h"\n';
  if (!existsSync(join(gen, "wasm-rt.h")) || readFileSync(join(gen, "wasm-rt.h"), "utf8") !== rt) writeFileSync(join(gen, "wasm-rt.h"), rt);
  const lines = ["// Generated by scripts/router.mjs from host/commands/*.ts: do not edit."];
  for (const name of COMMANDS) {
    const u = usageOf(name);
    lines.push(`#define SUMMARY_${name} ${cString(u.summary)}`, `#define USAGE_${name} ${cString(u.usage)}`);
  }
  const text = `${lines.join("\n")}\n`;
  const usagePath = join(gen, "usage.h");
  if (!existsSync(usagePath) || readFileSync(usagePath, "utf8") !== text) writeFileSync(usagePath, text);
  // The host takes every configuration source through the module's
  // configuration exports (configFromArgs & co.): the module must have them.
  const header = readFileSync(join(gen, "mape.h"), "utf8");
  if (!header.includes("Z_mapeZ_configFromArgs(")) throw new Error("router build: build/mape.wasm lacks configFromArgs (rebuild it: npm run build:wasm)");
  checkedAccesses(readFileSync(join(gen, "mape.c"), "utf8"));
}

/** The size tool of a target's compiler (gcc -> size, mipsel-linux-gnu-gcc -> mipsel-linux-gnu-size). */
function tool(cc, name) {
  return cc === "gcc" ? name : cc.replace(/gcc$/, name);
}

/**
 * Builds build/router/<target>/mape (static, stripped: what the tests run,
 * under qemu-user for the cross targets) and mape-dynamic (stripped, linked
 * against the system C library, as an OpenWrt package ships it against musl;
 * built for its size only). mape.o is the translated module.
 */
function build(target) {
  const t = TARGETS[target];
  const dir = join(out, target);
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, "mape");
  const dyn = join(dir, "mape-dynamic");
  const inputs = [join(gen, "mape.c"), join(gen, "usage.h"), ...HOST_SOURCES.map((s) => join(root, s)), ...HEADERS.map((s) => join(root, s)), fileURLToPath(import.meta.url)];
  const newest = Math.max(...inputs.map(mtime));
  // The flags are an input too (MAPE_ROUTER_OPT): a build with others is stale.
  const flagsFile = join(dir, "flags");
  const flags = [...t.opt, ...(t.mod ?? [])].join(" ");
  const sameFlags = existsSync(flagsFile) && readFileSync(flagsFile, "utf8") === flags;
  if (sameFlags && mtime(exe) > newest && (t.noDynamic || mtime(dyn) > newest)) return { exe, dyn: t.noDynamic ? undefined : dyn };
  const common = [
    "-std=gnu11", ...t.opt, "-DNDEBUG", ...(t.guard ? ["-DMAPE_GUARD_PAGES=1"] : ["-DMAPE_MEMCHECK_FIXED=1", "-DWASM_RT_SKIP_SIGNAL_RECOVERY=1"]),
    "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1", `-DWASM_RT_USE_STACK_DEPTH_COUNT=${t.depthCount ? 1 : 0}`, "-D_FILE_OFFSET_BITS=64",
    ...t.defines,
    "-I", gen, "-I", join(root, "native", "router"), "-I", join(root, "native"),
    "-ffunction-sections", "-fdata-sections",
  ];
  const obj = join(dir, "mape.o");
  // The generated code: its warnings are wasm2c's, not ours.
  run(t.cc, [...common, ...(t.mod ?? []), "-w", "-c", join(gen, "mape.c"), "-o", obj]);
  const host = [...common, "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-format-truncation", ...HOST_SOURCES.map((s) => join(root, s)), obj, ...(t.link ?? []), "-Wl,--gc-sections"];
  run(t.cc, [...host, "-static", "-s", "-o", exe, "-lm"]);
  if (!t.noDynamic) run(t.cc, [...host, "-s", "-o", dyn, "-lm"]);
  writeFileSync(flagsFile, flags);
  return { exe, dyn: t.noDynamic ? undefined : dyn };
}

/** text and rodata of the translated module (mape.o), in bytes. */
function moduleSize(target) {
  try {
    const lines = execFileSync(tool(TARGETS[target].cc, "size"), ["-A", join(out, target, "mape.o")], { encoding: "utf8" }).split("\n");
    let code = 0;
    let ro = 0;
    for (const l of lines) {
      const m = /^(\.\S+)\s+(\d+)/.exec(l);
      if (!m) continue;
      if (m[1].startsWith(".text")) code += Number(m[2]);
      else if (m[1].startsWith(".rodata")) ro += Number(m[2]);
    }
    return `module code ${code}, read-only data ${ro}`;
  } catch {
    return "module size unknown";
  }
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : (process.env.MAPE_ROUTER_TARGETS ?? Object.keys(TARGETS).join(",")).split(",");
for (const t of wanted) if (!TARGETS[t]) throw new Error(`router build: unknown target ${t} (targets: ${Object.keys(TARGETS).join(", ")})`);
generate();
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
for (const t of wanted) {
  const { exe, dyn } = build(t);
  const st = statSync(exe).size;
  const dy = dyn ? statSync(dyn).size : undefined;
  console.log(`router: ${exe.slice(root.length + 1)} ${st} bytes (${kib(st)}) stripped static${dy !== undefined ? `; ${dyn.slice(root.length + 1)} ${dy} bytes (${kib(dy)}) stripped dynamic` : ""}; ${moduleSize(t)} (${[...TARGETS[t].opt, ...(TARGETS[t].mod ?? [])].join(" ")})`);
}
