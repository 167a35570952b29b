// `mape hb46pp`: the two pieces of the HB46PP client (v6mig-prov v1.0) the
// OpenWrt fetcher (openwrt/files/usr/share/mape/hb46pp.sh) cannot do with
// what OpenWrt ships. The fetch itself is uclient-fetch's (OpenWrt's TLS);
// the answer is parsed by the module (`mape calc --rules`).
//
//   mape hb46pp discover [--hb46pp-domain <d>] [--dns-server <addr>]...
//     §3.1: the TXT query for 4over6.info over UDP to the line's resolver
//     (busybox nslookup may lack -type=txt and does not tell NXDOMAIN from
//     a timeout in its status). Prints
//       url=<url>
//       verify=<1 for t=b over https, else 0>
//       record=<the record>
//     exit 0; 3 NXDOMAIN / NODATA / no v=v6mig-1 record (§3.6 c.2);
//     4 any other DNS failure (c.3); 2 a bad command line. One line on
//     stderr for every failure.
//   mape hb46pp delay <ok|absent|dns-failed|no-answer|refused> [--ttl <s>]
//     The module's wait before the next attempt (provisionDelay, the Node
//     host's state machine asks the same), in seconds, on stdout.
//
// The query:  id (random) | RD | 1 question  <domain> TXT IN
// The answer: the id and question checked; RCODE 3 → absent; RCODE 0 with
// no TXT answer → absent (NODATA); TC set → failed (no TCP: a v6mig-1
// record is one short string); other RCODEs → failed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "host.h"
#include "mod.h"

#define EXIT_ABSENT 3
#define EXIT_DNS_FAILED 4
#define DNS_TXT 16
#define DNS_IN 1
#define MAX_SERVERS 4
#define TRIES 2
#define TIMEOUT_MS 3000

typedef struct {
  struct sockaddr_storage sa;
  socklen_t len;
  char text[64];
} server;

/** "addr", "[addr]:port" or "v4addr:port" → a socket address (port 53 by default). */
static int parse_server(const char *s, server *out) {
  char host[64];
  int port = 53;
  memset(out, 0, sizeof *out);
  snprintf(out->text, sizeof out->text, "%s", s);
  if (s[0] == '[') {
    const char *e = strchr(s, ']');
    if (!e || (size_t)(e - s - 1) >= sizeof host) return -1;
    memcpy(host, s + 1, (size_t)(e - s - 1));
    host[e - s - 1] = 0;
    if (e[1] == ':') port = atoi(e + 2);
    else if (e[1]) return -1;
  } else {
    if (strlen(s) >= sizeof host) return -1;
    snprintf(host, sizeof host, "%s", s);
    char *c = strchr(host, ':');
    if (c && !strchr(c + 1, ':')) {  // one colon: IPv4 with a port
      *c = 0;
      port = atoi(c + 1);
    }
  }
  if (port < 1 || port > 65535) return -1;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->sa;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&out->sa;
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    out->len = sizeof *a6;
    return 0;
  }
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    out->len = sizeof *a4;
    return 0;
  }
  return -1;
}

/** The nameservers of /etc/resolv.conf, IPv6 ones first (§3.3 wants IPv6). */
static int system_servers(server *out, int cap) {
  FILE *f = fopen("/etc/resolv.conf", "r");
  if (!f) return 0;
  server v4[MAX_SERVERS];
  int n = 0, n4 = 0;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    char addr[64];
    if (sscanf(line, " nameserver %63s", addr) != 1) continue;
    server s;
    if (parse_server(addr, &s) < 0) continue;
    if (s.sa.ss_family == AF_INET6 && n < cap) out[n++] = s;
    else if (s.sa.ss_family == AF_INET && n4 < MAX_SERVERS) v4[n4++] = s;
  }
  fclose(f);
  for (int i = 0; i < n4 && n < cap; i++) out[n++] = v4[i];
  return n;
}

