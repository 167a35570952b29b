// The JSON configuration file (config.schema.json, docs/config.md) → the
// model. Every error names the JSON field by its path ("rules[1].eaLength").
// Types, address text and value widths are checked here; meaning (EA length
// above 48, ranges of local settings …) is configure()'s, which names the
// same path through the encoder's spans. Unknown fields are refused (a typo
// must not pass silently), and so is a field given twice.
import { jsonBegin, jsonNext, jsonSkip, jsonToken, jsonTokenStart, jsonTokenEnd, jsonStringIs,
  jsonString, jsonIntegerIn, jsonErrorMessage, jsonErrorOffset, jsonLineOf, jsonColumnOf,
  jsonPathDepth, jsonPathIsKey, jsonPathKeyStart, jsonPathKeyEnd, jsonPathIndex, jsonBase,
  TOK_ERROR, TOK_OBJECT, TOK_OBJECT_END, TOK_ARRAY, TOK_ARRAY_END, TOK_KEY, TOK_STRING,
  TOK_NUMBER, TOK_TRUE, TOK_FALSE, TOK_NULL } from "./json";
import { Out } from "./text";
import { addrError, parseIPv4, parseIPv6, parsePrefix4, parsePrefix6, parsedV4, parsedLen } from "./ip";
import { names, nameBegin, nameEnd, nameLit, failAt, NAME_NONE, MRule, addRule, addBinding, ruleNames,
  nameWith, v6Ptr, addBr, setDmr, setPrefix, setLocal, setType, setMissing, mRuleCount, MODEL_RULES,
  MODEL_BRS, mBrCount, TYPE_MAPE, TYPE_MAPT, TYPE_LW } from "./model";
import { moduleMessage } from "./encode";
import { forwardText } from "./forward";
import * as E from "../map/errors";
import { LOCAL_LEGACY_IID, LOCAL_TUNNEL_MTU, LOCAL_HOP_LIMIT, LOCAL_FILTERING, LOCAL_MSS_CLAMP,
  LOCAL_TC_FROM_TOS, LOCAL_UDP_TIMEOUT, LOCAL_DNS_TIMEOUT, LOCAL_TCP_ESTABLISHED_TIMEOUT,
  LOCAL_TCP_TRANSITORY_TIMEOUT, LOCAL_ICMP_TIMEOUT, LOCAL_MAX_SESSIONS_PER_HOST, LOCAL_INNER_FRAGMENTATION, LOCAL_PPTP, LOCAL_BR_PPTP,
  LOCAL_FTP_ALG, LOCAL_FTP_PORT, LOCAL_FAIR_SHARE, LOCAL_FAIR_RESERVE, LOCAL_PORT_REUSE, PORT_REUSE_OFF, PORT_REUSE_ON, PORT_REUSE_AUTO,
  LOCAL_MAX_SESSIONS_PER_MAPPING } from "../settings";

/** Largest session limit (as assembly/settings.ts; 0 = no limit). */
const MAX_SESSION_LIMIT: i64 = 4194304;

const STR_CAP: i32 = 4096;
const strBuf: usize = memory.data(STR_CAP, 8);
const addrBuf: usize = memory.data(16, 8);

/** A name for the value being read: its JSON path. */
function pathName(): i32 {
  const b = nameBegin();
  const d = jsonPathDepth();
  for (let i = 1; i <= d; i++) {
    if (jsonPathIsKey(i)) {
      const s = jsonPathKeyStart(i);
      if (s < 0) continue;
      if (names.len > b) names.byte(0x2e);
      names.raw(jsonBase() + <usize>s, jsonPathKeyEnd(i) - s);
    } else {
      const ix = jsonPathIndex(i);
      if (ix < 0) continue;
      names.byte(0x5b).i32(ix).byte(0x5d);
    }
  }
  return nameEnd(b);
}

