// Reassembly of outer IPv6 fragments (RFC 8200 §4.5; RFC 5722: overlapping
// fragments discard the whole packet; RFC 7597 §8.3.2 lets the BR fragment
// the tunnelled packet, so a CE must put the pieces back together).
//
//   context (REASM6_CONTEXTS of them)
//   +-----------+-----------+--------+------+-------+-------+---------+--------------------+---------------------+
//   | src (16)  | dst (16)  | id u32 | live | total | bytes | expires | bitmap (64 bytes)  | packet: IPv6 header |
//   | 0         | 16        | 32     | 36   | 40    | 44    | 48      | 56                 | 120: 40 + data ...  |
//   +-----------+-----------+--------+------+-------+-------+---------+--------------------+---------------------+
//   total: length of the fragmentable part when the last fragment came, else -1.
//   bytes: fragment bytes received so far (what an eviction drops).
//
// Exhaustion (docs/threat-model.md, State and exhaustion): the callers check
// the outer source before a fragment gets here (stage.ts reassemble); one
// source /64 holds at most REASM6_PER_SOURCE contexts, and a new packet when
// the table is full evicts the oldest context (its source's oldest when the
// source is at its share) instead of being refused, so first fragments that
// never complete cannot keep the legitimate out for 60 s.
//   bitmap: one bit per 8-byte block of the fragmentable part received.
//   The rebuilt packet is the first fragment's fixed header (next header set
//   to the fragment header's) followed by the fragmentable part.
import { REASM6_CONTEXTS, REASM6_PER_SOURCE, REASM6_TIMEOUT_MS, SLOT_SIZE, HEADROOM } from "../config";
import { count, C_REASSEMBLY_EVICTED } from "./counters";
import { ipv6AddrEqual, ipv6AddrCopy, ipv6Src, ipv6Dst, ipv6FragId, ipv6FragMore, ipv6FragOffset,
  ipv6FragNextHeader, setIpv6NextHeader, setIpv6PayloadLength, IPV6_HEADER_LEN, IPV6_FRAG_HEADER_LEN } from "../wire/ipv6";

const OFF_ID: i32 = 32;
const OFF_LIVE: i32 = 36;
const OFF_TOTAL: i32 = 40;
const OFF_BYTES: i32 = 44;
const OFF_EXPIRES: i32 = 48;
const OFF_BITMAP: i32 = 56;
const OFF_PACKET: i32 = 120;
const MAX_PACKET: i32 = SLOT_SIZE - HEADROOM;
const MAX_DATA: i32 = MAX_PACKET - IPV6_HEADER_LEN;
const CTX_BYTES: i32 = OFF_PACKET + MAX_PACKET;

const CTX: usize = memory.data(REASM6_CONTEXTS * CTX_BYTES, 16);

/** Outcomes of reasm6Add. */
export const R6_HELD: i32 = 0;
export const R6_DONE: i32 = 1;
export const R6_BAD: i32 = 2;
export const R6_FULL: i32 = 3;
export const R6_TOO_BIG: i32 = 4;

/** After R6_DONE: the rebuilt packet (inside the context; copy it out, then reasm6Free). */
export let reasmPtr: usize = 0;
export let reasmLen: i32 = 0;
export let reasmCtx: i32 = -1;

export function reasm6Reset(): void {
  memory.fill(CTX, 0, REASM6_CONTEXTS * CTX_BYTES);
}

@inline function ctxPtr(i: i32): usize { return CTX + <usize>(i * CTX_BYTES); }

export function reasm6Free(i: i32): void {
  if (i >= 0) store<u8>(ctxPtr(i), 0, OFF_LIVE);
}

/** Frees contexts whose 60 s ran out; returns how many. */
export function reasm6Expire(now: u64): i32 {
  let n = 0;
  for (let i = 0; i < REASM6_CONTEXTS; i++) {
    const c = ctxPtr(i);
    if (load<u8>(c, OFF_LIVE) != 0 && load<u64>(c, OFF_EXPIRES) <= now) {
      store<u8>(c, 0, OFF_LIVE);
      n++;
    }
  }
  return n;
}

