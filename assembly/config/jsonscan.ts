// A JSON (RFC 8259) scanner over bytes in linear memory, for the rule
// formats (config/rules.ts): no allocation, no copies, one cursor.
//
//   base                       base + pos                    base + end
//   +--------------------------+-----------------------------+
//   | text already scanned     | next token                  |
//   +--------------------------+-----------------------------+
//
// Strings are not decoded: a string value is the byte range [strStart,
// strEnd) between its quotes (escapes checked, left as they are; the rule
// formats' keys and values are ASCII). Numbers are read as integers only
// where the caller wants one (numInt). Objects and arrays are walked with
// objNext / arrNext, which the caller loops on; anything the caller does
// not want is skipped with skipValue (which checks it too, to a depth of
// MAX_DEPTH). The first error stops the scan: scanErr holds what went wrong
// and scanErrAt the byte offset, for the caller to word.

/** Nesting depth skipValue accepts (a rule file is three levels deep). */
const MAX_DEPTH: i32 = 32;

let base: usize = 0;
let end: i32 = 0;
export let pos: i32 = 0;
/** The last string's bytes (between the quotes) as offsets from base. */
export let strStart: i32 = 0;
export let strEnd: i32 = 0;
/** The last integer numInt read. */
export let intValue: i64 = 0;
/** 0, or what went wrong (one of the SCAN_ codes) and where. */
export let scanErr: i32 = 0;
export let scanErrAt: i32 = 0;

export const SCAN_UNEXPECTED: i32 = 1;
export const SCAN_END: i32 = 2;
export const SCAN_STRING: i32 = 3;
export const SCAN_NUMBER: i32 = 4;
export const SCAN_DEPTH: i32 = 5;

const C_QUOTE: i32 = 0x22;
const C_BACKSLASH: i32 = 0x5c;
const C_COMMA: i32 = 0x2c;
const C_COLON: i32 = 0x3a;
const C_LBRACE: i32 = 0x7b;
const C_RBRACE: i32 = 0x7d;
const C_LBRACKET: i32 = 0x5b;
const C_RBRACKET: i32 = 0x5d;
const C_MINUS: i32 = 0x2d;

/** Starts scanning `len` bytes at `p`. */
export function scanInit(p: usize, len: i32): void {
  base = p;
  end = len;
  pos = 0;
  scanErr = 0;
  scanErrAt = 0;
}

/** Moves the cursor (to a value offset recorded earlier). */
export function scanSeek(at: i32): void { pos = at; }

/** The byte at offset i (no check: i < end). */
@inline export function byteAt(i: i32): i32 { return <i32>load<u8>(base + <usize>i); }

/** Records the first error; returns false for the caller to pass up. */
export function scanFail(code: i32, at: i32): bool {
  if (scanErr == 0) {
    scanErr = code;
    scanErrAt = at;
  }
  return false;
}

/** Skips white space; returns the next byte or -1 at the end. */
export function peek(): i32 {
  while (pos < end) {
    const c = byteAt(pos);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return c;
    pos++;
  }
  return -1;
}

/** Consumes the byte c (after white space), else fails. */
export function expectByte(c: i32): bool {
  const b = peek();
  if (b == c) {
    pos++;
    return true;
  }
  return scanFail(b < 0 ? SCAN_END : SCAN_UNEXPECTED, pos);
}

/** True when only white space is left. */
export function atEnd(): bool { return peek() < 0; }

