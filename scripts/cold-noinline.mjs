// An asc transform of the release build (npm run build:wasm passes it): the module's cold
// code — configuration parsing and rendering, the state image, the reports,
// the host-facing getters — is never inlined, so binaryen's -O3 keeps one
// copy of each cold function instead of a copy in every caller; the data
// path keeps -O3's inlining. Nothing else changes: same passes, same levels.
//
// Why: the router program is the module translated by wasm2c, and every
// wasm load and store there becomes a bounds-checked C access (about eight
// MIPS instructions at -O2). Inlining that only makes configuration parsing
// bigger costs flash on the router and buys nothing per packet
// (docs/benchmark.md, "The router program's size": the per-lever table).
//
// How: binaryen's no-inline pass (its argument a wildcard pattern on
// function names) marks the matching functions as not inlinable, before
// asc's optimizer runs (afterCompile is the last hook before it). The
// patterns name source directories and files (asc names a function
// "<file without .ts>/<name>"): assembly/config/*/* is the configuration
// directory, not assembly/config.ts (its constants, used by the data path).
export const COLD = [
  "assembly/config/*/*",
  "assembly/map/api/*",
  "assembly/nat/image/*",
  "assembly/nat/report/*",
];

/** A field accessor: one load or store, always inlined anyway (and binaryen's duplicate-function-elimination may merge it with a data-path accessor of the same field offset, keeping either name: marking it would stop the data path's inlining). */
const ACCESSOR = /#[gs]et:/;

/** "*" of a pattern: any run of characters. */
const matcher = (pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);

export default class ColdNoInline {
  afterCompile(module) {
    const binaryen = this.binaryen;
    const cold = COLD.map(matcher);
    const names = [];
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      const name = binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name;
      if (cold.some((r) => r.test(name)) && !ACCESSOR.test(name)) names.push(name);
    }
    // One exact name per run of the pass (its argument is one pattern; asc
    // names hold no "*" or "?").
    for (const name of names) {
      binaryen.setPassArgument("no-inline", name);
      module.runPasses(["no-inline"]);
    }
    binaryen.clearPassArguments();
  }
}
