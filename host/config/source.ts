// Where a command's MAP configuration comes from: the command-line flags
// every command shares (calc now; ce, br, pcap, lab later), in one place.
//
//   --config <file.json>                    JSON config (docs/config.md)
//   --dhcpv6 <hex | rule string>            RFC 7598 option bytes as hex, or the value
//                                           of OpenWrt's $MAPE / $MAPT / $LW4O6
//   --dhcpv6-type map-e|map-t|lw4o6         container type for payload-only hex
//   --uci <file> --interface <name>         an OpenWrt /etc/config/network `map` interface
//   --rule <v6>/<n>,<v4>/<n>,<ea>[,<offset>]  one MAP rule on the command line
//   --br <ipv6>                             a BR address (with --rule; repeatable)
//   --prefix <ipv6>/<len>                   the end-user (delegated) prefix; overrides the file's
//   --legacy-iid                            pre-RFC interface id (v6plus / OCN CEs)
//   --rules <file> [--rules-format hb46pp|v6plus|ocn]
//                                           an HB46PP, v6plus or OCN rule answer (JSON),
//                                           parsed by the module (config/rules.ts)
//
// With none of --config / --dhcpv6 / --uci / --rule, the built-in default
// (the JANOG interop rule) is used.

import { readFileSync } from "node:fs";
import { parseIPv6, parsePrefix4, parsePrefix6, type Prefix6 } from "../ip.js";
import { encodeHex } from "./dhcpv6.js";
import { fail } from "./errors.js";
import { addr, jsonToModel, parseJsonConfig } from "./json.js";
import { looksLikeRuleString, openWrtRulesToModel, parseRuleStrings, uciToModel } from "./openwrt.js";
import { encodeRules, ruleFormat, type RuleFormat, type RulesInfo } from "./rules.js";
import { encodeConfig, ruleNames, type ConfigModel, type EncodedConfig, type MapType, type Mode, type Named } from "./options.js";

/** The built-in default: the JANOG Softwire WG interop rule, 15 ports a home. */
export const DEFAULT_CONFIG = {
  type: "map-e",
  rules: [{ ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 }],
  br: "2403:9200:fff0::2",
  endUserPrefix: "2403:9200:1234::/48",
} as const;

export interface ConfigSource {
  encoded: EncodedConfig;
  /** Where it came from, for messages: "--config x.json", "built-in default", … */
  label: string;
  /** The UCI interface's tunlink (mapcalc's PD6IFACE), when known. */
  tunlink?: string;
  /** Arguments this function did not consume, in order, for the command to parse. */
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

const VALUE_FLAGS = ["--config", "--dhcpv6", "--dhcpv6-type", "--uci", "--interface", "--rule", "--br", "--prefix", "--rules", "--rules-format"];
const SOURCES = ["--config", "--dhcpv6", "--uci", "--rule", "--rules"];

/** Splits "--flag=value" / "--flag value" for the flags above; returns the values and the rest. */
function collect(argv: string[]): { values: Map<string, string[]>; legacy: boolean; rest: string[] } {
  const values = new Map<string, string[]>();
  const rest: string[] = [];
  let legacy = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (flag === "--legacy-iid") {
      if (eq > 0) fail(flag, "takes no value");
      legacy = true;
    } else if (VALUE_FLAGS.includes(flag)) {
      let v: string;
      if (eq > 0) v = a.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) fail(flag, "needs a value");
        v = argv[++i];
      }
      if (!values.has(flag)) values.set(flag, []);
      values.get(flag)!.push(v);
    } else {
      rest.push(a);
    }
  }
  for (const [f, v] of values) if (f !== "--br" && v.length > 1) fail(f, "given more than once");
  return { values, legacy, rest };
}

