// The model (model.ts) → the option bytes configure() parses (docs/abi.md §1),
// written straight into the configuration buffer: one S46 container (RFC 7598
// §5) first, so hex input keeps its offsets, then OPTION_IAPREFIX (RFC 8415
// §21.22) with the end-user prefix, then OPTION_MAPE_LOCAL.
//
// The encoder checks only what the bytes cannot carry (a value that does not
// fit its field, a PSID wider than its length); every structural check is
// configure()'s. So that configure()'s error (code, byte offset, option) can
// name the user's field, the encoder records which bytes came from which
// field: spans [start, end) → name, and for hex input the user's byte offset.
// moduleErrorText() picks the innermost span holding the offset.
//
// Spans (SPAN_MAX rows of SPAN_BYTES):
//   +--------+--------+--------+------------+
//   | start  | end    | name   | userOffset |  i32 each; userOffset -1: not binary
//   +--------+--------+--------+------------+
import { CONFIG_BUFFER_SIZE } from "../config";
import { configBufferPtr } from "../map/provision";
import { settingRow, settingWidth, LOCAL_DNS_UPSTREAM } from "../settings";
import * as E from "../map/errors";
import { Out } from "./text";
import { NAME_NONE, failAt, failLit, errorText, errorFieldLength, nameStart, nameLength,
  MRule, ruleAt, binding, v6Ptr, mType, mRuleCount, mHasBinding, mBrCount, brPtr, brName,
  mHasDmr, mDmr, mDmrLen, mDmrName, mHasPrefix, mPrefix, mPrefixLen, mPrefixName,
  LOCAL_CODES, dnsUpstreamAt, localIsGiven, localValueOf, localNameOf, missRules, missBr, missDmr, missPrefix,
  TYPE_MAPT } from "./model";
import { forwardModelCount, forwardModelProto, forwardModelExt, forwardModelAddr, forwardModelPort,
  forwardModelName } from "./forward";
import { LOCAL_FORWARD, forwardCheckSet } from "../nat/pins";
import { portSetRangeCount, portSetRangeFirst, portSetRangeLast } from "../map/portset";

export const OPTION_IAPREFIX: i32 = 26;
export const OPTION_S46_RULE: i32 = 89;
export const OPTION_S46_BR: i32 = 90;
export const OPTION_S46_DMR: i32 = 91;
export const OPTION_S46_V4V6BIND: i32 = 92;
export const OPTION_S46_PORTPARAMS: i32 = 93;
export const OPTION_MAPE_LOCAL: i32 = 0xff01;

const SPAN_MAX: i32 = 4096;
const SPAN_BYTES: usize = 16;
const spans: usize = memory.data(SPAN_MAX * <i32>SPAN_BYTES, 8);
let spanCount = 0;

let w = 0; // write position in the configuration buffer
let overflow = false;
const buf: usize = configBufferPtr();

/** What the last encoding was (a copy, to tell later whether configure() got these bytes). */
const encodedCopy: usize = memory.data(CONFIG_BUFFER_SIZE, 8);
let encodedLen = -1;
/** Hex input: errors carry byte offsets and the option. */
let binaryInput = false;

export function encodeReset(): void {
  w = 0;
  overflow = false;
  spanCount = 0;
  encodedLen = -1;
  binaryInput = false;
}

export function setBinary(b: bool): void { binaryInput = b; }
export function encodedLength(): i32 { return w; }

@inline function put(v: i32): void {
  if (w < CONFIG_BUFFER_SIZE) store<u8>(buf + <usize>w, <u8>v);
  else overflow = true;
  w++;
}

export function span(start: i32, end: i32, name: i32, userOffset: i32): void {
  if (spanCount >= SPAN_MAX) return;
  const p = spans + <usize>spanCount * SPAN_BYTES;
  store<i32>(p, start);
  store<i32>(p + 4, end);
  store<i32>(p + 8, name);
  store<i32>(p + 12, userOffset);
  spanCount++;
}

