// TSO super-packets through native/tunio.c's read path: a virtio_net_hdr
// and an IPv4 TCP super-packet go into one end of a SOCK_SEQPACKET pair
// (one record per read, as a TUN gives), tunio_read_batch reads the other
// end, and every segment is compared byte for byte with one built here from
// the stream independently (headers field by field, checksums summed byte
// by byte); and the write side's coalescing of segments with the longest
// headers, through writev and io_uring. Built and run by tests/host/tunio.test.ts; prints "ok <checks>"
// or the first differences and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "../../native/tunio.h"

#include "check.h"

// The slower, obvious checksum: 16-bit big-endian words, one at a time.
static uint16_t cksum(const uint8_t *p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (uint32_t)p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

#define IHL 20
#define THL 32  // with the timestamp option, as Linux sends

typedef struct {
  uint16_t id;
  uint32_t seq;
  uint8_t flags;
} hdr_args;

// IPv4 + TCP headers for `plen` payload bytes; checksums left 0.
static void headers(uint8_t *p, const hdr_args *a, uint32_t plen) {
  memset(p, 0, IHL + THL);
  p[0] = 0x45;
  p[1] = 0x02;  // ECT(0)
  put16(p + 2, IHL + THL + plen);
  put16(p + 4, a->id);
  put16(p + 6, 0x4000);  // DF
  p[8] = 64;
  p[9] = 6;
  memcpy(p + 12, (uint8_t[]){192, 168, 1, 10}, 4);
  memcpy(p + 16, (uint8_t[]){203, 0, 113, 7}, 4);
  uint8_t *t = p + IHL;
  put16(t, 41001);
  put16(t + 2, 5201);
  put32(t + 4, a->seq);
  put32(t + 8, 0x0badcafe);  // ack
  t[12] = (THL / 4) << 4;
  t[13] = a->flags;
  put16(t + 14, 502);
  // NOP NOP timestamp
  t[20] = 1;
  t[21] = 1;
  t[22] = 8;
  t[23] = 10;
  put32(t + 24, 0x01020304);
  put32(t + 28, 0x0a0b0c0d);
}

// A complete segment with both checksums, the way the test expects it.
static size_t expected_segment(uint8_t *p, const hdr_args *a, const uint8_t *payload, uint32_t plen) {
  headers(p, a, plen);
  memcpy(p + IHL + THL, payload, plen);
  put16(p + 10, cksum(p, IHL, 0));
  uint32_t pseudo = (uint32_t)(p[12] << 8 | p[13]) + (uint32_t)(p[14] << 8 | p[15]) + (uint32_t)(p[16] << 8 | p[17]) +
                    (uint32_t)(p[18] << 8 | p[19]) + 6 + THL + plen;
  put16(p + IHL + 16, cksum(p + IHL, THL + plen, pseudo));
  return IHL + THL + plen;
}

// Sends one record: a virtio_net_hdr and the packet.
static void send_record(int fd, const struct virtio_net_hdr *vh, const uint8_t *p, size_t len) {
  struct iovec iov[2] = {{(void *)vh, sizeof *vh}, {(void *)p, len}};
  struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
  if (sendmsg(fd, &m, 0) != (ssize_t)(sizeof *vh + len)) {
    perror("sendmsg");
    exit(2);
  }
}

// A super-packet as the kernel hands it over: the stream's first headers,
// total length for all of the payload, the TCP checksum field holding the
// pseudo-header sum (CHECKSUM_PARTIAL).
static size_t super_packet(uint8_t *p, struct virtio_net_hdr *vh, const hdr_args *a, const uint8_t *payload, uint32_t plen,
                           uint16_t mss) {
  headers(p, a, plen);
  memcpy(p + IHL + THL, payload, plen);
  put16(p + 10, cksum(p, IHL, 0));
  put16(p + IHL + 16, 0x1234);  // whatever: the segments get full checksums
  memset(vh, 0, sizeof *vh);
  vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  vh->hdr_len = IHL + THL;
  vh->gso_size = mss;
  vh->csum_start = IHL;
  vh->csum_offset = 16;
  return IHL + THL + plen;
}

#define SLOTS 140
#define STRIDE 2048
#define HEADROOM 64
static uint8_t buf[SLOTS * STRIDE];
static int32_t off[SLOTS], cap[SLOTS], lens[SLOTS];
static uint8_t payload[70000], pkt[70000], want[4096];

static int32_t read_some(int fd, uint32_t count, tunio_stats *st) {
  int err = 0;
  int32_t n = tunio_read_batch(fd, buf, off, cap, lens, count, TUNIO_VNET | TUNIO_TSO, st, &err);
  CHECK(n >= 0, "read_batch failed: %s", strerror(err));
  return n;
}

// Checks slots from..from+k against the segments of (a, payload, plen, mss).
static void check_segments(int32_t from, const hdr_args *a, const uint8_t *pl, uint32_t plen, uint32_t mss, const char *what) {
  uint32_t k = (plen + mss - 1) / mss;
  for (uint32_t i = 0; i < k; i++) {
    uint32_t len = i + 1 < k ? mss : plen - i * mss;
    uint8_t fl = a->flags;
    if (i > 0) fl &= (uint8_t)~0x80;          // CWR on the first only
    if (i + 1 < k) fl &= (uint8_t)~0x09;      // FIN, PSH on the last only
    hdr_args ai = {(uint16_t)(a->id + i), a->seq + i * mss, fl};
    size_t wl = expected_segment(want, &ai, pl + i * mss, len);
    const uint8_t *got = buf + off[from + (int32_t)i];
    CHECK(lens[from + (int32_t)i] == (int32_t)wl, "%s segment %u: length %d, want %zu", what, i, lens[from + (int32_t)i], wl);
    size_t bad = wl;
    for (size_t j = 0; j < wl; j++)
      if (got[j] != want[j]) {
        bad = j;
        break;
      }
    CHECK(bad == wl, "%s segment %u: byte %zu is %02x, want %02x", what, i, bad, bad < wl ? got[bad] : 0, bad < wl ? want[bad] : 0);
    CHECK(cksum(got, IHL, 0) == 0, "%s segment %u: IPv4 header checksum does not verify", what, i);
  }
}

int main(void) {
  for (int i = 0; i < SLOTS; i++) {
    off[i] = i * STRIDE + HEADROOM;
    cap[i] = STRIDE - HEADROOM;
  }
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7 + (i >> 8));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
    perror("socketpair");
    return 2;
  }
  int bufsz = 4 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
  struct virtio_net_hdr vh;
  tunio_stats st = {0};

  // 1. 5000 bytes at MSS 1448: three full segments and a short one; the
  // super-packet (5052 bytes) runs past its 1984-byte slot into the tail.
  // CWR, PSH and FIN set on the super-packet.
  hdr_args a1 = {0x1234, 0xfffff000, 0x10 | 0x08 | 0x01 | 0x80};  // seq wraps inside the run
  size_t l1 = super_packet(pkt, &vh, &a1, payload, 5000, 1448);
  send_record(sv[0], &vh, pkt, l1);
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
  int32_t n = read_some(sv[1], 64, &st);
  CHECK(n == 4, "5000 bytes at MSS 1448: %d segments, want 4", n);
  check_segments(0, &a1, payload, 5000, 1448, "short last");
  CHECK(st.tso_packets == 1 && st.tso_bytes == l1 && st.tso_dropped == 0, "stats after one: %llu %llu %llu",
        (unsigned long long)st.tso_packets, (unsigned long long)st.tso_bytes, (unsigned long long)st.tso_dropped);

  // 2. A plain packet with a partial checksum, then an exact multiple (three
  // MSS) whose IPv4 id wraps, then a 64 KiB one of 46 segments: a batch of
  // 67 takes the plain one and the three segments, then stops (fewer than
  // TUNIO_TSO_SEGS slots left); the next read takes the 46.
  hdr_args ap = {7, 100, 0x18};
  size_t lp = expected_segment(want, &ap, payload, 300);
  uint8_t plain[4096];
  memcpy(plain, want, lp);
  uint8_t partial[4096];
  memcpy(partial, plain, lp);
  {
    uint32_t pseudo = (uint32_t)(192 << 8 | 168) + (1 << 8 | 10) + (203 << 8 | 0) + (113 << 8 | 7) + 6 + THL + 300;
    while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    put16(partial + IHL + 16, pseudo);  // the pseudo-header sum, not complemented
  }
  struct virtio_net_hdr vp = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = IHL, .csum_offset = 16};
  send_record(sv[0], &vp, partial, lp);
  hdr_args a2 = {0xfffe, 5000, 0x18};
  size_t l2 = super_packet(pkt, &vh, &a2, payload + 11, 3 * 1400, 1400);
  send_record(sv[0], &vh, pkt, l2);
  hdr_args a3 = {42, 777, 0x10};
  uint32_t big = 65535 - IHL - THL;  // 46 segments at 1448, the last 375
  size_t l3 = super_packet(pkt, &vh, &a3, payload + 3, big, 1448);
  send_record(sv[0], &vh, pkt, l3);
  n = read_some(sv[1], 67, &st);
  CHECK(n == 4, "plain + 3 segments, then room for fewer than %d: %d read, want 4", TUNIO_TSO_SEGS, n);
  CHECK(lens[0] == (int32_t)lp && memcmp(buf + off[0], plain, lp) == 0, "a partial checksum is finished");
  check_segments(1, &a2, payload + 11, 3 * 1400, 1400, "exact multiple");
  n = read_some(sv[1], 67, &st);
  CHECK(n == 46, "64 KiB at MSS 1448: %d segments, want 46", n);
  check_segments(0, &a3, payload + 3, big, 1448, "64 KiB");
  CHECK(st.tso_packets == 3, "three super-packets cut: %llu", (unsigned long long)st.tso_packets);

  // 3. What cannot be cut is dropped and counted, and the read goes on:
  // TCPv6 GSO, UDP GSO, a segment larger than its slot, more segments than
  // the batch has slots. A plain packet after them arrives.
  tunio_stats sd = {0};
  size_t l4 = super_packet(pkt, &vh, &a3, payload, 3000, 1448);
  vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
  send_record(sv[0], &vh, pkt, l4);
  vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;
  send_record(sv[0], &vh, pkt, l4);
  size_t l5 = super_packet(pkt, &vh, &a3, payload, 6000, 2000);  // 2052 > 1984
  send_record(sv[0], &vh, pkt, l5);
  send_record(sv[0], &vp, partial, lp);
  n = read_some(sv[1], 64, &sd);
  CHECK(n == 1 && lens[0] == (int32_t)lp && memcmp(buf + off[0], plain, lp) == 0, "after three drops the plain packet: n %d", n);
  CHECK(sd.tso_dropped == 3 && sd.tso_dropped_bytes == 2 * l4 + l5 && sd.tso_packets == 0, "three dropped: %llu (%llu bytes)",
        (unsigned long long)sd.tso_dropped, (unsigned long long)sd.tso_dropped_bytes);
  size_t l6 = super_packet(pkt, &vh, &a3, payload, 5000, 1000);  // 5 segments
  send_record(sv[0], &vh, pkt, l6);
  n = read_some(sv[1], 4, &sd);
  CHECK(n == 0 && sd.tso_dropped == 4, "5 segments, 4 slots: dropped (n %d, dropped %llu)", n, (unsigned long long)sd.tso_dropped);

  // 4. A truncated super-packet (total length says more than was read) is dropped.
  size_t l7 = super_packet(pkt, &vh, &a3, payload, 3000, 1448);
  send_record(sv[0], &vh, pkt, l7 - 10);
  n = read_some(sv[1], 64, &sd);
  CHECK(n == 0 && sd.tso_dropped == 5, "a short super-packet: dropped (n %d, dropped %llu)", n, (unsigned long long)sd.tso_dropped);

  // 5. The write side: two contiguous segments with the longest headers
  // (60-byte IPv4, 60-byte TCP) coalesce into ONE record (a GSO packet:
  // virtio_net_hdr TCPV4, the first headers with the run's total length,
  // both payloads), through writev and through io_uring alike.
  for (int uring = 0; uring < 2; uring++) {
    uint8_t *s0 = buf + off[0], *s1 = buf + off[1];
    for (int i = 0; i < 2; i++) {
      uint8_t *q = i ? s1 : s0;
      memset(q, 0, 120);
      q[0] = 0x4f;  // IHL 15: 40 bytes of options (NOP)
      memset(q + 20, 1, 40);
      put16(q + 2, 120 + 500);
      put16(q + 6, 0x4000);
      q[8] = 64;
      q[9] = 6;
      memcpy(q + 12, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
      uint8_t *t = q + 60;
      put16(t, 1000);
      put16(t + 2, 2000);
      put32(t + 4, 1 + 500 * (uint32_t)i);
      put32(t + 8, 77);
      t[12] = 15 << 4;  // 60-byte TCP header: 40 bytes of options (NOP)
      t[13] = 0x10;
      put16(t + 14, 100);
      memset(t + 20, 1, 40);
      memcpy(q + 120, payload + 500 * i, 500);
      put16(q + 10, cksum(q, 60, 0));
      uint32_t pseudo = (10 << 8) + 1 + (10 << 8) + 2 + 6 + 560;
      put16(t + 16, cksum(t, 560, pseudo));
      lens[i] = 620;
    }
    int32_t wres[2] = {0, 0};
    int err = 0;
    int32_t w = tunio_write_batch(sv[1], buf, off, lens, 2, wres, TUNIO_VNET | TUNIO_COALESCE_TCP4 | (uring ? TUNIO_URING : 0), &err);
    CHECK(w == 2 && wres[0] == 620 && wres[1] == 620, "%s: write_batch %d (%d, %d)", uring ? "io_uring" : "writev", w, wres[0], wres[1]);
    uint8_t rec[4096];
    ssize_t rl = recv(sv[0], rec, sizeof rec, MSG_DONTWAIT);
    struct virtio_net_hdr *rv = (struct virtio_net_hdr *)rec;
    CHECK(rl == (ssize_t)(sizeof *rv + 1120), "%s: one record of %zd bytes, want %zu", uring ? "io_uring" : "writev", rl, sizeof *rv + 1120);
    CHECK(rv->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && rv->gso_size == 500 && rv->hdr_len == 120, "%s: GSO header %u %u %u", uring ? "io_uring" : "writev",
          rv->gso_type, rv->gso_size, rv->hdr_len);
    const uint8_t *rp = rec + sizeof *rv;
    CHECK(rl > 0 && (rp[2] << 8 | rp[3]) == 1120 && memcmp(rp + 120, payload, 1000) == 0, "%s: total length and both payloads", uring ? "io_uring" : "writev");
    CHECK(recv(sv[0], rec, sizeof rec, MSG_DONTWAIT) < 0, "%s: nothing more written", uring ? "io_uring" : "writev");
  }

  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("ok %d\n", checks);
  return 0;
}
