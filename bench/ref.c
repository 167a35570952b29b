/*
 * The native reference of the benchmark (docs/benchmark.md): plain C doing
 * the core work of the module's established CE fast path, on the same
 * packets as the module bench, in the same slot layout, timed the same way.
 * `npm run bench` builds it (gcc -O2) and runs it in the same run as the
 * module, so the ratios it prints compare like with like.
 *
 * Per LAN→WAN packet: IPv4 checks (version, IHL, total length, the header
 * checksum summed), martian source/destination, TTL, not a fragment, UDP or
 * TCP with its ports, destination outside the CE's own rule (else it is not
 * the BR path); 5-tuple look-up in a chained hash table and refresh; NAPT
 * of the source address and port with incremental checksums (RFC 1624, the
 * UDP zero-checksum case); TTL decrement (incremental); RFC 6438 flow label
 * (the module's hash); the IPv6 header written into the headroom.
 *
 * Per WAN→LAN packet: IPv6 version and payload length, destination = the
 * MAP address, next header 4, source = the BR; the inner IPv4 checks as
 * above, destination = the CE's address, the destination port in the port
 * set; look-up of (protocol, external port, remote address, remote port),
 * refresh; NAPT of the destination with incremental checksums; TTL
 * decrement; the output starts at the inner header.
 *
 * New sessions: a miss in the 5-tuple table looks up the internal endpoint's
 * mapping (endpoint-independent mapping, RFC 4787 REQ-1), draws a port for a
 * new one (the source port when it is free, else the next free one after a
 * cursor), and
 * links the session into both tables.
 *
 * Per batch: an expiry hand looks at 64 sessions (the module expires some
 * sessions per batch too).
 *
 *   ref <case file> [--seconds S] [--iters N] [--dump out.bin]
 *
 * The case file is written by bench/bench.ts (layout in bench/native.ts).
 * Prints one JSON line. --iters runs exactly N timed batches (for
 * callgrind: instruction counts are deterministic); --dump writes the
 * outputs of the first batch (u32 length, bytes) for the equality test.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT_SIZE 4096
#define HEADROOM 128
#define SLOTS 256
#define RESTORE_BYTES 96
#define CAPACITY 65536
#define TIMEOUT_MS 300000ULL

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* ---- case file ---- */
struct flow { u32 int_addr, rem_addr; u16 int_port, rem_port, ext_port, proto; };
static u32 kind, count, stride, batch, nflows, nsetup, config_len;
static u8 ce4b[4], ce6[16], br6[16], rule4b[4];
static u32 rule4_len;
static struct flow *flows;
static u8 *packets;

static u32 rd32(FILE *f) { u32 v; if (fread(&v, 4, 1, f) != 1) { fprintf(stderr, "ref: short case file\n"); exit(2); } return v; }
static void rdn(FILE *f, void *p, size_t n) { if (n && fread(p, 1, n, f) != n) { fprintf(stderr, "ref: short case file\n"); exit(2); } }

static void read_case(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  char magic[8];
  rdn(f, magic, 8);
  if (memcmp(magic, "MAPEBNC1", 8) != 0) { fprintf(stderr, "ref: %s: not a case file\n", path); exit(2); }
  kind = rd32(f); count = rd32(f); stride = rd32(f); batch = rd32(f);
  rdn(f, ce4b, 4); rdn(f, ce6, 16); rdn(f, br6, 16); rdn(f, rule4b, 4); rule4_len = rd32(f);
  nflows = rd32(f);
  flows = calloc(nflows ? nflows : 1, sizeof *flows);
  for (u32 i = 0; i < nflows; i++) {
    u8 r[16];
    rdn(f, r, 16);
    flows[i].int_addr = (u32)r[0] << 24 | (u32)r[1] << 16 | (u32)r[2] << 8 | r[3];
    flows[i].rem_addr = (u32)r[4] << 24 | (u32)r[5] << 16 | (u32)r[6] << 8 | r[7];
    flows[i].int_port = (u16)(r[8] << 8 | r[9]);
    flows[i].rem_port = (u16)(r[10] << 8 | r[11]);
    flows[i].ext_port = (u16)(r[12] << 8 | r[13]);
    flows[i].proto = r[14];
  }
  config_len = rd32(f);
  fseek(f, config_len, SEEK_CUR);      /* the module driver's; not ours */
  nsetup = rd32(f);
  fseek(f, (long)nsetup * 64, SEEK_CUR); /* setup packets: the module driver's */
  packets = malloc((size_t)count * stride);
  rdn(f, packets, (size_t)count * stride);
  fclose(f);
}

