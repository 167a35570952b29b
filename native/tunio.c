// TUN batch I/O: see tunio.h. Used by native/tun.c (the Node addon) and the
// router program; no allocation, no state but the per-thread tail of a
// super-packet being cut (tso_tail).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "tunio.h"

// The IPv4 total length bounds a super-packet; the kernel segments it.
#define GSO_MAX_BYTES 65535
#define GSO_MAX_SEGS 64

const char *tunio_open_hint(int err) {
  switch (err) {
    case ENOENT: return "no TUN device node: load the tun module (modprobe tun) or create /dev/net/tun (mknod /dev/net/tun c 10 200)";
    case ENODEV: case ENXIO: return "the kernel has no TUN driver (CONFIG_TUN): load the tun module";
    case EPERM: case EACCES: return "not permitted: run as root or with CAP_NET_ADMIN";
    default: return "";
  }
}

const char *tunio_setiff_hint(int err) {
  switch (err) {
    case EPERM: return "not permitted: creating or attaching a TUN needs CAP_NET_ADMIN (or ownership of a persistent device)";
    case EBUSY: return "the device is busy: another process has it open (or it was created with different flags, e.g. multi_queue)";
    case EINVAL: return "the name belongs to a device that is not a TUN (or a TAP, or the flags do not match)";
    default: return "";
  }
}


int tunio_open(const char *name, int extra_flags, const char *path, char *ifname, int *err) {
  size_t len = strlen(name);
  if (len >= IFNAMSIZ) {
    *err = EINVAL;
    return -1;
  }
  int fd = open(path ? path : "/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (extra_flags & (IFF_MULTI_QUEUE | IFF_VNET_HDR)));
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    *err = errno;
    close(fd);
    return -2;
  }
  // No offloads until tunio_offload asks for them: a persistent device keeps
  // the offloads a previous owner negotiated, and would hand this reader
  // super-packets (or partial checksums) it did not ask for.
  (void)ioctl(fd, TUNSETOFFLOAD, 0UL);
  if (ifname) {
    memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
    ifname[IFNAMSIZ - 1] = 0;
  }
  return fd;
}

// SIOCGIFMTU on a datagram socket, in the caller's network namespace (/sys
// may belong to another one).
int tunio_mtu(const char *name, int *err) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0) {
    *err = errno;
    if (s >= 0) close(s);
    return -1;
  }
  close(s);
  return ifr.ifr_mtu;
}

// The one's-complement sum of len bytes (RFC 1071) added to `sum` (a value
// in network order, not folded): eight bytes a step in host order, folded
// and byte-swapped once at the end (the sum commutes with the swap).
static uint32_t csum_add(const uint8_t *p, uint32_t len, uint32_t sum) {
  uint64_t s = 0;
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    s += w >> 32;
    s += w & 0xffffffffu;
    p += 8;
    len -= 8;
  }
  while (len >= 2) {
    uint16_t w;
    memcpy(&w, p, 2);
    s += w;
    p += 2;
    len -= 2;
  }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (len) s += p[0];
#else
  if (len) s += (uint32_t)p[0] << 8;
#endif
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  s = ((s & 0xff) << 8) | (s >> 8);
#endif
  uint64_t t = (uint64_t)sum + s;
  while (t >> 32) t = (t & 0xffffffff) + (t >> 32);
  return (uint32_t)t;
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

// One write of write_vnet: a packet, or a coalesced run of k packets as one
// GSO packet (headers of the first rewritten in place, `saved` to restore
// them should the write fail: results refer to the slots).
typedef struct {
  struct virtio_net_hdr vh;
  struct iovec iov[GSO_MAX_SEGS + 2];
  int iovn;
  uint32_t n, k;  // its first packet, its packets
  uint32_t savedLen;
  uint8_t saved[120];  // IPv4 and TCP headers: up to 60 bytes each
  uint8_t *p;
} wunit;
_Static_assert(sizeof(((wunit *)0)->saved) >= 60 + 60, "room for the longest IPv4 + TCP headers");

