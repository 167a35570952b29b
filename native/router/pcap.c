// `mape pcap`: a capture through the data path, offline, exactly as
// host/commands/pcap.ts does it (same batching rule, same clock, same output
// file, same counter lines), so the e2e suite compares the two hosts byte
// for byte.
//
// Reading follows host/pcap.ts: classic pcap, either byte order, micro- or
// nanosecond timestamps, link types 1 (Ethernet, VLAN tags skipped, padding
// trimmed), 101, 228, 229; records up to 262144 bytes. Writing: big-endian,
// microseconds, link type 101, each output with the timestamp of the input
// that caused it. Only fixed buffers: one record, one output packet.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host.h"
#include "mod.h"
#include "usage.h"

#define MAGIC_MICRO 0xa1b2c3d4u
#define MAGIC_NANO 0xa1b23c4du
#define MAX_RECORD 262144u

typedef struct {
  FILE *f;
  const char *name;
  int le, nano;
  uint32_t link, max_record, snaplen;
  long offset;
  char err[512];
} reader;

static uint32_t rd32(const uint8_t *p, int le) {
  return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
            : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static uint16_t rd16(const uint8_t *p, int le) { return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]); }

static int fail(reader *r, long at, const char *detail) {
  snprintf(r->err, sizeof r->err, "%s: offset %ld: %s", r->name, at, detail);
  return -1;
}

static int reader_open(reader *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->name = path;
  r->f = fopen(path, "rb");
  if (!r->f) {
    snprintf(r->err, sizeof r->err, "cannot read %s: %s", path, errno_name(errno));
    return -1;
  }
  uint8_t h[24];
  size_t n = fread(h, 1, 24, r->f);
  char d[160];
  if (n < 4) {
    snprintf(d, sizeof d, "truncated global header (%zu of 24 bytes)", n);
    return fail(r, 0, d);
  }
  uint32_t be = rd32(h, 0), le = rd32(h, 1);
  if (be == MAGIC_MICRO || be == MAGIC_NANO) {
    r->le = 0;
    r->nano = be == MAGIC_NANO;
  } else if (le == MAGIC_MICRO || le == MAGIC_NANO) {
    r->le = 1;
    r->nano = le == MAGIC_NANO;
  } else {
    snprintf(d, sizeof d, "bad magic 0x%08x%s", be, be == 0x0a0d0d0a ? " (this is pcapng, not classic pcap)" : "");
    return fail(r, 0, d);
  }
  if (n < 24) {
    snprintf(d, sizeof d, "truncated global header (%zu of 24 bytes)", n);
    return fail(r, (long)n, d);
  }
  uint16_t major = rd16(h + 4, r->le), minor = rd16(h + 6, r->le);
  if (major != 2) {
    snprintf(d, sizeof d, "unsupported version %u.%u (want 2.x)", major, minor);
    return fail(r, 4, d);
  }
  uint32_t snaplen = rd32(h + 16, r->le);
  r->link = rd32(h + 20, r->le) & 0xffff;
  if (r->link != 1 && r->link != 101 && r->link != 228 && r->link != 229) {
    snprintf(d, sizeof d, "unsupported link type %u (supported: 1 Ethernet, 101 raw IP, 228 IPv4, 229 IPv6)", r->link);
    return fail(r, 20, d);
  }
  r->max_record = snaplen == 0 || snaplen > MAX_RECORD ? MAX_RECORD : snaplen;
  r->snaplen = snaplen;
  r->offset = 24;
  return 0;
}

/** The next IP packet: 1 with data, len and ms set, 0 at the end, -1 on error (r->err). */
static int reader_next(reader *r, uint8_t *buf, const uint8_t **data, uint32_t *len, double *ms) {
  for (;;) {
    long at = r->offset;
    uint8_t h[16];
    char d[160];
    size_t n = fread(h, 1, 16, r->f);
    if (n == 0) return 0;
    if (n < 16) {
      snprintf(d, sizeof d, "truncated record header (%zu of 16 bytes)", n);
      return fail(r, at, d);
    }
    uint32_t sec = rd32(h, r->le), frac = rd32(h + 4, r->le), incl = rd32(h + 8, r->le), orig = rd32(h + 12, r->le);
    if (incl > r->max_record) {
      if (incl > MAX_RECORD) snprintf(d, sizeof d, "record length %u exceeds maximum %u", incl, MAX_RECORD);
      else snprintf(d, sizeof d, "record length %u exceeds snaplen %u", incl, r->snaplen);
      return fail(r, at + 8, d);
    }
    if (orig < incl) {
      snprintf(d, sizeof d, "original length %u is less than captured length %u", orig, incl);
      return fail(r, at + 12, d);
    }
    size_t got = fread(buf, 1, incl, r->f);
    if (got < incl) {
      snprintf(d, sizeof d, "truncated record data (%zu of %u bytes)", got, incl);
      return fail(r, at + 16, d);
    }
    r->offset = at + 16 + (long)incl;
    // host/pcap.ts: the same double arithmetic, so both hosts see the same clock.
    *ms = r->nano ? (double)sec * 1000 + (double)frac / 1e6 : ((double)sec * 1e6 + (double)frac) / 1000;
    if (r->link != 1) {
      *data = buf;
      *len = incl;
      return 1;
    }
    if (incl < 14) continue;
    uint32_t type_at = 12;
    uint16_t type = (uint16_t)(buf[12] << 8 | buf[13]);
    int ok = 1;
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
      type_at += 4;
      if (type_at + 2 > incl) {
        ok = 0;
        break;
      }
      type = (uint16_t)(buf[type_at] << 8 | buf[type_at + 1]);
    }
    if (!ok || (type != 0x0800 && type != 0x86dd)) continue;
    const uint8_t *ip = buf + type_at + 2;
    uint32_t iplen = incl - type_at - 2;
    int64_t want = -1;
    if (type == 0x0800 && iplen >= 4) want = ip[2] << 8 | ip[3];
    else if (type == 0x86dd && iplen >= 6) {
      uint32_t pl = (uint32_t)(ip[4] << 8 | ip[5]);
      if (pl) want = 40 + pl;
    }
    if (want > 0 && want < iplen) iplen = (uint32_t)want;
    *data = ip;
    *len = iplen;
    return 1;
  }
}