/** Parses "--rule <v6>/<n>,<v4>/<n>,<ea>[,<offset>]". */
function ruleFlag(text: string): ConfigModel {
  const parts = text.split(",");
  if (parts.length < 3 || parts.length > 4) {
    fail("--rule", `'${text}' is not <ipv6-prefix>/<len>,<ipv4-prefix>/<len>,<ea-bits>[,<psid-offset>]`);
  }
  const num = (s: string, what: string): number => {
    if (!/^[0-9]+$/.test(s) || Number(s) > 255) fail(`--rule ${what}`, `'${s}' is not an integer from 0 to 255`);
    return Number(s);
  };
  const offset = parts[3] === undefined ? 6 : num(parts[3], "PSID offset");
  return {
    type: "map-e",
    rules: [
      {
        ipv6Prefix: addr("--rule IPv6 prefix", parsePrefix6, parts[0]),
        ipv4Prefix: addr("--rule IPv4 prefix", parsePrefix4, parts[1]),
        eaLength: num(parts[2], "EA bits"),
        forwarding: false,
        portParams: offset === 6 ? undefined : { offset, psidLength: 0, psid: 0 },
        names: ruleNames("--rule", {
          ipv6Prefix: "--rule IPv6 prefix",
          ipv6PrefixLength: "--rule IPv6 prefix",
          ipv4Prefix: "--rule IPv4 prefix",
          ipv4PrefixLength: "--rule IPv4 prefix",
          eaLength: "--rule EA bits",
          psidOffset: "--rule PSID offset",
        }),
      },
    ],
    brs: [],
    missing: { rules: "--rule", br: "--br", dmr: "--rule", endUserPrefix: "--prefix", binding: "--rule" },
  };
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    fail(flag, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Reads the configuration flags out of `argv` and encodes the configuration
 * for `mode`. Throws ConfigError naming the flag or field on bad input.
 */
export function readConfigSource(argv: string[], mode: Mode, supplied?: SuppliedRules): ConfigSource {
  const { values, legacy, rest } = collect(argv);
  const one = (f: string): string | undefined => values.get(f)?.[0];
  const given = SOURCES.filter((s) => values.has(s));
  if (supplied && given.length > 0) fail(given[0], "cannot be combined with --auto (the rules come from the provisioning server)");
  if (values.has("--rules-format") && !values.has("--rules") && !supplied) fail("--rules-format", "goes with --rules");
  if (given.length > 1) fail(given[1], `cannot be combined with ${given[0]} (one configuration source at a time)`);
  if (values.has("--interface") && !values.has("--uci")) fail("--interface", "goes with --uci");
  if (values.has("--uci") && !values.has("--interface")) fail("--uci", "needs --interface <name> (the map interface's section name)");
  if (values.has("--dhcpv6-type") && !values.has("--dhcpv6")) fail("--dhcpv6-type", "goes with --dhcpv6");
  if (values.has("--br") && !values.has("--rule") && given.length > 0) fail("--br", "goes with --rule (the other sources carry their BRs)");

  const prefixText = one("--prefix");
  const prefix: Named<Prefix6> | undefined = prefixText === undefined ? undefined : { value: addr("--prefix", parsePrefix6, prefixText), name: "--prefix" };
  const legacyIid = legacy ? { value: true, name: "--legacy-iid" } : undefined;
  const modeNamed: Named<Mode> = { value: mode, name: `mode ${mode}` };
  let dhcpType: MapType | undefined;
  const t = one("--dhcpv6-type");
  if (t !== undefined) {
    if (t !== "map-e" && t !== "map-t" && t !== "lw4o6") fail("--dhcpv6-type", `'${t}' is not map-e, map-t or lw4o6`);
    dhcpType = t;
  }

  const rulesFormat = one("--rules-format") === undefined ? undefined : ruleFormat(one("--rules-format")!);
  if (supplied || given[0] === "--rules") {
    let text: Uint8Array;
    let label: string;
    if (supplied) {
      text = supplied.text;
      label = supplied.label;
    } else {
      const file = one("--rules")!;
      label = `--rules ${file}`;
      try {
        text = new Uint8Array(readFileSync(file));
      } catch (e) {
        fail("--rules", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const { encoded, info } = encodeRules({ text, label, format: supplied?.format ?? rulesFormat, mode, endUserPrefix: prefix, legacyIid });
    return { encoded, label, rest, rules: info };
  }

  let model: ConfigModel;
  let label: string;
  let tunlink: string | undefined;
  const src = given[0];
  if (src === "--dhcpv6" && !looksLikeRuleString(one("--dhcpv6")!)) {
    const encoded = encodeHex({
      hex: one("--dhcpv6")!,
      field: "--dhcpv6",
      type: dhcpType,
      endUserPrefix: prefix,
      local: { mode: modeNamed, legacyIid },
    });
    return { encoded, label: "--dhcpv6", rest };
  }
  switch (src) {
    case "--config": {
      const file = one("--config")!;
      model = parseJsonConfig(readText(file, "--config"), file);
      label = `--config ${file}`;
      break;
    }
    case "--dhcpv6": {
      const rules = parseRuleStrings(one("--dhcpv6")!, "--dhcpv6");
      if (dhcpType) for (const r of rules) if (!r.values.has("type")) r.values.set("type", { value: dhcpType, name: "--dhcpv6-type" });
      model = openWrtRulesToModel(rules, { legacy, endUserPrefixLength: prefix?.value.len }, "--dhcpv6");
      label = "--dhcpv6";
      break;
    }
    case "--uci": {
      const file = one("--uci")!;
      const u = uciToModel(readText(file, "--uci"), file, one("--interface")!, prefix?.value.len);
      model = u.model;
      tunlink = u.tunlink;
      label = `--uci ${file} --interface ${one("--interface")}`;
      break;
    }
    case "--rule":
      model = ruleFlag(one("--rule")!);
      label = "--rule";
      break;
    default:
      model = jsonToModel(JSON.parse(JSON.stringify(DEFAULT_CONFIG)));
      label = "built-in default";
  }
  for (const [i, b] of (values.get("--br") ?? []).entries()) {
    const name = values.get("--br")!.length > 1 ? `--br #${i + 1}` : "--br";
    model.brs.push({ value: addr(name, parseIPv6, b), name });
  }
  if (prefix) {
    model.endUserPrefix = prefix;
    model.missing.endUserPrefix = "--prefix";
  } else if (model.endUserPrefix) {
    model.missing.endUserPrefix = model.endUserPrefix.name;
  }
  if (legacyIid) model.legacyIid = legacyIid;
  model.mode = modeNamed;
  return { encoded: encodeConfig(model), label, tunlink, rest };
}
