// The wasm2c runtime of the router program: what the generated C of
// build/mape.wasm calls (wasm2c 1.0.32's wasm-rt.h), for every target.
//
// Debian ships libwasm-rt-impl only for the build machine. This one serves
// x86_64, mipsel, mips and aarch64. The module's memory is 128 pages,
// initial = maximum: it never grows, and nothing is allocated while packets
// flow. Every load and store of the module is bounds-checked, in one of two
// ways, chosen by the build per target (scripts/router.mjs;
// wasm-rt-check.h):
//   - 32-bit targets (mipsel, mips; MAPE_MEMCHECK_FIXED): explicitly, each
//     access against the fixed size; the memory is one static array.
//   - 64-bit targets (x86_64, aarch64; MAPE_GUARD_PAGES): by guard pages,
//     as wasm2c's own runtime does. A wasm address is a u32 plus a u32
//     static offset, so every address the module can form lies below
//     8 GiB: the memory is the start of an 8 GiB
//     reservation (address space only, MAP_NORESERVE), the module's 8 MiB
//     readable and writable, the rest PROT_NONE, and a SIGSEGV/SIGBUS inside
//     the reservation is the module's out-of-bounds trap. The translated
//     code then checks nothing per access: on x86_64 that is 528 fewer
//     instructions per forwarded packet (callgrind, docs/benchmark.md). The
//     bulk-memory operations (memory.fill/copy) and the data segments stay
//     explicitly checked on every target: wasm2c checks them itself.
// A trap ends the program through the host's rt_trap_exit (mod.c): one line
// naming the trap and the export it happened in, exit status 70. The
// module's state is not trusted after a trap, so nothing resumes it.
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm-rt.h"
#include "wasm-rt-check.h"  // also where wasm-rt.h is wabt's own (the fuzz build)
#include "mod.h"
#if MAPE_GUARD_PAGES
#include <signal.h>
#include <sys/mman.h>
#endif

#define MEMORY_PAGES MAPE_MEMORY_PAGES
#define PAGE_SIZE 65536u
#define MEMORY_BYTES MAPE_MEMORY_BYTES

#if MAPE_GUARD_PAGES
// Every address the module can form: a u32 plus a u32 static offset, plus
// the widest access (8 bytes).
#define GUARDED_BYTES ((2ull << 32) + 8)
static uint8_t *guarded;
#else
static uint8_t memory_bytes[MEMORY_BYTES] __attribute__((aligned(64)));
#ifdef MAPE_RT_TEST_HOOKS
uint64_t mape_test_checked_bytes = MEMORY_BYTES;
#endif
#endif
static int memory_taken;

uint32_t wasm_rt_call_stack_depth;

// ---- traps ----
void wasm_rt_trap(wasm_rt_trap_t code) { rt_trap_exit(wasm_rt_strerror(code)); }

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow on divide or truncation";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "conversion from NaN to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    default: return "unknown trap";
  }
}

// ---- runtime state ----
static int initialized;
#if MAPE_GUARD_PAGES
// A fault inside the reservation is the module's out-of-bounds access; any
// other fault is not ours to explain: the default action (the host's bug
// shows as the crash it is).
static void on_fault(int sig, siginfo_t *si, void *context) {
  (void)context;
  const uint8_t *a = si->si_addr;
  if (guarded && a >= guarded && a < guarded + GUARDED_BYTES) rt_trap_exit(wasm_rt_strerror(WASM_RT_TRAP_OOB));
  signal(sig, SIG_DFL);  // returning re-runs the access, which now ends the program
}
#endif

void wasm_rt_init(void) {
#if MAPE_GUARD_PAGES
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) rt_trap_exit("cannot install the out-of-bounds handler");
#ifdef MAPE_RT_TEST_HOOKS
  // Test builds only: MAPE_TEST_HOST_FAULT=1 faults outside the module's
  // memory, which must end as the plain crash it is, never as a "trap".
  static volatile uintptr_t nowhere = 16;
  if (getenv("MAPE_TEST_HOST_FAULT")) *(volatile uint32_t *)nowhere = 1;
#endif
#endif
  initialized = 1;
}
bool wasm_rt_is_initialized(void) { return initialized != 0; }
void wasm_rt_free(void) {}

// ---- function types (call_indirect compares the indices) ----
#define MAX_FUNC_TYPES 64
#define MAX_FUNC_ARITY 16
static struct { uint32_t params, results; wasm_rt_type_t t[MAX_FUNC_ARITY]; } func_types[MAX_FUNC_TYPES];
static uint32_t func_type_count;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  wasm_rt_type_t t[MAX_FUNC_ARITY];
  uint32_t n = params + results;
  if (n > MAX_FUNC_ARITY) wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < n; i++) t[i] = (wasm_rt_type_t)va_arg(ap, int);
  va_end(ap);
  for (uint32_t k = 0; k < func_type_count; k++) {
    if (func_types[k].params == params && func_types[k].results == results && memcmp(func_types[k].t, t, n * sizeof t[0]) == 0) return k + 1;
  }
  if (func_type_count == MAX_FUNC_TYPES) wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
  func_types[func_type_count].params = params;
  func_types[func_type_count].results = results;
  memcpy(func_types[func_type_count].t, t, n * sizeof t[0]);
  return ++func_type_count;
}

// ---- the one linear memory ----
void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial_pages, uint32_t max_pages) {
  if (memory_taken || initial_pages != MEMORY_PAGES || max_pages != MEMORY_PAGES) rt_trap_exit("the module asked for a memory this host does not provide");
  memory_taken = 1;
#if MAPE_GUARD_PAGES
  // Zero already (fresh anonymous pages): pages the module never touches
  // are never made resident.
  size_t opened = MEMORY_BYTES;
#ifdef MAPE_RT_TEST_HOOKS
  // Test builds only (build/router/x86_64-trap): MAPE_TEST_MEMORY_OPEN=n
  // leaves only the first n bytes accessible, so the module's own accesses
  // fault and the trap path of the guard pages can be seen to work.
  const char *t = getenv("MAPE_TEST_MEMORY_OPEN");
  if (t) opened = (size_t)strtoul(t, NULL, 0) & ~(size_t)(PAGE_SIZE - 1);
#endif
  void *r = mmap(NULL, GUARDED_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) {
    char line[160];
    snprintf(line, sizeof line, "cannot reserve the module's guarded memory (8 GiB of address space): %s", strerror(errno));
    rt_trap_exit(line);
  }
  if (opened && mprotect(r, opened, PROT_READ | PROT_WRITE) != 0) rt_trap_exit("cannot open the module's memory");
  guarded = r;
  m->data = r;
#else
  // Zero already (static storage, instantiated once per process): pages
  // the module never touches are never made resident.
  m->data = memory_bytes;
#ifdef MAPE_RT_TEST_HOOKS
  // Test builds only (build/router/x86_64-trap32): MAPE_TEST_MEMORY_OPEN=n
  // lowers the bound of wasm-rt-check.h's check to n bytes.
  const char *t = getenv("MAPE_TEST_MEMORY_OPEN");
  if (t) mape_test_checked_bytes = strtoull(t, NULL, 0);
#endif
#endif
  m->pages = initial_pages;
  m->max_pages = max_pages;
  m->size = initial_pages * PAGE_SIZE;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
  // Fixed memory: growing by 0 reports the size, anything else fails (-1).
  return delta == 0 ? m->pages : UINT32_MAX;
}

// The memory lives as long as the process (one instance, never freed before
// exit): the reservation stays, so a late access still faults as the trap.
void wasm_rt_free_memory(wasm_rt_memory_t *m) { m->data = NULL; }