// Plans the write of packet n (and, with `coalesce`, of the run of
// consecutive same-flow IPv4 TCP segments that follow it: all but the last
// of the same payload size, as one GSO packet whose headers are the first
// segment's, total length, IPv4 checksum, TCP pseudo-header checksum and
// PSH rewritten in place, the later payloads gathered by the iovec).
static void plan_unit(wunit *u, uint8_t *buf, const int32_t *off, const int32_t *lens, uint32_t n, uint32_t count,
                      int coalesce) {
  static const struct virtio_net_hdr zero;
  uint8_t *p = buf + off[n];
  uint32_t len = (uint32_t)lens[n];
  u->vh = zero;
  u->n = n;
  u->k = 1;
  u->p = p;
  u->savedLen = 0;
  u->iov[0].iov_base = &u->vh;
  u->iov[0].iov_len = sizeof u->vh;
  u->iov[1].iov_base = p;
  u->iov[1].iov_len = len;
  u->iovn = 2;
  seg s0, si;
  if (!(coalesce && n + 1 < count && tcp4_mergeable(p, len, &s0))) return;
  uint32_t total = len, next = s0.seq + s0.plen, k = 1;
  const uint8_t *prev = p;
  seg sprev = s0;
  while (n + k < count && k < GSO_MAX_SEGS && sprev.plen == s0.plen) {
    const uint8_t *q = buf + off[n + k];
    uint32_t ql = (uint32_t)lens[n + k];
    if (!tcp4_mergeable(q, ql, &si) || si.plen > s0.plen || total + si.plen > GSO_MAX_BYTES) break;
    if (!tcp4_follows(prev, &sprev, q, &si, next)) break;
    u->iov[u->iovn].iov_base = (void *)(q + si.ihl + si.thl);
    u->iov[u->iovn].iov_len = si.plen;
    u->iovn++;
    total += si.plen;
    next += si.plen;
    prev = q;
    sprev = si;
    k++;
  }
  if (k == 1) return;
  u->k = k;
  u->savedLen = s0.ihl + s0.thl;
  memcpy(u->saved, p, u->savedLen);
  uint8_t *t = p + s0.ihl;
  wr16(p + 2, (uint16_t)total);
  wr16(p + 10, 0);
  wr16(p + 10, (uint16_t)~csum_fold(csum_add(p, s0.ihl, 0)));
  t[13] |= (uint8_t)(prev[sprev.ihl + 13] & 0x08);  // the last one's PSH
  wr16(t + 16, csum_fold(tcp4_pseudo(p, total - s0.ihl)));
  u->vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  u->vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  u->vh.hdr_len = (uint16_t)(s0.ihl + s0.thl);
  u->vh.gso_size = (uint16_t)s0.plen;
  u->vh.csum_start = (uint16_t)s0.ihl;
  u->vh.csum_offset = 16;
}

// A unit's result: bytes written, or -errno (the headers restored).
static void unit_result(const wunit *u, const int32_t *lens, int32_t *res, long r) {
  if (r < 0 && u->savedLen) memcpy(u->p, u->saved, u->savedLen);
  if (res)
    for (uint32_t j = 0; j < u->k; j++) res[u->n + j] = r < 0 ? (int32_t)r : lens[u->n + j];
}

// ---- io_uring: a batch of writes in one system call (TUNIO_URING) ----
//
// Each write to a TUN runs the stack's work for its packet in the writer's
// context, but the system call itself is a fixed cost per packet (here
// ~1.6 us for a null call under the hypervisor's page-table isolation).
// With TUNIO_URING the writes of a batch go as IORING_OP_WRITEV entries of
// one io_uring_enter (issued inline, in order: the fd is non-blocking). A
// per-thread ring, made on first use; where io_uring is missing (an old or
// restricted kernel) the writes stay writev calls.
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_enter)
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#define URING_UNITS 64

static __thread struct {
  int state;  // 0 not tried, 1 ready, -1 unavailable
  int fd;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
} ring;
static __thread wunit units[URING_UNITS];

