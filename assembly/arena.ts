// The arena: one static, zero-filled region from which every table is carved
// when the module is initialised. Nothing is allocated while packets flow,
// and memory never grows.
//
//   0            __data_end          ARENA                  ARENA+ARENA_BYTES     8 MiB
//   +------------+--------------------+-----------------------+-------------------+
//   | statics    | (data segments)    | arena: tables, slots  | stub-runtime heap |
//   +------------+--------------------+-----------------------+-------------------+
//
// `memory.data(n)` reserves the region without putting a byte into the
// binary. The stub-runtime heap above it serves only start-up globals (and
// the test framework in unit tests).
import { ARENA_BYTES } from "./config";

const ARENA: usize = memory.data(ARENA_BYTES, 64);
let top: usize = 0;

/** Forgets every table carved so far (a full re-initialisation). */
export function arenaReset(): void {
  top = 0;
}

/** Bytes `arenaAlloc(bytes)` takes (its 64-byte rounding), for fit checks made before carving. */
@inline export function arenaRound(bytes: usize): usize {
  return (bytes + 63) & ~(<usize>63);
}

/** Bytes of the arena in all. */
export function arenaCapacity(): usize {
  return <usize>ARENA_BYTES;
}

/**
 * Carves `bytes` (rounded up to 64) from the arena and zeroes them.
 * Returns 0 when they do not fit: the caller reports a capacity error.
 */
export function arenaAlloc(bytes: usize): usize {
  const n = arenaRound(bytes);
  if (n > <usize>ARENA_BYTES - top) return 0;
  const p = ARENA + top;
  top += n;
  memory.fill(p, 0, n);
  return p;
}

/** Bytes of the arena in use. */
export function arenaUsed(): usize {
  return top;
}
