// MAP-E rule sets as Japan's ISPs serve them, parsed once for every host:
// the JSON text goes in, RFC 7598 option bytes (one S46_CONT_MAPE) come out
// in the configuration buffer, for configure() (map/provision.ts) as every
// other source. The Node host and the router program both call these
// exports; neither parses the formats itself.
//
//   format   top-level keys                       rules                          BR
//   hb46pp   ttl, token, order, map_e{version,    map_e.rules[{ipv6, ipv4,       map_e.br
//            mesh, br, rules}], map_t, lw4o6,     ea_length, psid_offset}]
//            dslite, 464xlat, ipip (seen only)
//   v6plus   id, dmr, ipv6_fixlen, fmr[…]         fmr[{ipv6, ipv4, psid_offset,  dmr
//            (also JSONP-wrapped: name({…}))      ea_length}]
//   ocn      basicMapRules[…]                     {ipv6Prefix, ipv6PrefixLength, brIpv6Address
//                                                 ipv4Prefix, ipv4PrefixLength,  of the BMR
//                                                 psIdOffset, eaBitLength}
//
// HB46PP is the v6 Promotion Council's "IPv4 over IPv6 provisioning"
// (v6mig-prov, v1.0 §3.4). Its map_e.version 0 (or absent) is the
// draft-ietf-softwire-map-03 interface id (LEGACY_IID), 1 is RFC 7597;
// map_e.mesh true (or 1) makes every rule an FMR (F flag), else
// hub-and-spoke (no FMR: everything goes to the BR). v6plus and OCN CEs use
// the legacy interface id, and every rule of theirs is sent as an FMR (as
// the routers sold for those lines install them). The v6plus and OCN
// answers carry numbers as JSON numbers or as strings of digits; both are
// taken.
//
// The BMR is the rule whose IPv6 prefix is the longest match of the
// delegated prefix (RFC 7597 §5); it is always written. Up to MAX_RULES
// rules are written in the order of the file; a file may hold more
// (MAX_INPUT_RULES): the rest are reported (rulesSeen > rulesInstalled) and
// their CEs are reached through the BR. A BR needs every rule: more than
// MAX_RULES is an error there.
//
// Input rule record (RREC_BYTES each, MAX_INPUT_RULES of them):
//
//    0               16    17    18    19    20          24          28          32
//    +---------------+-----+-----+-----+-----+-----------+-----------+-----------+
//    | IPv6 prefix   | n   | r   | o   | a   | IPv4      | source    | BR index  |
//    | (16, masked)  |     |     |     |     | (host)    | index     | (-1 none) |
//    +---------------+-----+-----+-----+-----+-----------+-----------+-----------+
import { MAX_RULES, MAX_BRS, TEXT_BUFFER_SIZE } from "../config";
import { configBufferPtr } from "../map/provision";
import { jsonBegin, jsonNext, jsonSkip, jsonStringIs, jsonTokenStart, jsonTokenEnd, jsonTokenEscaped,
  jsonIntegerIn, jsonErrorMessage, jsonErrorOffset, jsonBase, TOK_ERROR, TOK_END, TOK_OBJECT,
  TOK_OBJECT_END, TOK_ARRAY, TOK_ARRAY_END, TOK_KEY, TOK_STRING, TOK_NUMBER, TOK_TRUE, TOK_FALSE,
  TOK_NULL } from "./json";
import { addr6, addr4, parseIPv4At, parseIPv6At, prefixLenAt, slashAt } from "./addrtext";
import { names, nameBegin, nameEnd, nameLit, nameWith, failAt, MRule, addRule, v6Ptr, addBr as modelAddBr,
  setType, setMissing, setLocal, TYPE_MAPE } from "./model";
import { LOCAL_LEGACY_IID } from "../settings";
import { Out } from "./text";
import { formatIPv6 } from "./ip";
import { textBufferPtr } from "./textbuf";

/** Bytes of the rule text input area: the module's one text buffer (config/source.ts), shared with configFromArgs. */
export const RULES_TEXT_SIZE: i32 = TEXT_BUFFER_SIZE;
/** Rules a file may hold (more than the rule table: the BMR is picked among all). */
export const MAX_INPUT_RULES: i32 = 4096;
/** Distinct BR addresses a file may name (OCN names one per rule). */
const MAX_INPUT_BRS: i32 = 64;
const RREC_BYTES: i32 = 32;
const R_LEN6: usize = 16;
const R_LEN4: usize = 17;
const R_EA: usize = 18;
const R_OFFSET: usize = 19;
const R_V4: usize = 20;
const R_SOURCE: usize = 24;
const R_BR: usize = 28;

/** Formats (rulesToConfig's `format`, rulesFormat()). */
export const FORMAT_AUTO: i32 = 0;
export const FORMAT_HB46PP: i32 = 1;
export const FORMAT_V6PLUS: i32 = 2;
export const FORMAT_OCN: i32 = 3;

/** Methods an HB46PP answer offers (rulesMethods(), rulesOrder() bit masks). */
export const METHOD_MAP_E: i32 = 1;
export const METHOD_MAP_T: i32 = 2;
export const METHOD_LW4O6: i32 = 4;
export const METHOD_DSLITE: i32 = 8;
export const METHOD_464XLAT: i32 = 16;
export const METHOD_IPIP: i32 = 32;

/** rulesToConfig error codes (negative returns). */
export const RULES_ERR_SYNTAX: i32 = -1;
export const RULES_ERR_FORMAT: i32 = -2;
export const RULES_ERR_VALUE: i32 = -3;
export const RULES_ERR_MISSING: i32 = -4;
export const RULES_ERR_NOT_SERVED: i32 = -5;
export const RULES_ERR_TOO_MANY: i32 = -6;
export const RULES_ERR_ARGS: i32 = -7;

/** HB46PP v1.0 §3.4: ttl "must be 604800 (7 days) or less". */
export const HB46PP_MAX_TTL: i32 = 604800;

const MODE_BR: i32 = 2;