/* ---- bytes ---- */
static inline u16 ld16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 ld32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static inline void st16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline void st32(u8 *p, u32 v) { p[0] = (u8)(v >> 24); p[1] = (u8)(v >> 16); p[2] = (u8)(v >> 8); p[3] = (u8)v; }

/* RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'). */
static inline u16 csum_upd16(u16 hc, u16 m, u16 m1) {
  u32 s = (u16)~hc + (u16)~m + m1;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return (u16)~s;
}
static inline u16 csum_upd32(u16 hc, u32 m, u32 m1) {
  u32 s = (u16)~hc + (u16)~(m >> 16) + (u16)~m + (m1 >> 16) + (m1 & 0xffff);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return (u16)~s;
}

/** The IPv4 header at p checks: version 4, IHL >= 5, total length within len, checksum. 0 or -1. */
static inline int ipv4_ok(const u8 *p, u32 len) {
  if (len < 20 || (p[0] >> 4) != 4) return -1;
  u32 hl = (u32)(p[0] & 15) << 2;
  if (hl < 20 || hl > len) return -1;
  u32 tl = ld16(p + 2);
  if (tl < hl || tl > len) return -1;
  /* The one's-complement sum in 32-bit words (byte order does not change
   * whether it folds to 0xffff, RFC 1071 §2(B)), as Linux's ip_fast_csum. */
  u64 s = 0;
  for (u32 i = 0; i < hl; i += 4) { u32 w; memcpy(&w, p + i, 4); s += w; }
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s == 0xffff ? 0 : -1;
}

static inline int martian(u32 a) { u32 t = a >> 24; return t == 0 || t == 127 || t >= 224; }

/* ---- the NAT tables ---- */
struct session {
  u32 int_addr, rem_addr;
  u16 int_port, rem_port, ext_port;
  u8 proto, live;
  u32 next_out, next_in;   /* chains, 1-based index, 0 = end */
  u64 seen;
};
struct mapping { u32 int_addr; u16 int_port, ext_port; u8 proto, live; u32 next; };

#define BUCKETS (CAPACITY * 2)
static struct session *sess;
static u32 *head_out, *head_in, *head_map;
static struct mapping *maps;
static u32 nsess, nmaps;
static u8 port_used[2][65536];
static u32 hand;
static u32 cursor[2];
static u32 ce4, rule4, rule4_mask;

static inline u32 mix(u32 h) { h ^= h >> 16; h *= 0x85EBCA6B; h ^= h >> 13; h *= 0xC2B2AE35; h ^= h >> 16; return h; }
static inline u32 hash_out(u8 proto, u32 ia, u16 ip, u32 ra, u16 rp) {
  return mix(ia * 0x9E3779B1 ^ ra ^ ((u32)ip << 16 | rp) * 0x7FEB352D ^ proto) & (BUCKETS - 1);
}
static inline u32 hash_in(u8 proto, u16 ep, u32 ra, u16 rp) {
  return mix(ra * 0x9E3779B1 ^ ((u32)ep << 16 | rp) * 0x7FEB352D ^ proto) & (BUCKETS - 1);
}
static inline u32 hash_map(u8 proto, u32 ia, u16 ip) { return mix(ia * 0x9E3779B1 ^ ((u32)ip << 8 | proto)) & (BUCKETS - 1); }

