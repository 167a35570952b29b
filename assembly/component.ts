// The component-model adapter (wit/mape.wit, docs/component.md): the
// interface `mape:datapath/datapath` implemented by hand in the canonical
// ABI over the core exports (docs/abi.md). scripts/component.mjs renames
// these `cm_*` exports to `mape:datapath/datapath@0.2.0#<name>` (names
// AssemblyScript cannot spell) and wraps the module into a component.
//
// Canonical ABI, in short (component-model CanonicalABI.md):
// - a list is a (ptr, len) pair in linear memory; the caller lowers list
//   arguments by calling `cabi_realloc(0, 0, align, size)` and writing
//   into what it returns, outer list first, then each element in order;
// - a result that flattens to more than one value is returned through a
//   pointer to a "return area" the callee owns; the caller lifts (copies)
//   from it and from every list it points to before the next call.
//
// Memory is fixed and never grows, so nothing here allocates: `cabi_realloc`
// serves argument lists from two fixed regions, in order
//   1. the spare half of the packet slots (slots batchMax … slotCount−1),
//      which holds nothing between calls: outputs of the previous call were
//      lifted when it returned, held fragments live in their own tables;
//      a batch of batchMax packets of at most inputCapacity bytes always
//      fits it (n·8 + n·3968 ≤ n·4096);
//   2. a small static region (configure's options before `init`).
// No component input may trap, and `cabi_realloc` cannot refuse: when
// neither region has room it marks the call OVERFLOWED and hands out the
// discard area (below; every such block aliases it, their contents are
// junk), and the export that consumes the arguments answers with an error
// instead of reading them (process-batch: too-many-bytes; configure:
// CONFIG_LENGTH). Both regions are emptied when that export returns.
// Results live in fixed return areas (below) or point straight into the
// slots: the output packets are never copied inside the module, the
// canonical ABI copies them out.
import { CONFIG_BUFFER_SIZE, SLOT_SIZE, HEADROOM } from "./config";
import {
  configBuffer, configure, configErrorOffset, configErrorOption,
  ceIPv4, ceIPv4PrefixLength, cePsid, cePsidLength, cePsidOffset, cePortCount, ceIPv6Address, bmrIndex,
} from "./map/api";
import {
  init, start, process, slotCount, batchMax, inputPtr, inputLengths, outputOffsets, outputLengths,
  sessionCapacity,
} from "./datapath/process";
import { counterCount, counterValues, counterName, COUNTER_COUNT } from "./datapath/counters";
import { slotBase, slotN } from "./datapath/slots";

/** Most slots `init` carves (slots.ts refuses more). */
const MAX_SLOTS: i32 = 4096;
/** The static argument region: configure's options plus the outer list of a batch before init. */
const STATIC_BYTES: usize = <usize>CONFIG_BUFFER_SIZE + 4096;
const STATIC_AREA: usize = memory.data(<i32>STATIC_BYTES, 16);
/**
 * Where blocks go when neither region has room: 128 KiB, more than any IP
 * packet (65,575 bytes with its IPv6 header) or configuration. When the
 * spare slots are larger (64 slots and more), they serve as the discard
 * area instead: an overflowed call reads none of its arguments. A single
 * list larger than both cannot be placed anywhere in the fixed memory.
 */
const DISCARD_BYTES: usize = 128 << 10;
const DISCARD_AREA: usize = memory.data(<i32>DISCARD_BYTES, 16);
/** The pointer handed out for a block larger than every discard area (the runtime refuses it). */
const NOWHERE: usize = <usize>0xFFFF_FFF0;

// Fixed return areas, aligned for the largest field they hold.
const RET_CONFIGURE: usize = memory.data(16, 8);      // result<_, config-error>
const RET_LIMITS: usize = memory.data(20, 8);         // datapath-limits
const RET_BATCH: usize = memory.data(12, 8);          // result<list<list<u8>>, batch-error>
const RET_LIST: usize = memory.data(8, 8);            // (ptr, len) of a returned list
const RET_CE: usize = memory.data(28, 8);             // option<ce-mapping>
const OUT_PAIRS: usize = memory.data(MAX_SLOTS * 8, 8);       // list<list<u8>> of a batch
const COUNTER_RECORDS: usize = memory.data(COUNTER_COUNT * 24, 8); // list<counter>
const NAME_BYTES: i32 = 4096;
const NAMES_UTF8: usize = memory.data(NAME_BYTES, 8);  // counter names, UTF-8 (ASCII)
let namesReady = false;

