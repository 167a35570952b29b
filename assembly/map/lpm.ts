// Longest-prefix match over the rule table, for the per-packet lookups
// ruleForIPv4 / ruleForIPv6 (the BR calls them for every packet).
//
// Built once at install: the rules that take part are grouped by prefix
// length; within a group, entries are sorted by masked prefix (ties by rule
// index). A lookup walks the groups from the longest length down and binary
// searches each one, so it costs O(L · log n) for L distinct lengths, not a
// scan over all rules.
//
//   groups (longest first)          entries (sorted within a group)
//   +-----+-------+-------+         +----------------+------+
//   | len | start | count |  ---->  | masked prefix  | rule |
//   +-----+-------+-------+         +----------------+------+
//
// Ties (two rules with the same prefix and length) resolve to the lowest
// rule index (the first in provisioning order).
import { MAX_RULES } from "../config";
import { Rule, mask32, mask64 } from "./rule";

// IPv4: entry = key (u32) | rule (i32); group = len | start | count | mask.
const V4_ENTRY = 8;
const V4_GROUP = 16;
const v4Entries: usize = memory.data(MAX_RULES * V4_ENTRY, 16);
const v4Groups: usize = memory.data(33 * V4_GROUP, 16);
let v4GroupCount = 0;

// IPv6: entry = hi (u64) | lo (u64) | rule (i32) | pad; group = len | start | count | pad | maskHi | maskLo.
const V6_ENTRY = 24;
const V6_GROUP = 32;
const v6Entries: usize = memory.data(MAX_RULES * V6_ENTRY, 16);
const v6Groups: usize = memory.data(129 * V6_GROUP, 16);
let v6GroupCount = 0;

/**
 * Rebuilds both indexes from `count` rule records at `table` (stride
 * `stride`). With `all` false only forwarding rules (F flag) take part.
 */
export function lpmBuild(table: usize, stride: i32, count: i32, all: bool): void {
  // Collect (length, key, rule) and insertion-sort by (length desc, key asc,
  // rule asc); at most MAX_RULES entries, once per configuration.
  let n4 = 0;
  let n6 = 0;
  for (let i = 0; i < count; i++) {
    const rule = changetype<Rule>(table + <usize>(i * stride));
    if (!all && rule.forwarding == 0) continue;
    // IPv4
    let j = n4;
    const len4 = rule.prefix4Len;
    const key4 = rule.prefix4;
    while (j > 0) {
      const prev = v4Entries + <usize>((j - 1) * V4_ENTRY);
      const plen = changetype<Rule>(table + <usize>(load<i32>(prev, 4) * stride)).prefix4Len;
      if (plen > len4 || (plen == len4 && load<u32>(prev) <= key4)) break;
      memory.copy(prev + V4_ENTRY, prev, V4_ENTRY);
      j--;
    }
    const e4 = v4Entries + <usize>(j * V4_ENTRY);
    store<u32>(e4, key4);
    store<i32>(e4, i, 4);
    n4++;
    // IPv6
    j = n6;
    const len6 = rule.prefix6Len;
    const hi = rule.prefix6Hi;
    const lo = rule.prefix6Lo;
    while (j > 0) {
      const prev = v6Entries + <usize>((j - 1) * V6_ENTRY);
      const prule = changetype<Rule>(table + <usize>(load<i32>(prev, 16) * stride));
      const plen = prule.prefix6Len;
      if (plen > len6) break;
      if (plen == len6) {
        const phi = load<u64>(prev);
        const plo = load<u64>(prev, 8);
        if (phi < hi || (phi == hi && plo <= lo)) break;
      }
      memory.copy(prev + V6_ENTRY, prev, V6_ENTRY);
      j--;
    }
    const e6 = v6Entries + <usize>(j * V6_ENTRY);
    store<u64>(e6, hi);
    store<u64>(e6, lo, 8);
    store<i32>(e6, i, 16);
    n6++;
  }
  // Groups: runs of equal length.
  v4GroupCount = 0;
  for (let i = 0; i < n4; i++) {
    const len = changetype<Rule>(table + <usize>(load<i32>(v4Entries + <usize>(i * V4_ENTRY), 4) * stride)).prefix4Len;
    const last = v4GroupCount - 1;
    if (last >= 0 && load<i32>(v4Groups + <usize>(last * V4_GROUP)) == len) {
      const g = v4Groups + <usize>(last * V4_GROUP);
      store<i32>(g, load<i32>(g, 8) + 1, 8);
    } else {
      const g = v4Groups + <usize>(v4GroupCount * V4_GROUP);
      store<i32>(g, len);
      store<i32>(g, i, 4);
      store<i32>(g, 1, 8);
      store<u32>(g, mask32(len), 12);
      v4GroupCount++;
    }
  }
  v6GroupCount = 0;
  for (let i = 0; i < n6; i++) {
    const len = changetype<Rule>(table + <usize>(load<i32>(v6Entries + <usize>(i * V6_ENTRY), 16) * stride)).prefix6Len;
    const last = v6GroupCount - 1;
    if (last >= 0 && load<i32>(v6Groups + <usize>(last * V6_GROUP)) == len) {
      const g = v6Groups + <usize>(last * V6_GROUP);
      store<i32>(g, load<i32>(g, 8) + 1, 8);
    } else {
      const g = v6Groups + <usize>(v6GroupCount * V6_GROUP);
      store<i32>(g, len);
      store<i32>(g, i, 4);
      store<i32>(g, 1, 8);
      store<u64>(g, mask64(len), 16);
      store<u64>(g, mask64(len - 64), 24);
      v6GroupCount++;
    }
  }
}