export function w8(v: i32, name: i32 = -1): void {
  if (name >= 0) span(w, w + 1, name, -1);
  put(v);
}
export function w16(v: i32, name: i32 = -1): void {
  if (name >= 0) span(w, w + 2, name, -1);
  put(v >> 8);
  put(v);
}
export function w32(v: u32, name: i32 = -1): void {
  if (name >= 0) span(w, w + 4, name, -1);
  put(<i32>(v >> 24));
  put(<i32>(v >> 16));
  put(<i32>(v >> 8));
  put(<i32>v);
}
export function wBytes(p: usize, n: i32, name: i32 = -1): void {
  if (name >= 0) span(w, w + n, name, -1);
  for (let i = 0; i < n; i++) put(<i32>load<u8>(p + <usize>i));
}
/** Starts an option: returns its start (for optionEnd). */
export function optionBegin(code: i32): i32 {
  const start = w;
  put(code >> 8);
  put(code);
  put(0);
  put(0);
  return start;
}
/** Fills in the option's length; names the whole option when name >= 0. False when longer than 65535. */
export function optionEnd(start: i32, name: i32): bool {
  const len = w - start - 4;
  if (len > 0xffff) {
    failAt(name >= 0 ? name : NAME_NONE).str("an option is longer than 65535 bytes");
    return false;
  }
  if (start + 3 < CONFIG_BUFFER_SIZE) {
    store<u8>(buf + <usize>(start + 2), <u8>(len >> 8));
    store<u8>(buf + <usize>(start + 3), <u8>len);
  }
  if (name >= 0) span(start, w, name, -1);
  return true;
}

function checkByte(v: i32, name: i32): bool {
  if (v < 0 || v > 255) {
    failAt(name).i32(v).str(" is not an integer from 0 to 255");
    return false;
  }
  return true;
}

function writePrefix6(p: usize, len: i32, lenName: i32, name: i32): void {
  w8(len, lenName);
  wBytes(p, (len + 7) >> 3, name);
}

function writePortParams(r: MRule): bool {
  if (!checkByte(r.offset, r.nOffset) || !checkByte(r.psidLength, r.nPsidLength)) return false;
  const o = optionBegin(OPTION_S46_PORTPARAMS);
  w8(r.offset, r.nOffset);
  w8(r.psidLength, r.nPsidLength);
  w16(r.psid16, r.nPsid);
  return optionEnd(o, r.nRule);
}

function writeRule(r: MRule): bool {
  if (!checkByte(r.ea, r.nEa)) return false;
  const o = optionBegin(OPTION_S46_RULE);
  w8(r.forwarding, r.nForwarding);
  w8(r.ea, r.nEa);
  w8(r.v4len, r.nV4len);
  w32(r.v4, r.nV4);
  writePrefix6(v6Ptr(r), r.v6len, r.nV6len, r.nV6);
  if (r.pp && !writePortParams(r)) return false;
  return optionEnd(o, r.nRule);
}

function writeBinding(r: MRule): bool {
  const o = optionBegin(OPTION_S46_V4V6BIND);
  w32(r.v4, r.nV4);
  writePrefix6(v6Ptr(r), r.v6len, r.nV6len, r.nV6);
  if (r.pp && !writePortParams(r)) return false;
  return optionEnd(o, r.nRule);
}

/** OPTION_IAPREFIX with infinite lifetimes. */
export function writeIaPrefix(p: usize, len: i32, name: i32): void {
  const o = optionBegin(OPTION_IAPREFIX);
  w32(0xffffffff);
  w32(0xffffffff);
  w8(len, name);
  wBytes(p, 16, name);
  optionEnd(o, name);
}

