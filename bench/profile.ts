// Summarises a V8 CPU profile of the benchmark by self time, naming wasm
// functions. The release binary has no name section, so V8 shows
// "wasm-function[i]"; build/mape.wat (written by the same asc run) lists the
// functions in index order (the module has no imports), which gives i → name.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof build/ts/bench/bench.js --only established
//   node build/ts/bench/profile.js /tmp/prof/CPU.*.cpuprofile

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { wasmPath } from "../host/module.js";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node build/ts/bench/profile.js <file.cpuprofile> [top]");
  process.exit(2);
}
const top = Number(process.argv[3] ?? 20);
const wat = readFileSync(join(dirname(wasmPath("release")), "mape.wat"), "utf8");
const names = [...wat.matchAll(/^ \(func \$(\S+)/gm)].map((m) => m[1].replace(/^assembly\//, ""));
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
let wasm = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i])!;
  const dt = prof.timeDeltas[i] ?? 0;
  const m = /^wasm-function\[(\d+)\]/.exec(n.callFrame.functionName);
  const key = m ? `wasm ${names[Number(m[1])] ?? n.callFrame.functionName}` : `js   ${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop() ?? ""}`;
  if (m) wasm += dt;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
}
console.log(`${(total / 1e6).toFixed(2)} s sampled, ${((100 * wasm) / total).toFixed(1)}% in wasm`);
console.log("  self%  wasm%  function");
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const w = k.startsWith("wasm") ? ((100 * t) / wasm).toFixed(1) : "";
  console.log(`${((100 * t) / total).toFixed(1).padStart(7)} ${w.padStart(6)}  ${k}`);
}
