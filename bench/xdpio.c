/*
 * The I/O ceiling of the two ways a CE can take packets off its LAN
 * (docs/benchmark.md, "AF_XDP against TUN"): what issue 11 asks to
 * measure before choosing an AF_XDP path for the router program.
 *
 *   xdpio tx  <ifname> <dst-mac> <src-ip> <dst-ip> <seconds> [frame bytes]
 *       sends UDP/IPv4 Ethernet frames on <ifname> through a raw packet
 *       socket, batches of sendmmsg, for <seconds>;
 *   xdpio tun <tun-name> <seconds>
 *       reads the persistent TUN <tun-name> (IFF_TUN | IFF_NO_PI, the way
 *       the module's hosts read it without offloads: one read() a packet);
 *   xdpio xdp <ifname> <seconds>
 *       reads <ifname>'s queue 0 through an AF_XDP socket (libxdp's default
 *       redirect program, driver mode where the device has it, else generic;
 *       copy mode: veth has no zero-copy), refilling the fill ring per batch.
 *
 * Each prints one JSON line: {"mode", "packets", "bytes", "seconds", "xdpMode"}.
 * The receivers count what they take, nothing more: no data path runs, so the
 * two figures are the ceilings the module's hosts would sit under. The
 * driver is bench/xdp.ts (network namespaces it creates; bounded in time).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>
#include <xdp/libxdp.h>
#include <bpf/libbpf.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(const char *what) {
  fprintf(stderr, "xdpio: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void report(const char *mode, unsigned long long pk, unsigned long long by, double secs, const char *xm) {
  printf("{\"mode\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"xdpMode\":\"%s\"}\n",
         mode, pk, by, secs, xm);
}

/* ---- tx: raw frames ------------------------------------------------------ */

#define TX_BATCH 256

static uint16_t ip_csum(const uint8_t *h, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i += 2) s += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return (uint16_t)~s;
}

static int tx(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "xdpio tx <ifname> <dst-mac> <src-ip> <dst-ip> <seconds> [bytes]\n"); return 2; }
  const char *ifn = argv[2];
  unsigned m[6];
  if (sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
    fprintf(stderr, "xdpio: bad MAC %s\n", argv[3]);
    return 2;
  }
  struct in_addr src, dst;
  if (inet_pton(AF_INET, argv[4], &src) != 1 || inet_pton(AF_INET, argv[5], &dst) != 1) {
    fprintf(stderr, "xdpio: bad IPv4 address\n");
    return 2;
  }
  double secs = atof(argv[6]);
  int size = argc > 7 ? atoi(argv[7]) : 64;
  if (secs <= 0 || secs > 60 || size < 60 || size > 1514) { fprintf(stderr, "xdpio: seconds 0..60, bytes 60..1514\n"); return 2; }
  int ifindex = (int)if_nametoindex(ifn);
  if (ifindex == 0) fail(ifn);
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
  if (fd < 0) fail("socket(AF_PACKET)");
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_protocol = htons(ETH_P_IP) };
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) fail("bind");
  /* Straight to the device's transmit, past the qdisc: the sender should
   * not be what limits the receivers. */
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) fail("PACKET_QDISC_BYPASS");
  struct ifreq ifr = { 0 };
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifn);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) fail("SIOCGIFHWADDR");

  /* Frames differ in the UDP source port only (one flow per port: the
   * receive side sees many flows, as a LAN does). */
  static uint8_t frames[TX_BATCH][1514];
  static struct iovec iov[TX_BATCH];
  static struct mmsghdr msgs[TX_BATCH];
  for (int i = 0; i < TX_BATCH; i++) {
    uint8_t *f = frames[i];
    memset(f, 0, (size_t)size);
    for (int k = 0; k < 6; k++) f[k] = (uint8_t)m[k];
    memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
    f[12] = 0x08; f[13] = 0x00;
    uint8_t *ip = f + 14;
    int iplen = size - 14;
    ip[0] = 0x45; ip[2] = (uint8_t)(iplen >> 8); ip[3] = (uint8_t)iplen; ip[8] = 64; ip[9] = 17;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    uint16_t c = ip_csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
    uint8_t *udp = ip + 20;
    int sport = 10000 + i;
    udp[0] = (uint8_t)(sport >> 8); udp[1] = (uint8_t)sport; udp[2] = 0x13; udp[3] = 0x89; /* 5001 */
    udp[4] = (uint8_t)((iplen - 20) >> 8); udp[5] = (uint8_t)(iplen - 20);
    iov[i].iov_base = f;
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long pk = 0, by = 0;
  double t0 = now_s(), t = t0;
  while (t - t0 < secs) {
    int n = sendmmsg(fd, msgs, TX_BATCH, 0);
    if (n < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) { t = now_s(); continue; }
      fail("sendmmsg");
    }
    pk += (unsigned long long)n;
    by += (unsigned long long)n * (unsigned long long)size;
    if ((pk & 0x3FF) < TX_BATCH) t = now_s();
  }
  report("tx", pk, by, now_s() - t0, "");
  return 0;
}