static int ring_ready(void) {
  if (ring.state) return ring.state > 0;
  ring.state = -1;
  struct io_uring_params pr;
  memset(&pr, 0, sizeof pr);
  int fd = (int)syscall(__NR_io_uring_setup, URING_UNITS, &pr);
  if (fd < 0) return 0;
  size_t sqsz = pr.sq_off.array + pr.sq_entries * sizeof(unsigned);
  size_t cqsz = pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe);
  int single = (pr.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cqsz > sqsz) sqsz = cqsz;
  uint8_t *sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) {
    close(fd);
    return 0;
  }
  uint8_t *cq = single ? sq : mmap(NULL, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  void *sqes = mmap(NULL, pr.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (cq == MAP_FAILED || sqes == MAP_FAILED) {
    close(fd);  // the mappings stay (a few pages, once per thread)
    return 0;
  }
  ring.fd = fd;
  ring.sq_head = (unsigned *)(sq + pr.sq_off.head);
  ring.sq_tail = (unsigned *)(sq + pr.sq_off.tail);
  ring.sq_mask = (unsigned *)(sq + pr.sq_off.ring_mask);
  ring.sq_array = (unsigned *)(sq + pr.sq_off.array);
  ring.cq_head = (unsigned *)(cq + pr.cq_off.head);
  ring.cq_tail = (unsigned *)(cq + pr.cq_off.tail);
  ring.cq_mask = (unsigned *)(cq + pr.cq_off.ring_mask);
  ring.cqes = (struct io_uring_cqe *)(cq + pr.cq_off.cqes);
  ring.sqes = sqes;
  ring.state = 1;
  return 1;
}

// One vectored read or write into submission slot idx (the caller moves
// the tail); user_data says which result it fills.
static void ring_prep(unsigned idx, uint8_t op, int fd, const struct iovec *iov, uint32_t iovn, int rw_flags,
                      uint64_t user_data) {
  struct io_uring_sqe *e = &ring.sqes[idx];
  memset(e, 0, sizeof *e);
  e->opcode = op;
  e->fd = fd;
  e->addr = (uint64_t)(uintptr_t)iov;
  e->len = iovn;
  e->rw_flags = rw_flags;
  e->user_data = user_data;
  ring.sq_array[idx] = idx;
}

// Takes the completions the kernel posted: results[user_data] = res for
// those below n. Returns how many were taken.
static uint32_t ring_reap(long *results, uint32_t n) {
  uint32_t got = 0;
  unsigned head = *ring.cq_head, ctail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
  for (; head != ctail; head++) {
    struct io_uring_cqe *c = &ring.cqes[head & *ring.cq_mask];
    if (c->user_data < n) results[c->user_data] = c->res;
    got++;
  }
  __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
  return got;
}

// Writes units[0..nu) through the ring; results[i] = bytes or -errno.
// Returns 0, or -1 when the ring failed (the units not completed get -EIO;
// the ring is not used again).
static int ring_write(int fd, uint32_t nu, long *results) {
  unsigned tail = *ring.sq_tail, mask = *ring.sq_mask;
  for (uint32_t i = 0; i < nu; i++) {
    ring_prep(tail++ & mask, IORING_OP_WRITEV, fd, units[i].iov, (uint32_t)units[i].iovn, 0, i);
    results[i] = -EIO;
  }
  __atomic_store_n(ring.sq_tail, tail, __ATOMIC_RELEASE);
  uint32_t reaped = 0;
  for (int spins = 0; reaped < nu; spins++) {
    if (spins == 1000) {
      ring.state = -1;
      return -1;
    }
    unsigned pending = tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE);
    long r = syscall(__NR_io_uring_enter, ring.fd, pending, nu - reaped, IORING_ENTER_GETEVENTS, NULL, 0);
    if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) {
      ring.state = -1;
      return -1;
    }
    reaped += ring_reap(results, nu);
  }
  return 0;
}

static uint32_t write_vnet_ring(int fd, uint8_t *buf, const int32_t *off, const int32_t *lens, uint32_t count,
                                int32_t *res, int coalesce, int *fatal) {
  uint32_t n = 0;
  long results[URING_UNITS];
  while (n < count) {
    uint32_t nu = 0, from = n;
    while (nu < URING_UNITS && n < count) {
      plan_unit(&units[nu], buf, off, lens, n, count, coalesce);
      n += units[nu++].k;
    }
    ring_write(fd, nu, results);
    for (uint32_t i = 0; i < nu; i++) {
      long r = results[i];
      if (r == -EBADF || r == -EBADFD) {
        // The fd is gone: nothing after this was written either.
        for (uint32_t j = i; j < nu; j++) unit_result(&units[j], lens, NULL, -EBADF);
        if (from == 0 && i == 0) *fatal = EBADF;
        return units[i].n;
      }
      unit_result(&units[i], lens, res, r);
    }
  }
  return n;
}
#endif

// Writes packets 0..count with a virtio_net_hdr each (coalescing: see
// plan_unit), one writev a unit, or a batch of them through io_uring with
// `uring`. Returns packets consumed (fewer only on EAGAIN, or when the fd is
// gone); *fatal is set (EBADF) when nothing could be written at all. Through
// io_uring a write the device would block comes back as its result -EAGAIN
// (the hosts count it in tun-write-blocked): the later ones of its batch may
// already be written.
static uint32_t write_vnet(int fd, uint8_t *buf, const int32_t *off, const int32_t *lens, uint32_t count,
                           int32_t *res, int coalesce, int uring, int *fatal) {
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_enter)
  if (uring && count > 1 && ring_ready()) return write_vnet_ring(fd, buf, off, lens, count, res, coalesce, fatal);
#else
  (void)uring;
