// OpenWrt's two MAP configuration formats → the model.
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
// 2. /etc/config/network (UCI, uci(5)): a `config interface` section with
//    `option proto 'map'`. netifd's map.sh turns its options into one rule
//    (type, ipv6prefix/prefix6len from ip6prefix/ip6prefixlen,
//    ipv4prefix/prefix4len from ipaddr/ip4prefixlen [32], psid, psidlen,
//    offset, ealen, br or dmr from peeraddr) unless `option rule` gives one;
//    mtu [1280] and ttl [64] set the tunnel; legacymap selects the pre-RFC
//    interface id, and mapcalc then defaults the PSID offset to 4 instead of 6
//    (lw4o6: 0).
//
// Both fill the same key slots (one rule at a time), so they default alike.
// Names: a rule string's field is "<where> ealen"; a UCI option's
// "<file>:<line> option ealen".
import { forwardText } from "./forward";
import { Out, newOut, byteAt, spanIs, spanDecimal, isSpaceByte } from "./text";
import { addrError, parseIPv4, parseIPv6, parsePrefix6, parsedV4, parsedLen, isMasked6, maskPrefix6, formatIPv6 } from "./ip";
import { names, nameBegin, nameEnd, nameLit, nameAppend, nameStart, nameLength, failAt, NAME_NONE,
  MRule, addRule, addBinding, ruleNames, v6Ptr, addBr, hasBr, setDmr, setLocal, setType, setMissing,
  setMissingBr, setMissingDmr, mHasBinding, TYPE_MAPE, TYPE_MAPT, TYPE_LW } from "./model";
import { moduleMessage } from "./encode";
import { LOCAL_LEGACY_IID, LOCAL_TUNNEL_MTU, LOCAL_HOP_LIMIT } from "../settings";
import * as E from "../map/errors";

// ---- Key slots of one rule ----
const K_TYPE = 0;
const K_EALEN = 1;
const K_PREFIX4LEN = 2;
const K_PREFIX6LEN = 3;
const K_IPV6PREFIX = 4;
const K_IPV4PREFIX = 5;
const K_OFFSET = 6;
const K_PSIDLEN = 7;
const K_PSID = 8;
const K_DMR = 9;
const K_COUNT = 10;

function keyText(k: i32): string {
  switch (k) {
    case K_TYPE: return "type";
    case K_EALEN: return "ealen";
    case K_PREFIX4LEN: return "prefix4len";
    case K_PREFIX6LEN: return "prefix6len";
    case K_IPV6PREFIX: return "ipv6prefix";
    case K_IPV4PREFIX: return "ipv4prefix";
    case K_OFFSET: return "offset";
    case K_PSIDLEN: return "psidlen";
    case K_PSID: return "psid";
    case K_DMR: return "dmr";
  }
  return "";
}

const slotPtr: usize = memory.data(K_COUNT * 4, 8);
const slotLen: usize = memory.data(K_COUNT * 4, 8);
const slotName: usize = memory.data(K_COUNT * 4, 8);
const BR_SLOTS: i32 = 32;
const brPtrs: usize = memory.data(BR_SLOTS * 4, 8);
const brLens: usize = memory.data(BR_SLOTS * 4, 8);
const brNamesSlot: usize = memory.data(BR_SLOTS * 4, 8);
let brSlots = 0;
let fmr = false;
let ruleLabel = NAME_NONE;
let firstType = 0;
let ruleIndex = 0;

function slotsReset(label: i32): void {
  memory.fill(slotLen, 0xff, K_COUNT * 4); // -1: absent
  brSlots = 0;
  fmr = false;
  ruleLabel = label;
}
function has(k: i32): bool { return load<i32>(slotLen + <usize>(k * 4)) >= 0; }
function sp(k: i32): usize { return <usize>load<i32>(slotPtr + <usize>(k * 4)); }
function sl(k: i32): i32 { return load<i32>(slotLen + <usize>(k * 4)); }
function sn(k: i32): i32 { return load<i32>(slotName + <usize>(k * 4)); }
function put(k: i32, p: usize, n: i32, name: i32): void {
  store<i32>(slotPtr + <usize>(k * 4), <i32>p);
  store<i32>(slotLen + <usize>(k * 4), n);
  store<i32>(slotName + <usize>(k * 4), name);
}
function putBr(p: usize, n: i32, name: i32): bool {
  if (brSlots >= BR_SLOTS) return false;
  store<i32>(brPtrs + <usize>(brSlots * 4), <i32>p);
  store<i32>(brLens + <usize>(brSlots * 4), n);
  store<i32>(brNamesSlot + <usize>(brSlots * 4), name);
  brSlots++;
  return true;
}