static void nat_reset(void) {
  memset(sess, 0, sizeof *sess * (CAPACITY + 1));
  memset(maps, 0, sizeof *maps * (CAPACITY + 1));
  memset(head_out, 0, sizeof *head_out * BUCKETS);
  memset(head_in, 0, sizeof *head_in * BUCKETS);
  memset(head_map, 0, sizeof *head_map * BUCKETS);
  memset(port_used, 0, sizeof port_used);
  nsess = nmaps = 0;
  hand = 0;
  cursor[0] = cursor[1] = 1024;
}

static u32 link_session(u8 proto, u32 ia, u16 ip, u32 ra, u16 rp, u16 ep, u64 now) {
  if (nsess >= CAPACITY) return 0;
  u32 i = ++nsess;
  struct session *s = &sess[i];
  s->int_addr = ia; s->int_port = ip; s->rem_addr = ra; s->rem_port = rp; s->ext_port = ep;
  s->proto = proto; s->live = 1; s->seen = now;
  u32 ho = hash_out(proto, ia, ip, ra, rp), hi = hash_in(proto, ep, ra, rp);
  s->next_out = head_out[ho]; head_out[ho] = i;
  s->next_in = head_in[hi]; head_in[hi] = i;
  return i;
}

static inline u32 find_out(u8 proto, u32 ia, u16 ip, u32 ra, u16 rp) {
  for (u32 i = head_out[hash_out(proto, ia, ip, ra, rp)]; i; i = sess[i].next_out) {
    const struct session *s = &sess[i];
    if (s->int_addr == ia && s->rem_addr == ra && s->int_port == ip && s->rem_port == rp && s->proto == proto) return i;
  }
  return 0;
}

static inline u32 find_in(u8 proto, u16 ep, u32 ra, u16 rp) {
  for (u32 i = head_in[hash_in(proto, ep, ra, rp)]; i; i = sess[i].next_in) {
    const struct session *s = &sess[i];
    if (s->ext_port == ep && s->rem_addr == ra && s->rem_port == rp && s->proto == proto) return i;
  }
  return 0;
}

/** A new session for a 5-tuple that missed: the endpoint's mapping, or a new one with a drawn port. */
static u32 new_session(u8 proto, u32 ia, u16 ip, u32 ra, u16 rp, u64 now) {
  u32 h = hash_map(proto, ia, ip);
  u32 m = head_map[h];
  for (; m; m = maps[m].next) if (maps[m].int_addr == ia && maps[m].int_port == ip && maps[m].proto == proto) break;
  if (!m) {
    if (nmaps >= CAPACITY) return 0;
    u8 *used = port_used[proto == 6];
    u32 p = ip >= 1024 ? ip : 1024;
    if (used[p]) {
      /* Taken: the next free port after a cursor that only moves forward (amortised O(1) per draw). */
      u32 *c = &cursor[proto == 6];
      while (*c <= 65535 && used[*c]) (*c)++;
      if (*c > 65535) return 0;
      p = *c;
    }
    used[p] = 1;
    m = ++nmaps;
    maps[m] = (struct mapping){ ia, ip, (u16)p, proto, 1, head_map[h] };
    head_map[h] = m;
  }
  return link_session(proto, ia, ip, ra, rp, maps[m].ext_port, now);
}

/** The expiry hand: 64 sessions a batch. */
static u32 expired;
static inline void expire_some(u64 now) {
  for (int k = 0; k < 64 && nsess; k++) {
    hand = hand >= nsess ? 1 : hand + 1;
    if (sess[hand].live && now - sess[hand].seen > TIMEOUT_MS) expired++; /* (never in the bench: unlinking not needed) */
  }
}

/* ---- the fast paths ---- */

/* RFC 6438 flow label: the module's hash (stage.ts flowLabel), over the translated header. */
static inline u32 flow_label(const u8 *p, const u8 *l4) {
  u32 w;
  memcpy(&w, l4, 4);
  u32 h = ld32(p + 12) * 0x9E3779B1 ^ ld32(p + 16);
  h ^= w;
  h ^= p[9];
  h = (h ^ (h >> 15)) * 0x2C1B3C6D;
  h = (h ^ (h >> 12)) * 0x297A2D39;
  h ^= h >> 15;
  return h & 0xFFFFF;
}

