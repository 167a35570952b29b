// TUN batch I/O shared by the Node addon (native/tun.c) and the router
// program (native/router/): ONE implementation of opening a TUN, reading and
// writing batches of packets straight into caller-chosen slots of one
// buffer, the virtio_net_hdr and TCP coalescing into GSO writes.
//
//   tunio_open(name, flags, path, ifname, &err)    -> fd (non-blocking) or -1
//   tunio_mtu(name, &err)                          -> MTU or -1
//   tunio_read_batch(fd, buf, off, cap, lens, count, flags, &err)
//        reads until `count` packets or EAGAIN; returns how many (lens[i] set);
//        an error after some packets returns those (the next call meets it
//        again); with none, returns -1 and err (EAGAIN gives 0).
//   tunio_write_batch(fd, buf, off, lens, count, res, flags, &err)
//        writes packets in order; stops early only when the device would
//        block (EAGAIN: retry from the returned n). A packet the kernel
//        refuses is consumed, res[i] = -errno (else the bytes written).
//        Returns -1 with err only when the fd is gone (EBADF) before any.
//
// flags: TUNIO_VNET (the fd has IFF_VNET_HDR: a struct virtio_net_hdr before
// every packet, added and stripped here) and, on write, TUNIO_COALESCE_TCP4:
// consecutive IPv4 TCP segments of one flow go as ONE GSO super-packet
// (VIRTIO_NET_HDR_GSO_TCPV4, like the kernel's GRO or wireguard-go's), so the
// stack behind the TUN handles one skb instead of dozens. The headers of the
// first segment of a merged run are rewritten in place (restored if the
// write fails).
#ifndef MAPE_TUNIO_H
#define MAPE_TUNIO_H

#include <stdint.h>

#define TUNIO_VNET 1
#define TUNIO_COALESCE_TCP4 2
// Read: the fd negotiated offloads (tunio_offload): TCPv4 super-packets
// are cut into MSS segments, one per slot (see tunio.c); a partial
// checksum is finished.
#define TUNIO_TSO 4
// Most segments one super-packet yields (the TUN's gso_max_segs); a read
// starts only with this many slots left (unless it is the batch's first).
#define TUNIO_TSO_SEGS 64
// Write (with TUNIO_VNET): the batch's writes go through a per-thread
// io_uring, one system call for up to 64 writes (writev where io_uring is
// missing). A write the device would block comes back as -EAGAIN (tun-write-blocked).
// Read: the batch's reads go through the same ring, up to 64 READV entries
// per system call, each straight into its slot; with TUNIO_TSO up to 32
// into a per-thread staging area, copied (cut) into the slots, and what
// does not fit waits there for the next call on the fd (readv where
// io_uring is missing; readv for another fd of the thread meanwhile).
#define TUNIO_URING 8

// Super-packets read: cut, and dropped as impossible to cut (packets,
// bytes); read system calls made (read/readv, or io_uring_enter for reads);
// and, set (not added to) by a TUNIO_URING read, the reads still staged for
// the fd after the call: no readable event announces them, so the host
// calls again (a call that starts with some staged delivers only those).
typedef struct {
  uint64_t tso_packets, tso_bytes, tso_dropped, tso_dropped_bytes;
  uint64_t read_calls;
  uint64_t staged;
} tunio_stats;

int tunio_open(const char *name, int extra_flags, const char *path, char *ifname, int *err);
/** What to do about an errno of open() or of TUNSETIFF (for messages). */
const char *tunio_open_hint(int err);
const char *tunio_setiff_hint(int err);
int tunio_mtu(const char *name, int *err);
int32_t tunio_read_batch(int fd, uint8_t *buf, const int32_t *off, const int32_t *cap, int32_t *lens, uint32_t count,
                         uint32_t flags, tunio_stats *st, int *err);
/** TUNSETOFFLOAD (checksum, TSO4) and gso_max_segs TUNIO_TSO_SEGS on the
 *  TUN `ifname` of fd (opened with IFF_VNET_HDR); 0, or -1 and err. */
int tunio_offload(int fd, const char *ifname, int *err);
/** Drops what a TUNIO_URING read left staged for fd (call it before closing
 *  the fd, on the thread that read it: a new fd of that number must not
 *  get the old device's packets). */
void tunio_forget(int fd);
int32_t tunio_write_batch(int fd, uint8_t *buf, const int32_t *off, const int32_t *lens, uint32_t count, int32_t *res,
                          uint32_t flags, int *err);

#endif