/** The name of key k of the current rule: its value's name, else "<label> <key>". */
function keyName(k: i32): i32 {
  if (has(k)) return sn(k);
  const b = nameBegin();
  nameAppend(ruleLabel);
  names.byte(0x20).str(keyText(k));
  return nameEnd(b);
}

/** Is this text an OpenWrt rule string (rather than hex)? */
export function looksLikeRuleString(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const c = byteAt(p, i);
    if (c == 0x3d || c == 0x2c) return true;
  }
  return false;
}

/**
 * An integer as mapcalc reads it (strtoul(…, 0): decimal, 0x hex), trimmed,
 * at most max; -2 when the key is absent, -1 on error (set).
 */
function integer(k: i32, max: i64): i64 {
  if (!has(k)) return -2;
  let p = sp(k);
  let n = sl(k);
  const op = p;
  const on = n;
  while (n > 0 && isSpaceByte(byteAt(p, 0))) { p++; n--; }
  while (n > 0 && isSpaceByte(byteAt(p, n - 1))) n--;
  let v: i64 = -1;
  if (n > 2 && byteAt(p, 0) == 0x30 && (byteAt(p, 1) | 0x20) == 0x78) {
    v = 0;
    for (let i = 2; i < n; i++) {
      const c = byteAt(p, i) | 0x20;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
      if (d < 0 || v > max) { v = -1; break; }
      v = v * 16 + d;
    }
  } else {
    v = spanDecimal(p, n, 1 << 40);
  }
  if (v < 0 || v > max) {
    failAt(sn(k)).quoted(op, on).str(" is not an integer from 0 to ").u64(<u64>max);
    return -1;
  }
  return v;
}

function typeCode(k: i32): i32 {
  if (!has(k)) return TYPE_MAPE;
  const p = sp(k);
  const n = sl(k);
  if (spanIs(p, n, "map-e")) return TYPE_MAPE;
  if (spanIs(p, n, "map-t")) return TYPE_MAPT;
  if (spanIs(p, n, "lw4o6")) return TYPE_LW;
  failAt(sn(k)).quoted(p, n).str(" is not map-e, map-t or lw4o6");
  return -1;
}

function typeText(t: i32): string {
  return t == TYPE_MAPT ? "map-t" : t == TYPE_LW ? "lw4o6" : "map-e";
}

const tmp6: usize = memory.data(16, 8);
const masked6: usize = memory.data(16, 8);

/** ipv6prefix with prefix6len, or "addr/len" alone → the rule's IPv6 prefix. */
function prefix6(r: MRule): i32 {
  const missing = keyName(K_IPV6PREFIX);
  if (!has(K_IPV6PREFIX)) {
    failAt(missing).str("is required");
    return -1;
  }
  const p = sp(K_IPV6PREFIX);
  const n = sl(K_IPV6PREFIX);
  let slash = false;
  for (let i = 0; i < n; i++) if (byteAt(p, i) == 0x2f) slash = true;
  if (slash) {
    if (!parsePrefix6(p, n, v6Ptr(r))) {
      failAt(missing).out(addrError);
      return -1;
    }
    const plen = parsedLen;
    const len = integer(K_PREFIX6LEN, 128);
    if (len == -1) return -1;
    if (len >= 0 && len != plen) {
      failAt(sn(K_PREFIX6LEN)).i32(<i32>len).str(" disagrees with the /").i32(plen).str(" of ")
        .esc(nameStart(missing), nameLength(missing));
      return -1;
    }
    r.v6len = plen;
    return 0;
  }
  const len = integer(K_PREFIX6LEN, 128);
  if (len == -1) return -1;
  if (len < 0) {
    failAt(keyName(K_PREFIX6LEN)).str("the IPv6 prefix length is required");
    return -1;
  }
  if (!parseIPv6(p, n, v6Ptr(r))) {
    failAt(missing).out(addrError);
    return -1;
  }
  // OpenWrt users often paste the whole delegated prefix into ip6prefix; the rule takes its first bits.
  if (!isMasked6(v6Ptr(r), <i32>len)) {
    maskPrefix6(masked6, v6Ptr(r), <i32>len);
    const o = failAt(missing).quoted(p, n).str(" has bits set past /").i32(<i32>len).str(" (did you mean ");
    formatIPv6(o, masked6);
    o.str("?)");
    return -1;
  }
  r.v6len = <i32>len;
  return 0;
}

