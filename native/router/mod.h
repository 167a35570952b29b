// The module as the C host sees it: one instance of the wasm2c translation of
// build/mape.wasm, and the ONE accessor layer through which the host reads
// and writes the module's linear memory.
//
// Why an accessor layer: wasm values in memory are little-endian. On the
// big-endian target (`mips`, ath79) the translated module keeps wasm's
// layout (address a is data[a]) and swaps bytes on every 16/32/64-bit
// access (wasm-rt-swap.h, which also says why not wasm2c's
// WABT_BIG_ENDIAN mode). So packets are the same bytes on every target and
// the host reads and writes them in place (mem_span: zero copy, as on
// little-endian targets); every VALUE the host reads or writes (lengths,
// offsets, counters, pointers) goes through mem_u32 & co., which swap on
// big-endian. The cost there: one bswap per value the host touches (a few
// per packet: its length in, its offset and length out).
//
// Every access is bounds-checked against the memory size: an out-of-range
// address from the module (a bad output offset) ends the program like a trap
// inside the module does.
#ifndef MAPE_ROUTER_MOD_H
#define MAPE_ROUTER_MOD_H

#include <stdint.h>
#include <string.h>
#include "mape.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MEM_SWAP 1
#else
#define MEM_SWAP 0
#endif

extern Z_mape_instance_t mod;
/** The export being called, for the trap message. */
extern const char *mod_where;

/** Ends the program: "mape: the data path trapped: <what> (in <export>)", exit 70, after the host's cleanup. */
__attribute__((noreturn)) void rt_trap_exit(const char *what);
/** The host's cleanup before an exit on a trap (routes, control socket): set by ce/br. */
extern void (*mod_cleanup)(void);

static inline uint8_t *mem_data(void) { return mod.w2c_memory.data; }
static inline uint32_t mem_size(void) { return mod.w2c_memory.size; }

static inline void mem_check(uint32_t a, uint32_t n) {
  if ((uint64_t)a + n > mem_size()) rt_trap_exit("the module gave an address outside its memory");
}

/** The bytes at wasm address [a, a+n), in place (packets: the same bytes on every target). */
static inline uint8_t *mem_span(uint32_t a, uint32_t n) {
  mem_check(a, n);
  return mem_data() + a;
}

static inline uint32_t mem_u32(uint32_t a) {
  uint32_t v;
  memcpy(&v, mem_span(a, 4), 4);
  return MEM_SWAP ? __builtin_bswap32(v) : v;
}
static inline int32_t mem_i32(uint32_t a) { return (int32_t)mem_u32(a); }
static inline uint64_t mem_u64(uint32_t a) {
  uint64_t v;
  memcpy(&v, mem_span(a, 8), 8);
  return MEM_SWAP ? __builtin_bswap64(v) : v;
}
static inline uint16_t mem_u16(uint32_t a) {
  uint16_t v;
  memcpy(&v, mem_span(a, 2), 2);
  return MEM_SWAP ? __builtin_bswap16(v) : v;
}
static inline uint8_t mem_u8(uint32_t a) { return *mem_span(a, 1); }
static inline void mem_set_u32(uint32_t a, uint32_t v) {
  if (MEM_SWAP) v = __builtin_bswap32(v);
  memcpy(mem_span(a, 4), &v, 4);
}
static inline void mem_set_u8(uint32_t a, uint8_t v) { *mem_span(a, 1) = v; }

/** Copies n bytes (a packet, wire order) into the module at wasm address a. */
static inline void mem_copy_in(uint32_t a, const uint8_t *src, uint32_t n) { memcpy(mem_span(a, n), src, n); }
/** Copies n bytes at wasm address a out of the module. */
static inline void mem_copy_out(uint8_t *dst, uint32_t a, uint32_t n) { memcpy(dst, mem_span(a, n), n); }

// ---- the instance and what the hosts share ----

/** Instantiates the module (once per process). */
void mod_start(void);

/** The data path's fixed geometry after init() (docs/abi.md §2). */
typedef struct {
  int32_t slot_count, slot_size, headroom, batch_max, capacity;
  uint32_t in_lengths, out_offsets, out_lengths, slot_base;
} mod_geometry;
extern mod_geometry geo;

/** init(slots, sessions, seed) and reads the geometry; 0 ok. */
int mod_init(int32_t slots, int32_t sessions, uint32_t seed);

#define MAX_COUNTERS 256
#define MAX_COUNTER_NAME 64
extern int counter_count;
extern char counter_names[MAX_COUNTERS][MAX_COUNTER_NAME];
/** Reads the counter names (after init). */
void mod_read_counter_names(void);
/** Current values: counterValues() then counter_count pairs. */
void mod_counters(uint64_t *packets, uint64_t *bytes);

/** The CE MAP IPv6 address or a rule's prefix: 16 bytes out of the module. */
void mod_bytes(uint32_t ptr, uint8_t *out, uint32_t n);

#endif
