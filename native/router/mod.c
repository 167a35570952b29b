// The module instance, its data-path geometry and counters, the trap exit,
// and configuration: every configuration source goes to the module
// (CONFIG-ABI: configFromArgs), the host only moves the bytes.
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mod.h"
#include "host.h"

Z_mape_instance_t mod;
const char *mod_where = "instantiate";
void (*mod_cleanup)(void);
mod_geometry geo;
int32_t cfg_encoded_length;
int counter_count;
char counter_names[MAX_COUNTERS][MAX_COUNTER_NAME];

void rt_trap_exit(const char *what) {
  static int exiting;
  if (!exiting) {
    exiting = 1;
    if (mod_cleanup) mod_cleanup();
  }
  char line[256];
  int n = snprintf(line, sizeof line, "mape: the data path trapped: %s (in %s)\n", what, mod_where);
  if (n > 0) (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  _exit(EXIT_TRAP);
}

void mod_start(void) {
  wasm_rt_init();
  Z_mape_init_module();
  Z_mape_instantiate(&mod);
}

int mod_init(int32_t slots, int32_t sessions, uint32_t seed) {
  mod_where = "init";
  if (Z_mapeZ_init(&mod, (uint32_t)slots, (uint32_t)sessions, seed) != 0) return -1;
  geo.slot_count = (int32_t)Z_mapeZ_slotCount(&mod);
  geo.slot_size = (int32_t)Z_mapeZ_slotSize(&mod);
  geo.headroom = (int32_t)Z_mapeZ_headroom(&mod);
  geo.batch_max = (int32_t)Z_mapeZ_batchMax(&mod);
  geo.capacity = (int32_t)Z_mapeZ_inputCapacity(&mod);
  geo.in_lengths = Z_mapeZ_inputLengths(&mod);
  geo.out_offsets = Z_mapeZ_outputOffsets(&mod);
  geo.out_lengths = Z_mapeZ_outputLengths(&mod);
  geo.slot_base = Z_mapeZ_inputPtr(&mod, 0) - (uint32_t)geo.headroom;
  if (geo.batch_max > MAX_BATCH || geo.slot_count > MAX_SLOTS || geo.capacity > SLOT_BYTES) return -1;
  mod_read_counter_names();
  return 0;
}

void mod_read_counter_names(void) {
  mod_where = "counterName";
  int n = (int)Z_mapeZ_counterCount(&mod);
  if (n > MAX_COUNTERS) n = MAX_COUNTERS;
  for (int i = 0; i < n; i++) {
    uint32_t p = Z_mapeZ_counterName(&mod, (uint32_t)i);
    uint32_t bytes = mem_u32(p - 4);
    uint32_t k = 0;
    for (uint32_t b = 0; b + 1 < bytes + 1 && b < bytes && k + 1 < MAX_COUNTER_NAME; b += 2) {
      uint16_t c = mem_u16(p + b);
      counter_names[i][k++] = c < 0x80 ? (char)c : '?';
    }
    counter_names[i][k] = 0;
  }
  counter_count = n;
}

void mod_counters(uint64_t *packets, uint64_t *bytes) {
  mod_where = "counterValues";
  uint32_t p = Z_mapeZ_counterValues(&mod);
  for (int i = 0; i < counter_count; i++) {
    packets[i] = mem_u64(p + 16 * (uint32_t)i);
    bytes[i] = mem_u64(p + 16 * (uint32_t)i + 8);
  }
}

void mod_bytes(uint32_t ptr, uint8_t *out, uint32_t n) { mem_copy_out(out, ptr, n); }

// ---------------------------------------------------------------------------
// Configuration: the module parses every source (CONFIG-ABI); the host
// writes the arguments as records, reads the files the module names, and
// prints the module's one-line error.

static int err_text(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int err_text(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

// The records of CONFIG-ABI's configFromArgs: kind (u8) | length (u32 LE) | bytes.
typedef struct {
  uint32_t base, size, at;
} text_writer;

static int put_header(text_writer *w, uint8_t kind, uint32_t len) {
  if (w->at + 5 + (uint64_t)len > w->size) return -1;
  mem_set_u8(w->base + w->at, kind);
  for (int k = 0; k < 4; k++) mem_set_u8(w->base + w->at + 1 + (uint32_t)k, (uint8_t)(len >> (8 * k)));
  w->at += 5;
  return 0;
}

static int put_arg(text_writer *w, const char *s) {
  uint32_t n = (uint32_t)strlen(s);
  if (put_header(w, 1, n) < 0) return -1;
  mem_copy_in(w->base + w->at, (const uint8_t *)s, n);
  w->at += n;
  return 0;
}

/**
 * A kind-2 record with the file's contents; -1 with err set on overflow. A
 * file that cannot be read gets no record: its error goes to read_err, said
 * only if the module then misses the contents (another error may come
 * first), as host/config/source.ts does.
 */
static int put_file(text_writer *w, const char *flag, const char *path, char *err, size_t errlen, char *read_err, size_t read_errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (!read_err[0]) snprintf(read_err, read_errlen, "%s: cannot read %s: %s", flag, path, errno_name(e));
    return 0;
  }
  uint32_t hdr = w->at;
  if (put_header(w, 2, 0) < 0) {
    close(fd);
    return err_text(err, errlen, "%s: %s: the configuration is too large", flag, path);
  }
  uint32_t len = 0;
  uint8_t chunk[4096];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0) {
      int e = errno;
      if (e == EINTR) continue;
      close(fd);
      w->at = hdr;  // no record
      if (!read_err[0]) snprintf(read_err, read_errlen, "%s: cannot read %s: %s", flag, path, errno_name(e));
      return 0;
    }
    if (r == 0) break;
    if (w->at + (uint64_t)r > w->size) {
      close(fd);
      return err_text(err, errlen, "%s: %s: the configuration is too large", flag, path);
    }
    mem_copy_in(w->base + w->at, chunk, (uint32_t)r);
    w->at += (uint32_t)r;
    len += (uint32_t)r;
  }
  close(fd);
  for (int k = 0; k < 4; k++) mem_set_u8(w->base + hdr + 1 + (uint32_t)k, (uint8_t)(len >> (8 * k)));
  return 0;
}