#endif
  uint32_t n = 0;
  wunit u;
  while (n < count) {
    plan_unit(&u, buf, off, lens, n, count, coalesce);
    ssize_t r = writev(fd, u.iov, u.iovn);
    if (r < 0) {
      int err = errno;
      if (u.savedLen) memcpy(u.p, u.saved, u.savedLen);
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (err == EBADF || err == EBADFD) {
        if (n == 0) *fatal = err;
        break;
      }
      unit_result(&u, lens, res, -err);
    } else {
      unit_result(&u, lens, res, r);
    }
    n += u.k;
  }
  return n;
}

// ---- TSO super-packets from the kernel (TUNSETOFFLOAD) ----
//
// With TUN_F_TSO4 the kernel hands over an IPv4 TCP packet of up to 64 KiB
// with gso_type TCPV4 and gso_size = the MSS. It is cut here, before the
// module, into the segments the kernel's own tcp_gso_segment would make:
//
//   super-packet  | IPv4 | TCP | payload 0 | payload 1 | ... | payload k-1 (short) |
//   segment i     | IPv4 | TCP | payload i |
//       IPv4  total length = hdr + its payload, id = id + i, header checksum
//       TCP   seq = seq + i*MSS; CWR on the first only; FIN and PSH on the
//             last only; the full checksum (pseudo-header, header, payload)
//
// The read lands the first 'cap' bytes in the slot and the rest in a
// per-thread tail; segment 0 stays where it is (no copy), segments 1.. are
// copied into the next slots.

// The per-thread tail of a super-packet beyond its first slot.
static __thread uint8_t tso_tail[GSO_MAX_BYTES + 1];

// Copies len bytes from offset `at` of the two-part source (a, alen | b).
static void copy2(uint8_t *dst, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t at, uint32_t len) {
  if (at < alen) {
    uint32_t k = alen - at < len ? alen - at : len;
    memcpy(dst, a + at, k);
    dst += k;
    len -= k;
    at += k;
  }
  if (len) memcpy(dst, b + (at - alen), len);
}

// Writes segment i's headers (from the super-packet's `tmpl`) at p, whose
// payload of plen bytes is already there, with both checksums.
static void tso_fix(uint8_t *p, const uint8_t *tmpl, uint32_t ihl, uint32_t thl, uint32_t i, uint32_t k, uint32_t mss,
                    uint32_t plen) {
  uint32_t hdr = ihl + thl, len = hdr + plen;
  if (p != tmpl) memcpy(p, tmpl, hdr);
  wr16(p + 2, (uint16_t)len);
  wr16(p + 4, (uint16_t)(rd16(tmpl + 4) + i));
  wr16(p + 10, 0);
  wr16(p + 10, (uint16_t)~csum_fold(csum_add(p, ihl, 0)));
  uint8_t *t = p + ihl;
  uint32_t seq = rd32(tmpl + ihl + 4) + i * mss;
  t[4] = (uint8_t)(seq >> 24);
  t[5] = (uint8_t)(seq >> 16);
  t[6] = (uint8_t)(seq >> 8);
  t[7] = (uint8_t)seq;
  uint8_t fl = tmpl[ihl + 13];
  if (i > 0) fl &= (uint8_t)~0x80;                     // CWR: the first segment only
  if (i + 1 < k) fl &= (uint8_t)~(0x01 | 0x08);        // FIN, PSH: the last only
  t[13] = fl;
  wr16(t + 16, 0);
  wr16(t + 16, (uint16_t)~csum_fold(csum_add(t, len - ihl, tcp4_pseudo(p, len - ihl))));
}

