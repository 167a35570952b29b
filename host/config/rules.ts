// Rule files (`--rules <file> [--rules-format hb46pp|v6plus|ocn]`): the
// HB46PP, JPNE v6plus and OCN JSON answers. The module parses them
// (assembly/config/rules.ts) into an S46_CONT_MAPE; this file only hands
// the bytes over, adds the end-user prefix and local settings, and reads
// back what the module found (format, ttl, rule counts, the matched rule)
// for messages and diagnostics.

import { formatIPv6, type Prefix6 } from "../ip.js";
import { instantiate } from "../module.js";
import { fail } from "./errors.js";
import { OptionWriter, writeIaPrefix, writeLocal, type EncodedConfig, type LocalSettings, type Mode, type Named } from "./options.js";

export const RULE_FORMATS = ["hb46pp", "v6plus", "ocn"] as const;
export type RuleFormat = (typeof RULE_FORMATS)[number];
const FORMAT_CODE: Readonly<Record<RuleFormat, number>> = { hb46pp: 1, v6plus: 2, ocn: 3 };
const MODE_CODE: Readonly<Record<Mode, number>> = { calc: 0, ce: 1, br: 2 };
const METHOD_NAMES = ["map_e", "map_t", "lw4o6", "dslite", "464xlat", "ipip"] as const;

/** HB46PP v1.0 §3.4: ttl must be 604800 s (7 days) or less. */
export const HB46PP_MAX_TTL = 604800;

/** The exports of the rule parser (docs/abi.md). */
interface RulesExports {
  memory: WebAssembly.Memory;
  configBuffer(): number;
  rulesText(): number;
  rulesTextSize(): number;
  rulesPrefix(): number;
  rulesToConfig(len: number, format: number, mode: number, prefixLen: number): number;
  rulesFormat(): number;
  rulesSeen(): number;
  rulesInstalled(): number;
  rulesMatched(): number;
  rulesSourceIndex(i: number): number;
  rulesLegacyIid(): number;
  rulesMesh(): number;
  rulesTtl(): number;
  rulesTokenOffset(): number;
  rulesTokenLength(): number;
  rulesMethods(): number;
  rulesOrder(): number;
  rulesFixLen(): number;
  rulesVersion(): number;
  rulesErrorText(): number;
  rulesErrorTextLength(): number;
}

/** What the module found in a rule file. */
export interface RulesInfo {
  format: RuleFormat;
  /** Rules in the file; rules written (the rule table holds 256). */
  seen: number;
  installed: number;
  /** Index in the file of the rule the delegated prefix matched (the BMR), -1 for none. */
  matched: number;
  /** The path of that rule in the file, e.g. "map_e.rules[12]". */
  matchedName?: string;
  /** For each written rule, its index in the file. */
  sources: number[];
  legacyIid: boolean;
  mesh: boolean;
  /** HB46PP: ttl (s) as given, -1 absent; token; methods carried and the order's. */
  ttl: number;
  token?: string;
  methods: string[];
  order?: string[];
  /** HB46PP map_e.version; v6plus ipv6_fixlen. */
  version?: number;
  fixLen?: number;
}

let parser: RulesExports | undefined;

/** One module instance for parsing rule files (its buffers are its own). */
function rulesExports(): RulesExports {
  if (!parser) {
    const ex = instantiate().exports as unknown as Partial<RulesExports>;
    if (typeof ex.rulesToConfig !== "function") throw new Error("the wasm module lacks rulesToConfig: rebuild it with 'npm run build:wasm'");
    parser = ex as RulesExports;
  }
  return parser;
}

function methods(mask: number): string[] {
  return METHOD_NAMES.filter((_, i) => mask & (1 << i));
}

/** The file path of a rule index, per format. */
export function ruleName(format: RuleFormat, i: number): string {
  return `${format === "hb46pp" ? "map_e.rules" : format === "v6plus" ? "fmr" : "basicMapRules"}[${i}]`;
}

export interface RulesInput {
  /** The file's bytes. */
  text: Uint8Array;
  /** How messages name the file: "--rules rules.json" or a URL. */
  label: string;
  format?: RuleFormat;
  mode: Mode;
  endUserPrefix?: Named<Prefix6>;
  /** --legacy-iid given: it wins over the format's own interface id. */
  legacyIid?: Named<boolean>;
  local?: LocalSettings;
}

/**
 * Parses a rule file in the module and encodes the whole configuration.
 * Throws ConfigError naming the file and the field.
 */
