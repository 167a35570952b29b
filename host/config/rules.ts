// Rule files (`--rules <file> [--rules-format hb46pp|v6plus|ocn]`): the
// HB46PP, JPNE v6plus and OCN JSON answers. The module parses them
// (assembly/config/rules.ts, through configFromArgs like every other
// source); this file reads back what the module found (format, ttl, token,
// rule counts, the matched rule) for messages and diagnostics, and lets the
// HB46PP client look at an answer (ttl, token) before it is installed.

import { instantiate } from "../module.js";
import type { Engine } from "../engine.js";
import { ConfigError } from "./errors.js";

export const RULE_FORMATS = ["hb46pp", "v6plus", "ocn"] as const;
export type RuleFormat = (typeof RULE_FORMATS)[number];
const METHOD_NAMES = ["map_e", "map_t", "lw4o6", "dslite", "464xlat", "ipip"] as const;

/** The rule-file exports (docs/abi.md §1b). */
interface RulesExports {
  memory: WebAssembly.Memory;
  rulesText(): number;
  rulesTextSize(): number;
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
  provisionDelay(outcome: number, ttl: number, random: number): number;
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

function methods(mask: number): string[] {
  return METHOD_NAMES.filter((_, i) => mask & (1 << i));
}

/** The file path of a rule index, per format. */
export function ruleName(format: RuleFormat, i: number): string {
  return `${format === "hb46pp" ? "map_e.rules" : format === "v6plus" ? "fmr" : "basicMapRules"}[${i}]`;
}

function infoOf(ex: RulesExports, mem: Uint8Array, textBase: number): RulesInfo {
  const format = RULE_FORMATS[ex.rulesFormat() - 1];
  const tokenLen = ex.rulesTokenLength();
  const tokenAt = textBase + ex.rulesTokenOffset();
  const matched = ex.rulesMatched();
  const order = ex.rulesOrder();
  return {
    format,
    seen: ex.rulesSeen(),
    installed: ex.rulesInstalled(),
    matched,
    matchedName: matched >= 0 ? ruleName(format, matched) : undefined,
    legacyIid: ex.rulesLegacyIid() === 1,
    mesh: ex.rulesMesh() === 1,
    ttl: ex.rulesTtl(),
    token: tokenLen > 0 && tokenAt >= 0 ? Buffer.from(mem.subarray(tokenAt, tokenAt + tokenLen)).toString("ascii") : undefined,
    methods: methods(ex.rulesMethods()),
    order: order < 0 ? undefined : methods(order),
    version: ex.rulesVersion() >= 0 ? ex.rulesVersion() : undefined,
    fixLen: ex.rulesFixLen() >= 0 ? ex.rulesFixLen() : undefined,
  };
}

/**
 * After a configFromArgs with --rules: what the module found. (The token's
 * offset counts from the file's first byte; the file's bytes are not at
 * hand here, so the token is read by inspectRules.)
 */
export function rulesInfoOf(engine: Engine): RulesInfo {
  const ex = engine.exports as unknown as RulesExports;
  const info = infoOf(ex, engine.mem, -1);
  return info;
}

let parser: RulesExports | undefined;

function rulesModule(): RulesExports {
  if (!parser) {
    const ex = instantiate().exports as unknown as Partial<RulesExports>;
    if (typeof ex.rulesToConfig !== "function" || typeof ex.provisionDelay !== "function") throw new Error("the wasm module lacks rulesToConfig/provisionDelay: rebuild it with 'npm run build:wasm'");
    parser = ex as RulesExports;
  }
  return parser;
}

/** The outcomes of an HB46PP attempt, as the module's provisionDelay takes them. */
export const OUTCOME = { ok: 0, absent: 1, dnsFailed: 2, noAnswer: 3, refused: 4 } as const;
export type Outcome = keyof typeof OUTCOME;

/**
 * Seconds to wait before the next HB46PP attempt after `outcome` (the
 * module's timers, assembly/provision/timers.ts: the OpenWrt fetcher asks
 * the same through `mape hb46pp delay`). `random` in [0, 1).
 */
export function provisionDelay(outcome: Outcome, ttl: number, random: number): number {
  const r = Math.min(0xffff, Math.max(0, Math.floor(random * 0x10000)));
  const s = rulesModule().provisionDelay(OUTCOME[outcome], ttl, r);
  if (s < 0) throw new Error(`provisionDelay(${outcome}, ${ttl}, ${r}) refused`);
  return s;
}

/**
 * The ttl (-1 absent), token and the rest of what the module reads in a rule
 * answer, without a delegated prefix (throws ConfigError naming `label`).
 */
export function inspectRules(text: Uint8Array, label = "rules"): { ttl: number; token?: string; info: RulesInfo } {
  const ex = rulesModule();
  const mem = new Uint8Array(ex.memory.buffer);
  if (text.length > ex.rulesTextSize()) throw new ConfigError(label, `${text.length} bytes, more than the ${ex.rulesTextSize()} a rule file may have`);
  mem.set(text, ex.rulesText());
  if (ex.rulesToConfig(text.length, 0, 0, -1) < 0) {
    const at = ex.rulesErrorText();
    throw new ConfigError(label, Buffer.from(mem.subarray(at, at + ex.rulesErrorTextLength())).toString("utf8"));
  }
  const info = infoOf(ex, mem, ex.rulesText());
  return { ttl: info.ttl, token: info.token, info };
}

/** Parses a --rules-format value. */
export function ruleFormat(v: string): RuleFormat {
  if (!(RULE_FORMATS as readonly string[]).includes(v)) throw new ConfigError("--rules-format", `'${v}' is not hb46pp, v6plus or ocn`);
  return v as RuleFormat;
}
