// The DNS proxy's sockets (dns.h): a LAN UDP socket and TCP listener on the
// proxy address, DNS_UP_SOCKETS upstream UDP sockets bound to [::]:0 (the
// kernel picks random ports and sources them from the WAN address: the MAP
// address is only a route into the TUN, so no query takes a port of the
// set), one TCP connection per query the module retries over TCP, and up to
// DNS_TCP_CLIENTS LAN TCP clients with RFC 1035 §4.2.2 length framing.
//
//   epoll tags: 0x100 LAN UDP, 0x101 LAN TCP listener,
//               0x110 + k upstream UDP socket k, 0x120 + k LAN TCP client k,
//               0x140 + j upstream TCP connection j
#define _GNU_SOURCE  // accept4
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "mod.h"
#include "dns.h"

#define DNS_UP_SOCKETS 8
#define DNS_TCP_CLIENTS 8
#define DNS_UP_TCP 8
/** An upstream TCP connection lives this long at most (the module retries on its own clock). */
#define DNS_UP_TCP_MS 10000
#define DNS_MSG_MAX 65535
#define DNS_PORT 53
#define T_LAN_UDP 0x100
#define T_LAN_TCP 0x101
#define T_UP_UDP 0x110
#define T_CLIENT 0x120
#define T_UP_TCP 0x140
/** dnsOutKind() values (assembly/dns/proxy.ts). */
#define OUT_UPSTREAM_UDP 1
#define OUT_UPSTREAM_TCP 2
#define OUT_CLIENT_UDP 3
#define OUT_CLIENT_TCP 4

/** A TCP stream being read: a 2-byte length, then the message. */
typedef struct {
  int fd;
  uint32_t have;
  uint8_t buf[2 + DNS_MSG_MAX];
} stream;

typedef struct {
  stream s;
  int entry, upstream, sent;
  int64_t opened_ms;
  uint32_t qlen;
  uint8_t q[2 + 512];  // a query the module kept (QUERY_MAX 344) with its length
} up_tcp;

static int ep = -1, lan_udp = -1, lan_tcp = -1, nup;
static int up_udp[DNS_UP_SOCKETS];
static stream clients[DNS_TCP_CLIENTS];
static up_tcp ups[DNS_UP_TCP];
static uint8_t msgbuf[DNS_MSG_MAX + 2], outbuf[DNS_MSG_MAX + 2];
static uint32_t mbuf, msize;
static char addr_text[32];
static int opened;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ep_add(int fd, uint64_t tag, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = tag};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}
static void ep_del_close(int *fd) {
  if (*fd < 0) return;
  epoll_ctl(ep, EPOLL_CTL_DEL, *fd, NULL);
  close(*fd);
  *fd = -1;
}

/** Upstream i's address. */
static void upstream_addr(int i, struct sockaddr_in6 *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sin6_family = AF_INET6;
  sa->sin6_port = htons(DNS_PORT);
  mod_bytes(Z_mapeZ_dnsUpstream(&mod, (uint32_t)i), sa->sin6_addr.s6_addr, 16);
}

/** The upstream index of a source, -1 when none (the module drops it, counted). */
static int upstream_of(const struct sockaddr_in6 *from) {
  if (ntohs(from->sin6_port) != DNS_PORT) return -1;
  int n = (int)Z_mapeZ_dnsUpstreamCount(&mod);
  for (int i = 0; i < n; i++) {
    struct sockaddr_in6 sa;
    upstream_addr(i, &sa);
    if (!memcmp(sa.sin6_addr.s6_addr, from->sin6_addr.s6_addr, 16)) return i;
  }
  return -1;
}

/** Copies a message's head into the module; its whole length. */
static uint32_t put(const uint8_t *m, uint32_t len) {
  mem_copy_in(mbuf, m, len < msize ? len : msize);
  return len;
}

/** The n bytes to send into outbuf: the module's head, then the rest of m as it came. */
static const uint8_t *out_bytes(uint32_t n, const uint8_t *m) {
  uint32_t h = n < msize ? n : msize;
  mem_copy_out(outbuf, mbuf, h);
  if (n > h && m) memcpy(outbuf + h, m + h, n - h);
  return outbuf;
}