static u64 now_ms;
static u32 drops, fresh;

/** LAN → WAN; returns the output start (0: dropped), *olen its length. */
static inline u8 *lan_to_wan(u8 *p, u32 len, u32 *olen) {
  if (ipv4_ok(p, len)) return 0;
  len = ld16(p + 2);
  u32 hl = (u32)(p[0] & 15) << 2;
  u32 src = ld32(p + 12), dst = ld32(p + 16);
  if (martian(src) || martian(dst) || src == ce4) return 0;
  if (p[8] <= 1) return 0;
  if (ld16(p + 6) & 0x3fff) return 0;              /* a fragment: not this path */
  u8 proto = p[9];
  u8 *l4 = p + hl;
  u32 l4len = len - hl;
  if (proto == 17) { if (l4len < 8 || ld16(l4 + 4) < 8 || ld16(l4 + 4) > l4len) return 0; }
  else if (proto == 6) { if (l4len < 20) return 0; }
  else return 0;
  if ((dst & rule4_mask) == rule4) return 0;       /* to a CE of the domain: not the BR path */
  u16 sp = ld16(l4), dp = ld16(l4 + 2);
  u32 s = find_out(proto, src, sp, dst, dp);
  if (!s) { s = new_session(proto, src, sp, dst, dp, now_ms); if (!s) return 0; fresh++; }
  sess[s].seen = now_ms;
  u16 ep = sess[s].ext_port;
  /* NAPT: source address and port, incremental checksums. */
  u16 hc = csum_upd32(ld16(p + 10), src, ce4);
  st32(p + 12, ce4);
  if (proto == 17) {
    u16 c = ld16(l4 + 6);
    if (c != 0) {
      c = csum_upd16(csum_upd32(c, src, ce4), sp, ep);
      st16(l4 + 6, c == 0 ? 0xffff : c);
    }
  } else {
    st16(l4 + 16, csum_upd16(csum_upd32(ld16(l4 + 16), src, ce4), sp, ep));
  }
  st16(l4, ep);
  /* TTL − 1. */
  u16 old = ld16(p + 8);
  p[8]--;
  st16(p + 10, csum_upd16(hc, old, ld16(p + 8)));
  /* The outer header, into the headroom. */
  u32 label = flow_label(p, l4);
  u8 *o = p - 40;
  st32(o, 6u << 28 | (u32)p[1] << 20 | label);
  st16(o + 4, (u16)len);
  o[6] = 4;
  o[7] = 64;
  memcpy(o + 8, ce6, 16);
  memcpy(o + 24, br6, 16);
  *olen = len + 40;
  return o;
}

static inline int addr6_eq(const u8 *a, const u8 *b) {
  u64 a0, a1, b0, b1;
  memcpy(&a0, a, 8); memcpy(&a1, a + 8, 8); memcpy(&b0, b, 8); memcpy(&b1, b + 8, 8);
  return a0 == b0 && a1 == b1;
}

