// `mape ce` / `mape br` on a TUN, and `mape stats`: host/runner.ts and
// host/control.ts in C, with the same flags, lines, signals and control
// socket protocol, so either host's `mape stats` reads either instance.
//
//   configure (the module, every source) → init/start the data path →
//   open (create or attach) the TUN → link up (addrgenmode none, MTU) →
//   routes (print them, or add them with --routes) → control socket →
//   one status line → the loop until SIGTERM/SIGINT.
//
// The loop: epoll on the TUN, the control socket (and its few clients) and
// a signalfd; a tick every second calls process(0, now) so the module's
// timeouts run while the link is idle. A readable TUN is drained batch by
// batch (at most 64 batches an event): tunio_read_batch straight into the
// module's input slots, process(), tunio_write_batch straight from its
// output slots (native/tunio.c, the addon's code). Nothing is allocated
// after start: slot tables, client buffers and the answer buffer are
// static.
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_tun.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include "host.h"
#include "image.h"
#include "mod.h"
#include "pcp.h"

#include "rules_diag.h"
#include "tunio.h"
#include "usage.h"
#include "dns.h"

static const char *mode_name(int mode) { return mode == MODE_CE ? "ce" : "br"; }

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// ---------------------------------------------------------------------------
// `ip`, as host/netns.ts runs it: one command, its output, its status.

static char ip_out[8192];

