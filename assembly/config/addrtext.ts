// IPv4 and IPv6 address text (RFC 4291 §2.2, RFC 4632 prefixes) read from
// byte ranges of the JSON document being read (config/json.ts: offsets from
// jsonBase()), into fixed buffers: no allocation.
import { jsonBase } from "./json";

@inline function byteAt(i: i32): i32 { return <i32>load<u8>(jsonBase() + <usize>i); }

/** The 16 bytes of the last IPv6 address parsed (network order). */
export const addr6: usize = memory.data(16, 16);
/** The last IPv4 address parsed, host order. */
export let addr4: u32 = 0;

function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parses a dotted quad in [s, e) into addr4. */
export function parseIPv4At(s: i32, e: i32): bool {
  let v: u32 = 0;
  let parts = 0;
  let i = s;
  while (parts < 4) {
    let n = 0;
    let digits = 0;
    while (i < e && byteAt(i) >= 0x30 && byteAt(i) <= 0x39) {
      n = n * 10 + byteAt(i) - 0x30;
      digits++;
      i++;
      if (digits > 3) return false;
    }
    if (digits == 0 || n > 255) return false;
    // No leading zeros ("010" reads as octal elsewhere): refused.
    if (digits > 1 && byteAt(i - digits) == 0x30) return false;
    v = (v << 8) | <u32>n;
    parts++;
    if (parts < 4) {
      if (i >= e || byteAt(i) != 0x2e) return false;
      i++;
    }
  }
  if (i != e) return false;
  addr4 = v;
  return true;
}

/** Parses IPv6 text in [s, e) (groups, one "::", an optional dotted IPv4 tail) into addr6. */
const groups: usize = memory.data(16, 16);
export function parseIPv6At(s: i32, e: i32): bool {
  let n = 0;
  let gap = -1;
  let i = s;
  if (e - s >= 2 && byteAt(s) == 0x3a && byteAt(s + 1) == 0x3a) {
    gap = 0;
    i = s + 2;
    if (i == e) {
      memory.fill(addr6, 0, 16);
      return true;
    }
  } else if (i < e && byteAt(i) == 0x3a) {
    return false;
  }
  while (i < e) {
    if (n >= 8) return false;
    // A dotted IPv4 tail takes the last two groups.
    let j = i;
    let dotted = false;
    while (j < e && byteAt(j) != 0x3a) {
      if (byteAt(j) == 0x2e) dotted = true;
      j++;
    }
    if (dotted) {
      if (j != e || n > 6 || !parseIPv4At(i, e)) return false;
      store<u16>(groups + <usize>(n * 2), <u16>(addr4 >>> 16));
      store<u16>(groups + <usize>(n * 2 + 2), <u16>(addr4 & 0xffff));
      n += 2;
      i = e;
      break;
    }
    let v = 0;
    let digits = 0;
    while (i < e && hexVal(byteAt(i)) >= 0) {
      v = (v << 4) | hexVal(byteAt(i));
      digits++;
      i++;
      if (digits > 4) return false;
    }
    if (digits == 0) return false;
    store<u16>(groups + <usize>(n * 2), <u16>v);
    n++;
    if (i < e) {
      if (byteAt(i) != 0x3a) return false;
      i++;
      if (i < e && byteAt(i) == 0x3a) {
        if (gap >= 0) return false;
        gap = n;
        i++;
      } else if (i == e) {
        return false; // a trailing single ':'
      }
    }
  }
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n > 7) return false;
  memory.fill(addr6, 0, 16);
  if (gap < 0) gap = n;
  const tail = n - gap;
  for (let g = 0; g < gap; g++) {
    const v = load<u16>(groups + <usize>(g * 2));
    store<u8>(addr6 + <usize>(g * 2), <u8>(v >>> 8));
    store<u8>(addr6 + <usize>(g * 2 + 1), <u8>(v & 0xff));
  }
  for (let t = 0; t < tail; t++) {
    const v = load<u16>(groups + <usize>((gap + t) * 2));
    const at = 16 - tail * 2 + t * 2;
    store<u8>(addr6 + <usize>at, <u8>(v >>> 8));
    store<u8>(addr6 + <usize>(at + 1), <u8>(v & 0xff));
  }
  return true;
}

/** Reads a decimal prefix length in [s, e), at most `max`; -1 when it is not one. */
export function prefixLenAt(s: i32, e: i32, max: i32): i32 {
  if (s >= e || e - s > 3) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = byteAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + c - 0x30;
  }
  if (e - s > 1 && byteAt(s) == 0x30) return -1;
  return n <= max ? n : -1;
}

/** Offset of the '/' in [s, e), or -1. */
export function slashAt(s: i32, e: i32): i32 {
  for (let i = s; i < e; i++) if (byteAt(i) == 0x2f) return i;
  return -1;
}
