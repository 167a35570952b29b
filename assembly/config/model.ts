// What a configuration says, whatever its text format (the --config JSON
// file, --rule and its flags, OpenWrt rule strings, UCI), before it becomes
// option bytes (encode.ts): fixed tables, one configuration at a time.
// Every field carries the *name* the user knows it by ("rules[0].eaLength",
// "--rule EA bits", "/etc/config/network:13 option ealen"), kept as text in
// the names pool, so an error found later — by the encoder, or by
// configure() at some byte offset — can name it.
//
// Fixed regions (memory.data; nothing allocates):
//
//   names pool     NAMES_BYTES of name text; name ids index NAME_MAX (start, length) rows
//   rules          MODEL_RULES × MRule (one more than the module's table, so
//                  configure() itself reports TOO_MANY_RULES at the user's rule)
//   BRs            MODEL_BRS × 16 bytes + a name each
//   local settings LOCAL_CODES rows: given, value, name
//   error text     ERROR_BYTES: the one line configErrorText() returns
import { forwardModelReset } from "./forward";
import { MAX_RULES, MAX_BRS } from "../config";
import { Out, newOut } from "./text";

// ---- Names ----

const NAMES_BYTES: i32 = 128 << 10;
const NAME_MAX: i32 = 8192;
const namesRegion: usize = memory.data(NAMES_BYTES, 8);
const nameRows: usize = memory.data(NAME_MAX * 8, 8);
/** The pool being written; a name is the text between nameBegin() and nameEnd(). */
export const names: Out = newOut(namesRegion, NAMES_BYTES, memory.data(<i32>offsetof<Out>(), 8));
let nameCount = 0;

/** Name 0: what to call a field nobody named. */
export const NAME_NONE: i32 = 0;

export function namesReset(): void {
  names.reset();
  nameCount = 0;
  nameLit("configuration");
}

/** Starts a name: write its text to `names`, then call nameEnd(start). */
export function nameBegin(): i32 {
  return names.len;
}

/** Ends the name begun at `start`; its id (NAME_NONE when the table is full). */
export function nameEnd(start: i32): i32 {
  if (nameCount >= NAME_MAX) {
    names.len = start;
    return NAME_NONE;
  }
  store<i32>(nameRows + <usize>(nameCount * 8), start);
  store<i32>(nameRows + <usize>(nameCount * 8 + 4), names.len - start);
  return nameCount++;
}

export function nameLit(s: string): i32 {
  const b = nameBegin();
  names.str(s);
  return nameEnd(b);
}

/** A name: the text of `base` followed by `suffix` ("rules[0]" + ".eaLength"). */
export function nameWith(base: i32, suffix: string): i32 {
  const b = nameBegin();
  nameAppend(base);
  names.str(suffix);
  return nameEnd(b);
}

/** Appends the text of name `id` to the name being written. */
export function nameAppend(id: i32): void {
  // Copy through the pool itself: the source lies before the write position.
  const p = nameRows + <usize>(id * 8);
  const start = load<i32>(p);
  const len = load<i32>(p + 4);
  for (let i = 0; i < len; i++) names.byte(names.at(start + i));
}

export function nameStart(id: i32): usize {
  return namesRegion + <usize>load<i32>(nameRows + <usize>(id * 8));
}
export function nameLength(id: i32): i32 {
  return load<i32>(nameRows + <usize>(id * 8 + 4));
}

// ---- The error line ----

export const ERROR_BYTES: i32 = 2048;
const errorRegion: usize = memory.data(ERROR_BYTES, 8);
/** "<field>: <what is wrong>", escaped. */
export const errorText: Out = newOut(errorRegion, ERROR_BYTES, memory.data(<i32>offsetof<Out>(), 8));
/** Bytes of the field at the start of errorText. */
export let errorFieldLength: i32 = 0;

/** Starts the error line with the field `name`; append what is wrong to the result. */
export function failAt(name: i32): Out {
  errorText.reset().esc(nameStart(name), nameLength(name));
  errorFieldLength = errorText.len;
  return errorText.str(": ");
}