// How many segments the super-packet (vh; a: its first alen of total bytes)
// cuts into, or 0 when it cannot be cut (not IPv4 TCP, inconsistent lengths).
static uint32_t tso_segments(const struct virtio_net_hdr *vh, const uint8_t *a, uint32_t alen, uint32_t total) {
  uint32_t mss = vh->gso_size;
  if ((vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV4 || mss == 0) return 0;
  if (alen < 40 || (a[0] >> 4) != 4 || a[9] != 6 || (rd16(a + 6) & 0x3fff)) return 0;
  uint32_t ihl = (uint32_t)(a[0] & 15) * 4;
  if (ihl < 20 || rd16(a + 2) != total || alen < ihl + 20) return 0;
  uint32_t thl = (uint32_t)(a[ihl + 12] >> 4) * 4, hdr = ihl + thl;
  if (thl < 20 || alen < hdr || total <= hdr) return 0;
  return (total - hdr + mss - 1) / mss;
}

// Cuts the super-packet (a: its first alen bytes, in the slot off[0]; b: the
// rest, blen bytes) into segments in slots 0..; returns how many, or 0 when
// it cannot be cut (not IPv4 TCP, inconsistent lengths, more segments than
// `room` slots, or a segment larger than its slot): the caller drops it.
static uint32_t tso_split(const struct virtio_net_hdr *vh, uint8_t *buf, const int32_t *off, const int32_t *cap,
                          int32_t *lens, uint32_t room, uint32_t alen, const uint8_t *b, uint32_t blen) {
  uint8_t *a = buf + off[0];
  uint32_t total = alen + blen, mss = vh->gso_size;
  uint32_t k = tso_segments(vh, a, alen, total);
  if (k == 0 || k > room) return 0;
  uint32_t ihl = (uint32_t)(a[0] & 15) * 4, thl = (uint32_t)(a[ihl + 12] >> 4) * 4, hdr = ihl + thl;
  uint32_t payload = total - hdr;
  for (uint32_t i = 0; i < k; i++)
    if ((uint32_t)cap[i] < hdr + (i + 1 < k ? mss : payload - i * mss)) return 0;
  uint8_t tmpl[120];
  memcpy(tmpl, a, hdr);
  // Segments 1.. first: their payloads come from the slot's tail too.
  for (uint32_t i = 1; i < k; i++) {
    uint32_t plen = i + 1 < k ? mss : payload - i * mss;
    uint8_t *p = buf + off[i];
    copy2(p + hdr, a, alen, b, hdr + i * mss, plen);
    tso_fix(p, tmpl, ihl, thl, i, k, mss, plen);
    lens[i] = (int32_t)(hdr + plen);
  }
  uint32_t plen0 = k > 1 ? mss : payload;
  memcpy(a, tmpl, hdr);
  tso_fix(a, a, ihl, thl, 0, k, mss, plen0);
  lens[0] = (int32_t)(hdr + plen0);
  return k;
}

// Finishes a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM: the field holds
// the pseudo-header sum; the kernel left the rest to the device).
static void finish_csum(const struct virtio_net_hdr *vh, uint8_t *p, uint32_t len) {
  uint32_t st = vh->csum_start, at = st + vh->csum_offset;
  if (at + 2 > len) return;
  uint16_t c = (uint16_t)~csum_fold(csum_add(p + st, len - st, 0));
  p[at] = (uint8_t)(c >> 8);
  p[at + 1] = (uint8_t)c;
}

// What one read of r bytes (the virtio_net_hdr included with vnet) into
// slot n (its first cap[n] bytes; with TSO the rest in `tail`) makes of
// slots n..: returns how many slots it filled (0: a counted drop).
static uint32_t read_done(const struct virtio_net_hdr *vh, ssize_t r, uint8_t *buf, const int32_t *off, const int32_t *cap,
                          int32_t *lens, uint32_t n, uint32_t count, int vnet, int tso, const uint8_t *tail, tunio_stats *st) {
  if (vnet) {
    r = r < (ssize_t)sizeof *vh ? 0 : r - (ssize_t)sizeof *vh;
    if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
      // Only with TUNIO_TSO (offloads negotiated) does the kernel send these.
      uint32_t alen = r > cap[n] ? (uint32_t)cap[n] : (uint32_t)r, blen = (uint32_t)r - alen;
      uint32_t k = tso ? tso_split(vh, buf, off + n, cap + n, lens + n, count - n, alen, tail, blen) : 0;
      if (st) {
        if (k) {
          st->tso_packets++;
          st->tso_bytes += (uint64_t)r;
        } else {
          st->tso_dropped++;
          st->tso_dropped_bytes += (uint64_t)r;
        }
      }
      return k;
    }
    if (r > cap[n]) r = cap[n];
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) finish_csum(vh, buf + off[n], (uint32_t)r);
  }
  lens[n] = (int32_t)(r > cap[n] ? cap[n] : r);
  return 1;
}

// ---- io_uring: a batch of reads in one system call (TUNIO_URING on read) ----
//
// A TUN hands over one packet per read; with no GSO type for IPv4-in-IPv6
// the tunnel side is one read per 1.3 KB packet, each a system call. With
// TUNIO_URING the reads go as IORING_OP_READV entries of one io_uring_enter
// on the same per-thread ring as the writes: entry i reads straight into
// its slot (no copy), issued inline in order; on the non-blocking fd one
// that finds the queue empty completes with -EAGAIN (io_uring honours
// O_NONBLOCK: no poll is armed, nothing is left in flight). How many go per
// call adapts: twice what the last call found, from URING_READS_MIN up to
// URING_UNITS, so an idle device costs few empty reads.
//
// With TUNIO_TSO any read may be a super-packet of up to TUNIO_TSO_SEGS
// segments, more than the batch may have slots left for: entry i then
// reads into entry i of a staging area (URING_STAGED entries of 64 KiB,
// mapped once per thread on the first such read, never while packets flow
// after), and the packets are copied (cut) into the slots in order. What
// does not fit waits there, in order, for the next call on the same fd
// (rheld; tunio_forget drops it when the fd is closed); meanwhile another
// fd of the thread reads with readv.
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_enter)
#define URING_READS_MIN 4
#define URING_STAGED 32
#define STAGE_BYTES (GSO_MAX_BYTES + 1)
_Static_assert(URING_STAGED <= URING_UNITS, "a round of staged reads fits the ring");

