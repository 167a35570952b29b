// What the router build (scripts/router.mjs) requires of the C that wasm2c
// generated, checked before it is compiled.

/**
 * wasm2c 1.0.32's load/store helpers (DEFINE_LOAD / DEFINE_STORE, both byte
 * orders): the only copies of module memory the 32-bit bounds check may see.
 * `addr` is each helper's u64 wasm address, `mem` its memory.
 */
const HELPER_COPIES = [
  "wasm_rt_memcpy(&result, &mem->data[mem->size - addr - sizeof(t1)], \\",
  "wasm_rt_memcpy(&mem->data[mem->size - addr - sizeof(t1)], &wrapped, \\",
  "wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1)); \\",
  "wasm_rt_memcpy(&mem->data[addr], &wrapped, sizeof(t1)); \\",
];

/**
 * The 32-bit targets' bounds check (native/router/wasm-rt-check.h) sits in
 * wasm_rt_memcpy and checks the wasm address `addr` of wasm2c's load/store
 * helpers: it is sound only while every wasm_rt_memcpy of the generated C
 * is one of those helpers' copies. Anything else fails the build rather
 * than compile into an access checked against the wrong value.
 */
export function checkedAccesses(c) {
  const uses = c.split("\n").filter((l) => l.includes("wasm_rt_memcpy")).map((l) => l.trim().replace(/\s+/g, " "));
  const odd = uses.filter((l) => !HELPER_COPIES.includes(l));
  if (uses.length === 0 || odd.length) {
    throw new Error(`router build: the generated C copies module memory where wasm-rt-check.h cannot check it (${odd.length ? odd[0] : "no load/store helper found"}): this wasm2c is not the one the 32-bit bounds check was written for`);
  }
}