/** The current slots → one rule (or the binding) of the model. */
function slotsToModel(legacy: bool, euLen: i32): i32 {
  const type = typeCode(K_TYPE);
  if (type < 0) return -1;
  if (ruleIndex == 0) {
    firstType = type;
    setType(type);
  } else if (type != firstType) {
    failAt(has(K_TYPE) ? sn(K_TYPE) : ruleLabel).str("mixes ").str(typeText(type)).str(" with ").str(typeText(firstType)).str(" rules");
    return -1;
  }
  ruleIndex++;
  let r: MRule;
  if (type == TYPE_LW) {
    if (mHasBinding) {
      failAt(ruleLabel).str("an lw4o6 configuration has one binding only");
      return -1;
    }
    r = addBinding();
  } else {
    const nr = addRule();
    if (nr === null) {
      moduleMessage(failAt(ruleLabel), E.ERR_TOO_MANY_RULES);
      return -1;
    }
    r = nr;
  }
  r.nRule = ruleLabel;
  const fb = nameBegin();
  nameAppend(ruleLabel);
  names.str(" fmr");
  r.nForwarding = nameEnd(fb);
  r.nEa = keyName(K_EALEN);
  r.nV4 = keyName(K_IPV4PREFIX);
  r.nV4len = keyName(K_PREFIX4LEN);
  r.nV6 = keyName(K_IPV6PREFIX);
  r.nV6len = keyName(K_PREFIX6LEN);
  r.nOffset = keyName(K_OFFSET);
  r.nPsidLength = keyName(K_PSIDLEN);
  r.nPsid = keyName(K_PSID);
  if (prefix6(r) < 0) return -1;
  if (!has(K_IPV4PREFIX)) {
    failAt(r.nV4).str("is required");
    return -1;
  }
  if (!parseIPv4(sp(K_IPV4PREFIX), sl(K_IPV4PREFIX))) {
    failAt(r.nV4).out(addrError);
    return -1;
  }
  r.v4 = parsedV4;
  const p4 = integer(K_PREFIX4LEN, 255);
  if (p4 == -1) return -1;
  r.v4len = p4 < 0 ? 32 : <i32>p4;
  const off = integer(K_OFFSET, 255);
  if (off == -1) return -1;
  const k = integer(K_PSIDLEN, 255);
  if (k == -1) return -1;
  const psid = integer(K_PSID, 65535);
  if (psid == -1) return -1;
  const offset = off >= 0 ? <i32>off : type == TYPE_LW ? 0 : legacy ? 4 : 6;
  if (k >= 0 || psid >= 0 || offset != 6) {
    r.pp = 1;
    r.offset = offset;
    r.psidLength = k < 0 ? 0 : <i32>k;
    r.psid16 = psid < 0 ? 0 : <i32>psid;
  }
  for (let i = 0; i < brSlots; i++) {
    const name = load<i32>(brNamesSlot + <usize>(i * 4));
    if (!parseIPv6(<usize>load<i32>(brPtrs + <usize>(i * 4)), load<i32>(brLens + <usize>(i * 4)), tmp6)) {
      failAt(name).out(addrError);
      return -1;
    }
    if (hasBr(tmp6)) continue;
    if (!addBr(tmp6, name)) {
      moduleMessage(failAt(name), E.ERR_TOO_MANY_BRS);
      return -1;
    }
  }
  if (has(K_DMR)) {
    if (type != TYPE_MAPT) {
      failAt(sn(K_DMR)).str("only a map-t rule has a dmr (this one is ").str(typeText(type)).str(")");
      return -1;
    }
    if (!parsePrefix6(sp(K_DMR), sl(K_DMR), tmp6)) {
      failAt(sn(K_DMR)).out(addrError);
      return -1;
    }
    setDmr(tmp6, parsedLen, sn(K_DMR));
  }
  if (type == TYPE_LW) {
    // lw4o6: PORTPARAMS only when a PSID length is given.
    if (k < 0) r.pp = 0;
    return 0;
  }
  const ea = integer(K_EALEN, 255);
  if (ea == -1) return -1;
  if (ea < 0) {
    if (euLen < 0) {
      failAt(r.nEa).str("is required (or give --prefix, whose length minus the rule's IPv6 prefix length is the EA length, as mapcalc does)");
      return -1;
    }
    r.ea = euLen - r.v6len > 0 ? euLen - r.v6len : 0;
  } else {
    r.ea = <i32>ea;
  }
  r.forwarding = fmr ? 1 : 0;
  return 0;
}

