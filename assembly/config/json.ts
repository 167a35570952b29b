// A small strict JSON reader (RFC 8259) over bytes in the module's memory:
// a pull cursor that hands out one token at a time, with the byte offset of
// every token and the JSON path of the value being read ("rules[0].eaLength")
// for error messages. The configuration formats (the --config file, and the
// rule JSON of HB46PP, v6plus and OCN) are read with it.
//
// No allocation: the cursor is module state (one document at a time), the
// container stack is a fixed table of JSON_MAX_DEPTH levels, strings stay in
// the input and are compared or copied out on request. Every malformed input
// ends in TOK_ERROR with a message (a static string) and the byte offset of
// the fault; nothing traps.
//
// Strict means: no comments, no trailing commas, no single quotes, no leading
// zeros, no control characters inside strings, valid UTF-8 only, escapes
// \" \\ \/ \b \f \n \r \t \uXXXX (surrogates paired), one value per document.
//
// Container stack (one row of LEVEL_BYTES per open object or array):
//
//   +--------+----------+----------+----------+
//   | kind   | keyStart | keyEnd   | index    |   i32 each
//   +--------+----------+----------+----------+
//   kind: LEVEL_OBJECT or LEVEL_ARRAY; keyStart/keyEnd: the raw bytes of the
//   current member's name (between its quotes, escapes not decoded), -1 before
//   the first key; index: the current element of an array, -1 before the first.

/** Containers nested deeper than this are refused ("nested too deep"). */
export const JSON_MAX_DEPTH: i32 = 32;

// ---- Tokens ----
export const TOK_ERROR: i32 = -1;
/** The document is complete (only whitespace after the top-level value). */
export const TOK_END: i32 = 0;
export const TOK_OBJECT: i32 = 1;
export const TOK_OBJECT_END: i32 = 2;
export const TOK_ARRAY: i32 = 3;
export const TOK_ARRAY_END: i32 = 4;
/** A member name; the cursor then stands before the member's value. */
export const TOK_KEY: i32 = 5;
export const TOK_STRING: i32 = 6;
export const TOK_NUMBER: i32 = 7;
export const TOK_TRUE: i32 = 8;
export const TOK_FALSE: i32 = 9;
export const TOK_NULL: i32 = 10;

const LEVEL_OBJECT: i32 = 1;
const LEVEL_ARRAY: i32 = 2;
const L_KIND: usize = 0;
const L_KEY_START: usize = 4;
const L_KEY_END: usize = 8;
const L_INDEX: usize = 12;
const LEVEL_BYTES: usize = 16;
const levels: usize = memory.data(<i32>(JSON_MAX_DEPTH * <i32>LEVEL_BYTES), 16);

// ---- Cursor states ----
const ST_VALUE: i32 = 0;        // a value must come (top level, after ':' or ',' in an array)
const ST_VALUE_OR_END: i32 = 1; // after '['
const ST_KEY_OR_END: i32 = 2;   // after '{'
const ST_KEY: i32 = 3;          // after ',' in an object
const ST_AFTER: i32 = 4;        // after a value inside a container: ',' or the closing bracket
const ST_DONE: i32 = 5;         // after the top-level value
const ST_FAILED: i32 = 6;

let base: usize = 0;
let size: i32 = 0;
let pos: i32 = 0;
let state: i32 = ST_FAILED;
let depth: i32 = 0;

// The last token.
let tokKind: i32 = TOK_ERROR;
let tokStart: i32 = 0;
let tokEnd: i32 = 0;
/** Strings: whether the raw bytes hold escapes (then compare/copy decodes). */
let tokEscaped: bool = false;
// Numbers.
let numInteger: bool = false;
let numNegative: bool = false;
let numMagnitude: u64 = 0;
let numValue: f64 = 0;

let errMessage: string = "";
let errOffset: i32 = 0;