/** OPTION_MAPE_LOCAL with the settings given (none: no option). */
export function writeLocal(): bool {
  let any = false;
  for (let c = 1; c < LOCAL_CODES; c++) if (localIsGiven(c)) any = true;
  if (forwardModelCount() > 0) any = true;
  if (!any) return true;
  const o = optionBegin(OPTION_MAPE_LOCAL);
  for (let c = 1; c < LOCAL_CODES; c++) {
    if (!localIsGiven(c)) continue;
    if (c == LOCAL_DNS_UPSTREAM) {
      // A list of IPv6 addresses (provision.ts parseLocal).
      const s = optionBegin(c);
      wBytes(dnsUpstreamAt(0), <i32>localValueOf(c) * 16, localNameOf(c));
      if (!optionEnd(s, localNameOf(c))) return false;
      continue;
    }
    const row = settingRow(c);
    const width = row < 0 ? 4 : settingWidth(row);
    const v = localValueOf(c);
    const name = localNameOf(c);
    if (width < 4 && v > (<u32>1 << <u32>(8 * width)) - 1) {
      failAt(name).u32(v).str(" is not an integer from 0 to ").u32((<u32>1 << <u32>(8 * width)) - 1);
      return false;
    }
    const s = optionBegin(c);
    if (width == 1) w8(<i32>v, name);
    else if (width == 2) w16(<i32>v, name);
    else w32(v, name);
    if (!optionEnd(s, name)) return false;
  }
  // Static forwards: one FORWARD sub-option each (nat/pins.ts draws the value).
  for (let i = 0; i < forwardModelCount(); i++) {
    const name = forwardModelName(i);
    const s = optionBegin(LOCAL_FORWARD);
    w8(forwardModelProto(i), name);
    w16(forwardModelExt(i), name);
    w32(forwardModelAddr(i), name);
    w16(forwardModelPort(i), name);
    if (!optionEnd(s, name)) return false;
  }
  return optionEnd(o, -1);
}

/** Encodes the model. The encoded length, or -1 (error text set). */
export function encodeModel(): i32 {
  const c = optionBegin(mType);
  for (let i = 0; i < mRuleCount; i++) if (!writeRule(ruleAt(i))) return -1;
  if (mHasBinding && !writeBinding(binding())) return -1;
  if (mType != TYPE_MAPT) {
    for (let i = 0; i < mBrCount; i++) {
      const o = optionBegin(OPTION_S46_BR);
      wBytes(brPtr(i), 16, brName(i));
      optionEnd(o, brName(i));
    }
  }
  if (mHasDmr) {
    const o = optionBegin(OPTION_S46_DMR);
    writePrefix6(mDmr, mDmrLen, mDmrName, mDmrName);
    optionEnd(o, mDmrName);
  }
  if (!optionEnd(c, -1)) return -1;
  if (mHasPrefix) writeIaPrefix(mPrefix, mPrefixLen, mPrefixName);
  if (!writeLocal()) return -1;
  return finish();
}

/** Ends an encoding: checks it fit, keeps a copy. The length, or -1. */
export function finish(): i32 {
  if (overflow || w > CONFIG_BUFFER_SIZE) {
    failLit("configuration").i32(w).str(" bytes of options do not fit the module's ").i32(CONFIG_BUFFER_SIZE).str("-byte buffer");
    return -1;
  }
  memory.copy(encodedCopy, buf, <usize>w);
  encodedLen = w;
  return w;
}

/** Whether configure(len) was given exactly the bytes of the last encoding. */
export function isEncoded(len: i32): bool {
  return len == encodedLen && len >= 0 && memory.compare(encodedCopy, buf, <usize>len) == 0;
}

// ---- configure() errors in the user's terms ----