/** Runs `ip args...`; returns its exit status (-1 if it could not run); ip_out = stdout+stderr. */
static int run_ip(const char *const *args) {
  int pfd[2];
  ip_out[0] = 0;
  if (pipe2(pfd, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(pfd[1], 1);
    dup2(pfd[1], 2);
    const char *argv[32];
    int n = 0;
    argv[n++] = "ip";
    for (; args[n - 1] && n < 31; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    execvp("ip", (char *const *)argv);
    _exit(127);
  }
  close(pfd[1]);
  size_t got = 0;
  for (;;) {
    ssize_t r = read(pfd[0], ip_out + got, sizeof ip_out - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof ip_out - 1) break;
  }
  ip_out[got] = 0;
  close(pfd[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  while (got > 0 && (ip_out[got - 1] == '\n' || ip_out[got - 1] == ' ')) ip_out[--got] = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// ---------------------------------------------------------------------------
// What the installed configuration says (the module's getters).

static void fmt_ipv4(uint32_t a, char *out) { sprintf(out, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255); }

static void fmt_ipv6(uint32_t ptr, char *out) {
  uint8_t b[16];
  mod_bytes(ptr, b, 16);
  inet_ntop(AF_INET6, b, out, INET6_ADDRSTRLEN);
}

typedef struct {
  int v6;
  char dest[64];
  int mtu;
} route;

#define MAX_ROUTES 64
static route routes[MAX_ROUTES], added[MAX_ROUTES];
static int nroutes, nadded;

static int same_route(const route *a, const route *b) { return a->v6 == b->v6 && a->mtu == b->mtu && !strcmp(a->dest, b->dest); }

/** The route list of host/runner.ts routesFor(). */
static int routes_for(int mode, int tunnel_mtu, route *out) {
  int n = 0, mtu = tunnel_mtu - 40;
  if (mode == MODE_CE) {
    out[n] = (route){0, "default", mtu};
    n++;
    out[n].v6 = 1;
    out[n].mtu = 0;
    fmt_ipv6(Z_mapeZ_ceIPv6Address(&mod), out[n].dest);
    strcat(out[n].dest, "/128");
    n++;
    return n;
  }
  int rules = (int)Z_mapeZ_ruleCount(&mod);
  for (int i = 0; i < rules && n < MAX_ROUTES; i++) {
    route r = {0, "", mtu};
    fmt_ipv4(Z_mapeZ_ruleIPv4Prefix(&mod, (uint32_t)i), r.dest);
    sprintf(r.dest + strlen(r.dest), "/%d", (int)Z_mapeZ_ruleIPv4PrefixLength(&mod, (uint32_t)i));
    int dup = 0;
    for (int k = 0; k < n; k++) dup |= same_route(&out[k], &r);
    if (!dup) out[n++] = r;
  }
  int brs = (int)Z_mapeZ_brCount(&mod);
  for (int i = 0; i < brs && n < MAX_ROUTES; i++) {
    route r = {1, "", 0};
    fmt_ipv6(Z_mapeZ_brAddress(&mod, (uint32_t)i), r.dest);
    strcat(r.dest, "/128");
    int dup = 0;
    for (int k = 0; k < n; k++) dup |= same_route(&out[k], &r);
    if (!dup) out[n++] = r;
  }
  return n;
}

/** "ip -4 route add default dev mape0 mtu 1460" (without "ip "), verb "add" or "del". */
static void route_text(const route *r, const char *tun, const char *verb, char *out, size_t cap) {
  if (r->mtu) snprintf(out, cap, "%s route %s %s dev %s mtu %d", r->v6 ? "-6" : "-4", verb, r->dest, tun, r->mtu);
  else snprintf(out, cap, "%s route %s %s dev %s", r->v6 ? "-6" : "-4", verb, r->dest, tun);
}

static int route_ip(const route *r, const char *tun, const char *verb) {
  char mtu[16];
  snprintf(mtu, sizeof mtu, "%d", r->mtu);
  const char *args[] = {r->v6 ? "-6" : "-4", "route", verb, r->dest, "dev", tun, r->mtu ? "mtu" : NULL, mtu, NULL};
  return run_ip(args);
}

/** The CE's BMR identity (or the BR's rules and BRs): unchanged over a reload, sessions stay. */
static void identity(int mode, char *out, size_t cap) {
  size_t at = 0;
  char a[INET6_ADDRSTRLEN];
  if (mode == MODE_CE) {
    fmt_ipv6(Z_mapeZ_ceIPv6Address(&mod), a);
    snprintf(out, cap, "%u/%u PSID %u/%u@%u %s", Z_mapeZ_ceIPv4(&mod), Z_mapeZ_ceIPv4PrefixLength(&mod), Z_mapeZ_cePsid(&mod),
             Z_mapeZ_cePsidLength(&mod), Z_mapeZ_cePsidOffset(&mod), a);
    return;
  }
  int rules = (int)Z_mapeZ_ruleCount(&mod);
  for (int i = 0; i < rules && at + 128 < cap; i++) {
    uint32_t k = (uint32_t)i;
    fmt_ipv6(Z_mapeZ_ruleIPv6Prefix(&mod, k), a);
    at += (size_t)snprintf(out + at, cap - at, "%s/%u %u/%u %u %u %u %u;", a, Z_mapeZ_ruleIPv6PrefixLength(&mod, k), Z_mapeZ_ruleIPv4Prefix(&mod, k),
                           Z_mapeZ_ruleIPv4PrefixLength(&mod, k), Z_mapeZ_ruleEaLength(&mod, k), Z_mapeZ_rulePsidOffset(&mod, k),
                           Z_mapeZ_rulePsidLength(&mod, k), Z_mapeZ_ruleIsForwarding(&mod, k));
  }
  int brs = (int)Z_mapeZ_brCount(&mod);
  for (int i = 0; i < brs && at + 64 < cap; i++) {
    fmt_ipv6(Z_mapeZ_brAddress(&mod, (uint32_t)i), a);
    at += (size_t)snprintf(out + at, cap - at, "%s,", a);
  }
}

/** host/runner.ts statusLine(). */
static void status_line(int mode, const char *tun, int tunnel_mtu, char *out, size_t cap) {
  char brs[1024] = "BR ";
  int nbr = (int)Z_mapeZ_brCount(&mod);
  for (int i = 0; i < nbr; i++) {
    char a[INET6_ADDRSTRLEN];
    fmt_ipv6(Z_mapeZ_brAddress(&mod, (uint32_t)i), a);
    if (strlen(brs) + strlen(a) + 3 >= sizeof brs) break;
    if (i) strcat(brs, ", ");
    strcat(brs, a);
  }
  if (mode == MODE_BR) {
    int n = (int)Z_mapeZ_ruleCount(&mod);
    snprintf(out, cap, "br on %s: %d rule%s, %s, tunnel MTU %d", tun, n, n == 1 ? "" : "s", brs, tunnel_mtu);
    return;
  }
  char v4[32], map[INET6_ADDRSTRLEN], ports[256];
  fmt_ipv4(Z_mapeZ_ceIPv4(&mod), v4);
  int plen = (int)Z_mapeZ_ceIPv4PrefixLength(&mod);
  if (plen < 32) sprintf(v4 + strlen(v4), "/%d", plen);
  fmt_ipv6(Z_mapeZ_ceIPv6Address(&mod), map);
  int psidlen = (int)Z_mapeZ_cePsidLength(&mod);
  if (psidlen == 0) snprintf(ports, sizeof ports, "all ports");
  else {
    int nr = (int)Z_mapeZ_cePortRangeCount(&mod);
    char shown[128] = "";
    for (int i = 0; i < nr && i < 3; i++) {
      int a = (int)Z_mapeZ_cePortRangeFirst(&mod, (uint32_t)i), b = (int)Z_mapeZ_cePortRangeLast(&mod, (uint32_t)i);
      size_t l = strlen(shown);
      if (a == b) snprintf(shown + l, sizeof shown - l, "%s%d", i ? " " : "", a);
      else snprintf(shown + l, sizeof shown - l, "%s%d-%d", i ? " " : "", a, b);
    }
    if (nr > 3) strcat(shown, " …");
    snprintf(ports, sizeof ports, "PSID %u (%d bits at offset %u), %u ports %s", Z_mapeZ_cePsid(&mod), psidlen, Z_mapeZ_cePsidOffset(&mod),
             Z_mapeZ_cePortCount(&mod), shown);
  }
  snprintf(out, cap, "ce on %s: IPv4 %s, %s, MAP address %s, %s, tunnel MTU %d", tun, v4, ports, map, brs, tunnel_mtu);
}

/** TUNNEL_MTU of the option bytes the module accepted (docs/abi.md §1: OPTION_MAPE_LOCAL 0xFF01, sub-option 3). */
static int tunnel_mtu_of(void) {
  uint32_t buf = Z_mapeZ_configBuffer(&mod);
  int32_t len = cfg_encoded_length;
  for (int32_t i = 0; i + 4 <= len;) {
    uint32_t code = (uint32_t)mem_u8(buf + (uint32_t)i) << 8 | mem_u8(buf + (uint32_t)i + 1);
    int32_t l = mem_u8(buf + (uint32_t)i + 2) << 8 | mem_u8(buf + (uint32_t)i + 3);
    if (code == 0xff01) {
      for (int32_t j = i + 4; j + 4 <= i + 4 + l && j + 4 <= len;) {
        uint32_t sc = (uint32_t)mem_u8(buf + (uint32_t)j) << 8 | mem_u8(buf + (uint32_t)j + 1);
        int32_t sl = mem_u8(buf + (uint32_t)j + 2) << 8 | mem_u8(buf + (uint32_t)j + 3);
        if (sc == 3 && sl == 2) return mem_u8(buf + (uint32_t)j + 4) << 8 | mem_u8(buf + (uint32_t)j + 5);
        j += 4 + sl;
      }
    }
    i += 4 + l;
  }
  return 1500;
}

// ---------------------------------------------------------------------------
// The control socket (host/control.ts): one request line, one JSON line.

static int netns_id(const char *path, dev_t *dev, ino_t *ino) {
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return 0;
}

/** control.ts netnsTag(): "" (initial namespace), "netns-<name>", or "netns-<inode>". */
static void netns_tag(char *out, size_t cap) {
  dev_t d, d2;
  ino_t i, i2;
  out[0] = 0;
  if (netns_id("/proc/self/ns/net", &d, &i) < 0) return;
  const char *dirs[] = {"/run/netns", "/var/run/netns"};
  for (int k = 0; k < 2; k++) {
    DIR *dir = opendir(dirs[k]);
    if (!dir) continue;
    struct dirent *e;
    while ((e = readdir(dir))) {
      if (e->d_name[0] == '.') continue;
      char p[512];
      snprintf(p, sizeof p, "%s/%s", dirs[k], e->d_name);
      if (netns_id(p, &d2, &i2) == 0 && d2 == d && i2 == i) {
        snprintf(out, cap, "netns-%s", e->d_name);
        closedir(dir);
        return;
      }
    }
    closedir(dir);
  }
  if (netns_id("/proc/1/ns/net", &d2, &i2) < 0 || (d2 == d && i2 == i)) return;
  snprintf(out, cap, "netns-%llu", (unsigned long long)i);
}

static void control_path(const char *tun, char *out, size_t cap) {
  const char *run = getenv("MAPE_RUN_DIR");
  if (!run || !*run) run = "/run/mape";
  char tag[300];
  netns_tag(tag, sizeof tag);
  if (tag[0]) snprintf(out, cap, "%s/%s/%s.sock", run, tag, tun);
  else snprintf(out, cap, "%s/%s.sock", run, tun);
}

static int connect_unix(const char *path, int *err) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    *err = ENAMETOOLONG;
    return -1;
  }
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
    *err = errno;
    if (s >= 0) close(s);
    return -1;
  }
  return s;
}

static int mkdirs(const char *dir) {
  char p[4096];
  snprintf(p, sizeof p, "%s", dir);
  for (char *c = p + 1; *c; c++) {
    if (*c != '/') continue;
    *c = 0;
    if (mkdir(p, 0755) < 0 && errno != EEXIST) return -1;
    *c = '/';
  }
  return mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/** Listens on path; -1 with msg set. */
static int control_listen(const char *path, const char *tun, char *msg, size_t cap) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    if (mkdirs(dir) < 0) {
      snprintf(msg, cap, "cannot make %s for the control socket: %s (give --control <path>)", dir, errno_name(errno));
      return -1;
    }
  }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(msg, cap, "cannot listen on %s: ENAMETOOLONG", path);
    return -1;
  }
  strcpy(sa.sun_path, path);
  for (int attempt = 0;; attempt++) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
      snprintf(msg, cap, "cannot listen on %s: %s", path, errno_name(errno));
      return -1;
    }
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 16) == 0) {
      chmod(path, 0600);
      return s;
    }
    int e = errno;
    close(s);
    if (e != EADDRINUSE || attempt > 0) {
      snprintf(msg, cap, "cannot listen on %s: %s", path, errno_name(e));
      return -1;
    }
    int ce;
    int c = connect_unix(path, &ce);
    if (c >= 0) {
      close(c);
      snprintf(msg, cap, "another mape instance answers on %s (it serves %s: stop it first)", path, tun);
      return -1;
    }
    unlink(path);  // stale: left by an instance that did not exit cleanly
  }
}

