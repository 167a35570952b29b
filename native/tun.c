// Linux TUN device for the Node host: the few system calls Node cannot make.
//
//   open(name, flags, path)   -> { fd, name }   TUNSETIFF with IFF_TUN|IFF_NO_PI
//   watch(fd, cb)             -> handle         uv_poll on Node's loop: cb(err?) when readable
//   unwatch(handle)                             stop and close the poll
//   setRef(handle, bool)                        whether the poll keeps the loop alive
//   mtu(name)                 -> number         SIOCGIFMTU in the caller's namespace
//   readBatch(fd, buf, offsets, capacities, lengths, count, flags?)  -> packets read
//   writeBatch(fd, buf, offsets, lengths, count, results?, flags?)   -> packets consumed
//
// flags (the batch calls): VNET (the fd was opened with IFF_VNET_HDR: every
// packet is preceded by a struct virtio_net_hdr, which these calls add and
// strip) and, on write, COALESCE_TCP4: consecutive IPv4 TCP segments of one
// flow are written as ONE GSO super-packet (VIRTIO_NET_HDR_GSO_TCPV4, like
// the kernel's GRO or wireguard-go's), so the stack behind the TUN (routing,
// forwarding, the receiver's TCP) handles one skb instead of dozens.
//
// The batch calls move up to `count` packets in ONE call from JS, straight
// into (or out of) caller-chosen regions of `buf` (an ArrayBuffer such as the
// wasm memory, or a Uint8Array): no per-packet JS->native call and no
// per-packet allocation. Slots are described by Int32Arrays (or Uint32Arrays)
// so a packet can sit at a headroom offset inside its slot and the data path
// can write an outer header in place (STYLE.md: wireguard-go's tun.Device).
//
// Errors are thrown as Error objects with `code` (e.g. "EPERM"), `errno` and
// `syscall`, and a message that says what to do about the usual causes.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "tun addon: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

// Builds (does not throw) an Error for errno `err` with code/errno/syscall.
static napi_value errno_error(napi_env env, int err, const char *syscall, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *code = uv_err_name(-err);
  napi_value m, c, e, n, s;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_create_int32(env, -err, &n);
  napi_set_named_property(env, e, "errno", n);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, e, "syscall", s);
  return e;
}

static const char *open_hint(int err) {
  switch (err) {
    case ENOENT: return "no TUN device node: load the tun module (modprobe tun) or create /dev/net/tun (mknod /dev/net/tun c 10 200)";
    case ENODEV: case ENXIO: return "the kernel has no TUN driver (CONFIG_TUN): load the tun module";
    case EPERM: case EACCES: return "not permitted: run as root or with CAP_NET_ADMIN";
    default: return "";
  }
}

static const char *setiff_hint(int err) {
  switch (err) {
    case EPERM: return "not permitted: creating or attaching a TUN needs CAP_NET_ADMIN (or ownership of a persistent device)";
    case EBUSY: return "the device is busy: another process has it open (or it was created with different flags, e.g. multi_queue)";
    case EINVAL: return "the name belongs to a device that is not a TUN (or a TAP, or the flags do not match)";
    default: return "";
  }
}

// ---------------------------------------------------------------------------
// open(name: string, flags: number, path: string) -> { fd, name }

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[64] = "", path[256] = "/dev/net/tun";
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun.open: name must be a string");
    return NULL;
  }
  if (len >= IFNAMSIZ) {
    napi_throw(env, errno_error(env, EINVAL, "open", "tun.open \"%s\": interface name too long (at most %d bytes)", name, IFNAMSIZ - 1));
    return NULL;
  }
  int32_t extra = 0;
  if (argc >= 2) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[1], &t));
    if (t == napi_number) CHECK(napi_get_value_int32(env, argv[1], &extra));
  }
  if (argc >= 3) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[2], &t));
    if (t == napi_string) CHECK(napi_get_value_string_utf8(env, argv[2], path, sizeof path, NULL));
  }
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    napi_throw(env, errno_error(env, err, "open", "tun.open \"%s\": cannot open %s: %s (%s): %s",
                                name, path, strerror(err), uv_err_name(-err), open_hint(err)));
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (extra & (IFF_MULTI_QUEUE | IFF_VNET_HDR));
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    napi_throw(env, errno_error(env, err, "ioctl", "tun.open \"%s\": TUNSETIFF on %s: %s (%s): %s",
                                name, path, strerror(err), uv_err_name(-err), setiff_hint(err)));
    return NULL;
  }
  napi_value result, vfd, vname;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &vfd));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &vname));
  CHECK(napi_set_named_property(env, result, "fd", vfd));
  CHECK(napi_set_named_property(env, result, "name", vname));
  return result;
}

