// Module entry: every export of the wasm module is re-exported from here.
// Each area keeps its exports in one file; see docs/abi.md.
export function abiVersion(): i32 { return 1; }
export * from "./map/api";
export * from "./config/api";
export * from "./datapath/process";
export * from "./component";
export * from "./config/rules_api";
// Inbound ports: the PCP / NAT-PMP server and the mapping list (docs/abi.md, "Inbound ports").
export { pcpBufferPtr, pcpBufferSize, pcpRequest, inboundJson, inboundText } from "./nat/pcp";
export {
  imageBuffer, imageBufferSize, imageVersion, imageErrorText, imageErrorTextLength, imageExportBegin,
  imageExportChunk, imageImportBegin, imageImportChunk, imageImportEnd,
} from "./nat/image";
export * from "./dns/api";
export * from "./nat/report";