static void control_close(int fd, const char *path) {
  if (fd < 0) return;
  close(fd);
  unlink(path);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) return;
  *slash = 0;
  const char *base = strrchr(dir, '/');
  base = base ? base + 1 : dir;
  if (!strncmp(base, "netns-", 6)) rmdir(dir);
}

// ---------------------------------------------------------------------------
// The instance.

#define HOST_COUNTERS 7
static const char *const host_counter_names[HOST_COUNTERS] = {"tun-read-batches", "tun-read-errors", "tun-write-errors", "tun-write-blocked",
                                                              "tun-tso-packets", "tun-tso-dropped", "tun-read-calls"};
enum { TUN_READ_BATCHES, TUN_READ_ERRORS, TUN_WRITE_ERRORS, TUN_WRITE_BLOCKED, TUN_TSO_PACKETS, TUN_TSO_DROPPED, TUN_READ_CALLS };

#define MAX_CLIENTS 8
#define MAX_REQUEST 256

static struct {
  int mode;
  const char *tun;
  char ctl_path[4096];
  int tun_fd, ctl_fd, ep, sig_fd;
  int existed, want_routes;
  uint32_t rflags, wflags;
  int32_t batch;
  int64_t started_ms;
  int tunnel_mtu;
  char status[1024];
  uint64_t host_p[HOST_COUNTERS], host_b[HOST_COUNTERS];
  int finish, code;
  const char *state;     // --state <file>: the NAT state image (image.c)
  long state_interval;   // --state-interval <s> (0 = only at exit)
  int state_fd;          // its timerfd (epoll tag IMAGE_EPOLL_TAG)
  struct {
    int fd;
    size_t len;
    char buf[MAX_REQUEST + 1];
  } clients[MAX_CLIENTS];
} S = {.tun_fd = -1, .ctl_fd = -1, .ep = -1, .sig_fd = -1, .state_interval = IMAGE_DEFAULT_INTERVAL, .state_fd = -1};

static int32_t in_off[MAX_BATCH], in_cap[MAX_BATCH], in_len[MAX_BATCH];
static int32_t out_off[MAX_SLOTS], out_len[MAX_SLOTS], out_res[MAX_SLOTS];
static uint64_t cp[MAX_COUNTERS + HOST_COUNTERS], cb[MAX_COUNTERS + HOST_COUNTERS];
static char cnames[MAX_COUNTERS + HOST_COUNTERS][64];
static char answer[131072];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("mape %s: ", mode_name(S.mode));
  vprintf(fmt, ap);
  putchar('\n');
  fflush(stdout);
  va_end(ap);
}
static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "mape %s: ", mode_name(S.mode));
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  fflush(stderr);
  va_end(ap);
}

static void remove_routes(void) {
  for (int i = nadded - 1; i >= 0; i--) route_ip(&added[i], S.tun, "del");
  nadded = 0;
}

/** Undoes what the instance did (also on a trap: no module call here). */
static void cleanup(void) {
  remove_routes();
  dns_close();
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (S.clients[i].fd > 0) close(S.clients[i].fd), S.clients[i].fd = 0;
  control_close(S.ctl_fd, S.ctl_path);
  S.ctl_fd = -1;
  if (S.tun_fd >= 0) close(S.tun_fd);
  S.tun_fd = -1;
}

/** Module counters then host counters, current. */
static int all_counters(void) {
  mod_counters(cp, cb);
  int n = counter_count;
  for (int i = 0; i < n; i++) memcpy(cnames[i], counter_names[i], 64);
  for (int i = 0; i < HOST_COUNTERS; i++) {
    snprintf(cnames[n + i], 64, "%s", host_counter_names[i]);
    cp[n + i] = S.host_p[i];
    cb[n + i] = S.host_b[i];
  }
  return n + HOST_COUNTERS;
}

size_t format_counters(char *buf, size_t cap, int n, char names[][64], const uint64_t *p, const uint64_t *b, int all) {
  int w0 = 0, w1 = 7, w2 = 5, rows = 0;
  char num[24];
  for (int i = 0; i < n; i++) {
    if (!all && !p[i] && !b[i]) continue;
    rows++;
    int l = (int)strlen(names[i]);
    if (l > w0) w0 = l;
    l = snprintf(num, sizeof num, "%llu", (unsigned long long)p[i]);
    if (l > w1) w1 = l;
    l = snprintf(num, sizeof num, "%llu", (unsigned long long)b[i]);
    if (l > w2) w2 = l;
  }
  if (rows == 0) return (size_t)snprintf(buf, cap, "  (all counters are zero)\n");
  size_t at = (size_t)snprintf(buf, cap, "  %-*s  %*s  %*s\n", w0, "", w1, "packets", w2, "bytes");
  for (int i = 0; i < n && at < cap; i++) {
    if (!all && !p[i] && !b[i]) continue;
    at += (size_t)snprintf(buf + at, cap - at, "  %-*s  %*llu  %*llu\n", w0, names[i], w1, (unsigned long long)p[i], w2, (unsigned long long)b[i]);
  }
  return at < cap ? at : cap - 1;
}

/** A JSON string (control characters escaped as JSON.stringify does). */
static size_t json_str(char *out, size_t cap, const char *s) {
  size_t at = 0;
  if (at < cap) out[at++] = '"';
  for (const unsigned char *c = (const unsigned char *)s; *c && at + 7 < cap; c++) {
    if (*c == '"' || *c == '\\') out[at++] = '\\', out[at++] = (char)*c;
    else if (*c == '\n') out[at++] = '\\', out[at++] = 'n';
    else if (*c < 0x20) at += (size_t)snprintf(out + at, cap - at, "\\u%04x", *c);
    else out[at++] = (char)*c;
  }
  if (at < cap) out[at++] = '"';
  return at;
}

/** ,"<key>":"…": the n bytes of text the module just wrote into its text buffer, as a JSON string. */
static size_t text_key(size_t at, size_t cap, const char *key, uint32_t n) {
  static char text[65536];
  if (n >= sizeof text) n = sizeof text - 1;
  mem_copy_out((uint8_t *)text, Z_mapeZ_textBuffer(&mod), n);
  text[n] = 0;
  if (at + strlen(key) + 8 >= cap) return at;
  at += (size_t)snprintf(answer + at, cap - at, ",\"%s\":", key);
  return at + json_str(answer + at, cap - at, text);
}

/**
 * The CE's port budget as the module writes it (assembly/nat/report.ts):
 * ,"portBudget":{…JSON…},"portBudgetText":"…" — the same keys as the Node
 * host's answer, so either `mape stats` prints it.
 */
static size_t port_budget_keys(size_t at, size_t cap) {
  static char text[65536];
  mod_where = "portBudget";
  uint32_t n = (uint32_t)Z_mapeZ_portBudget(&mod, 1);
  if (n >= sizeof text) n = sizeof text - 1;
  mem_copy_out((uint8_t *)text, Z_mapeZ_textBuffer(&mod), n);
  text[n] = 0;
  if (at + n + 32 < cap) {
    at += (size_t)snprintf(answer + at, cap - at, ",\"portBudget\":%s", text);
    mod_where = "portBudget";
    at = text_key(at, cap, "portBudgetText", (uint32_t)Z_mapeZ_portBudget(&mod, 0));
  }
  return at < cap ? at : cap - 1;
}