/** configure()'s message for each error code (index = code); mirrored nowhere else. */
export function moduleMessage(o: Out, code: i32): void {
  let m = "";
  let n = "";
  switch (code) {
    case E.ERR_TRUNCATED: { n = "TRUNCATED"; m = "an option or field runs past the end of what encloses it"; break; }
    case E.ERR_OPTION_LENGTH: { n = "OPTION_LENGTH"; m = "the option's length does not fit its fixed fields"; break; }
    case E.ERR_UNKNOWN_OPTION: { n = "UNKNOWN_OPTION"; m = "an option code that is not expected here"; break; }
    case E.ERR_CONTAINER_MISSING: { n = "CONTAINER_MISSING"; m = "no S46 container (MAP-E 94, MAP-T 95 or lw4o6 96)"; break; }
    case E.ERR_CONTAINER_DUPLICATE: { n = "CONTAINER_DUPLICATE"; m = "more than one S46 container"; break; }
    case E.ERR_RULE_MISSING: { n = "RULE_MISSING"; m = "no mapping rule (S46_RULE), or an lw4o6 CE without a binding (S46_V4V6BIND)"; break; }
    case E.ERR_BR_MISSING: { n = "BR_MISSING"; m = "no border relay address (S46_BR)"; break; }
    case E.ERR_DMR_COUNT: { n = "DMR_COUNT"; m = "a MAP-T container needs exactly one default mapping rule (S46_DMR)"; break; }
    case E.ERR_BIND_COUNT: { n = "BIND_COUNT"; m = "more than one lw4o6 binding (S46_V4V6BIND)"; break; }
    case E.ERR_PREFIX4_LENGTH: { n = "PREFIX4_LENGTH"; m = "IPv4 prefix length above 32"; break; }
    case E.ERR_PREFIX6_LENGTH: { n = "PREFIX6_LENGTH"; m = "IPv6 prefix length above 128"; break; }
    case E.ERR_EA_LENGTH: { n = "EA_LENGTH"; m = "EA-bits length above 48"; break; }
    case E.ERR_EA_TOO_LONG_FOR_ADDRESS: { n = "EA_TOO_LONG_FOR_ADDRESS"; m = "EA-bits length minus the IPv4 suffix length (32 - IPv4 prefix length) gives a PSID longer than 16 bits"; break; }
    case E.ERR_PSID_TOO_LONG: { n = "PSID_TOO_LONG"; m = "PSID offset + PSID length above 16"; break; }
    case E.ERR_PORTPARAMS_OFFSET: { n = "PORTPARAMS_OFFSET"; m = "PSID offset above 15"; break; }
    case E.ERR_PREFIX_MISSING: { n = "PREFIX_MISSING"; m = "a MAP CE needs its end-user IPv6 prefix (the delegated prefix)"; break; }
    case E.ERR_PREFIX_OUTSIDE_RULE: { n = "PREFIX_OUTSIDE_RULE"; m = "the end-user IPv6 prefix lies in no rule's IPv6 prefix"; break; }
    case E.ERR_PREFIX_LENGTH: { n = "PREFIX_LENGTH"; m = "the end-user IPv6 prefix is shorter than the rule's IPv6 prefix length + EA-bits length"; break; }
    case E.ERR_PREFIX6_PLUS_EA: { n = "PREFIX6_PLUS_EA"; m = "the rule's IPv6 prefix length + EA-bits length is above 64 (no room for the interface id)"; break; }
    case E.ERR_TOO_MANY_RULES: { n = "TOO_MANY_RULES"; m = "more rules than the rule table holds"; break; }
    case E.ERR_TOO_MANY_BRS: { n = "TOO_MANY_BRS"; m = "more border relay addresses than the table holds"; break; }
    case E.ERR_LOCAL_VALUE: { n = "LOCAL_VALUE"; m = "a local setting is out of its range"; break; }
    case E.ERR_MODE_UNSUPPORTED: { n = "MODE_UNSUPPORTED"; m = "MAP-T is supported for calc only"; break; }
    case E.ERR_PSID_MISMATCH: { n = "PSID_MISMATCH"; m = "the PSID length disagrees with the one the rule's EA bits give"; break; }
    case E.ERR_PSID_VALUE: { n = "PSID_VALUE"; m = "the PSID has bits set beyond its length"; break; }
    case E.ERR_PREFIX_UNEXPECTED: { n = "PREFIX_UNEXPECTED"; m = "a BR has no end-user prefix (give none in BR mode)"; break; }
    case E.ERR_OPTION_DUPLICATE: { n = "OPTION_DUPLICATE"; m = "an option that may appear once appears again"; break; }
    case E.ERR_CONFIG_LENGTH: { n = "CONFIG_LENGTH"; m = "the configuration does not fit the module's buffer"; break; }
    case E.ERR_FORWARD_PORT: { n = "FORWARD_PORT"; m = "the external port is not in this CE's port set"; break; }
    default: {
      o.str("configuration rejected with error code ").i32(code);
      return;
    }
  }
  o.str(m);
  if (code == E.ERR_FORWARD_PORT) {
    // The set's ranges, as `mape calc` prints them.
    const set = forwardCheckSet();
    o.str(" (ports ");
    const rc = portSetRangeCount(set);
    for (let r = 0; r < rc; r++) {
      if (r > 0) o.str(", ");
      const a = portSetRangeFirst(set, r);
      const b = portSetRangeLast(set, r);
      o.i32(a);
      if (b != a) o.byte(0x2d).i32(b);
    }
    o.str(")");
  }
  o.str(" (").str(n).str(")");
}