function setWhereMissing(where: i32): void {
  const bb = nameBegin();
  nameAppend(where);
  names.str(" br");
  const br = nameEnd(bb);
  const db = nameBegin();
  nameAppend(where);
  names.str(" dmr");
  setMissing(where, br, nameEnd(db), nameLit("--prefix"));
}

/**
 * Rule strings (mapcalc syntax; several rules separated by spaces) → the
 * model. `where` names the origin ("--dhcpv6", "<file>:<line> option rule").
 * `typeOverride` (a container code, 0 none) gives rules without type= one.
 */
function ruleStrings(p: usize, n: i32, where: i32, typeOverride: i32, legacy: bool, euLen: i32): i32 {
  // Count the parts first: a label says "rule i" only when there are several.
  let parts = 0;
  let i = 0;
  while (i < n) {
    while (i < n && isSpaceByte(byteAt(p, i))) i++;
    if (i >= n) break;
    parts++;
    while (i < n && !isSpaceByte(byteAt(p, i))) i++;
  }
  if (parts == 0) {
    failAt(where).str("no rule in the rule string");
    return -1;
  }
  i = 0;
  let index = 0;
  while (i < n) {
    while (i < n && isSpaceByte(byteAt(p, i))) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && !isSpaceByte(byteAt(p, i))) i++;
    let label = where;
    if (parts > 1) {
      const b = nameBegin();
      nameAppend(where);
      names.str(" rule ").i32(index + 1);
      label = nameEnd(b);
    }
    index++;
    slotsReset(label);
    // Items, comma separated; empty items (a trailing comma) are skipped.
    let j = s;
    while (j <= i) {
      let e = j;
      while (e < i && byteAt(p, e) != 0x2c) e++;
      if (e > j) {
        let eq = j;
        while (eq < e && byteAt(p, eq) != 0x3d) eq++;
        const kp = p + <usize>j;
        const kn = eq - j;
        const vp = eq < e ? p + <usize>(eq + 1) : p + <usize>e;
        const vn = eq < e ? e - eq - 1 : 0;
        let key = -1;
        for (let k = 0; k < K_COUNT; k++) if (spanIs(kp, kn, keyText(k))) key = k;
        const isFmr = spanIs(kp, kn, "fmr");
        const isBr = spanIs(kp, kn, "br");
        if (key < 0 && !isFmr && !isBr) {
          failAt(label).str("unknown rule key ").quoted(kp, kn)
            .str(" (known: type, fmr, ealen, prefix4len, prefix6len, ipv6prefix, ipv4prefix, offset, psidlen, psid, br, dmr)");
          return -1;
        }
        if (isFmr) {
          fmr = true;
        } else {
          const b = nameBegin();
          nameAppend(label);
          names.byte(0x20).raw(kp, kn);
          const name = nameEnd(b);
          if (isBr) {
            if (!putBr(vp, vn, name)) {
              moduleMessage(failAt(name), E.ERR_TOO_MANY_BRS);
              return -1;
            }
          } else {
            put(key, vp, vn, name);
          }
        }
      }
      j = e + 1;
    }
    if (typeOverride != 0 && !has(K_TYPE)) {
      const t = typeOverride == TYPE_MAPT ? "map-t" : typeOverride == TYPE_LW ? "lw4o6" : "map-e";
      put(K_TYPE, typeTextPtr(typeOverride), t.length, nameLit("--dhcpv6-type"));
    }
    if (slotsToModel(legacy, euLen) < 0) return -1;
  }
  return 0;
}