function findOrCreate(p: usize, id: u32, now: u64): i32 {
  const src = ipv6Src(p);
  const src64 = load<u64>(src);
  let free = -1;
  let mine = 0;           // live contexts of this source /64
  let mineOldest = -1;
  let oldest = -1;
  for (let i = 0; i < REASM6_CONTEXTS; i++) {
    const c = ctxPtr(i);
    if (load<u8>(c, OFF_LIVE) == 0 || load<u64>(c, OFF_EXPIRES) <= now) {
      if (free < 0) free = i;
      continue;
    }
    if (load<u32>(c, OFF_ID) == id && ipv6AddrEqual(c, src) && ipv6AddrEqual(c + 16, ipv6Dst(p))) return i;
    const exp = load<u64>(c, OFF_EXPIRES);
    if (oldest < 0 || exp < load<u64>(ctxPtr(oldest), OFF_EXPIRES)) oldest = i;
    if (load<u64>(c) == src64) {
      mine++;
      if (mineOldest < 0 || exp < load<u64>(ctxPtr(mineOldest), OFF_EXPIRES)) mineOldest = i;
    }
  }
  // A source at its share makes room from its own; else a free context; else the oldest.
  let take = mine >= REASM6_PER_SOURCE ? mineOldest : free >= 0 ? free : oldest;
  if (take < 0) return -1; // unreachable: REASM6_CONTEXTS > 0
  const c = ctxPtr(take);
  if (take != free) count(C_REASSEMBLY_EVICTED, load<i32>(c, OFF_BYTES));
  ipv6AddrCopy(c, src);
  ipv6AddrCopy(c + 16, ipv6Dst(p));
  store<u32>(c, id, OFF_ID);
  store<u8>(c, 1, OFF_LIVE);
  store<i32>(c, -1, OFF_TOTAL);
  store<i32>(c, 0, OFF_BYTES);
  store<u64>(c, now + <u64>REASM6_TIMEOUT_MS, OFF_EXPIRES);
  memory.fill(c + OFF_BITMAP, 0, 64);
  store<u8>(c + OFF_PACKET, 0); // no header yet
  return take;
}

/** Tests and sets the bits of blocks [b0, b1); true when any was already set. */
function markBlocks(bm: usize, b0: i32, b1: i32): bool {
  let overlap = false;
  for (let b = b0; b < b1; b++) {
    const byte = bm + <usize>(b >> 3);
    const bit: i32 = 1 << (b & 7);
    const v = <i32>load<u8>(byte);
    if (v & bit) overlap = true;
    store<u8>(byte, <u8>(v | bit));
  }
  return overlap;
}

function allBlocks(bm: usize, n: i32): bool {
  for (let b = 0; b < n; b++) {
    const bit: i32 = 1 << (b & 7);
    if ((<i32>load<u8>(bm + <usize>(b >> 3)) & bit) == 0) return false;
  }
  return true;
}

/**
 * Adds the fragment at `p` (whole IPv6 packet of `len` bytes, fragment
 * header at byte `fragOff`). Returns R6_HELD, R6_DONE (reasmPtr/reasmLen
 * set), or a reason to drop.
 */
export function reasm6Add(p: usize, len: i32, fragOff: i32, now: u64): i32 {
  const f = p + <usize>fragOff;
  const dataOff = fragOff + IPV6_FRAG_HEADER_LEN;
  const dataLen = len - dataOff;
  const off = ipv6FragOffset(f);
  const more = ipv6FragMore(f);
  // RFC 8200 §4.5: every fragment but the last is a multiple of 8 bytes.
  if (dataLen <= 0 || (more && (dataLen & 7) != 0)) return R6_BAD;
  if (off + dataLen > MAX_DATA) return R6_TOO_BIG;
  const i = findOrCreate(p, ipv6FragId(f), now);
  if (i < 0) return R6_FULL;
  const c = ctxPtr(i);
  const total = load<i32>(c, OFF_TOTAL);
  if (!more) {
    if (total >= 0 && total != off + dataLen) { reasm6Free(i); return R6_BAD; }
    store<i32>(c, off + dataLen, OFF_TOTAL);
  } else if (total >= 0 && off + dataLen > total) {
    reasm6Free(i); return R6_BAD;
  }
  if (markBlocks(c + OFF_BITMAP, off >> 3, (off + dataLen + 7) >> 3)) { reasm6Free(i); return R6_BAD; }
  const pkt = c + OFF_PACKET;
  memory.copy(pkt + IPV6_HEADER_LEN + <usize>off, p + <usize>dataOff, <usize>dataLen);
  store<i32>(c, load<i32>(c, OFF_BYTES) + len, OFF_BYTES);
  if (off == 0) {
    memory.copy(pkt, p, IPV6_HEADER_LEN);
    setIpv6NextHeader(pkt, ipv6FragNextHeader(f));
  }
  const t = load<i32>(c, OFF_TOTAL);
  if (t < 0 || load<u8>(pkt) == 0 || !allBlocks(c + OFF_BITMAP, (t + 7) >> 3)) return R6_HELD;
  setIpv6PayloadLength(pkt, t);
  reasmPtr = pkt;
  reasmLen = IPV6_HEADER_LEN + t;
  reasmCtx = i;
  return R6_DONE;
}