/** "S46_RULE (89)" for an option code. */
export function optionName(o: Out, code: i32): void {
  let n = "";
  switch (code) {
    case 26: { n = "OPTION_IAPREFIX"; break; }
    case 89: { n = "S46_RULE"; break; }
    case 90: { n = "S46_BR"; break; }
    case 91: { n = "S46_DMR"; break; }
    case 92: { n = "S46_V4V6BIND"; break; }
    case 93: { n = "S46_PORTPARAMS"; break; }
    case 94: { n = "S46_CONT_MAPE"; break; }
    case 95: { n = "S46_CONT_MAPT"; break; }
    case 96: { n = "S46_CONT_LW"; break; }
    case 0xff01: { n = "OPTION_MAPE_LOCAL"; break; }
    default: {
      o.str("option ").i32(code);
      return;
    }
  }
  o.str(n).str(" (").i32(code).str(")");
}

/**
 * The error line for configure()'s (code, offset, option) over `len` bytes:
 * the innermost field whose bytes hold the offset, or, for errors about
 * something missing, what is missing. Bytes that were not the last encoding
 * (a host that wrote the buffer itself) are named "options", with offsets.
 */
export function moduleErrorText(len: i32, code: i32, offset: i32, option: i32): void {
  const ours = isEncoded(len);
  let best = -1;
  let bestSize = 0x7fffffff;
  if (ours) {
    for (let i = 0; i < spanCount; i++) {
      const p = spans + <usize>i * SPAN_BYTES;
      const s = load<i32>(p);
      const e = load<i32>(p + 4);
      if (offset >= s && offset < e && e - s <= bestSize) {
        best = i;
        bestSize = e - s;
      }
    }
  }
  const binary = !ours || binaryInput;
  let userOffset = -1;
  let field = NAME_NONE;
  let literalOptions = !ours;
  const aboutMissing = code == E.ERR_PREFIX_MISSING || code == E.ERR_PREFIX_OUTSIDE_RULE ||
    code == E.ERR_PREFIX_LENGTH || code == E.ERR_PREFIX_UNEXPECTED || code == E.ERR_CONTAINER_MISSING;
  if (!ours) {
    if (!aboutMissing && offset >= 0 && offset < len) userOffset = offset;
  } else if (code == E.ERR_PREFIX_MISSING || code == E.ERR_PREFIX_OUTSIDE_RULE ||
             code == E.ERR_PREFIX_LENGTH || code == E.ERR_PREFIX_UNEXPECTED) {
    field = missPrefix;
  } else if (code == E.ERR_CONTAINER_MISSING) {
    field = missRules;
  } else if (best >= 0 && load<i32>(spans + <usize>best * SPAN_BYTES + 12) >= 0) {
    const p = spans + <usize>best * SPAN_BYTES;
    field = load<i32>(p + 8);
    userOffset = offset - load<i32>(p) + load<i32>(p + 12);
  } else if (code == E.ERR_RULE_MISSING) {
    field = missRules;
  } else if (code == E.ERR_BR_MISSING) {
    field = missBr;
  } else if (code == E.ERR_DMR_COUNT) {
    field = missDmr;
  } else if (best >= 0) {
    field = load<i32>(spans + <usize>best * SPAN_BYTES + 8);
  }
  const o = literalOptions ? failLit("options") : failAt(field);
  moduleMessage(o, code);
  const withOption = binary && option != 0;
  if (userOffset >= 0 || withOption) {
    o.str(" [");
    if (userOffset >= 0) o.str("byte ").i32(userOffset);
    if (withOption) {
      if (userOffset >= 0) o.str(", ");
      o.str("in ");
      optionName(o, option);
    }
    o.str("]");
  }
}

// Re-exported for the error line's users.
export { errorText, errorFieldLength, nameStart, nameLength };
