// Library entry of the host.
export { instantiate, wasmPath } from "./module.js";