/** "string \"16\"", "number 16.5", "an array" …: what the value is, for messages. */
function kind(o: Out): void {
  const t = jsonToken();
  const p = jsonBase() + <usize>jsonTokenStart();
  const n = jsonTokenEnd() - jsonTokenStart();
  if (t == TOK_STRING) o.str("string \"").esc(p, n).str("\"");
  else if (t == TOK_NUMBER) o.str("number ").esc(p, n);
  else if (t == TOK_TRUE) o.str("boolean true");
  else if (t == TOK_FALSE) o.str("boolean false");
  else if (t == TOK_NULL) o.str("null");
  else if (t == TOK_ARRAY) o.str("an array");
  else if (t == TOK_OBJECT) o.str("an object");
  else o.str("missing");
}

function notValid(file: i32): i32 {
  const off = jsonErrorOffset();
  failAt(file).str("not valid JSON (").str(jsonErrorMessage()).str(" at line ")
    .i32(jsonLineOf(off)).str(" column ").i32(jsonColumnOf(off)).str(")");
  return -1;
}

/** The next token, the value of the key just read; -1 on a JSON error. */
let fileName = NAME_NONE;
function valueToken(): i32 {
  const t = jsonNext();
  if (t == TOK_ERROR) return notValid(fileName);
  return t;
}

/** An integer in [min, max]; -1 (error set) otherwise. */
function jInt(name: i32, min: i64, max: i64): i64 {
  const v = jsonIntegerIn(min, max, -1);
  if (jsonToken() != TOK_NUMBER || v < min) {
    const o = failAt(name).str("must be an integer from ").u64(<u64>min).str(" to ").u64(<u64>max).str(", not ");
    kind(o);
    return -1;
  }
  return v;
}

/** true/false → 1/0; -1 (error set) otherwise. */
function jBool(name: i32): i32 {
  const t = jsonToken();
  if (t == TOK_TRUE) return 1;
  if (t == TOK_FALSE) return 0;
  const o = failAt(name).str("must be true or false, not ");
  kind(o);
  return -1;
}

/** The decoded string into strBuf; its length, or -1 (error set). */
function jStr(name: i32): i32 {
  if (jsonToken() != TOK_STRING) {
    const o = failAt(name).str("must be a string, not ");
    kind(o);
    return -1;
  }
  const n = jsonString(strBuf, STR_CAP);
  if (n < 0) {
    failAt(name).str("is longer than ").i32(STR_CAP).str(" bytes");
    return -1;
  }
  return n;
}

function addrFail(name: i32): i32 {
  failAt(name).out(addrError);
  return -1;
}

/** Index of the string value among the choices ("a|b|c"), -1 when none (error set). */
function oneOf(name: i32, c0: string, c1: string, c2: string): i32 {
  const n = jStr(name);
  if (n < 0) return -1;
  if (jsonStringIs(c0)) return 0;
  if (jsonStringIs(c1)) return 1;
  if (jsonStringIs(c2)) return 2;
  failAt(name).str("must be one of \"").str(c0).str("\", \"").str(c1).str("\", \"").str(c2)
    .str("\", not \"").esc(strBuf, n).str("\"");
  return -1;
}

function unknownField(name: i32, known: string): i32 {
  failAt(name).str("unknown field (known: ").str(known).str(")");
  return -1;
}

function twice(name: i32): i32 {
  failAt(name).str("is given more than once");
  return -1;
}

// Keys seen in the object being read (bit per key), to refuse duplicates.
function seen(mask: u32, bit: i32, name: i32): i32 {
  return (mask & (<u32>1 << <u32>bit)) != 0 ? twice(name) : 0;
}

const RULE_KEYS = "ipv6Prefix, ipv4Prefix, eaLength, psidOffset, psidLength, psid, forwarding";
const BINDING_KEYS = "ipv4Address, ipv6Prefix, psidOffset, psidLength, psid";
const TIMEOUT_KEYS = "udp, dns, tcpEstablished, tcpTransitory, icmp";
const TOP_KEYS = "type, mode, rules, binding, br, dmr, endUserPrefix, legacyIid, tunnelMtu, hopLimit, filtering, mssClamp, trafficClassFromTos, timeouts, maxSessionsPerHost, maxSessionsPerMapping, innerFragmentation, pptp, brPptp, forwards, ftpAlg, ftpPort, fairShare, fairReserve, portReuse";