// ---- cabi_realloc -------------------------------------------------------------

let spareUsed: usize = 0;   // bytes used of region 1 (the spare slots)
let staticUsed: usize = 0;  // bytes used of region 2
let lastPtr: usize = 0;     // the most recent allocation (it may grow in place)
let lastSize: usize = 0;
let overflowed = false;     // some block of the current call did not fit (docs/component.md, "Limits")

@inline function alignUp(v: usize, a: usize): usize {
  return (v + a - 1) & ~(a - 1);
}

/** Empties both argument regions (their contents have been consumed). */
@inline function resetArguments(): void {
  spareUsed = 0;
  staticUsed = 0;
  lastPtr = 0;
  lastSize = 0;
  overflowed = false;
}

/** Bytes of region 1 (the spare slots), 0 before init. */
@inline function spareCapacity(): usize {
  return slotN > 0 ? <usize>(slotN - (slotN >> 1)) * SLOT_SIZE : 0;
}

/**
 * A block for an overflowed call: the larger of the discard area and the
 * spare slots (nothing of the call is read, so they may all alias), or a
 * pointer the runtime refuses when `size` fits neither.
 */
function discard(size: usize): usize {
  overflowed = true;
  lastPtr = 0;
  lastSize = 0;
  const spare = spareCapacity();
  if (spare > DISCARD_BYTES && size <= spare) return slotBase + <usize>(slotN >> 1) * SLOT_SIZE;
  if (size <= DISCARD_BYTES) return DISCARD_AREA;
  // The runtime refuses this pointer and abandons the call before any
  // export runs: start the next call afresh.
  resetArguments();
  return NOWHERE;
}

/** Carves `size` bytes aligned to `align` from region 1, else region 2; else the discard area. */
function carve(align: usize, size: usize): usize {
  if (overflowed) return discard(size);
  const cap = spareCapacity();
  if (cap > 0) {
    const base = slotBase + <usize>(slotN >> 1) * SLOT_SIZE;
    const at = alignUp(spareUsed, align);
    if (at <= cap && size <= cap - at) {
      spareUsed = at + size;
      return base + at;
    }
  }
  const at = alignUp(staticUsed, align);
  if (at <= STATIC_BYTES && size <= STATIC_BYTES - at) {
    staticUsed = at + size;
    return STATIC_AREA + at;
  }
  return discard(size); // argument regions full (docs/component.md, "Limits")
}

/**
 * The canonical ABI's allocator: `(0, 0, align, size)` allocates; a non-zero
 * `oldPtr` asks to resize that allocation (kept when it shrinks, grown in
 * place when it is the last one, else moved). Never frees: the regions are
 * emptied as a whole when the export that consumed the arguments returns.
 * Never traps: a request that does not fit (or a bad alignment) overflows
 * the call, whose export then answers with an error.
 */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (align == 0 || align > 4096 || (align & (align - 1)) != 0) return discard(newSize);
  const memBytes = <usize>memory.size() << 16;
  if (oldPtr != 0 && (oldSize > memBytes || oldPtr > memBytes - oldSize)) return discard(newSize);
  if (oldPtr != 0 && !overflowed) {
    if (newSize <= oldSize) return oldPtr;
    if (oldPtr == lastPtr && oldSize == lastSize) {
      const grow = newSize - oldSize;
      const spareEnd = slotN > 0 ? slotBase + <usize>(slotN >> 1) * SLOT_SIZE + spareUsed : 0;
      const spareLimit = slotN > 0 ? slotBase + <usize>slotN * SLOT_SIZE : 0;
      if (oldPtr + oldSize == spareEnd && grow <= spareLimit - spareEnd) {
        spareUsed += grow;
        lastSize = newSize;
        return oldPtr;
      }
      if (oldPtr + oldSize == STATIC_AREA + staticUsed && grow <= STATIC_BYTES - staticUsed) {
        staticUsed += grow;
        lastSize = newSize;
        return oldPtr;
      }
    }
  }
  const p = carve(align, newSize);
  if (overflowed) return p; // the old block's contents are not needed any more
  if (oldPtr != 0) memory.copy(p, oldPtr, oldSize);
  lastPtr = p;
  lastSize = newSize;
  return p;
}