/** Empties both indexes. */
export function lpmClear(): void {
  v4GroupCount = 0;
  v6GroupCount = 0;
}

/** Number of distinct IPv4 prefix lengths (the lookup cost), for tests. */
export function lpmIPv4Lengths(): i32 {
  return v4GroupCount;
}

/** Number of distinct IPv6 prefix lengths (the lookup cost), for tests. */
export function lpmIPv6Lengths(): i32 {
  return v6GroupCount;
}

/** Index of the rule whose IPv4 prefix is the longest match of addr, -1 if none. */
export function lpmIPv4(addr: u32): i32 {
  for (let g = 0; g < v4GroupCount; g++) {
    const gp = v4Groups + <usize>(g * V4_GROUP);
    const key = addr & load<u32>(gp, 12);
    // Leftmost entry with entry.key >= key.
    let lo = load<i32>(gp, 4);
    let hi = lo + load<i32>(gp, 8);
    const end = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (load<u32>(v4Entries + <usize>(mid * V4_ENTRY)) < key) lo = mid + 1;
      else hi = mid;
    }
    if (lo < end) {
      const e = v4Entries + <usize>(lo * V4_ENTRY);
      if (load<u32>(e) == key) return load<i32>(e, 4);
    }
  }
  return -1;
}

/** Index of the rule whose IPv6 prefix is the longest match of the address at p, -1 if none. */
export function lpmIPv6(p: usize): i32 {
  const ahi = bswap<u64>(load<u64>(p));
  const alo = bswap<u64>(load<u64>(p, 8));
  for (let g = 0; g < v6GroupCount; g++) {
    const gp = v6Groups + <usize>(g * V6_GROUP);
    const khi = ahi & load<u64>(gp, 16);
    const klo = alo & load<u64>(gp, 24);
    let lo = load<i32>(gp, 4);
    let hi = lo + load<i32>(gp, 8);
    const end = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = v6Entries + <usize>(mid * V6_ENTRY);
      const ehi = load<u64>(e);
      if (ehi < khi || (ehi == khi && load<u64>(e, 8) < klo)) lo = mid + 1;
      else hi = mid;
    }
    if (lo < end) {
      const e = v6Entries + <usize>(lo * V6_ENTRY);
      if (load<u64>(e) == khi && load<u64>(e, 8) == klo) return load<i32>(e, 16);
    }
  }
  return -1;
}
