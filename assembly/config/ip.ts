// IPv4 / IPv6 address and prefix text, both ways, over byte spans.
//
// Parsing is strict because every address here ends up in a MAP rule: a typo
// that a lenient parser would accept (a fifth IPv4 octet, host bits past the
// prefix length) silently changes which CE owns which port. IPv6 text is the
// RFC 4291 §2.2 forms: eight groups of 1..4 hex digits, one "::" for a run of
// zero groups, an optional dotted-quad IPv4 tail in the last 32 bits; zone
// ids are refused. IPv4 is four decimal numbers 0..255 without leading zeros
// (inet_aton reads those as octal, inet_pton refuses them).
//
// Formatting is RFC 5952 §4 (lower case, no leading zeros, the longest run of
// two or more zero groups shortened to "::", the first on a tie) and §5
// (IPv4-mapped addresses keep the dotted quad): what inet_ntop prints, so
// output compares equal to OpenWrt's mapcalc.
//
// A parse that fails returns false (or -1) and leaves its reason, one
// sentence quoting the text, in `addrError` (the caller prefixes the field).
import { Out, newOut, byteAt, isDigitByte } from "./text";

const errRegion: usize = memory.data(1024, 8);
/** Why the last parse failed. */
export const addrError: Out = newOut(errRegion, 1024, memory.data(<i32>offsetof<Out>(), 8));

/** Results of the last successful parse. */
export let parsedV4: u32 = 0;
export let parsedLen: i32 = 0;

const groups: usize = memory.data(16, 8); // 8 × u16 being assembled
const masked: usize = memory.data(16, 8);

function v4Error(p: usize, n: i32): Out {
  return addrError.reset().quoted(p, n).str(" is not an IPv4 address (");
}

/** The dotted-quad text at p (n bytes) → parsedV4. */
export function parseIPv4(p: usize, n: i32): bool {
  let v: u32 = 0;
  let part = 0;
  let start = 0;
  // Count the dots first: the message for a wrong count comes before any number's.
  let dots = 0;
  for (let i = 0; i < n; i++) if (byteAt(p, i) == 0x2e) dots++;
  if (dots != 3) {
    v4Error(p, n).str("need four dotted numbers)");
    return false;
  }
  for (let i = 0; i <= n; i++) {
    if (i < n && byteAt(p, i) != 0x2e) continue;
    const len = i - start;
    let ok = len >= 1 && len <= 3 && !(len > 1 && byteAt(p, start) == 0x30);
    let x: u32 = 0;
    for (let k = 0; ok && k < len; k++) {
      const c = byteAt(p, start + k);
      if (!isDigitByte(c)) ok = false;
      else x = x * 10 + <u32>(c - 0x30);
    }
    if (!ok || x > 255) {
      v4Error(p, n).quoted(p + <usize>start, len).str(" is not a number from 0 to 255)");
      return false;
    }
    v = (v << 8) | x;
    part++;
    start = i + 1;
  }
  parsedV4 = v;
  return true;
}

function v6Error(p: usize, n: i32): Out {
  return addrError.reset().quoted(p, n).str(" is not an IPv6 address (");
}

@inline function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

// Groups of one half ("2001:db8" of "2001:db8::1"): written to `groups` from
// index `at`; returns the count, or -1 on error (message written).
function halfGroups(tp: usize, tn: i32, p: usize, n: i32, allowV4Tail: bool, at: i32): i32 {
  if (n == 0) return 0;
  let count = 0;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && byteAt(p, i) != 0x3a) continue;
    const len = i - start;
    const last = i == n;
    let hasDot = false;
    for (let k = 0; k < len; k++) if (byteAt(p, start + k) == 0x2e) hasDot = true;
    if (allowV4Tail && last && hasDot) {
      if (!parseIPv4(p + <usize>start, len)) {
        v6Error(tp, tn).quoted(p + <usize>start, len).str(" is not a dotted-quad IPv4 tail)");
        return -1;
      }
      if (at + count + 2 <= 8) {
        store<u16>(groups + <usize>(2 * (at + count)), <u16>(parsedV4 >> 16));
        store<u16>(groups + <usize>(2 * (at + count + 1)), <u16>(parsedV4 & 0xffff));
      }
      count += 2;
    } else {
      let ok = len >= 1 && len <= 4;
      let g = 0;
      for (let k = 0; ok && k < len; k++) {
        const d = hexValue(byteAt(p, start + k));
        if (d < 0) ok = false;
        else g = (g << 4) | d;
      }
      if (!ok) {
        if (len == 0) v6Error(tp, tn).str("empty group)");
        else v6Error(tp, tn).quoted(p + <usize>start, len).str(" is not a group of 1 to 4 hex digits)");
        return -1;
      }
      if (at + count < 8) store<u16>(groups + <usize>(2 * (at + count)), <u16>g);
      count++;
    }
    start = i + 1;
  }
  return count;
}

