#!/usr/bin/env node
// Builds the WebAssembly component (docs/component.md):
//
//   core module with the adapter (assembly/component.ts)
//     → keep only memory, cabi_realloc and the adapter's cm_* exports, drop
//       the code nothing reaches any more (binaryen)
//     → rename cm_* to the WIT names `mape:datapath/datapath@0.2.0#<name>`
//       (AssemblyScript cannot spell them)
//     → embed wit/mape.wit (componentEmbed) → componentNew
//     → build/mape.component.wasm
//     → jco transpile → build/component/ (ES module for Node; --no-transpile skips)
//
// The core module is build/mape.wasm when it already carries the adapter
// (assembly/index.ts re-exports ./component); otherwise the release target of
// asconfig.json is compiled in memory with assembly/component.ts as an extra
// entry (nothing under build/ besides the outputs above is touched).
//
// jco's commands that read a .wit file fail under its WASI shim, so this
// uses jco's JS API with the WIT passed as a string.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import binaryen from "binaryen";
import asc from "assemblyscript/asc";
import { componentEmbed, componentNew, transpile } from "@bytecodealliance/jco";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const WIT_PATH = join(ROOT, "wit", "mape.wit");
export const COMPONENT_PATH = join(ROOT, "build", "mape.component.wasm");
export const TRANSPILED_DIR = join(ROOT, "build", "component");
/** The exported interface: core export names are `<INTERFACE>#<function>`. */
export const INTERFACE = "mape:datapath/datapath@0.2.0";
export const WORLD = "mape";

/** Adapter export (assembly/component.ts) → WIT function name. */
export const RENAMES = {
  cm_configure: "configure",
  cm_init: "init",
  cm_start: "start",
  cm_limits: "limits",
  cm_process_batch: "process-batch",
  cm_counters: "counters",
  cm_ce_info: "ce-info",
};
const KEEP = new Set(["memory", "cabi_realloc"]);

function hasAdapter(wasm) {
  const mod = new WebAssembly.Module(wasm);
  return WebAssembly.Module.exports(mod).some((e) => e.name === "cabi_realloc");
}

/** The release core module with the adapter exports. */
export async function coreModule() {
  const release = join(ROOT, "build", "mape.wasm");
  try {
    const wasm = readFileSync(release);
    if (hasAdapter(wasm)) return { wasm: new Uint8Array(wasm), source: "build/mape.wasm" };
  } catch { /* not built yet: compile below */ }
  let wasm = null;
  const stderr = [];
  const { error } = await asc.main(
    ["assembly/component.ts", "--config", "asconfig.json", "--target", "release",
      "--outFile", "mape.component-core.wasm", "--textFile", "mape.component-core.wat"],
    {
      readFile: (name, baseDir) => {
        try { return readFileSync(join(baseDir, name), "utf8"); } catch { return null; }
      },
      writeFile: (name, contents) => { if (name.endsWith(".wasm")) wasm = contents; },
      listFiles: () => [],
      stdout: { write: () => true },
      stderr: { write: (s) => { stderr.push(String(s)); return true; } },
      baseDir: ROOT,
    },
  );
  if (error || !wasm) throw new Error(`asc failed: ${error?.message ?? "no output"}\n${stderr.join("")}`);
  return { wasm, source: "asc assembly/index.ts + assembly/component.ts (release)" };
}

/** Keeps the component's exports under their WIT names and drops dead code. */
export function adaptCore(wasm) {
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SignExt | binaryen.Features.MutableGlobals |
      binaryen.Features.NontrappingFPToInt | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
    const exports = [];
    for (let i = 0; i < mod.getNumExports(); i++) exports.push(binaryen.getExportInfo(mod.getExportByIndex(i)));
    const found = new Set();
    for (const e of exports) {
      if (KEEP.has(e.name)) { found.add(e.name); continue; }
      mod.removeExport(e.name);
      const wit = RENAMES[e.name];
      if (wit !== undefined) {
        if (e.kind !== binaryen.ExternalFunction) throw new Error(`${e.name} is not a function`);
        mod.addFunctionExport(e.value, `${INTERFACE}#${wit}`);
        found.add(e.name);
      }
    }
    const missing = [...KEEP, ...Object.keys(RENAMES)].filter((n) => !found.has(n));
    if (missing.length) throw new Error(`core module lacks ${missing.join(", ")}`);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(1);
    mod.optimize();
    if (!mod.validate()) throw new Error("binaryen: the adapted core module does not validate");
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** Core module → component bytes. */
export async function buildComponent() {
  const { wasm, source } = await coreModule();
  const core = adaptCore(wasm);
  const embedded = await componentEmbed({
    binary: core, witSource: readFileSync(WIT_PATH, "utf8"), world: WORLD, stringEncoding: "utf8",
  });
  const component = await componentNew(embedded, undefined);
  return { component, core, source };
}

/** Transpiles the component to an ES module directory (`<dir>/mape.js`). */
export async function transpileTo(component, dir) {
  const { files } = await transpile(component, { name: "mape", quiet: true, noTypescript: false });
  rmSync(dir, { recursive: true, force: true });
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  return join(dir, "mape.js");
}

async function main(argv) {
  const t0 = performance.now();
  const { component, core, source } = await buildComponent();
  mkdirSync(dirname(COMPONENT_PATH), { recursive: true });
  writeFileSync(COMPONENT_PATH, component);
  let line = `component: build/mape.component.wasm ${component.length} bytes (core ${core.length}, from ${source})`;
  if (!argv.includes("--no-transpile")) {
    await transpileTo(component, TRANSPILED_DIR);
    line += "; transpiled to build/component/";
  }
  console.log(`${line} in ${Math.round(performance.now() - t0)} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`component: ${e?.message ?? e}`);
    process.exit(1);
  });
}
