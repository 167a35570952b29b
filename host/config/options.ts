// The configuration model every source (JSON, --rule, UCI, OpenWrt rule
// strings) is turned into, and its encoding as the option bytes the module
// parses (docs/abi.md §1): one S46 container (RFC 7598 §5), then
// OPTION_IAPREFIX (RFC 8415 §21.22) with the end-user prefix, then
// OPTION_MAPE_LOCAL with the local settings.
//
// The host checks only what the bytes cannot carry (a value that does not fit
// its field, a PSID wider than its length); every structural check (EA length
// above 48, offset + PSID length above 16, prefix outside the rule …) is the
// module's. So that the module's error can name the user's field, the encoder
// records which bytes came from which field (spans).

import type { Prefix4, Prefix6 } from "../ip.js";
import { fail } from "./errors.js";

export const OPTION = {
  IAPREFIX: 26,
  S46_RULE: 89,
  S46_BR: 90,
  S46_DMR: 91,
  S46_V4V6BIND: 92,
  S46_PORTPARAMS: 93,
  S46_CONT_MAPE: 94,
  S46_CONT_MAPT: 95,
  S46_CONT_LW: 96,
  MAPE_LOCAL: 0xff01,
} as const;

/** OPTION_MAPE_LOCAL sub-option codes (docs/abi.md §1). */
export const LOCAL = {
  MODE: 1,
  LEGACY_IID: 2,
  TUNNEL_MTU: 3,
  HOP_LIMIT: 4,
  FILTERING: 5,
  MSS_CLAMP: 6,
  TC_FROM_TOS: 7,
  UDP_TIMEOUT: 8,
  DNS_TIMEOUT: 9,
  TCP_ESTABLISHED_TIMEOUT: 10,
  TCP_TRANSITORY_TIMEOUT: 11,
  ICMP_TIMEOUT: 12,
  MAX_SESSIONS_PER_HOST: 13,
  MAX_SESSIONS_PER_MAPPING: 14,
  INNER_FRAGMENTATION: 15,
} as const;

/** Largest session limit the module accepts (LOCAL 13, 14; 0 = no limit). */
export const MAX_SESSION_LIMIT = 4194304;

/** RFC 4787 REQ-8 filtering behaviours, as the JSON names them; the index is the LOCAL FILTERING value. */
export const FILTERING_NAMES = ["endpoint-independent", "address-dependent", "address-and-port-dependent"] as const;
export type Filtering = (typeof FILTERING_NAMES)[number];

/** LOCAL MSS_CLAMP values with a meaning of their own (any other value is the MSS itself). */
export const MSS_CLAMP_OFF = 0;
export const MSS_CLAMP_AUTO = 1;

/** NAT timeouts in seconds (LOCAL codes 8..12); the module checks the RFC minimums. */
export interface Timeouts {
  udp?: Named<number>;
  dns?: Named<number>;
  tcpEstablished?: Named<number>;
  tcpTransitory?: Named<number>;
  icmp?: Named<number>;
}

export type MapType = "map-e" | "map-t" | "lw4o6";
export type Mode = "calc" | "ce" | "br";
export const MODE_VALUE: Readonly<Record<Mode, number>> = { calc: 0, ce: 1, br: 2 };
export const CONTAINER_OF: Readonly<Record<MapType, number>> = {
  "map-e": OPTION.S46_CONT_MAPE,
  "map-t": OPTION.S46_CONT_MAPT,
  lw4o6: OPTION.S46_CONT_LW,
};

/**
 * S46_PORTPARAMS (RFC 7598 §4.5). `psid` is the right-aligned value, shifted
 * left on the wire; `psid16`, when given, is the 16-bit wire value as is
 * (OpenWrt's rule strings carry it that way), so the module checks it.
 */
export interface PortParams {
  offset: number;
  psidLength: number;
  psid: number;
  psid16?: number;
}

/** The user's name of each field of a rule, for messages. */
export interface RuleNames {
  rule: string;
  forwarding: string;
  eaLength: string;
  ipv4PrefixLength: string;
  ipv4Prefix: string;
  ipv6PrefixLength: string;
  ipv6Prefix: string;
  psidOffset: string;
  psidLength: string;
  psid: string;
}

