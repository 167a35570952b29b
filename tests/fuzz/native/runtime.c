// The smallest wasm2c (wabt 1.0.32) runtime the fuzz targets need: linear
// memory from calloc with explicit bounds checks
// (WASM_RT_MEMCHECK_SIGNAL_HANDLER=0: no guard pages, no signal handler to
// fight the sanitizers over), function types for call_indirect, and a trap
// that aborts. For the fuzzer a wasm trap IS the crash: abort() makes
// libFuzzer save the input and stop.

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm-rt.h"

uint32_t wasm_rt_call_stack_depth;

static const char* trap_name(wasm_rt_trap_t t) {
  switch (t) {
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    default: return "trap";
  }
}

void wasm_rt_trap(wasm_rt_trap_t t) {
  fprintf(stderr, "wasm trap: %s\n", trap_name(t));
  abort();
}

const char* wasm_rt_strerror(wasm_rt_trap_t t) { return trap_name(t); }

bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_init(void) {}
void wasm_rt_free(void) {}

// Function signatures, interned: equal signatures get equal indices.
#define MAX_TYPES 128
#define MAX_ARITY 16
static struct { uint32_t params, results; wasm_rt_type_t types[MAX_ARITY]; } types[MAX_TYPES];
static uint32_t type_count;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  wasm_rt_type_t t[MAX_ARITY];
  if (params + results > MAX_ARITY) abort();
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; i++) t[i] = (wasm_rt_type_t)va_arg(ap, int);
  va_end(ap);
  for (uint32_t k = 0; k < type_count; k++) {
    if (types[k].params == params && types[k].results == results &&
        memcmp(types[k].types, t, sizeof(t[0]) * (params + results)) == 0) return k;
  }
  if (type_count == MAX_TYPES) abort();
  types[type_count].params = params;
  types[type_count].results = results;
  memcpy(types[type_count].types, t, sizeof(t[0]) * (params + results));
  return type_count++;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t* m, uint32_t initial, uint32_t max) {
  m->data = calloc((size_t)initial ? (size_t)initial : 1, 65536);
  if (m->data == NULL) abort();
  m->pages = initial;
  m->max_pages = max;
  m->size = initial * 65536u;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* m, uint32_t delta) {
  // The module's memory is fixed (initial = maximum): growing fails as the spec allows.
  (void)m; (void)delta;
  return UINT32_MAX;
}

void wasm_rt_free_memory(wasm_rt_memory_t* m) { free(m->data); m->data = NULL; }

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* t, uint32_t elements, uint32_t max) {
  t->data = calloc(elements ? elements : 1, sizeof(wasm_rt_funcref_t));
  if (t->data == NULL) abort();
  t->size = elements;
  t->max_size = max;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* t) { free(t->data); t->data = NULL; }
