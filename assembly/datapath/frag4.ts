// IPv4 fragments that cross the NAPT (RFC 7597 §8.3.2–§8.3.3, RFC 4787 §11).
//
// Only the first fragment carries the ports. It is translated like any
// packet, and what was decided for it is remembered under the fragment key
// (src, dst, protocol, identification, direction) so the later fragments get
// the same translation. Fragments that arrive before their first fragment
// are held (a bounded number, for a bounded time) and released when it comes.
//
//   flow entry (32 bytes)
//   +-------+-------+----+-----+-----+------+--------+--------+-----------+
//   | src   | dst   | id |proto| dir | live | addr   | port   | expires   |
//   | u32 0 | u32 4 | u16 8|u8 10|u8 11|u8 12| u32 16 | u32 20 | u64 24    |
//   +-------+-------+----+-----+-----+------+--------+--------+-----------+
//   addr/port: outbound — the remote port (for the next hop) in port;
//              inbound  — the internal address and port.
//
//   held fragment: | key (16, as above) | len i32 | pad | expires u64 | bytes … |
//
// Exhaustion (docs/threat-model.md, State and exhaustion): one IPv4 source
// holds at most FRAG4_HELD_PER_SOURCE fragments, and a fragment that finds
// the holds full evicts the oldest one (its source's oldest when the source
// is at its share) instead of being refused, so stray non-first fragments
// cannot keep every later fragment out for the hold time.
import { FRAG4_ENTRIES, FRAG4_HELD, FRAG4_HELD_PER_SOURCE, FRAG4_TIMEOUT_MS, SLOT_SIZE, HEADROOM } from "../config";
import { count, C_FRAGMENTS_EVICTED } from "./counters";

const FLOW_BYTES: i32 = 32;
const HELD_HEAD: i32 = 32;
const HELD_BYTES: i32 = SLOT_SIZE - HEADROOM + HELD_HEAD;
const PROBE: i32 = 8;

const FLOWS: usize = memory.data(FRAG4_ENTRIES * FLOW_BYTES, 16);
const HELD: usize = memory.data(FRAG4_HELD * HELD_BYTES, 16);

export const DIR_OUT: i32 = 0;
export const DIR_IN: i32 = 1;

/** Results of frag4Find. */
export let fragAddr: u32 = 0;
export let fragPort: i32 = 0;

export function frag4Reset(): void {
  memory.fill(FLOWS, 0, FRAG4_ENTRIES * FLOW_BYTES);
  memory.fill(HELD, 0, FRAG4_HELD * HELD_BYTES);
}

@inline function hash(src: u32, dst: u32, id: i32, proto: i32, dir: i32): i32 {
  let h = src * 0x9E3779B1 ^ dst;
  h = (h ^ (h >>> 15)) * 0x85EBCA77;
  h ^= <u32>(id | (proto << 16) | (dir << 24));
  h = (h ^ (h >>> 13)) * 0xC2B2AE3D;
  return <i32>((h ^ (h >>> 16)) & <u32>(FRAG4_ENTRIES - 1));
}

@inline function keyEq(e: usize, src: u32, dst: u32, id: i32, proto: i32, dir: i32): bool {
  return load<u8>(e, 12) != 0 && load<u32>(e) == src && load<u32>(e, 4) == dst &&
    <i32>load<u16>(e, 8) == id && <i32>load<u8>(e, 10) == proto && <i32>load<u8>(e, 11) == dir;
}

@inline function setKey(e: usize, src: u32, dst: u32, id: i32, proto: i32, dir: i32): void {
  store<u32>(e, src);
  store<u32>(e, dst, 4);
  store<u16>(e, <u16>id, 8);
  store<u8>(e, <u8>proto, 10);
  store<u8>(e, <u8>dir, 11);
  store<u8>(e, 1, 12);
}

/** Remembers the translation of a first fragment. Overwrites the oldest entry when all probes are busy. */
export function frag4Remember(src: u32, dst: u32, id: i32, proto: i32, dir: i32,
                              addr: u32, port: i32, now: u64): void {
  const h = hash(src, dst, id, proto, dir);
  let victim: usize = 0;
  let oldest: u64 = U64.MAX_VALUE;
  for (let i = 0; i < PROBE; i++) {
    const e = FLOWS + <usize>(((h + i) & (FRAG4_ENTRIES - 1)) * FLOW_BYTES);
    if (keyEq(e, src, dst, id, proto, dir)) { victim = e; break; }
    const exp = load<u8>(e, 12) == 0 ? 0 : load<u64>(e, 24);
    if (exp <= now) { if (victim == 0 || oldest > 0) { victim = e; oldest = 0; } continue; }
    if (exp < oldest) { oldest = exp; victim = e; }
  }
  setKey(victim, src, dst, id, proto, dir);
  store<u32>(victim, addr, 16);
  store<u32>(victim, <u32>port, 20);
  store<u64>(victim, now + <u64>FRAG4_TIMEOUT_MS, 24);
}