// mtu(name) -> number: the interface MTU in the caller's network namespace
// (SIOCGIFMTU on a datagram socket; /sys may belong to another namespace).
static napi_value Mtu(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], ifr.ifr_name, IFNAMSIZ, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun.mtu: name must be a string");
    return NULL;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0) {
    int err = errno;
    if (s >= 0) close(s);
    napi_throw(env, errno_error(env, err, "ioctl", "tun.mtu \"%s\": %s (%s)", ifr.ifr_name, strerror(err), uv_err_name(-err)));
    return NULL;
  }
  close(s);
  napi_value v;
  CHECK(napi_create_int32(env, ifr.ifr_mtu, &v));
  return v;
}

// ---------------------------------------------------------------------------
// watch / unwatch: uv_poll on Node's own loop. The watcher memory belongs to
// the poll handle and is freed in its close callback (after unwatch, or when
// the environment is torn down), never by the GC.

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int closing;
} watcher;

static void on_closed(uv_handle_t *h) { free(h->data); }

static void watcher_stop(watcher *w) {
  if (w->closing) return;
  w->closing = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(w->env, w->cb);
  napi_async_destroy(w->env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

static void cleanup_hook(void *arg) { watcher_stop(arg); }

static void on_poll(uv_poll_t *h, int status, int events) {
  watcher *w = h->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  if (status < 0) {
    arg = errno_error(env, -status, "uv_poll", "tun.watch: poll failed: %s (%s)", uv_strerror(status), uv_err_name(status));
  } else {
    napi_get_undefined(env, &arg);
  }
  // The global object as receiver (TOOLCHAIN.md): undefined is not accepted.
  if (napi_make_callback(env, w->ctx, global, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);  // surfaces as 'uncaughtException', like any event callback
  }
  napi_close_handle_scope(env, scope);
}

static napi_value Watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  napi_valuetype t = napi_undefined;
  if (argc == 2) CHECK(napi_typeof(env, argv[1], &t));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "tun.watch(fd, callback): fd must be a number and callback a function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher *w = calloc(1, sizeof *w);
  if (!w) {
    napi_throw_error(env, "ENOMEM", "tun.watch: out of memory");
    return NULL;
  }
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    free(w);
    napi_throw(env, errno_error(env, -r, "uv_poll_init", "tun.watch(%d): %s (%s)", fd, uv_strerror(r), uv_err_name(r)));
    return NULL;
  }
  w->poll.data = w;
  w->env = env;
  napi_value resource_name;
  CHECK(napi_create_string_utf8(env, "TunWatch", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &w->ctx));
  CHECK(napi_create_reference(env, argv[1], 1, &w->cb));
  r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r < 0) {
    watcher_stop(w);
    napi_throw(env, errno_error(env, -r, "uv_poll_start", "tun.watch(%d): %s (%s)", fd, uv_strerror(r), uv_err_name(r)));
    return NULL;
  }
  CHECK(napi_add_env_cleanup_hook(env, cleanup_hook, w));
  napi_value handle;
  CHECK(napi_create_external(env, w, NULL, NULL, &handle));
  return handle;
}

static watcher *get_watcher(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun: expected a handle returned by watch()");
    return NULL;
  }
  return p;
}

