// Configuration errors: the one error type every config path throws, and the
// host's message for each error code the module's configure() returns.
//
// The code table mirrors assembly/map/errors.ts and docs/abi.md §1 "Error
// codes" (append-only; tests/host/config-errors.test.ts checks all three agree).

/** Names of the RFC 7598 / RFC 8415 / local option codes, for messages. */
export const OPTION_NAMES: Readonly<Record<number, string>> = {
  26: "OPTION_IAPREFIX",
  89: "S46_RULE",
  90: "S46_BR",
  91: "S46_DMR",
  92: "S46_V4V6BIND",
  93: "S46_PORTPARAMS",
  94: "S46_CONT_MAPE",
  95: "S46_CONT_MAPT",
  96: "S46_CONT_LW",
  0xff01: "OPTION_MAPE_LOCAL",
};

/** The module's configure() error codes: [name, message]. Index = code. */
export const MODULE_ERRORS: Readonly<Record<number, readonly [string, string]>> = {
  1: ["TRUNCATED", "an option or field runs past the end of what encloses it"],
  2: ["OPTION_LENGTH", "the option's length does not fit its fixed fields"],
  3: ["UNKNOWN_OPTION", "an option code that is not expected here"],
  4: ["CONTAINER_MISSING", "no S46 container (MAP-E 94, MAP-T 95 or lw4o6 96)"],
  5: ["CONTAINER_DUPLICATE", "more than one S46 container"],
  6: ["RULE_MISSING", "no mapping rule (S46_RULE), or an lw4o6 CE without a binding (S46_V4V6BIND)"],
  7: ["BR_MISSING", "no border relay address (S46_BR)"],
  8: ["DMR_COUNT", "a MAP-T container needs exactly one default mapping rule (S46_DMR)"],
  9: ["BIND_COUNT", "more than one lw4o6 binding (S46_V4V6BIND)"],
  10: ["PREFIX4_LENGTH", "IPv4 prefix length above 32"],
  11: ["PREFIX6_LENGTH", "IPv6 prefix length above 128"],
  12: ["EA_LENGTH", "EA-bits length above 48"],
  13: ["EA_TOO_LONG_FOR_ADDRESS", "EA-bits length minus the IPv4 suffix length (32 - IPv4 prefix length) gives a PSID longer than 16 bits"],
  14: ["PSID_TOO_LONG", "PSID offset + PSID length above 16"],
  15: ["PORTPARAMS_OFFSET", "PSID offset above 15"],
  16: ["PREFIX_MISSING", "a MAP CE needs its end-user IPv6 prefix (the delegated prefix)"],
  17: ["PREFIX_OUTSIDE_RULE", "the end-user IPv6 prefix lies in no rule's IPv6 prefix"],
  18: ["PREFIX_LENGTH", "the end-user IPv6 prefix is shorter than the rule's IPv6 prefix length + EA-bits length"],
  19: ["PREFIX6_PLUS_EA", "the rule's IPv6 prefix length + EA-bits length is above 64 (no room for the interface id)"],
  20: ["TOO_MANY_RULES", "more rules than the rule table holds"],
  21: ["TOO_MANY_BRS", "more border relay addresses than the table holds"],
  22: ["LOCAL_VALUE", "a local setting is out of its range"],
  23: ["MODE_UNSUPPORTED", "MAP-T is supported for calc only"],
  24: ["PSID_MISMATCH", "the PSID length disagrees with the one the rule's EA bits give"],
  25: ["PSID_VALUE", "the PSID has bits set beyond its length"],
  26: ["PREFIX_UNEXPECTED", "a BR has no end-user prefix (give none in BR mode)"],
  27: ["OPTION_DUPLICATE", "an option that may appear once appears again"],
  28: ["CONFIG_LENGTH", "the configuration does not fit the module's buffer"],
};

