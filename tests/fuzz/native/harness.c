// See harness.h for what is checked after every batch.
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The runtime is the router program's (native/router/rt.c): for the fuzzer a
 * wasm trap IS the crash, so its trap exit aborts and libFuzzer saves the
 * input. */
void rt_trap_exit(const char* what) {
  fprintf(stderr, "wasm trap: %s\n", what);
  abort();
}

#define FAIL(m, ...) do { \
    fprintf(stderr, "invariant violated (mode %d, now %.0f): ", (m)->mode, (m)->now); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static inline uint32_t rd32(const mape_t* m, uint32_t at) {
  uint32_t v;
  memcpy(&v, m->mem + at, 4); /* wasm memory is little-endian, as is the fuzzing host */
  return v;
}
static inline uint64_t rd64(const mape_t* m, uint32_t at) {
  uint64_t v;
  memcpy(&v, m->mem + at, 8);
  return v;
}
static inline uint32_t be16(const uint8_t* p) { return ((uint32_t)p[0] << 8) | p[1]; }
static inline uint32_t be32(const uint8_t* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void mape_new(mape_t* m) {
  static int module_ready;
  if (!module_ready) {
    wasm_rt_init();
    Z_mape_init_module();
    module_ready = 1;
  }
  memset(m, 0, sizeof(*m));
  Z_mape_instantiate(&m->inst);
  m->mem = m->inst.w2c_memory.data;
  m->now = 1e6;
}

uint32_t mape_configure(mape_t* m, const uint8_t* bytes, size_t len) {
  uint32_t buf = Z_mapeZ_configBuffer(&m->inst);
  uint32_t size = Z_mapeZ_configBufferSize(&m->inst);
  if (len > size) len = size + 1; /* configure answers CONFIG_LENGTH; nothing is copied */
  else memcpy(m->mem + buf, bytes, len);
  return Z_mapeZ_configure(&m->inst, (uint32_t)len);
}

/** Counter index by name (names are UTF-16 in memory, byte length at ptr − 4). */
static int counter_index(mape_t* m, const char* name, int prefix) {
  size_t want = strlen(name);
  for (uint32_t i = 0; i < m->counter_count; i++) {
    uint32_t p = Z_mapeZ_counterName(&m->inst, i);
    uint32_t chars = rd32(m, p - 4) / 2;
    if (prefix ? chars < want : chars != want) continue;
    size_t k = 0;
    while (k < want && m->mem[p + 2 * k] == (uint8_t)name[k] && m->mem[p + 2 * k + 1] == 0) k++;
    if (k == want) return (int)i;
  }
  return -1;
}

void mape_layout(mape_t* m) {
  Z_mape_instance_t* in = &m->inst;
  m->slots = Z_mapeZ_slotCount(in);
  m->batch_max = Z_mapeZ_batchMax(in);
  m->cap = Z_mapeZ_inputCapacity(in);
  m->slot_size = Z_mapeZ_slotSize(in);
  m->headroom = Z_mapeZ_headroom(in);
  m->slot_base = Z_mapeZ_inputPtr(in, 0) - m->headroom;
  m->slot_end = m->slot_base + m->slots * m->slot_size;
  m->in_lens = Z_mapeZ_inputLengths(in);
  m->out_offs = Z_mapeZ_outputOffsets(in);
  m->out_lens = Z_mapeZ_outputLengths(in);
  m->counter_count = Z_mapeZ_counterCount(in);
  if (m->counter_count > 256) FAIL(m, "%u counters", m->counter_count);
  m->counter_values = Z_mapeZ_counterValues(in);
  m->c_in4 = counter_index(m, "in-ipv4", 0);
  m->c_in6 = counter_index(m, "in-ipv6", 0);
  m->c_unknown = counter_index(m, "drop-unknown-version", 0);
  m->c_fwd6 = counter_index(m, "forwarded-to-ipv6", 0);
  m->c_fwd4 = counter_index(m, "forwarded-to-ipv4", 0);
  m->c_held = counter_index(m, "held", 0);
  if (m->c_in4 < 0 || m->c_in6 < 0 || m->c_unknown < 0 || m->c_fwd6 < 0 || m->c_fwd4 < 0 || m->c_held < 0)
    FAIL(m, "a counter the invariants need is missing");
  m->drop_count = 0;
  for (uint32_t i = 0; i < m->counter_count; i++) {
    uint32_t p = Z_mapeZ_counterName(in, i);
    if (rd32(m, p - 4) >= 10 && memcmp(m->mem + p, "d\0r\0o\0p\0-\0", 10) == 0) m->drops[m->drop_count++] = (int)i;
  }
  Z_mapeZ_counterValues(in);
  memcpy(m->before, m->mem + m->counter_values, 16 * m->counter_count);
}

void mape_start(mape_t* m, uint32_t slots, uint32_t sessions, int mode) {
  if (Z_mapeZ_init(&m->inst, slots, sessions, 1) != 0) FAIL(m, "init(%u, %u) failed", slots, sessions);
  if (Z_mapeZ_start(&m->inst, 0) != 0) FAIL(m, "start failed");
  m->mode = mode;
  mape_layout(m);
}

void mape_put(mape_t* m, uint32_t i, const uint8_t* p, size_t len) {
  if (len > m->cap) len = m->cap;
  memcpy(m->mem + Z_mapeZ_inputPtr(&m->inst, i), p, len);
  uint32_t l = (uint32_t)len;
  memcpy(m->mem + m->in_lens + 4 * i, &l, 4);
}

static uint32_t sum16(const uint8_t* p, uint32_t n) {
  uint32_t s = 0;
  for (uint32_t i = 0; i + 1 < n; i += 2) s += be16(p + i);
  if (n & 1) s += (uint32_t)p[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}

/** An IPv4 header that agrees with the `len` bytes emitted; returns its header length. */
static uint32_t check_ipv4(mape_t* m, uint32_t j, const uint8_t* p, uint32_t len, const char* what) {
  if (len < 20) FAIL(m, "%s output %u: %u bytes", what, j, len);
  uint32_t hl = (p[0] & 15) * 4u;
  if ((p[0] >> 4) != 4 || hl < 20 || hl > len) FAIL(m, "%s output %u: version/IHL byte 0x%02x", what, j, p[0]);
  if (be16(p + 2) != len) FAIL(m, "%s output %u: total length %u, %u bytes emitted", what, j, be16(p + 2), len);
  if (sum16(p, hl) != 0xffff) FAIL(m, "%s output %u: bad IPv4 header checksum", what, j);
  return hl;
}

static void check_ce_inner(mape_t* m, uint32_t j, const uint8_t* q, uint32_t len) {
  uint32_t hl = check_ipv4(m, j, q, len, "inner IPv4 of an IPv6");
  uint32_t plen = (uint32_t)Z_mapeZ_ceIPv4PrefixLength(&m->inst);
  uint32_t mask = plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
  uint32_t src = be32(q + 12);
  if ((src & mask) != (Z_mapeZ_ceIPv4(&m->inst) & mask))
    FAIL(m, "IPv6 output %u carries inner IPv4 source %08x, not the CE's address", j, src);
  if ((be16(q + 6) & 0x1fff) != 0) return; /* a non-first fragment carries no port */
  uint32_t proto = q[9];
  const uint8_t* l4 = q + hl;
  uint32_t l4len = len - hl;
  uint32_t port;
  if ((proto == 6 || proto == 17) && l4len >= 4) port = be16(l4);
  else if (proto == 1 && l4len >= 8 && l4[0] == 8) port = be16(l4 + 4); /* echo request: the id */
  else return;
  if (plen == 32 && !Z_mapeZ_isOwnPort(&m->inst, port))
    FAIL(m, "IPv6 output %u: source port / echo id %u outside the CE's port set", j, port);
}

static int is_br_address(mape_t* m, const uint8_t* a) {
  uint32_t n = Z_mapeZ_brCount(&m->inst);
  for (uint32_t i = 0; i < n; i++) if (memcmp(m->mem + Z_mapeZ_brAddress(&m->inst, i), a, 16) == 0) return 1;
  return 0;
}

uint32_t mape_batch(mape_t* m, uint32_t n) {
  Z_mape_instance_t* in = &m->inst;
  uint64_t inBytes = 0;
  for (uint32_t i = 0; i < n; i++) inBytes += rd32(m, m->in_lens + 4 * i);
  uint32_t outs = Z_mapeZ_process(in, n, m->now);
  if (m->inst.w2c_memory.pages != 128) FAIL(m, "memory is %u pages", m->inst.w2c_memory.pages);
  if (outs > m->slots) FAIL(m, "process returned %u outputs for %u slots", outs, m->slots);

  /* ---- one outcome per input, in packets and bytes ---- */
  Z_mapeZ_counterValues(in);
  const uint8_t* cv = m->mem + m->counter_values;
  uint64_t after[2 * 256];
  memcpy(after, cv, 16 * m->counter_count);
#define D(i, k) (after[2 * (i) + (k)] - m->before[2 * (i) + (k)])
  for (int k = 0; k < 2; k++) {
    uint64_t want = k == 0 ? n : inBytes;
    uint64_t received = D(m->c_in4, k) + D(m->c_in6, k) + D(m->c_unknown, k);
    if (received != want)
      FAIL(m, "%s: in-ipv4 %llu + in-ipv6 %llu + drop-unknown-version %llu != %llu", k ? "bytes" : "packets",
           (unsigned long long)D(m->c_in4, k), (unsigned long long)D(m->c_in6, k),
           (unsigned long long)D(m->c_unknown, k), (unsigned long long)want);
    uint64_t outcomes = D(m->c_fwd6, k) + D(m->c_fwd4, k) + D(m->c_held, k);
    for (int d = 0; d < m->drop_count; d++) outcomes += D(m->drops[d], k);
    if (outcomes != want)
      FAIL(m, "%s: forwarded %llu + %llu, held %llu, drops %llu != %llu inputs", k ? "bytes" : "packets",
           (unsigned long long)D(m->c_fwd6, k), (unsigned long long)D(m->c_fwd4, k),
           (unsigned long long)D(m->c_held, k),
           (unsigned long long)(outcomes - D(m->c_fwd6, k) - D(m->c_fwd4, k) - D(m->c_held, k)),
           (unsigned long long)want);
  }
#undef D
  memcpy(m->before, after, 16 * m->counter_count);

  /* ---- every output well-formed, from who may send it ---- */
  const uint8_t* ce6 = m->mem + Z_mapeZ_ceIPv6Address(in);
  for (uint32_t j = 0; j < outs; j++) {
    uint32_t off = rd32(m, m->out_offs + 4 * j);
    uint32_t len = rd32(m, m->out_lens + 4 * j);
    if (len == 0 || len > m->slot_size) FAIL(m, "output %u has length %u", j, len);
    if (off < m->slot_base || off + len > m->slot_end) FAIL(m, "output %u at %u+%u lies outside the slots", j, off, len);
    if ((off - m->slot_base) / m->slot_size != (off + len - 1 - m->slot_base) / m->slot_size)
      FAIL(m, "output %u at %u+%u crosses a slot boundary", j, off, len);
    const uint8_t* p = m->mem + off;
    uint32_t v = p[0] >> 4;
    if (v == 4) {
      check_ipv4(m, j, p, len, "IPv4");
      if (m->mode == 2 && (int32_t)Z_mapeZ_ruleForIPv4(in, be32(p + 12)) < 0) {
        FAIL(m, "BR IPv4 output %u has source %u.%u.%u.%u, outside every rule", j, p[12], p[13], p[14], p[15]);
      }
    } else if (v == 6) {
      if (len < 40) FAIL(m, "IPv6 output %u of %u bytes", j, len);
      if (be16(p + 4) + 40u != len) FAIL(m, "IPv6 output %u: payload length %u, %u bytes emitted", j, be16(p + 4), len);
      if (m->mode == 1) {
        if (memcmp(p + 8, ce6, 16) != 0) FAIL(m, "IPv6 output %u does not leave from the CE's MAP address", j);
        if (p[6] == 4) check_ce_inner(m, j, p + 40, len - 40);
      } else {
        if (!is_br_address(m, p + 8)) FAIL(m, "IPv6 output %u does not leave from a BR address", j);
        if (p[6] == 4) check_ipv4(m, j, p + 40, len - 40, "inner IPv4 of an IPv6");
      }
    } else {
      FAIL(m, "output %u is IP version %u", j, v);
    }
  }
  return outs;
}

void mape_feed(mape_t* m, const uint8_t* data, size_t size) {
  uint32_t n = 0;
  size_t at = 0;
  while (at + 2 <= size) {
    uint32_t l = be16(data + at);
    at += 2;
    if (l >= 0xff00) {
      /* end of batch; the clock steps: b < 200 → b·50 ms; else (b − 199)·5 s (up to 280 s); 255 → 310 s */
      uint32_t b = l & 0xff;
      mape_batch(m, n);
      n = 0;
      m->now += b < 200 ? b * 50.0 : b == 255 ? 310000.0 : (b - 199) * 5000.0;
      continue;
    }
    if (l > size - at) l = (uint32_t)(size - at);
    mape_put(m, n++, data + at, l);
    at += l;
    if (n == m->batch_max) {
      mape_batch(m, n);
      n = 0;
    }
  }
  if (n) mape_batch(m, n);
  m->now += 1;
}
