// Bundles the TypeScript host (CLI + library) into one ESM file per entry.
// The wasm module stays a separate file (build/mape.wasm) so other runtimes
// can load the very same binary.
import typescript from "@rollup/plugin-typescript";

export default {
  input: { mape: "host/cli.ts", index: "host/index.ts" },
  output: { dir: "build/host", format: "es", entryFileNames: "[name].js", sourcemap: true },
  external: (id) => id.startsWith("node:"),
  plugins: [typescript({ tsconfig: "./tsconfig.host.json" })],
};