// unwatch(handle). The JS side must call it at most once per handle (and
// before closing the fd): the handle's memory is freed after the poll closes.
static napi_value Unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  watcher *w = argc == 1 ? get_watcher(env, argv[0]) : NULL;
  if (!w) return NULL;
  if (!w->closing) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, w);
    watcher_stop(w);
  }
  return NULL;
}

static napi_value SetRef(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  watcher *w = argc == 2 ? get_watcher(env, argv[0]) : NULL;
  if (!w) return NULL;
  bool on = true;
  CHECK(napi_get_value_bool(env, argv[1], &on));
  if (!w->closing) {
    if (on) uv_ref((uv_handle_t *)&w->poll);
    else uv_unref((uv_handle_t *)&w->poll);
  }
  return NULL;
}

// ---------------------------------------------------------------------------
// Batches.

// The bytes of an ArrayBuffer or a byte-typed array (Uint8Array, Buffer).
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is;
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    void *p;
    if (napi_get_arraybuffer_info(env, v, &p, len) != napi_ok) return 0;
    *data = p;
    return 1;
  }
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    void *p;
    if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok) return 0;
    if (type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array) {
      *data = p;
      return 1;
    }
  }
  napi_throw_type_error(env, NULL, "tun: buffer must be an ArrayBuffer or a Uint8Array");
  return 0;
}

