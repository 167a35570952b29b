// The JSON configuration file (schema: config.schema.json, guide:
// docs/config.md) → ConfigModel. Every error names the JSON field by its
// path, e.g. "rules[1].eaLength".

import { AddressError, parseIPv4, parseIPv6, parsePrefix4, parsePrefix6, type Prefix6 } from "../ip.js";
import { ConfigError, fail } from "./errors.js";
import {
  FILTERING_NAMES,
  MSS_CLAMP_AUTO,
  MAX_SESSION_LIMIT,
  MSS_CLAMP_OFF,
  ruleNames,
  type Timeouts,
  type BindingSpec,
  type ConfigModel,
  type MapType,
  type Mode,
  type Named,
  type PortParams,
  type RuleSpec,
} from "./options.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const TOP_KEYS = [
  "$schema", "$comment", "type", "mode", "rules", "binding", "br", "dmr",
  "endUserPrefix", "legacyIid", "tunnelMtu", "hopLimit",
  "filtering", "mssClamp", "trafficClassFromTos", "timeouts", "innerFragmentation",
  "maxSessionsPerHost", "maxSessionsPerMapping",
];
const TIMEOUT_KEYS = ["udp", "dns", "tcpEstablished", "tcpTransitory", "icmp", "$comment"] as const;
const RULE_KEYS = ["ipv6Prefix", "ipv4Prefix", "eaLength", "psidOffset", "psidLength", "psid", "forwarding", "$comment"];
const BINDING_KEYS = ["ipv4Address", "ipv6Prefix", "psidOffset", "psidLength", "psid", "$comment"];
const TYPES: readonly MapType[] = ["map-e", "map-t", "lw4o6"];
const MODES: readonly Mode[] = ["calc", "ce", "br"];

function kind(v: Json | undefined): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

function isObj(v: Json | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function object(v: Json | undefined, path: string, keys: readonly string[]): Obj {
  if (!isObj(v)) fail(path, `must be an object, not ${kind(v)}`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) fail(path ? `${path}.${k}` : k, `unknown field (known: ${keys.filter((x) => !x.startsWith("$")).join(", ")})`);
  }
  return v;
}

function str(v: Json | undefined, path: string): string {
  if (typeof v !== "string") fail(path, `must be a string, not ${kind(v)}`);
  return v;
}

function int(v: Json | undefined, path: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer from ${min} to ${max}, not ${kind(v)}`);
  }
  return v;
}

function bool(v: Json | undefined, path: string): boolean {
  if (typeof v !== "boolean") fail(path, `must be true or false, not ${kind(v)}`);
  return v;
}

function oneOf<T extends string>(v: Json | undefined, path: string, allowed: readonly T[]): T {
  const s = str(v, path);
  if (!(allowed as readonly string[]).includes(s)) fail(path, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, not "${s}"`);
  return s as T;
}

/** Runs an address parser, turning its AddressError into a ConfigError naming the field. */
export function addr<T>(path: string, parse: (t: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof AddressError) fail(path, e.message);
    throw e;
  }
}

/**
 * PSID offset/length/value → S46_PORTPARAMS, or none when the defaults
 * apply (offset `defaultOffset`; PSID length from the EA bits for MAP,
 * a full IPv4 address for lw4o6).
 * The width checks (integers, 0..255) are here; the meaning checks are the module's.
 */
function portParams(o: Obj, path: string, defaultOffset: number): PortParams | undefined {
  const offset = o.psidOffset === undefined ? defaultOffset : int(o.psidOffset, `${path}.psidOffset`, 0, 255);
  const psidLength = o.psidLength === undefined ? undefined : int(o.psidLength, `${path}.psidLength`, 0, 255);
  if (o.psid !== undefined && psidLength === undefined) fail(`${path}.psid`, "needs psidLength");
  const psid = o.psid === undefined ? 0 : int(o.psid, `${path}.psid`, 0, 65535);
  if (psidLength === undefined && offset === defaultOffset) return undefined;
  return { offset, psidLength: psidLength ?? 0, psid };
}

function rule(v: Json, path: string): RuleSpec {
  const o = object(v, path, RULE_KEYS);
  for (const k of ["ipv6Prefix", "ipv4Prefix", "eaLength"]) if (o[k] === undefined) fail(`${path}.${k}`, "is required");
  return {
    ipv6Prefix: addr(`${path}.ipv6Prefix`, parsePrefix6, str(o.ipv6Prefix, `${path}.ipv6Prefix`)),
    ipv4Prefix: addr(`${path}.ipv4Prefix`, parsePrefix4, str(o.ipv4Prefix, `${path}.ipv4Prefix`)),
    eaLength: int(o.eaLength, `${path}.eaLength`, 0, 255),
    forwarding: o.forwarding === undefined ? false : bool(o.forwarding, `${path}.forwarding`),
    portParams: portParams(o, path, 6),
    names: ruleNames(path),
  };
}

function binding(v: Json, path: string): BindingSpec {
  const o = object(v, path, BINDING_KEYS);
  for (const k of ["ipv4Address", "ipv6Prefix"]) if (o[k] === undefined) fail(`${path}.${k}`, "is required");
  return {
    ipv4Address: addr(`${path}.ipv4Address`, parseIPv4, str(o.ipv4Address, `${path}.ipv4Address`)),
    ipv6Prefix: addr(`${path}.ipv6Prefix`, parsePrefix6, str(o.ipv6Prefix, `${path}.ipv6Prefix`)),
    // lw4o6 (RFC 7596 §5.1) has no EA bits: the port set is all PORTPARAMS, offset 0 unless given.
    portParams: portParams(o, path, 0),
    names: ruleNames(path, { ipv4Prefix: `${path}.ipv4Address` }),
  };
}