// The type names as bytes (slots point at bytes).
const typeNames: usize = memory.data(16, 8);
const TYPE_NAMES = "map-emap-tlw4o6";
for (let i = 0; i < TYPE_NAMES.length; i++) store<u8>(typeNames + <usize>i, <u8>TYPE_NAMES.charCodeAt(i));
function typeTextPtr(t: i32): usize {
  return typeNames + <usize>(t == TYPE_MAPT ? 5 : t == TYPE_LW ? 10 : 0);
}

/** --dhcpv6 '<rule string>'. */
export function parseRuleStringSource(p: usize, n: i32, where: i32, typeOverride: i32, legacy: bool, euLen: i32): i32 {
  ruleIndex = 0;
  setWhereMissing(where);
  return ruleStrings(p, n, where, typeOverride, legacy, euLen);
}

// ---------------------------------------------------------------------------
// UCI

// Decoded words (quotes and escapes resolved) live in a pool; options are rows.
const WORDS_BYTES: i32 = 128 << 10;
const wordsRegion: usize = memory.data(WORDS_BYTES, 8);
const words: Out = newOut(wordsRegion, WORDS_BYTES, memory.data(<i32>offsetof<Out>(), 8));
const OPT_MAX: i32 = 4096;
// Row: section, kind (0 section header, 1 option, 2 list), line, name start, name len, value start, value len.
const O_SECTION: usize = 0;
const O_KIND: usize = 4;
const O_LINE: usize = 8;
const O_NAME: usize = 12;
const O_NAME_LEN: usize = 16;
const O_VALUE: usize = 20;
const O_VALUE_LEN: usize = 24;
const OPT_BYTES: usize = 28;
const optRows: usize = memory.data(OPT_MAX * <i32>OPT_BYTES, 8);
let optCount = 0;
// Word offsets of the line being split (at most 4 kept; the count is exact).
const wordStart: usize = memory.data(16, 8);
const wordLen: usize = memory.data(16, 8);
let wordCount = 0;

let tunlink = NAME_NONE;
export function uciTunlinkReset(): void { tunlink = NAME_NONE; }
/** `option tunlink` of the last UCI interface (mapcalc's PD6IFACE), NAME_NONE when none. */
export function uciTunlink(): i32 { return tunlink; }

function lineName(file: i32, line: i32): i32 {
  const b = nameBegin();
  nameAppend(file);
  names.byte(0x3a).i32(line);
  return nameEnd(b);
}

/** Splits one line into words (uci(5) quoting: '…' literal, "…" and bare words with \ escapes; # comments). */
function splitWords(p: usize, n: i32, file: i32, line: i32): i32 {
  wordCount = 0;
  let i = 0;
  while (i < n) {
    const c = byteAt(p, i);
    if (c == 0x20 || c == 0x09 || c == 0x0d) { i++; continue; }
    if (c == 0x23) break;
    const start = words.len;
    while (i < n) {
      const q = byteAt(p, i);
      if (q == 0x20 || q == 0x09 || q == 0x0d) break;
      if (q == 0x27 || q == 0x22) {
        let j = i + 1;
        while (j < n && byteAt(p, j) != q) {
          if (q == 0x22 && byteAt(p, j) == 0x5c && j + 1 < n) j++;
          words.byte(byteAt(p, j));
          j++;
        }
        if (j >= n) {
          failAt(lineName(file, line)).str("unterminated ").byte(q).str(" quote");
          return -1;
        }
        i = j + 1;
      } else if (q == 0x5c && i + 1 < n) {
        words.byte(byteAt(p, i + 1));
        i += 2;
      } else {
        words.byte(q);
        i++;
      }
    }
    if (wordCount < 4) {
      store<i32>(wordStart + <usize>(wordCount * 4), start);
      store<i32>(wordLen + <usize>(wordCount * 4), words.len - start);
    }
    wordCount++;
  }
  if (words.len >= WORDS_BYTES) {
    failAt(file).str("too large for the module's ").i32(WORDS_BYTES).str("-byte UCI word pool");
    return -1;
  }
  return 0;
}

