// The strict JSON reader (assembly/config/json.ts): tokens, values, paths,
// and every malformed input ending in TOK_ERROR with a message and an offset.
import {
  jsonBegin, jsonNext, jsonSkip, jsonToken, jsonTokenStart, jsonTokenEnd, jsonStringIs, jsonString,
  jsonNumberIsInteger, jsonNumberMagnitude, jsonNumberNegative, jsonNumberF64, jsonIntegerIn,
  jsonErrorMessage, jsonErrorOffset, jsonLineOf, jsonColumnOf, jsonPathDepth, jsonPathIsKey,
  jsonPathIndex, jsonPathKeyStart, jsonPathKeyEnd, JSON_MAX_DEPTH,
  TOK_ERROR, TOK_END, TOK_OBJECT, TOK_OBJECT_END, TOK_ARRAY, TOK_ARRAY_END, TOK_KEY, TOK_STRING,
  TOK_NUMBER, TOK_TRUE, TOK_FALSE, TOK_NULL,
} from "../../assembly/config/json";

const doc: usize = memory.data(4096, 8);
const out: usize = memory.data(256, 8);

/** Puts the UTF-8 bytes of `s` into the document area and starts the reader. */
function begin(s: string): void {
  const b = String.UTF8.encode(s);
  memory.copy(doc, changetype<usize>(b), <usize>b.byteLength);
  jsonBegin(doc, b.byteLength);
}

/** Starts the reader over raw bytes. */
function beginBytes(bytes: u8[]): void {
  for (let i = 0; i < bytes.length; i++) store<u8>(doc + <usize>i, bytes[i]);
  jsonBegin(doc, bytes.length);
}

/** Reads to the end; returns the tokens, or the error token last. */
function tokens(s: string): i32[] {
  begin(s);
  const t: i32[] = [];
  for (let n = 0; n < 200; n++) {
    const k = jsonNext();
    t.push(k);
    if (k == TOK_END || k == TOK_ERROR) break;
  }
  return t;
}

/** Reads `s` to its end and expects an error at `offset` whose message contains `what`. */
function expectError(s: string, offset: i32, what: string): void {
  const t = tokens(s);
  expect<i32>(t[t.length - 1]).toBe(TOK_ERROR, s);
  expect<i32>(jsonErrorOffset()).toBe(offset, s);
  expect<bool>(jsonErrorMessage().includes(what)).toBe(true, s + " -> " + jsonErrorMessage());
  // Sticky: the reader stays failed.
  expect<i32>(jsonNext()).toBe(TOK_ERROR);
}

function decoded(): string {
  const n = jsonString(out, 256);
  return String.UTF8.decodeUnsafe(out, n);
}

