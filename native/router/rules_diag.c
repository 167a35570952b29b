// `mape stats`' "configuration" and "provisioning" keys for the router
// program (host/runner.ts rulesDiagnostics, host/provision/state.ts
// snapshot): where the rules in force came from and when, the rule file's
// format, rule counts, matched rule (the BMR), ttl, and the interface id
// style; with `--rules <file>`, the OpenWrt HB46PP fetcher's status file
// (<file>.status, written by openwrt/files/usr/share/mape/hb46pp.sh) as
// "provisioning", with nextInS counted now.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "host.h"
#include "mod.h"
#include "rules_diag.h"

static char rules_path[1024];
static time_t applied_at;

void diag_applied(int argc, char **argv) {
  applied_at = time(NULL);
  rules_path[0] = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--rules") && i + 1 < argc) snprintf(rules_path, sizeof rules_path, "%s", argv[i + 1]);
    else if (!strncmp(argv[i], "--rules=", 8)) snprintf(rules_path, sizeof rules_path, "%s", argv[i] + 8);
  }
}

/** A local setting of the option bytes in force (OPTION_MAPE_LOCAL 0xFF01), -1 when absent. */
static int local_setting(uint32_t code) {
  uint32_t buf = Z_mapeZ_configBuffer(&mod);
  int32_t len = cfg_encoded_length;
  for (int32_t i = 0; i + 4 <= len;) {
    uint32_t c = (uint32_t)mem_u8(buf + (uint32_t)i) << 8 | mem_u8(buf + (uint32_t)i + 1);
    int32_t l = mem_u8(buf + (uint32_t)i + 2) << 8 | mem_u8(buf + (uint32_t)i + 3);
    if (c == 0xff01)
      for (int32_t j = i + 4; j + 4 <= i + 4 + l && j + 4 <= len;) {
        uint32_t sc = (uint32_t)mem_u8(buf + (uint32_t)j) << 8 | mem_u8(buf + (uint32_t)j + 1);
        int32_t sl = mem_u8(buf + (uint32_t)j + 2) << 8 | mem_u8(buf + (uint32_t)j + 3);
        if (sc == code && sl == 1) return mem_u8(buf + (uint32_t)j + 4);
        j += 4 + sl;
      }
    i += 4 + l;
  }
  return -1;
}

static size_t put_str(char *out, size_t cap, const char *s) {
  size_t at = 0;
  if (at < cap) out[at++] = '"';
  for (const unsigned char *c = (const unsigned char *)s; *c && at + 7 < cap; c++) {
    if (*c == '"' || *c == '\\') out[at++] = '\\', out[at++] = (char)*c;
    else if (*c < 0x20) at += (size_t)snprintf(out + at, cap - at, "\\u%04x", *c);
    else out[at++] = (char)*c;
  }
  if (at < cap) out[at++] = '"';
  return at;
}

#define ADD(...) (at += (size_t)snprintf(out + at, at < cap ? cap - at : 0, __VA_ARGS__))

size_t diag_json(char *out, size_t cap) {
  size_t at = 0;
  char iso[32];
  strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&applied_at));
  ADD(",\"configuration\":{\"from\":");
  if (at < cap) at += put_str(out + at, cap - at, cfg_label);
  ADD(",\"at\":\"%s\",\"interfaceId\":\"%s\"", iso, local_setting(2) == 1 ? "draft-03" : "rfc7597");
  int format = (int)Z_mapeZ_rulesFormat(&mod);
  if (rules_path[0] && format >= 1 && format <= 3) {
    static const char *names[] = {"hb46pp", "v6plus", "ocn"}, *paths[] = {"map_e.rules", "fmr", "basicMapRules"};
    int matched = (int)Z_mapeZ_rulesMatched(&mod), ttl = (int)Z_mapeZ_rulesTtl(&mod);
    ADD(",\"format\":\"%s\",\"rules\":%d,\"installed\":%d,", names[format - 1], (int)Z_mapeZ_rulesSeen(&mod), (int)Z_mapeZ_rulesInstalled(&mod));
    if (matched >= 0) ADD("\"matchedRule\":\"%s[%d]\"", paths[format - 1], matched);
    else ADD("\"matchedRule\":null");
    ADD(",\"mesh\":%s", Z_mapeZ_rulesMesh(&mod) ? "true" : "false");
    if (ttl >= 0) ADD(",\"ttl\":%d", ttl);
  }
  ADD("}");
  if (!rules_path[0] || at >= cap) return at < cap ? at : cap;
  // The fetcher's status: one JSON object on one line, at most 4 KiB.
  char path[1100], st[4096];
  snprintf(path, sizeof path, "%s.status", rules_path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return at;
  ssize_t n = read(fd, st, sizeof st - 1);
  close(fd);
  if (n <= 0) return at;
  st[n] = 0;
  while (n > 0 && (st[n - 1] == '\n' || st[n - 1] == ' ')) st[--n] = 0;
  if (n < 2 || st[0] != '{' || st[n - 1] != '}' || memchr(st, '\n', (size_t)n)) return at;
  st[n - 1] = 0;  // reopened below with nextInS
  const char *e = strstr(st, "\"nextAtEpoch\":");
  ADD(",\"provisioning\":%s", st);
  if (e) {
    long long next = strtoll(e + 14, NULL, 10), left = next - (long long)time(NULL);
    ADD(",\"nextInS\":%lld", left > 0 ? left : 0);
  }
  ADD("}");
  return at < cap ? at : cap;
}