@inline function wp(i: i32): usize { return wordsRegion + <usize>load<i32>(wordStart + <usize>(i * 4)); }
@inline function wl(i: i32): i32 { return load<i32>(wordLen + <usize>(i * 4)); }

function addRow(section: i32, kind: i32, line: i32, name: i32, value: i32): bool {
  if (optCount >= OPT_MAX) return false;
  const r = optRows + <usize>optCount * OPT_BYTES;
  store<i32>(r + O_SECTION, section);
  store<i32>(r + O_KIND, kind);
  store<i32>(r + O_LINE, line);
  store<i32>(r + O_NAME, load<i32>(wordStart + <usize>(name * 4)));
  store<i32>(r + O_NAME_LEN, wl(name));
  store<i32>(r + O_VALUE, value < 0 ? 0 : load<i32>(wordStart + <usize>(value * 4)));
  store<i32>(r + O_VALUE_LEN, value < 0 ? -1 : wl(value));
  optCount++;
  return true;
}

@inline function row(i: i32): usize { return optRows + <usize>i * OPT_BYTES; }
@inline function rowI(i: i32, f: usize): i32 { return load<i32>(row(i) + f); }

/** Parses the whole file into rows. Sections: kind 0 rows (name word = type, value word = name or -1). */
function parseUci(p: usize, n: i32, file: i32): i32 {
  words.reset();
  optCount = 0;
  let section = -1;
  let line = 0;
  let s = 0;
  while (s <= n) {
    let e = s;
    while (e < n && byteAt(p, e) != 0x0a) e++;
    line++;
    if (splitWords(p + <usize>s, e - s, file, line) < 0) return -1;
    if (wordCount > 0) {
      if (spanIs(wp(0), wl(0), "package")) {
        // ignored
      } else if (spanIs(wp(0), wl(0), "config")) {
        if (wordCount < 2 || wordCount > 3) {
          failAt(lineName(file, line)).str("expected: config <type> ['<name>']");
          return -1;
        }
        section = optCount;
        if (!addRow(section, 0, line, 1, wordCount == 3 ? 2 : -1)) return tooMany(file);
      } else if (spanIs(wp(0), wl(0), "option") || spanIs(wp(0), wl(0), "list")) {
        const list = spanIs(wp(0), wl(0), "list");
        if (section < 0) {
          failAt(lineName(file, line)).quoted(wp(0), wl(0)).str(" before any 'config' line");
          return -1;
        }
        if (wordCount != 3) {
          failAt(lineName(file, line)).str("expected: ").esc(wp(0), wl(0)).str(" <name> '<value>'");
          return -1;
        }
        if (!addRow(section, list ? 2 : 1, line, 1, 2)) return tooMany(file);
      } else {
        failAt(lineName(file, line)).str("unknown UCI statement ").quoted(wp(0), wl(0));
        return -1;
      }
    }
    s = e + 1;
  }
  return 0;
}

function tooMany(file: i32): i32 {
  failAt(file).str("more than ").i32(OPT_MAX).str(" UCI lines");
  return -1;
}

// Option values are assembled (lists joined with spaces) into a pool of their own.
const VALUES_BYTES: i32 = 32 << 10;
const valuesRegion: usize = memory.data(VALUES_BYTES, 8);
const values: Out = newOut(valuesRegion, VALUES_BYTES, memory.data(<i32>offsetof<Out>(), 8));
let optPtr: usize = 0;
let optLen: i32 = -1;
let optLine = 0;

