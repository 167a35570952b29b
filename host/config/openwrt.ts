// OpenWrt's two MAP configuration formats → ConfigModel.
//
// 1. Rule strings, as OpenWrt's mapcalc takes them and as odhcp6c exports the
//    RFC 7598 containers to scripts: odhcp6c (src/script.c, s46_to_env) does
//    NOT put hex in MAPE / MAPT / LW4O6; it writes one rule per S46_RULE (or
//    S46_V4V6BIND), space separated, each a comma list such as
//      fmr,type=map-e,ealen=16,prefix4len=28,prefix6len=32,ipv4prefix=203.86.225.0,
//      ipv6prefix=2403:9200::,offset=4,psidlen=12,psid=0,br=2403:9200:fff0::2,
//    where psid is the 16-bit S46_PORTPARAMS value (left-aligned) and every
//    S46_BR of the container is repeated in every rule. dhcpv6.script passes
//    that string on as the `rule` option of a dynamic `map` interface.
// 2. /etc/config/network (UCI): a `config interface` section with
//    `option proto 'map'`. netifd's map.sh turns its options into one rule
//    string (type, ipv6prefix/prefix6len from ip6prefix/ip6prefixlen,
//    ipv4prefix/prefix4len from ipaddr/ip4prefixlen [32], psid, psidlen,
//    offset, ealen, br or dmr from peeraddr) unless `option rule` gives one;
//    mtu [1280] and ttl [64] set the tunnel; legacymap selects the pre-RFC
//    interface id, and mapcalc then defaults the PSID offset to 4 instead of 6
//    (lw4o6: 0).
//
// Both go through the same OpenWrtRule record, so they default alike.

import { AddressError, parseIPv4, parseIPv6, parsePrefix6, maskPrefix6, formatIPv6, type Prefix6 } from "../ip.js";
import { fail } from "./errors.js";
import { ruleNames, type ConfigModel, type MapType, type Named, type RuleNames, type RuleSpec, type BindingSpec } from "./options.js";

/** One rule in mapcalc's terms; every value still text, with the name to blame. */
export interface OpenWrtRule {
  values: Map<string, Named<string>>;
  fmr: boolean;
  /** "rule 1", "option rule, rule 2", … for messages. */
  label: string;
}

const TOKENS = ["type", "fmr", "ealen", "prefix4len", "prefix6len", "ipv6prefix", "ipv4prefix", "offset", "psidlen", "psid", "br", "dmr"];

/** Is this text an OpenWrt rule string (rather than hex)? */
export function looksLikeRuleString(text: string): boolean {
  return /[=,]/.test(text);
}

/** Splits a rule string (mapcalc syntax; several rules separated by spaces). `where` names its origin. */
export function parseRuleStrings(text: string, where: string): OpenWrtRule[] {
  const rules: OpenWrtRule[] = [];
  const parts = text.trim().split(/\s+/).filter((s) => s !== "");
  if (parts.length === 0) fail(where, "no rule in the rule string");
  parts.forEach((part, i) => {
    const label = parts.length > 1 ? `${where} rule ${i + 1}` : where;
    const values = new Map<string, Named<string>>();
    let fmr = false;
    for (const item of part.split(",")) {
      if (item === "") continue;
      const eq = item.indexOf("=");
      const key = eq < 0 ? item : item.slice(0, eq);
      const value = eq < 0 ? "" : item.slice(eq + 1);
      if (!TOKENS.includes(key)) fail(label, `unknown rule key '${key}' (known: ${TOKENS.join(", ")})`);
      if (key === "fmr") {
        fmr = true;
        continue;
      }
      // Several BRs arrive as br=…,br=… (odhcp6c repeats the key).
      const k = key === "br" && values.has("br") ? `br#${values.size}` : key;
      values.set(k, { value, name: `${label} ${key}` });
    }
    rules.push({ values, fmr, label });
  });
  return rules;
}

function integer(v: Named<string> | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  // mapcalc reads these with strtoul(…, 0): decimal, 0x hex.
  const t = v.value.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^[0-9]+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n > max) fail(v.name, `'${v.value}' is not an integer from 0 to ${max}`);
  return n;
}