/** Names a rule's fields "<base>.<key>" (JSON style), with overrides. */
export function ruleNames(base: string, over: Partial<RuleNames> = {}): RuleNames {
  return {
    rule: base,
    forwarding: `${base}.forwarding`,
    eaLength: `${base}.eaLength`,
    ipv4PrefixLength: `${base}.ipv4Prefix`,
    ipv4Prefix: `${base}.ipv4Prefix`,
    ipv6PrefixLength: `${base}.ipv6Prefix`,
    ipv6Prefix: `${base}.ipv6Prefix`,
    psidOffset: `${base}.psidOffset`,
    psidLength: `${base}.psidLength`,
    psid: `${base}.psid`,
    ...over,
  };
}

/** A MAP rule (S46_RULE, RFC 7598 §4.1). */
export interface RuleSpec {
  ipv6Prefix: Prefix6;
  ipv4Prefix: Prefix4;
  eaLength: number;
  forwarding: boolean;
  portParams?: PortParams;
  names: RuleNames;
}

/** An lw4o6 binding (S46_V4V6BIND, RFC 7598 §4.6); names reuse RuleNames (ipv4Prefix = the address). */
export interface BindingSpec {
  ipv4Address: number;
  ipv6Prefix: Prefix6;
  portParams?: PortParams;
  names: RuleNames;
}

export interface Named<T> {
  value: T;
  name: string;
}

/** Everything a configuration says, whatever its source. */
export interface ConfigModel {
  type: MapType;
  rules: RuleSpec[];
  binding?: BindingSpec;
  brs: Named<Uint8Array>[];
  dmr?: Named<Prefix6>;
  endUserPrefix?: Named<Prefix6>;
  mode?: Named<Mode>;
  legacyIid?: Named<boolean>;
  tunnelMtu?: Named<number>;
  hopLimit?: Named<number>;
  /** Data-path settings (CE): LOCAL codes 5..12. */
  filtering?: Named<Filtering>;
  /** 0 off, 1 auto (from the tunnel path MTU), else the MSS. */
  mssClamp?: Named<number>;
  trafficClassFromTos?: Named<boolean>;
  timeouts?: Timeouts;
  /** NAT session limits per LAN host and per mapping (LOCAL 13, 14; 0 = none). */
  maxSessionsPerHost?: Named<number>;
  maxSessionsPerMapping?: Named<number>;
  /** LOCAL INNER_FRAGMENTATION: IPv4 fragments before encapsulation instead of IPv6 fragments of the tunnel packet. */
  innerFragmentation?: Named<boolean>;
  /** Names for errors about something missing. */
  missing: MissingNames;
}

/** What to call a missing part of the configuration in an error. */
export interface MissingNames {
  rules: string;
  br: string;
  dmr: string;
  endUserPrefix: string;
  binding: string;
}

/** Bytes [start, end) of the encoded buffer came from the field `name`. */
export interface Span {
  start: number;
  end: number;
  name: string;
  /** For binary input: the user's byte offset of `start` (errors report user offsets). */
  userOffset?: number;
}

/** Option bytes ready for configure(), with where each byte came from. */
export interface EncodedConfig {
  bytes: Uint8Array;
  spans: Span[];
  missing: MissingNames;
  /** True when the user gave the bytes (hex): errors then carry byte offsets. */
  binary: boolean;
  /** The end-user prefix, when the host wrote it (mapcalc output prints it back). */
  endUserPrefix?: Prefix6;
}