/** Index of "::" in the span at or after `from`, -1 when none. */
function findDoubleColon(p: usize, n: i32, from: i32): i32 {
  for (let i = from; i + 1 < n; i++) if (byteAt(p, i) == 0x3a && byteAt(p, i + 1) == 0x3a) return i;
  return -1;
}

/** IPv6 text at p (n bytes) → 16 bytes at out (network order). */
export function parseIPv6(p: usize, n: i32, out: usize): bool {
  if (n == 0) {
    v6Error(p, n).str("empty)");
    return false;
  }
  for (let i = 0; i < n; i++) {
    if (byteAt(p, i) == 0x25) {
      v6Error(p, n).str("zone ids are not accepted)");
      return false;
    }
  }
  memory.fill(groups, 0, 16);
  const dc = findDoubleColon(p, n, 0);
  if (dc >= 0) {
    if (findDoubleColon(p, n, dc + 2) >= 0) {
      v6Error(p, n).str("'::' may appear only once)");
      return false;
    }
    // The head is assembled in place, the tail after it, then moved to the end.
    const head = halfGroups(p, n, p, dc, false, 0);
    if (head < 0) return false;
    const tail = halfGroups(p, n, p + <usize>(dc + 2), n - dc - 2, true, head);
    if (tail < 0) return false;
    if (head + tail > 7) {
      v6Error(p, n).str("too many groups around '::')");
      return false;
    }
    const gap = 8 - head - tail;
    for (let k = tail - 1; k >= 0; k--) {
      store<u16>(groups + <usize>(2 * (head + gap + k)), load<u16>(groups + <usize>(2 * (head + k))));
    }
    for (let k = 0; k < gap; k++) store<u16>(groups + <usize>(2 * (head + k)), 0);
  } else {
    const count = halfGroups(p, n, p, n, true, 0);
    if (count < 0) return false;
    if (count != 8) {
      v6Error(p, n).i32(count).str(" groups instead of 8)");
      return false;
    }
  }
  for (let k = 0; k < 8; k++) {
    const g = <i32>load<u16>(groups + <usize>(2 * k));
    store<u8>(out + <usize>(2 * k), <u8>(g >> 8));
    store<u8>(out + <usize>(2 * k + 1), <u8>g);
  }
  return true;
}

/** Splits "addr/len": the slash index, or -1 (message written). parsedLen = len. */
function splitPrefix(p: usize, n: i32, max: i32, v6: bool): i32 {
  let slash = -1;
  for (let i = 0; i < n; i++) {
    if (byteAt(p, i) == 0x2f) { slash = i; break; }
  }
  if (slash < 0) {
    addrError.reset().quoted(p, n).str(v6 ? " is not an IPv6 prefix" : " is not an IPv4 prefix").str(" (missing '/length')");
    return -1;
  }
  const lp = p + <usize>(slash + 1);
  const ln = n - slash - 1;
  let ok = ln >= 1 && !(ln > 1 && byteAt(lp, 0) == 0x30);
  let v = 0;
  for (let k = 0; ok && k < ln; k++) {
    const c = byteAt(lp, k);
    if (!isDigitByte(c) || v > 1000) ok = false;
    else v = v * 10 + (c - 0x30);
  }
  if (!ok || v > max) {
    addrError.reset().quoted(p, n).str(v6 ? " is not an IPv6 prefix" : " is not an IPv4 prefix")
      .str(" (length ").quoted(lp, ln).str(" is not a number from 0 to ").i32(max).str(")");
    return -1;
  }
  parsedLen = v;
  return slash;
}

