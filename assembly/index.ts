// Module entry: every export of the wasm module is re-exported from here.
export function abiVersion(): i32 { return 1; }
