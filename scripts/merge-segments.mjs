// Merges the release module's active data segments that lie at most GAP
// bytes apart into one (the gap zero-filled), in place: build/mape.wasm.
//
// Why: AssemblyScript emits one data segment per static object (1,324 for
// this module, mostly string literals), and wasm2c 1.0.32 translates each
// into its own LOAD_DATA (a bounds check and a memcpy) in init_memories:
// 51 KB of mipsel code at -Os, 108 KB at -O2, for 33 KB of data. Merged,
// it is a handful of copies (docs/benchmark.md has the sizes). The memory
// image at instantiation is the same bytes: the module's memory starts
// zeroed, the gaps are zeros, and no segment is passive (memory.init) or
// overlaps another (both refused here). Every host runs the merged module.
//
//   node scripts/merge-segments.mjs [file.wasm]     (default build/mape.wasm)
import binaryen from "binaryen";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const GAP = 32;
const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "build", "mape.wasm");
const m = binaryen.readBinary(readFileSync(file));
m.setFeatures(binaryen.Features.All);
const mem = m.getMemoryInfo();
const segs = [];
for (let i = 0; i < m.getNumDataSegments(); i++) {
  const info = m.getDataSegmentInfo(m.getDataSegmentByIndex(i));
  if (info.passive) throw new Error(`merge-segments: ${file}: segment ${i} is passive: left as it is would need memory.init indices kept`);
  segs.push({ offset: info.offset, data: new Uint8Array(info.data) });
}
segs.sort((a, b) => a.offset - b.offset);
const runs = [];
for (const s of segs) {
  const last = runs[runs.length - 1];
  if (last && s.offset < last.end) throw new Error(`merge-segments: ${file}: segments overlap at ${s.offset}`);
  if (last && s.offset - last.end <= GAP) {
    last.parts.push(s);
    last.end = s.offset + s.data.length;
  } else runs.push({ offset: s.offset, end: s.offset + s.data.length, parts: [s] });
}
if (runs.length < segs.length) {
  const merged = runs.map((r) => {
    const data = new Uint8Array(r.end - r.offset);
    for (const p of r.parts) data.set(p.data, p.offset - r.offset);
    return { offset: m.i32.const(r.offset), data, passive: false };
  });
  // setMemory replaces the memory: same limits, not shared, its export
  // ("memory") kept as the module's export section has it.
  m.setMemory(mem.initial, mem.max, null, merged, mem.shared, mem.is64, "0");
  if (!m.validate()) throw new Error(`merge-segments: ${file}: the merged module does not validate`);
  writeFileSync(file, m.emitBinary());
}
console.log(`merge-segments: ${file.split("/").slice(-2).join("/")}: ${segs.length} data segments -> ${runs.length}`);
