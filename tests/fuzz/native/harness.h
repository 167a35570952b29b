// Shared by the libFuzzer targets over the wasm2c translation of
// build/mape.wasm (wabt 1.0.32 names: Z_mape_instantiate, Z_mapeZ_<export>).
//
// A target installs a configuration, feeds batches to process() and, after
// every batch, checks what the Node fuzz test checks (tests/fuzz/fuzzer.ts):
//   - every input has exactly one outcome, in packets and in bytes:
//       in-ipv4 + in-ipv6 + drop-unknown-version = inputs,
//       forwarded-to-ipv6 + forwarded-to-ipv4 + held + Σ drop-* = inputs;
//   - every output lies in one slot, 0 < length ≤ slot size, IP version
//     4 or 6, its IPv4 header checksum and total length / IPv6 payload
//     length agree with the bytes emitted (also an inner IPv4 header);
//   - CE: IPv6 outputs leave from the CE's MAP address, their inner IPv4
//     source is the CE's address and a TCP/UDP source port or echo id lies
//     in its port set;
//   - BR: IPv6 outputs leave from a BR address, IPv4 outputs have a source
//     inside a rule's IPv4 prefix.
// A violated invariant aborts (libFuzzer saves the input as a crash), and so
// does a wasm trap (rt_trap_exit in harness.c).
#ifndef MAPE_FUZZ_HARNESS_H
#define MAPE_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "mape.h"

typedef struct {
  Z_mape_instance_t inst;
  uint8_t* mem;
  uint32_t slots, batch_max, cap, slot_size, headroom, slot_base, slot_end;
  uint32_t in_lens, out_offs, out_lens;
  uint32_t counter_values, counter_count;
  int c_in4, c_in6, c_unknown, c_fwd6, c_fwd4, c_held;
  int drops[256];
  int drop_count;
  uint64_t before[2 * 256];
  int mode; /* 1 CE, 2 BR (LOCAL MODE) */
  double now;
} mape_t;


/** Instantiates the module once (memory is fixed: 8 MiB). */
void mape_new(mape_t* m);
/** Copies options into the configuration buffer and calls configure; returns its code. */
uint32_t mape_configure(mape_t* m, const uint8_t* bytes, size_t len);
/** init + start; aborts when they fail for a configuration that must work. */
void mape_start(mape_t* m, uint32_t slots, uint32_t sessions, int mode);
/** Reads the slot layout and counter names (after init). */
void mape_layout(mape_t* m);
/** Writes input packet i (cut to the input capacity, as a host must). */
void mape_put(mape_t* m, uint32_t i, const uint8_t* p, size_t len);
/** Runs process(n, now) and checks every invariant above; returns the output count. */
uint32_t mape_batch(mape_t* m, uint32_t n);
/**
 * Feeds a length-prefixed packet stream (see README in this folder):
 * u16 BE length + bytes per packet; a length ≥ 0xFF00 ends the batch and
 * advances the clock by its low byte's step.
 */
void mape_feed(mape_t* m, const uint8_t* data, size_t size);

#endif