static void upstream_tcp(int upstream, int entry, const uint8_t *q, uint32_t n);

/** Sends the n bytes the module left where dnsOutKind() says. */
static void send_out(int32_t n, const uint8_t *m) {
  if (n <= 0) return;
  mod_where = "dnsOutKind";
  int kind = (int)Z_mapeZ_dnsOutKind(&mod);
  const uint8_t *b = out_bytes((uint32_t)n, m);
  if (kind == OUT_UPSTREAM_UDP) {
    int s = (int)Z_mapeZ_dnsOutSocket(&mod) % nup;
    struct sockaddr_in6 sa;
    upstream_addr((int)Z_mapeZ_dnsOutUpstream(&mod), &sa);
    (void)!sendto(up_udp[s], b, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
  } else if (kind == OUT_UPSTREAM_TCP) {
    upstream_tcp((int)Z_mapeZ_dnsOutUpstream(&mod), (int)Z_mapeZ_dnsOutEntry(&mod), b, (uint32_t)n);
  } else if (kind == OUT_CLIENT_UDP) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(Z_mapeZ_dnsOutClientAddr(&mod));
    sa.sin_port = htons((uint16_t)Z_mapeZ_dnsOutClientPort(&mod));
    (void)!sendto(lan_udp, b, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
  } else if (kind == OUT_CLIENT_TCP) {
    int k = (int)Z_mapeZ_dnsOutConn(&mod);
    if (k < 0 || k >= DNS_TCP_CLIENTS || clients[k].fd < 0) return;
    uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    // A client that does not read is dropped rather than waited for.
    if (send(clients[k].fd, len, 2, MSG_DONTWAIT | MSG_NOSIGNAL) != 2 ||
        send(clients[k].fd, b, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
      ep_del_close(&clients[k].fd);
      Z_mapeZ_dnsClientGone(&mod, (uint32_t)k);
    }
  }
}

static void upstream_tcp(int upstream, int entry, const uint8_t *q, uint32_t n) {
  // A retry of the same query replaces its earlier connection.
  for (int k = 0; k < DNS_UP_TCP; k++) if (ups[k].s.fd >= 0 && ups[k].entry == entry) ep_del_close(&ups[k].s.fd);
  if (n + 2 > sizeof ups[0].q) {
    Z_mapeZ_dnsUpstreamFailed(&mod, (uint32_t)entry);
    return;
  }
  int j = 0;
  while (j < DNS_UP_TCP && ups[j].s.fd >= 0) j++;
  if (j == DNS_UP_TCP) {
    Z_mapeZ_dnsUpstreamFailed(&mod, (uint32_t)entry);
    return;
  }
  up_tcp *u = &ups[j];
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    Z_mapeZ_dnsUpstreamFailed(&mod, (uint32_t)entry);
    return;
  }
  struct sockaddr_in6 sa;
  upstream_addr(upstream, &sa);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
    close(fd);
    Z_mapeZ_dnsUpstreamFailed(&mod, (uint32_t)entry);
    return;
  }
  u->s.fd = fd;
  u->s.have = 0;
  u->entry = entry;
  u->upstream = upstream;
  u->sent = 0;
  u->opened_ms = mono_ms();
  u->q[0] = (uint8_t)(n >> 8);
  u->q[1] = (uint8_t)n;
  memcpy(u->q + 2, q, n);
  u->qlen = n + 2;
  ep_add(fd, T_UP_TCP + (uint64_t)j, EPOLLOUT | EPOLLIN);
}

/** Reads what a stream has; 1 when a whole message is in s->buf, 0 to wait, -1 closed or broken. */
static int stream_read(stream *s) {
  for (;;) {
    uint32_t want = s->have < 2 ? 2 : 2 + (((uint32_t)s->buf[0] << 8) | s->buf[1]);
    if (s->have >= 2 && s->have >= want) return 1;
    ssize_t r = recv(s->fd, s->buf + s->have, want - s->have, MSG_DONTWAIT);
    if (r == 0) return -1;
    if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    s->have += (uint32_t)r;
  }
}