// ---- the text form of `mape stats` (host/commands/stats.ts formatDiagnostics) ----

#define MAX_KEYS 24
typedef struct {
  char key[32];
  char val[512];
} kv;

/** The flat members of the object that follows "<name>": in the answer (strings unescaped, numbers and literals as written; arrays joined with ", "). */
static int flat_object(const char *reply, const char *name, kv *out) {
  char pat[48];
  snprintf(pat, sizeof pat, "\"%s\":{", name);
  const char *p = strstr(reply, pat);
  if (!p) return 0;
  p += strlen(pat);
  int n = 0;
  while (*p && *p != '}' && n < MAX_KEYS) {
    if (*p == ',') p++;
    if (*p != '"') return n;
    size_t k = 0;
    for (p++; *p && *p != '"' && k + 1 < sizeof out[n].key; p++) out[n].key[k++] = *p;
    out[n].key[k] = 0;
    if (*p++ != '"' || *p++ != ':') return n;
    size_t v = 0;
    char *val = out[n].val;
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\' && p[1]) {
          p++;
          c = *p == 'n' ? ' ' : *p;
          if (*p == 'u') { p += 4; c = '?'; }
        }
        if (v + 1 < sizeof out[n].val) val[v++] = c;
      }
      if (*p) p++;
    } else if (*p == '[') {
      for (p++; *p && *p != ']'; p++)
        if (*p == ',') { if (v + 3 < sizeof out[n].val) val[v++] = ',', val[v++] = ' '; }
        else if (*p != '"' && v + 1 < sizeof out[n].val) val[v++] = *p;
      if (*p) p++;
    } else {
      while (*p && *p != ',' && *p != '}' && v + 1 < sizeof out[n].val) val[v++] = *p++;
    }
    val[v] = 0;
    n++;
  }
  return n;
}

static const char *get(kv *t, int n, const char *key) {
  for (int i = 0; i < n; i++)
    if (!strcmp(t[i].key, key)) return strcmp(t[i].val, "null") ? t[i].val : NULL;
  return NULL;
}

static void row(const char *k, const char *v) {
  if (v) printf("  %-16s%s\n", k, v);
}

void diag_print(const char *reply) {
  static kv c[MAX_KEYS], p[MAX_KEYS];
  char line[1200];
  int nc = flat_object(reply, "configuration", c);
  if (nc) {
    row("rules from", get(c, nc, "from"));
    row("rules since", get(c, nc, "at"));
    const char *format = get(c, nc, "format"), *rules = get(c, nc, "rules"), *installed = get(c, nc, "installed"), *mesh = get(c, nc, "mesh");
    if (format) {
      int partial = installed && rules && strcmp(installed, rules);
      snprintf(line, sizeof line, "%s, %s rules%s%s%s%s", format, rules ? rules : "?", partial ? " (" : "", partial ? installed : "", partial ? " installed)" : "",
               mesh && !strcmp(mesh, "true") ? ", mesh" : "");
      row("rule format", line);
    }
    row("matched rule", get(c, nc, "matchedRule"));
    const char *iid = get(c, nc, "interfaceId");
    if (iid) row("interface id", !strcmp(iid, "draft-03") ? "draft-03 (legacy)" : "RFC 7597");
    const char *ttl = get(c, nc, "ttl");
    if (ttl) snprintf(line, sizeof line, "%s s", ttl), row("ttl", line);
  }
  int np = flat_object(reply, "provisioning", p);
  if (np) {
    row("provisioning", get(p, np, "state"));
    const char *server = get(p, np, "server"), *verify = get(p, np, "verify");
    if (server) snprintf(line, sizeof line, "%s%s", server, verify && !strcmp(verify, "true") ? "" : " (certificate not checked)"), row("server", line);
    row("fetched", get(p, np, "rulesAt"));
    const char *next = get(p, np, "nextAt"), *in = get(p, np, "nextInS");
    if (next) snprintf(line, sizeof line, "%s (in %s s)", next, in ? in : "?"), row("next fetch", line);
    row("last error", get(p, np, "lastError"));
  }
}