static __thread struct virtio_net_hdr rvh[URING_UNITS];
static __thread struct iovec riov[URING_UNITS][3];
static __thread long rres[URING_UNITS];  // the round's results (bytes or -errno)
static __thread uint32_t rwant = URING_READS_MIN;
static __thread uint8_t *rstage;  // URING_STAGED entries of STAGE_BYTES
// Staged reads not yet delivered: entries rnext..rend of the last round, from fd rheld (-1: none).
static __thread int rheld = -1;
static __thread uint32_t rnext, rend;

// Submits nr READV entries (riov[i], iovn each) with RWF_NOWAIT, so that
// each completes inline: with a packet, or -EAGAIN when the queue is empty
// (O_NONBLOCK alone is not enough: io_uring would arm a poll and read the
// next packet whenever it comes, into a slot the caller has reused). An
// entry still in flight after the call (a kernel or file that does not
// honour RWF_NOWAIT) is cancelled and waited for, and the ring's reads are
// not used again (rstate). Returns 0 (results[i] = bytes or -errno), or -1
// when the ring failed (the ring is not used again).
static __thread int rstate;  // 0 reads through the ring, -1 not (readv)
#define CANCEL_TAG UINT64_MAX
static int ring_read(int fd, uint32_t nr, int iovn, long *results) {
  unsigned tail = *ring.sq_tail, mask = *ring.sq_mask;
  for (uint32_t i = 0; i < nr; i++) {
    ring_prep(tail++ & mask, IORING_OP_READV, fd, riov[i], (uint32_t)iovn, RWF_NOWAIT, i);
    results[i] = -EAGAIN;
  }
  __atomic_store_n(ring.sq_tail, tail, __ATOMIC_RELEASE);
  uint32_t reaped = 0, want = nr;
  int cancelled = 0;
  for (int spins = 0; reaped < want; spins++) {
    if (spins == 1000) {
      ring.state = -1;
      rstate = -1;
      return -1;
    }
    unsigned pending = tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE);
    // First without waiting; then, with the cancel submitted, for the rest.
    long r = syscall(__NR_io_uring_enter, ring.fd, pending, cancelled ? want - reaped : 0, IORING_ENTER_GETEVENTS, NULL, 0);
    if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) {
      ring.state = -1;
      rstate = -1;
      return -1;
    }
    reaped += ring_reap(results, nr);
    if (reaped < want && !cancelled && __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) == tail) {
      unsigned idx = tail & mask;
      struct io_uring_sqe *e = &ring.sqes[idx];
      memset(e, 0, sizeof *e);
      e->opcode = IORING_OP_ASYNC_CANCEL;
      e->fd = fd;
      e->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
      e->user_data = CANCEL_TAG;
      ring.sq_array[idx] = idx;
      tail++;
      __atomic_store_n(ring.sq_tail, tail, __ATOMIC_RELEASE);
      cancelled = 1;
      want++;
      rstate = -1;
    }
  }
  for (uint32_t i = 0; i < nr; i++)
    if (results[i] == -EOPNOTSUPP || results[i] == -EINVAL) rstate = -1;  // no RWF_NOWAIT here: readv from now on
  return 0;
}

// Delivers staged entries rnext..rend (read from fd) into slots n..count in
// order; an entry whose segments do not fit the slots left stays staged
// (unless nothing is in the batch yet: it is cut or dropped as readv's
// path would). Returns the new n; *dry when a read found the queue empty,
// *fail (an errno) when one failed and nothing is in the batch.
static uint32_t deliver_staged(int fd, uint8_t *buf, const int32_t *off, const int32_t *cap, int32_t *lens, uint32_t n,
                               uint32_t count, int vnet, int tso, tunio_stats *st, int *dry, int *fail) {
  while (rnext < rend && n < count) {
    uint32_t i = rnext;
    long r = rres[i];
    if (r < 0) {
      rnext++;
      if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR || r == -ECANCELED) {
        *dry = 1;
        continue;
      }
      *dry = 1;  // the next call meets the error again
      if (n == 0) *fail = (int)-r;
      rnext = rend;
      break;
    }
    const uint8_t *p = rstage + (size_t)i * STAGE_BYTES;
    uint32_t len = vnet ? (r < (long)sizeof rvh[i] ? 0 : (uint32_t)r - (uint32_t)sizeof rvh[i]) : (uint32_t)r;
    uint32_t alen = len > (uint32_t)cap[n] ? (uint32_t)cap[n] : len;
    if (tso && rvh[i].gso_type != VIRTIO_NET_HDR_GSO_NONE && n > 0 && tso_segments(&rvh[i], p, alen, len) > count - n) break;
    memcpy(buf + off[n], p, alen);
    n += read_done(&rvh[i], r, buf, off, cap, lens, n, count, vnet, tso, p + alen, st);
    rnext++;
  }
  if (rnext >= rend) rheld = -1;
  (void)fd;
  return n;
}