/** `mssClamp`: "auto", "off" or an MSS value (0 and 1 are the codes of off and auto, so not MSS values). */
function mssClamp(v: Json | undefined, path: string): number {
  if (v === "auto") return MSS_CLAMP_AUTO;
  if (v === "off") return MSS_CLAMP_OFF;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 536 || v > 65535) {
    fail(path, `must be "auto", "off" or an MSS from 536 to 65535, not ${kind(v)}`);
  }
  return v;
}

/** `timeouts`: seconds per class; the module checks the RFC minimums (LOCAL_VALUE). */
function timeouts(v: Json | undefined, path: string): Timeouts {
  const o = object(v, path, TIMEOUT_KEYS);
  const out: Timeouts = {};
  for (const k of TIMEOUT_KEYS) {
    if (k === "$comment" || o[k] === undefined) continue;
    out[k] = { name: `${path}.${k}`, value: int(o[k], `${path}.${k}`, 0, 4294967295) };
  }
  return out;
}

/** Parses the text of a JSON config file. `source` names the file in messages. */
export function parseJsonConfig(text: string, source = "config"): ConfigModel {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    throw new ConfigError({ field: source }, `not valid JSON (${(e as Error).message})`);
  }
  return jsonToModel(doc);
}

/** Converts a parsed JSON document to the model. */
export function jsonToModel(doc: Json): ConfigModel {
  const o = object(doc, "", TOP_KEYS);
  const type = o.type === undefined ? "map-e" : oneOf(o.type, "type", TYPES);
  let rules: RuleSpec[] = [];
  if (o.rules !== undefined) {
    if (!Array.isArray(o.rules)) fail("rules", `must be an array of rules, not ${kind(o.rules)}`);
    rules = o.rules.map((r, i) => rule(r, `rules[${i}]`));
  }
  if (type === "lw4o6" && rules.length > 0) fail("rules", "an lw4o6 configuration has a binding, not rules");
  if (type !== "lw4o6" && o.binding !== undefined) fail("binding", `only an lw4o6 configuration has a binding (type is "${type}")`);
  if (type !== "map-t" && o.dmr !== undefined) fail("dmr", `only a MAP-T configuration has a DMR (type is "${type}")`);
  if (type === "map-t" && o.br !== undefined) fail("br", "a MAP-T configuration has a DMR, not BR addresses");

  const brs: Named<Uint8Array>[] = [];
  if (o.br !== undefined) {
    const list = typeof o.br === "string" ? [o.br] : o.br;
    if (!Array.isArray(list)) fail("br", `must be an IPv6 address or an array of them, not ${kind(o.br)}`);
    list.forEach((b, i) => {
      const name = typeof o.br === "string" ? "br" : `br[${i}]`;
      brs.push({ value: addr(name, parseIPv6, str(b, name)), name });
    });
  }
  const named = <T>(name: string, value: T): Named<T> => ({ name, value });
  const prefix = (k: string): Named<Prefix6> | undefined =>
    o[k] === undefined ? undefined : named(k, addr(k, parsePrefix6, str(o[k], k)));

  return {
    type,
    rules,
    binding: o.binding === undefined ? undefined : binding(o.binding, "binding"),
    brs,
    dmr: prefix("dmr"),
    endUserPrefix: prefix("endUserPrefix"),
    mode: o.mode === undefined ? undefined : named("mode", oneOf(o.mode, "mode", MODES)),
    legacyIid: o.legacyIid === undefined ? undefined : named("legacyIid", bool(o.legacyIid, "legacyIid")),
    tunnelMtu: o.tunnelMtu === undefined ? undefined : named("tunnelMtu", int(o.tunnelMtu, "tunnelMtu", 0, 65535)),
    hopLimit: o.hopLimit === undefined ? undefined : named("hopLimit", int(o.hopLimit, "hopLimit", 0, 255)),
    filtering: o.filtering === undefined ? undefined : named("filtering", oneOf(o.filtering, "filtering", FILTERING_NAMES)),
    mssClamp: o.mssClamp === undefined ? undefined : named("mssClamp", mssClamp(o.mssClamp, "mssClamp")),
    trafficClassFromTos: o.trafficClassFromTos === undefined ? undefined : named("trafficClassFromTos", bool(o.trafficClassFromTos, "trafficClassFromTos")),
    timeouts: o.timeouts === undefined ? undefined : timeouts(o.timeouts, "timeouts"),
    maxSessionsPerHost: o.maxSessionsPerHost === undefined ? undefined
      : named("maxSessionsPerHost", int(o.maxSessionsPerHost, "maxSessionsPerHost", 0, MAX_SESSION_LIMIT)),
    maxSessionsPerMapping: o.maxSessionsPerMapping === undefined ? undefined
      : named("maxSessionsPerMapping", int(o.maxSessionsPerMapping, "maxSessionsPerMapping", 0, MAX_SESSION_LIMIT)),
    innerFragmentation: o.innerFragmentation === undefined ? undefined : named("innerFragmentation", bool(o.innerFragmentation, "innerFragmentation")),
    missing: { rules: type === "lw4o6" ? "binding" : "rules", br: "br", dmr: "dmr", endUserPrefix: "endUserPrefix", binding: "binding" },
  };
}