static size_t control_answer(const char *cmd) {
  size_t at = 0, cap = sizeof answer;
  if (strcmp(cmd, "stats") && strcmp(cmd, "status")) {
    char what[64], e[160];
    snprintf(what, 41, "%s", cmd);
    snprintf(e, sizeof e, "unknown request '%s' (stats, status)", what);
    at += (size_t)snprintf(answer + at, cap - at, "{\"error\":");
    at += json_str(answer + at, cap - at, e);
    at += (size_t)snprintf(answer + at, cap - at, "}\n");
    return at;
  }
  at += (size_t)snprintf(answer, cap, "{\"mode\":\"%s\",\"tun\":", mode_name(S.mode));
  at += json_str(answer + at, cap - at, S.tun);
  at += (size_t)snprintf(answer + at, cap - at, ",\"pid\":%d,\"uptimeMs\":%lld,", (int)getpid(), (long long)(wall_ms() - S.started_ms));
  if (!strcmp(cmd, "status")) {
    at += (size_t)snprintf(answer + at, cap - at, "\"status\":");
    at += json_str(answer + at, cap - at, S.status);
  } else {
    int n = all_counters();
    at += (size_t)snprintf(answer + at, cap - at, "\"counters\":{");
    for (int i = 0; i < n && at + 128 < cap; i++)
      at += (size_t)snprintf(answer + at, cap - at, "%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}", i ? "," : "", cnames[i], (unsigned long long)cp[i],
                             (unsigned long long)cb[i]);
    at += (size_t)snprintf(answer + at, cap - at, "}");
    if (S.mode == MODE_CE) {
      at += pcp_inbound_json(answer + at, cap - at);  // inbound ports (pcp.c)
      mod_where = "inboundText";
      at = text_key(at, cap, "inboundText", (uint32_t)Z_mapeZ_inboundText(&mod));
    }
    if (at < cap) at += diag_json(answer + at, cap - at);  // rules: where from, when, the BMR, the fetcher's status
    if (S.mode == MODE_CE) at = port_budget_keys(at, cap);
  }
  at += (size_t)snprintf(answer + at, cap - at, "}\n");
  return at < cap ? at : cap - 1;
}

static void client_close(int k) {
  epoll_ctl(S.ep, EPOLL_CTL_DEL, S.clients[k].fd, NULL);
  close(S.clients[k].fd);
  S.clients[k].fd = 0;
  S.clients[k].len = 0;
}

static void client_readable(int k) {
  for (;;) {
    ssize_t r = read(S.clients[k].fd, S.clients[k].buf + S.clients[k].len, MAX_REQUEST + 1 - S.clients[k].len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r <= 0) break;
    S.clients[k].len += (size_t)r;
    S.clients[k].buf[S.clients[k].len] = 0;
    char *nl = memchr(S.clients[k].buf, '\n', S.clients[k].len);
    if (!nl && S.clients[k].len <= MAX_REQUEST) continue;
    if (nl) *nl = 0;
    char *cmd = S.clients[k].buf;
    while (*cmd == ' ' || *cmd == '\t' || *cmd == '\r') cmd++;
    size_t l = strlen(cmd);
    while (l && (cmd[l - 1] == ' ' || cmd[l - 1] == '\t' || cmd[l - 1] == '\r')) cmd[--l] = 0;
    size_t n = control_answer(cmd);
    // The answer is a few KiB: it fits the socket buffer; a client that
    // does not read loses it (the write does not wait).
    (void)!write(S.clients[k].fd, answer, n);
    break;
  }
  client_close(k);
}

static void control_accept(void) {
  for (;;) {
    int c = accept4(S.ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    int k = 0;
    while (k < MAX_CLIENTS && S.clients[k].fd > 0) k++;
    if (k == MAX_CLIENTS) {
      close(c);  // busy: the client retries
      continue;
    }
    S.clients[k].fd = c;
    S.clients[k].len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 16 + (uint64_t)k};
    epoll_ctl(S.ep, EPOLL_CTL_ADD, c, &ev);
  }
}

// ---- the data path ----

static void count_unwritten(int which, int32_t from, int32_t to) {
  for (int32_t j = from; j < to; j++) {
    S.host_p[which]++;
    S.host_b[which] += (uint64_t)out_len[j];
  }
}

static void fatal_tun(const char *what, int err) {
  warn("the TUN failed: tun.%s(fd %d): %s (%s)", what, S.tun_fd, strerror(err), errno_name(err));
  S.finish = 1;
  S.code = 1;
}

/** Writes outputs 0..m straight from the module's memory. */
static void write_outputs(int32_t m) {
  if (m <= 0) return;
  if (m > geo.slot_count) rt_trap_exit("process returned a bad output count");
  for (int32_t j = 0; j < m; j++) {
    out_off[j] = (int32_t)mem_u32(geo.out_offsets + 4 * (uint32_t)j);
    out_len[j] = mem_i32(geo.out_lengths + 4 * (uint32_t)j);
    if (out_len[j] < 0 || out_off[j] < 0) rt_trap_exit("process returned a bad output");
    mem_check((uint32_t)out_off[j], (uint32_t)out_len[j]);
  }
  int err = 0;
  int32_t done = tunio_write_batch(S.tun_fd, mem_data(), out_off, out_len, (uint32_t)m, out_res, S.wflags, &err);
  if (done < 0) {
    count_unwritten(TUN_WRITE_ERRORS, 0, m);
    fatal_tun("writeBatch", err);
    return;
  }
  // A packet refused with EAGAIN (io_uring completes each write on its own,
  // so a full queue refuses single packets mid-batch) is a blocked write.
  for (int32_t j = 0; j < done; j++)
    if (out_res[j] < 0) {
      int c = out_res[j] == -EAGAIN || out_res[j] == -EWOULDBLOCK ? TUN_WRITE_BLOCKED : TUN_WRITE_ERRORS;
      S.host_p[c]++;
      S.host_b[c] += (uint64_t)out_len[j];
    }
  if (done < m) count_unwritten(TUN_WRITE_BLOCKED, done, m);
}

static void pump(void) {
  uint64_t staged = 0;
  // Past 64 batches only while reads wait staged (each such call leaves fewer).
  for (int b = 0; (b < 64 || staged) && !S.finish; b++) {
    int err = 0;
    tunio_stats st = {0};
    int32_t n = tunio_read_batch(S.tun_fd, mem_data(), in_off, in_cap, in_len, (uint32_t)S.batch, S.rflags, &st, &err);
    S.host_p[TUN_TSO_PACKETS] += st.tso_packets;
    S.host_b[TUN_TSO_PACKETS] += st.tso_bytes;
    S.host_p[TUN_TSO_DROPPED] += st.tso_dropped;
    S.host_b[TUN_TSO_DROPPED] += st.tso_dropped_bytes;
    S.host_p[TUN_READ_CALLS] += st.read_calls;
    staged = st.staged;
    if (n < 0) {
      S.host_p[TUN_READ_ERRORS]++;
      if (err == EBADF || err == EBADFD || err == ENODEV || err == ENXIO) fatal_tun("readBatch", err);
      return;
    }
    if (n == 0 && !staged) return;
    if (n == 0) continue;
    S.host_p[TUN_READ_BATCHES]++;
    for (int32_t i = 0; i < n; i++) mem_set_u32(geo.in_lengths + 4 * (uint32_t)i, (uint32_t)in_len[i]);
    mod_where = "process";
    write_outputs((int32_t)Z_mapeZ_process(&mod, (uint32_t)n, now_ms()));
    if (n < S.batch && !staged) return;
  }
}

