// Where a command's MAP configuration comes from. Every configuration format
// (--config JSON, --rule/--br/--prefix/--legacy-iid, --dhcpv6 hex or OpenWrt
// rule string, --uci/--interface, the local-settings flags) is parsed by the
// wasm module (assembly/config/, docs/config.md), the same parser the native
// router program calls. The host only writes the arguments as records into
// the module's text buffer, reads the files the module names
// (configFileFlags), and prints the module's error line.

import { readFileSync } from "node:fs";
import { Engine } from "../engine.js";
import { ConfigError } from "./errors.js";
import { rulesInfoOf, type RuleFormat, type RulesInfo } from "./rules.js";

export type Mode = "calc" | "ce" | "br";
export const MODE_VALUE: Readonly<Record<Mode, number>> = { calc: 0, ce: 1, br: 2 };

/** Option bytes ready for configure() (docs/abi.md §1). */
export interface EncodedConfig {
  bytes: Uint8Array;
  /**
   * When configure() refuses the bytes in another module instance: the error
   * naming the user's field (the module that encoded them names it).
   */
  explain?: () => ConfigError | undefined;
}

export interface ConfigSource {
  encoded: EncodedConfig;
  /** Where it came from, for messages: "--config x.json", "built-in default", … */
  label: string;
  /** Arguments the module did not consume, in order, for the command to parse. */
  rest: string[];
  /** For a rule file (--rules, or rules fetched by --auto): what the module found in it. */
  rules?: RulesInfo;
}

/** Rule text fetched elsewhere (mape ce --auto) standing in for --rules <file>. */
export interface SuppliedRules {
  text: Uint8Array;
  label: string;
  format?: RuleFormat;
}