/** Finds the translation of a later fragment; sets fragAddr/fragPort. */
export function frag4Find(src: u32, dst: u32, id: i32, proto: i32, dir: i32, now: u64): bool {
  const h = hash(src, dst, id, proto, dir);
  for (let i = 0; i < PROBE; i++) {
    const e = FLOWS + <usize>(((h + i) & (FRAG4_ENTRIES - 1)) * FLOW_BYTES);
    if (keyEq(e, src, dst, id, proto, dir)) {
      if (load<u64>(e, 24) <= now) { store<u8>(e, 0, 12); return false; }
      fragAddr = load<u32>(e, 16);
      fragPort = <i32>load<u32>(e, 20);
      return true;
    }
  }
  return false;
}

/**
 * Holds a fragment that came before its first fragment. A source at its
 * share evicts its own oldest held fragment; a full table evicts its
 * oldest (counted in fragments-evicted). False only for a fragment too
 * long for a hold (the caller drops it).
 */
export function frag4Hold(p: usize, len: i32, src: u32, dst: u32, id: i32, proto: i32, dir: i32,
                          now: u64): bool {
  if (len > SLOT_SIZE - HEADROOM) return false;
  let free = -1;
  let mine = 0;
  let mineOldest = -1;
  let oldest = -1;
  for (let i = 0; i < FRAG4_HELD; i++) {
    const h = HELD + <usize>(i * HELD_BYTES);
    const exp = load<u64>(h, 24);
    if (load<u8>(h, 12) == 0 || exp <= now) {
      if (free < 0) free = i;
      continue;
    }
    if (oldest < 0 || exp < load<u64>(HELD + <usize>(oldest * HELD_BYTES), 24)) oldest = i;
    if (load<u32>(h) == src) {
      mine++;
      if (mineOldest < 0 || exp < load<u64>(HELD + <usize>(mineOldest * HELD_BYTES), 24)) mineOldest = i;
    }
  }
  const take = mine >= FRAG4_HELD_PER_SOURCE ? mineOldest : free >= 0 ? free : oldest;
  if (take < 0) return false; // unreachable: FRAG4_HELD > 0
  const h = HELD + <usize>(take * HELD_BYTES);
  if (take != free) count(C_FRAGMENTS_EVICTED, load<i32>(h, 16));
  setKey(h, src, dst, id, proto, dir);
  store<i32>(h, len, 16);
  store<u64>(h, now + <u64>FRAG4_TIMEOUT_MS, 24);
  memory.copy(h + HELD_HEAD, p, <usize>len);
  return true;
}

/** Index of the next held fragment of this key at or after `from`, or -1. */
export function frag4NextHeld(from: i32, src: u32, dst: u32, id: i32, proto: i32, dir: i32, now: u64): i32 {
  for (let i = from; i < FRAG4_HELD; i++) {
    const h = HELD + <usize>(i * HELD_BYTES);
    if (keyEq(h, src, dst, id, proto, dir) && load<u64>(h, 24) > now) return i;
  }
  return -1;
}

@inline export function frag4HeldPtr(i: i32): usize { return HELD + <usize>(i * HELD_BYTES) + HELD_HEAD; }
@inline export function frag4HeldLen(i: i32): i32 { return load<i32>(HELD + <usize>(i * HELD_BYTES), 16); }
@inline export function frag4Release(i: i32): void { store<u8>(HELD + <usize>(i * HELD_BYTES), 0, 12); }

/**
 * Frees held fragments whose time ran out; returns how many (the caller
 * counts them as timed-out drops, with their bytes in `expiredBytes`).
 */
export let expiredBytes: i32 = 0;
export function frag4Expire(now: u64): i32 {
  let n = 0;
  expiredBytes = 0;
  for (let i = 0; i < FRAG4_HELD; i++) {
    const h = HELD + <usize>(i * HELD_BYTES);
    if (load<u8>(h, 12) != 0 && load<u64>(h, 24) <= now) {
      store<u8>(h, 0, 12);
      expiredBytes += load<i32>(h, 16);
      n++;
    }
  }
  return n;
}