static void tick(void) {
  mod_where = "process";
  write_outputs((int32_t)Z_mapeZ_process(&mod, 0, now_ms()));
  // The port budget: one line the first time a protocol's port set is
  // found full in a minute (the module notes those events).
  static int32_t exhaust_seen = 0;
  int32_t ev = (int32_t)Z_mapeZ_natExhaustCount(&mod);
  if (ev != exhaust_seen) {
    exhaust_seen = ev;
    int p = (int)Z_mapeZ_natExhaustProto(&mod, 0);
    uint32_t h = Z_mapeZ_natExhaustHost(&mod, 0);
    warn("port set full: %s, first refused or cut back for %u.%u.%u.%u (mape stats shows the port budget)", p == 6 ? "tcp" : p == 17 ? "udp" : "icmp",
         h >> 24, (h >> 16) & 255, (h >> 8) & 255, h & 255);
  }
}

// ---- bring-up and reload ----

static int add_routes(const route *list, int n, char *msg, size_t cap) {
  for (int i = 0; i < n; i++) {
    char t[256];
    route_text(&list[i], S.tun, "add", t, sizeof t);
    if (route_ip(&list[i], S.tun, "add") != 0) {
      snprintf(msg, cap, "ip %s: %s (a route to %s exists already? remove it, or run without --routes and add the routes yourself)", t, ip_out,
               list[i].dest);
      return -1;
    }
    if (nadded < MAX_ROUTES) added[nadded++] = list[i];
    say("route added: ip %s", t);
  }
  return 0;
}

static void print_routes(const route *list, int n) {
  say("add these routes (or run with --routes):");
  for (int i = 0; i < n; i++) {
    char t[256];
    route_text(&list[i], S.tun, "add", t, sizeof t);
    printf("  ip %s\n", t);
  }
  fflush(stdout);
}

static int sysctl_off(const char *path) {
  char b[8] = "";
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, b, sizeof b - 1);
  close(fd);
  return r > 0 && b[0] == '0';
}

static void environment_warnings(void) {
  if (sysctl_off("/proc/sys/net/ipv4/ip_forward"))
    warn("warning: IPv4 forwarding is off: %s packets will not reach %s (sysctl -w net.ipv4.ip_forward=1)", S.mode == MODE_CE ? "the LAN's" : "the internet's",
         S.tun);
  if (sysctl_off("/proc/sys/net/ipv6/conf/all/forwarding"))
    warn("warning: IPv6 forwarding is off: encapsulated packets from %s will not be forwarded (sysctl -w net.ipv6.conf.all.forwarding=1)", S.tun);
  if (S.mode != MODE_CE) return;
  int nbr = (int)Z_mapeZ_brCount(&mod);
  for (int i = 0; i < nbr; i++) {
    char a[INET6_ADDRSTRLEN];
    fmt_ipv6(Z_mapeZ_brAddress(&mod, (uint32_t)i), a);
    const char *args[] = {"-6", "route", "get", a, NULL};
    if (run_ip(args) != 0) {
      warn("warning: no IPv6 route to the BR %s: add one (e.g. a default route toward the ISP)", a);
      continue;
    }
    char pat[64];
    snprintf(pat, sizeof pat, " dev %s ", S.tun);
    strcat(ip_out, " ");
    if (strstr(ip_out, pat)) warn("warning: the IPv6 route to the BR %s points into %s: encapsulated packets would loop", a, S.tun);
  }
}

static int tunnel_mtu_capped(void) {
  int t = tunnel_mtu_of();
  return t < geo.capacity ? t : geo.capacity;
}

static int reload_argc;
static char **reload_argv;

static void reload(void) {
  char before[4096], after[4096], err[1024];
  identity(S.mode, before, sizeof before);
  if (cfg_apply(reload_argc, reload_argv, S.mode, NULL, err, sizeof err) < 0) {
    warn("reload failed, the running configuration stays: %s", err);
    return;
  }
  diag_applied(reload_argc, reload_argv);
  identity(S.mode, after, sizeof after);
  int same = !strcmp(before, after);
  mod_where = "start";
  Z_mapeZ_start(&mod, same ? 1 : 0);
  // What the module did (startKept), not what was asked, as host/runner.ts reloadSummary says it.
  int kept = Z_mapeZ_startKept(&mod) == 1;
  S.tunnel_mtu = tunnel_mtu_capped();
  status_line(S.mode, S.tun, S.tunnel_mtu, S.status, sizeof S.status);
  const char *what = S.mode == MODE_CE ? "BMR" : "rules", *state = S.mode == MODE_CE ? "sessions" : "fragment state";
  say("reloaded %s: %s %s, %s %s%s", cfg_label, what, same ? "unchanged" : "changed", state, kept ? "kept" : "reset", same ? "" : ", data path restarted");
  route next[MAX_ROUTES];
  int nn = routes_for(S.mode, S.tunnel_mtu, next);
  int differ = nn != nroutes;
  for (int i = 0; i < nn && !differ; i++) {
    int found = 0;
    for (int k = 0; k < nroutes; k++) found |= same_route(&next[i], &routes[k]);
    differ = !found;
  }
  if (differ) {
    if (S.want_routes) {
      for (int i = nadded - 1; i >= 0; i--) {
        int keep = 0;
        for (int k = 0; k < nn; k++) keep |= same_route(&added[i], &next[k]);
        if (keep) continue;
        char t[256];
        route_text(&added[i], S.tun, "del", t, sizeof t);
        if (route_ip(&added[i], S.tun, "del") == 0) say("route removed: ip %s", t);
        memmove(&added[i], &added[i + 1], (size_t)(nadded - i - 1) * sizeof added[0]);
        nadded--;
      }
      route fresh[MAX_ROUTES];
      int nf = 0;
      for (int k = 0; k < nn; k++) {
        int have = 0;
        for (int i = 0; i < nadded; i++) have |= same_route(&added[i], &next[k]);
        if (!have) fresh[nf++] = next[k];
      }
      char msg[1024];
      if (add_routes(fresh, nf, msg, sizeof msg) < 0) warn("%s", msg);
    } else print_routes(next, nn);
    memcpy(routes, next, sizeof next[0] * (size_t)nn);
    nroutes = nn;
  }
  if (!same) say("%s", S.status);
}

static const char *tun_open_message(int err) {
  switch (err) {
    case EPERM:
    case EACCES: return "not permitted: run as root (or with CAP_NET_ADMIN)";
    case ENOENT: return "no /dev/net/tun: load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)";
    case ENODEV:
    case ENXIO: return "the kernel has no TUN driver (CONFIG_TUN): load the tun module";
    case EBUSY: return "it is busy: another process has it open (another mape instance?)";
    case EINVAL: return "an interface of that name exists and is not a TUN device (or was made with other flags)";
    default: return NULL;
  }
}

static int valid_ifname(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 15) return 0;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == ':' || *c == '-')) return 0;
  return 1;
}

static int has_source(int argc, char **argv) {
  const char *flags[] = {"--config", "--dhcpv6", "--uci", "--rule", "--rules"};
  for (int i = 0; i < argc; i++)
    for (int k = 0; k < 5; k++) {
      size_t l = strlen(flags[k]);
      if (!strncmp(argv[i], flags[k], l) && (argv[i][l] == 0 || argv[i][l] == '=')) return 1;
    }
  return 0;
}