/** Starts the error line with a field given as a literal. */
export function failLit(field: string): Out {
  errorText.reset().str(field);
  errorFieldLength = errorText.len;
  return errorText.str(": ");
}

export function errorClear(): void {
  errorText.reset();
  errorFieldLength = 0;
}

// ---- The model ----

/** Container codes (RFC 7598 §5). */
export const TYPE_MAPE: i32 = 94;
export const TYPE_MAPT: i32 = 95;
export const TYPE_LW: i32 = 96;

/** A MAP rule (S46_RULE) or the lw4o6 binding (S46_V4V6BIND), with the name of each field. */
@unmanaged
export class MRule {
  v6a: u64 = 0;          // the IPv6 prefix, 16 bytes as stored
  v6b: u64 = 0;
  v6len: i32 = 0;
  v4: u32 = 0;
  v4len: i32 = 0;
  ea: i32 = 0;
  forwarding: i32 = 0;
  /** 1: write S46_PORTPARAMS. */
  pp: i32 = 0;
  offset: i32 = 0;
  psidLength: i32 = 0;
  /** The 16-bit wire value (left-aligned). */
  psid16: i32 = 0;
  nRule: i32 = 0;
  nForwarding: i32 = 0;
  nEa: i32 = 0;
  nV4len: i32 = 0;
  nV4: i32 = 0;
  nV6len: i32 = 0;
  nV6: i32 = 0;
  nOffset: i32 = 0;
  nPsidLength: i32 = 0;
  nPsid: i32 = 0;
}

export const MODEL_RULES: i32 = MAX_RULES + 1;
export const MODEL_BRS: i32 = MAX_BRS + 1;
const RULE_SIZE: usize = offsetof<MRule>();
const rulesRegion: usize = memory.data(<i32>(MODEL_RULES * <i32>RULE_SIZE), 8);
const bindingRegion: usize = memory.data(<i32>RULE_SIZE, 8);
const brRegion: usize = memory.data(MODEL_BRS * 16, 8);
const brNames: usize = memory.data(MODEL_BRS * 4, 8);

export let mType: i32 = TYPE_MAPE;
export let mRuleCount: i32 = 0;
export let mHasBinding: bool = false;
export let mBrCount: i32 = 0;
export let mHasDmr: bool = false;
export let mDmrLen: i32 = 0;
export let mDmrName: i32 = 0;
export const mDmr: usize = memory.data(16, 8);
export let mHasPrefix: bool = false;
export let mPrefixLen: i32 = 0;
export let mPrefixName: i32 = 0;
export const mPrefix: usize = memory.data(16, 8);
// Names for errors about something missing.
export let missRules: i32 = 0;
export let missBr: i32 = 0;
export let missDmr: i32 = 0;
export let missPrefix: i32 = 0;

export function setType(t: i32): void { mType = t; }
export function setMissing(rules: i32, br: i32, dmr: i32, prefix: i32): void {
  missRules = rules;
  missBr = br;
  missDmr = dmr;
  missPrefix = prefix;
}
export function setMissingPrefix(n: i32): void { missPrefix = n; }
export function setMissingBr(n: i32): void { missBr = n; }
export function setMissingDmr(n: i32): void { missDmr = n; }

export function ruleAt(i: i32): MRule {
  return changetype<MRule>(rulesRegion + <usize>i * RULE_SIZE);
}
export function binding(): MRule {
  return changetype<MRule>(bindingRegion);
}
export function v6Ptr(r: MRule): usize {
  return changetype<usize>(r) + offsetof<MRule>("v6a");
}

/** A new rule (zeroed, names NAME_NONE), or null when the model is full. */
export function addRule(): MRule | null {
  if (mRuleCount >= MODEL_RULES) return null;
  const r = ruleAt(mRuleCount++);
  memory.fill(changetype<usize>(r), 0, RULE_SIZE);
  return r;
}

export function addBinding(): MRule {
  const r = binding();
  memory.fill(changetype<usize>(r), 0, RULE_SIZE);
  mHasBinding = true;
  return r;
}

