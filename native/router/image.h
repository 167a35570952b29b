// `mape ce --state <file>` in the router program: host/stateimage.ts in C.
// The image format and every check are the module's (assembly/nat/image.ts);
// this host only moves bytes between the module's image buffer and a file.
#ifndef MAPE_ROUTER_IMAGE_H
#define MAPE_ROUTER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/** Default seconds between saves (--state-interval; 0 = only at exit). */
#define IMAGE_DEFAULT_INTERVAL 60
/** The epoll tag of the periodic save's timerfd (docs: image 0x300+). */
#define IMAGE_EPOLL_TAG 0x300

/**
 * Reads the state image at `path` into the NAT (after start, before any
 * traffic): a check pass, then an apply pass, the file read twice straight
 * into the module's buffer. `line` gets the one line to log ("restored N
 * sessions from <file>", or why it was not), or "" when the file does not
 * exist (a first start). Returns the sessions restored, or -1.
 */
int image_load(const char *path, double now_ms, char *line, size_t cap);

/**
 * Writes the NAT state to `path` atomically (a temporary file beside it,
 * fsync, rename). Returns 0 with `line` = "saved N sessions to <file>", or
 * -1 with `line` = why not (the old file stays). No allocation.
 */
int image_save(const char *path, double now_ms, char *line, size_t cap);

/** Parses --state-interval: whole seconds 0..9999999; -1 when it is not one. */
long image_parse_interval(const char *v);

#endif