const textArea: usize = textBufferPtr();
const prefixArea: usize = memory.data(16, 16);
const recs: usize = memory.data(MAX_INPUT_RULES * RREC_BYTES, 16);
const brs: usize = memory.data(MAX_INPUT_BRS * 16, 16);
const outSource: usize = memory.data(MAX_RULES * 4, 16);
const ERR_TEXT_SIZE: i32 = 400;
const errText: usize = memory.data(ERR_TEXT_SIZE, 16);
let errLen = 0;

// ---- Results of the last rulesToConfig ----
let rFormat = 0;
let rSeen = 0;
let rInstalled = 0;
let rMatched = -1;
let rLegacy = 0;
let rMesh = 0;
let rTtl = -1;
let rTokenOff = 0;
let rTokenLen = 0;
let rMethods = 0;
let rOrder = 0;
let rOrderGiven = false;
let rFixLen = -1;
let rVersion = -1;
let nBrs = 0;
/** Which formats' rule keys the file has (bit 1 << format). */
let formatsSeen = 0;
/** The format asked for (FORMAT_AUTO: any). */
let wanted = 0;
/** Offset of the JSON document in the text (after a JSONP "name("). */
let docOff = 0;

@inline function rec(i: i32): usize { return recs + <usize>(i * RREC_BYTES); }

// ---- Error text: "<field>: <what is wrong>" ----

@inline function byteAt(i: i32): i32 { return <i32>load<u8>(jsonBase() + <usize>i); }

function eReset(): void { errLen = 0; }
function eByte(c: i32): void {
  if (errLen < ERR_TEXT_SIZE) { store<u8>(errText + <usize>errLen, <u8>c); errLen++; }
}
function eStr(t: string): void { for (let i = 0; i < t.length; i++) eByte(t.charCodeAt(i)); }
function eInt(v: i64): void {
  if (v < 0) { eByte(0x2d); v = -v; }
  let d: i64 = 1;
  while (d * 10 <= v) d *= 10;
  while (d > 0) { eByte(<i32>(v / d) + 0x30); v %= d; d /= 10; }
}
const HEXD = "0123456789abcdef";
/** Document bytes, at most 40, control characters, backslash and non-ASCII as \xNN. */
function eBytes(s: i32, e: i32): void {
  const n = e - s > 40 ? 40 : e - s;
  for (let i = s; i < s + n; i++) {
    const c = byteAt(i);
    if (c < 0x20 || c >= 0x7f || c == 0x5c) {
      eStr("\\x");
      eByte(HEXD.charCodeAt(c >> 4));
      eByte(HEXD.charCodeAt(c & 15));
    } else eByte(c);
  }
  if (e - s > n) eStr("…");
}

/** The section being read ("map_e.rules", "fmr", …) for field names. */
let section: string = "";
/** "<section>[i].<key>: " (i < 0: no index; key "": none). */
function eField(i: i32, key: string): void {
  eStr(section);
  if (i >= 0) { eByte(0x5b); eInt(i); eByte(0x5d); }
  if (key.length > 0) { if (section.length > 0) eByte(0x2e); eStr(key); }
  eStr(": ");
}

/** Says what the token t (just read) is, for "…, not <it>". */
function eToken(t: i32): void {
  if (t == TOK_STRING) { eByte(0x22); eBytes(jsonTokenStart(), jsonTokenEnd()); eByte(0x22); }
  else if (t == TOK_NUMBER) { eStr("the number "); eBytes(jsonTokenStart(), jsonTokenEnd()); }
  else if (t == TOK_OBJECT) eStr("an object");
  else if (t == TOK_ARRAY) eStr("an array");
  else if (t == TOK_TRUE) eStr("true");
  else if (t == TOK_FALSE) eStr("false");
  else if (t == TOK_NULL) eStr("null");
  else eStr("nothing");
}

function syntaxError(): i32 {
  eReset();
  eStr("not valid JSON at byte ");
  eInt(jsonErrorOffset() + docOff);
  eStr(": ");
  eStr(jsonErrorMessage());
  return RULES_ERR_SYNTAX;
}

/** After a value of the wrong kind: the reader's error if it failed, else `code` (text already set). */
function wrong(t: i32, code: i32): i32 { return t == TOK_ERROR ? syntaxError() : code; }

// ---- Typed value readers (each reads one whole value) ----

/** v6plus and OCN write numbers as strings of digits too. */
let lenient = false;
let gotInt: i32 = 0;

/** An integer lo..hi: a JSON number, or (lenient) a string of digits. */
function readInt(i: i32, key: string, lo: i32, hi: i32): i32 {
  const t = jsonNext();
  let v: i64 = -1;
  let ok = false;
  if (t == TOK_NUMBER) {
    v = jsonIntegerIn(<i64>lo, <i64>hi, -1);
    ok = v >= 0 || lo < 0;
  } else if (t == TOK_STRING && lenient && !jsonTokenEscaped()) {
    const s = jsonTokenStart();
    const e = jsonTokenEnd();
    ok = e > s && e - s <= 9;
    v = 0;
    for (let j = s; ok && j < e; j++) {
      const c = byteAt(j);
      if (c < 0x30 || c > 0x39) ok = false;
      else v = v * 10 + <i64>(c - 0x30);
    }
    if (v < <i64>lo || v > <i64>hi) ok = false;
  }
  if (!ok) {
    if (t == TOK_ERROR) return syntaxError();
    eReset();
    eField(i, key);
    eStr("must be an integer from ");
    eInt(lo);
    eStr(" to ");
    eInt(hi);
    eStr(", not ");
    eToken(t);
    return RULES_ERR_VALUE;
  }
  gotInt = <i32>v;
  return 0;
}

// The last string read: [strStart, strEnd) of the document.
let strStart = 0;
let strEnd = 0;

