// Where a command's MAP configuration comes from: the command-line flags that
// every command of both hosts (Node and the native router program) shares,
// parsed once, here (docs/config.md).
//
//   --config <file.json>                      JSON config (jsonconfig.ts)
//   --dhcpv6 <hex | rule string>              RFC 7598 option bytes as hex, or the value
//                                             of OpenWrt's $MAPE / $MAPT / $LW4O6 (openwrt.ts)
//   --dhcpv6-type map-e|map-t|lw4o6           container type for payload-only hex
//   --uci <file> --interface <name>           an OpenWrt /etc/config/network `map` interface
//   --rule <v6>/<n>,<v4>/<n>,<ea>[,<offset>]  one MAP rule on the command line
//   --br <ipv6>                               a BR address (with --rule; repeatable)
//   --prefix <ipv6>/<len>                     the end-user (delegated) prefix; overrides the source's
//   --legacy-iid                              pre-RFC interface id (v6plus / OCN CEs)
//   --tunnel-mtu, --hop-limit, --filtering, --mss-clamp, --tc-from-tos, --inner-fragmentation,
//   --pptp, --br-pptp,
//   --udp-timeout, --dns-timeout, --tcp-established-timeout,
//   --tcp-transitory-timeout, --icmp-timeout,
//   --ftp-alg on|off, --ftp-port <n>          local settings; override the source's
//   --forward <tcp|udp>:<ext>=<ipv4>[:<port>]  a static forward (repeatable; forward.ts)
//   --rules <file> [--rules-format hb46pp|v6plus|ocn]
//                                             an HB46PP, v6plus or OCN rule answer (rules.ts)
//   --dns-proxy <lan-ipv4>[:port], --dns-upstream <ipv6> (repeatable)
//                                             the CE's DNS proxy (assembly/dns/proxy.ts)
//
// The host writes all of argv after the subcommand into the text buffer as
// records, with the contents of every file a flag of configFileFlags() names
// right after the argument holding its path:
//
//   +------+----------------+---------------------+
//   | kind | length (u32 LE)| bytes ...           |   kind 1: one argument, kind 2: a file's contents
//   +------+----------------+---------------------+
//
// configFromArgs() encodes the configuration into the configuration buffer
// (encode.ts) and marks which arguments it used; the host parses the others.
import { CONFIG_BUFFER_SIZE } from "../config";
import { LOCAL_MODE, LOCAL_LEGACY_IID, LOCAL_TUNNEL_MTU, LOCAL_HOP_LIMIT, LOCAL_FILTERING, LOCAL_INNER_FRAGMENTATION, LOCAL_PPTP, LOCAL_BR_PPTP,
  LOCAL_MSS_CLAMP, LOCAL_TC_FROM_TOS, LOCAL_UDP_TIMEOUT, LOCAL_DNS_TIMEOUT,
  LOCAL_TCP_ESTABLISHED_TIMEOUT, LOCAL_TCP_TRANSITORY_TIMEOUT, LOCAL_ICMP_TIMEOUT,
  LOCAL_MAX_SESSIONS_PER_HOST, LOCAL_MAX_SESSIONS_PER_MAPPING, LOCAL_FTP_ALG, LOCAL_FTP_PORT,
  LOCAL_FAIR_SHARE, LOCAL_FAIR_RESERVE, LOCAL_PORT_REUSE, PORT_REUSE_OFF, PORT_REUSE_ON, PORT_REUSE_AUTO,
  LOCAL_DNS_PROXY_ADDRESS, LOCAL_DNS_PROXY_PORT, LOCAL_DNS_UPSTREAM } from "../settings";
import { Out, newOut, byteAt, spanIs, spanStarts, spanFind, spanDecimal, isSpaceByte } from "./text";
import { addrError, parseIPv4, parseIPv6, parsePrefix4, parsePrefix6, parsedV4, parsedLen } from "./ip";
import { modelReset, names, nameBegin, nameEnd, nameLit, NAME_NONE, failAt, failLit, errorText,
  errorFieldLength, MRule, addRule, ruleNames, v6Ptr, addBr, setPrefix, setLocal, setType,
  setMissing, setMissingPrefix, DNS_UPSTREAM_MAX, dnsUpstreamAt, mHasPrefix, mPrefixName, mPrefixLen, TYPE_MAPE, TYPE_MAPT, TYPE_LW } from "./model";
import { encodeReset, encodeModel, setBinary, wBytes, span, optionBegin, writeIaPrefix, writeLocal,
  finish, moduleMessage, OPTION_S46_RULE, OPTION_S46_BR, OPTION_S46_DMR, OPTION_S46_V4V6BIND } from "./encode";
import { parseJsonConfig } from "./jsonconfig";
import { forwardText } from "./forward";
import { looksLikeRuleString, parseRuleStringSource, parseUciSource, uciTunlinkReset } from "./openwrt";
import { encodedLength } from "./encode";
import { configBufferPtr } from "../map/provision";
import { rulesIntoModel, rulesForget, FORMAT_AUTO, FORMAT_HB46PP, FORMAT_V6PLUS, FORMAT_OCN } from "./rules";
import * as E from "../map/errors";

import { textBufferPtr } from "./textbuf";
import { TEXT_BUFFER_SIZE } from "../config";
export { textBufferPtr, TEXT_BUFFER_SIZE };
const textRegion: usize = textBufferPtr();