/** WAN → LAN; returns the output start (0: dropped). */
static inline u8 *wan_to_lan(u8 *p, u32 len, u32 *olen) {
  if (len < 40 || (p[0] >> 4) != 6) return 0;
  u32 pl = ld16(p + 4);
  if (pl > len - 40) return 0;
  if (!addr6_eq(p + 24, ce6) || p[6] != 4 || !addr6_eq(p + 8, br6)) return 0;
  u8 *q = p + 40;
  len = pl;
  if (ipv4_ok(q, len)) return 0;
  len = ld16(q + 2);
  u32 hl = (u32)(q[0] & 15) << 2;
  u32 src = ld32(q + 12), dst = ld32(q + 16);
  if (dst != ce4) return 0;
  if (ld16(q + 6) & 0x3fff) return 0;
  if (q[8] <= 1) return 0;
  u8 proto = q[9];
  u8 *l4 = q + hl;
  u32 l4len = len - hl;
  if (proto == 17) { if (l4len < 8 || ld16(l4 + 4) < 8 || ld16(l4 + 4) > l4len) return 0; }
  else if (proto == 6) { if (l4len < 20) return 0; }
  else return 0;
  u16 sp = ld16(l4), dp = ld16(l4 + 2);
  if (dp < 1024) return 0;                          /* the port set (PSID length 0: 1024..65535) */
  u32 s = find_in(proto, dp, src, sp);
  if (!s) return 0;
  sess[s].seen = now_ms;
  u32 ia = sess[s].int_addr;
  u16 ip = sess[s].int_port;
  u16 hc = csum_upd32(ld16(q + 10), dst, ia);
  st32(q + 16, ia);
  if (proto == 17) {
    u16 c = ld16(l4 + 6);
    if (c != 0) {
      c = csum_upd16(csum_upd32(c, dst, ia), dp, ip);
      st16(l4 + 6, c == 0 ? 0xffff : c);
    }
  } else {
    st16(l4 + 16, csum_upd16(csum_upd32(ld16(l4 + 16), dst, ia), dp, ip));
  }
  st16(l4 + 2, ip);
  u16 old = ld16(q + 8);
  q[8]--;
  st16(q + 10, csum_upd16(hc, old, ld16(q + 8)));
  *olen = len;
  return q;
}

/* ---- the batch loop (the module's slot layout) ---- */
static u8 *slots;
static u32 out_off[SLOTS], out_len[SLOTS];

__attribute__((noinline)) u32 ref_process(u32 n, u64 now) {
  now_ms = now;
  expire_some(now);
  u32 outs = 0;
  for (u32 i = 0; i < n; i++) {
    u8 *p = slots + (size_t)i * SLOT_SIZE + HEADROOM;
    u32 olen = 0;
    u8 *o = kind == 1 ? wan_to_lan(p, stride, &olen) : lan_to_wan(p, stride, &olen);
    if (!o) { drops++; continue; }
    out_off[outs] = (u32)(o - slots);
    out_len[outs] = olen;
    outs++;
  }
  return outs;
}

static void load_batch(u32 b, int full) {
  u32 nb = full ? stride : (stride < RESTORE_BYTES ? stride : RESTORE_BYTES);
  const u8 *src = packets + (size_t)b * batch * stride;
  for (u32 i = 0; i < batch; i++) memcpy(slots + (size_t)i * SLOT_SIZE + HEADROOM, src + (size_t)i * stride, nb);
}