function text<T>(v: Named<string>, parse: (t: string) => T): T {
  try {
    return parse(v.value);
  } catch (e) {
    if (e instanceof AddressError) fail(v.name, e.message);
    throw e;
  }
}

/** "2001:db8::" with a separate length, or "2001:db8::/32" with none. */
function prefix6(addrV: Named<string> | undefined, lenV: Named<string> | undefined, missing: string): Prefix6 {
  if (addrV === undefined) fail(missing, "is required");
  const slash = addrV.value.indexOf("/");
  if (slash >= 0) {
    const p = text(addrV, parsePrefix6);
    const len = integer(lenV, 128);
    if (len !== undefined && len !== p.len) fail(lenV!.name, `${len} disagrees with the /${p.len} of ${addrV.name}`);
    return p;
  }
  const len = integer(lenV, 128);
  if (len === undefined) fail(lenV?.name ?? missing, "the IPv6 prefix length is required");
  const bytes = text(addrV, parseIPv6);
  // OpenWrt users often paste the whole delegated prefix into ip6prefix; the rule takes its first bits.
  const masked = maskPrefix6(bytes, len);
  if (!masked.every((b, i) => b === bytes[i])) {
    fail(addrV.name, `'${addrV.value}' has bits set past /${len} (did you mean ${formatIPv6(masked)}?)`);
  }
  return { bytes, len };
}

export interface OpenWrtOptions {
  /** legacymap: the pre-RFC interface id; also makes the default PSID offset 4. */
  legacy: boolean;
  /** The end-user prefix length, to default ealen as mapcalc does (prefix length − rule prefix length). */
  endUserPrefixLength?: number;
}

/** Converts OpenWrt rules (one container's worth) to the model, defaulting as mapcalc does. */
export function openWrtRulesToModel(rules: OpenWrtRule[], opt: OpenWrtOptions, where: string): ConfigModel {
  const typeOf = (r: OpenWrtRule): MapType => {
    const t = r.values.get("type");
    if (t === undefined) return "map-e";
    if (t.value !== "map-e" && t.value !== "map-t" && t.value !== "lw4o6") fail(t.name, `'${t.value}' is not map-e, map-t or lw4o6`);
    return t.value;
  };
  const type = typeOf(rules[0]);
  for (const r of rules) if (typeOf(r) !== type) fail(r.values.get("type")?.name ?? r.label, `mixes ${typeOf(r)} with ${type} rules`);

  const model: ConfigModel = {
    type,
    rules: [],
    brs: [],
    missing: { rules: where, br: `${where} br`, dmr: `${where} dmr`, endUserPrefix: "--prefix", binding: where },
  };
  const seenBr = new Set<string>();
  for (const r of rules) {
    const v = (k: string): Named<string> | undefined => r.values.get(k);
    const names: RuleNames = ruleNames(r.label, {
      rule: r.label,
      forwarding: `${r.label} fmr`,
      eaLength: v("ealen")?.name ?? `${r.label} ealen`,
      ipv4Prefix: v("ipv4prefix")?.name ?? `${r.label} ipv4prefix`,
      ipv4PrefixLength: v("prefix4len")?.name ?? `${r.label} prefix4len`,
      ipv6Prefix: v("ipv6prefix")?.name ?? `${r.label} ipv6prefix`,
      ipv6PrefixLength: v("prefix6len")?.name ?? `${r.label} prefix6len`,
      psidOffset: v("offset")?.name ?? `${r.label} offset`,
      psidLength: v("psidlen")?.name ?? `${r.label} psidlen`,
      psid: v("psid")?.name ?? `${r.label} psid`,
    });
    const ipv6Prefix = prefix6(v("ipv6prefix"), v("prefix6len"), names.ipv6Prefix);
    const v4 = v("ipv4prefix");
    if (v4 === undefined) fail(names.ipv4Prefix, "is required");
    const ipv4 = text(v4, parseIPv4);
    const prefix4len = integer(v("prefix4len"), 255) ?? 32;
    const offsetGiven = integer(v("offset"), 255);
    const psidlen = integer(v("psidlen"), 255);
    const psid = integer(v("psid"), 65535);
    const offset = offsetGiven ?? (type === "lw4o6" ? 0 : opt.legacy ? 4 : 6);
    const portParams =
      psidlen !== undefined || psid !== undefined || offset !== 6
        ? { offset, psidLength: psidlen ?? 0, psid: 0, psid16: psid ?? 0 }
        : undefined;

    for (const [k, b] of r.values) {
      if (k !== "br" && !k.startsWith("br#")) continue;
      const a = text(b, parseIPv6);
      const key = formatIPv6(a);
      if (!seenBr.has(key)) {
        seenBr.add(key);
        model.brs.push({ value: a, name: b.name });
      }
    }
    const dmr = v("dmr");
    if (dmr !== undefined) {
      if (type !== "map-t") fail(dmr.name, `only a map-t rule has a dmr (this one is ${type})`);
      model.dmr = { value: text(dmr, parsePrefix6), name: dmr.name };
    }

    if (type === "lw4o6") {
      if (model.binding) fail(r.label, "an lw4o6 configuration has one binding only");
      const bind: BindingSpec = { ipv4Address: ipv4, ipv6Prefix, portParams: psidlen !== undefined ? portParams : undefined, names };
      model.binding = bind;
      continue;
    }
    let ealen = integer(v("ealen"), 255);
    if (ealen === undefined) {
      if (opt.endUserPrefixLength === undefined) fail(names.eaLength, "is required (or give --prefix, whose length minus the rule's IPv6 prefix length is the EA length, as mapcalc does)");
      ealen = Math.max(0, opt.endUserPrefixLength - ipv6Prefix.len);
    }
    const rule: RuleSpec = {
      ipv6Prefix,
      ipv4Prefix: { addr: ipv4, len: prefix4len },
      eaLength: ealen,
      forwarding: r.fmr,
      portParams,
      names,
    };
    model.rules.push(rule);
  }
  return model;
}