/** A string value (raw bytes, escapes left: an address with one is refused as not an address). */
function readStr(i: i32, key: string, what: string): i32 {
  const t = jsonNext();
  if (t != TOK_STRING) {
    if (t == TOK_ERROR) return syntaxError();
    eReset();
    eField(i, key);
    eStr("must be ");
    eStr(what);
    eStr(", not ");
    eToken(t);
    return RULES_ERR_VALUE;
  }
  strStart = jsonTokenStart();
  strEnd = jsonTokenEnd();
  return 0;
}

function badText(i: i32, key: string, what: string): i32 {
  eReset();
  eField(i, key);
  eByte(0x22);
  eBytes(strStart, strEnd);
  eStr("\" is not ");
  eStr(what);
  return RULES_ERR_VALUE;
}

function missing(i: i32, key: string): i32 {
  eReset();
  eField(i, key);
  eStr("is required");
  return RULES_ERR_MISSING;
}

/** true/false or 0/1. */
let gotBool = false;
function readFlag(i: i32, key: string): i32 {
  const t = jsonNext();
  if (t == TOK_TRUE || t == TOK_FALSE) {
    gotBool = t == TOK_TRUE;
    return 0;
  }
  const v = t == TOK_NUMBER ? jsonIntegerIn(0, 1, -1) : -1;
  if (v >= 0) {
    gotBool = v == 1;
    return 0;
  }
  if (t == TOK_ERROR) return syntaxError();
  eReset();
  eField(i, key);
  eStr("must be true, false, 0 or 1, not ");
  eToken(t);
  return RULES_ERR_VALUE;
}

/** Skips a value whose first token was not read yet. */
function skipNext(): i32 {
  const t = jsonNext();
  if (t == TOK_ERROR || jsonSkip() == TOK_ERROR) return syntaxError();
  return 0;
}

// ---- Rules ----

/** Masks the 16 bytes at p to `len` bits. */
function maskPrefix(p: usize, len: i32): void {
  for (let b = 0; b < 16; b++) {
    const keep = len - b * 8;
    if (keep >= 8) continue;
    const m: i32 = keep <= 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    store<u8>(p + <usize>b, <u8>(<i32>load<u8>(p + <usize>b) & m));
  }
}

/** Adds a BR address (addr6) to the distinct list; its index, or -1 when full. */
function addBr(): i32 {
  for (let i = 0; i < nBrs; i++) if (memory.compare(brs + <usize>(i * 16), addr6, 16) == 0) return i;
  if (nBrs >= MAX_INPUT_BRS) return -1;
  memory.copy(brs + <usize>(nBrs * 16), addr6, 16);
  return nBrs++;
}

function tooManyRules(): i32 {
  eReset();
  eStr(section);
  eStr(": more than ");
  eInt(MAX_INPUT_RULES);
  eStr(" rules");
  return RULES_ERR_TOO_MANY;
}

function tooManyBrs(i: i32, key: string): i32 {
  eReset();
  eField(i, key);
  eStr("more than ");
  eInt(MAX_INPUT_BRS);
  eStr(" different BR addresses");
  return RULES_ERR_TOO_MANY;
}

/** "addr/len" (IPv6) at [strStart, strEnd) into record r. */
function prefix6Text(r: usize, i: i32, key: string): i32 {
  const sl = slashAt(strStart, strEnd);
  const len = sl < 0 ? -1 : prefixLenAt(sl + 1, strEnd, 128);
  if (sl < 0 || len < 0 || !parseIPv6At(strStart, sl)) return badText(i, key, "an IPv6 prefix <address>/<0..128>");
  memory.copy(r, addr6, 16);
  maskPrefix(r, len);
  store<u8>(r + R_LEN6, <u8>len);
  return 0;
}

/** "a.b.c.d/len" at [strStart, strEnd) into record r. */
function prefix4Text(r: usize, i: i32, key: string): i32 {
  const sl = slashAt(strStart, strEnd);
  const len = sl < 0 ? -1 : prefixLenAt(sl + 1, strEnd, 32);
  if (sl < 0 || len < 0 || !parseIPv4At(strStart, sl)) return badText(i, key, "an IPv4 prefix <a.b.c.d>/<0..32>");
  store<u32>(r + R_V4, len == 0 ? 0 : addr4 & (<u32>(-1) << <u32>(32 - len)));
  store<u8>(r + R_LEN4, <u8>len);
  return 0;
}

/** Starts rule i, whose first token t was read: checks room and that it is an object; its record, or 0 (error set). */
let ruleErr = 0;
function ruleBegin(i: i32, t: i32): usize {
  if (rSeen >= MAX_INPUT_RULES) { ruleErr = tooManyRules(); return 0; }
  if (t != TOK_OBJECT) {
    if (t == TOK_ERROR) { ruleErr = syntaxError(); return 0; }
    eReset();
    eField(i, "");
    eStr("must be an object, not ");
    eToken(t);
    ruleErr = RULES_ERR_VALUE;
    return 0;
  }
  const r = rec(rSeen);
  memory.fill(r, 0, <usize>RREC_BYTES);
  store<u8>(r + R_OFFSET, 6);
  store<i32>(r + R_SOURCE, i);
  store<i32>(r + R_BR, -1);
  return r;
}

/** The next member of the object being read: 1 with the key read, 0 at its end, <0 an error code. */
function member(): i32 {
  const t = jsonNext();
  if (t == TOK_KEY) return 1;
  if (t == TOK_OBJECT_END) return 0;
  return syntaxError();
}

/**
 * One rule of hb46pp's map_e.rules or v6plus's fmr: {ipv6: "p/n", ipv4:
 * "p/r", ea_length, psid_offset}. Unknown keys are ignored (HB46PP §3.4:
 * "the CPE may ignore unknown keys").
 */
