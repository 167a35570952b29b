// Library entry of the host.
export { instantiate, wasmPath } from "./module.js";
export { Engine, type CalcResult, type RuleInfo, type MapExports } from "./engine.js";
export * from "./ip.js";
export { ConfigError, MODULE_ERRORS, OPTION_NAMES, moduleErrorMessage } from "./config/errors.js";
export { encodeConfig, FILTERING_NAMES, type Filtering, type Timeouts, type LocalSettings, type ConfigModel, type EncodedConfig, type MapType, type Mode } from "./config/options.js";
export { parseJsonConfig, jsonToModel } from "./config/json.js";
export { encodeHex, parseHex } from "./config/dhcpv6.js";
export { parseRuleStrings, openWrtRulesToModel, parseUci, uciToModel } from "./config/openwrt.js";
export { readConfigSource, DEFAULT_CONFIG, type ConfigSource } from "./config/source.js";
export { DataPath, type DataPathExports, type DataPathOptions, type CounterValue } from "./datapath.js";