/** Appends bytes and records spans; grows as needed (configs are small). */
export class OptionWriter {
  private buf = new Uint8Array(256);
  length = 0;
  readonly spans: Span[] = [];

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number, name?: string): void {
    this.ensure(1);
    this.mark(name, 1);
    this.buf[this.length++] = v & 0xff;
  }

  u16(v: number, name?: string): void {
    this.ensure(2);
    this.mark(name, 2);
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
  }

  u32(v: number, name?: string): void {
    this.ensure(4);
    this.mark(name, 4);
    for (let s = 24; s >= 0; s -= 8) this.buf[this.length++] = (v >>> s) & 0xff;
  }

  bytes(b: Uint8Array, name?: string): void {
    this.ensure(b.length);
    this.mark(name, b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Writes `code | length | body()`, the length filled in after the body; the whole option is named `name`. */
  option(code: number, name: string | undefined, body: () => void): void {
    const start = this.length;
    this.u16(code);
    this.u16(0);
    body();
    const len = this.length - start - 4;
    if (len > 0xffff) fail(name ?? "configuration", "an option is longer than 65535 bytes");
    this.buf[start + 2] = len >>> 8;
    this.buf[start + 3] = len & 0xff;
    if (name !== undefined) this.spans.push({ start, end: this.length, name });
  }

  mark(name: string | undefined, n: number): void {
    if (name !== undefined) this.spans.push({ start: this.length, end: this.length + n, name });
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Checks an integer fits a byte field; the module checks its meaning. */
export function checkByte(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) fail(name, `${v} is not an integer from 0 to 255`);
}

function writePrefix6(w: OptionWriter, p: Prefix6, lenName: string, name: string): void {
  w.u8(p.len, lenName);
  w.bytes(p.bytes.subarray(0, Math.ceil(p.len / 8)), name);
}

function writePortParams(w: OptionWriter, pp: PortParams, names: RuleNames): void {
  checkByte(pp.offset, names.psidOffset);
  checkByte(pp.psidLength, names.psidLength);
  const k = pp.psidLength;
  let psid16: number;
  if (pp.psid16 !== undefined) {
    if (!Number.isInteger(pp.psid16) || pp.psid16 < 0 || pp.psid16 > 0xffff) fail(names.psid, `${pp.psid16} is not an integer from 0 to 65535`);
    psid16 = pp.psid16;
  } else {
    if (!Number.isInteger(pp.psid) || pp.psid < 0) fail(names.psid, `${pp.psid} is not a non-negative integer`);
    if (k <= 16 && pp.psid >= 2 ** k) {
      fail(names.psid, `${pp.psid} does not fit in a PSID of ${k} bits (0 to ${2 ** k - 1})`);
    }
    // RFC 7598 §4.5: the PSID is left-aligned in its 16-bit field.
    psid16 = k === 0 || k > 16 ? 0 : (pp.psid << (16 - k)) & 0xffff;
  }
  w.option(OPTION.S46_PORTPARAMS, names.rule, () => {
    w.u8(pp.offset, names.psidOffset);
    w.u8(k, names.psidLength);
    w.u16(psid16, names.psid);
  });
}

function writeRule(w: OptionWriter, r: RuleSpec): void {
  const n = r.names;
  checkByte(r.eaLength, n.eaLength);
  w.option(OPTION.S46_RULE, n.rule, () => {
    w.u8(r.forwarding ? 1 : 0, n.forwarding);
    w.u8(r.eaLength, n.eaLength);
    w.u8(r.ipv4Prefix.len, n.ipv4PrefixLength);
    w.u32(r.ipv4Prefix.addr, n.ipv4Prefix);
    writePrefix6(w, r.ipv6Prefix, n.ipv6PrefixLength, n.ipv6Prefix);
    if (r.portParams) writePortParams(w, r.portParams, n);
  });
}

function writeBinding(w: OptionWriter, b: BindingSpec): void {
  const n = b.names;
  w.option(OPTION.S46_V4V6BIND, n.rule, () => {
    w.u32(b.ipv4Address, n.ipv4Prefix);
    writePrefix6(w, b.ipv6Prefix, n.ipv6PrefixLength, n.ipv6Prefix);
    if (b.portParams) writePortParams(w, b.portParams, n);
  });
}

/** Writes OPTION_IAPREFIX with infinite lifetimes (the CE's delegated prefix). */
export function writeIaPrefix(w: OptionWriter, p: Named<Prefix6>): void {
  w.option(OPTION.IAPREFIX, p.name, () => {
    w.u32(0xffffffff);
    w.u32(0xffffffff);
    w.u8(p.value.len, p.name);
    w.bytes(p.value.bytes, p.name);
  });
}

export interface LocalSettings {
  mode?: Named<Mode>;
  legacyIid?: Named<boolean>;
  tunnelMtu?: Named<number>;
  hopLimit?: Named<number>;
  filtering?: Named<Filtering>;
  mssClamp?: Named<number>;
  trafficClassFromTos?: Named<boolean>;
  timeouts?: Timeouts;
  maxSessionsPerHost?: Named<number>;
  maxSessionsPerMapping?: Named<number>;
  innerFragmentation?: Named<boolean>;
}

/** Checks an integer fits an unsigned field of `bytes` bytes (the module checks its range). */
function checkWidth(v: Named<number>, bytes: number, range: string): void {
  const max = 2 ** (8 * bytes) - 1;
  if (!Number.isInteger(v.value) || v.value < 0 || v.value > max) fail(v.name, `${v.value} is not an integer from ${range}`);
}

/** Writes OPTION_MAPE_LOCAL with the settings given (none: no option at all). */
export function writeLocal(w: OptionWriter, s: LocalSettings): void {
  const t = s.timeouts ?? {};
  const timeouts: [number, Named<number> | undefined][] = [
    [LOCAL.UDP_TIMEOUT, t.udp],
    [LOCAL.DNS_TIMEOUT, t.dns],
    [LOCAL.TCP_ESTABLISHED_TIMEOUT, t.tcpEstablished],
    [LOCAL.TCP_TRANSITORY_TIMEOUT, t.tcpTransitory],
    [LOCAL.ICMP_TIMEOUT, t.icmp],
    [LOCAL.MAX_SESSIONS_PER_HOST, s.maxSessionsPerHost],
    [LOCAL.MAX_SESSIONS_PER_MAPPING, s.maxSessionsPerMapping],
  ];
  const any = s.mode || s.legacyIid || s.tunnelMtu || s.hopLimit || s.filtering || s.mssClamp ||
    s.trafficClassFromTos || s.innerFragmentation || timeouts.some(([, v]) => v);
  if (!any) return;
  w.option(OPTION.MAPE_LOCAL, undefined, () => {
    const sub = (code: number, name: string, body: () => void): void => w.option(code, name, body);
    if (s.mode) sub(LOCAL.MODE, s.mode.name, () => w.u8(MODE_VALUE[s.mode!.value], s.mode!.name));
    if (s.legacyIid) sub(LOCAL.LEGACY_IID, s.legacyIid.name, () => w.u8(s.legacyIid!.value ? 1 : 0, s.legacyIid!.name));
    if (s.tunnelMtu) {
      const t = s.tunnelMtu;
      checkWidth(t, 2, "1280 to 9000");
      sub(LOCAL.TUNNEL_MTU, t.name, () => w.u16(t.value, t.name));
    }
    if (s.hopLimit) {
      const h = s.hopLimit;
      checkWidth(h, 1, "1 to 255");
      sub(LOCAL.HOP_LIMIT, h.name, () => w.u8(h.value, h.name));
    }
    if (s.filtering) {
      const f = s.filtering;
      const v = (FILTERING_NAMES as readonly string[]).indexOf(f.value);
      if (v < 0) fail(f.name, `must be one of ${FILTERING_NAMES.map((n) => `"${n}"`).join(", ")}, not "${f.value}"`);
      sub(LOCAL.FILTERING, f.name, () => w.u8(v, f.name));
    }
    if (s.mssClamp) {
      const m = s.mssClamp;
      checkWidth(m, 2, "0 to 65535");
      sub(LOCAL.MSS_CLAMP, m.name, () => w.u16(m.value, m.name));
    }
    if (s.trafficClassFromTos) {
      const c = s.trafficClassFromTos;
      sub(LOCAL.TC_FROM_TOS, c.name, () => w.u8(c.value ? 1 : 0, c.name));
    }
    for (const [code, v] of timeouts) {
      if (!v) continue;
      checkWidth(v, 4, "0 to 4294967295");
      sub(code, v.name, () => w.u32(v.value, v.name));
    }
    if (s.innerFragmentation) {
      const f = s.innerFragmentation;
      sub(LOCAL.INNER_FRAGMENTATION, f.name, () => w.u8(f.value ? 1 : 0, f.name));
    }
  });
}

/** Encodes a model: container first (so hex input keeps its offsets), then IAPREFIX, then local settings. */
export function encodeConfig(m: ConfigModel): EncodedConfig {
  const w = new OptionWriter();
  w.option(CONTAINER_OF[m.type], undefined, () => {
    for (const r of m.rules) writeRule(w, r);
    if (m.binding) writeBinding(w, m.binding);
    if (m.type !== "map-t") {
      for (const br of m.brs) w.option(OPTION.S46_BR, br.name, () => w.bytes(br.value, br.name));
    }
    if (m.dmr) {
      const d = m.dmr;
      w.option(OPTION.S46_DMR, d.name, () => writePrefix6(w, d.value, d.name, d.name));
    }
  });
  if (m.endUserPrefix) writeIaPrefix(w, m.endUserPrefix);
  writeLocal(w, m);
  return { bytes: w.result(), spans: w.spans, missing: m.missing, binary: false, endUserPrefix: m.endUserPrefix?.value };
}