static void up_tcp_event(int j, uint32_t events) {
  up_tcp *u = &ups[j];
  if (u->s.fd < 0) return;
  if (!u->sent && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(u->s.fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err || send(u->s.fd, u->q, u->qlen, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)u->qlen) {
      ep_del_close(&u->s.fd);
      Z_mapeZ_dnsUpstreamFailed(&mod, (uint32_t)u->entry);
      return;
    }
    u->sent = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = T_UP_TCP + (uint64_t)j};
    epoll_ctl(ep, EPOLL_CTL_MOD, u->s.fd, &ev);
    return;
  }
  int r = stream_read(&u->s);
  if (r == 0) return;
  if (r < 0) {
    ep_del_close(&u->s.fd);
    Z_mapeZ_dnsUpstreamFailed(&mod, (uint32_t)u->entry);
    return;
  }
  uint32_t n = u->s.have - 2;
  memcpy(msgbuf, u->s.buf + 2, n);
  ep_del_close(&u->s.fd);
  mod_where = "dnsAnswer";
  send_out((int32_t)Z_mapeZ_dnsAnswer(&mod, put(msgbuf, n), (uint32_t)u->upstream, (uint32_t)-1, (uint32_t)u->entry), msgbuf);
}

static void client_event(int k) {
  stream *s = &clients[k];
  if (s->fd < 0) return;
  for (;;) {
    int r = stream_read(s);
    if (r == 0) return;
    if (r < 0) {
      ep_del_close(&s->fd);
      Z_mapeZ_dnsClientGone(&mod, (uint32_t)k);
      return;
    }
    uint32_t n = s->have - 2;
    memcpy(msgbuf, s->buf + 2, n);
    s->have = 0;
    mod_where = "dnsQuery";
    send_out((int32_t)Z_mapeZ_dnsQuery(&mod, put(msgbuf, n), 0, 0, (uint32_t)k), msgbuf);
    if (s->fd < 0) return;
  }
}

