// `mape bench` (internal, for npm run bench): the module figures of the
// router program beside Node's, on the same packets in the same run.
// bench/native.ts writes the case (the session-setup packets, the batches
// to time) to a file; this times process() over them exactly as
// bench/bench.ts timeBatches() does (rotating batches, the first
// RESTORE_BYTES of each packet restored before each call, best of 3, the
// restore loop timed alone) and prints one JSON line:
//   {"packets":N,"ms":M,"restoreMs":R,"forwarded":F}
//
//   mape bench <configuration flags> --case <file> [--sessions N] [--seed S]
//              [--seconds X] [--expect <counter>]
// Case file (little-endian u32s): magic 0x4245504d, setup count, count,
// stride, batch, restore bytes; then per setup packet (u32 length, bytes);
// then count * stride bytes of packets.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "host.h"
#include "mod.h"

static double ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static uint32_t u32le(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int counter_index(const char *name) {
  for (int i = 0; i < counter_count; i++)
    if (!strcmp(counter_names[i], name)) return i;
  return -1;
}

static uint64_t counter(int i) {
  static uint64_t p[MAX_COUNTERS], b[MAX_COUNTERS];
  mod_counters(p, b);
  return i >= 0 ? p[i] : 0;
}

int cmd_bench(int argc, char **argv) {
  uint8_t used[argc + 1];
  char err[1024];
  mod_start();
  if (cfg_apply(argc, argv, MODE_CE, used, err, sizeof err) < 0) {
    say_error("%s", err);
    return EXIT_CONFIG;
  }
  const char *file = NULL, *expect = "forwarded-to-ipv6";
  long sessions = 0, seed = 1;
  double seconds = 1.5;
  for (int i = 0; i < argc; i++) {
    if (used[i]) continue;
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(argv[i], "--case")) file = v, i++;
    else if (!strcmp(argv[i], "--sessions")) sessions = atol(v), i++;
    else if (!strcmp(argv[i], "--seed")) seed = atol(v), i++;
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(v), i++;
    else if (!strcmp(argv[i], "--expect")) expect = v, i++;
    else {
      say_error("bench: unknown argument '%s'", argv[i]);
      return EXIT_USAGE;
    }
  }
  if (!file) {
    say_error("bench: --case <file> is required");
    return EXIT_USAGE;
  }
  FILE *f = fopen(file, "rb");
  if (!f) {
    say_error("bench: --case: cannot read %s", file);
    return EXIT_CONFIG;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)size);
  if (!data || fread(data, 1, (size_t)size, f) != (size_t)size || size < 24 || u32le(data) != 0x4245504d) {
    say_error("bench: --case: %s is not a bench case", file);
    return EXIT_CONFIG;
  }
  fclose(f);
  uint32_t setup = u32le(data + 4), count = u32le(data + 8), stride = u32le(data + 12), batch = u32le(data + 16), restore = u32le(data + 20);
  if (mod_init(SLOTS, (int32_t)sessions, (uint32_t)seed) != 0 || Z_mapeZ_start(&mod, 0) != 0) {
    say_error("bench: data path init/start failed");
    return EXIT_CONFIG;
  }
  if (batch == 0 || batch > (uint32_t)geo.batch_max || stride > (uint32_t)geo.capacity || count % batch) {
    say_error("bench: the case does not fit the data path (batch %u, stride %u)", batch, stride);
    return EXIT_CONFIG;
  }
  uint32_t inptr[MAX_BATCH];
  for (uint32_t i = 0; i < batch; i++) inptr[i] = Z_mapeZ_inputPtr(&mod, i);
  // Session setup: the packets in order, batch by batch, at t = 1000 ms.
  size_t at = 24;
  for (uint32_t s = 0; s < setup;) {
    uint32_t n = 0;
    for (; n < batch && s < setup; n++, s++) {
      uint32_t len = u32le(data + at);
      mem_copy_in(inptr[n], data + at + 4, len);
      mem_set_u32(geo.in_lengths + 4 * n, len);
      at += 4 + len;
    }
    mod_where = "process";
    Z_mapeZ_process(&mod, n, 1000);
  }
  const uint8_t *pristine = data + at;
  uint32_t batches = count / batch;
  for (uint32_t i = 0; i < batch; i++) mem_set_u32(geo.in_lengths + 4 * i, stride);
  int fwd_idx = counter_index(expect);
#define LOAD(b, n)                                                              \
  do {                                                                          \
    const uint8_t *src_ = pristine + (size_t)(b) * batch * stride;              \
    for (uint32_t i_ = 0; i_ < batch; i_++) memcpy(mem_span(inptr[i_], (n)), src_ + (size_t)i_ * stride, (n)); \
  } while (0)
  LOAD(0, stride);
  double now = 2000;
  uint32_t rb = restore < stride ? restore : stride;
  uint64_t best_iters = 0;
  double best_ms = 0;
  for (int rep = -1; rep < 3; rep++) {
    double budget = (rep < 0 ? seconds / 4 : seconds / 3) * 1000;
    uint64_t before = counter(fwd_idx), iters = 0;
    double t0 = ms_now(), t;
    do {
      for (int k = 0; k < 64; k++) {
        LOAD(iters % batches, rb);
        Z_mapeZ_process(&mod, batch, now);
        iters++;
      }
      now += 1;
      t = ms_now();
    } while (t - t0 < budget);
    uint64_t fwd = counter(fwd_idx) - before;
    if (fwd != iters * batch) {
      say_error("bench: %llu of %llu forwarded (%s): the benchmark left the path it measures", (unsigned long long)fwd, (unsigned long long)(iters * batch), expect);
      return EXIT_CONFIG;
    }
    if (rep >= 0 && (best_iters == 0 || (t - t0) / (double)iters < best_ms / (double)best_iters)) {
      best_iters = iters;
      best_ms = t - t0;
    }
  }
  double rms = 1e300;
  for (int rep = 0; rep < 3; rep++) {
    double r0 = ms_now();
    for (uint64_t it = 0; it < best_iters; it++) LOAD(it % batches, rb);
    double d = ms_now() - r0;
    if (d < rms) rms = d;
  }
  printf("{\"packets\":%llu,\"ms\":%.3f,\"restoreMs\":%.3f}\n", (unsigned long long)(best_iters * batch), best_ms, rms);
  free(data);
  return 0;
}