function slashRule(i: i32, t: i32): i32 {
  const r = ruleBegin(i, t);
  if (!r) return ruleErr;
  let have = 0;
  let m = member();
  while (m == 1) {
    let e = 0;
    if (jsonStringIs("ipv6")) {
      e = readStr(i, "ipv6", "an IPv6 prefix string");
      if (!e) e = prefix6Text(r, i, "ipv6");
      have |= 1;
    } else if (jsonStringIs("ipv4")) {
      e = readStr(i, "ipv4", "an IPv4 prefix string");
      if (!e) e = prefix4Text(r, i, "ipv4");
      have |= 2;
    } else if (jsonStringIs("ea_length")) {
      e = readInt(i, "ea_length", 0, 255);
      if (!e) store<u8>(r + R_EA, <u8>gotInt);
      have |= 4;
    } else if (jsonStringIs("psid_offset")) {
      e = readInt(i, "psid_offset", 0, 255);
      if (!e) store<u8>(r + R_OFFSET, <u8>gotInt);
    } else e = skipNext();
    if (e) return e;
    m = member();
  }
  if (m < 0) return m;
  if (!(have & 1)) return missing(i, "ipv6");
  if (!(have & 2)) return missing(i, "ipv4");
  if (!(have & 4)) return missing(i, "ea_length");
  rSeen++;
  return 0;
}

/**
 * One OCN basicMapRules entry: separate prefix and length fields, a BR per
 * rule. Unknown keys (hostName, psId …) are ignored.
 */
function ocnRule(i: i32, t: i32): i32 {
  const r = ruleBegin(i, t);
  if (!r) return ruleErr;
  let have = 0;
  let len6 = -1;
  let len4 = -1;
  let m = member();
  while (m == 1) {
    let e = 0;
    if (jsonStringIs("ipv6Prefix")) {
      e = readStr(i, "ipv6Prefix", "an IPv6 address string");
      if (!e) {
        // "2400:4150::" (the length apart), or "2400:4150::/32".
        const sl = slashAt(strStart, strEnd);
        if (sl >= 0) len6 = prefixLenAt(sl + 1, strEnd, 128);
        if (!parseIPv6At(strStart, sl < 0 ? strEnd : sl) || (sl >= 0 && len6 < 0)) e = badText(i, "ipv6Prefix", "an IPv6 address");
        else memory.copy(r, addr6, 16);
      }
      have |= 1;
    } else if (jsonStringIs("ipv6PrefixLength")) {
      e = readInt(i, "ipv6PrefixLength", 0, 128);
      len6 = gotInt;
    } else if (jsonStringIs("ipv4Prefix")) {
      e = readStr(i, "ipv4Prefix", "an IPv4 address string");
      if (!e) {
        const sl = slashAt(strStart, strEnd);
        if (sl >= 0) len4 = prefixLenAt(sl + 1, strEnd, 32);
        if (!parseIPv4At(strStart, sl < 0 ? strEnd : sl) || (sl >= 0 && len4 < 0)) e = badText(i, "ipv4Prefix", "an IPv4 address");
        else store<u32>(r + R_V4, addr4);
      }
      have |= 2;
    } else if (jsonStringIs("ipv4PrefixLength")) {
      e = readInt(i, "ipv4PrefixLength", 0, 32);
      len4 = gotInt;
    } else if (jsonStringIs("eaBitLength")) {
      e = readInt(i, "eaBitLength", 0, 255);
      if (!e) store<u8>(r + R_EA, <u8>gotInt);
      have |= 4;
    } else if (jsonStringIs("psIdOffset")) {
      e = readInt(i, "psIdOffset", 0, 255);
      if (!e) store<u8>(r + R_OFFSET, <u8>gotInt);
    } else if (jsonStringIs("brIpv6Address")) {
      e = brValue(i, "brIpv6Address");
      if (!e) store<i32>(r + R_BR, gotBr);
    } else e = skipNext();
    if (e) return e;
    m = member();
  }
  if (m < 0) return m;
  if (!(have & 1)) return missing(i, "ipv6Prefix");
  if (len6 < 0) return missing(i, "ipv6PrefixLength");
  if (!(have & 2)) return missing(i, "ipv4Prefix");
  if (len4 < 0) return missing(i, "ipv4PrefixLength");
  if (!(have & 4)) return missing(i, "eaBitLength");
  maskPrefix(r, len6);
  store<u8>(r + R_LEN6, <u8>len6);
  store<u8>(r + R_LEN4, <u8>len4);
  const v4 = load<u32>(r + R_V4);
  store<u32>(r + R_V4, len4 == 0 ? 0 : v4 & (<u32>(-1) << <u32>(32 - len4)));
  rSeen++;
  return 0;
}

/** An array of rules (the `section` names it). */
function ruleArray(isOcn: bool): i32 {
  const t = jsonNext();
  if (t != TOK_ARRAY) {
    eReset();
    eField(-1, "");
    eStr("must be an array of rules, not ");
    eToken(t);
    return wrong(t, RULES_ERR_VALUE);
  }
  let i = 0;
  while (true) {
    const u = jsonNext();
    if (u == TOK_ARRAY_END) return 0;
    const e = isOcn ? ocnRule(i, u) : slashRule(i, u);
    if (e) return e;
    i++;
  }
}

/** A BR address string into the distinct list (its index in gotBr). */
let gotBr = -1;
function brValue(i: i32, key: string): i32 {
  const e = readStr(i, key, "an IPv6 address string");
  if (e) return e;
  if (!parseIPv6At(strStart, strEnd)) return badText(i, key, "an IPv6 address");
  gotBr = addBr();
  return gotBr < 0 ? tooManyBrs(i, key) : 0;
}

/** Which method a name in order[] is; 0 for a name this does not know. */
function methodOfString(): i32 {
  if (jsonStringIs("map_e")) return METHOD_MAP_E;
  if (jsonStringIs("map_t")) return METHOD_MAP_T;
  if (jsonStringIs("lw4o6")) return METHOD_LW4O6;
  if (jsonStringIs("dslite")) return METHOD_DSLITE;
  if (jsonStringIs("464xlat")) return METHOD_464XLAT;
  if (jsonStringIs("ipip")) return METHOD_IPIP;
  return 0;
}