// ---- configure / init / start / limits -----------------------------------------

/** configure: func(options: list<u8>) -> result<_, config-error> */
export function cm_configure(ptr: usize, len: u32): usize {
  let n = <i32>CONFIG_BUFFER_SIZE + 1; // too long (or overflowed): configure answers CONFIG_LENGTH
  if (len <= <u32>CONFIG_BUFFER_SIZE && !overflowed) {
    n = <i32>len;
    memory.copy(configBuffer(), ptr, <usize>len);
  }
  resetArguments();
  const code = configure(n);
  store<u32>(RET_CONFIGURE, code == 0 ? 0 : 1); // discriminant (u8; the rest is padding)
  store<u32>(RET_CONFIGURE, <u32>code, 4);
  store<u32>(RET_CONFIGURE, <u32>configErrorOffset(), 8);
  store<u32>(RET_CONFIGURE, <u32>configErrorOption(), 12);
  return RET_CONFIGURE;
}

/** init: func(slots: u32, sessions: u32, seed: u32) -> result */
export function cm_init(slots: u32, sessions: u32, seed: u32): i32 {
  resetArguments();
  if (slots > <u32>i32.MAX_VALUE || sessions > <u32>i32.MAX_VALUE) return 1;
  return init(<i32>slots, <i32>sessions, seed) == 0 ? 0 : 1;
}

/** start: func(keep-sessions: bool) -> result */
export function cm_start(keepSessions: i32): i32 {
  resetArguments();
  return start(keepSessions != 0 ? 1 : 0) == 0 ? 0 : 1;
}

/** limits: func() -> datapath-limits */
export function cm_limits(): usize {
  resetArguments();
  const ready = slotCount() > 0;
  store<u32>(RET_LIMITS, <u32>slotCount());
  store<u32>(RET_LIMITS, <u32>batchMax(), 4);
  store<u32>(RET_LIMITS, ready ? <u32>(SLOT_SIZE - HEADROOM) : 0, 8);
  store<u32>(RET_LIMITS, ready ? <u32>sessionCapacity() : 0, 12);
  store<u32>(RET_LIMITS, <u32>batchBytes(), 16);
  return RET_LIMITS;
}

// ---- process-batch -------------------------------------------------------------

/**
 * Bytes the packets of one full batch may total so that its arguments
 * always fit region 1: the spare slots less the outer list of batchMax
 * (ptr, len) pairs. (Blocks go to region 2 when region 1 is full, so a
 * batch may get a little further; this is the figure a caller can rely on.)
 */
function batchBytes(): u32 {
  const cap = spareCapacity();
  const list = <usize>batchMax() << 3;
  return cap > list ? <u32>(cap - list) : 0;
}

/** batch-error cases (wit/mape.wit), in declaration order. */
const BATCH_TOO_MANY_PACKETS: u8 = 0;
const BATCH_TOO_MANY_BYTES: u8 = 1;

/**
 * process-batch: func(packets: list<list<u8>>, now-ms: f64) -> result<list<list<u8>>, batch-error>
 *
 * Copies packet i into slot i (cut to inputCapacity, as the core does),
 * runs the core `process`, and returns (ptr, len) pairs pointing straight
 * at the outputs in the slots. A batch of more than batchMax packets, or
 * one whose arguments did not fit the argument regions, is refused whole
 * (nothing processed, nothing counted): the caller splits it.
 *
 * Result layout (align 4): 0 discriminant u8 (0 ok, 1 err) | 4 list ptr or
 * batch-error u8 | 8 list len.
 */
