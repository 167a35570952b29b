// Mutations of packets in place, in a byte view (usually straight over an
// input slot of the module's memory). Each returns the new length.
//
// Checksum fixing is part of the mutation menu on purpose: a mutated field
// behind a wrong checksum only tests the checksum check, while the same field
// with its checksum fixed reaches the code behind it (NAT, ICMP, fragments).

import { internetChecksum, pseudoHeaderSum } from "../host/packets.js";
import type { Rng } from "./rng.js";

const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const put16 = (b: Uint8Array, at: number, v: number): void => {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
};

/** Recomputes the IPv4 header checksum at `off` if the header fits in `len`. */
export function fixIpv4Header(b: Uint8Array, off: number, len: number): void {
  if (off + 20 > len || b[off] >> 4 !== 4) return;
  const hl = (b[off] & 15) * 4;
  if (hl < 20 || off + hl > len) return;
  put16(b, off + 10, 0);
  put16(b, off + 10, internetChecksum(b.subarray(off, off + hl)));
}

/** Recomputes the L4 checksum (UDP, TCP, ICMP) and header checksum of the IPv4 packet at `off`. */
export function fixIpv4(b: Uint8Array, off: number, len: number): void {
  if (off + 20 > len || b[off] >> 4 !== 4) return;
  const hl = (b[off] & 15) * 4;
  if (hl < 20 || off + hl > len) return;
  const total = Math.min(u16(b, off + 2), len - off);
  const frag = u16(b, off + 6);
  if (total >= hl && (frag & 0x3fff) === 0) {
    const l4 = off + hl;
    const l4len = total - hl;
    const body = b.subarray(l4, l4 + l4len);
    const ph = pseudoHeaderSum(b.subarray(off + 12, off + 16), b.subarray(off + 16, off + 20), b[off + 9], l4len);
    if (b[off + 9] === 17 && l4len >= 8) {
      put16(b, l4 + 6, 0);
      let c = internetChecksum(body, ph);
      if (c === 0) c = 0xffff;
      put16(b, l4 + 6, c);
    } else if (b[off + 9] === 6 && l4len >= 20) {
      put16(b, l4 + 16, 0);
      put16(b, l4 + 16, internetChecksum(body, ph));
    } else if (b[off + 9] === 1 && l4len >= 8) {
      put16(b, l4 + 2, 0);
      put16(b, l4 + 2, internetChecksum(body));
    }
  }
  fixIpv4Header(b, off, len);
}

/** Fixes whatever checksums a packet of either family carries (IPv6: inner IPv4 or ICMPv6 right after the fixed header). */
export function fixChecksums(b: Uint8Array, len: number): void {
  const v = len > 0 ? b[0] >> 4 : 0;
  if (v === 4) fixIpv4(b, 0, len);
  else if (v === 6 && len >= 40) {
    const nh = b[6];
    if (nh === 4) fixIpv4(b, 40, len);
    else if (nh === 58 && len >= 48) {
      const plen = Math.min(u16(b, 4), len - 40);
      put16(b, 42, 0);
      put16(b, 42, internetChecksum(b.subarray(40, 40 + plen), pseudoHeaderSum(b.subarray(8, 24), b.subarray(24, 40), 58, plen)));
    }
  }
}

/** Makes the length fields agree with `len` (IPv4 total length; IPv6 payload length and inner IPv4). */
export function fixLengths(b: Uint8Array, len: number): void {
  const v = len > 0 ? b[0] >> 4 : 0;
  if (v === 4 && len >= 20) put16(b, 2, len);
  else if (v === 6 && len >= 40) {
    put16(b, 4, Math.min(len - 40, 0xffff));
    if (b[6] === 4 && len >= 60 && b[40] >> 4 === 4) put16(b, 42, len - 40);
  }
}

/** Where the IPv4 header the mutation should aim at starts (0 for IPv4, 40 for IPv4-in-IPv6), or -1. */
function ipv4At(b: Uint8Array, len: number): number {
  if (len >= 20 && b[0] >> 4 === 4) return 0;
  if (len >= 60 && b[0] >> 4 === 6 && b[6] === 4) return 40;
  return -1;
}

/** A position biased toward the headers (the first 100 bytes). */
function position(r: Rng, len: number): number {
  return r.chance(0.75) ? r.int(Math.min(len, 100)) : r.int(len);
}

const PROTOS = [0, 1, 4, 6, 17, 41, 43, 44, 47, 50, 58, 59, 60, 132, 255];
const ICMP4_TYPES = [0, 3, 4, 5, 8, 11, 12, 13, 14, 17];
const ICMP6_TYPES = [1, 2, 3, 4, 128, 129, 133, 135, 143];

export type Mutator = (r: Rng, b: Uint8Array, len: number, cap: number) => number;

export const truncate: Mutator = (r, _b, len) => (r.chance(0.1) ? 0 : r.int(len + 1));

export const bitFlips: Mutator = (r, b, len) => {
  if (len === 0) return 0;
  for (let k = r.range(1, 8); k > 0; k--) b[position(r, len)] ^= 1 << r.int(8);
  return len;
};