@inline function at(i: i32): i32 { return <i32>load<u8>(base + <usize>i); }
@inline function levelPtr(d: i32): usize { return levels + <usize>(d - 1) * LEVEL_BYTES; }

function fail(message: string, offset: i32): i32 {
  errMessage = message;
  errOffset = offset;
  state = ST_FAILED;
  tokKind = TOK_ERROR;
  tokStart = offset;
  tokEnd = offset;
  return TOK_ERROR;
}

/** Starts reading the `len` bytes at `ptr` as one JSON document. */
export function jsonBegin(ptr: usize, len: i32): void {
  base = ptr;
  size = len < 0 ? 0 : len;
  pos = 0;
  depth = 0;
  state = ST_VALUE;
  tokKind = TOK_ERROR;
  tokStart = 0;
  tokEnd = 0;
  errMessage = "";
  errOffset = 0;
  // A UTF-8 byte order mark is tolerated (RFC 8259 §8.1 lets a parser ignore it).
  if (size >= 3 && at(0) == 0xef && at(1) == 0xbb && at(2) == 0xbf) pos = 3;
}

function skipSpace(): void {
  while (pos < size) {
    const c = at(pos);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    pos++;
  }
}

function push(kind: i32): i32 {
  if (depth >= JSON_MAX_DEPTH) return fail("nested too deep", pos);
  depth++;
  const l = levelPtr(depth);
  store<i32>(l + L_KIND, kind);
  store<i32>(l + L_KEY_START, -1);
  store<i32>(l + L_KEY_END, -1);
  store<i32>(l + L_INDEX, -1);
  return 0;
}

function afterValue(): void {
  state = depth == 0 ? ST_DONE : ST_AFTER;
}

/** Scans a string whose opening quote is at `pos`; sets tokStart/tokEnd to its content. */
function scanString(): i32 {
  const open = pos;
  let i = pos + 1;
  let escaped = false;
  while (true) {
    if (i >= size) return fail("unterminated string", open);
    const c = at(i);
    if (c == 0x22) break;
    if (c < 0x20) return fail("control character in a string (write it as an escape)", i);
    if (c == 0x5c) {
      escaped = true;
      if (i + 1 >= size) return fail("unterminated string", open);
      const e = at(i + 1);
      if (e == 0x75) {
        const u = hex4(i + 2);
        if (u < 0) return fail("\\u needs four hex digits", i);
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = i + 6 + 1 < size && at(i + 6) == 0x5c && at(i + 7) == 0x75 ? hex4(i + 8) : -1;
          if (lo < 0xdc00 || lo > 0xdfff) return fail("unpaired surrogate in a \\u escape", i);
          i += 12;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          return fail("unpaired surrogate in a \\u escape", i);
        } else {
          i += 6;
        }
        continue;
      }
      if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
        return fail("unknown escape in a string", i);
      }
      i += 2;
      continue;
    }
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = utf8Length(i);
    if (n == 0) return fail("invalid UTF-8 in a string", i);
    i += n;
  }
  tokStart = open + 1;
  tokEnd = i;
  tokEscaped = escaped;
  pos = i + 1;
  return 0;
}

