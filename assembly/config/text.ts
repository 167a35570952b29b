// Text in and out of fixed buffers, for the configuration parsers: a writer
// (`Out`) that appends static strings, user bytes (escaped or raw) and
// numbers to a fixed region and silently stops at its end, and small readers
// over byte spans of the input. Nothing allocates: an `Out` lives in static
// memory (`newOut`), strings passed in are literals.
//
// User bytes in messages go through `esc`: control characters (below 0x20,
// and 0x7F) become \xNN, so a file or argument cannot put a newline, an
// escape sequence or a NUL into the one-line error a host prints.

// The appenders and span readers below stay single out-of-line functions
// in the release build, not copies at hundreds of message sites: binaryen's
// -O3 would inline these small call-free functions into every caller, and
// scripts/cold-noinline.mjs marks everything under assembly/config/ not
// inlinable (text written once per configuration wants no copies). No code
// here recurses: the module's call graph is acyclic (scripts/callgraph.mjs).

@unmanaged
export class Out {
  base: usize = 0;
  cap: i32 = 0;
  len: i32 = 0;

  reset(): Out {
    this.len = 0;
    return this;
  }

  byte(c: i32): Out {
    if (this.len < this.cap) {
      store<u8>(this.base + <usize>this.len, <u8>c);
      this.len++;
    }
    return this;
  }

  /** Appends an ASCII/Latin-1 string literal (code units below 0x80 expected). */
  str(s: string): Out {
    const n = s.length;
    for (let i = 0; i < n; i++) this.byte(s.charCodeAt(i));
    return this;
  }

  /** Appends bytes as they are. */
  raw(p: usize, n: i32): Out {
    for (let i = 0; i < n; i++) this.byte(<i32>load<u8>(p + <usize>i));
    return this;
  }

  /** Appends user bytes with control characters escaped as \xNN. */
  esc(p: usize, n: i32): Out {
    for (let i = 0; i < n; i++) {
      const c = <i32>load<u8>(p + <usize>i);
      if (c < 0x20 || c == 0x7f) {
        this.byte(0x5c).byte(0x78).byte(hexChar(c >> 4)).byte(hexChar(c & 15));
      } else {
        this.byte(c);
      }
    }
    return this;
  }

  /** Appends user bytes quoted: '…' (escaped). */
  quoted(p: usize, n: i32): Out {
    return this.byte(0x27).esc(p, n).byte(0x27);
  }

  /** Appends the decimal digits of v (at most 10), the most significant first. */
  u32(v: u32): Out {
    let d: u32 = 1;
    while (v / d >= 10) d *= 10; // d <= 10^9: no overflow
    for (; d != 0; d /= 10) this.byte(0x30 + <i32>(v / d % 10));
    return this;
  }

  /** Appends the decimal digits of v (at most 20), the most significant first. */
  u64(v: u64): Out {
    let d: u64 = 1;
    while (v / d >= 10) d *= 10; // d <= 10^19 < 2^64: no overflow
    for (; d != 0; d /= 10) this.byte(0x30 + <i32>(v / d % 10));
    return this;
  }

  i32(v: i32): Out {
    if (v < 0) {
      this.byte(0x2d);
      return this.u32(<u32>(-(<i64>v)));
    }
    return this.u32(<u32>v);
  }

  /** Appends v in lower-case hex without leading zeros. */
  hex(v: u32): Out {
    let s = 0;
    while (s < 28 && (v >>> <u32>(s + 4)) != 0) s += 4; // at most 8 digits
    for (; s >= 0; s -= 4) this.byte(hexChar(<i32>((v >>> <u32>s) & 15)));
    return this;
  }

  /** Appends spaces until the text since `from` is `width` bytes long. */
  padTo(from: i32, width: i32): Out {
    while (this.len - from < width) this.byte(0x20);
    return this;
  }

  /** Appends another writer's text. */
  out(o: Out): Out {
    return this.raw(o.base, o.len);
  }

  /** The byte at i of what was written. */
  at(i: i32): i32 {
    return <i32>load<u8>(this.base + <usize>i);
  }
}

@inline export function hexChar(d: i32): i32 {
  return d < 10 ? 0x30 + d : 0x61 + d - 10;
}

/** An `Out` over a new static region of `cap` bytes (call at module start only). */
export function newOut(region: usize, cap: i32, self: usize): Out {
  const o = changetype<Out>(self);
  o.base = region;
  o.cap = cap;
  o.len = 0;
  return o;
}

// ---- Reading byte spans ----

@inline export function byteAt(p: usize, i: i32): i32 {
  return <i32>load<u8>(p + <usize>i);
}

/** Whether the n bytes at p are the ASCII text s. */
export function spanIs(p: usize, n: i32, s: string): bool {
  if (n != s.length) return false;
  for (let i = 0; i < n; i++) if (byteAt(p, i) != s.charCodeAt(i)) return false;
  return true;
}

/** Whether the n bytes at p start with s. */
export function spanStarts(p: usize, n: i32, s: string): bool {
  const m = s.length;
  if (n < m) return false;
  for (let i = 0; i < m; i++) if (byteAt(p, i) != s.charCodeAt(i)) return false;
  return true;
}

/** Index of byte c in the span, -1 when absent. */
export function spanFind(p: usize, n: i32, c: i32): i32 {
  for (let i = 0; i < n; i++) if (byteAt(p, i) == c) return i;
  return -1;
}

@inline export function isDigitByte(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The decimal value of the whole span (digits only, at least one), or -1 when
 * it is not all digits or is above `max` (max < 2^52).
 */
export function spanDecimal(p: usize, n: i32, max: i64): i64 {
  if (n <= 0) return -1;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    const c = byteAt(p, i);
    if (!isDigitByte(c)) return -1;
    v = v * 10 + <i64>(c - 0x30);
    if (v > max) return -1;
  }
  return v;
}

@inline export function isSpaceByte(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d || c == 0x0b || c == 0x0c;
}