/** The message for a module error code (a generic one for codes newer than this host). */
export function moduleErrorMessage(code: number): string {
  const e = MODULE_ERRORS[code];
  return e ? `${e[1]} (${e[0]})` : `configuration rejected with error code ${code}`;
}

/** The name of an option code, e.g. "S46_RULE (89)". */
export function optionName(code: number): string {
  const n = OPTION_NAMES[code];
  return n ? `${n} (${code})` : `option ${code}`;
}

export interface ConfigErrorDetail {
  /** The field at fault, in the user's terms: "rules[0].eaLength", "--prefix", "option ealen". */
  field: string;
  /** The module error code, when the module found it. */
  code?: number;
  /** Byte offset in the user's binary input (hex), when the input was binary. */
  offset?: number;
  /** The option code the module was parsing. */
  option?: number;
}

/**
 * A configuration the host or the module refused. `message` is one line:
 * "<field>: <what is wrong>", with the byte offset for binary input.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly field: string;
  readonly code?: number;
  readonly offset?: number;
  readonly option?: number;

  constructor(detail: ConfigErrorDetail, what: string) {
    const where: string[] = [];
    if (detail.offset !== undefined) where.push(`byte ${detail.offset}`);
    if (detail.option) where.push(`in ${optionName(detail.option)}`);
    super(`${detail.field}: ${what}${where.length ? ` [${where.join(", ")}]` : ""}`);
    this.field = detail.field;
    this.code = detail.code;
    this.offset = detail.offset;
    this.option = detail.option;
  }
}

/** Throws a host-side ConfigError (bad text, missing field). */
export function fail(field: string, what: string): never {
  throw new ConfigError({ field }, what);
}

/** Codes whose offset points at the container or the end: the error is about something missing. */
const MISSING_FIELD: Readonly<Record<number, keyof MissingNamesLike>> = {
  6: "rules",
  7: "br",
  8: "dmr",
};
/** PREFIX_MISSING, PREFIX_OUTSIDE_RULE, PREFIX_LENGTH, PREFIX_UNEXPECTED: always about the end-user prefix. */
const PREFIX_CODES: readonly number[] = [16, 17, 18, 26];

interface MissingNamesLike {
  rules: string;
  br: string;
  dmr: string;
  endUserPrefix: string;
}

interface SpanLike {
  start: number;
  end: number;
  name: string;
  userOffset?: number;
}

/** What configure() was given, as far as naming its errors goes (an EncodedConfig). */
export interface ErrorContext {
  spans: readonly SpanLike[];
  missing: MissingNamesLike;
  binary: boolean;
}

/**
 * Turns the module's (code, offset, option) into a ConfigError naming the
 * user's field: the innermost field whose bytes hold the offset, or, for
 * errors about something missing, what is missing. Binary (hex) input also
 * gets the byte offset in the user's hex.
 */
export function moduleError(ctx: ErrorContext, code: number, offset: number, option: number): ConfigError {
  let best: SpanLike | undefined;
  for (const s of ctx.spans) {
    if (offset >= s.start && offset < s.end && (!best || s.end - s.start <= best.end - best.start)) best = s;
  }
  const missing = MISSING_FIELD[code];
  let field: string;
  let userOffset: number | undefined;
  if (PREFIX_CODES.includes(code)) {
    // About the end-user prefix, wherever the module stood when it noticed.
    field = ctx.missing.endUserPrefix;
  } else if (code === 4) {
    // CONTAINER_MISSING comes with offset 0: nothing there to point at.
    field = ctx.missing.rules;
  } else if (best && best.userOffset !== undefined) {
    field = best.name;
    userOffset = offset - best.start + best.userOffset;
  } else if (missing !== undefined) {
    field = ctx.missing[missing];
  } else {
    field = best?.name ?? "configuration";
  }
  return new ConfigError(
    { field, code, offset: userOffset, option: ctx.binary && option ? option : undefined },
    moduleErrorMessage(code),
  );
}