/** Length of the valid UTF-8 sequence at i (2..4), 0 when invalid (overlong, surrogate, > U+10FFFF). */
function utf8Length(i: i32): i32 {
  const c = at(i);
  let n = 0;
  let min: u32 = 0;
  let cp: u32 = 0;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (i + n > size) return 0;
  for (let k = 1; k < n; k++) {
    const t = at(i + k);
    if ((t & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | <u32>(t & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** The four hex digits at i as a number, -1 when they are not there. */
function hex4(i: i32): i32 {
  if (i + 4 > size) return -1;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const d = hexDigit(at(i + k));
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

/**
 * Scans a number at pos (RFC 8259 §6 grammar). The value is kept exactly when
 * it is an integer of magnitude below 2^64 (numInteger, numMagnitude), and as
 * an f64 always (not correctly rounded beyond 19 significant digits).
 */
function scanNumber(): i32 {
  const start = pos;
  let i = pos;
  numNegative = false;
  if (at(i) == 0x2d) { numNegative = true; i++; }
  if (i >= size || !isDigit(at(i))) return fail("a number needs a digit here", i);
  const intStart = i;
  while (i < size && isDigit(at(i))) i++;
  const intLen = i - intStart;
  if (intLen > 1 && at(intStart) == 0x30) return fail("a number may not have a leading zero", intStart);
  let fracStart = i;
  let fracLen = 0;
  if (i < size && at(i) == 0x2e) {
    i++;
    if (i >= size || !isDigit(at(i))) return fail("a number needs a digit after '.'", i);
    fracStart = i;
    while (i < size && isDigit(at(i))) i++;
    fracLen = i - fracStart;
  }
  let e: i32 = 0;
  if (i < size && (at(i) == 0x65 || at(i) == 0x45)) {
    i++;
    let eneg = false;
    if (i < size && (at(i) == 0x2b || at(i) == 0x2d)) { eneg = at(i) == 0x2d; i++; }
    if (i >= size || !isDigit(at(i))) return fail("a number needs a digit in its exponent", i);
    while (i < size && isDigit(at(i))) {
      if (e < 100000) e = e * 10 + (at(i) - 0x30);
      i++;
    }
    if (eneg) e = -e;
  }
  // value = D * 10^(e - fracLen), D the integer of all digits; trailing zeros of D move into the exponent.
  const total = intLen + fracLen;
  let first = -1;
  let last = -1;
  for (let k = 0; k < total; k++) {
    if (digitAt(k, intStart, intLen, fracStart) != 0) {
      if (first < 0) first = k;
      last = k;
    }
  }
  numInteger = false;
  numMagnitude = 0;
  numValue = 0;
  if (first < 0) {
    numInteger = true;
  } else {
    let exp10 = e - fracLen + (total - 1 - last);
    let n = last - first + 1;
    let lost = false;
    if (n > 20) { exp10 += n - 20; n = 20; lost = true; }
    let mant: u64 = 0;
    for (let k = first; k < first + n; k++) {
      const d = <u64>digitAt(k, intStart, intLen, fracStart);
      if (mant > (<u64>0xffffffffffffffff - d) / 10) {
        // Past 2^64: keep the f64 only.
        exp10 += first + n - k;
        lost = true;
        break;
      }
      mant = mant * 10 + d;
    }
    if (!lost && exp10 >= 0 && exp10 <= 20) {
      let m = mant;
      let ok = true;
      for (let k = 0; k < exp10; k++) {
        if (m > <u64>0xffffffffffffffff / 10) { ok = false; break; }
        m *= 10;
      }
      if (ok) { numInteger = true; numMagnitude = m; }
    }
    let v = <f64>mant;
    if (exp10 != 0) v *= Math.pow(10, <f64>exp10);
    numValue = numNegative ? -v : v;
  }
  tokStart = start;
  tokEnd = i;
  pos = i;
  return 0;
}

/** Digit k of the integer-then-fraction digit sequence of a number. */
@inline function digitAt(k: i32, intStart: i32, intLen: i32, fracStart: i32): i32 {
  return at(k < intLen ? intStart + k : fracStart + k - intLen) - 0x30;
}

/** Matches the literal `word` (true, false, null) at pos. */
function scanWord(word: string, kind: i32): i32 {
  const n = word.length;
  if (pos + n > size) return fail("not a JSON value", pos);
  for (let k = 0; k < n; k++) {
    if (at(pos + k) != word.charCodeAt(k)) return fail("not a JSON value", pos);
  }
  // "truex" is not true followed by junk we would report later: say it here.
  if (pos + n < size && isWordByte(at(pos + n))) return fail("not a JSON value", pos);
  tokStart = pos;
  tokEnd = pos + n;
  pos += n;
  return kind;
}

@inline function isWordByte(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c) || c == 0x5f;
}

/** Reads one value's first token at pos (state was ST_VALUE or ST_VALUE_OR_END). */
function value(): i32 {
  if (depth > 0) {
    const l = levelPtr(depth);
    if (load<i32>(l + L_KIND) == LEVEL_ARRAY) store<i32>(l + L_INDEX, load<i32>(l + L_INDEX) + 1);
  }
  if (pos >= size) return fail(depth == 0 && state == ST_VALUE ? "empty document" : "unexpected end (a value must follow)", pos);
  const c = at(pos);
  if (c == 0x7b) {
    tokStart = pos;
    tokEnd = pos + 1;
    if (push(LEVEL_OBJECT) < 0) return TOK_ERROR;
    pos++;
    state = ST_KEY_OR_END;
    return tokKind = TOK_OBJECT;
  }
  if (c == 0x5b) {
    tokStart = pos;
    tokEnd = pos + 1;
    if (push(LEVEL_ARRAY) < 0) return TOK_ERROR;
    pos++;
    state = ST_VALUE_OR_END;
    return tokKind = TOK_ARRAY;
  }
  let k = 0;
  if (c == 0x22) {
    if (scanString() < 0) return TOK_ERROR;
    k = TOK_STRING;
  } else if (c == 0x2d || isDigit(c)) {
    if (scanNumber() < 0) return TOK_ERROR;
    k = TOK_NUMBER;
  } else if (c == 0x74) {
    k = scanWord("true", TOK_TRUE);
  } else if (c == 0x66) {
    k = scanWord("false", TOK_FALSE);
  } else if (c == 0x6e) {
    k = scanWord("null", TOK_NULL);
  } else if (c == 0x27) {
    return fail("strings take double quotes", pos);
  } else {
    return fail("not a JSON value", pos);
  }
  if (k < 0) return TOK_ERROR;
  afterValue();
  return tokKind = k;
}

/** Closes the innermost container with the byte at pos (already checked to match). */
function close(kind: i32): i32 {
  tokStart = pos;
  tokEnd = pos + 1;
  pos++;
  depth--;
  afterValue();
  return tokKind = kind;
}

/**
 * The next token. After TOK_ERROR every call returns TOK_ERROR again
 * (jsonErrorMessage / jsonErrorOffset say why); after TOK_END, TOK_END.
 */
export function jsonNext(): i32 {
  if (state == ST_FAILED) return TOK_ERROR;
  while (true) {
    skipSpace();
    if (state == ST_DONE) {
      if (pos < size) return fail("unexpected data after the JSON value", pos);
      tokStart = pos;
      tokEnd = pos;
      return tokKind = TOK_END;
    }
    if (state == ST_VALUE) return value();
    if (state == ST_VALUE_OR_END) {
      if (pos < size && at(pos) == 0x5d) return close(TOK_ARRAY_END);
      return value();
    }
    if (state == ST_KEY_OR_END || state == ST_KEY) {
      if (pos >= size) return fail("unexpected end (an object is not closed)", pos);
      const c = at(pos);
      if (c == 0x7d) {
        if (state == ST_KEY) return fail("trailing comma before '}'", pos);
        return close(TOK_OBJECT_END);
      }
      if (c != 0x22) return fail(c == 0x27 ? "member names take double quotes" : "expected a member name in double quotes", pos);
      if (scanString() < 0) return TOK_ERROR;
      const l = levelPtr(depth);
      store<i32>(l + L_KEY_START, tokStart);
      store<i32>(l + L_KEY_END, tokEnd);
      skipSpace();
      if (pos >= size || at(pos) != 0x3a) return fail("expected ':' after the member name", pos);
      pos++;
      state = ST_VALUE;
      return tokKind = TOK_KEY;
    }
    // ST_AFTER
    if (pos >= size) {
      return fail(levelKind(depth) == LEVEL_OBJECT ? "unexpected end (an object is not closed)"
                                                   : "unexpected end (an array is not closed)", pos);
    }
    const c = at(pos);
    const kind = levelKind(depth);
    if (c == 0x2c) {
      pos++;
      if (kind == LEVEL_OBJECT) {
        state = ST_KEY;
      } else {
        skipSpace();
        if (pos < size && at(pos) == 0x5d) return fail("trailing comma before ']'", pos);
        state = ST_VALUE;
      }
      continue;
    }
    if (c == 0x7d && kind == LEVEL_OBJECT) return close(TOK_OBJECT_END);
    if (c == 0x5d && kind == LEVEL_ARRAY) return close(TOK_ARRAY_END);
    return fail(kind == LEVEL_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'", pos);
  }
}

@inline function levelKind(d: i32): i32 { return load<i32>(levelPtr(d) + L_KIND); }

/**
 * Skips the value whose first token was just returned (an object or array
 * with everything inside it; a scalar needs nothing). Returns the last token
 * (TOK_OBJECT_END / TOK_ARRAY_END / the scalar), or TOK_ERROR.
 */
export function jsonSkip(): i32 {
  if (tokKind != TOK_OBJECT && tokKind != TOK_ARRAY) return tokKind;
  const target = depth - 1;
  while (true) {
    const t = jsonNext();
    if (t == TOK_ERROR) return t;
    if (depth == target && (t == TOK_OBJECT_END || t == TOK_ARRAY_END)) return t;
  }
}

// ---- The last token ----

export function jsonToken(): i32 { return tokKind; }
/** Byte offset of the token's first byte (a string's: just after the quote). */
export function jsonTokenStart(): i32 { return tokStart; }
/** Byte offset just past the token (a string's: its closing quote). */
export function jsonTokenEnd(): i32 { return tokEnd; }
/** Pointer to the token's first byte in memory. */
export function jsonTokenPtr(): usize { return base + <usize>tokStart; }
/** Whether the string token has escapes in its raw bytes. */
export function jsonTokenEscaped(): bool { return tokEscaped; }
/** The current nesting depth (0 at top level; inside `{` it is 1). */
export function jsonDepth(): i32 { return depth; }

/** Numbers: true when the value is an integer (exactly representable, |v| < 2^64). */
export function jsonNumberIsInteger(): bool { return tokKind == TOK_NUMBER && numInteger; }
export function jsonNumberNegative(): bool { return numNegative; }
/** Numbers: the magnitude of an integer value (check jsonNumberIsInteger first). */
export function jsonNumberMagnitude(): u64 { return numMagnitude; }
/** Numbers: the value as an f64. */
export function jsonNumberF64(): f64 { return numValue; }
/**
 * Numbers: the value when it is an integer in [min, max], else `fallback`.
 * (The common question of a configuration field.)
 */
export function jsonIntegerIn(min: i64, max: i64, fallback: i64): i64 {
  if (tokKind != TOK_NUMBER || !numInteger) return fallback;
  if (numMagnitude > <u64>0x7fffffffffffffff) return fallback;
  const v = numNegative ? -<i64>numMagnitude : <i64>numMagnitude;
  return v < min || v > max ? fallback : v;
}

// ---- Strings (the last TOK_STRING or TOK_KEY) ----

/**
 * Decodes the raw string bytes [start, end) of the document (escapes
 * resolved, UTF-8 out) into `out` (capacity `cap`). Returns the decoded
 * length, or -1 when it does not fit. The bytes were validated by the scan.
 */
export function jsonDecode(start: i32, end: i32, out: usize, cap: i32): i32 {
  let n = 0;
  let i = start;
  while (i < end) {
    let c = at(i);
    if (c != 0x5c) {
      if (n >= cap) return -1;
      store<u8>(out + <usize>n, <u8>c);
      n++;
      i++;
      continue;
    }
    const e = at(i + 1);
    i += 2;
    if (e != 0x75) {
      c = e == 0x62 ? 0x08 : e == 0x66 ? 0x0c : e == 0x6e ? 0x0a : e == 0x72 ? 0x0d : e == 0x74 ? 0x09 : e;
      if (n >= cap) return -1;
      store<u8>(out + <usize>n, <u8>c);
      n++;
      continue;
    }
    let cp = <u32>hex4(i);
    i += 4;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const lo = <u32>hex4(i + 2);
      i += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    const w = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n + w > cap) return -1;
    const o = out + <usize>n;
    if (w == 1) {
      store<u8>(o, <u8>cp);
    } else if (w == 2) {
      store<u8>(o, <u8>(0xc0 | (cp >> 6)));
      store<u8>(o + 1, <u8>(0x80 | (cp & 0x3f)));
    } else if (w == 3) {
      store<u8>(o, <u8>(0xe0 | (cp >> 12)));
      store<u8>(o + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      store<u8>(o + 2, <u8>(0x80 | (cp & 0x3f)));
    } else {
      store<u8>(o, <u8>(0xf0 | (cp >> 18)));
      store<u8>(o + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
      store<u8>(o + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      store<u8>(o + 3, <u8>(0x80 | (cp & 0x3f)));
    }
    n += w;
  }
  return n;
}

/** Decodes the last string or key into `out`; its length, or -1 when it does not fit. */
export function jsonString(out: usize, cap: i32): i32 {
  return jsonDecode(tokStart, tokEnd, out, cap);
}

const cmpScratch: usize = memory.data(256, 8);

/** Whether the last string or key equals the ASCII text `s` (after decoding escapes). */
export function jsonStringIs(s: string): bool {
  const n = s.length;
  let p = base + <usize>tokStart;
  let len = tokEnd - tokStart;
  if (tokEscaped) {
    len = jsonDecode(tokStart, tokEnd, cmpScratch, 256);
    if (len < 0) return false;
    p = cmpScratch;
  }
  if (len != n) return false;
  for (let k = 0; k < n; k++) {
    if (<i32>load<u8>(p + <usize>k) != s.charCodeAt(k)) return false;
  }
  return true;
}

// ---- Errors and paths ----

/** Why the reader stopped (a static string; "" when it did not fail). */
export function jsonErrorMessage(): string { return errMessage; }
/** Byte offset of the fault from the start of the document. */
export function jsonErrorOffset(): i32 { return errOffset; }
/** 1-based line of a byte offset of the document. */
export function jsonLineOf(offset: i32): i32 {
  let line = 1;
  const end = offset < size ? offset : size;
  for (let i = 0; i < end; i++) if (at(i) == 0x0a) line++;
  return line;
}
/** 1-based column (in bytes) of a byte offset of the document. */
export function jsonColumnOf(offset: i32): i32 {
  let i = (offset < size ? offset : size) - 1;
  let col = 1;
  while (i >= 0 && at(i) != 0x0a) { col++; i--; }
  return col;
}

/** Levels on the path: the number of open containers. */
export function jsonPathDepth(): i32 { return depth; }
/** Level d (1 = outermost): true for an object member, false for an array element. */
export function jsonPathIsKey(d: i32): bool { return d >= 1 && d <= depth && levelKind(d) == LEVEL_OBJECT; }
/** Level d of an object: the raw member name [start, end) of the current member, -1 before the first. */
export function jsonPathKeyStart(d: i32): i32 { return d >= 1 && d <= depth ? load<i32>(levelPtr(d) + L_KEY_START) : -1; }
export function jsonPathKeyEnd(d: i32): i32 { return d >= 1 && d <= depth ? load<i32>(levelPtr(d) + L_KEY_END) : -1; }
/** Level d of an array: the current element's index, -1 before the first. */
export function jsonPathIndex(d: i32): i32 { return d >= 1 && d <= depth ? load<i32>(levelPtr(d) + L_INDEX) : -1; }
/** Pointer to byte 0 of the document (raw key bytes are at base + start). */
export function jsonBase(): usize { return base; }