export function cm_process_batch(list: usize, n: u32, nowMs: f64): usize {
  const tooMany = n > <u32>batchMax();
  if (tooMany || overflowed) {
    resetArguments();
    store<u32>(RET_BATCH, 1);
    store<u32>(RET_BATCH, tooMany ? BATCH_TOO_MANY_PACKETS : BATCH_TOO_MANY_BYTES, 4);
    store<u32>(RET_BATCH, 0, 8);
    return RET_BATCH;
  }
  const cap = <u32>(SLOT_SIZE - HEADROOM);
  const lens = inputLengths();
  for (let i: u32 = 0; i < n; i++) {
    const e = list + (<usize>i << 3);
    const src = load<u32>(e);
    let len = load<u32>(e, 4);
    if (len > cap) len = cap;
    memory.copy(inputPtr(<i32>i), <usize>src, <usize>len);
    store<i32>(lens + (<usize>i << 2), <i32>len);
  }
  resetArguments();
  const outs = process(<i32>n, nowMs);
  const offs = outputOffsets();
  const olens = outputLengths();
  for (let j = 0; j < outs; j++) {
    const o = <usize>j << 2;
    store<u32>(OUT_PAIRS + (<usize>j << 3), load<u32>(offs + o));
    store<u32>(OUT_PAIRS + (<usize>j << 3), load<u32>(olens + o), 4);
  }
  store<u32>(RET_BATCH, 0);
  store<u32>(RET_BATCH, <u32>OUT_PAIRS, 4);
  store<u32>(RET_BATCH, <u32>outs, 8);
  return RET_BATCH;
}

// ---- counters / ce-info ---------------------------------------------------------

/** counters: func() -> list<counter>; counter = { name: string, packets: u64, bytes: u64 } */
export function cm_counters(): usize {
  resetArguments();
  const n = counterCount();
  if (!namesReady) {
    // The names are ASCII (docs/counters.md): narrow UTF-16 to UTF-8 once.
    let at: usize = 0;
    for (let i = 0; i < n; i++) {
      const s = counterName(i);
      const chars = <usize>(load<u32>(s - 4) >> 1);
      if (at + chars > <usize>NAME_BYTES) unreachable();
      for (let c: usize = 0; c < chars; c++) {
        store<u8>(NAMES_UTF8 + at + c, <u8>load<u16>(s + (c << 1)));
      }
      const r = COUNTER_RECORDS + <usize>i * 24;
      store<u32>(r, <u32>(NAMES_UTF8 + at));
      store<u32>(r, <u32>chars, 4);
      at += chars;
    }
    namesReady = true;
  }
  const v = counterValues();
  for (let i = 0; i < n; i++) {
    const r = COUNTER_RECORDS + <usize>i * 24;
    store<u64>(r, load<u64>(v + (<usize>i << 4)), 8);
    store<u64>(r, load<u64>(v + (<usize>i << 4), 8), 16);
  }
  store<u32>(RET_LIST, <u32>COUNTER_RECORDS);
  store<u32>(RET_LIST, <u32>n, 4);
  return RET_LIST;
}

/**
 * ce-info: func() -> option<ce-mapping>
 *
 * Layout (align 4): 0 discriminant u8 | 4 ipv4 u32 | 8 ipv4-prefix-length u8 |
 * 10 psid u16 | 12 psid-length u8 | 13 psid-offset u8 | 16 port-count u32 |
 * 20 map-address (ptr, len).
 */
export function cm_ce_info(): usize {
  resetArguments();
  memory.fill(RET_CE, 0, 28);
  if (bmrIndex() < 0) return RET_CE;
  store<u8>(RET_CE, 1);
  store<u32>(RET_CE, ceIPv4(), 4);
  store<u8>(RET_CE, <u8>ceIPv4PrefixLength(), 8);
  store<u16>(RET_CE, <u16>cePsid(), 10);
  store<u8>(RET_CE, <u8>cePsidLength(), 12);
  store<u8>(RET_CE, <u8>cePsidOffset(), 13);
  store<u32>(RET_CE, <u32>cePortCount(), 16);
  store<u32>(RET_CE, <u32>ceIPv6Address(), 20);
  store<u32>(RET_CE, 16, 24);
  return RET_CE;
}
