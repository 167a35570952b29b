// Loads the wasm module (build/mape.wasm) and returns its exports.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type Variant = "release" | "debug";

/** Finds build/mape.wasm from wherever this file was bundled or compiled to. */
export function wasmPath(variant: Variant = "release"): string {
  const name = variant === "release" ? "mape.wasm" : "mape.debug.wasm";
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, name), join(dir, "build", name)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${name}: run 'npm run build' first`);
}

export function instantiate(variant: Variant = "release"): WebAssembly.Instance {
  const bytes = new Uint8Array(readFileSync(wasmPath(variant)));
  const mod = new WebAssembly.Module(bytes);
  return new WebAssembly.Instance(mod, {
    env: {
      // Only the debug build imports abort (asserts on); release has no imports.
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new Error(`wasm abort at ${line}:${col}`);
      },
    },
  });
}
