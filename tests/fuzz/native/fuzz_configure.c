// libFuzzer target: configure() with arbitrary option bytes (the corpus
// holds CE, BR, calc, lw4o6 and MAP-T configurations). configure must
// return a code and never trap; when it accepts, start() and a fixed batch
// of packets through the data path run under the same invariants as the
// process targets (harness.h), in whatever mode the options chose.
#include <stdint.h>
#include <string.h>

#include "harness.h"

static mape_t M;
static int ready;

/* A few fixed packets (IPv4 UDP from a LAN host; IPv4 to a typical rule
   address; IPv4-in-IPv6 and ICMPv6 echo to typical MAP/BR addresses). */
static uint8_t UDP4[] = {
  0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0xb6, 0x22, 192, 168, 1, 10, 198, 51, 100, 7,
  0x12, 0x34, 0x9c, 0x40, 0, 12, 0, 0, 'm', 'a', 'p', 'e',
};
static uint8_t UDP4_IN[] = {
  0x45, 0, 0, 32, 0, 2, 0, 0, 64, 17, 0x72, 0xa9, 198, 51, 100, 7, 203, 86, 225, 1,
  0x9c, 0x40, 0x12, 0x34, 0, 12, 0, 0, 'm', 'a', 'p', 'e',
};

/** Sets the IPv4 header checksum of the 20-byte header at p. */
static void fix_ipv4(uint8_t* p) {
  uint32_t s = 0;
  p[10] = p[11] = 0;
  for (int i = 0; i < 20; i += 2) s += ((uint32_t)p[i] << 8) | p[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  p[10] = (uint8_t)(~s >> 8);
  p[11] = (uint8_t)~s;
}

static void batch(void) {
  uint8_t p[128];
  uint32_t n = 0;
  fix_ipv4(UDP4);
  fix_ipv4(UDP4_IN);
  mape_put(&M, n++, UDP4, sizeof(UDP4));
  mape_put(&M, n++, UDP4_IN, sizeof(UDP4_IN));
  /* IPv4-in-IPv6 from the first BR address (if any) to the CE's MAP address, carrying UDP4_IN. */
  memset(p, 0, sizeof(p));
  p[0] = 0x60;
  p[5] = sizeof(UDP4_IN);
  p[6] = 4;
  p[7] = 64;
  if (Z_mapeZ_brCount(&M.inst) > 0) memcpy(p + 8, M.mem + Z_mapeZ_brAddress(&M.inst, 0), 16);
  memcpy(p + 24, M.mem + Z_mapeZ_ceIPv6Address(&M.inst), 16);
  memcpy(p + 40, UDP4_IN, sizeof(UDP4_IN));
  mape_put(&M, n++, p, 40 + sizeof(UDP4_IN));
  /* The same from a CE toward a BR address (BR mode: the source check runs). */
  uint8_t q[128];
  memcpy(q, p, sizeof(q));
  memcpy(q + 8, p + 24, 16);
  memcpy(q + 24, p + 8, 16);
  memcpy(q + 40, UDP4, sizeof(UDP4));
  mape_put(&M, n++, q, 40 + sizeof(UDP4));
  mape_batch(&M, n);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!ready) {
    mape_new(&M);
    if (Z_mapeZ_init(&M.inst, 16, 256, 1) != 0) return 0;
    mape_layout(&M);
    ready = 1;
  }
  if (mape_configure(&M, data, size) != 0) return 0;
  /* Accepted: the data path must run with it (start fails only in calc mode). */
  Z_mapeZ_init(&M.inst, 16, 256, 1);
  int mode = Z_mapeZ_start(&M.inst, 0) == 0 ? ((int32_t)Z_mapeZ_bmrIndex(&M.inst) >= 0 ? 1 : 2) : 0;
  mape_layout(&M);
  M.mode = mode;
  if (mode != 0) batch();
  return 0;
}