// The staged reads that hold a packet (or an error to report) for fd.
static uint64_t staged_for(int fd) {
  uint64_t k = 0;
  if (rheld == fd)
    for (uint32_t i = rnext; i < rend; i++) k += rres[i] != -EAGAIN && rres[i] != -EWOULDBLOCK && rres[i] != -ECANCELED && rres[i] != -EINTR;
  if (k == 0 && rheld == fd) rheld = -1;
  return k;
}

// tunio_read_batch through the ring: rounds of reads until `count` packets
// or the device has none left. Returns n as tunio_read_batch, or -2 when
// the ring could not be used before anything was read (the caller reads
// with readv instead).
static int32_t read_batch_ring(int fd, uint8_t *buf, const int32_t *off, const int32_t *cap, int32_t *lens, uint32_t count,
                               int vnet, int tso, tunio_stats *st, int *err) {
  if (rheld >= 0 && rheld != fd) return -2;  // the staging area waits for another fd
  // Without TSO a packet may move down to the next free slot: slots alike.
  for (uint32_t i = 1; !tso && i < count; i++)
    if (cap[i] != cap[0]) return -2;
  if (tso && !rstage) {
    void *m = mmap(NULL, (size_t)URING_STAGED * STAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -2;
    rstage = m;
  }
  uint32_t n = 0;
  int dry = 0, fail = 0;
  if (rheld == fd) {
    // Only what waits: each such call leaves fewer staged (st->staged), so
    // a host that reads on while some are staged comes to an end.
    n = deliver_staged(fd, buf, off, cap, lens, 0, count, vnet, tso, st, &dry, &fail);
    uint64_t sg = staged_for(fd);
    if (st) st->staged = sg;
    if (fail) {
      *err = fail;
      return -1;
    }
    return (int32_t)n;
  }
  while (n < count) {
    uint32_t room = count - n, nr = room < rwant ? room : rwant;
    if (tso && nr > URING_STAGED) nr = URING_STAGED;
    int iovn = 0;
    for (uint32_t i = 0; i < nr; i++) {
      iovn = 0;
      if (vnet) riov[i][iovn++] = (struct iovec){&rvh[i], sizeof rvh[i]};
      if (tso) riov[i][iovn++] = (struct iovec){rstage + (size_t)i * STAGE_BYTES, STAGE_BYTES};
      else riov[i][iovn++] = (struct iovec){buf + off[n + i], (size_t)cap[n + i]};
    }
    if (ring_read(fd, nr, iovn, rres) < 0) return n ? (int32_t)n : -2;
    if (st) st->read_calls++;
    if (rstate < 0 && n == 0 && rres[0] != -EAGAIN && rres[0] <= 0) return -2;  // refused: readv reads it
    uint32_t got = 0;
    for (uint32_t i = 0; i < nr; i++) got += rres[i] >= 0;
    // Twice what this round found (a full round: twice its size), within bounds.
    uint32_t w = (got == nr ? nr : got) * 2;
    rwant = w < URING_READS_MIN ? URING_READS_MIN : w > URING_UNITS ? URING_UNITS : w;
    if (tso) {
      rheld = fd;
      rnext = 0;
      rend = nr;
      n = deliver_staged(fd, buf, off, cap, lens, n, count, vnet, tso, st, &dry, &fail);
      uint64_t sg = staged_for(fd);
    if (st) st->staged = sg;
      if (fail) {
        *err = fail;
        return -1;
      }
      if (rheld == fd) break;  // the batch is full: the rest waits for the next call
    } else {
      // Straight into slots n..n+nr: a read that found nothing leaves a gap,
      // closed by moving the later packets down (in order).
      uint32_t n0 = n;
      for (uint32_t i = 0; i < nr; i++) {
        long r = rres[i];
        if (r < 0) {
          dry = 1;
          if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR || r == -ECANCELED) continue;
          if (n == 0) {
            *err = (int)-r;
            return -1;
          }
          break;  // the next call meets the error again
        }
        uint32_t s = n0 + i;
        if (s != n) memcpy(buf + off[n], buf + off[s], (size_t)(r > cap[s] ? cap[s] : r));
        n += read_done(&rvh[i], r, buf, off, cap, lens, n, count, vnet, 0, NULL, st);
      }
    }
    if (dry) break;
  }
  return (int32_t)n;
}