function hex(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Reads a string; its bytes are [strStart, strEnd). */
export function readString(): bool {
  if (peek() != C_QUOTE) return scanFail(pos >= end ? SCAN_END : SCAN_UNEXPECTED, pos);
  pos++;
  strStart = pos;
  while (pos < end) {
    const c = byteAt(pos);
    if (c == C_QUOTE) {
      strEnd = pos;
      pos++;
      return true;
    }
    if (c < 0x20) return scanFail(SCAN_STRING, pos);
    if (c == C_BACKSLASH) {
      if (pos + 1 >= end) break;
      const e = byteAt(pos + 1);
      if (e == 0x75) { // \uXXXX
        if (pos + 6 > end) break;
        for (let i = 2; i < 6; i++) if (!hex(byteAt(pos + i))) return scanFail(SCAN_STRING, pos);
        pos += 6;
        continue;
      }
      if (e != C_QUOTE && e != C_BACKSLASH && e != 0x2f && e != 0x62 && e != 0x66 &&
          e != 0x6e && e != 0x72 && e != 0x74) return scanFail(SCAN_STRING, pos);
      pos += 2;
      continue;
    }
    pos++;
  }
  return scanFail(SCAN_END, pos);
}

@inline function digit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

/**
 * Skips a number (RFC 8259 §6 grammar). Sets numIsInt and, for an integer
 * of at most 15 digits, intValue.
 */
export let numIsInt: bool = false;
function number(): bool {
  const start = pos;
  let neg = false;
  if (pos < end && byteAt(pos) == C_MINUS) { neg = true; pos++; }
  if (pos >= end || !digit(byteAt(pos))) return scanFail(SCAN_NUMBER, start);
  let v: i64 = 0;
  let digits = 0;
  if (byteAt(pos) == 0x30) { pos++; digits = 1; }
  else {
    while (pos < end && digit(byteAt(pos))) {
      if (digits < 16) v = v * 10 + <i64>(byteAt(pos) - 0x30);
      digits++;
      pos++;
    }
  }
  numIsInt = digits <= 15;
  if (pos < end && byteAt(pos) == 0x2e) {
    pos++;
    if (pos >= end || !digit(byteAt(pos))) return scanFail(SCAN_NUMBER, start);
    while (pos < end && digit(byteAt(pos))) pos++;
    numIsInt = false;
  }
  if (pos < end && (byteAt(pos) == 0x65 || byteAt(pos) == 0x45)) {
    pos++;
    if (pos < end && (byteAt(pos) == 0x2b || byteAt(pos) == C_MINUS)) pos++;
    if (pos >= end || !digit(byteAt(pos))) return scanFail(SCAN_NUMBER, start);
    while (pos < end && digit(byteAt(pos))) pos++;
    numIsInt = false;
  }
  intValue = neg ? -v : v;
  return true;
}

function literal(text: string): bool {
  const n = text.length;
  if (pos + n > end) return scanFail(SCAN_END, pos);
  for (let i = 0; i < n; i++) if (byteAt(pos + i) != text.charCodeAt(i)) return scanFail(SCAN_UNEXPECTED, pos);
  pos += n;
  return true;
}

/** What the next value is. */
export const V_NONE: i32 = 0;
export const V_OBJECT: i32 = 1;
export const V_ARRAY: i32 = 2;
export const V_STRING: i32 = 3;
export const V_NUMBER: i32 = 4;
export const V_TRUE: i32 = 5;
export const V_FALSE: i32 = 6;
export const V_NULL: i32 = 7;

/** The kind of the value at the cursor (after white space), without consuming it. */
export function valueKind(): i32 {
  const c = peek();
  if (c == C_LBRACE) return V_OBJECT;
  if (c == C_LBRACKET) return V_ARRAY;
  if (c == C_QUOTE) return V_STRING;
  if (c == C_MINUS || digit(c)) return V_NUMBER;
  if (c == 0x74) return V_TRUE;
  if (c == 0x66) return V_FALSE;
  if (c == 0x6e) return V_NULL;
  return V_NONE;
}

/**
 * Walks an object: call with first = true right before '{' (it is consumed
 * then), then with false after each member's value. Returns 1 with the key
 * in [strStart, strEnd) and the cursor at the value, 0 after '}', -1 on error.
 */
export function objNext(first: bool): i32 {
  if (first && !expectByte(C_LBRACE)) return -1;
  let c = peek();
  if (c == C_RBRACE) {
    pos++;
    return 0;
  }
  if (!first) {
    if (c != C_COMMA) {
      scanFail(c < 0 ? SCAN_END : SCAN_UNEXPECTED, pos);
      return -1;
    }
    pos++;
  }
  if (!readString() || !expectByte(C_COLON)) return -1;
  return 1;
}

/** Walks an array the same way: 1 with the cursor at an element, 0 after ']', -1 on error. */
export function arrNext(first: bool): i32 {
  if (first && !expectByte(C_LBRACKET)) return -1;
  let c = peek();
  if (c == C_RBRACKET) {
    pos++;
    return 0;
  }
  if (!first) {
    if (c != C_COMMA) {
      scanFail(c < 0 ? SCAN_END : SCAN_UNEXPECTED, pos);
      return -1;
    }
    pos++;
  }
  if (peek() < 0) {
    scanFail(SCAN_END, pos);
    return -1;
  }
  return 1;
}

function skipAt(depth: i32): bool {
  if (depth > MAX_DEPTH) return scanFail(SCAN_DEPTH, pos);
  const k = valueKind();
  if (k == V_OBJECT) {
    let r = objNext(true);
    while (r == 1) {
      if (!skipAt(depth + 1)) return false;
      r = objNext(false);
    }
    return r == 0;
  }
  if (k == V_ARRAY) {
    let r = arrNext(true);
    while (r == 1) {
      if (!skipAt(depth + 1)) return false;
      r = arrNext(false);
    }
    return r == 0;
  }
  if (k == V_STRING) return readString();
  if (k == V_NUMBER) return number();
  if (k == V_TRUE) return literal("true");
  if (k == V_FALSE) return literal("false");
  if (k == V_NULL) return literal("null");
  return scanFail(pos >= end ? SCAN_END : SCAN_UNEXPECTED, pos);
}

/** Skips (and checks) one value. */
export function skipValue(): bool { return skipAt(0); }

/** Reads a number value; numIsInt / intValue say what it was. */
export function readNumber(): bool {
  peek();
  return number();
}

/** True when the last string equals the ASCII text. */
export function strIs(text: string): bool {
  const n = text.length;
  if (strEnd - strStart != n) return false;
  for (let i = 0; i < n; i++) if (byteAt(strStart + i) != text.charCodeAt(i)) return false;
  return true;
}

/** Base pointer of the text (for callers that read string bytes). */
export function scanBase(): usize { return base; }
