// The wasm2c runtime of the router program: what the generated C of
// build/mape.wasm calls (wasm2c 1.0.32's wasm-rt.h), for every target.
//
// Debian ships libwasm-rt-impl only for the build machine, and it bounds-
// checks with guard pages and a signal handler (an 8 GiB reservation per
// memory). This one is the same on x86_64, mipsel, mips and aarch64: the
// module's memory is ONE static array (128 pages, initial = maximum: it never
// grows, and nothing is allocated, ever), every load and store is checked
// explicitly by the generated code (WASM_RT_MEMCHECK_SIGNAL_HANDLER=0, set
// by the build), recursion is bounded by wasm_rt_call_stack_depth, and a trap
// ends the program through the host's rt_trap_exit (mod.c): one line naming
// the trap and the export it happened in, exit status 70. The module's state
// is not trusted after a trap, so nothing resumes it.
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include "wasm-rt.h"
#include "mod.h"

#define MEMORY_PAGES 128
#define PAGE_SIZE 65536u

static uint8_t memory_bytes[MEMORY_PAGES * PAGE_SIZE] __attribute__((aligned(64)));
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
void wasm_rt_init(void) { initialized = 1; }
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
  // Zero already (static storage, instantiated once per process): pages
  // the module never touches are never made resident.
  memory_taken = 1;
  m->data = memory_bytes;
  m->pages = initial_pages;
  m->max_pages = max_pages;
  m->size = initial_pages * PAGE_SIZE;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
  // Fixed memory: growing by 0 reports the size, anything else fails (-1).
  return delta == 0 ? m->pages : UINT32_MAX;
}

void wasm_rt_free_memory(wasm_rt_memory_t *m) { m->data = NULL; }