/** A rule (isBinding false) or the lw4o6 binding, at the TOK_OBJECT just read. */
function ruleObject(isBinding: bool): i32 {
  const base = pathName();
  if (jsonToken() != TOK_OBJECT) {
    const o = failAt(base).str("must be an object, not ");
    kind(o);
    return -1;
  }
  let r: MRule;
  if (isBinding) {
    r = addBinding();
  } else {
    const nr = addRule();
    if (nr === null) {
      moduleMessage(failAt(base), E.ERR_TOO_MANY_RULES);
      return -1;
    }
    r = nr;
  }
  ruleNames(r, base);
  if (isBinding) r.nV4 = nameWith(base, ".ipv4Address");
  let mask: u32 = 0;
  let offset: i64 = isBinding ? 0 : 6;
  let psidLength: i64 = -1;
  let psid: i64 = -1;
  let offsetGiven = false;
  while (true) {
    const t = jsonNext();
    if (t == TOK_ERROR) return notValid(fileName);
    if (t == TOK_OBJECT_END) break;
    const key = pathName();
    let bit = -1;
    if (jsonStringIs("ipv6Prefix")) bit = 0;
    else if (!isBinding && jsonStringIs("ipv4Prefix")) bit = 1;
    else if (isBinding && jsonStringIs("ipv4Address")) bit = 1;
    else if (!isBinding && jsonStringIs("eaLength")) bit = 2;
    else if (jsonStringIs("psidOffset")) bit = 3;
    else if (jsonStringIs("psidLength")) bit = 4;
    else if (jsonStringIs("psid")) bit = 5;
    else if (!isBinding && jsonStringIs("forwarding")) bit = 6;
    else if (jsonStringIs("$comment")) bit = 7;
    else return unknownField(key, isBinding ? BINDING_KEYS : RULE_KEYS);
    if (seen(mask, bit, key) < 0) return -1;
    mask |= <u32>1 << <u32>bit;
    if (valueToken() < 0) return -1;
    if (bit == 0) {
      const n = jStr(key);
      if (n < 0) return -1;
      if (!parsePrefix6(strBuf, n, v6Ptr(r))) return addrFail(key);
      r.v6len = parsedLen;
    } else if (bit == 1) {
      const n = jStr(key);
      if (n < 0) return -1;
      if (isBinding) {
        if (!parseIPv4(strBuf, n)) return addrFail(key);
        r.v4 = parsedV4;
        r.v4len = 32;
      } else {
        if (!parsePrefix4(strBuf, n)) return addrFail(key);
        r.v4 = parsedV4;
        r.v4len = parsedLen;
      }
    } else if (bit == 2) {
      const v = jInt(key, 0, 255);
      if (v < 0) return -1;
      r.ea = <i32>v;
    } else if (bit == 3) {
      offset = jInt(key, 0, 255);
      if (offset < 0) return -1;
      offsetGiven = true;
    } else if (bit == 4) {
      psidLength = jInt(key, 0, 255);
      if (psidLength < 0) return -1;
    } else if (bit == 5) {
      psid = jInt(key, 0, 65535);
      if (psid < 0) return -1;
    } else if (bit == 6) {
      const v = jBool(key);
      if (v < 0) return -1;
      r.forwarding = v;
    } else {
      jsonSkip();
    }
  }
  if ((mask & 1) == 0) return required2(base, ".ipv6Prefix");
  if ((mask & 2) == 0) return required2(base, isBinding ? ".ipv4Address" : ".ipv4Prefix");
  if (!isBinding && (mask & 4) == 0) return required2(base, ".eaLength");
  if (psid >= 0 && psidLength < 0) {
    failAt(r.nPsid).str("needs psidLength");
    return -1;
  }
  const defaultOffset: i64 = isBinding ? 0 : 6;
  if (psidLength < 0 && (!offsetGiven || offset == defaultOffset)) return 0;
  r.pp = 1;
  r.offset = <i32>offset;
  const k = psidLength < 0 ? 0 : <i32>psidLength;
  r.psidLength = k;
  const p = psid < 0 ? 0 : psid;
  if (k <= 16 && p >= (<i64>1 << k)) {
    failAt(r.nPsid).u64(<u64>p).str(" does not fit in a PSID of ").i32(k).str(" bits (0 to ")
      .u64((<u64>1 << <u64>k) - 1).str(")");
    return -1;
  }
  // RFC 7598 §4.5: the PSID is left-aligned in its 16-bit field.
  r.psid16 = k == 0 || k > 16 ? 0 : <i32>((p << (16 - k)) & 0xffff);
  return 0;
}

