// Packet slots and the output list (docs/abi.md §2).
//
//   slotBase                                                    slotCount slots
//   +------------------+------------------+-----+------------------+
//   | slot 0           | slot 1           | ... | slot N-1         |
//   +------------------+------------------+-----+------------------+
//   each slot: | HEADROOM | packet ......................... |   SLOT_SIZE bytes
//
//   inputs 0..count-1 sit in slots 0..count-1 at slot + HEADROOM;
//   spares count..N-1 hold what the module makes during the batch.
//
//   inLens  : i32[batchMax]   written by the host
//   outOffs : i32[slotCount]  absolute memory offset of output j
//   outLens : i32[slotCount]  its length
import { SLOT_SIZE, HEADROOM } from "../config";
import { arenaAlloc, arenaRound } from "../arena";
import { count, C_NO_SLOT } from "./counters";

export let slotBase: usize = 0;
export let slotN: i32 = 0;
export let inLens: usize = 0;
let outOffs: usize = 0;
let outLens: usize = 0;
export let outN: i32 = 0;
let nextSpare: i32 = 0;

/** Arena bytes slotsInit(n) carves (0 for a count it refuses). */
export function slotsBytes(n: i32): usize {
  if (n < 2 || n > 4096) return 0;
  return arenaRound(<usize>n * SLOT_SIZE) + 3 * arenaRound(<usize>n * 4);
}

/** Carves the slots and the lists; false when they do not fit. */
export function slotsInit(n: i32): bool {
  slotN = 0;
  if (n < 2 || n > 4096) return false;
  slotBase = arenaAlloc(<usize>n * SLOT_SIZE);
  inLens = arenaAlloc(<usize>n * 4);
  outOffs = arenaAlloc(<usize>n * 4);
  outLens = arenaAlloc(<usize>n * 4);
  if (slotBase == 0 || inLens == 0 || outOffs == 0 || outLens == 0) return false;
  slotN = n;
  return true;
}

@inline export function slotPtr(i: i32): usize {
  return slotBase + <usize>i * SLOT_SIZE;
}

/** Starts a batch of `count` inputs: spares begin after them. */
export function slotsBegin(count: i32): void {
  outN = 0;
  nextSpare = count;
}

/**
 * A spare slot for a packet the module makes; returns the pointer at its
 * headroom (room for an outer header in front), or 0 when none is left
 * (counted as no-slot).
 */
export function spare(len: i32): usize {
  if (nextSpare >= slotN) {
    count(C_NO_SLOT, len);
    return 0;
  }
  return slotPtr(nextSpare++) + HEADROOM;
}

/** Adds a packet to the output list. */
@inline export function emit(p: usize, len: i32): void {
  store<i32>(outOffs + (<usize>outN << 2), <i32>p);
  store<i32>(outLens + (<usize>outN << 2), len);
  outN++;
}

export function outputOffsetsPtr(): usize { return outOffs; }
export function outputLengthsPtr(): usize { return outLens; }

/**
 * Bytes free after a packet of `len` bytes at `p` up to the end of its slot
 * (an ALG that grows a segment checks it first); 0 when `p` is not inside
 * a slot.
 */
export function slotTailroom(p: usize, len: i32): i32 {
  if (slotN == 0 || p < slotBase || p >= slotBase + <usize>slotN * SLOT_SIZE) return 0;
  const end = slotBase + ((p - slotBase) / SLOT_SIZE + 1) * SLOT_SIZE;
  const room = <i32>(end - p) - len;
  return room > 0 ? room : 0;
}