// An Int32Array or Uint32Array with at least `need` elements.
static int32_t *get_i32(napi_env env, napi_value v, const char *what, size_t need) {
  bool is = false;
  napi_typedarray_type type;
  size_t n;
  void *p;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &n, &p, NULL, NULL) != napi_ok ||
      (type != napi_int32_array && type != napi_uint32_array)) {
    char msg[128];
    snprintf(msg, sizeof msg, "tun: %s must be an Int32Array or Uint32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  if (n < need) {
    char msg[128];
    snprintf(msg, sizeof msg, "tun: %s has %zu elements, the batch needs %zu", what, n, need);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  return p;
}

// Every region [offsets[i], offsets[i] + sizes[i]) must lie inside the buffer.
static int check_regions(napi_env env, const int32_t *off, const int32_t *size, uint32_t count, size_t buflen) {
  for (uint32_t i = 0; i < count; i++) {
    uint64_t o = (uint32_t)off[i], s = (uint32_t)size[i];
    if (off[i] < 0 || size[i] < 0 || o + s > buflen) {
      char msg[160];
      snprintf(msg, sizeof msg, "tun: slot %u [%d, +%d) lies outside the buffer (%zu bytes)", i, off[i], size[i], buflen);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

// ---------------------------------------------------------------------------
// virtio_net_hdr batches and TCP coalescing.

#define BATCH_VNET 1
#define BATCH_COALESCE_TCP4 2
// The IPv4 total length bounds a super-packet; the kernel segments it.
#define GSO_MAX_BYTES 65535
#define GSO_MAX_SEGS 64

static uint32_t csum_add(const uint8_t *p, uint32_t len, uint32_t sum) {
  uint64_t s = sum;
  while (len >= 2) {
    s += (uint32_t)(p[0] << 8 | p[1]);
    p += 2;
    len -= 2;
  }
  if (len) s += (uint32_t)(p[0] << 8);
  while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
  return (uint32_t)s;
}

static uint16_t csum_fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)s;
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

// The pseudo-header sum of an IPv4 TCP segment (not folded, not complemented).
static uint32_t tcp4_pseudo(const uint8_t *ip, uint32_t tcplen) {
  return csum_add(ip + 12, 8, 0) + 6 + tcplen;
}

// What a segment contributes to a merge: its headers and payload.
typedef struct {
  uint32_t ihl, thl, plen;  // IPv4 header, TCP header, payload bytes
  uint32_t seq;
} seg;

// An IPv4 TCP segment that may be merged: no fragment, no IP options
// differences checked later, only ACK (and PSH) flags, a payload, a valid
// TCP checksum (a merged packet gets a new checksum from the kernel, which
// must not launder a corrupt segment).
static int tcp4_mergeable(const uint8_t *p, uint32_t len, seg *s) {
  if (len < 40 || (p[0] >> 4) != 4 || p[9] != 6) return 0;
  uint32_t ihl = (uint32_t)(p[0] & 15) * 4;
  if (ihl < 20 || rd16(p + 2) != len) return 0;
  if (rd16(p + 6) & 0x3fff) return 0;  // MF or an offset: a fragment
  if (len < ihl + 20) return 0;
  const uint8_t *t = p + ihl;
  uint32_t thl = (uint32_t)(t[12] >> 4) * 4;
  if (thl < 20 || len < ihl + thl) return 0;
  uint8_t fl = t[13];
  if ((fl & ~0x18) != 0 || !(fl & 0x10)) return 0;  // ACK, maybe PSH; nothing else
  uint32_t plen = len - ihl - thl;
  if (plen == 0) return 0;
  if (csum_fold(csum_add(t, len - ihl, tcp4_pseudo(p, len - ihl))) != 0xffff) return 0;
  s->ihl = ihl;
  s->thl = thl;
  s->plen = plen;
  s->seq = rd32(t + 4);
  return 1;
}

// Whether b continues a's flow right after `next` (the sequence number the
// merged packet reaches): same addresses, ports, IP TOS/TTL/DF and options,
// same TCP header (ack, window aside from PSH, options) and no PSH before.
static int tcp4_follows(const uint8_t *a, const seg *sa, const uint8_t *b, const seg *sb, uint32_t next) {
  if (sa->ihl != sb->ihl || sa->thl != sb->thl || sb->seq != next) return 0;
  if (a[1] != b[1] || a[8] != b[8] || (a[6] & 0x40) != (b[6] & 0x40)) return 0;
  if (memcmp(a + 12, b + 12, 8) != 0) return 0;
  if (sa->ihl > 20 && memcmp(a + 20, b + 20, sa->ihl - 20) != 0) return 0;
  const uint8_t *ta = a + sa->ihl, *tb = b + sb->ihl;
  if (memcmp(ta, tb, 4) != 0) return 0;          // ports
  if (memcmp(ta + 8, tb + 8, 4) != 0) return 0;  // ack
  if (ta[13] & 0x08) return 0;                   // PSH ends a run (as GRO)
  if (rd16(ta + 14) != rd16(tb + 14)) return 0;  // window
  if (sa->thl > 20 && memcmp(ta + 20, tb + 20, sa->thl - 20) != 0) return 0;  // options (timestamps)
  return 1;
}

// Writes packets 0..count with a virtio_net_hdr each; with `coalesce`, runs
// of consecutive same-flow IPv4 TCP segments (all but the last of the same
// payload size) go as one GSO packet whose headers are the first segment's
// (total length, IPv4 checksum, TCP pseudo-header checksum and PSH
// rewritten in place), the later segments' payloads gathered with writev.
// Returns packets consumed; *fatal is set (EBADF) when nothing could be
// written at all.
static uint32_t write_vnet(int fd, uint8_t *buf, const int32_t *off, const int32_t *lens, uint32_t count,
                           int32_t *res, int coalesce, int *fatal) {
  static const struct virtio_net_hdr zero;
  uint32_t n = 0;
  while (n < count) {
    uint8_t *p = buf + off[n];
    uint32_t len = (uint32_t)lens[n];
    uint32_t k = 1;  // packets in this write
    struct virtio_net_hdr vh = zero;
    struct iovec iov[GSO_MAX_SEGS + 2];
    int iovn = 2;
    iov[0].iov_base = &vh;
    iov[0].iov_len = sizeof vh;
    iov[1].iov_base = p;
    iov[1].iov_len = len;
    seg s0, si;
    uint8_t saved[64];
    uint32_t savedLen = 0;
    if (coalesce && n + 1 < count && tcp4_mergeable(p, len, &s0)) {
      uint32_t total = len, next = s0.seq + s0.plen;
      const uint8_t *prev = p;
      seg sprev = s0;
      while (n + k < count && k < GSO_MAX_SEGS && sprev.plen == s0.plen) {
        const uint8_t *q = buf + off[n + k];
        uint32_t ql = (uint32_t)lens[n + k];
        if (!tcp4_mergeable(q, ql, &si) || si.plen > s0.plen || total + si.plen > GSO_MAX_BYTES) break;
        if (!tcp4_follows(prev, &sprev, q, &si, next)) break;
        iov[iovn].iov_base = (void *)(q + si.ihl + si.thl);
        iov[iovn].iov_len = si.plen;
        iovn++;
        total += si.plen;
        next += si.plen;
        prev = q;
        sprev = si;
        k++;
      }
      if (k > 1) {
        // Rewrite the first segment's headers for the whole run (kept, to
        // restore them should the write fail: results refer to the slots).
        savedLen = s0.ihl + s0.thl;
        memcpy(saved, p, savedLen);
        uint8_t *t = p + s0.ihl;
        wr16(p + 2, (uint16_t)total);
        wr16(p + 10, 0);
        wr16(p + 10, (uint16_t)~csum_fold(csum_add(p, s0.ihl, 0)));
        t[13] |= (uint8_t)(((const uint8_t *)prev)[sprev.ihl + 13] & 0x08);  // the last one's PSH
        wr16(t + 16, csum_fold(tcp4_pseudo(p, total - s0.ihl)));
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        vh.hdr_len = (uint16_t)(s0.ihl + s0.thl);
        vh.gso_size = (uint16_t)s0.plen;
        vh.csum_start = (uint16_t)s0.ihl;
        vh.csum_offset = 16;
      }
    }
    ssize_t r = writev(fd, iov, iovn);
    if (r < 0) {
      int err = errno;
      if (savedLen) memcpy(p, saved, savedLen);
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (err == EBADF || err == EBADFD) {
        if (n == 0) *fatal = err;
        break;
      }
      for (uint32_t j = 0; j < k; j++)
        if (res) res[n + j] = -err;
    } else {
      for (uint32_t j = 0; j < k; j++)
        if (res) res[n + j] = lens[n + j];
    }
    n += k;
  }
  return n;
}

// readBatch(fd, buf, offsets, capacities, lengths, count) -> n.
// Reads packets until `count` are read or the device has none left (EAGAIN);
// lengths[i] receives the length of packet i. An error after some packets
// returns those (the next call meets the error again); with none, it throws.
static napi_value ReadBatch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (argc < 6 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_uint32(env, argv[5], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun.readBatch(fd, buffer, offsets, capacities, lengths, count)");
    return NULL;
  }
  uint8_t *buf;
  size_t buflen;
  if (!get_bytes(env, argv[1], &buf, &buflen)) return NULL;
  int32_t *off = get_i32(env, argv[2], "offsets", count);
  if (!off) return NULL;
  int32_t *cap = get_i32(env, argv[3], "capacities", count);
  if (!cap) return NULL;
  int32_t *lens = get_i32(env, argv[4], "lengths", count);
  if (!lens) return NULL;
  if (!check_regions(env, off, cap, count, buflen)) return NULL;
  uint32_t flags = 0;
  if (argc >= 7) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[6], &t));
    if (t == napi_number) CHECK(napi_get_value_uint32(env, argv[6], &flags));
  }
  const int vnet = (flags & BATCH_VNET) != 0;
  uint32_t n = 0;
  while (n < count) {
    struct virtio_net_hdr vh;
    ssize_t r;
    if (vnet) {
      struct iovec iov[2] = {{&vh, sizeof vh}, {buf + off[n], (size_t)cap[n]}};
      r = readv(fd, iov, 2);
    } else {
      r = read(fd, buf + off[n], (size_t)cap[n]);
    }
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || n > 0) break;
      napi_throw(env, errno_error(env, err, "read", "tun.readBatch(fd %d): %s (%s)", fd, strerror(err), uv_err_name(-err)));
      return NULL;
    }
    if (vnet) {
      r = r < (ssize_t)sizeof vh ? 0 : r - (ssize_t)sizeof vh;
      if (r > cap[n]) r = cap[n];
      // No offloads are negotiated (TUNSETOFFLOAD), so the kernel completes
      // checksums and never hands over GSO packets; finish a partial
      // checksum anyway should one come.
      if ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        uint32_t st = vh.csum_start, at = st + vh.csum_offset;
        if (at + 2 <= (uint32_t)r) {
          uint8_t *p = buf + off[n];
          uint32_t sum = csum_add(p + st, (uint32_t)r - st, 0);
          uint16_t c = (uint16_t)~csum_fold(sum);
          p[at] = (uint8_t)(c >> 8);
          p[at + 1] = (uint8_t)c;
        }
      }
    }
    lens[n] = (int32_t)(r > cap[n] ? cap[n] : r);
    n++;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, n, &result));
  return result;
}

