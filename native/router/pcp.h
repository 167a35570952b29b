// The PCP / NAT-PMP socket of the router program (`mape ce --pcp <lan-ipv4>`),
// as host/pcp.ts in the Node host: UDP port 5351 on the CE's LAN address;
// the protocol is the module's (assembly/nat/pcp.ts pcpRequest).
#ifndef MAPE_ROUTER_PCP_H
#define MAPE_ROUTER_PCP_H

#include <stddef.h>

/** epoll data.u64 tag of the PCP socket (docs: pcp/nat-pmp 0x200+). */
#define PCP_TAG 0x200

/** Binds UDP lan:5351; the fd, or -1 with a one-line message in msg. */
int pcp_open(const char *lan, char *msg, size_t cap);
/** Answers every datagram waiting on fd; `before` runs first (the tick: the module clock is the request's time). */
void pcp_readable(int fd, void (*before)(void));
/** Appends `"inbound":{…}` (the module's inboundJson) at out; bytes written (0 when it does not fit). */
size_t pcp_inbound_json(char *out, size_t cap);

#endif