// ---- Arguments ----
const ARG_MAX: i32 = 1024;
const A_PTR: usize = 0;
const A_LEN: usize = 4;
const A_USED: usize = 8;
const A_FILE: usize = 12;
const A_FILE_LEN: usize = 16;
const ARG_BYTES: usize = 20;
const argRows: usize = memory.data(ARG_MAX * <i32>ARG_BYTES, 8);
let argCount = 0;

@inline function argRow(i: i32): usize { return argRows + <usize>i * ARG_BYTES; }
function argPtr(i: i32): usize { return <usize>load<i32>(argRow(i) + A_PTR); }
function argLen(i: i32): i32 { return load<i32>(argRow(i) + A_LEN); }
function markUsed(i: i32): void { store<i32>(argRow(i) + A_USED, 1); }

/** 1 if argument i (kind-1 records only) was a configuration flag or its value. */
export function argUsed(i: i32): i32 {
  return i >= 0 && i < argCount ? load<i32>(argRow(i) + A_USED) : 0;
}

// ---- The flags this file owns ----
const F_CONFIG = 0;
const F_DHCPV6 = 1;
const F_DHCPV6_TYPE = 2;
const F_UCI = 3;
const F_INTERFACE = 4;
const F_RULE = 5;
const F_BR = 6;
const F_PREFIX = 7;
const F_TUNNEL_MTU = 8;
const F_HOP_LIMIT = 9;
const F_FILTERING = 10;
const F_MSS_CLAMP = 11;
const F_TC_FROM_TOS = 12;
const F_UDP_TIMEOUT = 13;
const F_DNS_TIMEOUT = 14;
const F_TCP_ESTABLISHED_TIMEOUT = 15;
const F_TCP_TRANSITORY_TIMEOUT = 16;
const F_ICMP_TIMEOUT = 17;
const F_MAX_SESSIONS_PER_HOST = 18;
const F_MAX_SESSIONS_PER_MAPPING = 19;
const F_INNER_FRAGMENTATION = 20;
const F_RULES = 21;
const F_RULES_FORMAT = 22;
const F_FTP_ALG = 23;
const F_FTP_PORT = 24;
const F_PPTP = 25;    // --pptp on|off (CE ALG), LOCAL PPTP
const F_BR_PPTP = 26; // --br-pptp on|off (BR GRE routing), LOCAL BR_PPTP
const F_FORWARD = 27;
const F_FAIR_SHARE = 28;
const F_FAIR_RESERVE = 29;
const F_PORT_REUSE = 30;
const F_DNS_PROXY = 31;
const F_DNS_UPSTREAM = 32;
const F_COUNT = 33;

function flagName(f: i32): string {
  switch (f) {
    case F_CONFIG: return "--config";
    case F_DHCPV6: return "--dhcpv6";
    case F_DHCPV6_TYPE: return "--dhcpv6-type";
    case F_UCI: return "--uci";
    case F_INTERFACE: return "--interface";
    case F_RULE: return "--rule";
    case F_BR: return "--br";
    case F_PREFIX: return "--prefix";
    case F_TUNNEL_MTU: return "--tunnel-mtu";
    case F_HOP_LIMIT: return "--hop-limit";
    case F_FILTERING: return "--filtering";
    case F_MSS_CLAMP: return "--mss-clamp";
    case F_TC_FROM_TOS: return "--tc-from-tos";
    case F_UDP_TIMEOUT: return "--udp-timeout";
    case F_DNS_TIMEOUT: return "--dns-timeout";
    case F_TCP_ESTABLISHED_TIMEOUT: return "--tcp-established-timeout";
    case F_TCP_TRANSITORY_TIMEOUT: return "--tcp-transitory-timeout";
    case F_ICMP_TIMEOUT: return "--icmp-timeout";
    case F_MAX_SESSIONS_PER_HOST: return "--max-sessions-per-host";
    case F_MAX_SESSIONS_PER_MAPPING: return "--max-sessions-per-mapping";
    case F_INNER_FRAGMENTATION: return "--inner-fragmentation";
    case F_RULES: return "--rules";
    case F_RULES_FORMAT: return "--rules-format";
    case F_FTP_ALG: return "--ftp-alg";
    case F_FTP_PORT: return "--ftp-port";
    case F_PPTP: return "--pptp";
    case F_BR_PPTP: return "--br-pptp";
    case F_FORWARD: return "--forward";
    case F_FAIR_SHARE: return "--fair-share";
    case F_FAIR_RESERVE: return "--fair-reserve";
    case F_PORT_REUSE: return "--port-reuse";
    case F_DNS_PROXY: return "--dns-proxy";
    case F_DNS_UPSTREAM: return "--dns-upstream";
  }
  return "";
}

/** The flag id of the n bytes at p, -1 when not ours. */
function flagOf(p: usize, n: i32): i32 {
  for (let f = 0; f < F_COUNT; f++) if (spanIs(p, n, flagName(f))) return f;
  return -1;
}

// Values: one per flag (--br: a list).
const BR_FLAG_MAX: i32 = 64;
const flagCount: usize = memory.data(F_COUNT * 4, 8);
const flagVal: usize = memory.data(F_COUNT * 4, 8);
const flagValLen: usize = memory.data(F_COUNT * 4, 8);
const flagArg: usize = memory.data(F_COUNT * 4, 8);
const brVal: usize = memory.data(BR_FLAG_MAX * 4, 8);
const brValLen: usize = memory.data(BR_FLAG_MAX * 4, 8);
// --forward: a list too (config/forward.ts).
const FORWARD_FLAG_MAX: i32 = 64;
const fwdVal: usize = memory.data(FORWARD_FLAG_MAX * 4, 8);
const fwdValLen: usize = memory.data(FORWARD_FLAG_MAX * 4, 8);
const dnsUpVal: usize = memory.data(DNS_UPSTREAM_MAX * 4, 8);
const dnsUpValLen: usize = memory.data(DNS_UPSTREAM_MAX * 4, 8);
let legacy = false;

