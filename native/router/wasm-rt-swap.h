// Big-endian targets (mips, ath79): the module's linear memory stays in
// wasm's own little-endian layout (wasm address a is data[a]) and every load
// and store of the translated module swaps its bytes. The generated code
// does every load and store through wasm_rt_memcpy(&value, &data[addr],
// sizeof value) (or the reverse), so redefining it here, after wasm-rt.h,
// makes 2-, 4- and 8-byte copies byte-reversing; single bytes, the data
// segments (memcpy) and the bulk-memory operations (memset/memmove on
// data + addr) are layout-neutral and stay as they are.
//
// Why not wasm2c's -DWABT_BIG_ENDIAN=1: in 1.0.32 that mode stores the
// memory reversed (address a at data[size - 1 - a]) but its memory.fill,
// memory.copy and memory.init still work on data + addr, so the module's
// bulk-memory code (AssemblyScript's memory.fill/copy) corrupts its state:
// tried here, counterName() returned 0 right after instantiation.
//
// Cost: a byte swap per 16/32/64-bit access of the module (MIPS32r2: wsbh +
// rotr, two instructions); the host moves packets in place, as on
// little-endian targets, and swaps only the values it reads (mod.h).
#ifndef MAPE_WASM_RT_SWAP_H
#define MAPE_WASM_RT_SWAP_H
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#include <stddef.h>
#include <stdint.h>
#undef wasm_rt_memcpy
#define wasm_rt_memcpy mape_rt_memcpy_le
// The copy wasm-rt-check.h's checked access uses on 32-bit targets.
#define MAPE_RT_COPY mape_rt_memcpy_le
static inline void *mape_rt_memcpy_le(void *d, const void *s, size_t n) {
  switch (n) {
    case 2: {
      uint16_t v;
      __builtin_memcpy(&v, s, 2);
      v = __builtin_bswap16(v);
      return __builtin_memcpy(d, &v, 2);
    }
    case 4: {
      uint32_t v;
      __builtin_memcpy(&v, s, 4);
      v = __builtin_bswap32(v);
      return __builtin_memcpy(d, &v, 4);
    }
    case 8: {
      uint64_t v;
      __builtin_memcpy(&v, s, 8);
      v = __builtin_bswap64(v);
      return __builtin_memcpy(d, &v, 8);
    }
    default:
      return __builtin_memcpy(d, s, n);
  }
}
#endif
#endif
