// `mape calc`: the CE's IPv4 address, PSID, port set and MAP IPv6 address
// under a MAP rule, computed by the wasm engine (the host only formats).

import { Engine, type CalcResult, type RuleInfo } from "../engine.js";
import { formatIPv6 } from "../ip.js";
import { readConfigSource, type ConfigSource } from "../config/source.js";
import { ConfigError } from "../config/errors.js";
import { UsageError } from "./usage.js";

export const summary = "compute a CE's IPv4 address, PSID, ports and MAP IPv6 address from a MAP rule";

export const usage = `usage:
  mape calc [--json | --format human|json|mapcalc]
            [--rule <ipv6-prefix>/<len>,<ipv4-prefix>/<len>,<ea-bits>[,<psid-offset>] [--br <ipv6>]...
             | --config <file.json>
             | --dhcpv6 <hex | OpenWrt rule string> [--dhcpv6-type map-e|map-t|lw4o6]
             | --uci <file> --interface <name>]
             | --rules <file> [--rules-format hb46pp|v6plus|ocn]]
            [--prefix <end-user-ipv6-prefix>/<len>] [--legacy-iid]

--rules reads an HB46PP (v6mig-prov), JPNE v6plus (JSON or JSONP) or OCN
rule answer; the format is detected unless given. The rule whose IPv6
prefix is the longest match of --prefix is the BMR; the output names it.

With no configuration flags: the built-in default, the JANOG interop rule
2403:9200::/32 -> 203.86.225.0/28, 16 EA bits, PSID offset 4,
BR 2403:9200:fff0::2, end-user prefix 2403:9200:1234::/48.
--format mapcalc prints the KEY=value lines of OpenWrt's mapcalc.`;

type Format = "human" | "json" | "mapcalc";

export function run(argv: string[]): number {
  const source = readConfigSource(argv, "calc");
  let format: Format = "human";
  for (let i = 0; i < source.rest.length; i++) {
    const a = source.rest[i];
    if (a === "--json") format = "json";
    else if (a === "--format" || a.startsWith("--format=")) {
      const v = a === "--format" ? source.rest[++i] : a.slice("--format=".length);
      if (v !== "human" && v !== "json" && v !== "mapcalc") throw new UsageError(`--format: '${v ?? ""}' is not human, json or mapcalc`);
      format = v;
    } else if (a === "--help" || a === "-h") {
      console.log(usage);
      return 0;
    } else throw new UsageError(`calc: unknown argument '${a}' (see 'mape calc --help')`);
  }
  const engine = Engine.load();
  engine.configure(source.encoded);
  if (engine.bmrIndex() < 0) {
    // calc mode accepts a configuration without an end-user prefix; a CE's results need one.
    throw new ConfigError({ field: source.encoded.missing.endUserPrefix }, "a CE's address and ports need its end-user prefix (give --prefix <ipv6-prefix>/<len>)");
  }
  const result = engine.calc();
  const out = format === "json" ? formatJson(result) : format === "mapcalc" ? formatMapcalc(engine, source) : formatHuman(engine, result, source);
  process.stdout.write(out);
  return 0;
}