function methodName(bit: i32): string {
  if (bit == 0) return "map_e";
  if (bit == 1) return "map_t";
  if (bit == 2) return "lw4o6";
  if (bit == 3) return "dslite";
  if (bit == 4) return "464xlat";
  return "ipip";
}

function methodNames(mask: i32): void {
  let first = true;
  for (let b = 0; b < 6; b++) {
    if (!(mask & (1 << b))) continue;
    if (!first) eStr(", ");
    eStr(methodName(b));
    first = false;
  }
  if (first) eStr("nothing");
}

/** Whether the file may hold format f (the one asked for, or any when detecting). */
@inline function takes(f: i32): bool { return wanted == FORMAT_AUTO || wanted == f; }

/** Marks format f's rules as present; an error when another format's are too. */
function claim(f: i32, key: string): i32 {
  formatsSeen |= 1 << f;
  if ((formatsSeen & ~(1 << f)) != 0) {
    eReset();
    eStr(key);
    eStr(": rules of more than one format in one file (give --rules-format)");
    return RULES_ERR_FORMAT;
  }
  return 0;
}

/** HB46PP order: the methods in the server's preference; [] means "none for you". */
function readOrder(): i32 {
  const t = jsonNext();
  if (t != TOK_ARRAY) {
    eReset();
    eStr("order: must be an array of method names, not ");
    eToken(t);
    return wrong(t, RULES_ERR_VALUE);
  }
  rOrderGiven = true;
  while (true) {
    const u = jsonNext();
    if (u == TOK_ARRAY_END) return 0;
    if (u == TOK_ERROR) return syntaxError();
    if (u == TOK_STRING) rOrder |= methodOfString();
    else if (jsonSkip() == TOK_ERROR) return syntaxError();
  }
}

/** HB46PP token: 64 lower-case hex digits (§3.4); anything else is not sent back. */
function readToken(): i32 {
  const t = jsonNext();
  if (t == TOK_ERROR) return syntaxError();
  if (t != TOK_STRING) return jsonSkip() == TOK_ERROR ? syntaxError() : 0;
  const s = jsonTokenStart();
  const e = jsonTokenEnd();
  let ok = e - s == 64;
  for (let j = s; ok && j < e; j++) {
    const c = byteAt(j);
    ok = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
  }
  if (ok) {
    rTokenOff = s + docOff;
    rTokenLen = 64;
  }
  return 0;
}

/** HB46PP map_e { version, mesh, br, rules }. */
let haveMapE = false;
function readMapE(): i32 {
  const t = jsonNext();
  section = "map_e";
  if (t != TOK_OBJECT) {
    eReset();
    eStr("map_e: must be an object, not ");
    eToken(t);
    return wrong(t, RULES_ERR_VALUE);
  }
  haveMapE = true;
  let haveBr = false;
  let haveRules = false;
  rVersion = 0;
  let m = member();
  while (m == 1) {
    let e = 0;
    if (jsonStringIs("version")) {
      e = readInt(-1, "version", 0, 1);
      rVersion = gotInt;
    } else if (jsonStringIs("mesh")) {
      e = readFlag(-1, "mesh");
      rMesh = gotBool ? 1 : 0;
    } else if (jsonStringIs("br")) {
      // One address (§3.4).
      e = brValue(-1, "br");
      haveBr = true;
    } else if (jsonStringIs("rules")) {
      section = "map_e.rules";
      e = claim(FORMAT_HB46PP, "map_e.rules");
      if (!e) e = ruleArray(false);
      section = "map_e";
      haveRules = true;
    } else e = skipNext();
    if (e) return e;
    m = member();
  }
  if (m < 0) return m;
  if (!haveBr) return missing(-1, "br");
  if (!haveRules) return missing(-1, "rules");
  return 0;
}

/** The top-level object, one member at a time, each format's keys where it is wanted. */
function topLevel(): i32 {
  const t = jsonNext();
  if (t != TOK_OBJECT) {
    eReset();
    eStr("must be a JSON object (an HB46PP, v6plus or OCN rule answer), not ");
    eToken(t);
    return wrong(t, RULES_ERR_FORMAT);
  }
  let m = member();
  while (m == 1) {
    let e = 0;
    section = "";
    lenient = false;
    const hb = takes(FORMAT_HB46PP);
    if (jsonStringIs("map_e") && hb) { rMethods |= METHOD_MAP_E; e = readMapE(); }
    else if (jsonStringIs("map_t") && hb) { rMethods |= METHOD_MAP_T; e = skipNext(); }
    else if (jsonStringIs("lw4o6") && hb) { rMethods |= METHOD_LW4O6; e = skipNext(); }
    else if (jsonStringIs("dslite") && hb) { rMethods |= METHOD_DSLITE; e = skipNext(); }
    else if (jsonStringIs("464xlat") && hb) { rMethods |= METHOD_464XLAT; e = skipNext(); }
    else if (jsonStringIs("ipip") && hb) { rMethods |= METHOD_IPIP; e = skipNext(); }
    else if (jsonStringIs("order") && hb) { formatsSeen |= 1 << FORMAT_HB46PP; e = readOrder(); }
    else if (jsonStringIs("ttl") && hb) {
      // Above 604800 breaks §3.4; it is read (to 2^31 - 1) and the host clamps it and says so.
      e = readInt(-1, "ttl", 0, 0x7fffffff);
      rTtl = gotInt;
    } else if (jsonStringIs("token") && hb) e = readToken();
    else if (jsonStringIs("dmr") && takes(FORMAT_V6PLUS)) { haveDmr = true; e = brValue(-1, "dmr"); }
    else if (jsonStringIs("ipv6_fixlen") && takes(FORMAT_V6PLUS)) {
      lenient = true;
      e = readInt(-1, "ipv6_fixlen", 0, 128);
      rFixLen = gotInt;
    } else if (jsonStringIs("fmr") && takes(FORMAT_V6PLUS)) {
      section = "fmr";
      lenient = true;
      e = claim(FORMAT_V6PLUS, "fmr");
      if (!e) e = ruleArray(false);
    } else if (jsonStringIs("basicMapRules") && takes(FORMAT_OCN)) {
      section = "basicMapRules";
      lenient = true;
      e = claim(FORMAT_OCN, "basicMapRules");
      if (!e) e = ruleArray(true);
    } else e = skipNext();
    if (e) return e;
    m = member();
  }
  if (m < 0) return m;
  return jsonNext() == TOK_END ? 0 : syntaxError();
}
let haveDmr = false;

function identChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c == 0x5f || c == 0x24 || c == 0x2e || c == 0x3f;
}
@inline function space(c: i32): bool { return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d; }

/** Parses the `len` bytes at t, fills the input records; 0 or a negative error. */
function parse(t: usize, len: i32, format: i32): i32 {
  wanted = format;
  // JSONP, name( {…} ) [;] — the v6plus answer comes so: the document is what the parentheses hold.
  let s = 0;
  let e = len;
  if (len >= 3 && load<u8>(t) == 0xef && load<u8>(t + 1) == 0xbb && load<u8>(t + 2) == 0xbf) s = 3;
  while (s < e && space(<i32>load<u8>(t + <usize>s))) s++;
  if (s < e && load<u8>(t + <usize>s) != 0x7b && identChar(<i32>load<u8>(t + <usize>s))) {
    let p = s;
    while (p < e && identChar(<i32>load<u8>(t + <usize>p))) p++;
    while (p < e && space(<i32>load<u8>(t + <usize>p))) p++;
    if (p < e && load<u8>(t + <usize>p) == 0x28) {
      let q = e;
      while (q > p && space(<i32>load<u8>(t + <usize>(q - 1)))) q--;
      if (q > p && load<u8>(t + <usize>(q - 1)) == 0x3b) q--;
      while (q > p && space(<i32>load<u8>(t + <usize>(q - 1)))) q--;
      if (q <= p + 1 || load<u8>(t + <usize>(q - 1)) != 0x29) {
        eReset();
        eStr("a JSONP answer ");
        eStr("without its closing ')'");
        return RULES_ERR_SYNTAX;
      }
      s = p + 1;
      e = q - 1;
    }
  }
  docOff = s;
  jsonBegin(t + <usize>s, e - s);
  let r = topLevel();
  if (r) return r;
  let f = format;
  if (f == FORMAT_AUTO) {
    if (formatsSeen & (1 << FORMAT_OCN)) f = FORMAT_OCN;
    else if (formatsSeen & (1 << FORMAT_V6PLUS) || haveDmr) f = FORMAT_V6PLUS;
    else if (formatsSeen & (1 << FORMAT_HB46PP) || haveMapE || rMethods != 0 || rTtl >= 0) f = FORMAT_HB46PP;
    else {
      eReset();
      eStr("not a rule format this reads: no map_e or order (hb46pp), fmr (v6plus) or basicMapRules (ocn)");
      return RULES_ERR_FORMAT;
    }
  }
  rFormat = f;
  if (f == FORMAT_HB46PP) {
    if (rOrderGiven && rOrder == 0) {
      eReset();
      eStr("order: empty: the server offers this line no method (not served)");
      return RULES_ERR_NOT_SERVED;
    }
    if (!haveMapE || (rOrderGiven && !(rOrder & METHOD_MAP_E))) {
      eReset();
      eStr("map_e: the server offers no MAP-E (it offers ");
      methodNames(rOrderGiven ? rOrder : rMethods);
      eStr(")");
      return RULES_ERR_NOT_SERVED;
    }
    rLegacy = rVersion == 0 ? 1 : 0;
    section = "map_e.rules";
  } else if (f == FORMAT_V6PLUS) {
    rLegacy = 1;
    rMesh = 1;
    if (!haveDmr) { section = ""; return missing(-1, "dmr"); }
    if (!(formatsSeen & (1 << FORMAT_V6PLUS))) { section = ""; return missing(-1, "fmr"); }
    section = "fmr";
  } else {
    rLegacy = 1;
    rMesh = 1;
    if (!(formatsSeen & (1 << FORMAT_OCN))) { section = ""; return missing(-1, "basicMapRules"); }
    section = "basicMapRules";
  }
  if (rSeen == 0) {
    eReset();
    eStr(section);
    eStr(": no rules");
    return RULES_ERR_MISSING;
  }
  return 0;
}

/** Whether record r's IPv6 prefix contains the delegated prefix (selPrefix, plen). */
let selPrefix: usize = 0;
function contains(r: usize, plen: i32): bool {
  const n = <i32>load<u8>(r + R_LEN6);
  if (n > plen) return false;
  for (let b = 0; b < 16; b++) {
    const keep = n - b * 8;
    if (keep <= 0) break;
    const mask: i32 = keep >= 8 ? 0xff : (0xff << (8 - keep)) & 0xff;
    if ((<i32>load<u8>(selPrefix + <usize>b) & mask) != <i32>load<u8>(r + <usize>b)) return false;
  }
  return true;
}

// ---- Writing the container ----

let out: usize = 0;
let outLen = 0;
let outMax = 0;
@inline function w8(v: i32): void { store<u8>(out + <usize>outLen, <u8>v); outLen++; }
@inline function w16(v: i32): void { w8(v >> 8); w8(v & 0xff); }

/** S46_RULE (RFC 7598 §4.1) for record r, with S46_PORTPARAMS when the offset is not 6. */
function writeRule(r: usize, fwd: bool): void {
  const n = <i32>load<u8>(r + R_LEN6);
  const nb = (n + 7) >> 3;
  const a = <i32>load<u8>(r + R_OFFSET);
  const start = outLen;
  w16(89);
  w16(0);
  w8(fwd ? 1 : 0);
  w8(<i32>load<u8>(r + R_EA));
  w8(<i32>load<u8>(r + R_LEN4));
  const v4 = load<u32>(r + R_V4);
  w8(<i32>(v4 >>> 24)); w8(<i32>((v4 >>> 16) & 0xff)); w8(<i32>((v4 >>> 8) & 0xff)); w8(<i32>(v4 & 0xff));
  w8(n);
  for (let b = 0; b < nb; b++) w8(<i32>load<u8>(r + <usize>b));
  if (a != 6) {
    w16(93);
    w16(4);
    w8(a);
    w8(0);
    w16(0);
  }
  const l = outLen - start - 4;
  store<u8>(out + <usize>(start + 2), <u8>(l >> 8));
  store<u8>(out + <usize>(start + 3), <u8>(l & 0xff));
}