void dns_event(uint64_t tag, uint32_t events) {
  if (tag == T_LAN_UDP) {
    for (int i = 0; i < 64; i++) {
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t r = recvfrom(lan_udp, msgbuf, sizeof msgbuf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
      if (r < 0) return;
      mod_where = "dnsQuery";
      send_out((int32_t)Z_mapeZ_dnsQuery(&mod, put(msgbuf, (uint32_t)r), ntohl(from.sin_addr.s_addr), ntohs(from.sin_port), (uint32_t)-1), msgbuf);
    }
  } else if (tag == T_LAN_TCP) {
    int c = accept4(lan_tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    int k = 0;
    while (k < DNS_TCP_CLIENTS && clients[k].fd >= 0) k++;
    if (k == DNS_TCP_CLIENTS) {
      close(c);  // bounded: the client retries later
      return;
    }
    clients[k].fd = c;
    clients[k].have = 0;
    ep_add(c, T_CLIENT + (uint64_t)k, EPOLLIN);
  } else if (tag >= T_UP_UDP && tag < T_UP_UDP + DNS_UP_SOCKETS) {
    int k = (int)(tag - T_UP_UDP);
    for (int i = 0; i < 64; i++) {
      struct sockaddr_in6 from;
      socklen_t fl = sizeof from;
      ssize_t r = recvfrom(up_udp[k], msgbuf, sizeof msgbuf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
      if (r < 0) return;
      mod_where = "dnsAnswer";
      send_out((int32_t)Z_mapeZ_dnsAnswer(&mod, put(msgbuf, (uint32_t)r), (uint32_t)upstream_of(&from), (uint32_t)k, (uint32_t)-1), msgbuf);
    }
  } else if (tag >= T_CLIENT && tag < T_CLIENT + DNS_TCP_CLIENTS) {
    client_event((int)(tag - T_CLIENT));
  } else if (tag >= T_UP_TCP && tag < T_UP_TCP + DNS_UP_TCP) {
    up_tcp_event((int)(tag - T_UP_TCP), events);
  }
}

void dns_poll(void) {
  if (!opened) return;
  int64_t now = mono_ms();
  for (int j = 0; j < DNS_UP_TCP; j++) {
    if (ups[j].s.fd >= 0 && now - ups[j].opened_ms > DNS_UP_TCP_MS) ep_del_close(&ups[j].s.fd);
  }
  mod_where = "dnsPoll";
  for (int32_t n; (n = (int32_t)Z_mapeZ_dnsPoll(&mod)) > 0;) send_out(n, NULL);
}

const char *dns_address(void) { return addr_text; }

void dns_close(void) {
  if (!opened) return;
  ep_del_close(&lan_udp);
  ep_del_close(&lan_tcp);
  for (int k = 0; k < nup; k++) ep_del_close(&up_udp[k]);
  nup = 0;
  for (int k = 0; k < DNS_TCP_CLIENTS; k++) ep_del_close(&clients[k].fd);
  for (int j = 0; j < DNS_UP_TCP; j++) ep_del_close(&ups[j].s.fd);
  opened = 0;
}

int dns_open(int epfd, char *msg, size_t cap) {
  ep = epfd;
  for (int k = 0; k < DNS_TCP_CLIENTS; k++) clients[k].fd = -1;
  for (int j = 0; j < DNS_UP_TCP; j++) ups[j].s.fd = -1;
  for (int k = 0; k < DNS_UP_SOCKETS; k++) up_udp[k] = -1;
  lan_udp = lan_tcp = -1;
  nup = 0;
  opened = 1;
  mod_where = "dnsProxyAddress";
  uint32_t a = Z_mapeZ_dnsProxyAddress(&mod);
  if (a == 0) {
    opened = 0;
    return 0;
  }
  uint16_t port = (uint16_t)Z_mapeZ_dnsProxyPort(&mod);
  snprintf(addr_text, sizeof addr_text, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, port);
  if (Z_mapeZ_dnsUpstreamCount(&mod) == 0) {
    snprintf(msg, cap, "--dns-proxy: no upstream resolver: give --dns-upstream <ipv6> (or a DHCPv6 reply with OPTION_DNS_SERVERS, 23)");
    opened = 0;
    return -1;
  }
  mbuf = Z_mapeZ_dnsBuffer(&mod);
  msize = Z_mapeZ_dnsBufferSize(&mod);
  mem_check(mbuf, msize);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(a);
  int one = 1;
  lan_udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  lan_tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lan_tcp >= 0) setsockopt(lan_tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lan_udp < 0 || lan_tcp < 0 || bind(lan_udp, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      bind(lan_tcp, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lan_tcp, 16) < 0) {
    snprintf(msg, cap, "--dns-proxy: cannot answer on %s: %s", addr_text, strerror(errno));
    if (lan_udp >= 0) close(lan_udp);
    if (lan_tcp >= 0) close(lan_tcp);
    lan_udp = lan_tcp = -1;
    opened = 0;
    return -1;
  }
  ep_add(lan_udp, T_LAN_UDP, EPOLLIN);
  ep_add(lan_tcp, T_LAN_TCP, EPOLLIN);
  int want = (int)Z_mapeZ_dnsSocketCount(&mod);
  if (want > DNS_UP_SOCKETS) want = DNS_UP_SOCKETS;
  for (nup = 0; nup < want; nup++) {
    int s = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6};
    if (s < 0 || bind(s, (struct sockaddr *)&any, sizeof any) < 0) {
      snprintf(msg, cap, "--dns-proxy: cannot open an IPv6 socket toward the upstreams: %s", strerror(errno));
      if (s >= 0) close(s);
      dns_close();
      return -1;
    }
    up_udp[nup] = s;
    ep_add(s, T_UP_UDP + (uint64_t)nup, EPOLLIN);
  }
  return 1;
}