// ---------------------------------------------------------------------------
// UCI

/** One `config <type> '<name>'` section: its options (last one wins) and lists. */
export interface UciSection {
  type: string;
  name: string;
  options: Map<string, { value: string; line: number }>;
  line: number;
}

/** Splits one UCI line into words, honouring '…', "…" and backslash escapes; drops # comments. */
function uciWords(line: string, lineNo: number, file: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") break;
    let w = "";
    while (i < line.length && !/[ \t\r]/.test(line[i])) {
      const q = line[i];
      if (q === "'" || q === '"') {
        // '…' is literal; in "…" a backslash escapes the next character.
        let j = i + 1;
        while (j < line.length && line[j] !== q) {
          if (q === '"' && line[j] === "\\" && j + 1 < line.length) j++;
          w += line[j++];
        }
        if (j >= line.length) fail(`${file}:${lineNo}`, `unterminated ${q} quote`);
        i = j + 1;
      } else if (q === "\\" && i + 1 < line.length) {
        w += line[i + 1];
        i += 2;
      } else {
        w += q;
        i++;
      }
    }
    words.push(w);
  }
  return words;
}

/** Parses a UCI file (uci(5) syntax: config / option / list lines). */
export function parseUci(textIn: string, file: string): UciSection[] {
  const sections: UciSection[] = [];
  let cur: UciSection | undefined;
  let anon = 0;
  textIn.split("\n").forEach((raw, idx) => {
    const lineNo = idx + 1;
    const w = uciWords(raw, lineNo, file);
    if (w.length === 0) return;
    const where = `${file}:${lineNo}`;
    switch (w[0]) {
      case "package":
        return;
      case "config":
        if (w.length < 2 || w.length > 3) fail(where, "expected: config <type> ['<name>']");
        cur = { type: w[1], name: w[2] ?? `@${w[1]}[${anon++}]`, options: new Map(), line: lineNo };
        sections.push(cur);
        return;
      case "option":
      case "list":
        if (!cur) fail(where, `'${w[0]}' before any 'config' line`);
        if (w.length !== 3) fail(where, `expected: ${w[0]} <name> '<value>'`);
        if (w[0] === "list" && cur.options.has(w[1])) {
          cur.options.get(w[1])!.value += ` ${w[2]}`;
        } else {
          cur.options.set(w[1], { value: w[2], line: lineNo });
        }
        return;
      default:
        fail(where, `unknown UCI statement '${w[0]}'`);
    }
  });
  return sections;
}