/* ---- tun: one read() a packet ------------------------------------------- */

static int tun(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "xdpio tun <tun-name> <seconds>\n"); return 2; }
  double secs = atof(argv[3]);
  if (secs <= 0 || secs > 60) { fprintf(stderr, "xdpio: seconds 0..60\n"); return 2; }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) fail("/dev/net/tun");
  struct ifreq ifr = { 0 };
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[2]);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) fail("TUNSETIFF");
  static uint8_t buf[65536];
  unsigned long long pk = 0, by = 0;
  double t0 = now_s(), t = t0;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  while (t - t0 < secs) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fail("read");
      poll(&p, 1, 20);
      t = now_s();
      continue;
    }
    pk++;
    by += (unsigned long long)n;
    if ((pk & 0x3FF) == 0) t = now_s();
  }
  report("tun", pk, by, now_s() - t0, "");
  return 0;
}

/* ---- xdp: AF_XDP copy mode ---------------------------------------------- */

#define FRAMES 4096
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define RX_BATCH 64

static int xdp(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "xdpio xdp <ifname> <seconds>\n"); return 2; }
  const char *ifn = argv[2];
  double secs = atof(argv[3]);
  if (secs <= 0 || secs > 60) { fprintf(stderr, "xdpio: seconds 0..60\n"); return 2; }
  size_t len = (size_t)FRAMES * FRAME_SIZE;
  void *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) fail("mmap");
  struct xsk_ring_prod fq;
  struct xsk_ring_cons cq, rx;
  struct xsk_umem *umem;
  int e = xsk_umem__create(&umem, area, len, &fq, &cq, NULL);
  if (e) { errno = -e; fail("xsk_umem__create"); }
  struct xsk_socket *xsk = NULL;
  const char *mode = "driver";
  struct xsk_socket_config cfg = {
    .rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
    .tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
    .xdp_flags = XDP_FLAGS_DRV_MODE,
    .bind_flags = XDP_COPY,
  };
  e = xsk_socket__create(&xsk, ifn, 0, umem, &rx, NULL, &cfg);
  if (e) {
    mode = "generic";
    cfg.xdp_flags = XDP_FLAGS_SKB_MODE;
    e = xsk_socket__create(&xsk, ifn, 0, umem, &rx, NULL, &cfg);
  }
  if (e) { errno = -e; fail("xsk_socket__create"); }
  /* Give the kernel every frame to fill. */
  uint32_t idx;
  uint32_t n = xsk_ring_prod__reserve(&fq, XSK_RING_PROD__DEFAULT_NUM_DESCS, &idx);
  for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&fq, idx + i) = (uint64_t)i * FRAME_SIZE;
  xsk_ring_prod__submit(&fq, n);
  struct pollfd p = { .fd = xsk_socket__fd(xsk), .events = POLLIN };
  static uint64_t spare[FRAMES];
  uint32_t nspare = 0;
  unsigned long long pk = 0, by = 0;
  double t0 = now_s(), t = t0;
  while (t - t0 < secs) {
    uint32_t ri;
    uint32_t got = xsk_ring_cons__peek(&rx, RX_BATCH, &ri);
    if (got == 0) {
      poll(&p, 1, 20);
      t = now_s();
      continue;
    }
    /* The frames go back to the fill ring as it has room: the kernel
     * publishes what it consumed from it in batches, so a frame may wait
     * on the local stack for a later round. */
    for (uint32_t i = 0; i < got; i++) {
      const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, ri + i);
      by += d->len;
      spare[nspare++] = xsk_umem__extract_addr(d->addr);
    }
    uint32_t fi;
    uint32_t put = xsk_ring_prod__reserve(&fq, nspare, &fi);
    for (uint32_t i = 0; i < put; i++) *xsk_ring_prod__fill_addr(&fq, fi + i) = spare[--nspare];
    if (put) xsk_ring_prod__submit(&fq, put);
    xsk_ring_cons__release(&rx, got);
    pk += got;
    if ((pk & 0x3FF) < RX_BATCH) t = now_s();
  }
  double el = now_s() - t0;
  xsk_socket__delete(xsk);
  xsk_umem__delete(umem);
  report("xdp", pk, by, el, mode);
  return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level; (void)fmt; (void)ap;
  return 0;
}
static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap) {
  (void)level; (void)fmt; (void)ap;
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* libbpf and libxdp narrate their fallbacks (no bpffs, no dispatcher): not errors here. */
  libbpf_set_print(quiet);
  libxdp_set_print(quiet_xdp);
  if (argc >= 2 && strcmp(argv[1], "tx") == 0) return tx(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "tun") == 0) return tun(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "xdp") == 0) return xdp(argc, argv);
  fprintf(stderr, "usage: xdpio tx|tun|xdp ... (bench/xdpio.c)\n");
  return 2;
}
