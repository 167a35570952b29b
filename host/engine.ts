// A typed wrapper over the module's configuration and MAP exports
// (docs/abi.md §1). One Uint8Array view over the module's fixed memory
// serves every call: configure() writes the option bytes straight into the
// module's config buffer, results are read in place (memory never grows, so
// the view never detaches).

import { formatIPv4, formatIPv6 } from "./ip.js";
import { instantiate, type Variant } from "./module.js";
import { ConfigError } from "./config/errors.js";
import { moduleConfigError, type EncodedConfig } from "./config/source.js";

/** The exports of docs/abi.md §1 (pointers are byte offsets into `memory`). */
export interface MapExports {
  memory: WebAssembly.Memory;
  configBuffer(): number;
  configBufferSize(): number;
  configure(len: number): number;
  configErrorOffset(): number;
  configErrorOption(): number;
  ceIPv4(): number;
  ceIPv4PrefixLength(): number;
  cePsid(): number;
  cePsidLength(): number;
  cePsidOffset(): number;
  cePortCount(): number;
  cePortRangeCount(): number;
  cePortRangeFirst(i: number): number;
  cePortRangeLast(i: number): number;
  ceIPv6Address(): number;
  bmrIndex(): number;
  ruleCount(): number;
  ruleIPv6Prefix(i: number): number;
  ruleIPv6PrefixLength(i: number): number;
  ruleIPv4Prefix(i: number): number;
  ruleIPv4PrefixLength(i: number): number;
  ruleEaLength(i: number): number;
  rulePsidOffset(i: number): number;
  rulePsidLength(i: number): number;
  ruleIsForwarding(i: number): number;
  brCount(): number;
  brAddress(i: number): number;
  // The configuration text parsers (docs/abi.md §1a).
  textBuffer(): number;
  textBufferSize(): number;
  configFileFlags(): number;
  configFromArgs(len: number, mode: number): number;
  configArgUsed(i: number): number;
  configErrorText(): number;
  configErrorTextLength(): number;
  configErrorFieldLength(): number;
  configLabel(): number;
  configLabelLength(): number;
  calcText(format: number): number;
}

const REQUIRED: readonly (keyof MapExports)[] = [
  "memory", "configBuffer", "configBufferSize", "configure", "configErrorOffset", "configErrorOption",
  "ceIPv4", "ceIPv4PrefixLength", "cePsid", "cePsidLength", "cePsidOffset", "cePortCount",
  "cePortRangeCount", "cePortRangeFirst", "cePortRangeLast", "ceIPv6Address", "bmrIndex",
  "ruleCount", "ruleIPv6Prefix", "ruleIPv6PrefixLength", "ruleIPv4Prefix", "ruleIPv4PrefixLength",
  "ruleEaLength", "rulePsidOffset", "rulePsidLength", "ruleIsForwarding", "brCount", "brAddress",
  "textBuffer", "textBufferSize", "configFileFlags", "configFromArgs", "configArgUsed", "configErrorText",
  "configErrorTextLength", "configErrorFieldLength", "configLabel", "configLabelLength", "calcText",
];

/** The CE's side of the Basic Mapping Rule, as `mape calc --json` prints it. */
export interface CalcResult {
  ipv4Address: string;
  ipv4PrefixLength: number;
  psid: number;
  psidLength: number;
  psidOffset: number;
  /** [first, last] port ranges, ascending. */
  portRanges: [number, number][];
  portCount: number;
  /** RFC 5952 text; the layout (RFC 7597 §6 or legacy) follows the LEGACY_IID setting. */
  ceIPv6Address: string;
}

/** One installed rule (BMR or FMR). */
export interface RuleInfo {
  ipv6Prefix: string;
  ipv6PrefixLength: number;
  ipv4Prefix: string;
  ipv4PrefixLength: number;
  eaLength: number;
  psidOffset: number;
  psidLength: number;
  forwarding: boolean;
}