int cmd_serve(int mode, int argc, char **argv) {
  S.mode = mode;
  for (int i = 0; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      puts(mode == MODE_CE ? USAGE_ce : USAGE_br);
      return 0;
    }
  // A BR has no built-in default (host/runner.ts says so before anything else).
  if (mode == MODE_BR && !has_source(argc, argv)) {
    say_error("br: give the BR's configuration (--config, --dhcpv6, --uci, or --rule with --br <own address>)");
    return EXIT_USAGE;
  }
  uint8_t used[argc + 1];
  char err[1024];
  mod_start();
  if (cfg_apply(argc, argv, mode, used, err, sizeof err) < 0) {
    say_error("%s", err);
    return EXIT_CONFIG;
  }
  const char *tun = NULL, *control = NULL, *pcp = NULL;
  for (int i = 0; i < argc; i++) {
    if (used[i]) continue;
    const char *a = argv[i];
    const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
    size_t fl = eq ? (size_t)(eq - a) : strlen(a);
    int is_tun = fl == 5 && !strncmp(a, "--tun", 5), is_ctl = fl == 9 && !strncmp(a, "--control", 9);
    int is_pcp = mode == MODE_CE && fl == 5 && !strncmp(a, "--pcp", 5);
    if (is_tun || is_ctl || is_pcp) {
      const char *v;
      if (eq) v = eq + 1;
      else if (i + 1 < argc) v = argv[++i];
      else {
        say_error("%.*s needs a value", (int)fl, a);
        return EXIT_USAGE;
      }
      if (is_tun) {
        if (!valid_ifname(v)) {
          say_error("--tun: '%s' is not an interface name (1 to 15 letters, digits, . _ - :)", v);
          return EXIT_USAGE;
        }
        tun = v;
      } else if (is_pcp) pcp = v;
      else control = v;
    } else if (!strcmp(a, "--routes")) S.want_routes = 1;
    else if ((fl == 7 && !strncmp(a, "--state", 7)) || (fl == 16 && !strncmp(a, "--state-interval", 16))) {
      const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
      if (mode != MODE_CE) {
        say_error("%.*s is for a CE (a BR keeps no NAT state)", (int)fl, a);
        return EXIT_USAGE;
      }
      if (!v) {
        say_error("%.*s needs a value", (int)fl, a);
        return EXIT_USAGE;
      }
      if (fl == 7 && !*v) {
        say_error("--state needs a file name");
        return EXIT_USAGE;
      }
      if (fl == 7) S.state = v;
      else if ((S.state_interval = image_parse_interval(v)) < 0) {
        say_error("--state-interval: '%s' is not a number of seconds (0 = only at exit)", v);
        return EXIT_USAGE;
      }
    } else if (hb46pp_node_flag(a)) return EXIT_USAGE;
    else {
      say_error("%s: unknown argument '%s' (see 'mape %s --help')", mode_name(mode), a, mode_name(mode));
      return EXIT_USAGE;
    }
  }
  S.tun = tun ? tun : mode == MODE_CE ? "mape0" : "mapebr0";
  reload_argc = argc;
  reload_argv = argv;
  diag_applied(argc, argv);

  // RFC 6056 §3.3 / RFC 7597 §10: a live instance seeds the NAT from the OS.
  uint32_t seed = 1;
  if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = (uint32_t)wall_ms() ^ (uint32_t)getpid();
  if (mod_init(SLOTS, 0, seed) != 0) {
    say_error("data path init(%d slots, 0 sessions) does not fit the module's memory", SLOTS);
    return EXIT_CONFIG;
  }
  mod_where = "start";
  if (Z_mapeZ_start(&mod, 0) != 0) {
    say_error("data path start failed: configure a CE (with its end-user prefix) or a BR first");
    return EXIT_CONFIG;
  }
  S.batch = geo.batch_max;
  for (int32_t i = 0; i < S.batch; i++) {
    in_off[i] = (int32_t)Z_mapeZ_inputPtr(&mod, (uint32_t)i);
    in_cap[i] = geo.capacity;
    mem_check((uint32_t)in_off[i], (uint32_t)in_cap[i]);
  }
  S.tunnel_mtu = tunnel_mtu_capped();
  if (S.tunnel_mtu < tunnel_mtu_of()) warn("tunnel MTU lowered to %d: the module's slots hold %d-byte packets", S.tunnel_mtu, geo.capacity);

  // ---- the TUN ----
  const char *show[] = {"-o", "link", "show", "dev", S.tun, NULL};
  S.existed = run_ip(show) == 0;
  const char *co = getenv("MAPE_TUN_COALESCE");
  int coalesce = !(co && !strcmp(co, "0"));
  int terr = 0;
  S.tun_fd = tunio_open(S.tun, coalesce ? IFF_VNET_HDR : 0, NULL, NULL, &terr);
  if (S.tun_fd < 0) {
    const char *m = tun_open_message(terr);
    if (m) say_error("cannot open TUN %s: %s", S.tun, m);
    else say_error("cannot open TUN %s: %s (%s)", S.tun, strerror(terr), errno_name(terr));
    return EXIT_CONFIG;
  }
  S.rflags = coalesce ? TUNIO_VNET : 0;
  S.wflags = coalesce ? TUNIO_VNET | TUNIO_COALESCE_TCP4 : 0;
  // The writes of a batch in one io_uring call (MAPE_TUN_URING=0: one writev
  // each), and its reads, up to 64 per call (MAPE_TUN_URING_READ=0, or
  // MAPE_TUN_URING=0: one readv each).
  const char *ur = getenv("MAPE_TUN_URING"), *urr = getenv("MAPE_TUN_URING_READ");
  if (coalesce && !(ur && !strcmp(ur, "0"))) {
    S.wflags |= TUNIO_URING;
    if (!(urr && !strcmp(urr, "0"))) S.rflags |= TUNIO_URING;
  }
  // TSO super-packets from the kernel, cut in tunio.c (MAPE_TUN_TSO=0: off;
  // a batch must have room for one super-packet's segments).
  const char *tso = getenv("MAPE_TUN_TSO");
  if (coalesce && !(tso && !strcmp(tso, "0")) && S.batch >= TUNIO_TSO_SEGS) {
    if (tunio_offload(S.tun_fd, S.tun, &terr) == 0) S.rflags |= TUNIO_TSO;
    else warn("TUN %s: no TSO from the kernel (TUNSETOFFLOAD / gso_max_segs: %s): every segment is one read", S.tun, strerror(terr));
  }
  mod_cleanup = cleanup;
  char msg[2048];
  if (!S.existed) {
    char mtu[16];
    snprintf(mtu, sizeof mtu, "%d", S.tunnel_mtu > 1500 ? S.tunnel_mtu : 1500);
    const char *a1[] = {"link", "set", S.tun, "addrgenmode", "none", NULL};
    const char *a2[] = {"link", "set", S.tun, "mtu", mtu, NULL};
    if (run_ip(a1) != 0 || run_ip(a2) != 0) {
      snprintf(msg, sizeof msg, "ip link set %s: %s", S.tun, ip_out);
      goto fail;
    }
  } else {
    const char *a1[] = {"link", "set", "dev", S.tun, "addrgenmode", "none", NULL};
    run_ip(a1);  // an attached device the operator prepared: leave it
  }
  const char *up[] = {"link", "set", "dev", S.tun, "up", NULL};
  if (run_ip(up) != 0) {
    snprintf(msg, sizeof msg, "ip link set dev %s up: %s", S.tun, ip_out);
    goto fail;
  }

  // ---- routes ----
  nroutes = routes_for(mode, S.tunnel_mtu, routes);
  if (S.want_routes) {
    if (add_routes(routes, nroutes, msg, sizeof msg) < 0) goto fail;
  } else print_routes(routes, nroutes);
  environment_warnings();

  // ---- the loop, the control socket, signals ----
  status_line(mode, S.tun, S.tunnel_mtu, S.status, sizeof S.status);
  if (control) snprintf(S.ctl_path, sizeof S.ctl_path, "%s", control);
  else control_path(S.tun, S.ctl_path, sizeof S.ctl_path);
  S.ctl_fd = control_listen(S.ctl_path, S.tun, msg, sizeof msg);
  if (S.ctl_fd < 0) goto fail;
  S.started_ms = wall_ms();

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  S.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  S.ep = epoll_create1(EPOLL_CLOEXEC);
  if (S.sig_fd < 0 || S.ep < 0) {
    snprintf(msg, sizeof msg, "cannot set up the event loop: %s", errno_name(errno));
    goto fail;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
  epoll_ctl(S.ep, EPOLL_CTL_ADD, S.tun_fd, &ev);
  ev.data.u64 = 2;
  epoll_ctl(S.ep, EPOLL_CTL_ADD, S.ctl_fd, &ev);
  ev.data.u64 = 3;
  epoll_ctl(S.ep, EPOLL_CTL_ADD, S.sig_fd, &ev);
  int pcp_fd = -1;
  if (pcp) {  // PCP / NAT-PMP on the LAN address (pcp.c)
    if ((pcp_fd = pcp_open(pcp, msg, sizeof msg)) < 0) goto fail;
    ev.data.u64 = PCP_TAG;
    epoll_ctl(S.ep, EPOLL_CTL_ADD, pcp_fd, &ev);
    say("PCP / NAT-PMP on %s port 5351", pcp);
  }

  // --state: the NAT state image, read before any traffic, written every
  // --state-interval seconds (a timerfd) and at exit (image.c).
  char sline[4400];
  if (S.state) {
    image_load(S.state, now_ms(), sline, sizeof sline);
    if (sline[0]) say("%s", sline);
    if (S.state_interval > 0 && (S.state_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) >= 0) {
      struct itimerspec its = {.it_interval = {S.state_interval, 0}, .it_value = {S.state_interval, 0}};
      timerfd_settime(S.state_fd, 0, &its, NULL);
      ev.data.u64 = IMAGE_EPOLL_TAG;
      epoll_ctl(S.ep, EPOLL_CTL_ADD, S.state_fd, &ev);
    }
  }
  // --dns-proxy (CE): the LAN's DNS over IPv6 to the upstreams (dns.c).
  int dns = mode == MODE_CE ? dns_open(S.ep, msg, sizeof msg) : 0;
  if (dns < 0) goto fail;
  if (dns > 0) say("DNS proxy on %s (udp, tcp)", dns_address());

  say("%s (pid %d, control %s)", S.status, (int)getpid(), S.ctl_path);
  double next_tick = now_ms() + 1000;
  while (!S.finish) {
    struct epoll_event evs[16];
    double wait = next_tick - now_ms();
    int n = epoll_wait(S.ep, evs, 16, wait <= 0 ? 0 : (int)ceil(wait));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n && !S.finish; i++) {
      uint64_t what = evs[i].data.u64;
      if (what == 1) pump();
      else if (what == 2) control_accept();
      else if (what == 3) {
        struct signalfd_siginfo si;
        while (read(S.sig_fd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) S.finish = 1;
          else if (si.ssi_signo == SIGHUP) reload();
          else if (si.ssi_signo == SIGUSR1) {
            int nc = all_counters();
            size_t l = format_counters(answer, sizeof answer, nc, cnames, cp, cb, 0);
            fprintf(stderr, "mape %s %s counters:\n", mode_name(mode), S.tun);
            fwrite(answer, 1, l, stderr);
            fflush(stderr);
          }
        }
      } else if (what >= 16 && what < 16 + MAX_CLIENTS) client_readable((int)(what - 16));
      else if (what == PCP_TAG) pcp_readable(pcp_fd, tick);
      else if (what == IMAGE_EPOLL_TAG) {
        uint64_t ticks;
        if (read(S.state_fd, &ticks, sizeof ticks) == sizeof ticks && image_save(S.state, now_ms(), sline, sizeof sline) != 0) warn("%s", sline);
      }
      else if (what >= DNS_TAG_FIRST && what < DNS_TAG_END) dns_event(what, evs[i].events);
    }
    if (now_ms() >= next_tick) {
      tick();
      dns_poll();
      next_tick = now_ms() + 1000;
    }
  }
  if (S.state) {
    if (image_save(S.state, now_ms(), sline, sizeof sline) == 0) say("%s", sline);
    else warn("%s", sline);
    if (S.state_fd >= 0) close(S.state_fd);
  }
  int had_routes = nadded > 0;
  if (pcp_fd >= 0) close(pcp_fd);
  mod_cleanup = NULL;
  cleanup();
  say("stopped%s%s%s%s", had_routes ? ", routes removed" : "", S.existed ? "" : ", ", S.existed ? "" : S.tun, S.existed ? "" : " removed");
  return S.code;

fail:
  mod_cleanup = NULL;
  cleanup();
  say_error("%s", msg);
  return EXIT_CONFIG;
}