/** Whether `arg` is one of the module's file flags (as "--uci" or "--uci=path"); sets *inline_path. */
static int file_flag(const char *arg, const char **inline_path, char *flag) {
  uint32_t p = Z_mapeZ_configFileFlags(&mod);
  char name[64];
  for (int guard = 0; guard < 32; guard++) {
    uint32_t k = 0;
    uint8_t c;
    while ((c = mem_u8(p + k)) != 0 && k + 1 < sizeof name) name[k++] = (char)c;
    name[k] = 0;
    if (k == 0) return 0;
    size_t n = strlen(name);
    if (strcmp(arg, name) == 0 || (strncmp(arg, name, n) == 0 && arg[n] == '=')) {
      *inline_path = arg[n] == '=' ? arg + n + 1 : NULL;
      memcpy(flag, name, n + 1);
      return 1;
    }
    p += k + 1;
  }
  return 0;
}

static void copy_error_text(char *err, size_t errlen) {
  uint32_t p = Z_mapeZ_configErrorText(&mod);
  uint32_t n = Z_mapeZ_configErrorTextLength(&mod);
  if (n >= errlen) n = (uint32_t)errlen - 1;
  mem_copy_out((uint8_t *)err, p, n);
  err[n] = 0;
}

char cfg_label[256];

int cfg_apply(int argc, char **argv, int mode, uint8_t *used, char *err, size_t errlen) {
  mod_where = "configFromArgs";
  text_writer w = {Z_mapeZ_textBuffer(&mod), Z_mapeZ_textBufferSize(&mod), 0};
  char read_err[1024] = "";
  for (int i = 0; i < argc; i++) {
    const char *path = NULL;
    char flag[64];
    int is_file = file_flag(argv[i], &path, flag);
    if (put_arg(&w, argv[i]) < 0) return err_text(err, errlen, "%s: the command line is too long", argv[i]);
    if (!is_file) continue;
    if (!path) {
      if (i + 1 >= argc) break;  // the module says "needs a value"
      i++;
      if (put_arg(&w, argv[i]) < 0) return err_text(err, errlen, "%s: the command line is too long", argv[i - 1]);
      path = argv[i];
    }
    if (put_file(&w, flag, path, err, errlen, read_err, sizeof read_err) < 0) return -1;
  }
  int32_t len = (int32_t)Z_mapeZ_configFromArgs(&mod, w.at, (uint32_t)mode);
  if (len <= 0) {
    copy_error_text(err, errlen);
    if (read_err[0] && strstr(err, "were not given (the host reads the file)")) snprintf(err, errlen, "%s", read_err);
    return -1;
  }
  if (used)
    for (int i = 0; i < argc; i++) used[i] = (uint8_t)Z_mapeZ_configArgUsed(&mod, (uint32_t)i);
  uint32_t ln = Z_mapeZ_configLabelLength(&mod);
  if (ln >= sizeof cfg_label) ln = sizeof cfg_label - 1;
  mem_copy_out((uint8_t *)cfg_label, Z_mapeZ_configLabel(&mod), ln);
  cfg_label[ln] = 0;
  mod_where = "configure";
  if (Z_mapeZ_configure(&mod, (uint32_t)len) != 0) {
    copy_error_text(err, errlen);
    return -1;
  }
  cfg_encoded_length = len;
  return 0;
}

int cfg_calc_text(int format, const uint8_t **text, uint32_t *len) {
  mod_where = "calcText";
  int32_t n = (int32_t)Z_mapeZ_calcText(&mod, (uint32_t)format);
  if (n < 0) return -1;
  static uint8_t out[262144];
  if ((uint32_t)n > sizeof out) n = (int32_t)sizeof out;
  mem_copy_out(out, Z_mapeZ_textBuffer(&mod), (uint32_t)n);
  *text = out;
  *len = (uint32_t)n;
  return 0;
}

void cfg_error_text(char *err, size_t errlen) { copy_error_text(err, errlen); }

