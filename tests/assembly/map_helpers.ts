// Test helpers for the MAP engine specs: a byte writer that builds RFC 7598
// option bytes straight into the configuration buffer, and IPv4/IPv6 text
// parsing/formatting so test rows read like the RFC and the vectors.
import { configBuffer, configure, ceIPv6Address } from "../../assembly/map/api";

export const OPT_IAPREFIX = 26;
export const OPT_RULE = 89;
export const OPT_BR = 90;
export const OPT_DMR = 91;
export const OPT_BIND = 92;
export const OPT_PORTPARAMS = 93;
export const OPT_MAPE = 94;
export const OPT_MAPT = 95;
export const OPT_LW = 96;
export const OPT_LOCAL = 0xff01;
export const LOCAL_MODE = 1;
export const LOCAL_LEGACY_IID = 2;
export const LOCAL_TUNNEL_MTU = 3;
export const LOCAL_HOP_LIMIT = 4;
export const MODE_CALC = 0;
export const MODE_CE = 1;
export const MODE_BR = 2;

const ip6Buf: usize = memory.data(16, 16);
const fmtBuf: usize = memory.data(16, 16);

function hexDigit(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 text (hex groups, one optional "::", no dotted tail) into a 16-byte static buffer. */
export function parseIPv6(text: string): usize {
  memory.fill(ip6Buf, 0, 16);
  const groups = new StaticArray<i32>(8);
  let n = 0;
  let gap = -1;
  let i = 0;
  const len = text.length;
  if (len >= 2 && text.charCodeAt(0) == 58 && text.charCodeAt(1) == 58) { gap = 0; i = 2; }
  while (i < len) {
    let v = 0;
    let digits = 0;
    while (i < len && hexDigit(text.charCodeAt(i)) >= 0) {
      v = (v << 4) | hexDigit(text.charCodeAt(i));
      i++;
      digits++;
    }
    if (digits > 0) groups[n++] = v;
    if (i < len && text.charCodeAt(i) == 58) {
      i++;
      if (i < len && text.charCodeAt(i) == 58) { gap = n; i++; }
    } else if (i < len) {
      break;
    }
  }
  let out = 0;
  for (let g = 0; g < n; g++) {
    if (g == gap) out += 8 - n;
    store<u16>(ip6Buf + <usize>(out * 2), bswap<u16>(<u16>groups[g]));
    out++;
  }
  return ip6Buf;
}

/** RFC 5952 text of the 16 bytes at p. */
export function formatIPv6(p: usize): string {
  memory.copy(fmtBuf, p, 16);
  // Longest run (>= 2) of zero groups, first on ties.
  let best = -1;
  let bestLen = 1;
  for (let g = 0; g < 8; ) {
    if (load<u16>(fmtBuf + <usize>(g * 2)) == 0) {
      let e = g;
      while (e < 8 && load<u16>(fmtBuf + <usize>(e * 2)) == 0) e++;
      if (e - g > bestLen) { best = g; bestLen = e - g; }
      g = e;
    } else g++;
  }
  let s = "";
  for (let g = 0; g < 8; g++) {
    if (g == best) { s += "::"; g += bestLen - 1; continue; }
    if (g > 0 && g != best + bestLen) s += ":";
    s += (<u32>bswap<u16>(load<u16>(fmtBuf + <usize>(g * 2)))).toString(16);
  }
  return s;
}

/** Canonical form of IPv6 text (so expectations may be written either way). */
export function canonIPv6(text: string): string {
  return formatIPv6(parseIPv6(text));
}

/** Dotted-quad text to a host-order u32. */
export function ipv4(text: string): u32 {
  let v: u32 = 0;
  let part: u32 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 46) { v = (v << 8) | part; part = 0; }
    else part = part * 10 + <u32>(c - 48);
  }
  return (v << 8) | part;
}

export function formatIPv4(v: u32): string {
  return (v >>> 24).toString() + "." + ((v >>> 16) & 255).toString() + "." +
    ((v >>> 8) & 255).toString() + "." + (v & 255).toString();
}

/** The CE's MAP IPv6 address as text. */
export function ceAddressText(): string {
  return formatIPv6(ceIPv6Address());
}

/** Builds options into the configuration buffer. */
export class Writer {
  pos: i32 = 0;
  /** Offset recorded by mark(): the field a test expects an error at. */
  marked: i32 = -1;