// ---------------------------------------------------------------------------
// `mape stats`: asks an instance (either host's) over its control socket.

static char reply[262144];

// A minimal reader of the answer's JSON (objects, strings, numbers: what
// control.ts sends), for the human output; --json re-indents the text as
// JSON.stringify(answer, null, 2) does.
typedef struct {
  const char *p, *end;
} json;

static void ws(json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static int jstring(json *j, char *out, size_t cap) {
  ws(j);
  if (j->p >= j->end || *j->p != '"') return -1;
  j->p++;
  size_t at = 0;
  while (j->p < j->end && *j->p != '"') {
    char c = *j->p++;
    if (c == '\\' && j->p < j->end) {
      c = *j->p++;
      if (c == 'n') c = '\n';
      else if (c == 'u') {
        j->p += 4;
        c = '?';
      }
    }
    if (at + 1 < cap) out[at++] = c;
  }
  if (j->p >= j->end) return -1;
  j->p++;
  out[at] = 0;
  return 0;
}

static int jskip(json *j);

static int jnumber(json *j, double *v) {
  ws(j);
  char *e;
  *v = strtod(j->p, &e);
  if (e == j->p) return -1;
  j->p = e;
  return 0;
}

static int jskip(json *j) {
  ws(j);
  if (j->p >= j->end) return -1;
  char c = *j->p;
  char tmp[256];
  if (c == '"') return jstring(j, tmp, sizeof tmp);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) return j->p++, 0;
    for (;;) {
      if (c == '{') {
        if (jstring(j, tmp, sizeof tmp) < 0) return -1;
        ws(j);
        if (j->p >= j->end || *j->p++ != ':') return -1;
      }
      if (jskip(j) < 0) return -1;
      ws(j);
      if (j->p < j->end && *j->p == ',') {
        j->p++;
        continue;
      }
      if (j->p < j->end && *j->p == close) return j->p++, 0;
      return -1;
    }
  }
  if (!strncmp(j->p, "true", 4)) return j->p += 4, 0;
  if (!strncmp(j->p, "false", 5)) return j->p += 5, 0;
  if (!strncmp(j->p, "null", 4)) return j->p += 4, 0;
  double v;
  return jnumber(j, &v);
}