/** Names every field of r "<base>.<key>" (JSON style): the caller overrides what differs. */
export function ruleNames(r: MRule, base: i32): void {
  r.nRule = base;
  r.nForwarding = nameWith(base, ".forwarding");
  r.nEa = nameWith(base, ".eaLength");
  r.nV4 = nameWith(base, ".ipv4Prefix");
  r.nV4len = r.nV4;
  r.nV6 = nameWith(base, ".ipv6Prefix");
  r.nV6len = r.nV6;
  r.nOffset = nameWith(base, ".psidOffset");
  r.nPsidLength = nameWith(base, ".psidLength");
  r.nPsid = nameWith(base, ".psid");
}

/** Adds a BR address (16 bytes at p); false when the model is full. */
export function addBr(p: usize, name: i32): bool {
  if (mBrCount >= MODEL_BRS) return false;
  memory.copy(brRegion + <usize>(mBrCount * 16), p, 16);
  store<i32>(brNames + <usize>(mBrCount * 4), name);
  mBrCount++;
  return true;
}
export function brPtr(i: i32): usize { return brRegion + <usize>(i * 16); }
export function brName(i: i32): i32 { return load<i32>(brNames + <usize>(i * 4)); }
/** Whether the 16 bytes at p are already a BR of the model. */
export function hasBr(p: usize): bool {
  for (let i = 0; i < mBrCount; i++) if (memory.compare(brPtr(i), p, 16) == 0) return true;
  return false;
}

export function setDmr(p: usize, len: i32, name: i32): void {
  memory.copy(mDmr, p, 16);
  mDmrLen = len;
  mDmrName = name;
  mHasDmr = true;
}

export function setPrefix(p: usize, len: i32, name: i32): void {
  memory.copy(mPrefix, p, 16);
  mPrefixLen = len;
  mPrefixName = name;
  mHasPrefix = true;
}

// Local settings: one row per LOCAL code (assembly/settings.ts). Codes
// 0..LOCAL_CODES-1; 48 leaves room past the feature ranges (16–37).
export const LOCAL_CODES: i32 = 48;
const localGiven: usize = memory.data(LOCAL_CODES * 4, 8);
const localValue: usize = memory.data(LOCAL_CODES * 4, 8);
const localName: usize = memory.data(LOCAL_CODES * 4, 8);

export function setLocal(code: i32, value: u32, name: i32): void {
  if (<u32>code >= <u32>LOCAL_CODES) unreachable(); // a code past the rows is a module bug (caught by the tests), never input
  store<i32>(localGiven + <usize>(code * 4), 1);
  store<u32>(localValue + <usize>(code * 4), value);
  store<i32>(localName + <usize>(code * 4), name);
}
export function localIsGiven(code: i32): bool { return load<i32>(localGiven + <usize>(code * 4)) != 0; }
export function localValueOf(code: i32): u32 { return load<u32>(localValue + <usize>(code * 4)); }
export function localNameOf(code: i32): i32 { return load<i32>(localName + <usize>(code * 4)); }

// LOCAL DNS_UPSTREAM (--dns-upstream, repeatable): a list, not one value;
// its localValueOf is the count, the addresses are here (16 bytes each).
export const DNS_UPSTREAM_MAX: i32 = 8;
const dnsUpList: usize = memory.data(DNS_UPSTREAM_MAX * 16, 8);
/** Pointer to the 16 bytes of DNS upstream i of the model. */
export function dnsUpstreamAt(i: i32): usize { return dnsUpList + <usize>(i * 16); }

/** Empties the model (names too). */
export function modelReset(): void {
  namesReset();
  errorClear();
  mType = TYPE_MAPE;
  mRuleCount = 0;
  mHasBinding = false;
  mBrCount = 0;
  mHasDmr = false;
  mHasPrefix = false;
  memory.fill(localGiven, 0, LOCAL_CODES * 4);
  forwardModelReset();
  missRules = missBr = missDmr = missPrefix = NAME_NONE;
}