// writeBatch(fd, buf, offsets, lengths, count, results?) -> n consumed.
// Writes packets in order; stops early only when the device would block
// (EAGAIN: the caller retries from n). A packet the kernel refuses (e.g.
// EINVAL for a malformed one) is consumed and skipped; results[i], when
// given, receives the bytes written or -errno.
static napi_value WriteBatch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun.writeBatch(fd, buffer, offsets, lengths, count, results?)");
    return NULL;
  }
  uint8_t *buf;
  size_t buflen;
  if (!get_bytes(env, argv[1], &buf, &buflen)) return NULL;
  int32_t *off = get_i32(env, argv[2], "offsets", count);
  if (!off) return NULL;
  int32_t *lens = get_i32(env, argv[3], "lengths", count);
  if (!lens) return NULL;
  int32_t *res = NULL;
  if (argc >= 6) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[5], &t));
    if (t != napi_undefined && t != napi_null && !(res = get_i32(env, argv[5], "results", count))) return NULL;
  }
  if (!check_regions(env, off, lens, count, buflen)) return NULL;
  uint32_t flags = 0;
  if (argc >= 7) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[6], &t));
    if (t == napi_number) CHECK(napi_get_value_uint32(env, argv[6], &flags));
  }
  if (flags & BATCH_VNET) {
    int err = 0;
    uint32_t n = write_vnet(fd, buf, off, lens, count, res, (flags & BATCH_COALESCE_TCP4) != 0, &err);
    if (err) {
      napi_throw(env, errno_error(env, err, "write", "tun.writeBatch(fd %d): %s (%s)", fd, strerror(err), uv_err_name(-err)));
      return NULL;
    }
    napi_value result;
    CHECK(napi_create_uint32(env, n, &result));
    return result;
  }
  uint32_t n = 0;
  while (n < count) {
    ssize_t r = write(fd, buf + off[n], (size_t)lens[n]);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (err == EBADF || err == EBADFD) {
        if (n > 0) break;
        napi_throw(env, errno_error(env, err, "write", "tun.writeBatch(fd %d): %s (%s)", fd, strerror(err), uv_err_name(-err)));
        return NULL;
      }
      r = -err;
    }
    if (res) res[n] = (int32_t)r;
    n++;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, n, &result));
  return result;
}

// ---------------------------------------------------------------------------

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, Open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mtu", NULL, Mtu, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watch", NULL, Watch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unwatch", NULL, Unwatch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setRef", NULL, SetRef, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readBatch", NULL, ReadBatch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"writeBatch", NULL, WriteBatch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  napi_value v;
  CHECK(napi_create_int32(env, IFF_MULTI_QUEUE, &v));
  CHECK(napi_set_named_property(env, exports, "IFF_MULTI_QUEUE", v));
  CHECK(napi_create_int32(env, IFF_VNET_HDR, &v));
  CHECK(napi_set_named_property(env, exports, "IFF_VNET_HDR", v));
  CHECK(napi_create_int32(env, BATCH_VNET, &v));
  CHECK(napi_set_named_property(env, exports, "BATCH_VNET", v));
  CHECK(napi_create_int32(env, BATCH_COALESCE_TCP4, &v));
  CHECK(napi_set_named_property(env, exports, "BATCH_COALESCE_TCP4", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