@inline export function mask4(len: i32): u32 {
  return len == 0 ? 0 : <u32>(0xffffffff << (32 - len));
}

/** "a.b.c.d/len" → parsedV4, parsedLen; bits past len must be zero. */
export function parsePrefix4(p: usize, n: i32): bool {
  const slash = splitPrefix(p, n, 32, false);
  if (slash < 0) return false;
  const len = parsedLen;
  if (!parseIPv4(p, slash)) return false;
  const m = mask4(len);
  if ((parsedV4 & ~m) != 0) {
    addrError.reset().quoted(p, n).str(" has bits set past /").i32(len).str(" (did you mean ");
    formatIPv4(addrError, parsedV4 & m);
    addrError.str("/").i32(len).str("?)");
    return false;
  }
  parsedLen = len;
  return true;
}

/** Copies 16 bytes from `from` to `to` with the bits past len cleared. */
export function maskPrefix6(to: usize, from: usize, len: i32): void {
  for (let i = 0; i < 16; i++) {
    let bits = len - 8 * i;
    if (bits < 0) bits = 0;
    if (bits > 8) bits = 8;
    store<u8>(to + <usize>i, <u8>(<i32>load<u8>(from + <usize>i) & ((0xff00 >> bits) & 0xff)));
  }
}

/** Whether the 16 bytes at p have no bit set past len. */
export function isMasked6(p: usize, len: i32): bool {
  maskPrefix6(masked, p, len);
  for (let i = 0; i < 16; i++) if (load<u8>(masked + <usize>i) != load<u8>(p + <usize>i)) return false;
  return true;
}

/** "ipv6/len" → 16 bytes at out, parsedLen; bits past len must be zero. */
export function parsePrefix6(p: usize, n: i32, out: usize): bool {
  const slash = splitPrefix(p, n, 128, true);
  if (slash < 0) return false;
  const len = parsedLen;
  if (!parseIPv6(p, slash, out)) return false;
  if (!isMasked6(out, len)) {
    addrError.reset().quoted(p, n).str(" has bits set past /").i32(len).str(" (did you mean ");
    formatIPv6(addrError, masked);
    addrError.str("/").i32(len).str("?)");
    return false;
  }
  parsedLen = len;
  return true;
}

/** Appends dotted-quad text. */
export function formatIPv4(o: Out, v: u32): void {
  o.u32(v >> 24).byte(0x2e).u32((v >> 16) & 255).byte(0x2e).u32((v >> 8) & 255).byte(0x2e).u32(v & 255);
}

/** Appends the RFC 5952 text of the 16 bytes at p. */
export function formatIPv6(o: Out, p: usize): void {
  let g0 = 0;
  for (let i = 0; i < 5; i++) g0 |= (<i32>load<u8>(p + <usize>(2 * i)) << 8) | <i32>load<u8>(p + <usize>(2 * i + 1));
  const g5 = (<i32>load<u8>(p + 10) << 8) | <i32>load<u8>(p + 11);
  if (g0 == 0 && g5 == 0xffff) {
    // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
    o.str("::ffff:");
    formatIPv4(o, bswap<u32>(load<u32>(p + 12)));
    return;
  }
  // §4.2.3: the longest run of zero groups, the first on a tie; §4.2.2: not a single group.
  let bestAt = -1;
  let bestLen = 1;
  let i = 0;
  while (i < 8) {
    if (group(p, i) != 0) { i++; continue; }
    let j = i;
    while (j < 8 && group(p, j) == 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  if (bestAt < 0) {
    for (let k = 0; k < 8; k++) {
      if (k > 0) o.byte(0x3a);
      o.hex(<u32>group(p, k));
    }
    return;
  }
  for (let k = 0; k < bestAt; k++) {
    if (k > 0) o.byte(0x3a);
    o.hex(<u32>group(p, k));
  }
  o.str("::");
  for (let k = bestAt + bestLen; k < 8; k++) {
    if (k > bestAt + bestLen) o.byte(0x3a);
    o.hex(<u32>group(p, k));
  }
}

@inline function group(p: usize, i: i32): i32 {
  return (<i32>load<u8>(p + <usize>(2 * i)) << 8) | <i32>load<u8>(p + <usize>(2 * i + 1));
}