function given(f: i32): bool { return load<i32>(flagCount + <usize>(f * 4)) > 0; }
function valPtr(f: i32): usize { return <usize>load<i32>(flagVal + <usize>(f * 4)); }
function valLen(f: i32): i32 { return load<i32>(flagValLen + <usize>(f * 4)); }
function brCountGiven(): i32 { return load<i32>(flagCount + <usize>(F_BR * 4)); }

// What the last configuration was, for `mape calc`.
let labelName = NAME_NONE;
let lastMode = 0;
export function sourceLabel(): i32 { return labelName; }

/** configFileFlags(): "--config\0--uci\0--rules\0\0". */
const FILE_FLAGS = "--config\0--uci\0--rules\0\0";
const fileFlagsRegion: usize = memory.data(32, 8);
for (let i = 0; i < FILE_FLAGS.length; i++) store<u8>(fileFlagsRegion + <usize>i, <u8>FILE_FLAGS.charCodeAt(i));
export function fileFlagsPtr(): usize { return fileFlagsRegion; }

/** Reads the records of the text buffer into the argument table. 0 or -1. */
function readRecords(len: i32): i32 {
  argCount = 0;
  if (len < 0 || len > TEXT_BUFFER_SIZE) {
    failLit("arguments").i32(len).str(" bytes do not fit the ").i32(TEXT_BUFFER_SIZE).str("-byte text buffer");
    return -1;
  }
  let p = 0;
  while (p < len) {
    if (len - p < 5) {
      failLit("arguments").str("record at byte ").i32(p).str(" is cut short");
      return -1;
    }
    const kind = byteAt(textRegion, p);
    const n = <i32>load<u32>(textRegion + <usize>(p + 1));
    if (n < 0 || n > len - p - 5) {
      failLit("arguments").str("record at byte ").i32(p).str(" runs past the end");
      return -1;
    }
    const data = textRegion + <usize>(p + 5);
    if (kind == 1) {
      if (argCount >= ARG_MAX) {
        failLit("arguments").str("more than ").i32(ARG_MAX).str(" arguments");
        return -1;
      }
      const r = argRow(argCount++);
      store<i32>(r + A_PTR, <i32>data);
      store<i32>(r + A_LEN, n);
      store<i32>(r + A_USED, 0);
      store<i32>(r + A_FILE, 0);
      store<i32>(r + A_FILE_LEN, -1);
    } else if (kind == 2 && argCount > 0) {
      const r = argRow(argCount - 1);
      store<i32>(r + A_FILE, <i32>data);
      store<i32>(r + A_FILE_LEN, n);
    } else {
      failLit("arguments").str("record at byte ").i32(p).str(" has kind ").i32(kind)
        .str(kind == 2 ? " before any argument" : " (1 argument, 2 file contents)");
      return -1;
    }
    p += 5 + n;
  }
  return 0;
}

/** Splits "--flag=value" / "--flag value" for our flags; marks what it used. 0 or -1. */
function collect(): i32 {
  memory.fill(flagCount, 0, F_COUNT * 4);
  legacy = false;
  for (let i = 0; i < argCount; i++) {
    const p = argPtr(i);
    const n = argLen(i);
    const eq = spanStarts(p, n, "--") ? spanFind(p, n, 0x3d) : -1;
    const fn = eq > 0 ? eq : n;
    if (spanIs(p, fn, "--legacy-iid")) {
      if (eq > 0) {
        failLit("--legacy-iid").str("takes no value");
        return -1;
      }
      legacy = true;
      markUsed(i);
      continue;
    }
    const f = flagOf(p, fn);
    if (f < 0) continue;
    markUsed(i);
    let vp: usize;
    let vn: i32;
    let va: i32;
    if (eq > 0) {
      vp = p + <usize>(eq + 1);
      vn = n - eq - 1;
      va = i;
    } else {
      if (i + 1 >= argCount) {
        failLit(flagName(f)).str("needs a value");
        return -1;
      }
      i++;
      markUsed(i);
      vp = argPtr(i);
      vn = argLen(i);
      va = i;
    }
    const c = load<i32>(flagCount + <usize>(f * 4));
    if (f == F_BR) {
      if (c >= BR_FLAG_MAX) {
        failLit("--br").str("given more than ").i32(BR_FLAG_MAX).str(" times");
        return -1;
      }
      store<i32>(brVal + <usize>(c * 4), <i32>vp);
      store<i32>(brValLen + <usize>(c * 4), vn);
    } else if (f == F_FORWARD) {
      if (c >= FORWARD_FLAG_MAX) {
        failLit("--forward").str("given more than ").i32(FORWARD_FLAG_MAX).str(" times");
        return -1;
      }
      store<i32>(fwdVal + <usize>(c * 4), <i32>vp);
      store<i32>(fwdValLen + <usize>(c * 4), vn);
    } else if (f == F_DNS_UPSTREAM) {
      if (c >= DNS_UPSTREAM_MAX) {
        failLit("--dns-upstream").str("given more than ").i32(DNS_UPSTREAM_MAX).str(" times");
        return -1;
      }
      store<i32>(dnsUpVal + <usize>(c * 4), <i32>vp);
      store<i32>(dnsUpValLen + <usize>(c * 4), vn);
    } else if (c > 0) {
      failLit(flagName(f)).str("given more than once");
      return -1;
    }
    store<i32>(flagCount + <usize>(f * 4), c + 1);
    store<i32>(flagVal + <usize>(f * 4), <i32>vp);
    store<i32>(flagValLen + <usize>(f * 4), vn);
    store<i32>(flagArg + <usize>(f * 4), va);
  }
  return 0;
}