const RECORD_ARG = 1;
const RECORD_FILE = 2;
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The flags whose value names a file the host reads (the module's list). */
function fileFlags(engine: Engine): string[] {
  const ex = engine.exports;
  const out: string[] = [];
  let p = ex.configFileFlags();
  while (engine.mem[p] !== 0) {
    let e = p;
    while (engine.mem[e] !== 0) e++;
    out.push(text.decode(engine.mem.subarray(p, e)));
    p = e + 1;
  }
  return out;
}

/** The module's last error line as a ConfigError. */
export function moduleConfigError(engine: Engine): ConfigError {
  const ex = engine.exports;
  const line = text.decode(engine.mem.subarray(ex.configErrorText(), ex.configErrorText() + ex.configErrorTextLength()));
  const n = ex.configErrorFieldLength();
  const field = text.decode(engine.mem.subarray(ex.configErrorText(), ex.configErrorText() + n));
  const err = new ConfigError(field, line.slice(field.length + 2));
  return err;
}

/**
 * Parses the configuration flags of `argv` in `engine`'s module and installs
 * the result there (configure). Throws ConfigError naming the flag or field.
 */
export function configureFromArgs(engine: Engine, argv: string[], mode: Mode, supplied?: SuppliedRules): ConfigSource {
  const source = encodeArgs(engine, argv, mode, supplied);
  if (engine.exports.configure(source.encoded.bytes.length) !== 0) throw moduleConfigError(engine);
  return source;
}

/** configFromArgs only: the option bytes in `engine`'s configuration buffer (not installed). */
function encodeArgs(engine: Engine, argv: string[], mode: Mode, supplied?: SuppliedRules): ConfigSource {
  const ex = engine.exports;
  const files = fileFlags(engine);
  const base = ex.textBuffer();
  const size = ex.textBufferSize();
  let at = 0;
  let readError: ConfigError | undefined;
  const put = (kind: number, bytes: Uint8Array<ArrayBufferLike>): void => {
    if (at + 5 + bytes.length > size) throw new ConfigError("arguments", `do not fit the module's ${size}-byte text buffer`);
    engine.mem[base + at] = kind;
    new DataView(engine.mem.buffer).setUint32(base + at + 1, bytes.length, true);
    engine.mem.set(bytes, base + at + 5);
    at += 5 + bytes.length;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    put(RECORD_ARG, utf8.encode(a));
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (!files.includes(flag)) continue;
    let path: string;
    if (eq > 0 && flag !== a) path = a.slice(eq + 1);
    else if (i + 1 < argv.length) put(RECORD_ARG, utf8.encode((path = argv[++i])));
    else continue; // the module says "needs a value"
    try {
      put(RECORD_FILE, new Uint8Array(readFileSync(path)));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      // Reported only when the module needs the contents (another error may come first).
      readError ??= new ConfigError(flag, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (supplied) {
    // --auto: the fetched answer goes in as `--rules <url>` with its contents.
    for (const f of ["--rules", "--rules-format", "--config", "--dhcpv6", "--uci", "--rule"]) {
      if (argv.some((a) => a === f || a.startsWith(`${f}=`))) throw new ConfigError(f, "cannot be combined with --auto (the rules come from the provisioning server)");
    }
    put(RECORD_ARG, utf8.encode("--rules"));
    put(RECORD_ARG, utf8.encode(supplied.label));
    put(RECORD_FILE, supplied.text);
    if (supplied.format) {
      put(RECORD_ARG, utf8.encode("--rules-format"));
      put(RECORD_ARG, utf8.encode(supplied.format));
    }
  }
  const len = ex.configFromArgs(at, MODE_VALUE[mode]);
  if (len < 0) {
    const err = moduleConfigError(engine);
    throw readError && err.message.includes("were not given (the host reads the file)") ? readError : err;
  }
  const bytes = engine.mem.slice(ex.configBuffer(), ex.configBuffer() + len);
  const rest = argv.filter((_, i) => ex.configArgUsed(i) === 0);
  const label = supplied ? supplied.label : text.decode(engine.mem.subarray(ex.configLabel(), ex.configLabel() + ex.configLabelLength()));
  const rules = supplied || label.startsWith("--rules ") ? rulesInfoOf(engine) : undefined;
  return { encoded: { bytes }, label, rest, rules };
}

let parser: Engine | undefined;

/**
 * Reads the configuration flags out of `argv` and encodes the configuration
 * for `mode` in a module instance of its own (not installed anywhere: the
 * caller configures its engine, whose errors then name the user's field
 * through `encoded.explain`). Throws ConfigError for what the text says.
 */
export function readConfigSource(argv: string[], mode: Mode, supplied?: SuppliedRules): ConfigSource {
  parser ??= loadEngine();
  const source = encodeArgs(parser, argv, mode, supplied);
  source.encoded.explain = () => {
    try {
      configureFromArgs(parser!, argv, mode, supplied);
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    return undefined;
  };
  return source;
}

/** A JSON configuration given as an object (tests, library users): `--config` without a file. */
export function configFromJson(doc: unknown, mode?: Mode): ConfigSource {
  const source = encodeJson(doc, mode);
  source.encoded.explain = () => {
    encodeJson(doc, mode);
    return parser!.exports.configure(source.encoded.bytes.length) !== 0 ? moduleConfigError(parser!) : undefined;
  };
  return source;
}

function encodeJson(doc: unknown, mode?: Mode): ConfigSource {
  const m: Mode = mode ?? ((doc as { mode?: Mode } | null)?.mode === "ce" || (doc as { mode?: Mode } | null)?.mode === "br" ? (doc as { mode: Mode }).mode : "calc");
  parser ??= loadEngine();
  const ex = parser.exports;
  const base = ex.textBuffer();
  const json = utf8.encode(JSON.stringify(doc));
  const recs: [number, Uint8Array][] = [[RECORD_ARG, utf8.encode("--config")], [RECORD_ARG, utf8.encode("(object)")], [RECORD_FILE, json]];
  let at = 0;
  for (const [kind, b] of recs) {
    if (at + 5 + b.length > ex.textBufferSize()) throw new ConfigError("configuration", "too large for the module's text buffer");
    parser.mem[base + at] = kind;
    new DataView(parser.mem.buffer).setUint32(base + at + 1, b.length, true);
    parser.mem.set(b, base + at + 5);
    at += 5 + b.length;
  }
  const len = ex.configFromArgs(at, MODE_VALUE[m]);
  if (len < 0) throw moduleConfigError(parser);
  const bytes = parser.mem.slice(ex.configBuffer(), ex.configBuffer() + len);
  return { encoded: { bytes }, label: "--config (object)", rest: [] };
}

function loadEngine(): Engine {
  return Engine.load();
}