/** The query for <domain> TXT IN; its length, or -1 for a name that is not one. */
static int build_query(uint8_t *q, size_t cap, uint16_t id, const char *domain) {
  size_t at = 12;
  memset(q, 0, 12);
  q[0] = (uint8_t)(id >> 8), q[1] = (uint8_t)id;
  q[2] = 0x01;  // RD
  q[5] = 1;     // QDCOUNT
  const char *p = domain;
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t l = dot ? (size_t)(dot - p) : strlen(p);
    if (l == 0 || l > 63 || at + 1 + l + 5 >= cap) return -1;
    q[at++] = (uint8_t)l;
    memcpy(q + at, p, l);
    at += l;
    p += l;
    if (*p == '.') p++;
  }
  if (at == 12) return -1;
  q[at++] = 0;
  q[at++] = 0, q[at++] = DNS_TXT, q[at++] = 0, q[at++] = DNS_IN;
  return (int)at;
}

/** Skips a (possibly compressed) name at *at; -1 when it runs off the message. */
static int skip_name(const uint8_t *m, size_t n, size_t *at) {
  for (int guard = 0; guard < 128; guard++) {
    if (*at >= n) return -1;
    uint8_t l = m[*at];
    if ((l & 0xc0) == 0xc0) {
      if (*at + 2 > n) return -1;
      *at += 2;
      return 0;
    }
    if (l & 0xc0) return -1;
    *at += 1u + l;
    if (l == 0) return 0;
  }
  return -1;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

enum { ANSWER_OK = 0, ANSWER_ABSENT = 1, ANSWER_FAILED = 2 };

/**
 * Reads the TXT answers of message m (the reply to `id`) into records
 * (each record's strings joined, NUL-separated, double-NUL-terminated).
 */
static int read_answer(const uint8_t *m, size_t n, uint16_t id, size_t qlen, const uint8_t *q, char *records, size_t cap, char *why, size_t whycap) {
  if (n < 12 || get16(m) != id || !(m[2] & 0x80)) return snprintf(why, whycap, "not an answer to our query"), -1;
  if (n < qlen || memcmp(m + 12, q + 12, qlen - 12) != 0) return snprintf(why, whycap, "the answer's question is not ours"), -1;
  int rcode = m[3] & 0x0f;
  if (m[2] & 0x02) return snprintf(why, whycap, "truncated answer (TC)"), ANSWER_FAILED;
  if (rcode == 3) return snprintf(why, whycap, "NXDOMAIN"), ANSWER_ABSENT;
  if (rcode != 0) {
    static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    if (rcode < 6) snprintf(why, whycap, "%s", names[rcode]);
    else snprintf(why, whycap, "RCODE %d", rcode);
    return ANSWER_FAILED;
  }
  size_t at = qlen, out = 0;
  int ancount = get16(m + 6), txt = 0;
  for (int i = 0; i < ancount; i++) {
    if (skip_name(m, n, &at) < 0 || at + 10 > n) return snprintf(why, whycap, "malformed answer"), ANSWER_FAILED;
    uint16_t type = get16(m + at), cls = get16(m + at + 2), rdlen = get16(m + at + 8);
    at += 10;
    if (at + rdlen > n) return snprintf(why, whycap, "malformed answer"), ANSWER_FAILED;
    if (type == DNS_TXT && cls == DNS_IN) {
      txt++;
      for (size_t k = at; k < at + rdlen;) {
        size_t l = m[k++];
        if (k + l > at + rdlen) return snprintf(why, whycap, "malformed TXT record"), ANSWER_FAILED;
        for (size_t j = 0; j < l && out + 2 < cap; j++) records[out++] = m[k + j] ? (char)m[k + j] : ' ';
        k += l;
      }
      if (out + 2 < cap) records[out++] = 0;
    }
    at += rdlen;
  }
  records[out] = 0;
  if (txt == 0) return snprintf(why, whycap, "NODATA"), ANSWER_ABSENT;
  return ANSWER_OK;
}

/** One query to one server (TRIES sends); ANSWER_* or -1 for no answer. */
static int ask(const server *s, const uint8_t *q, int qlen, uint16_t id, char *records, size_t cap, char *why, size_t whycap) {
  int fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return snprintf(why, whycap, "socket: %s", errno_name(errno)), -1;
  if (connect(fd, (const struct sockaddr *)&s->sa, s->len) < 0) {
    snprintf(why, whycap, "%s: %s", s->text, errno_name(errno));
    close(fd);
    return -1;
  }
  snprintf(why, whycap, "%s: no answer within %d ms", s->text, TIMEOUT_MS * TRIES);
  for (int t = 0; t < TRIES; t++) {
    if (send(fd, q, (size_t)qlen, 0) < 0) {
      snprintf(why, whycap, "%s: %s", s->text, errno_name(errno));
      break;
    }
    struct pollfd p = {fd, POLLIN, 0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
      struct timespec t1;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      long left = TIMEOUT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
      if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
      uint8_t m[4096];
      ssize_t r = recv(fd, m, sizeof m, 0);
      if (r < 0) {
        if (errno == ECONNREFUSED) {
          snprintf(why, whycap, "%s: ECONNREFUSED", s->text);
          close(fd);
          return -1;
        }
        continue;
      }
      int a = read_answer(m, (size_t)r, id, (size_t)qlen, q, records, cap, why, whycap);
      if (a < 0) continue;  // not ours: keep waiting
      close(fd);
      return a;
    }
  }
  close(fd);
  return -1;
}

/**
 * §3.1: the first "v=v6mig-1" record; prints url/verify/record. Returns
 * ANSWER_OK, ANSWER_ABSENT (no v6mig-1 record) or ANSWER_FAILED (a bad one).
 */
static int txt_record(const char *records, char *why, size_t whycap) {
  for (const char *r = records; *r; r += strlen(r) + 1) {
    char v[32] = "", url[1024] = "", t[8] = "";
    int have_url = 0, have_t = 0;
    const char *p = r;
    while (*p) {
      while (*p == ' ' || *p == '\t') p++;
      const char *w = p;
      while (*p && *p != ' ' && *p != '\t') p++;
      size_t l = (size_t)(p - w);
      if (l > 2 && !strncmp(w, "v=", 2)) snprintf(v, sizeof v, "%.*s", (int)(l - 2), w + 2);
      else if (l > 4 && !strncmp(w, "url=", 4)) snprintf(url, sizeof url, "%.*s", (int)(l - 4), w + 4), have_url = 1;
      else if (l >= 2 && !strncmp(w, "t=", 2)) snprintf(t, sizeof t, "%.*s", (int)(l - 2), w + 2), have_t = 1;
    }
    if (strcmp(v, "v6mig-1")) continue;
    int https = !strncmp(url, "https://", 8), http = !strncmp(url, "http://", 7);
    if (!have_url) return snprintf(why, whycap, "TXT '%s': no url=", r), ANSWER_FAILED;
    if (!https && !http) return snprintf(why, whycap, "TXT '%s': url '%s' is not http or https", r, url), ANSWER_FAILED;
    if (strlen(url) <= (size_t)(https ? 8 : 7)) return snprintf(why, whycap, "TXT '%s': url '%s' is not a URL", r, url), ANSWER_FAILED;
    for (const char *c = url; *c; c++)
      if ((unsigned char)*c < 0x21 || *c == '"' || *c == '\'' || *c == '\\' || *c == '`' || *c == '$')
        return snprintf(why, whycap, "TXT '%s': url '%s' is not a URL", r, url), ANSWER_FAILED;
    if (!have_t || (strcmp(t, "a") && strcmp(t, "b"))) return snprintf(why, whycap, "TXT '%s': t is '%s', not a or b", r, t), ANSWER_FAILED;
    printf("url=%s\nverify=%d\nrecord=%s\n", url, !strcmp(t, "b") && https, r);
    fflush(stdout);
    return ANSWER_OK;
  }
  snprintf(why, whycap, "no v=v6mig-1 TXT record");
  return ANSWER_ABSENT;
}

static int discover(int argc, char **argv) {
  const char *domain = "4over6.info";
  server servers[MAX_SERVERS];
  int ns = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if ((!strcmp(a, "--hb46pp-domain") || !strcmp(a, "--dns-server")) && i + 1 < argc) {
      const char *v = argv[++i];
      if (a[2] == 'h') domain = v;
      else if (ns == MAX_SERVERS) {
        say_error("--dns-server: at most %d", MAX_SERVERS);
        return EXIT_USAGE;
      } else if (parse_server(v, &servers[ns++]) < 0) {
        say_error("--dns-server: '%s' is not an address (addr, [addr]:port or v4addr:port)", v);
        return EXIT_USAGE;
      }
    } else {
      say_error("hb46pp discover: unknown argument '%s' (--hb46pp-domain <d>, --dns-server <addr>)", a);
      return EXIT_USAGE;
    }
  }
  uint8_t q[300];
  uint16_t id = 0;
  if (getrandom(&id, sizeof id, 0) != sizeof id) id = (uint16_t)getpid();
  int qlen = strlen(domain) < 254 ? build_query(q, sizeof q, id, domain) : -1;
  if (qlen < 0) {
    say_error("--hb46pp-domain: '%s' is not a domain name", domain);
    return EXIT_USAGE;
  }
  if (ns == 0) ns = system_servers(servers, MAX_SERVERS);
  if (ns == 0) {
    say_error("TXT %s: no resolver (give --dns-server, or a nameserver in /etc/resolv.conf)", domain);
    return EXIT_DNS_FAILED;
  }
  static char records[8192];
  char why[1200] = "";
  for (int i = 0; i < ns; i++) {
    int a = ask(&servers[i], q, qlen, id, records, sizeof records, why, sizeof why);
    if (a < 0 || a == ANSWER_FAILED) continue;  // the next resolver may do better
    if (a == ANSWER_ABSENT) {
      say_error("TXT %s: %s", domain, why);
      return EXIT_ABSENT;
    }
    a = txt_record(records, why, sizeof why);
    if (a == ANSWER_OK) return 0;
    say_error("TXT %s: %s", domain, why);
    return a == ANSWER_ABSENT ? EXIT_ABSENT : EXIT_DNS_FAILED;
  }
  say_error("TXT %s: %s", domain, why);
  return EXIT_DNS_FAILED;
}