  reset(): Writer { this.pos = 0; this.marked = -1; return this; }
  mark(): Writer { this.marked = this.pos; return this; }
  u8(v: i32): Writer { store<u8>(configBuffer() + <usize>this.pos, <u8>v); this.pos += 1; return this; }
  u16(v: i32): Writer { store<u16>(configBuffer() + <usize>this.pos, bswap<u16>(<u16>v)); this.pos += 2; return this; }
  u32(v: u32): Writer { store<u32>(configBuffer() + <usize>this.pos, bswap<u32>(v)); this.pos += 4; return this; }
  /** Writes the first `n` bytes of the IPv6 text. */
  addr6(text: string, n: i32 = 16): Writer {
    const p = parseIPv6(text);
    for (let i = 0; i < n; i++) this.u8(load<u8>(p + <usize>i));
    return this;
  }
  /** Writes the first `n` bytes of an IPv6 address given as host-order halves. */
  addr6Raw(hi: u64, lo: u64, n: i32 = 16): Writer {
    for (let i = 0; i < n; i++) {
      const b = i < 8 ? (hi >>> <u64>(56 - 8 * i)) : (lo >>> <u64>(120 - 8 * i));
      this.u8(<i32>(b & 0xff));
    }
    return this;
  }
  /** Opens an option: code and a length patched by close(); returns its start. */
  open(code: i32): i32 {
    const start = this.pos;
    this.u16(code).u16(0);
    return start;
  }
  close(start: i32): Writer {
    const len = this.pos - start - 4;
    store<u16>(configBuffer() + <usize>(start + 2), bswap<u16>(<u16>len));
    return this;
  }
  /** S46_RULE header fields (RFC 7598 §4.1), left open for sub-options. */
  ruleOpen(flags: i32, ea: i32, v4: string, len4: i32, v6: string, len6: i32): i32 {
    const s = this.open(OPT_RULE);
    this.u8(flags).u8(ea).u8(len4).u32(ipv4(v4)).u8(len6).addr6(v6, (len6 + 7) >> 3);
    return s;
  }
  /** S46_RULE from numbers, left open for sub-options. */
  ruleOpenRaw(flags: i32, ea: i32, v4: u32, len4: i32, hi: u64, lo: u64, len6: i32): i32 {
    const s = this.open(OPT_RULE);
    this.u8(flags).u8(ea).u8(len4).u32(v4).u8(len6).addr6Raw(hi, lo, (len6 + 7) >> 3);
    return s;
  }
  rule(flags: i32, ea: i32, v4: string, len4: i32, v6: string, len6: i32): Writer {
    return this.close(this.ruleOpen(flags, ea, v4, len4, v6, len6));
  }
  /** S46_PORTPARAMS (RFC 7598 §4.5): offset, PSID length, PSID left-aligned in 16 bits. */
  portParams(offset: i32, k: i32, psidLeft16: i32): Writer {
    const s = this.open(OPT_PORTPARAMS);
    return this.u8(offset).u8(k).u16(psidLeft16).close(s);
  }
  br(v6: string): Writer {
    const s = this.open(OPT_BR);
    return this.addr6(v6).close(s);
  }
  dmr(v6: string, len: i32): Writer {
    const s = this.open(OPT_DMR);
    return this.u8(len).addr6(v6, (len + 7) >> 3).close(s);
  }
  bindOpen(v4: string, v6: string, len6: i32): i32 {
    const s = this.open(OPT_BIND);
    this.u32(ipv4(v4)).u8(len6).addr6(v6, (len6 + 7) >> 3);
    return s;
  }
  /** OPTION_IAPREFIX (RFC 8415 §21.22) with lifetimes 3600/7200. */
  iaPrefix(v6: string, len: i32): Writer {
    const s = this.open(OPT_IAPREFIX);
    return this.u32(3600).u32(7200).u8(len).addr6(v6).close(s);
  }
  iaPrefixRaw(hi: u64, lo: u64, len: i32): Writer {
    const s = this.open(OPT_IAPREFIX);
    return this.u32(3600).u32(7200).u8(len).addr6Raw(hi, lo).close(s);
  }
  /** OPTION_MAPE_LOCAL with one sub-option per call of setting(). */
  localOpen(): i32 { return this.open(OPT_LOCAL); }
  setting(code: i32, width: i32, value: i32): Writer {
    this.u16(code).u16(width);
    if (width == 1) this.u8(value); else if (width == 2) this.u16(value); else this.u32(<u32>value);
    return this;
  }
  /** OPTION_MAPE_LOCAL with just MODE (and LEGACY_IID when legacy). */
  local(mode: i32, legacy: i32 = 0): Writer {
    const s = this.localOpen();
    this.setting(LOCAL_MODE, 1, mode);
    if (legacy) this.setting(LOCAL_LEGACY_IID, 1, legacy);
    return this.close(s);
  }
  /** Parses and installs what was written. */
  configure(): i32 { return configure(this.pos); }
}

export const W = new Writer();

/** Small deterministic PRNG (xorshift32) for bounded property tests. */
let seed: u32 = 0x9e3779b9;
export function rngSeed(s: u32): void { seed = s == 0 ? 1 : s; }
export function rand(): u32 {
  let x = seed;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  seed = x;
  return x;
}
/** Uniform-ish integer in [lo, hi]. */
export function randIn(lo: i32, hi: i32): i32 {
  return lo + <i32>(rand() % <u32>(hi - lo + 1));
}