/** Looks up option `key` of the section at row `sec`: optPtr/optLen (-1 absent), optLine. */
function option(sec: i32, key: string): bool {
  optLen = -1;
  let start = values.len;
  for (let i = sec + 1; i < optCount; i++) {
    if (rowI(i, O_SECTION) != sec) break;
    if (!spanIs(wordsRegion + <usize>rowI(i, O_NAME), rowI(i, O_NAME_LEN), key)) continue;
    const vp = wordsRegion + <usize>rowI(i, O_VALUE);
    const vn = rowI(i, O_VALUE_LEN);
    if (rowI(i, O_KIND) == 2 && optLen >= 0) {
      values.byte(0x20).raw(vp, vn);
    } else {
      start = values.len;
      values.raw(vp, vn);
      optLine = rowI(i, O_LINE);
    }
    optLen = values.len - start;
  }
  optPtr = valuesRegion + <usize>start;
  return optLen >= 0;
}

/** "<file>:<line> option <key>". */
function optionName(file: i32, key: string): i32 {
  const b = nameBegin();
  nameAppend(file);
  names.byte(0x3a).i32(optLine).str(" option ").str(key);
  return nameEnd(b);
}

/** The section row of interface `name`, -1 when none. */
function findInterface(ip: usize, in_: i32): i32 {
  for (let i = 0; i < optCount; i++) {
    if (rowI(i, O_KIND) != 0) continue;
    if (!spanIs(wordsRegion + <usize>rowI(i, O_NAME), rowI(i, O_NAME_LEN), "interface")) continue;
    if (rowI(i, O_VALUE_LEN) != in_) continue;
    if (memory.compare(wordsRegion + <usize>rowI(i, O_VALUE), ip, <usize>in_) == 0) return i;
  }
  return -1;
}

/** Copies option `key` into slot k (or the BR list), named as the UCI option. */
function optionToSlot(sec: i32, file: i32, key: string, k: i32): void {
  if (!option(sec, key)) return;
  put(k, optPtr, optLen, optionName(file, key));
}

function isTrue(p: usize, n: i32): i32 {
  if (spanIs(p, n, "1") || spanIs(p, n, "yes") || spanIs(p, n, "on") || spanIs(p, n, "true") || spanIs(p, n, "enabled")) return 1;
  if (spanIs(p, n, "0") || spanIs(p, n, "no") || spanIs(p, n, "off") || spanIs(p, n, "false") || spanIs(p, n, "disabled")) return 0;
  return -1;
}