static double secs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: ref <case file> [--seconds S] [--iters N] [--dump out.bin]\n"); return 2; }
  double seconds = 1.5;
  long iters_fixed = -1;
  const char *dump = NULL;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters_fixed = atol(argv[++i]);
    else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump = argv[++i];
    else { fprintf(stderr, "ref: unknown argument %s\n", argv[i]); return 2; }
  }
  read_case(argv[1]);
  ce4 = (u32)ce4b[0] << 24 | (u32)ce4b[1] << 16 | (u32)ce4b[2] << 8 | ce4b[3];
  rule4 = (u32)rule4b[0] << 24 | (u32)rule4b[1] << 16 | (u32)rule4b[2] << 8 | rule4b[3];
  rule4_mask = rule4_len ? ~0u << (32 - rule4_len) : 0;
  rule4 &= rule4_mask;
  slots = aligned_alloc(4096, (size_t)SLOTS * SLOT_SIZE);
  sess = calloc(CAPACITY + 1, sizeof *sess);
  maps = calloc(CAPACITY + 1, sizeof *maps);
  head_out = calloc(BUCKETS, 4); head_in = calloc(BUCKETS, 4); head_map = calloc(BUCKETS, 4);
  if (!slots || !sess || !maps || !head_out || !head_in || !head_map) { fprintf(stderr, "ref: out of memory\n"); return 2; }
  u32 batches = count / batch;

  if (kind == 2) {
    /* New sessions: every packet a new flow into an empty table, rounds until the time is up. */
    double t_proc = 0;
    u64 pk = 0;
    long rounds = 0;
    double t0 = secs();
    do {
      nat_reset();
      fresh = 0;
      for (u32 b = 0; b < batches; b++) {
        load_batch(b, 1);
        double t = secs();
        u32 n = ref_process(batch, 1000);
        t_proc += secs() - t;
        if (n != batch) { fprintf(stderr, "ref: new sessions: %u of %u forwarded\n", n, batch); return 1; }
      }
      if (fresh != count) { fprintf(stderr, "ref: %u new sessions of %u\n", fresh, count); return 1; }
      pk += count;
      rounds++;
    } while (iters_fixed < 0 ? secs() - t0 < seconds * 2 : rounds < iters_fixed);
    printf("{\"case\":\"new\",\"packets\":%llu,\"nsProcess\":%.3f,\"rounds\":%ld}\n", (unsigned long long)pk, t_proc * 1e9 / pk, rounds);
    return 0;
  }

  /* Established: the module's sessions, with the module's external ports. */
  nat_reset();
  for (u32 i = 0; i < nflows; i++) {
    const struct flow *f = &flows[i];
    if (!link_session((u8)f->proto, f->int_addr, f->int_port, f->rem_addr, f->rem_port, f->ext_port, 1000)) { fprintf(stderr, "ref: table full\n"); return 1; }
  }
  /* Check once per batch of the set (as the module bench does): everything forwarded. */
  for (u32 b = 0; b < batches && b < 4; b++) {
    load_batch(b, 1);
    u32 n = ref_process(batch, 1000);
    if (n != batch) { fprintf(stderr, "ref: %u outputs for %u inputs\n", n, batch); return 1; }
    if (b == 0 && dump) {
      FILE *f = fopen(dump, "wb");
      if (!f) { perror(dump); return 2; }
      for (u32 j = 0; j < n; j++) { fwrite(&out_len[j], 4, 1, f); fwrite(slots + out_off[j], 1, out_len[j], f); }
      fclose(f);
    }
  }
  if (nsess != nflows) { fprintf(stderr, "ref: the check made new sessions\n"); return 1; }
  load_batch(0, 1);
  u64 now = 2000;
  u32 d0 = drops;
  long best_it = 0;
  double best_s = 1e30;
  int reps = iters_fixed < 0 ? 4 : 1;   /* warm-up + 3 timed, best kept */
  for (int rep = 0; rep < reps; rep++) {
    long it = 0;
    double t0 = secs(), t;
    do {
      for (int k = 0; k < 64 && (iters_fixed < 0 || it < iters_fixed); k++) {
        load_batch((u32)(it % batches), 0);
        ref_process(batch, now);
        it++;
      }
      now++;
      t = secs();
    } while (iters_fixed < 0 ? t - t0 < (rep == 0 ? seconds / 4 : seconds / 3) : it < iters_fixed);
    if (rep == 0 && reps > 1) continue;
    if ((t - t0) / it < best_s / (best_it ? best_it : 1) || best_it == 0) { best_s = t - t0; best_it = it; }
  }
  if (drops != d0) { fprintf(stderr, "ref: %u drops while timed\n", drops - d0); return 1; }
  double rest = 1e30;
  for (int rep = 0; rep < (iters_fixed < 0 ? 3 : 1); rep++) {
    double t0 = secs();
    for (long it = 0; it < best_it; it++) load_batch((u32)(it % batches), 0);
    double r = secs() - t0;
    if (r < rest) rest = r;
  }
  double pk = (double)best_it * batch;
  double proc = best_s - rest;
  if (proc < 1e-12) proc = 1e-12;
  printf("{\"case\":\"%s\",\"packets\":%.0f,\"nsProcess\":%.3f,\"nsTotal\":%.3f,\"nsRestore\":%.3f,\"expired\":%u}\n",
         kind == 1 ? "wan" : "lan", pk, proc * 1e9 / pk, best_s * 1e9 / pk, rest * 1e9 / pk, expired);
  return 0;
}
