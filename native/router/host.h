// What the parts of the router program share (main.c, pcap.c, serve.c).
#ifndef MAPE_ROUTER_HOST_H
#define MAPE_ROUTER_HOST_H

#include <stddef.h>
#include <stdint.h>

// Exit statuses, as the Node CLI's (host/cli.ts): 1 a configuration or
// environment error, 2 a bad command line; 70 a trap inside the module.
#define EXIT_CONFIG 1
#define EXIT_USAGE 2
#define EXIT_TRAP 70

// The host's fixed part: slots the data path may use (docs/abi.md §2).
#define SLOTS 256
#define MAX_SLOTS 256
#define MAX_BATCH 128
#define SLOT_BYTES 16384

enum { MODE_CALC = 0, MODE_CE = 1, MODE_BR = 2 };

/** The errno's name (ENOENT, …), as Node's error codes. */
const char *errno_name(int e);

/**
 * Configures the module from the command's arguments (all of argv after the
 * subcommand). used[i] is set to 1 for the arguments the module took. On
 * error returns -1 with err = "<field>: <what is wrong>".
 */
int cfg_apply(int argc, char **argv, int mode, uint8_t *used, char *err, size_t errlen);
/** The module's label of the configuration source ("--rule", "--config x.json", "built-in default", …). */
extern char cfg_label[256];
/** The length of the option bytes in configBuffer() after a successful cfg_apply. */
extern int32_t cfg_encoded_length;
/** calcText(format) after a calc-mode configure: 0 ok, -1 error (cfg_error_text). */
int cfg_calc_text(int format, const uint8_t **text, uint32_t *len);
void cfg_error_text(char *err, size_t errlen);

/** Prints "mape: <msg>" to stderr. */
void say_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Writes the whole buffer to fd (retrying short writes); 0 ok. */
int write_all(int fd, const void *buf, size_t n);

/** Counter lines as `mape pcap` prints them (human or --json), non-zero only. */
void print_pcap_counters(int json);
/** "  name  packets  bytes" lines as `mape stats` and SIGUSR1 print them, into buf. */
size_t format_counters(char *buf, size_t cap, int ncounters, char names[][64], const uint64_t *p, const uint64_t *b, int all);

int cmd_pcap(int argc, char **argv);
int cmd_calc(int argc, char **argv);
int cmd_serve(int mode, int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_bench(int argc, char **argv);
/** `mape hb46pp discover|delay` (hb46pp.c): the OpenWrt fetcher's DNS TXT query and the module's retry timers. */
int cmd_hb46pp(int argc, char **argv);
/** 1 (after one line on stderr) for a flag of the Node host's `mape ce --auto`, which the router program leaves to OpenWrt's fetcher. */
int hb46pp_node_flag(const char *arg);

#endif