/** --uci <file> --interface <name>: the `map` interface of a UCI network file → the model. */
export function parseUciSource(p: usize, n: i32, file: i32, ip: usize, in_: i32, euLen: i32): i32 {
  values.reset();
  ruleIndex = 0;
  if (parseUci(p, n, file) < 0) return -1;
  const sec = findInterface(ip, in_);
  if (sec < 0) {
    const o = failAt(nameLit("--interface")).str("no interface ").quoted(ip, in_).str(" in ")
      .esc(nameStart(file), nameLength(file)).str(" (map interfaces there: ");
    let any = false;
    for (let i = 0; i < optCount; i++) {
      if (rowI(i, O_KIND) != 0 || rowI(i, O_VALUE_LEN) < 0) continue;
      if (!spanIs(wordsRegion + <usize>rowI(i, O_NAME), rowI(i, O_NAME_LEN), "interface")) continue;
      if (!option(i, "proto") || !spanIs(optPtr, optLen, "map")) continue;
      if (any) o.str(", ");
      o.esc(wordsRegion + <usize>rowI(i, O_VALUE), rowI(i, O_VALUE_LEN));
      any = true;
    }
    o.str(any ? ")" : "none)");
    return -1;
  }
  // "<file>:<line> interface '<name>'" and "<file> interface '<name>'"
  const ib = nameBegin();
  nameAppend(file);
  names.byte(0x3a).i32(rowI(sec, O_LINE)).str(" interface ").byte(0x27).raw(ip, in_).byte(0x27);
  const secName = nameEnd(ib);
  const wb = nameBegin();
  nameAppend(file);
  names.str(" interface ").byte(0x27).raw(ip, in_).byte(0x27);
  const where = nameEnd(wb);

  if (!option(sec, "proto") || !spanIs(optPtr, optLen, "map")) {
    const has = optLen >= 0;
    const o = failAt(has ? optionName(file, "proto") : secName).str("proto is '");
    if (has) o.esc(optPtr, optLen);
    o.str("', not 'map'");
    return -1;
  }
  let legacy = false;
  let legacyName = NAME_NONE;
  if (option(sec, "legacymap")) {
    legacyName = optionName(file, "legacymap");
    const t = isTrue(optPtr, optLen);
    if (t < 0) {
      failAt(legacyName).quoted(optPtr, optLen).str(" is not a boolean (0/1)");
      return -1;
    }
    legacy = t == 1;
  }
  setWhereMissing(where);
  if (option(sec, "rule")) {
    const rp = optPtr;
    const rn = optLen;
    const rname = optionName(file, "rule");
    if (ruleStrings(rp, rn, rname, 0, legacy, euLen) < 0) return -1;
  } else {
    slotsReset(secName);
    // Newer map.sh reads `maptype`, older ones `type`.
    let mapt = false;
    let typeFound = option(sec, "maptype");
    let typeKey = "maptype";
    if (!typeFound) {
      typeKey = "type";
      typeFound = option(sec, "type");
    }
    if (typeFound) {
      put(K_TYPE, optPtr, optLen, optionName(file, typeKey));
      mapt = spanIs(optPtr, optLen, "map-t");
    }
    optionToSlot(sec, file, "ip6prefix", K_IPV6PREFIX);
    optionToSlot(sec, file, "ip6prefixlen", K_PREFIX6LEN);
    optionToSlot(sec, file, "ipaddr", K_IPV4PREFIX);
    optionToSlot(sec, file, "ip4prefixlen", K_PREFIX4LEN);
    optionToSlot(sec, file, "psid", K_PSID);
    optionToSlot(sec, file, "psidlen", K_PSIDLEN);
    optionToSlot(sec, file, "offset", K_OFFSET);
    optionToSlot(sec, file, "ealen", K_EALEN);
    if (option(sec, "peeraddr")) {
      const name = optionName(file, "peeraddr");
      if (mapt) put(K_DMR, optPtr, optLen, name);
      else putBr(optPtr, optLen, name);
    }
    if (slotsToModel(legacy, euLen) < 0) return -1;
    const pb = nameBegin();
    nameAppend(where);
    names.str(" option peeraddr");
    const peer = nameEnd(pb);
    setMissingBr(peer);
    setMissingDmr(peer);
  }
  if (legacy) setLocal(LOCAL_LEGACY_IID, 1, legacyName);
  // map.sh's mtu is the tunnel interface's (IPv4) MTU, default 1280; ours is the IPv6 path MTU: +40.
  if (option(sec, "mtu")) {
    const name = optionName(file, "mtu");
    put(K_EALEN, optPtr, optLen, name); // reuse a slot for the integer reader
    const v = integer(K_EALEN, 65535 - 40);
    if (v < 0) return -1;
    setLocal(LOCAL_TUNNEL_MTU, <u32>(v + 40), name);
  } else {
    const b = nameBegin();
    nameAppend(where);
    names.str(" option mtu (default 1280)");
    setLocal(LOCAL_TUNNEL_MTU, 1320, nameEnd(b));
  }
  if (option(sec, "ttl")) {
    const name = optionName(file, "ttl");
    put(K_EALEN, optPtr, optLen, name);
    const v = integer(K_EALEN, 255);
    if (v < 0) return -1;
    setLocal(LOCAL_HOP_LIMIT, <u32>v, name);
  }
  if (option(sec, "tunlink")) {
    const b = nameBegin();
    names.raw(optPtr, optLen);
    tunlink = nameEnd(b);
  }
  // Static forwards (ours, config/forward.ts): `list forward 'tcp:<port>=<ipv4>[:<port>]'`, one per row.
  for (let i = sec + 1; i < optCount; i++) {
    if (rowI(i, O_SECTION) != sec) break;
    if (!spanIs(wordsRegion + <usize>rowI(i, O_NAME), rowI(i, O_NAME_LEN), "forward")) continue;
    optLine = rowI(i, O_LINE);
    if (forwardText(wordsRegion + <usize>rowI(i, O_VALUE), rowI(i, O_VALUE_LEN), optionName(file, "forward")) < 0) return -1;
  }
  return 0;
}