export const randomBytes: Mutator = (r, b, len) => {
  if (len === 0) return 0;
  for (let k = r.range(1, 8); k > 0; k--) b[position(r, len)] = r.interestingByte();
  return len;
};

/** IPv4 header fields: lengths, IHL, fragment fields, TTL, protocol, addresses. */
export const ipv4Fields: Mutator = (r, b, len) => {
  const o = ipv4At(b, len);
  if (o < 0) return randomBytes(r, b, len, 0);
  switch (r.int(8)) {
    case 0: put16(b, o + 2, r.chance(0.5) ? r.interesting16() : Math.max(0, len - o + r.range(-24, 24))); break;
    case 1: b[o] = 0x40 | r.int(16); break;
    case 2: put16(b, o + 6, r.chance(0.5) ? r.u32() & 0xffff : r.pick([0x2000, 0x2001, 0x0001, 0x1fff, 0x3fff, 0x4000, 0x6000, 0x8000])); break;
    case 3: b[o + 8] = r.pick([0, 1, 2, 255]); break;
    case 4: b[o + 9] = r.pick(PROTOS); break;
    case 5: { const at = o + (r.chance(0.5) ? 12 : 16); b.set(r.pick([[0, 0, 0, 0], [127, 0, 0, 1], [224, 0, 0, 1], [255, 255, 255, 255], [r.byte(), r.byte(), r.byte(), r.byte()]]), at); break; }
    case 6: b[o + 1] = r.byte(); break;
    default: b[o] = r.byte(); break;
  }
  return len;
};

/** IPv6 fixed header fields. */
export const ipv6Fields: Mutator = (r, b, len) => {
  if (len < 40 || b[0] >> 4 !== 6) return ipv4Fields(r, b, len, 0);
  switch (r.int(5)) {
    case 0: put16(b, 4, r.chance(0.5) ? r.interesting16() : Math.max(0, len - 40 + r.range(-24, 24))); break;
    case 1: b[6] = r.chance(0.7) ? r.pick(PROTOS) : r.byte(); break;
    case 2: b[7] = r.pick([0, 1, 255]); break;
    case 3: b[8 + r.int(16)] ^= 1 << r.int(8); break;
    default: b[24 + r.int(16)] ^= 1 << r.int(8); break;
  }
  return len;
};

/** Transport fields: ports, UDP length, TCP offset and flags, ICMP type and code. */
export const l4Fields: Mutator = (r, b, len) => {
  const o = ipv4At(b, len);
  if (o < 0) {
    if (len >= 48 && b[0] >> 4 === 6 && b[6] === 58) {
      if (r.chance(0.5)) b[40] = r.pick(ICMP6_TYPES);
      else b[41 + r.int(7)] = r.interestingByte();
      return len;
    }
    return randomBytes(r, b, len, 0);
  }
  const hl = (b[o] & 15) * 4;
  const l4 = o + hl;
  if (l4 + 8 > len) return randomBytes(r, b, len, 0);
  const proto = b[o + 9];
  if (proto === 1) {
    if (r.chance(0.5)) b[l4] = r.pick(ICMP4_TYPES);
    else if (r.chance(0.5)) b[l4 + 1] = r.int(16);
    else b[l4 + 4 + r.int(4)] = r.interestingByte();
    // Also reach into the quote of an error message.
    if (r.chance(0.3) && l4 + 28 < len) b[l4 + 8 + r.int(Math.min(40, len - l4 - 8))] = r.interestingByte();
  } else if (proto === 6 && l4 + 20 <= len) {
    switch (r.int(4)) {
      case 0: b[l4 + 12] = r.int(16) << 4; break;
      case 1: b[l4 + 13] = r.byte(); break;
      case 2: put16(b, l4 + r.pick([0, 2]), r.interesting16()); break;
      default: for (let i = 20; i < Math.min(60, len - l4); i++) b[l4 + i] = r.chance(0.3) ? r.pick([0, 1, 2, 3, 4, 8, 255]) : r.byte(); break;
    }
  } else {
    if (r.chance(0.5)) put16(b, l4 + 4, r.chance(0.5) ? r.interesting16() : Math.max(0, len - l4 + r.range(-9, 9)));
    else put16(b, l4 + r.pick([0, 2]), r.interesting16());
  }
  return len;
};

/** Grows the packet with random or zero bytes, up to the slot's capacity. */
export const extend: Mutator = (r, b, len, cap) => {
  const n = r.chance(0.3) ? cap : r.range(len, Math.min(cap, len + r.pick([8, 64, 1500, cap])));
  const zero = r.chance(0.5);
  for (let i = len; i < n; i++) b[i] = zero ? 0 : r.byte();
  if (r.chance(0.5)) fixLengths(b, n);
  return n;
};

/** Random bytes of a random length, starting like an IP header half the time. */
export const randomPacket: Mutator = (r, b, _len, cap) => {
  const n = r.chance(0.05) ? cap : r.int(r.chance(0.5) ? 80 : 1600);
  for (let i = 0; i < n; i++) b[i] = r.byte();
  if (n > 0 && r.chance(0.7)) b[0] = r.pick([0x45, 0x46, 0x4f, 0x60, 0x40, 0x65]);
  if (r.chance(0.5)) fixLengths(b, n);
  return n;
};