export interface UciMapInterface {
  model: ConfigModel;
  /** `option tunlink`: the interface holding the delegated prefix (mapcalc's PD6IFACE). */
  tunlink?: string;
}

const TRUE = ["1", "yes", "on", "true", "enabled"];
const FALSE = ["0", "no", "off", "false", "disabled"];

/** Reads the `map` interface `iface` of a UCI network file into the model. */
export function uciToModel(textIn: string, file: string, iface: string, endUserPrefixLength?: number): UciMapInterface {
  const sections = parseUci(textIn, file);
  const maps = sections.filter((s) => s.type === "interface" && s.options.get("proto")?.value === "map").map((s) => s.name);
  const sec = sections.find((s) => s.type === "interface" && s.name === iface);
  if (!sec) {
    fail("--interface", `no interface '${iface}' in ${file} (map interfaces there: ${maps.length ? maps.join(", ") : "none"})`);
  }
  const opt = (k: string): Named<string> | undefined => {
    const o = sec.options.get(k);
    return o === undefined ? undefined : { value: o.value, name: `${file}:${o.line} option ${k}` };
  };
  const proto = opt("proto");
  if (proto?.value !== "map") fail(proto?.name ?? `${file}:${sec.line} interface '${iface}'`, `proto is '${proto?.value ?? ""}', not 'map'`);

  const legacyV = opt("legacymap");
  let legacy = false;
  if (legacyV) {
    if (TRUE.includes(legacyV.value)) legacy = true;
    else if (!FALSE.includes(legacyV.value)) fail(legacyV.name, `'${legacyV.value}' is not a boolean (0/1)`);
  }
  // Newer map.sh reads `maptype`, older ones `type`.
  const typeV = opt("maptype") ?? opt("type");
  const ruleV = opt("rule");
  let rules: OpenWrtRule[];
  if (ruleV) {
    rules = parseRuleStrings(ruleV.value, ruleV.name);
  } else {
    // What map.sh builds from the separate options.
    const values = new Map<string, Named<string>>();
    const put = (key: string, uci: string): void => {
      const v = opt(uci);
      if (v !== undefined) values.set(key, v);
    };
    if (typeV) values.set("type", typeV);
    put("ipv6prefix", "ip6prefix");
    put("prefix6len", "ip6prefixlen");
    put("ipv4prefix", "ipaddr");
    put("prefix4len", "ip4prefixlen");
    put("psid", "psid");
    put("psidlen", "psidlen");
    put("offset", "offset");
    put("ealen", "ealen");
    const peer = opt("peeraddr");
    if (peer) values.set(typeV?.value === "map-t" ? "dmr" : "br", peer);
    rules = [{ values, fmr: false, label: `${file}:${sec.line} interface '${iface}'` }];
  }
  const where = `${file} interface '${iface}'`;
  const model = openWrtRulesToModel(rules, { legacy, endUserPrefixLength }, where);
  if (!ruleV) {
    model.missing.br = `${where} option peeraddr`;
    model.missing.dmr = `${where} option peeraddr`;
  }
  if (legacy) model.legacyIid = { value: true, name: legacyV!.name };
  // map.sh's mtu is the tunnel interface's (IPv4) MTU, default 1280; ours is the IPv6 path MTU: +40.
  const mtuV = opt("mtu");
  const mtu = mtuV ? integer(mtuV, 65535 - 40)! : 1280;
  model.tunnelMtu = { value: mtu + 40, name: mtuV?.name ?? `${where} option mtu (default 1280)` };
  const ttlV = opt("ttl");
  if (ttlV) model.hopLimit = { value: integer(ttlV, 255)!, name: ttlV.name };
  return { model, tunlink: opt("tunlink")?.value };
}