// ---- the writer ----
static void put32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static int write_header(FILE *f) {
  uint8_t h[24] = {0};
  put32be(h, MAGIC_MICRO);
  h[4] = 0, h[5] = 2, h[6] = 0, h[7] = 4;
  put32be(h + 16, MAX_RECORD);
  put32be(h + 20, 101);
  return fwrite(h, 1, 24, f) == 24 ? 0 : -1;
}

static int write_record(FILE *f, double ms, const uint8_t *p, uint32_t len) {
  // host/pcap.ts: Math.round(ms * 1000) once on the whole value.
  double ticks = floor(ms * 1000.0 + 0.5);
  double sec = floor(ticks / 1e6);
  uint8_t h[16];
  put32be(h, (uint32_t)sec);
  put32be(h + 4, (uint32_t)(ticks - sec * 1e6));
  put32be(h + 8, len);
  put32be(h + 12, len);
  return fwrite(h, 1, 16, f) == 16 && fwrite(p, 1, len, f) == len ? 0 : -1;
}

// ---- counters ----
static uint64_t cpk[MAX_COUNTERS], cby[MAX_COUNTERS];

void print_pcap_counters(int json) {
  mod_counters(cpk, cby);
  if (json) {
    fputs("{\"counters\":{", stdout);
    int first = 1;
    for (int i = 0; i < counter_count; i++) {
      if (!cpk[i] && !cby[i]) continue;
      printf("%s\"%s\":%llu,\"%s-bytes\":%llu", first ? "" : ",", counter_names[i], (unsigned long long)cpk[i], counter_names[i], (unsigned long long)cby[i]);
      first = 0;
    }
    fputs("}}\n", stdout);
    return;
  }
  int w = 0, pw = 0;
  for (int i = 0; i < counter_count; i++) {
    if (!cpk[i] && !cby[i]) continue;
    int l = (int)strlen(counter_names[i]);
    char num[24];
    int nl = snprintf(num, sizeof num, "%llu", (unsigned long long)cpk[i]);
    if (l > w) w = l;
    if (nl > pw) pw = nl;
  }
  for (int i = 0; i < counter_count; i++) {
    if (!cpk[i] && !cby[i]) continue;
    printf("%-*s %*llu packets %llu bytes\n", w, counter_names[i], pw, (unsigned long long)cpk[i], (unsigned long long)cby[i]);
  }
}

// ---- the command ----
static uint8_t record[MAX_RECORD];
static uint8_t outbuf[65536 + SLOT_BYTES];

static int parse_uint(const char *flag, const char *v, uint64_t max, uint64_t *out) {
  uint64_t n = 0;
  if (!*v) goto bad;
  for (const char *c = v; *c; c++) {
    if (*c < '0' || *c > '9') goto bad;
    n = n * 10 + (uint64_t)(*c - '0');
    if (n > max) goto bad;
  }
  *out = n;
  return 0;
bad:
  say_error("pcap: %s: '%s' is not an integer from 0 to %llu", flag, v, (unsigned long long)max);
  return -1;
}