export class Engine {
  readonly exports: MapExports;
  /** The one view over the module's memory. */
  readonly mem: Uint8Array;

  constructor(instance: WebAssembly.Instance = instantiate()) {
    const ex = instance.exports as Partial<MapExports>;
    const lacking = REQUIRED.filter((k) => ex[k] === undefined);
    if (lacking.length) {
      throw new Error(`the wasm module lacks ${lacking.slice(0, 3).join(", ")}${lacking.length > 3 ? ", …" : ""}: rebuild it with 'npm run build:wasm'`);
    }
    this.exports = ex as MapExports;
    this.mem = new Uint8Array(this.exports.memory.buffer);
  }

  static load(variant: Variant = "release"): Engine {
    return new Engine(instantiate(variant));
  }

  /**
   * Installs a configuration (all or nothing): an EncodedConfig from
   * host/config/source.ts or raw option bytes. Errors are the module's line
   * (configErrorText): the user's field when the bytes are the module's last
   * encoding, else "options" with the byte offset. Throws ConfigError.
   */
  configure(config: EncodedConfig | Uint8Array): void {
    const bytes = config instanceof Uint8Array ? config : config.bytes;
    const ex = this.exports;
    const size = ex.configBufferSize();
    if (bytes.length > size) {
      throw new ConfigError("configuration", `${bytes.length} bytes of options do not fit the module's ${size}-byte buffer`);
    }
    this.mem.set(bytes, ex.configBuffer());
    if (ex.configure(bytes.length) !== 0) throw moduleConfigError(this);
  }

  /** `mape calc` output of the installed configuration (0 human, 1 json, 2 mapcalc), as the module renders it. */
  calcText(format: number): string {
    const ex = this.exports;
    const n = ex.calcText(format);
    if (n < 0) throw moduleConfigError(this);
    return new TextDecoder().decode(this.mem.subarray(ex.textBuffer(), ex.textBuffer() + n));
  }

  /** The CE's BMR results of the installed configuration. */
  calc(): CalcResult {
    const ex = this.exports;
    const portRanges: [number, number][] = [];
    const n = ex.cePortRangeCount();
    for (let i = 0; i < n; i++) portRanges.push([ex.cePortRangeFirst(i), ex.cePortRangeLast(i)]);
    return {
      ipv4Address: formatIPv4(ex.ceIPv4() >>> 0),
      ipv4PrefixLength: ex.ceIPv4PrefixLength(),
      psid: ex.cePsid(),
      psidLength: ex.cePsidLength(),
      psidOffset: ex.cePsidOffset(),
      portRanges,
      portCount: ex.cePortCount(),
      ceIPv6Address: formatIPv6(this.mem, ex.ceIPv6Address()),
    };
  }

  /** Index of the BMR in rules(), -1 if none. */
  bmrIndex(): number {
    return this.exports.bmrIndex();
  }

  /** The installed rule table. */
  rules(): RuleInfo[] {
    const ex = this.exports;
    const out: RuleInfo[] = [];
    for (let i = 0, n = ex.ruleCount(); i < n; i++) {
      out.push({
        ipv6Prefix: formatIPv6(this.mem, ex.ruleIPv6Prefix(i)),
        ipv6PrefixLength: ex.ruleIPv6PrefixLength(i),
        ipv4Prefix: formatIPv4(ex.ruleIPv4Prefix(i) >>> 0),
        ipv4PrefixLength: ex.ruleIPv4PrefixLength(i),
        eaLength: ex.ruleEaLength(i),
        psidOffset: ex.rulePsidOffset(i),
        psidLength: ex.rulePsidLength(i),
        forwarding: ex.ruleIsForwarding(i) !== 0,
      });
    }
    return out;
  }

  /** The installed BR addresses, RFC 5952 text. */
  brs(): string[] {
    const ex = this.exports;
    const out: string[] = [];
    for (let i = 0, n = ex.brCount(); i < n; i++) out.push(formatIPv6(this.mem, ex.brAddress(i)));
    return out;
  }
}
