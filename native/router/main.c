// `mape` on the router: the same module (build/mape.wasm, translated by
// wasm2c at build time) behind the Node CLI's subcommands that apply on a
// router: ce, br, stats, calc, pcap. Same flags, same output, same errors
// ("mape: <field>: <what>", exit 1 for a configuration, 2 for a command
// line), one manual for both hosts: the usage texts are host/commands/*.ts's,
// extracted by the build (usage.h).
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host.h"
#include "mod.h"
#include "usage.h"

const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EEXIST: return "EEXIST";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    case ETIMEDOUT: return "ETIMEDOUT";
    default: return "EUNKNOWN";
  }
}

void say_error(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  // One line: a newline inside the text would make two.
  for (int i = 0; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  line[n++] = '\n';
  fputs("mape: ", stderr);
  fwrite(line, 1, (size_t)n, stderr);
  fflush(stderr);
}

int write_all(int fd, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// mape calc: the module renders the text (calcText), the host prints it.

int cmd_calc(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      puts(USAGE_calc);
      return 0;
    }
  uint8_t used[argc + 1];
  char err[1024];
  mod_start();
  if (cfg_apply(argc, argv, MODE_CALC, used, err, sizeof err) < 0) {
    say_error("%s", err);
    return EXIT_CONFIG;
  }
  int format = 0;
  for (int i = 0; i < argc; i++) {
    if (used[i]) continue;
    const char *a = argv[i];
    if (!strcmp(a, "--json")) format = 1;
    else if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
      const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
      if (!strcmp(v, "human")) format = 0;
      else if (!strcmp(v, "json")) format = 1;
      else if (!strcmp(v, "mapcalc")) format = 2;
      else {
        say_error("--format: '%s' is not human, json or mapcalc", v);
        return EXIT_USAGE;
      }
    } else {
      say_error("calc: unknown argument '%s' (see 'mape calc --help')", a);
      return EXIT_USAGE;
    }
  }
  const uint8_t *text;
  uint32_t len;
  int r = cfg_calc_text(format, &text, &len);
  if (r < 0) {
    cfg_error_text(err, sizeof err);
    say_error("%s", err);
    return EXIT_CONFIG;
  }
  fflush(stdout);
  return write_all(1, text, len) == 0 ? 0 : EXIT_CONFIG;
}

// ---------------------------------------------------------------------------

static const struct {
  const char *name;
  int (*run)(int, char **);
  int mode;
  const char *summary;
  const char *usage;
} COMMANDS[] = {
    {"calc", cmd_calc, -1, SUMMARY_calc, USAGE_calc},
    {"pcap", cmd_pcap, -1, SUMMARY_pcap, USAGE_pcap},
    {"ce", NULL, MODE_CE, SUMMARY_ce, USAGE_ce},
    {"br", NULL, MODE_BR, SUMMARY_br, USAGE_br},
    {"stats", cmd_stats, -1, SUMMARY_stats, USAGE_stats},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void help(void) {
  puts("usage: mape <command> [options]\n\ncommands:");
  for (size_t i = 0; i < NCOMMANDS; i++) printf("  %-7s%s\n", COMMANDS[i].name, COMMANDS[i].summary);
  puts("\n'mape <command> --help' shows a command's options.");
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    if (argc >= 3 && !strcmp(argv[1], "help")) {
      for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[2], COMMANDS[i].name)) {
          puts(COMMANDS[i].usage);
          return 0;
        }
    }
    help();
    return argc < 2 ? EXIT_USAGE : 0;
  }
  for (size_t i = 0; i < NCOMMANDS; i++) {
    if (strcmp(argv[1], COMMANDS[i].name) != 0) continue;
    if (COMMANDS[i].run) return COMMANDS[i].run(argc - 2, argv + 2);
    return cmd_serve(COMMANDS[i].mode, argc - 2, argv + 2);
  }
  // Internal: the module benchmark beside Node's (bench/).
  if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 2, argv + 2);
  // Internal: the OpenWrt HB46PP fetcher's helpers (hb46pp.c).
  if (!strcmp(argv[1], "hb46pp")) return cmd_hb46pp(argc - 2, argv + 2);
  fprintf(stderr, "mape: unknown command '%s' (commands: calc, pcap, ce, br, stats)\n", argv[1]);
  return EXIT_USAGE;
}