/** A name holding the flag's text. */
/** An on|off flag into a u8 local setting; -1 (error set) when it is neither. */
function localOnOff(f: i32, code: i32): i32 {
  const p = valPtr(f);
  const n = valLen(f);
  let v = -1;
  if (spanIs(p, n, "on")) v = 1;
  else if (spanIs(p, n, "off")) v = 0;
  if (v < 0) {
    failLit(flagName(f)).quoted(p, n).str(" is not on or off");
    return -1;
  }
  setLocal(code, <u32>v, flagNameId(f));
  return 0;
}

function flagNameId(f: i32): i32 {
  return nameLit(flagName(f));
}

// ---- --rule ----

/** Parses "--rule <v6>/<n>,<v4>/<n>,<ea>[,<offset>]" into the model. */
function ruleFlag(p: usize, n: i32): i32 {
  // The comma-separated parts (a trailing comma makes an empty last part).
  let parts = 1;
  for (let i = 0; i < n; i++) if (byteAt(p, i) == 0x2c) parts++;
  if (parts < 3 || parts > 4) {
    failLit("--rule").quoted(p, n).str(" is not <ipv6-prefix>/<len>,<ipv4-prefix>/<len>,<ea-bits>[,<psid-offset>]");
    return -1;
  }
  const c1 = spanFind(p, n, 0x2c);
  const p2 = p + <usize>(c1 + 1);
  const c2 = spanFind(p2, n - c1 - 1, 0x2c);
  const p3 = p2 + <usize>(c2 + 1);
  const rest = n - c1 - 1 - c2 - 1;
  const c3 = spanFind(p3, rest, 0x2c);
  const eaLen = c3 < 0 ? rest : c3;
  const r = changetype<MRule>(addRule());
  ruleNames(r, nameLit("--rule"));
  r.nV6 = r.nV6len = nameLit("--rule IPv6 prefix");
  r.nV4 = r.nV4len = nameLit("--rule IPv4 prefix");
  r.nEa = nameLit("--rule EA bits");
  r.nOffset = nameLit("--rule PSID offset");
  if (!parsePrefix6(p, c1, v6Ptr(r))) {
    failLit("--rule IPv6 prefix").out(addrError);
    return -1;
  }
  r.v6len = parsedLen;
  if (!parsePrefix4(p2, c2)) {
    failLit("--rule IPv4 prefix").out(addrError);
    return -1;
  }
  r.v4 = parsedV4;
  r.v4len = parsedLen;
  const ea = spanDecimal(p3, eaLen, 255);
  if (ea < 0) {
    failLit("--rule EA bits").quoted(p3, eaLen).str(" is not an integer from 0 to 255");
    return -1;
  }
  r.ea = <i32>ea;
  if (c3 >= 0) {
    const p4 = p3 + <usize>(c3 + 1);
    const n4 = rest - c3 - 1;
    const off = spanDecimal(p4, n4, 255);
    if (off < 0) {
      failLit("--rule PSID offset").quoted(p4, n4).str(" is not an integer from 0 to 255");
      return -1;
    }
    if (off != 6) {
      r.pp = 1;
      r.offset = <i32>off;
    }
  }
  setType(TYPE_MAPE);
  const rule = nameLit("--rule");
  setMissing(rule, nameLit("--br"), rule, nameLit("--prefix"));
  return 0;
}

// ---- --dhcpv6 <hex> ----

const HEX_MAX: i32 = CONFIG_BUFFER_SIZE;
const hexBytes: usize = memory.data(HEX_MAX, 8);