function required2(base: i32, suffix: string): i32 {
  failAt(nameWith(base, suffix)).str("is required");
  return -1;
}

/** A BR address string at the current token. */
function brValue(name: i32): i32 {
  const n = jStr(name);
  if (n < 0) return -1;
  if (!parseIPv6(strBuf, n, addrBuf)) return addrFail(name);
  if (!addBr(addrBuf, name)) {
    moduleMessage(failAt(name), E.ERR_TOO_MANY_BRS);
    return -1;
  }
  return 0;
}

function timeouts(): i32 {
  const base = pathName();
  if (jsonToken() != TOK_OBJECT) {
    const o = failAt(base).str("must be an object, not ");
    kind(o);
    return -1;
  }
  let mask: u32 = 0;
  while (true) {
    const t = jsonNext();
    if (t == TOK_ERROR) return notValid(fileName);
    if (t == TOK_OBJECT_END) return 0;
    const key = pathName();
    let code = 0;
    if (jsonStringIs("udp")) code = LOCAL_UDP_TIMEOUT;
    else if (jsonStringIs("dns")) code = LOCAL_DNS_TIMEOUT;
    else if (jsonStringIs("tcpEstablished")) code = LOCAL_TCP_ESTABLISHED_TIMEOUT;
    else if (jsonStringIs("tcpTransitory")) code = LOCAL_TCP_TRANSITORY_TIMEOUT;
    else if (jsonStringIs("icmp")) code = LOCAL_ICMP_TIMEOUT;
    else if (jsonStringIs("$comment")) code = 31;
    else return unknownField(key, TIMEOUT_KEYS);
    if (seen(mask, code, key) < 0) return -1;
    mask |= <u32>1 << <u32>code;
    if (valueToken() < 0) return -1;
    if (code == 31) {
      jsonSkip();
      continue;
    }
    const v = jInt(key, 0, 4294967295);
    if (v < 0) return -1;
    setLocal(code, <u32>v, key);
  }
}

/**
 * Reads the JSON text at p (n bytes) into the model; `file` names the file in
 * messages about the JSON itself. 0, or -1 with the error line set.
 */
