// The DNS proxy's sockets in the router program (`mape ce --dns-proxy`):
// the protocol is the module's (assembly/dns/proxy.ts); dns.c owns the
// sockets and moves bytes through dnsBuffer(), as host/dnsproxy.ts does.
#ifndef MAPE_ROUTER_DNS_H
#define MAPE_ROUTER_DNS_H

#include <stddef.h>
#include <stdint.h>

/** epoll data.u64 tags of the proxy: DNS_TAG_FIRST .. DNS_TAG_END - 1. */
#define DNS_TAG_FIRST 0x100
#define DNS_TAG_END 0x200

/**
 * Opens the sockets the configuration in force asks for (dnsProxyAddress()
 * != 0) and adds them to epoll `ep`. 0: no proxy asked for; 1: open; -1: a
 * one-line error in msg (no upstream, a socket that cannot be opened).
 */
int dns_open(int ep, char *msg, size_t cap);
/** The LAN address:port answered on, after dns_open returned 1. */
const char *dns_address(void);
/** An epoll event of a tag in [DNS_TAG_FIRST, DNS_TAG_END). */
void dns_event(uint64_t tag, uint32_t events);
/** Retransmissions and expiry (call every tick). */
void dns_poll(void);
/** Closes every socket. */
void dns_close(void);

#endif