describe("JSON reader: well-formed documents", () => {
  it("tokens of an object with every kind of value", () => {
    const t = tokens('{"a": [1, -2.5, "x"], "b": {"c": true, "d": false, "e": null}, "f": []}');
    const want: i32[] = [TOK_OBJECT, TOK_KEY, TOK_ARRAY, TOK_NUMBER, TOK_NUMBER, TOK_STRING, TOK_ARRAY_END,
      TOK_KEY, TOK_OBJECT, TOK_KEY, TOK_TRUE, TOK_KEY, TOK_FALSE, TOK_KEY, TOK_NULL, TOK_OBJECT_END,
      TOK_KEY, TOK_ARRAY, TOK_ARRAY_END, TOK_OBJECT_END, TOK_END];
    expect<i32>(t.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect<i32>(t[i]).toBe(want[i], i.toString());
  });

  it("scalars at top level, whitespace around, a byte order mark", () => {
    expect<i32[]>(tokens(" \t\r\n42 \n")).toStrictEqual([TOK_NUMBER, TOK_END]);
    expect<i32[]>(tokens('"s"')).toStrictEqual([TOK_STRING, TOK_END]);
    beginBytes([0xef, 0xbb, 0xbf, 0x31]);
    expect<i32>(jsonNext()).toBe(TOK_NUMBER);
    expect<i32>(jsonNext()).toBe(TOK_END);
    expect<i32>(jsonNext()).toBe(TOK_END);
  });

  it("string offsets, escapes decoded, keys compared after decoding", () => {
    begin('{"k\\u0065y": "a\\"b\\\\c\\/\\n\\t\\u00e9\\ud83d\\ude00"}');
    expect<i32>(jsonNext()).toBe(TOK_OBJECT);
    expect<i32>(jsonNext()).toBe(TOK_KEY);
    expect<bool>(jsonStringIs("key")).toBe(true);
    expect<bool>(jsonStringIs("ke")).toBe(false);
    expect<i32>(jsonTokenStart()).toBe(2);
    expect<i32>(jsonNext()).toBe(TOK_STRING);
    expect<string>(decoded()).toBe("a\"b\\c/\n\t\u00e9\u{1F600}");
    expect<i32>(jsonString(out, 3)).toBe(-1); // does not fit: refused, not cut
  });

  it("raw UTF-8 passes, exact integers, f64 values", () => {
    begin('"grüße"');
    expect<i32>(jsonNext()).toBe(TOK_STRING);
    expect<string>(decoded()).toBe("grüße");
    const ints: string[] = ["0", "-0", "16", "1e1", "1.0", "160e-1", "18446744073709551615", "1.5e3"];
    const mags: u64[] = [0, 0, 16, 10, 1, 16, 0xffffffffffffffff, 1500];
    for (let i = 0; i < ints.length; i++) {
      begin(ints[i]);
      expect<i32>(jsonNext()).toBe(TOK_NUMBER, ints[i]);
      expect<bool>(jsonNumberIsInteger()).toBe(true, ints[i]);
      expect<u64>(jsonNumberMagnitude()).toBe(mags[i], ints[i]);
    }
    const frac: string[] = ["16.5", "1e-1", "18446744073709551616", "12345678901234567890123", "1e400"];
    for (let i = 0; i < frac.length; i++) {
      begin(frac[i]);
      expect<i32>(jsonNext()).toBe(TOK_NUMBER, frac[i]);
      expect<bool>(jsonNumberIsInteger()).toBe(false, frac[i]);
    }
    begin("-2.5");
    jsonNext();
    expect<f64>(jsonNumberF64()).toBe(-2.5);
    expect<bool>(jsonNumberNegative()).toBe(true);
    expect<i32>(jsonTokenEnd()).toBe(4);
    begin("-7");
    jsonNext();
    expect<i64>(jsonIntegerIn(-10, 10, 99)).toBe(-7);
    expect<i64>(jsonIntegerIn(0, 10, 99)).toBe(99);
  });

  it("the path names the member or element being read", () => {
    begin('{"rules": [{"a": 1}, {"eaLength": 2}]}');
    for (let n = 0; n < 9; n++) jsonNext(); // {, rules, [, {, a, 1, }, {, eaLength
    expect<i32>(jsonToken()).toBe(TOK_KEY);
    expect<i32>(jsonPathDepth()).toBe(3);
    expect<bool>(jsonPathIsKey(1)).toBe(true);
    expect<i32>(jsonPathKeyStart(1)).toBe(2);
    expect<i32>(jsonPathKeyEnd(1)).toBe(7);
    expect<bool>(jsonPathIsKey(2)).toBe(false);
    expect<i32>(jsonPathIndex(2)).toBe(1);
    expect<bool>(jsonStringIs("eaLength")).toBe(true);
    expect<i32>(jsonPathIndex(9)).toBe(-1); // out of range: no read outside the table
  });

  it("skip jumps over a whole value", () => {
    begin('{"$comment": {"x": [1, {"y": []}]}, "z": 3}');
    jsonNext();
    jsonNext();
    expect<i32>(jsonNext()).toBe(TOK_OBJECT);
    expect<i32>(jsonSkip()).toBe(TOK_OBJECT_END);
    expect<i32>(jsonNext()).toBe(TOK_KEY);
    expect<bool>(jsonStringIs("z")).toBe(true);
    expect<i32>(jsonNext()).toBe(TOK_NUMBER);
    expect<i32>(jsonSkip()).toBe(TOK_NUMBER);
    expect<i32>(jsonNext()).toBe(TOK_OBJECT_END);
    expect<i32>(jsonNext()).toBe(TOK_END);
  });

  it("nesting up to the bound is read", () => {
    let s = "";
    for (let i = 0; i < JSON_MAX_DEPTH; i++) s += "[";
    for (let i = 0; i < JSON_MAX_DEPTH; i++) s += "]";
    const t = tokens(s);
    expect<i32>(t[t.length - 1]).toBe(TOK_END);
  });
});

describe("JSON reader: malformed input is an error with a message and an offset", () => {
  it("structure", () => {
    expectError("", 0, "empty");
    expectError("   ", 3, "empty");
    expectError("{", 1, "not closed");
    expectError("[1,", 3, "value must follow");
    expectError("[1", 2, "not closed");
    expectError('{"a" 1}', 5, "':'");
    expectError('{"a": 1,}', 8, "trailing comma");
    expectError("[1, ]", 4, "trailing comma");
    expectError("[1 2]", 3, "expected ','");
    expectError('{"a": 1]', 7, "expected ','");
    expectError("[}", 1, "not a JSON value");
    expectError("{1: 2}", 1, "member name");
    expectError("{'a': 2}", 1, "double quotes");
    expectError("['a']", 1, "double quotes");
    expectError("1 2", 2, "after the JSON value");
    expectError("{} x", 3, "after the JSON value");
    expectError("// c\n1", 0, "not a JSON value");
    expectError("tru", 0, "not a JSON value");
    expectError("truex", 0, "not a JSON value");
    expectError("nul", 0, "not a JSON value");
    expectError("NaN", 0, "not a JSON value");
  });

  it("nesting deeper than the bound", () => {
    let s = "";
    for (let i = 0; i <= JSON_MAX_DEPTH; i++) s += "[";
    expectError(s, JSON_MAX_DEPTH, "nested too deep");
  });

  it("numbers", () => {
    expectError("01", 0, "leading zero");
    expectError("-", 1, "digit");
    expectError("-a", 1, "digit");
    expectError("1.", 2, "after '.'");
    expectError("1.e3", 2, "after '.'");
    expectError("1e", 2, "exponent");
    expectError("1e+", 3, "exponent");
    expectError("+1", 0, "not a JSON value");
    expectError(".5", 0, "not a JSON value");
    expectError("0x10", 1, "after the JSON value");
  });

  it("strings", () => {
    expectError('"abc', 0, "unterminated");
    expectError('"a\\', 0, "unterminated");
    expectError('"a\\x"', 2, "unknown escape");
    expectError('"\\u12"', 1, "four hex digits");
    expectError('"\\u12g4"', 1, "four hex digits");
    expectError('"\\ud800"', 1, "unpaired surrogate");
    expectError('"\\udc00"', 1, "unpaired surrogate");
    expectError('"\\ud800\\u0041"', 1, "unpaired surrogate");
    expectError('"a\tb"', 2, "control character");
    expectError('"a\nb"', 2, "control character");
    // Invalid UTF-8: a lone continuation byte, an overlong form, a truncated sequence, a surrogate.
    const bad: u8[][] = [[0x22, 0x80, 0x22], [0x22, 0xc0, 0xaf, 0x22], [0x22, 0xe2, 0x82], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xf5, 0x80, 0x80, 0x80, 0x22]];
    for (let i = 0; i < bad.length; i++) {
      beginBytes(bad[i]);
      let k = jsonNext();
      expect<i32>(k).toBe(TOK_ERROR, i.toString());
      expect<i32>(jsonErrorOffset()).toBe(i == 2 ? 1 : 1, i.toString());
      expect<i32>(jsonErrorMessage().length).toBeGreaterThan(0);
    }
  });

  it("line and column of an offset", () => {
    begin('{\n  "a": 1,\n  "b": ]\n}');
    for (let n = 0; n < 10; n++) if (jsonNext() == TOK_ERROR) break;
    expect<i32>(jsonToken()).toBe(TOK_ERROR);
    expect<i32>(jsonLineOf(jsonErrorOffset())).toBe(3);
    expect<i32>(jsonColumnOf(jsonErrorOffset())).toBe(8);
  });

  it("every prefix of a valid document is refused, never read as complete", () => {
    const s = '{"type": "map-e", "rules": [{"ipv6Prefix": "2403:9200::/32", "eaLength": 16}], "x": [true, null, -1.5e2]}';
    const b = String.UTF8.encode(s);
    memory.copy(doc, changetype<usize>(b), <usize>b.byteLength);
    for (let len = 0; len < b.byteLength; len++) {
      jsonBegin(doc, len);
      let k = 0;
      for (let n = 0; n < 100; n++) {
        k = jsonNext();
        if (k == TOK_END || k == TOK_ERROR) break;
      }
      expect<i32>(k).toBe(TOK_ERROR, len.toString());
      expect<i32>(jsonErrorOffset()).toBeLessThanOrEqual(len);
      expect<i32>(jsonErrorMessage().length).toBeGreaterThan(0);
    }
  });

  it("random bytes never trap and always end", () => {
    let seed: u32 = 12345;
    let endless = 0;
    let badErrors = 0;
    let errors = 0;
    const alphabet = '{}[]":,\\ 0123456789-+.eEtrufalsn"\\u';
    for (let round = 0; round < 2000; round++) {
      const len = <i32>(seed % 40);
      for (let i = 0; i < len; i++) {
        seed = seed * 1103515245 + 12345;
        const c = (seed >> 16) % 4 == 0 ? <u8>(seed >> 8) : <u8>alphabet.charCodeAt(<i32>((seed >> 8) % <u32>alphabet.length));
        store<u8>(doc + <usize>i, c);
      }
      seed = seed * 1103515245 + 12345;
      jsonBegin(doc, len);
      let k = 0;
      let n = 0;
      for (; n < 200; n++) {
        k = jsonNext();
        if (k == TOK_END || k == TOK_ERROR) break;
      }
      // (Counted, not asserted per round: the test framework's allocations
      // under the stub runtime are never freed.)
      if (n >= 200) endless++;
      if (k == TOK_ERROR && (jsonErrorMessage().length == 0 || jsonErrorOffset() > len)) badErrors++;
      if (k == TOK_ERROR) errors++;
    }
    expect<i32>(endless).toBe(0);
    expect<i32>(badErrors).toBe(0);
    expect<i32>(errors).toBeGreaterThan(1000);
  });
});