function writeBr(i: i32): void {
  w16(90);
  w16(16);
  for (let b = 0; b < 16; b++) w8(<i32>load<u8>(brs + <usize>(i * 16 + b)));
}

function resetResults(): void {
  rFormat = 0; rSeen = 0; rInstalled = 0; rMatched = -1; rLegacy = 0; rMesh = 0; rTtl = -1;
  rTokenOff = 0; rTokenLen = 0; rMethods = 0; rOrder = 0; rOrderGiven = false; rFixLen = -1;
  rVersion = -1; nBrs = 0;
  formatsSeen = 0; wanted = 0; docOff = 0; haveMapE = false; haveDmr = false;
  section = "";
  lenient = false;
  eReset();
}

/** The selection: the BMR's record (-1 none), which records are written, the BRs. */
let best = -1;
let brFirst = 0;
let brCount = 0;
const selected: usize = memory.data(MAX_RULES * 4, 16);
let selCount = 0;

/**
 * Parses the rule text at t and selects what is written: the BMR (the
 * longest rule prefix containing the delegated prefix at `prefix`, when
 * prefixLen >= 0) always, then the others in file order while the rule
 * table has room; the BMR's BR (OCN) or all of them. 0 or a negative error.
 */
function parseAndSelect(t: usize, len: i32, format: i32, mode: i32, prefix: usize, prefixLen: i32): i32 {
  resetResults();
  if (len < 0 || format < 0 || format > FORMAT_OCN || prefixLen > 128) {
    eStr("rules: bad arguments (length, format or prefix length)");
    return RULES_ERR_ARGS;
  }
  let e = parse(t, len, format);
  if (e) return e;
  best = -1;
  let bestLen = -1;
  selPrefix = prefix;
  if (prefixLen >= 0) {
    for (let i = 0; i < rSeen; i++) {
      const r = rec(i);
      const n = <i32>load<u8>(r + R_LEN6);
      if (n > bestLen && contains(r, prefixLen)) {
        best = i;
        bestLen = n;
      }
    }
  }
  rMatched = best >= 0 ? load<i32>(rec(best) + R_SOURCE) : -1;
  if (mode == MODE_BR && rSeen > MAX_RULES) {
    eReset();
    eStr(section.length > 0 ? section : "rules");
    eStr(": ");
    eInt(rSeen);
    eStr(" rules, a BR's rule table holds ");
    eInt(MAX_RULES);
    return RULES_ERR_TOO_MANY;
  }
  brFirst = 0;
  brCount = nBrs;
  if (rFormat == FORMAT_OCN && mode != MODE_BR && best >= 0) {
    const b = load<i32>(rec(best) + R_BR);
    brFirst = b;
    brCount = b >= 0 ? 1 : 0;
  }
  if (brCount > MAX_BRS) {
    if (mode == MODE_BR) {
      eReset();
      eStr(section);
      eStr(": ");
      eInt(brCount);
      eStr(" different BR addresses, the table holds ");
      eInt(MAX_BRS);
      return RULES_ERR_TOO_MANY;
    }
    brCount = MAX_BRS;
  }
  selCount = 0;
  let room = MAX_RULES - (best >= 0 ? 1 : 0);
  for (let i = 0; i < rSeen; i++) {
    if (i != best) {
      if (room == 0) continue;
      room--;
    }
    store<i32>(selected + <usize>(selCount * 4), i);
    store<i32>(outSource + <usize>(selCount * 4), load<i32>(rec(i) + R_SOURCE));
    selCount++;
  }
  rInstalled = selCount;
  return 0;
}

/**
 * Parses `len` bytes of rule text in rulesText() as `format` (FORMAT_AUTO
 * detects it) for `mode` (0 calc, 1 CE, 2 BR). `prefixLen` >= 0: the
 * delegated prefix, whose 16 bytes the host wrote at rulesPrefix(), picks
 * the BMR; -1: none. Writes one S46_CONT_MAPE at the start of the
 * configuration buffer and returns its length, or a negative error code
 * with the text in rulesErrorText(). (The command-line hosts go through
 * configFromArgs with --rules instead: rulesIntoModel below.)
 */
export function rulesParse(len: i32, format: i32, mode: i32, prefixLen: i32): i32 {
  if (len > RULES_TEXT_SIZE) {
    resetResults();
    eStr("rules: more than the text area holds");
    return RULES_ERR_ARGS;
  }
  const e = parseAndSelect(textArea, len, format, mode, prefixArea, prefixLen);
  if (e) return e;
  // Fits: MAX_RULES rules of at most 36 bytes and MAX_BRS BRs of 20, well inside the buffer.
  out = configBufferPtr();
  outLen = 0;
  w16(94);
  w16(0);
  const fwd = rMesh != 0;
  for (let i = 0; i < selCount; i++) writeRule(rec(load<i32>(selected + <usize>(i * 4))), fwd);
  for (let i = 0; i < brCount; i++) writeBr(brFirst + i);
  const l = outLen - 4;
  store<u8>(out + 2, <u8>(l >> 8));
  store<u8>(out + 3, <u8>(l & 0xff));
  return outLen;
}