const PORT_EDGES = [0, 1, 1023, 1024, 4095, 4096, 4097, 8191, 8192, 32767, 32768, 65534, 65535];

/**
 * One field of an otherwise valid packet set to a boundary value, checksums
 * fixed afterwards: IPv4 TTL, total length (±1 of the bytes), IHL, DF / MF /
 * fragment offset, protocol; IPv6 payload length (±1), hop limit; ports and
 * echo ids at port-set and PSID edges; UDP length; ICMP type and code.
 * Aims at the inner IPv4 packet of IPv4-in-IPv6 as well as at plain IPv4.
 */
export const boundaryField: Mutator = (r, b, len) => {
  const o = ipv4At(b, len);
  if (o >= 0 && r.chance(o === 40 ? 0.85 : 1)) {
    const hl = (b[o] & 15) * 4;
    const l4 = o + hl;
    switch (r.int(9)) {
      case 0: b[o + 8] = r.pick([0, 1, 2, 254, 255]); break;
      case 1: put16(b, o + 2, len - o + r.pick([-1, 0, 1, -8, 8])); break;
      case 2: b[o] = 0x40 | r.pick([0, 4, 5, 6, 15]); break;
      case 3: put16(b, o + 6, r.pick([0x4000, 0x2000, 0x0001, 0x1fff, 0x3fff, 0x2000 | 0x1fff, 0x4000 | 0x0001, 0x8000])); break;
      case 4: b[o + 9] = r.pick([0, 1, 4, 6, 17, 41, 47, 58, 255]); break;
      case 5: if (l4 + 4 <= len) put16(b, l4 + r.pick([0, 2]), r.pick(PORT_EDGES)); break;
      case 6: if (l4 + 8 <= len && b[o + 9] === 17) put16(b, l4 + 4, r.pick([0, 7, 8, 9, len - l4 - 1, len - l4, len - l4 + 1])); break;
      case 7: if (l4 + 8 <= len && b[o + 9] === 1) put16(b, l4 + 4, r.pick(PORT_EDGES)); break;
      default: if (l4 + 2 <= len && b[o + 9] === 1) { b[l4] = r.pick([0, 3, 5, 8, 11, 12, 4, 255]); b[l4 + 1] = r.pick([0, 1, 3, 4, 13, 15, 16, 255]); } break;
    }
  } else if (len >= 40 && b[0] >> 4 === 6) {
    switch (r.int(3)) {
      case 0: put16(b, 4, Math.max(0, Math.min(0xffff, len - 40 + r.pick([-1, 0, 1, -8, 8, 0xffff])))); break;
      case 1: b[7] = r.pick([0, 1, 2, 255]); break;
      default: if (len >= 44 && b[6] === 58) { b[40] = r.pick([1, 2, 3, 4, 127, 128, 129, 135, 255]); b[41] = r.pick([0, 1, 3, 4, 255]); } else b[6] = r.pick([0, 4, 41, 43, 44, 58, 59, 60]); break;
    }
  }
  fixChecksums(b, len);
  return len;
};

export const MUTATORS: readonly Mutator[] = [
  truncate, bitFlips, bitFlips, randomBytes, randomBytes, ipv4Fields, ipv4Fields, ipv6Fields,
  l4Fields, l4Fields, l4Fields, extend, randomPacket, boundaryField, boundaryField,
];

/** One to three mutations, then (often) checksums fixed so the packet gets past the checks. */
export function mutate(r: Rng, b: Uint8Array, len: number, cap: number): number {
  for (let k = r.chance(0.7) ? 1 : r.range(2, 3); k > 0; k--) len = r.pick(MUTATORS)(r, b, len, cap);
  if (r.chance(0.6)) fixChecksums(b, len);
  return len;
}

/** Moves an IPv4 fragment (offset in 8-byte units) or IPv6 fragment by ±8..24 bytes to make an overlap. */
export function shiftFragment(r: Rng, b: Uint8Array, len: number): void {
  const delta = r.pick([-3, -2, -1, 1, 2, 3]);
  if (len >= 20 && b[0] >> 4 === 4) {
    const f = u16(b, 6);
    put16(b, 6, (f & 0xe000) | (((f & 0x1fff) + delta) & 0x1fff));
    fixIpv4Header(b, 0, len);
  } else if (len >= 48 && b[0] >> 4 === 6) {
    // Find the Fragment header (right after the fixed header in our seeds).
    if (b[6] === 44) {
      const f = u16(b, 42);
      put16(b, 42, (f & 7) | ((f + delta * 8) & 0xfff8));
    } else if (len >= 68 && b[6] === 4 && b[40] >> 4 === 4) {
      const f = u16(b, 46);
      put16(b, 46, (f & 0xe000) | (((f & 0x1fff) + delta) & 0x1fff));
      fixIpv4Header(b, 40, len);
    }
  }
}