int cmd_pcap(int argc, char **argv) {
  int br = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      puts(USAGE_pcap);
      return 0;
    }
    if (!strcmp(argv[i], "--br-mode")) br = 1;
  }
  uint8_t used[argc + 1];
  char err[1024];
  mod_start();
  if (cfg_apply(argc, argv, br ? MODE_BR : MODE_CE, used, err, sizeof err) < 0) {
    say_error("%s", err);
    return EXIT_CONFIG;
  }
  const char *in = NULL, *out = NULL;
  int json = 0;
  uint64_t sessions = 0, seed = 1;
  for (int i = 0; i < argc; i++) {
    if (used[i]) continue;
    const char *a = argv[i];
    const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
    char flag[64];
    size_t fl = eq ? (size_t)(eq - a) : strlen(a);
    if (fl >= sizeof flag) fl = sizeof flag - 1;
    memcpy(flag, a, fl);
    flag[fl] = 0;
    const char *value = NULL;
    int wants = !strcmp(flag, "--in") || !strcmp(flag, "--out") || !strcmp(flag, "--sessions") || !strcmp(flag, "--seed");
    if (wants) {
      if (eq) value = eq + 1;
      else if (i + 1 < argc) value = argv[++i];
      else {
        say_error("pcap: %s needs a value", flag);
        return EXIT_USAGE;
      }
    }
    if (!strcmp(flag, "--in")) in = value;
    else if (!strcmp(flag, "--out")) out = value;
    else if (!strcmp(flag, "--json") && !eq) json = 1;
    else if (!strcmp(flag, "--br-mode") && !eq) br = 1;
    else if (!strcmp(flag, "--sessions")) {
      if (parse_uint(flag, value, 1u << 24, &sessions) < 0) return EXIT_USAGE;
    } else if (!strcmp(flag, "--seed")) {
      if (parse_uint(flag, value, 0xffffffffu, &seed) < 0) return EXIT_USAGE;
    } else {
      say_error("pcap: unknown argument '%s' (see 'mape pcap --help')", a);
      return EXIT_USAGE;
    }
  }
  if (!in) {
    say_error("pcap: --in <file.pcap> is required");
    return EXIT_USAGE;
  }
  if (!out) {
    say_error("pcap: --out <file.pcap> is required");
    return EXIT_USAGE;
  }
  if (mod_init(SLOTS, (int32_t)sessions, (uint32_t)seed) != 0) {
    say_error("data path init(%d slots, %llu sessions) does not fit the module's memory", SLOTS, (unsigned long long)sessions);
    return EXIT_CONFIG;
  }
  mod_where = "start";
  if (Z_mapeZ_start(&mod, 0) != 0) {
    say_error("data path start failed: configure a CE (with its end-user prefix) or a BR first");
    return EXIT_CONFIG;
  }
  reader r;
  if (reader_open(&r, in) < 0) {
    say_error("pcap: --in: %s", r.err);
    return EXIT_CONFIG;
  }
  // The output is written to a temporary file next to --out and renamed
  // at the end, as Node writes the whole file at once: no half file.
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", out, (int)getpid());
  FILE *o = fopen(tmp, "wb");
  if (!o) {
    say_error("pcap: --out: cannot write %s: %s", out, errno_name(errno));
    fclose(r.f);
    return EXIT_CONFIG;
  }
  static char obuf[1 << 16];
  setvbuf(o, obuf, _IOFBF, sizeof obuf);
  int bad = write_header(o);
  int32_t n = 0;
  double ts = 0;
  // The module clock moves at most clockMaxStep per call (docs/abi.md §2,
  // Time): a gap in the capture is walked as a ticking host would, with
  // idle calls, so timeouts play out exactly (host/datapath.ts tickTo).
  const double step = (double)Z_mapeZ_clockMaxStep(&mod);
  double last_now = NAN;
  for (;;) {
    const uint8_t *data;
    uint32_t len = 0;  // set by reader_next when it returns a record (gcc -Os cannot see it)
    double ms = 0;
    int got = reader_next(&r, record, &data, &len, &ms);
    if (got < 0) {
      fclose(o);
      unlink(tmp);
      fclose(r.f);
      say_error("pcap: --in: %s", r.err);
      return EXIT_CONFIG;
    }
    if (n > 0 && (got == 0 || ms != ts || n == geo.batch_max)) {
      mod_where = "process";
      int32_t m = (int32_t)Z_mapeZ_process(&mod, (uint32_t)n, ts);
      last_now = ts;
      if (m < 0 || m > geo.slot_count) rt_trap_exit("process returned a bad output count");
      for (int32_t j = 0; j < m; j++) {
        uint32_t off = mem_u32(geo.out_offsets + 4 * (uint32_t)j);
        int32_t l = mem_i32(geo.out_lengths + 4 * (uint32_t)j);
        if (l < 0 || (uint32_t)l > sizeof outbuf) rt_trap_exit("process returned a bad output length");
        mem_copy_out(outbuf, off, (uint32_t)l);
        bad |= write_record(o, ts, outbuf, (uint32_t)l);
      }
      n = 0;
    }
    if (got == 0) break;
    if (n == 0 && isfinite(last_now) && isfinite(ms) && ms - last_now <= 86400000.0) {
      mod_where = "process";
      for (double t = last_now + step; t < ms; t += step) {
        Z_mapeZ_process(&mod, 0, t);
        last_now = t;
      }
    }
    ts = ms;
    uint32_t cut = len < (uint32_t)geo.capacity ? len : (uint32_t)geo.capacity;
    mem_copy_in(Z_mapeZ_inputPtr(&mod, (uint32_t)n), data, cut);
    mem_set_u32(geo.in_lengths + 4 * (uint32_t)n, cut);
    n++;
  }
  fclose(r.f);
  if (fclose(o) != 0 || bad || rename(tmp, out) != 0) {
    say_error("pcap: --out: cannot write %s: %s", out, errno_name(errno));
    unlink(tmp);
    return EXIT_CONFIG;
  }
  print_pcap_counters(json);
  return 0;
}