/** JSON.stringify(value, null, 2) of compact JSON text. */
static void pretty(const char *s, size_t n) {
  int depth = 0, in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_str) {
      putchar(c);
      if (c == '\\' && i + 1 < n) putchar(s[++i]);
      else if (c == '"') in_str = 0;
      continue;
    }
    switch (c) {
      case '"': in_str = 1; putchar(c); break;
      case '{':
      case '[':
        if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
          putchar(c);
          putchar(s[++i]);
          break;
        }
        depth++;
        printf("%c\n%*s", c, 2 * depth, "");
        break;
      case '}':
      case ']':
        depth--;
        printf("\n%*s%c", 2 * depth, "", c);
        break;
      case ',': printf(",\n%*s", 2 * depth, ""); break;
      case ':': fputs(": ", stdout); break;
      case ' ': case '\n': case '\r': case '\t': break;
      default: putchar(c);
    }
  }
  putchar('\n');
}

static char snames[MAX_COUNTERS + HOST_COUNTERS][64];
static uint64_t sp[MAX_COUNTERS + HOST_COUNTERS], sb[MAX_COUNTERS + HOST_COUNTERS];

int cmd_stats(int argc, char **argv) {
  const char *tun = "mape0", *path = NULL;
  int json_out = 0, all = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
    size_t fl = eq ? (size_t)(eq - a) : strlen(a);
    int is_tun = fl == 5 && !strncmp(a, "--tun", 5), is_ctl = fl == 9 && !strncmp(a, "--control", 9);
    if (is_tun || is_ctl) {
      const char *v;
      if (eq) v = eq + 1;
      else if (i + 1 < argc) v = argv[++i];
      else {
        say_error("%.*s needs a value", (int)fl, a);
        return EXIT_USAGE;
      }
      if (is_tun) tun = v;
      else path = v;
    } else if (!strcmp(a, "--json")) json_out = 1;
    else if (!strcmp(a, "--all")) all = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      puts(USAGE_stats);
      return 0;
    } else {
      say_error("stats: unknown argument '%s' (see 'mape stats --help')", a);
      return EXIT_USAGE;
    }
  }
  char cpath[4096];
  if (path) snprintf(cpath, sizeof cpath, "%s", path);
  else control_path(tun, cpath, sizeof cpath);
  int err = 0;
  int s = connect_unix(cpath, &err);
  if (s < 0) {
    if (err == ENOENT || err == ECONNREFUSED)
      say_error("no mape instance is running there (%s: %s); give --tun <name> or --control <path>, and run in the instance's network namespace", cpath,
                errno_name(err));
    else if (err == EACCES) say_error("%s: permission denied (run as root)", cpath);
    else say_error("%s: %s", cpath, errno_name(err));
    return EXIT_CONFIG;
  }
  struct timeval tv = {5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  signal(SIGPIPE, SIG_IGN);
  write_all(s, "stats\n", 6);
  size_t got = 0;
  for (;;) {
    ssize_t r = read(s, reply + got, sizeof reply - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      close(s);
      say_error("no answer from %s within 5000 ms", cpath);
      return EXIT_CONFIG;
    }
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof reply - 1) break;
  }
  close(s);
  reply[got] = 0;
  while (got && (reply[got - 1] == '\n' || reply[got - 1] == ' ')) reply[--got] = 0;
  // Read the object: mode, tun, pid, uptimeMs, counters (or error).
  json j = {reply, reply + got};
  char key[128], mode[32] = "", tunname[64] = "", errtext[512] = "";
  static char budget[65536], inbound[65536];
  budget[0] = inbound[0] = 0;
  double pid = 0, up = 0;
  int n = 0, ok = 0;
  ws(&j);
  if (j.p < j.end && *j.p == '{') {
    j.p++;
    ok = 1;
    for (;;) {
      ws(&j);
      if (j.p < j.end && *j.p == '}') break;
      if (jstring(&j, key, sizeof key) < 0) { ok = 0; break; }
      ws(&j);
      if (j.p >= j.end || *j.p++ != ':') { ok = 0; break; }
      int r = 0;
      if (!strcmp(key, "mode")) r = jstring(&j, mode, sizeof mode);
      else if (!strcmp(key, "tun")) r = jstring(&j, tunname, sizeof tunname);
      else if (!strcmp(key, "error")) r = jstring(&j, errtext, sizeof errtext);
      else if (!strcmp(key, "pid")) r = jnumber(&j, &pid);
      else if (!strcmp(key, "uptimeMs")) r = jnumber(&j, &up);
      else if (!strcmp(key, "portBudgetText")) r = jstring(&j, budget, sizeof budget);
      else if (!strcmp(key, "inboundText")) r = jstring(&j, inbound, sizeof inbound);
      else if (!strcmp(key, "counters")) {
        ws(&j);
        if (j.p >= j.end || *j.p++ != '{') { ok = 0; break; }
        for (;;) {
          ws(&j);
          if (j.p < j.end && *j.p == '}') { j.p++; break; }
          if (n >= MAX_COUNTERS + HOST_COUNTERS || jstring(&j, snames[n], 64) < 0) { r = -1; break; }
          ws(&j);
          if (j.p >= j.end || *j.p++ != ':') { r = -1; break; }
          ws(&j);
          if (j.p >= j.end || *j.p++ != '{') { r = -1; break; }
          sp[n] = sb[n] = 0;
          for (;;) {
            char k2[32];
            double v = 0;
            if (jstring(&j, k2, sizeof k2) < 0) { r = -1; break; }
            ws(&j);
            if (j.p >= j.end || *j.p++ != ':' || jnumber(&j, &v) < 0) { r = -1; break; }
            if (!strcmp(k2, "packets")) sp[n] = (uint64_t)v;
            else if (!strcmp(k2, "bytes")) sb[n] = (uint64_t)v;
            ws(&j);
            if (j.p < j.end && *j.p == ',') { j.p++; continue; }
            if (j.p < j.end && *j.p == '}') { j.p++; break; }
            r = -1;
            break;
          }
          if (r < 0) break;
          n++;
          ws(&j);
          if (j.p < j.end && *j.p == ',') j.p++;
        }
      } else r = jskip(&j);
      if (r < 0) { ok = 0; break; }
      ws(&j);
      if (j.p < j.end && *j.p == ',') j.p++;
    }
  }
  if (!ok) {
    char head[64];
    snprintf(head, sizeof head, "%.60s", reply);
    char q[160];
    json_str(q, sizeof q, head);
    say_error("%s: not a mape control socket (answer: %s)", cpath, q);
    return EXIT_CONFIG;
  }
  if (errtext[0]) {
    say_error("%s", errtext);
    return EXIT_CONFIG;
  }
  if (json_out) {
    pretty(reply, got);
    return 0;
  }
  printf("%s on %s (pid %.0f, up %.0f s)\n", mode, tunname, pid, floor(up / 1000 + 0.5));
  diag_print(reply);
  // Texts the instance's module rendered: the same from either host.
  fputs(inbound, stdout);
  fputs(budget, stdout);
  size_t l = format_counters(answer, sizeof answer, n, snames, sp, sb, all);
  fwrite(answer, 1, l, stdout);
  return 0;
}