export function encodeRules(input: RulesInput): { encoded: EncodedConfig; info: RulesInfo } {
  const ex = rulesExports();
  const mem = new Uint8Array(ex.memory.buffer);
  const size = ex.rulesTextSize();
  if (input.text.length > size) fail(input.label, `${input.text.length} bytes, more than the ${size} a rule file may have`);
  mem.set(input.text, ex.rulesText());
  const p = input.endUserPrefix?.value;
  if (p) mem.set(p.bytes.subarray(0, 16), ex.rulesPrefix());
  const n = ex.rulesToConfig(input.text.length, input.format ? FORMAT_CODE[input.format] : 0, MODE_CODE[input.mode], p ? p.len : -1);
  if (n < 0) {
    const at = ex.rulesErrorText();
    fail(input.label, Buffer.from(mem.subarray(at, at + ex.rulesErrorTextLength())).toString("utf8"));
  }
  const format = RULE_FORMATS[ex.rulesFormat() - 1];
  const sources: number[] = [];
  for (let i = 0; i < ex.rulesInstalled(); i++) sources.push(ex.rulesSourceIndex(i));
  const tokenLen = ex.rulesTokenLength();
  const tokenAt = ex.rulesText() + ex.rulesTokenOffset();
  const matched = ex.rulesMatched();
  const order = ex.rulesOrder();
  const info: RulesInfo = {
    format,
    seen: ex.rulesSeen(),
    installed: ex.rulesInstalled(),
    matched,
    matchedName: matched >= 0 ? ruleName(format, matched) : undefined,
    sources,
    legacyIid: ex.rulesLegacyIid() === 1,
    mesh: ex.rulesMesh() === 1,
    ttl: ex.rulesTtl(),
    token: tokenLen > 0 ? Buffer.from(mem.subarray(tokenAt, tokenAt + tokenLen)).toString("ascii") : undefined,
    methods: methods(ex.rulesMethods()),
    order: order < 0 ? undefined : methods(order),
    version: ex.rulesVersion() >= 0 ? ex.rulesVersion() : undefined,
    fixLen: ex.rulesFixLen() >= 0 ? ex.rulesFixLen() : undefined,
  };

  if (input.mode !== "br" && p && matched < 0) fail(input.endUserPrefix!.name, `${noMatchText(info, p)}: no rule for this line in ${input.label}`);
  // The container as the module wrote it, each S46_RULE named after its place in the file.
  const base = ex.configBuffer();
  const container = mem.slice(base, base + n);
  const w = new OptionWriter();
  w.bytes(container);
  w.spans.push({ start: 0, end: n, name: input.label });
  for (let at = 4, i = 0; at + 4 <= n; ) {
    const code = (container[at] << 8) | container[at + 1];
    const len = (container[at + 2] << 8) | container[at + 3];
    if (code === 89) {
      w.spans.push({ start: at, end: at + 4 + len, name: `${input.label} ${ruleName(format, sources[i])}` });
      i++;
    } else if (code === 90) {
      w.spans.push({ start: at, end: at + 4 + len, name: `${input.label} ${format === "hb46pp" ? "map_e.br" : format === "v6plus" ? "dmr" : "brIpv6Address"}` });
    }
    at += 4 + len;
  }
  if (input.endUserPrefix) writeIaPrefix(w, input.endUserPrefix);
  writeLocal(w, {
    ...input.local,
    mode: { value: input.mode, name: `mode ${input.mode}` },
    legacyIid: input.legacyIid ?? { value: info.legacyIid, name: `${input.label} (${format}${format === "hb46pp" ? ` map_e.version ${info.version ?? 0}` : ""}: ${info.legacyIid ? "draft-03" : "RFC 7597"} interface id)` },
  });
  const ruleNameMissing = `${input.label} ${format === "hb46pp" ? "map_e.rules" : format === "v6plus" ? "fmr" : "basicMapRules"}`;
  return {
    encoded: {
      bytes: w.result(),
      spans: w.spans,
      binary: false,
      endUserPrefix: input.endUserPrefix?.value,
      missing: { rules: ruleNameMissing, br: `${input.label} BR`, dmr: input.label, endUserPrefix: input.endUserPrefix?.name ?? "--prefix", binding: input.label },
    },
    info,
  };
}

/** "why none matched" for a delegated prefix outside every rule. */
export function noMatchText(info: RulesInfo, prefix: Prefix6): string {
  return `${formatIPv6(prefix.bytes)}/${prefix.len} lies in none of the ${info.seen} rules' IPv6 prefixes (${info.format})`;
}

/** Parses a --rules-format value. */
export function ruleFormat(v: string, flag = "--rules-format"): RuleFormat {
  if (!(RULE_FORMATS as readonly string[]).includes(v)) fail(flag, `'${v}' is not hb46pp, v6plus or ocn`);
  return v as RuleFormat;
}

/** The ttl (-1 absent) and token of a rule answer, as the module reads them (throws ConfigError). */
export function inspectRules(text: Uint8Array, label = "rules"): { ttl: number; token?: string; info: RulesInfo } {
  const { info } = encodeRules({ text, label, mode: "calc" });
  return { ttl: info.ttl, token: info.token, info };
}
