// The PCP / NAT-PMP socket (pcp.h). Each datagram is copied into the module's
// PCP buffer, pcpRequest answers in place, the reply goes back to the sender.
#include "pcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mod.h"

#define PCP_PORT 5351

int pcp_open(const char *lan, char *msg, size_t cap) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PCP_PORT)};
  if (inet_pton(AF_INET, lan, &a.sin_addr) != 1) {
    snprintf(msg, cap, "--pcp: '%s' is not an IPv4 address (the CE's LAN address)", lan);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    snprintf(msg, cap, "--pcp %s: cannot bind UDP port %d: %s", lan, PCP_PORT, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

void pcp_readable(int fd, void (*before)(void)) {
  uint8_t req[1100];
  for (int k = 0; k < 64; k++) {  // bounded: the rest waits for the next turn
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(fd, req, sizeof req, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) return;
    before();
    mod_where = "pcpRequest";
    uint32_t buf = Z_mapeZ_pcpBufferPtr(&mod);
    uint32_t size = Z_mapeZ_pcpBufferSize(&mod);
    uint32_t len = (uint32_t)n < size ? (uint32_t)n : size;
    mem_copy_in(buf, req, len);
    int32_t r = (int32_t)Z_mapeZ_pcpRequest(&mod, len, ntohl(from.sin_addr.s_addr));
    if (r <= 0 || (uint32_t)r > size) continue;
    mem_copy_out(req, buf, (uint32_t)r);
    sendto(fd, req, (size_t)r, 0, (struct sockaddr *)&from, fl);
  }
}

size_t pcp_inbound_json(char *out, size_t cap) {
  mod_where = "inboundJson";
  uint32_t n = Z_mapeZ_inboundJson(&mod);
  uint32_t p = Z_mapeZ_textBuffer(&mod);
  if ((size_t)n + 16 > cap) return 0;
  size_t at = (size_t)snprintf(out, cap, ",\"inbound\":");
  mem_copy_out((uint8_t *)out + at, p, n);
  return at + n;
}
