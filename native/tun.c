// Linux TUN device for the Node host: the few system calls Node cannot make.
//
//   open(name, flags, path)   -> { fd, name }   TUNSETIFF with IFF_TUN|IFF_NO_PI
//   watch(fd, cb)             -> handle         uv_poll on Node's loop: cb(err?) when readable
//   unwatch(handle)                             stop and close the poll
//   setRef(handle, bool)                        whether the poll keeps the loop alive
//   mtu(name)                 -> number         SIOCGIFMTU in the caller's namespace
//   offload(fd, name)                           TUNSETOFFLOAD (checksum, TSO4), gso_max_segs TSO_SEGS
//   readBatch(fd, buf, offsets, capacities, lengths, count, flags?, stats?)  -> packets read
//   writeBatch(fd, buf, offsets, lengths, count, results?, flags?)   -> packets consumed
//
// flags (the batch calls): VNET (the fd was opened with IFF_VNET_HDR: every
// packet is preceded by a struct virtio_net_hdr, which these calls add and
// strip) and, on write, COALESCE_TCP4: consecutive IPv4 TCP segments of one
// flow are written as ONE GSO super-packet (VIRTIO_NET_HDR_GSO_TCPV4, like
// the kernel's GRO or wireguard-go's), so the stack behind the TUN (routing,
// forwarding, the receiver's TCP) handles one skb instead of dozens; on
// read, TSO (after offload()): a TCPv4 super-packet from the kernel is cut
// into MSS segments, one per slot (count should be at least TSO_SEGS);
// URING: the batch's writes (and, in the read flags, its reads) go through
// an io_uring (one system call for up to 64 writes or reads).
//
// The batch calls move up to `count` packets in ONE call from JS, straight
// into (or out of) caller-chosen regions of `buf` (an ArrayBuffer such as the
// wasm memory, or a Uint8Array): no per-packet JS->native call and no
// per-packet allocation. Slots are described by Int32Arrays (or Uint32Arrays)
// so a packet can sit at a headroom offset inside its slot and the data path
// can write an outer header in place (STYLE.md: wireguard-go's tun.Device).
//
// The I/O itself (open, batches, vnet header, coalescing) is native/tunio.c,
// shared with the router program (native/router/); this file is the N-API glue.
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
#include "tunio.h"

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
  char ifname[IFNAMSIZ];
  int err = 0;
  int fd = tunio_open(name, extra, path, ifname, &err);
  if (fd == -1) {
    napi_throw(env, errno_error(env, err, "open", "tun.open \"%s\": cannot open %s: %s (%s): %s",
                                name, path, strerror(err), uv_err_name(-err), tunio_open_hint(err)));
    return NULL;
  }
  if (fd < 0) {
    napi_throw(env, errno_error(env, err, "ioctl", "tun.open \"%s\": TUNSETIFF on %s: %s (%s): %s",
                                name, path, strerror(err), uv_err_name(-err), tunio_setiff_hint(err)));
    return NULL;
  }
  napi_value result, vfd, vname;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &vfd));
  CHECK(napi_create_string_utf8(env, ifname, strnlen(ifname, IFNAMSIZ), &vname));
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
  int err = 0;
  int mtu = tunio_mtu(ifr.ifr_name, &err);
  if (mtu < 0) {
    napi_throw(env, errno_error(env, err, "ioctl", "tun.mtu \"%s\": %s (%s)", ifr.ifr_name, strerror(err), uv_err_name(-err)));
    return NULL;
  }
  napi_value v;
  CHECK(napi_create_int32(env, mtu, &v));
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
// virtio_net_hdr batches and TCP coalescing: tunio.c.

#define BATCH_VNET TUNIO_VNET
#define BATCH_COALESCE_TCP4 TUNIO_COALESCE_TCP4
#define BATCH_TSO TUNIO_TSO
#define BATCH_URING TUNIO_URING

// offload(fd, name): TUNSETOFFLOAD (checksum, TSO4) and gso_max_segs
// TSO_SEGS on the TUN `name` of fd (opened with IFF_VNET_HDR); throws with
// the errno.
static napi_value Offload(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  char name[IFNAMSIZ];
  size_t len = 0;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], name, IFNAMSIZ, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun.offload(fd, name)");
    return NULL;
  }
  int err = 0;
  if (tunio_offload(fd, name, &err) < 0) {
    napi_throw(env, errno_error(env, err, "offload", "tun.offload(fd %d, \"%s\"): %s (%s)", fd, name, strerror(err), uv_err_name(-err)));
    return NULL;
  }
  return NULL;
}

// forget(fd): drops what a URING read left staged for fd (before closing it:
// a later fd of the same number must not get this device's packets).
static napi_value Forget(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "tun.forget(fd)");
    return NULL;
  }
  tunio_forget(fd);
  return NULL;
}

// readBatch(fd, buf, offsets, capacities, lengths, count) -> n.
// Reads packets until `count` are read or the device has none left (EAGAIN);
// lengths[i] receives the length of packet i. An error after some packets
// returns those (the next call meets the error again); with none, it throws.
static napi_value ReadBatch(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
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
  // stats (a Float64Array of 4 to 6, optional): super-packets cut (packets,
  // bytes) and dropped (packets, bytes), then read system calls made, added
  // to; [5] set to the reads still staged for fd (read again: no readable
  // event announces them).
  double *stats = NULL;
  size_t nstats = 0;
  if (argc >= 8) {
    bool is = false;
    napi_typedarray_type type;
    size_t sn;
    void *sp;
    if (napi_is_typedarray(env, argv[7], &is) == napi_ok && is &&
        napi_get_typedarray_info(env, argv[7], &type, &sn, &sp, NULL, NULL) == napi_ok && type == napi_float64_array && sn >= 4) {
      stats = sp;
      nstats = sn;
    }
  }
  tunio_stats st = {0};
  int err = 0;
  int32_t n = tunio_read_batch(fd, buf, off, cap, lens, count, flags, &st, &err);
  if (stats) {
    stats[0] += (double)st.tso_packets;
    stats[1] += (double)st.tso_bytes;
    stats[2] += (double)st.tso_dropped;
    stats[3] += (double)st.tso_dropped_bytes;
    if (nstats >= 5) stats[4] += (double)st.read_calls;
    if (nstats >= 6) stats[5] = (double)st.staged;
  }
  if (n < 0) {
    napi_throw(env, errno_error(env, err, "read", "tun.readBatch(fd %d): %s (%s)", fd, strerror(err), uv_err_name(-err)));
    return NULL;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, (uint32_t)n, &result));
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
  int err = 0;
  int32_t n = tunio_write_batch(fd, buf, off, lens, count, res, flags, &err);
  if (n < 0) {
    napi_throw(env, errno_error(env, err, "write", "tun.writeBatch(fd %d): %s (%s)", fd, strerror(err), uv_err_name(-err)));
    return NULL;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, (uint32_t)n, &result));
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
    {"offload", NULL, Offload, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readBatch", NULL, ReadBatch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"forget", NULL, Forget, NULL, NULL, NULL, napi_enumerable, NULL},
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
  CHECK(napi_create_int32(env, BATCH_URING, &v));
  CHECK(napi_set_named_property(env, exports, "BATCH_URING", v));
  CHECK(napi_create_int32(env, BATCH_TSO, &v));
  CHECK(napi_set_named_property(env, exports, "BATCH_TSO", v));
  CHECK(napi_create_int32(env, TUNIO_TSO_SEGS, &v));
  CHECK(napi_set_named_property(env, exports, "TSO_SEGS", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
