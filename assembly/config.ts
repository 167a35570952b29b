// Capacities of every fixed table, in one place. Memory is fixed (asconfig:
// 128 pages = 8 MiB, initial = maximum), so these bound what fits.

/** Bytes of the static arena all tables are carved from (assembly/arena.ts). */
export const ARENA_BYTES: i32 = 6 << 20;
/** Rules (BMR + FMRs) the rule table holds. */
export const MAX_RULES: i32 = 256;
/** BR addresses (MAP-E DMRs) a configuration may carry. */
export const MAX_BRS: i32 = 8;
/** Bytes of the configuration buffer (docs/abi.md §1). */
export const CONFIG_BUFFER_SIZE: i32 = 16384;
