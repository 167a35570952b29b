// Capacities of every fixed table, in one place. Memory is fixed (asconfig:
// 128 pages = 8 MiB, initial = maximum), so these bound what fits.
export const MAX_RULES: i32 = 256;
export const MAX_BRS: i32 = 8;
export const CONFIG_BUFFER_SIZE: i32 = 16384;
