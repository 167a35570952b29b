// Library entry of the host.
export { instantiate, wasmPath } from "./module.js";
export { Engine, type CalcResult, type RuleInfo, type MapExports } from "./engine.js";
export * from "./ip.js";
export { ConfigError } from "./config/errors.js";
export { readConfigSource, configureFromArgs, configFromJson, type ConfigSource, type EncodedConfig, type Mode } from "./config/source.js";
export { DataPath, type DataPathExports, type DataPathOptions, type CounterValue } from "./datapath.js";