/** Whether the last configFromArgs configuration came from a rule file (calc.ts prints more then). */
export let rulesInModel = false;
export function rulesForget(): void { rulesInModel = false; }
/** The format's name. */
export function rulesFormatName(): string {
  return rFormat == FORMAT_HB46PP ? "hb46pp" : rFormat == FORMAT_V6PLUS ? "v6plus" : rFormat == FORMAT_OCN ? "ocn" : "";
}
/** The file path of the matched rule ("map_e.rules[3]") into o. */
export function rulesMatchedPath(o: Out): Out {
  return o.str(rFormat == FORMAT_HB46PP ? "map_e.rules" : rFormat == FORMAT_V6PLUS ? "fmr" : "basicMapRules").str("[").i32(rMatched).str("]");
}

/** "--rules <file> <section>[i]" as a name of the model (config/model.ts). */
function ruleFieldName(fp: usize, fn: i32, i: i32, key: string): i32 {
  const b = nameBegin();
  names.str("--rules ").esc(fp, fn).str(" ").str(section);
  if (i >= 0) names.str("[").i32(i).str("]");
  if (key.length > 0) names.str(key);
  return nameEnd(b);
}

/**
 * `--rules <file> [--rules-format …]` of configFromArgs (config/source.ts):
 * parses the file's `len` bytes at t into the configuration model, each
 * rule named after its place in the file ("--rules x.json map_e.rules[3]"),
 * the interface id the format means as LEGACY_IID (a later --legacy-iid
 * wins). `fp`/`fn`: the file name as given. 0, or -1 with the error set.
 */
export function rulesIntoModel(t: usize, len: i32, format: i32, mode: i32, prefix: usize, prefixLen: i32,
  fp: usize, fn: i32): i32 {
  const e = parseAndSelect(t, len, format, mode, prefix, prefixLen);
  if (e) {
    const b = nameBegin();
    names.str("--rules ").esc(fp, fn);
    failAt(nameEnd(b)).raw(errText, errLen);
    return -1;
  }
  if (mode != MODE_BR && prefixLen >= 0 && best < 0) {
    const b = nameBegin();
    names.str("--prefix");
    const o = failAt(nameEnd(b));
    formatIPv6(o, prefix);
    o.str("/").i32(prefixLen).str(" lies in none of the ").i32(rSeen).str(" rules' IPv6 prefixes of --rules ").esc(fp, fn)
      .str(" (").str(rFormat == FORMAT_HB46PP ? "hb46pp" : rFormat == FORMAT_V6PLUS ? "v6plus" : "ocn").str("): no rule for this line");
    return -1;
  }
  setType(TYPE_MAPE);
  const fwd = rMesh != 0 ? 1 : 0;
  for (let k = 0; k < selCount; k++) {
    const r = rec(load<i32>(selected + <usize>(k * 4)));
    const m = changetype<MRule>(addRule());
    const name = ruleFieldName(fp, fn, load<i32>(r + R_SOURCE), "");
    // Three names a rule (a file may bring 256 rules: the name pool is finite):
    // the rule, and the two fields configure() checks beyond what the reader did.
    const ocnKeys = rFormat == FORMAT_OCN;
    m.nRule = name;
    m.nForwarding = name;
    m.nV6 = name;
    m.nV6len = name;
    m.nV4 = name;
    m.nV4len = name;
    m.nEa = nameWith(name, ocnKeys ? ".eaBitLength" : ".ea_length");
    m.nOffset = nameWith(name, ocnKeys ? ".psIdOffset" : ".psid_offset");
    m.nPsidLength = m.nOffset;
    m.nPsid = m.nOffset;
    memory.copy(v6Ptr(m), r, 16);
    m.v6len = <i32>load<u8>(r + R_LEN6);
    m.v4 = load<u32>(r + R_V4);
    m.v4len = <i32>load<u8>(r + R_LEN4);
    m.ea = <i32>load<u8>(r + R_EA);
    m.forwarding = fwd;
    const a = <i32>load<u8>(r + R_OFFSET);
    if (a != 6) {
      m.pp = 1;
      m.offset = a;
    }
  }
  const brKey = rFormat == FORMAT_HB46PP ? "map_e.br" : rFormat == FORMAT_V6PLUS ? "dmr" : "brIpv6Address";
  const saved = section;
  section = "";
  const brN = ruleFieldName(fp, fn, -1, brKey);
  section = saved;
  for (let i = 0; i < brCount; i++) modelAddBr(brs + <usize>((brFirst + i) * 16), brN);
  const b = nameBegin();
  names.str("--rules ").esc(fp, fn);
  const file = nameEnd(b);
  setMissing(file, brN, file, nameLit("--prefix"));
  const lb = nameBegin();
  names.str("--rules ").esc(fp, fn).str(" (").str(rLegacy ? "draft-03" : "RFC 7597").str(" interface id)");
  setLocal(LOCAL_LEGACY_IID, <u32>rLegacy, nameEnd(lb));
  rulesInModel = true;
  return 0;
}

// ---- Results, for the host's messages and diagnostics ----

export function rulesTextPtr(): usize { return textArea; }
export function rulesPrefixPtr(): usize { return prefixArea; }
export function rulesFormatResult(): i32 { return rFormat; }
export function rulesSeenCount(): i32 { return rSeen; }
export function rulesInstalledCount(): i32 { return rInstalled; }
export function rulesMatchedIndex(): i32 { return rMatched; }
export function rulesSource(i: i32): i32 { return i >= 0 && i < rInstalled ? load<i32>(outSource + <usize>(i * 4)) : -1; }
export function rulesLegacy(): i32 { return rLegacy; }
export function rulesMeshFlag(): i32 { return rMesh; }
export function rulesTtlValue(): i32 { return rTtl; }
export function rulesTokenOff(): i32 { return rTokenOff; }
export function rulesTokenLen(): i32 { return rTokenLen; }
export function rulesMethodMask(): i32 { return rMethods; }
export function rulesOrderMask(): i32 { return rOrderGiven ? rOrder : -1; }
export function rulesFixLenValue(): i32 { return rFixLen; }
export function rulesVersionValue(): i32 { return rVersion; }
export function rulesErrorPtr(): usize { return errText; }
export function rulesErrorLen(): i32 { return errLen; }
