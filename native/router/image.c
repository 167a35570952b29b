// The NAT state image on disk for the router program (host/stateimage.ts in
// C; the format and all its checks are the module's, assembly/nat/image.ts).
//
//   save:  imageExportBegin(now) → chunks → .<file>.<pid>.tmp (fsync) → rename over <file>
//   load:  check pass, then apply pass: the file read twice, chunk by chunk,
//          straight into the module's image buffer (no copy, no allocation)
//
// Chunks are bytes: they go in and out of the module's memory in place
// (mem_span), the same bytes on every target, big-endian included.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image.h"
#include "host.h"
#include "mod.h"

/** The module's one-line text of its last image error. */
static void module_text(char *out, size_t cap) {
  mod_where = "imageErrorText";
  uint32_t p = Z_mapeZ_imageErrorText(&mod);
  uint32_t n = Z_mapeZ_imageErrorTextLength(&mod);
  if (n >= cap) n = (uint32_t)cap - 1;
  mem_copy_out((uint8_t *)out, p, n);
  out[n] = 0;
}

/** One pass (0 check, 1 apply) over fd; the module's result, or -1000 - errno for a read error. */
static int32_t pass(int fd, uint32_t size, int apply, double now) {
  if (lseek(fd, 0, SEEK_SET) != 0) return -1000 - errno;
  mod_where = "imageImportBegin";
  int32_t r = (int32_t)Z_mapeZ_imageImportBegin(&mod, size, (uint32_t)apply, now);
  if (r < 0) return r;
  uint32_t buf = Z_mapeZ_imageBuffer(&mod), cap = Z_mapeZ_imageBufferSize(&mod);
  uint8_t *at = mem_span(buf, cap);
  for (uint32_t done = 0; done < size;) {
    uint32_t want = size - done < cap ? size - done : cap;
    uint32_t got = 0;
    while (got < want) {
      ssize_t n = read(fd, at + got, want - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = n < 0 ? errno : EIO;  // shorter than fstat said: the file changed
        mod_where = "imageImportEnd";
        Z_mapeZ_imageImportEnd(&mod);  // ends the pass (an apply pass empties the NAT)
        return -1000 - e;
      }
      got += (uint32_t)n;
    }
    mod_where = "imageImportChunk";
    r = (int32_t)Z_mapeZ_imageImportChunk(&mod, got);
    if (r < 0) return r;
    done += got;
  }
  mod_where = "imageImportEnd";
  return (int32_t)Z_mapeZ_imageImportEnd(&mod);
}

int image_load(const char *path, double now, char *line, size_t cap) {
  line[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    snprintf(line, cap, "state %s not read, starting empty: %s", path, errno_name(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = errno;
    const char *why = fstat(fd, &st) != 0 ? errno_name(e) : S_ISDIR(st.st_mode) ? "EISDIR" : "not a regular file";
    snprintf(line, cap, "state %s not read, starting empty: %s", path, why);
    close(fd);
    return -1;
  }
  if (st.st_size > 0x7fffffff) {
    snprintf(line, cap, "state %s refused, starting empty: %lld bytes, far larger than any image", path, (long long)st.st_size);
    close(fd);
    return -1;
  }
  uint32_t size = (uint32_t)st.st_size;
  int32_t r = pass(fd, size, 0, now);
  if (r >= 0) r = pass(fd, size, 1, now);
  close(fd);
  if (r <= -1000) {
    snprintf(line, cap, "state %s not read, starting empty: %s", path, errno_name(-1000 - r));
    return -1;
  }
  if (r < 0) {
    char why[256];
    module_text(why, sizeof why);
    snprintf(line, cap, "state %s refused, starting empty: %s", path, why);
    return -1;
  }
  snprintf(line, cap, "restored %d session%s from %s", r, r == 1 ? "" : "s", path);
  return r;
}

int image_save(const char *path, double now, char *line, size_t cap) {
  mod_where = "imageExportBegin";
  int32_t total = (int32_t)Z_mapeZ_imageExportBegin(&mod, now);
  if (total < 0) {
    char why[256];
    module_text(why, sizeof why);
    snprintf(line, cap, "state not saved to %s: %s", path, why);
    return -1;
  }
  // The temporary file beside the target (same file system: rename is atomic).
  char tmp[4200];
  const char *slash = strrchr(path, '/');
  if (slash) snprintf(tmp, sizeof tmp, "%.*s/.%s.%d.tmp", (int)(slash - path), path, slash + 1, (int)getpid());
  else snprintf(tmp, sizeof tmp, ".%s.%d.tmp", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(line, cap, "state not saved to %s: %s", path, errno_name(errno));
    return -1;
  }
  uint32_t buf = Z_mapeZ_imageBuffer(&mod);
  uint32_t sessions = 0, written = 0;
  int e = 0;
  for (;;) {
    mod_where = "imageExportChunk";
    int32_t n = (int32_t)Z_mapeZ_imageExportChunk(&mod);
    if (n < 0) {
      char why[256];
      module_text(why, sizeof why);
      snprintf(line, cap, "state not saved to %s: %s", path, why);
      close(fd);
      unlink(tmp);
      return -1;
    }
    if (n == 0) break;
    const uint8_t *p = mem_span(buf, (uint32_t)n);
    if (written == 0 && n >= 52) sessions = (uint32_t)p[48] | (uint32_t)p[49] << 8 | (uint32_t)p[50] << 16 | (uint32_t)p[51] << 24;
    if (write_all(fd, p, (size_t)n) != 0) {
      e = errno ? errno : EIO;
      break;
    }
    written += (uint32_t)n;
  }
  if (!e && fsync(fd) != 0) e = errno;
  if (close(fd) != 0 && !e) e = errno;
  if (!e && written != (uint32_t)total) e = EIO;
  if (!e && rename(tmp, path) != 0) e = errno;
  if (e) {
    unlink(tmp);
    snprintf(line, cap, "state not saved to %s: %s", path, errno_name(e));
    return -1;
  }
  snprintf(line, cap, "saved %u session%s to %s", sessions, sessions == 1 ? "" : "s", path);
  return 0;
}

long image_parse_interval(const char *v) {
  size_t n = strlen(v);
  if (n < 1 || n > 7) return -1;
  for (const char *c = v; *c; c++)
    if (*c < '0' || *c > '9') return -1;
  return strtol(v, NULL, 10);
}