#endif

void tunio_forget(int fd) {
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_enter)
  if (rheld == fd) rheld = -1;
#else
  (void)fd;
#endif
}

// readBatch(fd, buf, offsets, capacities, lengths, count) -> n.
// Reads packets until `count` are read or the device has none left (EAGAIN);
// with TUNIO_TSO a super-packet fills as many slots as it has segments, and
// no read starts with fewer than TUNIO_TSO_SEGS slots left (but the first).
// With TUNIO_URING the reads go through the per-thread io_uring (above).

int32_t tunio_read_batch(int fd, uint8_t *buf, const int32_t *off, const int32_t *cap, int32_t *lens, uint32_t count,
                         uint32_t flags, tunio_stats *st, int *err) {
  const int vnet = (flags & TUNIO_VNET) != 0, tso = vnet && (flags & TUNIO_TSO) != 0;
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_enter)
  if ((flags & TUNIO_URING) && count > 1 && rstate == 0 && ring_ready()) {
    int32_t r = read_batch_ring(fd, buf, off, cap, lens, count, vnet, tso, st, err);
    if (r != -2) return r;
  }
#endif
  uint32_t n = 0;
  while (n < count) {
    if (tso && n > 0 && count - n < TUNIO_TSO_SEGS) break;
    struct virtio_net_hdr vh;
    ssize_t r;
    if (tso) {
      struct iovec iov[3] = {{&vh, sizeof vh}, {buf + off[n], (size_t)cap[n]}, {tso_tail, sizeof tso_tail}};
      r = readv(fd, iov, 3);
    } else if (vnet) {
      struct iovec iov[2] = {{&vh, sizeof vh}, {buf + off[n], (size_t)cap[n]}};
      r = readv(fd, iov, 2);
    } else {
      r = read(fd, buf + off[n], (size_t)cap[n]);
    }
    if (st) st->read_calls++;
    if (r < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK || n > 0) break;
      *err = e;
      return -1;
    }
    n += read_done(&vh, r, buf, off, cap, lens, n, count, vnet, tso, tso_tail, st);
  }
  return (int32_t)n;
}

// TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN, and the device's gso_max_segs
// lowered to TUNIO_TSO_SEGS (RTM_NEWLINK, IFLA_GSO_MAX_SEGS) so that one
// super-packet never needs more slots than a read keeps free; the kernel
// segments a larger one itself.
int tunio_offload(int fd, const char *ifname, int *err) {
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
    struct rtattr ra;
    uint32_t segs;
  } req;
  int idx = (int)if_nametoindex(ifname);
  if (idx == 0) {
    *err = errno;
    return -1;
  }
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_NEWLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = idx;
  req.ra.rta_type = IFLA_GSO_MAX_SEGS;
  req.ra.rta_len = RTA_LENGTH(sizeof req.segs);
  req.segs = TUNIO_TSO_SEGS;
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) {
    *err = errno;
    return -1;
  }
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  int e = 0;
  if (sendto(s, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) e = errno;
  if (!e) {
    char ans[512];
    ssize_t r = recv(s, ans, sizeof ans, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)ans;
    if (r < 0) e = errno;
    else if (r >= (ssize_t)sizeof *h && h->nlmsg_type == NLMSG_ERROR) e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
  }
  close(s);
  if (e) {
    *err = e;
    return -1;
  }
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)) < 0) {
    *err = errno;
    return -1;
  }
  return 0;
}

int32_t tunio_write_batch(int fd, uint8_t *buf, const int32_t *off, const int32_t *lens, uint32_t count, int32_t *res,
                          uint32_t flags, int *err) {
  if (flags & TUNIO_VNET) {
    int fatal = 0;
    uint32_t n = write_vnet(fd, buf, off, lens, count, res, (flags & TUNIO_COALESCE_TCP4) != 0, (flags & TUNIO_URING) != 0, &fatal);
    if (fatal) {
      *err = fatal;
      return -1;
    }
    return (int32_t)n;
  }
  uint32_t n = 0;
  while (n < count) {
    ssize_t r = write(fd, buf + off[n], (size_t)lens[n]);
    if (r < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if (e == EBADF || e == EBADFD) {
        if (n > 0) break;
        *err = e;
        return -1;
      }
      r = -e;
    }
    if (res) res[n] = (int32_t)r;
    n++;
  }
  return (int32_t)n;
}