export function parseJsonConfig(p: usize, n: i32, file: i32): i32 {
  fileName = file;
  jsonBegin(p, n);
  const t = jsonNext();
  if (t == TOK_ERROR) return notValid(file);
  if (t != TOK_OBJECT) {
    const o = failAt(file).str("must be an object, not ");
    kind(o);
    return -1;
  }
  let mask: u32 = 0;
  let type = 0; // index: map-e, map-t, lw4o6
  let rulesGiven = false;
  let ruleCountBefore = mRuleCount;
  let bindingGiven = false;
  let brGiven = false;
  let dmrGiven = false;
  while (true) {
    const k = jsonNext();
    if (k == TOK_ERROR) return notValid(file);
    if (k == TOK_OBJECT_END) break;
    const key = pathName();
    let bit = -1;
    if (jsonStringIs("$schema")) bit = 0;
    else if (jsonStringIs("$comment")) bit = 1;
    else if (jsonStringIs("type")) bit = 2;
    else if (jsonStringIs("mode")) bit = 3;
    else if (jsonStringIs("rules")) bit = 4;
    else if (jsonStringIs("binding")) bit = 5;
    else if (jsonStringIs("br")) bit = 6;
    else if (jsonStringIs("dmr")) bit = 7;
    else if (jsonStringIs("endUserPrefix")) bit = 8;
    else if (jsonStringIs("legacyIid")) bit = 9;
    else if (jsonStringIs("tunnelMtu")) bit = 10;
    else if (jsonStringIs("hopLimit")) bit = 11;
    else if (jsonStringIs("filtering")) bit = 12;
    else if (jsonStringIs("mssClamp")) bit = 13;
    else if (jsonStringIs("trafficClassFromTos")) bit = 14;
    else if (jsonStringIs("timeouts")) bit = 15;
    else if (jsonStringIs("maxSessionsPerHost")) bit = 16;
    else if (jsonStringIs("maxSessionsPerMapping")) bit = 17;
    else if (jsonStringIs("innerFragmentation")) bit = 18;
    else if (jsonStringIs("pptp")) bit = 30;   // PPTP ALG (CE), LOCAL PPTP
    else if (jsonStringIs("brPptp")) bit = 31; // PPTP GRE routing (BR), LOCAL BR_PPTP
    else if (jsonStringIs("forwards")) bit = 19;
    else if (jsonStringIs("ftpAlg")) bit = 20;      // FTP ALG (CE), LOCAL FTP_ALG
    else if (jsonStringIs("ftpPort")) bit = 21;     // its control port, LOCAL FTP_PORT
    else if (jsonStringIs("fairShare")) bit = 22;   // fair shares of a full set, LOCAL FAIR_SHARE
    else if (jsonStringIs("fairReserve")) bit = 23; // ports kept for hosts below their share, LOCAL FAIR_RESERVE
    else if (jsonStringIs("portReuse")) bit = 24;   // TCP port reuse, LOCAL PORT_REUSE
    else return unknownField(key, TOP_KEYS);
    if (seen(mask, bit, key) < 0) return -1;
    mask |= <u32>1 << <u32>bit;
    if (valueToken() < 0) return -1;
    let e = 0;
    switch (bit) {
      case 0:
      case 1: { jsonSkip(); break; }
      case 2: { type = oneOf(key, "map-e", "map-t", "lw4o6"); e = type; break; }
      case 3: { e = oneOf(key, "calc", "ce", "br"); break; }
      case 4: {
        rulesGiven = true;
        if (jsonToken() != TOK_ARRAY) {
          const o = failAt(key).str("must be an array of rules, not ");
          kind(o);
          return -1;
        }
        while (true) {
          const r = jsonNext();
          if (r == TOK_ERROR) return notValid(file);
          if (r == TOK_ARRAY_END) break;
          if (ruleObject(false) < 0) return -1;
        }
        break;
      }
      case 5: { bindingGiven = true; e = ruleObject(true); break; }
      case 6: {
        brGiven = true;
        if (jsonToken() == TOK_STRING) {
          e = brValue(key);
        } else if (jsonToken() == TOK_ARRAY) {
          while (true) {
            const r = jsonNext();
            if (r == TOK_ERROR) return notValid(file);
            if (r == TOK_ARRAY_END) break;
            if (brValue(pathName()) < 0) return -1;
          }
        } else {
          const o = failAt(key).str("must be an IPv6 address or an array of them, not ");
          kind(o);
          return -1;
        }
        break;
      }
      case 7:
      case 8: {
        const n = jStr(key);
        if (n < 0) return -1;
        if (!parsePrefix6(strBuf, n, addrBuf)) return addrFail(key);
        if (bit == 7) { dmrGiven = true; setDmr(addrBuf, parsedLen, key); }
        else setPrefix(addrBuf, parsedLen, key);
        break;
      }
      case 9: { e = jBool(key); if (e >= 0) setLocal(LOCAL_LEGACY_IID, <u32>e, key); break; }
      case 10: { const v = jInt(key, 0, 65535); if (v < 0) return -1; setLocal(LOCAL_TUNNEL_MTU, <u32>v, key); break; }
      case 11: { const v = jInt(key, 0, 255); if (v < 0) return -1; setLocal(LOCAL_HOP_LIMIT, <u32>v, key); break; }
      case 12: {
        e = oneOf(key, "endpoint-independent", "address-dependent", "address-and-port-dependent");
        if (e >= 0) setLocal(LOCAL_FILTERING, <u32>e, key);
        break;
      }
      case 13: {
        // "auto", "off" or an MSS (0 and 1 are the codes of off and auto, so not MSS values).
        let v: i64 = -1;
        if (jsonToken() == TOK_STRING && jsonStringIs("auto")) v = 1;
        else if (jsonToken() == TOK_STRING && jsonStringIs("off")) v = 0;
        else if (jsonToken() == TOK_NUMBER) v = jsonIntegerIn(536, 65535, -1);
        if (v < 0) {
          const o = failAt(key).str("must be \"auto\", \"off\" or an MSS from 536 to 65535, not ");
          kind(o);
          return -1;
        }
        setLocal(LOCAL_MSS_CLAMP, <u32>v, key);
        break;
      }
      case 14: { e = jBool(key); if (e >= 0) setLocal(LOCAL_TC_FROM_TOS, <u32>e, key); break; }
      case 18: { e = jBool(key); if (e >= 0) setLocal(LOCAL_INNER_FRAGMENTATION, <u32>e, key); break; }
      case 30: { e = jBool(key); if (e >= 0) setLocal(LOCAL_PPTP, <u32>e, key); break; }
      case 31: { e = jBool(key); if (e >= 0) setLocal(LOCAL_BR_PPTP, <u32>e, key); break; }
      case 20: { e = jBool(key); if (e >= 0) setLocal(LOCAL_FTP_ALG, <u32>e, key); break; }
      case 21: { const v = jInt(key, 1, 65535); if (v < 0) return -1; setLocal(LOCAL_FTP_PORT, <u32>v, key); break; }
      case 22: { e = jBool(key); if (e >= 0) setLocal(LOCAL_FAIR_SHARE, <u32>e, key); break; }
      case 23: { const v = jInt(key, 0, 4096); if (v < 0) return -1; setLocal(LOCAL_FAIR_RESERVE, <u32>v, key); break; }
      case 24: {
        e = oneOf(key, "off", "on", "auto");
        if (e >= 0) setLocal(LOCAL_PORT_REUSE, <u32>(e == 0 ? PORT_REUSE_OFF : e == 1 ? PORT_REUSE_ON : PORT_REUSE_AUTO), key);
        break;
      }
      case 16:
      case 17: {
        const v = jInt(key, 0, MAX_SESSION_LIMIT);
        if (v < 0) return -1;
        setLocal(bit == 16 ? LOCAL_MAX_SESSIONS_PER_HOST : LOCAL_MAX_SESSIONS_PER_MAPPING, <u32>v, key);
        break;
      }
      case 15: { e = timeouts(); break; }
      case 19: {
        // Static forwards: an array of "<tcp|udp>:<ext>=<ipv4>[:<port>]" (config/forward.ts).
        if (jsonToken() != TOK_ARRAY) {
          const o = failAt(key).str("must be an array of \"tcp|udp:<port>=<ipv4>[:<port>]\" strings, not ");
          kind(o);
          return -1;
        }
        while (true) {
          const r = jsonNext();
          if (r == TOK_ERROR) return notValid(file);
          if (r == TOK_ARRAY_END) break;
          const item = pathName();
          const n = jStr(item);
          if (n < 0) return -1;
          if (forwardText(strBuf, n, item) < 0) return -1;
        }
        break;
      }
      default: break;
    }
    if (e < 0) return -1;
  }
  if (jsonNext() == TOK_ERROR) return notValid(file);
  const typeName = type == 0 ? "map-e" : type == 1 ? "map-t" : "lw4o6";
  if (type == 2 && mRuleCount > ruleCountBefore) {
    failAt(nameLit("rules")).str("an lw4o6 configuration has a binding, not rules");
    return -1;
  }
  if (type != 2 && bindingGiven) {
    failAt(nameLit("binding")).str("only an lw4o6 configuration has a binding (type is \"").str(typeName).str("\")");
    return -1;
  }
  if (type != 1 && dmrGiven) {
    failAt(nameLit("dmr")).str("only a MAP-T configuration has a DMR (type is \"").str(typeName).str("\")");
    return -1;
  }
  if (type == 1 && brGiven) {
    failAt(nameLit("br")).str("a MAP-T configuration has a DMR, not BR addresses");
    return -1;
  }
  setType(type == 0 ? TYPE_MAPE : type == 1 ? TYPE_MAPT : TYPE_LW);
  setMissing(nameLit(type == 2 ? "binding" : "rules"), nameLit("br"), nameLit("dmr"), nameLit("endUserPrefix"));
  return 0;
}
