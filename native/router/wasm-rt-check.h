// How the translated module's loads and stores are bounds-checked, per
// target (scripts/router.mjs sets one of the two; rt.c provides the memory):
//
//   MAPE_GUARD_PAGES=1 (64-bit targets): the memory is the start of an
//     8 GiB reservation whose rest is guard pages (rt.c); the generated code
//     checks nothing (WASM_RT_MEMCHECK_SIGNAL_HANDLER=1) and a fault inside
//     the reservation is the out-of-bounds trap. Nothing here.
//
//   MAPE_MEMCHECK_FIXED=1 (32-bit targets, where 8 GiB of address space do
//     not exist): every access is checked here, against the memory's size
//     as a constant. The module's memory is fixed (initial = maximum =
//     MAPE_MEMORY_PAGES; rt.c refuses any other and memory.grow fails), so
//     `addr + n > MAPE_MEMORY_BYTES` is exactly wasm2c's own check
//     `addr + n > mem->size`, without the load of mem->size. wasm2c 1.0.32's
//     own check (RANGE_CHECK, taken when WASM_RT_MEMCHECK_SIGNAL_HANDLER=0)
//     is 64-bit arithmetic on a run-time size: on mipsel it is 74 KB of the
//     module's code, this one half of that (docs/benchmark.md). The
//     generated code's per-access check is switched off
//     (WASM_RT_MEMCHECK_SIGNAL_HANDLER=1, WASM_RT_SKIP_SIGNAL_RECOVERY=1: no
//     signal handler is involved) and this one takes its place.
//
//     How it takes its place: in the generated code, every load and store of
//     the module is one of wasm2c's DEFINE_LOAD/DEFINE_STORE helpers, whose
//     only copy is `wasm_rt_memcpy(..., &mem->data[addr], sizeof(t1))` (or
//     the reverse) with the wasm address in their parameter `addr`. The
//     macro below checks that `addr` before the copy. scripts/router.mjs
//     fails the build unless every use of wasm_rt_memcpy in the generated C
//     is such a helper line (so a wasm2c that changes this cannot compile
//     into an unchecked program; a missing `addr` would not compile either).
//     The bulk-memory operations and the data segments keep wasm2c's own
//     check (RANGE_CHECK), which they use on every setting.
#ifndef MAPE_WASM_RT_CHECK_H
#define MAPE_WASM_RT_CHECK_H

#define MAPE_MEMORY_PAGES 128
#define MAPE_MEMORY_BYTES (MAPE_MEMORY_PAGES * 65536u)

#if MAPE_GUARD_PAGES && MAPE_MEMCHECK_FIXED
#error "one bounds-check scheme per build: MAPE_GUARD_PAGES or MAPE_MEMCHECK_FIXED"
#endif
#if !MAPE_GUARD_PAGES && !MAPE_MEMCHECK_FIXED && WASM_RT_MEMCHECK_SIGNAL_HANDLER
#error "WASM_RT_MEMCHECK_SIGNAL_HANDLER=1 without MAPE_GUARD_PAGES or MAPE_MEMCHECK_FIXED would leave the module's accesses unchecked"
#endif

#if MAPE_MEMCHECK_FIXED
#if !WASM_RT_MEMCHECK_SIGNAL_HANDLER
#error "MAPE_MEMCHECK_FIXED replaces wasm2c's per-access check: build with WASM_RT_MEMCHECK_SIGNAL_HANDLER=1 WASM_RT_SKIP_SIGNAL_RECOVERY=1"
#endif
#ifndef MAPE_RT_COPY
#define MAPE_RT_COPY __builtin_memcpy
#endif
#ifdef MAPE_RT_TEST_HOOKS
// Test builds only (build/router/x86_64-trap32): the bound is rt.c's
// variable, lowered by MAPE_TEST_MEMORY_OPEN, so the module's own accesses
// can be made to fail the check.
extern uint64_t mape_test_checked_bytes;
#define MAPE_CHECKED_BYTES mape_test_checked_bytes
#else
#define MAPE_CHECKED_BYTES ((uint64_t)MAPE_MEMORY_BYTES)
#endif
#undef wasm_rt_memcpy
#define wasm_rt_memcpy(d, s, n) \
  ((UNLIKELY((addr) > MAPE_CHECKED_BYTES - (n)) ? wasm_rt_trap(WASM_RT_TRAP_OOB) : (void)0), MAPE_RT_COPY(d, s, n))
#endif

#endif