/** One object, keys in the documented order, one key a line (port pairs inline). */
export function formatJson(r: CalcResult): string {
  const lines = Object.entries(r).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

function ranges(r: CalcResult): string[] {
  return r.portRanges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
}

function ruleText(rule: RuleInfo): string {
  return `${rule.ipv6Prefix}/${rule.ipv6PrefixLength} -> ${rule.ipv4Prefix}/${rule.ipv4PrefixLength}, EA bits ${rule.eaLength}`;
}

export function formatHuman(engine: Engine, r: CalcResult, source: ConfigSource): string {
  const rules = engine.rules();
  const bmr = engine.bmrIndex();
  const out: string[] = [];
  const row = (k: string, v: string): void => void out.push(`${k.padEnd(17)}${v}`);
  row("source", source.label);
  const ri = source.rules;
  if (ri) {
    const extra: string[] = [];
    if (ri.format === "hb46pp") extra.push(`map_e.version ${ri.version ?? 0}`, ri.mesh ? "mesh" : "hub-and-spoke");
    if (ri.ttl >= 0) extra.push(`ttl ${ri.ttl} s`);
    if (ri.installed < ri.seen) extra.push(`${ri.installed} installed, the others reached through the BR`);
    row("rule format", `${ri.format}, ${ri.seen} rule${ri.seen === 1 ? "" : "s"}${extra.length ? ` (${extra.join(", ")})` : ""}`);
    const legacy = ri.legacyIid || source.encoded.spans.some((s) => s.name === "--legacy-iid");
    row("interface id", legacy ? "draft-03 layout 0(8) IPv4(32) PSID(16) 0(8)" : "RFC 7597 §6 layout 0(16) IPv4(32) PSID(16)");
  }
  if (bmr >= 0) {
    const where = ri?.matchedName ? ` (${ri.matchedName}, ${ri.matched + 1} of ${ri.seen})` : rules.length > 1 ? ` (rule ${bmr + 1} of ${rules.length})` : "";
    row("rule (BMR)", `${ruleText(rules[bmr])}${where}`);
  }
  if (source.encoded.endUserPrefix) {
    const p = source.encoded.endUserPrefix;
    row("end-user prefix", `${formatIPv6(p.bytes)}/${p.len}`);
  }
  if (r.ipv4PrefixLength < 32) row("IPv4 prefix", `${r.ipv4Address}/${r.ipv4PrefixLength}`);
  else row("IPv4 address", r.ipv4Address);
  if (r.psidLength > 0) {
    row("PSID", `${r.psid} (0x${r.psid.toString(16)}), ${r.psidLength} bits at offset ${r.psidOffset}`);
  } else {
    row("PSID", `none (the whole address${r.ipv4PrefixLength < 32 ? " prefix" : ""} is this CE's)`);
  }
  const rs = ranges(r);
  row("ports", `${r.portCount} in ${rs.length} range${rs.length === 1 ? "" : "s"}`);
  for (let i = 0; i < rs.length; i += 6) row("", rs.slice(i, i + 6).join(" "));
  row("CE IPv6 address", r.ceIPv6Address);
  for (const br of engine.brs()) row("BR", br);
  return `${out.join("\n")}\n`;
}

/**
 * The KEY=value lines OpenWrt's mapcalc prints (package/network/ipv6/map,
 * mapcalc.c), in its order, so map.sh could `eval` ours: per rule FMR,
 * EALEN, PSIDLEN, OFFSET, PREFIX4LEN, PREFIX6LEN, IPV4PREFIX, IPV6PREFIX;
 * for the BMR also IPV6PD, PD6LEN, PD6IFACE (when known), IPV6ADDR,
 * RULE_BMR, IPV4ADDR, ADDR4LEN, PORTSETS (quoted, each range a-b followed by
 * a space, as mapcalc prints it); BR; then RULE_COUNT.
 */
export function formatMapcalc(engine: Engine, source: ConfigSource): string {
  const rules = engine.rules();
  const bmr = engine.bmrIndex();
  const brs = engine.brs();
  const r = engine.calc();
  const out: string[] = [];
  rules.forEach((rule, i) => {
    const n = i + 1;
    const kv = (k: string, v: string | number): void => void out.push(`RULE_${n}_${k}=${v}`);
    kv("FMR", rule.forwarding ? 1 : 0);
    kv("EALEN", rule.eaLength);
    kv("PSIDLEN", rule.psidLength);
    kv("OFFSET", rule.psidOffset);
    kv("PREFIX4LEN", rule.ipv4PrefixLength);
    kv("PREFIX6LEN", rule.ipv6PrefixLength);
    kv("IPV4PREFIX", rule.ipv4Prefix);
    kv("IPV6PREFIX", rule.ipv6Prefix);
    if (i === bmr) {
      const pd = source.encoded.endUserPrefix;
      if (pd) {
        kv("IPV6PD", formatIPv6(pd.bytes));
        kv("PD6LEN", pd.len);
      }
      if (source.tunlink) kv("PD6IFACE", source.tunlink);
      kv("IPV6ADDR", r.ceIPv6Address);
      out.push(`RULE_BMR=${n}`);
      kv("IPV4ADDR", r.ipv4Address);
      kv("ADDR4LEN", r.ipv4PrefixLength);
      if (r.psidLength > 0) kv("PORTSETS", `'${r.portRanges.map(([a, b]) => `${a}-${b} `).join("")}'`);
    }
    if (brs.length > 0) kv("BR", brs[0]);
  });
  out.push(`RULE_COUNT=${rules.length}`);
  return `${out.join("\n")}\n`;
}