static int delay(int argc, char **argv) {
  static const char *outcomes[] = {"ok", "absent", "dns-failed", "no-answer", "refused"};
  int outcome = -1;
  long ttl = -1;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--ttl") && i + 1 < argc) {
      char *end;
      ttl = strtol(argv[++i], &end, 10);
      if (*end || end == argv[i] || ttl < -1 || ttl > 0x7fffffff) {
        say_error("--ttl: '%s' is not a number of seconds", argv[i]);
        return EXIT_USAGE;
      }
    } else if (outcome < 0) {
      for (int k = 0; k < 5; k++)
        if (!strcmp(argv[i], outcomes[k])) outcome = k;
      if (outcome < 0) {
        say_error("hb46pp delay: '%s' is not an outcome (ok, absent, dns-failed, no-answer, refused)", argv[i]);
        return EXIT_USAGE;
      }
    } else {
      say_error("hb46pp delay: unknown argument '%s'", argv[i]);
      return EXIT_USAGE;
    }
  }
  if (outcome < 0) {
    say_error("hb46pp delay: give the outcome (ok, absent, dns-failed, no-answer, refused)");
    return EXIT_USAGE;
  }
  uint16_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint16_t)(getpid() ^ time(NULL));
  mod_start();
  mod_where = "provisionDelay";
  int32_t s = (int32_t)Z_mapeZ_provisionDelay(&mod, (uint32_t)outcome, (uint32_t)(int32_t)ttl, r);
  if (s < 0) {
    say_error("hb46pp delay: the module refused outcome %s, ttl %ld", outcomes[outcome], ttl);
    return EXIT_CONFIG;
  }
  printf("%d\n", s);
  return 0;
}

int hb46pp_node_flag(const char *a) {
  static const char *flags[] = {"--auto", "--hb46pp-domain", "--ca", "--insecure", "--rules-state", "--dns-server", "--vendorid"};
  for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
    size_t l = strlen(flags[k]);
    if (!strncmp(a, flags[k], l) && (a[l] == 0 || a[l] == '=')) {
      say_error("%s: the router program fetches no rules itself (no TLS of its own): on OpenWrt set option auto '1' (/usr/share/mape/hb46pp.sh fetches them with uclient-fetch); elsewhere give the answer with --rules <file>", flags[k]);
      return 1;
    }
  }
  return 0;
}

int cmd_hb46pp(int argc, char **argv) {
  if (argc >= 1 && !strcmp(argv[0], "discover")) return discover(argc - 1, argv + 1);
  if (argc >= 1 && !strcmp(argv[0], "delay")) return delay(argc - 1, argv + 1);
  say_error("hb46pp: give discover [--hb46pp-domain <d>] [--dns-server <addr>]... or delay <outcome> [--ttl <s>]");
  return EXIT_USAGE;
}
