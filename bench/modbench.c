/*
 * The module, translated to C by wasm2c (build/bench/mape.c, made by
 * bench/native.ts from build/mape.wasm) and compiled with gcc -O2, driven on
 * the same case file as bench/ref.c, the same way: for the native times and
 * for callgrind's instruction counts per packet (docs/benchmark.md).
 *
 *   modbench <case file> [--seconds S] [--iters N]
 *
 * Setup as in bench/bench.ts: configure (the encoded configuration in the
 * case file), init(256, 65536, 1), start, then the session-opening packets
 * at t = 1000 ms, in the module bench's order, so the NAT makes the same
 * choices (the external ports the WAN packets are addressed to).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mape.h"

#define RESTORE_BYTES 96

static uint32_t kind, count, stride, batch, nflows, nsetup, config_len;
static uint8_t *config, *setup, *packets;
static Z_mape_instance_t m;
static uint8_t *mem;
static uint32_t in_ptr[4096], lens_at;

static uint32_t rd32(FILE *f) { uint32_t v; if (fread(&v, 4, 1, f) != 1) { fprintf(stderr, "modbench: short case file\n"); exit(2); } return v; }
static void rdn(FILE *f, void *p, size_t n) { if (n && fread(p, 1, n, f) != n) { fprintf(stderr, "modbench: short case file\n"); exit(2); } }

static void read_case(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  char magic[8];
  rdn(f, magic, 8);
  if (memcmp(magic, "MAPEBNC1", 8) != 0) { fprintf(stderr, "modbench: %s: not a case file\n", path); exit(2); }
  kind = rd32(f); count = rd32(f); stride = rd32(f); batch = rd32(f);
  fseek(f, 4 + 16 + 16 + 4 + 4, SEEK_CUR);
  nflows = rd32(f);
  fseek(f, (long)nflows * 16, SEEK_CUR);
  config_len = rd32(f);
  config = malloc(config_len + 1);
  rdn(f, config, config_len);
  nsetup = rd32(f);
  setup = malloc((size_t)nsetup * 64 + 1);
  rdn(f, setup, (size_t)nsetup * 64);
  packets = malloc((size_t)count * stride);
  rdn(f, packets, (size_t)count * stride);
  fclose(f);
}

static void start(uint32_t seed) {
  if (Z_mapeZ_init(&m, 256, 65536, seed) != 0) { fprintf(stderr, "modbench: init failed\n"); exit(1); }
  if (Z_mapeZ_start(&m, 0) != 0) { fprintf(stderr, "modbench: start failed\n"); exit(1); }
  for (uint32_t i = 0; i < batch; i++) in_ptr[i] = Z_mapeZ_inputPtr(&m, i);
  lens_at = Z_mapeZ_inputLengths(&m);
}

static void set_len(uint32_t i, uint32_t len) { memcpy(mem + lens_at + 4 * i, &len, 4); }

static void load_batch(uint32_t b, int full) {
  uint32_t nb = full ? stride : (stride < RESTORE_BYTES ? stride : RESTORE_BYTES);
  const uint8_t *src = packets + (size_t)b * batch * stride;
  for (uint32_t i = 0; i < batch; i++) memcpy(mem + in_ptr[i], src + (size_t)i * stride, nb);
}

static double secs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: modbench <case file> [--seconds S] [--iters N]\n"); return 2; }
  double seconds = 1.5;
  long iters_fixed = -1;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters_fixed = atol(argv[++i]);
    else { fprintf(stderr, "modbench: unknown argument %s\n", argv[i]); return 2; }
  }
  read_case(argv[1]);
  wasm_rt_init();
  Z_mape_init_module();
  Z_mape_instantiate(&m);
  mem = Z_mapeZ_memory(&m)->data;
  if (config_len > Z_mapeZ_configBufferSize(&m)) { fprintf(stderr, "modbench: configuration too long\n"); return 1; }
  memcpy(mem + Z_mapeZ_configBuffer(&m), config, config_len);
  if (Z_mapeZ_configure(&m, config_len) != 0) { fprintf(stderr, "modbench: configure refused the configuration\n"); return 1; }
  start(1);
  uint32_t batches = count / batch;

  if (kind == 2) {
    double t_proc = 0;
    uint64_t pk = 0;
    long rounds = 0;
    double t0 = secs();
    do {
      start(1 + (uint32_t)rounds);
      for (uint32_t i = 0; i < batch; i++) set_len(i, stride);
      for (uint32_t b = 0; b < batches; b++) {
        load_batch(b, 1);
        double t = secs();
        uint32_t n = Z_mapeZ_process(&m, batch, 1000);
        t_proc += secs() - t;
        if (n != batch) { fprintf(stderr, "modbench: new sessions: %u of %u forwarded\n", n, batch); return 1; }
      }
      pk += count;
      rounds++;
    } while (iters_fixed < 0 ? secs() - t0 < seconds * 2 : rounds < iters_fixed);
    printf("{\"case\":\"new\",\"packets\":%llu,\"nsProcess\":%.3f,\"rounds\":%ld}\n", (unsigned long long)pk, t_proc * 1e9 / pk, rounds);
    return 0;
  }

  /* Open the sessions as bench.ts does: 64-byte LAN packets, batches of `batch`, t = 1000. */
  for (uint32_t at = 0; at < nsetup; at += batch) {
    uint32_t n = nsetup - at < batch ? nsetup - at : batch;
    for (uint32_t i = 0; i < n; i++) { memcpy(mem + in_ptr[i], setup + (size_t)(at + i) * 64, 64); set_len(i, 64); }
    if (Z_mapeZ_process(&m, n, 1000) != n) { fprintf(stderr, "modbench: session setup dropped packets\n"); return 1; }
  }
  for (uint32_t i = 0; i < batch; i++) set_len(i, stride);
  for (uint32_t b = 0; b < batches && b < 4; b++) {
    load_batch(b, 1);
    uint32_t n = Z_mapeZ_process(&m, batch, 1000);
    if (n != batch) { fprintf(stderr, "modbench: %u outputs for %u inputs\n", n, batch); return 1; }
  }
  load_batch(0, 1);
  double now = 2000;
  long best_it = 0;
  double best_s = 1e30;
  int reps = iters_fixed < 0 ? 4 : 1;
  for (int rep = 0; rep < reps; rep++) {
    long it = 0;
    double t0 = secs(), t;
    do {
      for (int k = 0; k < 64 && (iters_fixed < 0 || it < iters_fixed); k++) {
        load_batch((uint32_t)(it % batches), 0);
        if (Z_mapeZ_process(&m, batch, now) != batch) { fprintf(stderr, "modbench: dropped while timed\n"); return 1; }
        it++;
      }
      now += 1;
      t = secs();
    } while (iters_fixed < 0 ? t - t0 < (rep == 0 ? seconds / 4 : seconds / 3) : it < iters_fixed);
    if (rep == 0 && reps > 1) continue;
    if ((t - t0) / it < best_s / (best_it ? best_it : 1) || best_it == 0) { best_s = t - t0; best_it = it; }
  }
  double rest = 1e30;
  for (int rep = 0; rep < (iters_fixed < 0 ? 3 : 1); rep++) {
    double t0 = secs();
    for (long it = 0; it < best_it; it++) load_batch((uint32_t)(it % batches), 0);
    double r = secs() - t0;
    if (r < rest) rest = r;
  }
  double pk = (double)best_it * batch;
  double proc = best_s - rest;
  if (proc < 1e-12) proc = 1e-12;
  printf("{\"case\":\"%s\",\"packets\":%.0f,\"nsProcess\":%.3f,\"nsTotal\":%.3f,\"nsRestore\":%.3f}\n",
         kind == 1 ? "wan" : "lan", pk, proc * 1e9 / pk, best_s * 1e9 / pk, rest * 1e9 / pk);
  return 0;
}