@inline function hexNibble(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Hex text → hexBytes. Spaces, ':', '.', '-' and a leading 0x are ignored. The count, or -1. */
function parseHex(p: usize, n: i32, field: string): i32 {
  let s = 0;
  let e = n;
  while (s < e && isSpaceByte(byteAt(p, s))) s++;
  while (e > s && isSpaceByte(byteAt(p, e - 1))) e--;
  if (e - s >= 2 && byteAt(p, s) == 0x30 && (byteAt(p, s + 1) | 0x20) == 0x78) s += 2;
  let digits = 0;
  for (let i = s; i < e; i++) {
    const c = byteAt(p, i);
    if (isSpaceByte(c) || c == 0x3a || c == 0x2e || c == 0x2d) continue;
    if (hexNibble(c) < 0) {
      failLit(field).quoted(p + <usize>i, c >= 0x80 ? utf8Len(p, i, e) : 1).str(" is not a hex digit");
      return -1;
    }
    digits++;
  }
  if (digits == 0) {
    failLit(field).str("no bytes");
    return -1;
  }
  if (digits & 1) {
    failLit(field).str("odd number of hex digits (").i32(digits).str(")");
    return -1;
  }
  if (digits / 2 > HEX_MAX) {
    failLit(field).i32(digits / 2).str(" bytes do not fit the module's ").i32(HEX_MAX).str("-byte buffer");
    return -1;
  }
  let k = 0;
  let hi = -1;
  for (let i = s; i < e; i++) {
    const d = hexNibble(byteAt(p, i));
    if (d < 0) continue;
    if (hi < 0) hi = d;
    else {
      store<u8>(hexBytes + <usize>k, <u8>((hi << 4) | d));
      k++;
      hi = -1;
    }
  }
  return k;
}

function utf8Len(p: usize, i: i32, e: i32): i32 {
  let k = i + 1;
  while (k < e && (byteAt(p, k) & 0xc0) == 0x80) k++;
  return k - i;
}

/** The configure() buffer from hex: IAPREFIX and local settings, then the user's bytes. */
function encodeHex(p: usize, n: i32, containerType: i32, prefix: usize, prefixLen: i32, hasPrefix: bool): i32 {
  const count = parseHex(p, n, "--dhcpv6");
  if (count < 0) return -1;
  setBinary(true);
  const field = flagNameId(F_DHCPV6);
  const prefixName = nameLit("--prefix");
  setMissing(field, field, field, prefixName);
  // Our options go first and the user's bytes last, so that a length in the
  // user's hex that runs too far runs off the end of the buffer (TRUNCATED at
  // the user's byte) instead of into options the user never wrote.
  if (hasPrefix) writeIaPrefix(prefix, prefixLen, prefixName);
  if (!writeLocal()) return -1;
  const first = count >= 2 ? (<i32>load<u8>(hexBytes) << 8) | <i32>load<u8>(hexBytes + 1) : -1;
  const isContainer = first == TYPE_MAPE || first == TYPE_MAPT || first == TYPE_LW;
  const isPayload = first == OPTION_S46_RULE || first == OPTION_S46_BR || first == OPTION_S46_DMR || first == OPTION_S46_V4V6BIND;
  if (!isContainer && isPayload) {
    let type = containerType;
    if (type == 0) type = first == OPTION_S46_V4V6BIND ? TYPE_LW : TYPE_MAPE;
    if (count > 0xffff) {
      failLit("--dhcpv6").str("payload longer than 65535 bytes");
      return -1;
    }
    const b = nameBegin();
    names.str("--dhcpv6 (the ").str(type == TYPE_MAPE ? "map-e" : type == TYPE_MAPT ? "map-t" : "lw4o6")
      .str(" container header added around the payload)");
    const headerName = nameEnd(b);
    const at = optionBegin(type);
    // optionBegin wrote a zero length: fill it with the payload's.
    patchLength(at, count);
    span(at, at + 4, headerName, -1);
  }
  const start = encodedPos();
  wBytes(hexBytes, count);
  span(start, start + count, field, 0);
  return finish();
}

function encodedPos(): i32 { return encodedLength(); }
function patchLength(at: i32, len: i32): void {
  store<u8>(configBufferPtr() + <usize>(at + 2), <u8>(len >> 8));
  store<u8>(configBufferPtr() + <usize>(at + 3), <u8>len);
}

// ---- Local-settings flags ----

/** Parses a decimal flag value into a LOCAL code; the width check is the encoder's, the range configure()'s. */
function localNumber(f: i32, code: i32, max: i64, range: string): i32 {
  const p = valPtr(f);
  const n = valLen(f);
  const v = spanDecimal(p, n, max);
  if (v < 0) {
    failLit(flagName(f)).quoted(p, n).str(" is not an integer from ").str(range);
    return -1;
  }
  setLocal(code, <u32>v, flagNameId(f));
  return 0;
}

/** Largest session limit (LOCAL MAX_SESSIONS_PER_HOST / _PER_MAPPING; 0 = no limit). */
export const MAX_SESSION_LIMIT: i64 = 4194304;

/** `--max-sessions-per-host <n>` / `--max-sessions-per-mapping <n>`: 0 (no limit) to MAX_SESSION_LIMIT. */
function sessionLimit(f: i32, code: i32): i32 {
  const p = valPtr(f);
  const n = valLen(f);
  const v = n <= 7 ? spanDecimal(p, n, MAX_SESSION_LIMIT) : -1;
  if (v < 0) {
    failLit(flagName(f)).quoted(p, n).str(" is not a number of sessions from 0 (no limit) to ").u64(<u64>MAX_SESSION_LIMIT);
    return -1;
  }
  setLocal(code, <u32>v, flagNameId(f));
  return 0;
}

function localFlags(): i32 {
  if (given(F_TUNNEL_MTU) && localNumber(F_TUNNEL_MTU, LOCAL_TUNNEL_MTU, 65535, "1280 to 9000") < 0) return -1;
  if (given(F_HOP_LIMIT) && localNumber(F_HOP_LIMIT, LOCAL_HOP_LIMIT, 255, "1 to 255") < 0) return -1;
  if (given(F_FILTERING)) {
    const p = valPtr(F_FILTERING);
    const n = valLen(F_FILTERING);
    let v = -1;
    if (spanIs(p, n, "endpoint-independent")) v = 0;
    else if (spanIs(p, n, "address-dependent")) v = 1;
    else if (spanIs(p, n, "address-and-port-dependent")) v = 2;
    if (v < 0) {
      failLit("--filtering").quoted(p, n).str(" is not endpoint-independent, address-dependent or address-and-port-dependent");
      return -1;
    }
    setLocal(LOCAL_FILTERING, <u32>v, flagNameId(F_FILTERING));
  }
  if (given(F_MSS_CLAMP)) {
    const p = valPtr(F_MSS_CLAMP);
    const n = valLen(F_MSS_CLAMP);
    let v: i64 = -1;
    if (spanIs(p, n, "off")) v = 0;
    else if (spanIs(p, n, "auto")) v = 1;
    else {
      v = spanDecimal(p, n, 65535);
      if (v < 536) v = -1;
    }
    if (v < 0) {
      failLit("--mss-clamp").quoted(p, n).str(" is not off, auto or an MSS from 536 to 65535");
      return -1;
    }
    setLocal(LOCAL_MSS_CLAMP, <u32>v, flagNameId(F_MSS_CLAMP));
  }
  if (given(F_TC_FROM_TOS) && localOnOff(F_TC_FROM_TOS, LOCAL_TC_FROM_TOS) < 0) return -1;
  if (given(F_INNER_FRAGMENTATION) && localOnOff(F_INNER_FRAGMENTATION, LOCAL_INNER_FRAGMENTATION) < 0) return -1;
  if (given(F_PPTP) && localOnOff(F_PPTP, LOCAL_PPTP) < 0) return -1;
  if (given(F_BR_PPTP) && localOnOff(F_BR_PPTP, LOCAL_BR_PPTP) < 0) return -1;
  if (given(F_UDP_TIMEOUT) && localNumber(F_UDP_TIMEOUT, LOCAL_UDP_TIMEOUT, 4294967295, "120 to 86400 (seconds)") < 0) return -1;
  if (given(F_DNS_TIMEOUT) && localNumber(F_DNS_TIMEOUT, LOCAL_DNS_TIMEOUT, 4294967295, "1 to 86400 (seconds)") < 0) return -1;
  if (given(F_TCP_ESTABLISHED_TIMEOUT) && localNumber(F_TCP_ESTABLISHED_TIMEOUT, LOCAL_TCP_ESTABLISHED_TIMEOUT, 4294967295, "7440 to 604800 (seconds)") < 0) return -1;
  if (given(F_TCP_TRANSITORY_TIMEOUT) && localNumber(F_TCP_TRANSITORY_TIMEOUT, LOCAL_TCP_TRANSITORY_TIMEOUT, 4294967295, "240 to 86400 (seconds)") < 0) return -1;
  if (given(F_ICMP_TIMEOUT) && localNumber(F_ICMP_TIMEOUT, LOCAL_ICMP_TIMEOUT, 4294967295, "60 to 86400 (seconds)") < 0) return -1;
  if (given(F_MAX_SESSIONS_PER_HOST) && sessionLimit(F_MAX_SESSIONS_PER_HOST, LOCAL_MAX_SESSIONS_PER_HOST) < 0) return -1;
  if (given(F_MAX_SESSIONS_PER_MAPPING) && sessionLimit(F_MAX_SESSIONS_PER_MAPPING, LOCAL_MAX_SESSIONS_PER_MAPPING) < 0) return -1;
  // FTP ALG (datapath/ftp.ts): on/off and the control connections' TCP port.
  if (given(F_FTP_ALG) && localOnOff(F_FTP_ALG, LOCAL_FTP_ALG) < 0) return -1;
  if (given(F_FTP_PORT)) {
    const p = valPtr(F_FTP_PORT);
    const n = valLen(F_FTP_PORT);
    const v = spanDecimal(p, n, 65535);
    if (v < 1) { failLit("--ftp-port").quoted(p, n).str(" is not a TCP port from 1 to 65535"); return -1; }
    setLocal(LOCAL_FTP_PORT, <u32>v, flagNameId(F_FTP_PORT));
  }
  // `--forward <tcp|udp>:<ext>=<ipv4>[:<port>]`, repeatable: added to the source's forwards.
  const nf = load<i32>(flagCount + <usize>(F_FORWARD * 4));
  for (let i = 0; i < nf; i++) {
    if (forwardText(<usize>load<i32>(fwdVal + <usize>(i * 4)), load<i32>(fwdValLen + <usize>(i * 4)),
      flagNameId(F_FORWARD)) < 0) return -1;
  }
  if (given(F_FAIR_SHARE) && localOnOff(F_FAIR_SHARE, LOCAL_FAIR_SHARE) < 0) return -1;
  if (given(F_FAIR_RESERVE) && localNumber(F_FAIR_RESERVE, LOCAL_FAIR_RESERVE, 4096, "0 to 4096 (ports)") < 0) return -1;
  if (given(F_PORT_REUSE)) {
    const p = valPtr(F_PORT_REUSE);
    const n = valLen(F_PORT_REUSE);
    let v = -1;
    if (spanIs(p, n, "off")) v = PORT_REUSE_OFF;
    else if (spanIs(p, n, "on")) v = PORT_REUSE_ON;
    else if (spanIs(p, n, "auto")) v = PORT_REUSE_AUTO;
    if (v < 0) {
      failLit("--port-reuse").quoted(p, n).str(" is not on, off or auto");
      return -1;
    }
    setLocal(LOCAL_PORT_REUSE, <u32>v, flagNameId(F_PORT_REUSE));
  }
  return dnsFlags();
}

/**
 * `--dns-proxy <lan-ipv4>[:port]` and `--dns-upstream <ipv6>` (repeatable):
 * the DNS proxy's LAN address and its upstream resolvers (LOCAL
 * DNS_PROXY_ADDRESS, DNS_PROXY_PORT, DNS_UPSTREAM; assembly/dns/proxy.ts).
 */
function dnsFlags(): i32 {
  if (given(F_DNS_PROXY)) {
    if (lastMode == 2) {
      failLit("--dns-proxy").str("is for a CE (it answers the LAN's DNS)");
      return -1;
    }
    const p = valPtr(F_DNS_PROXY);
    const n = valLen(F_DNS_PROXY);
    const colon = spanFind(p, n, 0x3a);
    const an = colon < 0 ? n : colon;
    if (!parseIPv4(p, an)) {
      failLit("--dns-proxy").out(addrError);
      return -1;
    }
    const addr = parsedV4;
    if (addr == 0) {
      failLit("--dns-proxy").str("0.0.0.0 is not an address to answer on (give the CE's LAN address)");
      return -1;
    }
    let port: i64 = 53;
    if (colon >= 0) {
      port = spanDecimal(p + <usize>(colon + 1), n - colon - 1, 65535);
      if (port < 1) {
        failLit("--dns-proxy").quoted(p + <usize>(colon + 1), n - colon - 1).str(" is not a port from 1 to 65535");
        return -1;
      }
    }
    setLocal(LOCAL_DNS_PROXY_ADDRESS, addr, flagNameId(F_DNS_PROXY));
    setLocal(LOCAL_DNS_PROXY_PORT, <u32>port, flagNameId(F_DNS_PROXY));
  }
  const nup = load<i32>(flagCount + <usize>(F_DNS_UPSTREAM * 4));
  if (nup > 0) {
    if (lastMode == 2) {
      failLit("--dns-upstream").str("is for a CE (the DNS proxy's resolvers)");
      return -1;
    }
    for (let i = 0; i < nup; i++) {
      const p = <usize>load<i32>(dnsUpVal + <usize>(i * 4));
      const n = load<i32>(dnsUpValLen + <usize>(i * 4));
      const b = nameBegin();
      names.str("--dns-upstream");
      if (nup > 1) names.str(" #").i32(i + 1);
      const name = nameEnd(b);
      if (!parseIPv6(p, n, dnsUpstreamAt(i))) {
        failAt(name).out(addrError);
        return -1;
      }
    }
    setLocal(LOCAL_DNS_UPSTREAM, <u32>nup, flagNameId(F_DNS_UPSTREAM));
  }
  return 0;
}

// ---- The built-in default ----

/** The JANOG Softwire WG interop rule, 15 ports a home (docs/config.md). */
const DEFAULT_JSON = "{\"type\": \"map-e\", \"rules\": [{\"ipv6Prefix\": \"2403:9200::/32\", \"ipv4Prefix\": \"203.86.225.0/28\", \"eaLength\": 16, \"psidOffset\": 4}], \"br\": \"2403:9200:fff0::2\", \"endUserPrefix\": \"2403:9200:1234::/48\"}";
const defaultRegion: usize = memory.data(256, 8);
for (let i = 0; i < DEFAULT_JSON.length; i++) store<u8>(defaultRegion + <usize>i, <u8>DEFAULT_JSON.charCodeAt(i));

// ---- The entry ----

const prefixBuf: usize = memory.data(16, 8);
const brBuf: usize = memory.data(16, 8);

function modeName(mode: i32): i32 {
  return nameLit(mode == 1 ? "mode ce" : mode == 2 ? "mode br" : "mode calc");
}

/** A file's contents attached to the value of flag f, or -1 (error set). */
function fileOf(f: i32): i32 {
  const a = load<i32>(flagArg + <usize>(f * 4));
  if (load<i32>(argRow(a) + A_FILE_LEN) < 0) {
    failLit(flagName(f)).str("the contents of ").quoted(valPtr(f), valLen(f)).str(" were not given (the host reads the file)");
    return -1;
  }
  return a;
}

/**
 * configFromArgs(len, mode): the records of the text buffer → option bytes in
 * the configuration buffer. The encoded length, or -1 with configErrorText set.
 */
export function configFromRecords(len: i32, mode: i32): i32 {
  modelReset();
  encodeReset();
  rulesForget();
  labelName = NAME_NONE;
  lastMode = mode;
  uciTunlinkReset();
  if (readRecords(len) < 0 || collect() < 0) return -1;
  // One source at a time, named in this order (as the Node host always did).
  let first = -1;
  const sources: i32[] = [F_CONFIG, F_DHCPV6, F_UCI, F_RULE, F_RULES];
  for (let k = 0; k < 5; k++) {
    const f = unchecked(sources[k]);
    if (!given(f)) continue;
    if (first >= 0) {
      failLit(flagName(f)).str("cannot be combined with ").str(flagName(first)).str(" (one configuration source at a time)");
      return -1;
    }
    first = f;
  }
  if (given(F_INTERFACE) && !given(F_UCI)) { failLit("--interface").str("goes with --uci"); return -1; }
  if (given(F_UCI) && !given(F_INTERFACE)) { failLit("--uci").str("needs --interface <name> (the map interface's section name)"); return -1; }
  if (given(F_DHCPV6_TYPE) && !given(F_DHCPV6)) { failLit("--dhcpv6-type").str("goes with --dhcpv6"); return -1; }
  if (given(F_RULES_FORMAT) && !given(F_RULES)) { failLit("--rules-format").str("goes with --rules"); return -1; }
  if (given(F_BR) && first != F_RULE && first >= 0) { failLit("--br").str("goes with --rule (the other sources carry their BRs)"); return -1; }

  let prefixLen = -1;
  if (given(F_PREFIX)) {
    if (!parsePrefix6(valPtr(F_PREFIX), valLen(F_PREFIX), prefixBuf)) {
      failLit("--prefix").out(addrError);
      return -1;
    }
    prefixLen = parsedLen;
  }
  let dhcpType = 0;
  if (given(F_DHCPV6_TYPE)) {
    const p = valPtr(F_DHCPV6_TYPE);
    const n = valLen(F_DHCPV6_TYPE);
    if (spanIs(p, n, "map-e")) dhcpType = TYPE_MAPE;
    else if (spanIs(p, n, "map-t")) dhcpType = TYPE_MAPT;
    else if (spanIs(p, n, "lw4o6")) dhcpType = TYPE_LW;
    else {
      failLit("--dhcpv6-type").quoted(p, n).str(" is not map-e, map-t or lw4o6");
      return -1;
    }
  }

  if (first == F_DHCPV6 && !looksLikeRuleString(valPtr(F_DHCPV6), valLen(F_DHCPV6))) {
    labelName = nameLit("--dhcpv6");
    setLocal(LOCAL_MODE, <u32>mode, modeName(mode));
    if (legacy) setLocal(LOCAL_LEGACY_IID, 1, nameLit("--legacy-iid"));
    if (localFlags() < 0) return -1;
    if (prefixLen >= 0) setPrefix(prefixBuf, prefixLen, nameLit("--prefix"));
    return encodeHex(valPtr(F_DHCPV6), valLen(F_DHCPV6), dhcpType, prefixBuf, prefixLen, prefixLen >= 0);
  }
  let e = 0;
  if (first == F_CONFIG) {
    const a = fileOf(F_CONFIG);
    if (a < 0) return -1;
    const b = nameBegin();
    names.raw(valPtr(F_CONFIG), valLen(F_CONFIG));
    const file = nameEnd(b);
    e = parseJsonConfig(<usize>load<i32>(argRow(a) + A_FILE), load<i32>(argRow(a) + A_FILE_LEN), file);
    const lb = nameBegin();
    names.str("--config ").esc(valPtr(F_CONFIG), valLen(F_CONFIG));
    labelName = nameEnd(lb);
  } else if (first == F_DHCPV6) {
    e = parseRuleStringSource(valPtr(F_DHCPV6), valLen(F_DHCPV6), flagNameId(F_DHCPV6), dhcpType, legacy, prefixLen);
    labelName = nameLit("--dhcpv6");
  } else if (first == F_UCI) {
    const a = fileOf(F_UCI);
    if (a < 0) return -1;
    const b = nameBegin();
    names.raw(valPtr(F_UCI), valLen(F_UCI));
    const file = nameEnd(b);
    e = parseUciSource(<usize>load<i32>(argRow(a) + A_FILE), load<i32>(argRow(a) + A_FILE_LEN), file,
      valPtr(F_INTERFACE), valLen(F_INTERFACE), prefixLen);
    const lb = nameBegin();
    names.str("--uci ").esc(valPtr(F_UCI), valLen(F_UCI)).str(" --interface ").esc(valPtr(F_INTERFACE), valLen(F_INTERFACE));
    labelName = nameEnd(lb);
  } else if (first == F_RULE) {
    e = ruleFlag(valPtr(F_RULE), valLen(F_RULE));
    labelName = nameLit("--rule");
  } else if (first == F_RULES) {
    // An HB46PP, v6plus or OCN rule answer (config/rules.ts).
    const a = fileOf(F_RULES);
    if (a < 0) return -1;
    let format = FORMAT_AUTO;
    if (given(F_RULES_FORMAT)) {
      const p = valPtr(F_RULES_FORMAT);
      const n = valLen(F_RULES_FORMAT);
      format = spanIs(p, n, "hb46pp") ? FORMAT_HB46PP : spanIs(p, n, "v6plus") ? FORMAT_V6PLUS : spanIs(p, n, "ocn") ? FORMAT_OCN : -1;
      if (format < 0) {
        failLit("--rules-format").quoted(p, n).str(" is not hb46pp, v6plus or ocn");
        return -1;
      }
    }
    e = rulesIntoModel(<usize>load<i32>(argRow(a) + A_FILE), load<i32>(argRow(a) + A_FILE_LEN), format, mode,
      prefixBuf, prefixLen, valPtr(F_RULES), valLen(F_RULES));
    const lb = nameBegin();
    names.str("--rules ").esc(valPtr(F_RULES), valLen(F_RULES));
    labelName = nameEnd(lb);
  } else {
    e = parseJsonConfig(defaultRegion, DEFAULT_JSON.length, nameLit("built-in default"));
    labelName = nameLit("built-in default");
  }
  if (e < 0) return -1;
  const nbr = brCountGiven();
  for (let i = 0; i < nbr; i++) {
    const p = <usize>load<i32>(brVal + <usize>(i * 4));
    const n = load<i32>(brValLen + <usize>(i * 4));
    const b = nameBegin();
    names.str("--br");
    if (nbr > 1) names.str(" #").i32(i + 1);
    const name = nameEnd(b);
    if (!parseIPv6(p, n, brBuf)) {
      failAt(name).out(addrError);
      return -1;
    }
    if (!addBr(brBuf, name)) {
      moduleMessage(failAt(name), E.ERR_TOO_MANY_BRS);
      return -1;
    }
  }
  if (prefixLen >= 0) {
    const n = nameLit("--prefix");
    setPrefix(prefixBuf, prefixLen, n);
    setMissingPrefix(n);
  } else if (mHasPrefix) {
    setMissingPrefix(mPrefixName);
  }
  if (legacy) setLocal(LOCAL_LEGACY_IID, 1, nameLit("--legacy-iid"));
  setLocal(LOCAL_MODE, <u32>mode, modeName(mode));
  if (localFlags() < 0) return -1;
  return encodeModel();
}

