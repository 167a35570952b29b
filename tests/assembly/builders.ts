// Test helpers (not a spec): builders that make valid packets with correct
// checksums through the wire setters, hex fixtures made outside this code
// (Python's struct + socket, checked with tshark: every checksum "good"),
// and byte comparison. Nothing here allocates: buffers are raw pointers.
//
// Addresses in builders: IPv4 as host-order u32 (ip4(192,0,2,1)), IPv6 as
// pointers to 16 bytes (ip6(dst, hi, lo) writes one).
import { setIpv4VersionIhl, setIpv4Tos, setIpv4TotalLength, setIpv4Id, setIpv4Fragment,
  setIpv4Ttl, setIpv4Protocol, setIpv4Checksum, setIpv4Src, setIpv4Dst, ipv4FillChecksum,
  IPV4_HEADER_LEN, IP_PROTO_UDP, IP_PROTO_TCP, IP_PROTO_ICMP, IP_PROTO_ICMPV6, IP_PROTO_IPIP } from "../../assembly/wire/ipv4";
import { setIpv6VersionClassFlow, setIpv6PayloadLength, setIpv6NextHeader, setIpv6HopLimit,
  setIpv6Src, setIpv6Dst, setIpv6Frag, ipv6Src, ipv6Dst, IPV6_HEADER_LEN, IPV6_NH_FRAGMENT,
  IPV6_FRAG_HEADER_LEN } from "../../assembly/wire/ipv6";
import { setUdpSrcPort, setUdpDstPort, setUdpLength, setUdpChecksum, udpComputeChecksum4,
  udpComputeChecksum6, UDP_HEADER_LEN } from "../../assembly/wire/udp";
import { setTcpSrcPort, setTcpDstPort, setTcpSeq, setTcpAck, setTcpDataOffset, setTcpFlags,
  setTcpWindow, setTcpChecksum, setTcpUrgent, tcpComputeChecksum4, tcpComputeChecksum6,
  TCP_HEADER_LEN, TCP_OPT_MSS, TCP_OPT_MSS_LEN } from "../../assembly/wire/tcp";
import { setIcmp4Type, setIcmp4Code, setIcmp4Checksum, setIcmp4EchoId, setIcmp4EchoSeq,
  icmp4FillChecksum, ICMP4_HEADER_LEN } from "../../assembly/wire/icmp4";
import { setIcmp6Type, setIcmp6Code, setIcmp6Checksum, setIcmp6EchoId, setIcmp6EchoSeq,
  icmp6FillChecksum, ICMP6_HEADER_LEN } from "../../assembly/wire/icmp6";

/** Two 2 KiB packet buffers and a 64-byte address scratch for specs. */
export const PKT_A: usize = memory.data(2048, 16);
export const PKT_B: usize = memory.data(2048, 16);
export const ADDR_A: usize = memory.data(16, 16);
export const ADDR_B: usize = memory.data(16, 16);
export const ADDR_C: usize = memory.data(16, 16);
export const ADDR_D: usize = memory.data(16, 16);

/** Host-order IPv4 address from dotted quad parts. */
export function ip4(a: i32, b: i32, c: i32, d: i32): u32 {
  return (<u32>(a & 0xFF) << 24) | (<u32>(b & 0xFF) << 16) | (<u32>(c & 0xFF) << 8) | <u32>(d & 0xFF);
}

/** Writes an IPv6 address given as two big-endian halves (hi = first 8 bytes); returns `dst`. */
export function ip6(dst: usize, hi: u64, lo: u64): usize {
  store<u64>(dst, bswap<u64>(hi));
  store<u64>(dst, bswap<u64>(lo), 8);
  return dst;
}

/** Fills `len` bytes with a pattern that depends on `seed` (payloads with non-trivial checksums). */
export function fillPayload(p: usize, len: i32, seed: i32 = 0): void {
  for (let i = 0; i < len; i++) store<u8>(p + <usize>i, <u8>(i * 7 + seed * 13 + 1));
}

/** Index of the first differing byte of two `len`-byte regions, or -1 when equal. */
export function firstDiff(a: usize, b: usize, len: i32): i32 {
  for (let i = 0; i < len; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return i;
  }
  return -1;
}

/** Copies a fixture (or any bytes) into `dst`; returns `len`. */
export function copyBytes(dst: usize, src: usize, len: i32): i32 {
  memory.copy(dst, src, <usize>len);
  return len;
}

// ---------------------------------------------------------------------------
// IPv4

/**
 * Writes a 20-byte IPv4 header (no options) for `payloadLen` bytes of
 * payload, with a correct header checksum. Returns 20.
 */
export function buildIpv4Header(buf: usize, src: u32, dst: u32, protocol: i32, payloadLen: i32,
    ttl: i32 = 64, id: i32 = 0, df: bool = true): i32 {
  setIpv4VersionIhl(buf, 5);
  setIpv4Tos(buf, 0);
  setIpv4TotalLength(buf, IPV4_HEADER_LEN + payloadLen);
  setIpv4Id(buf, id);
  setIpv4Fragment(buf, df, false, 0);
  setIpv4Ttl(buf, ttl);
  setIpv4Protocol(buf, protocol);
  setIpv4Checksum(buf, 0);
  setIpv4Src(buf, src);
  setIpv4Dst(buf, dst);
  ipv4FillChecksum(buf);
  return IPV4_HEADER_LEN;
}

/** Writes a UDP header at `u` with `payloadLen` bytes of pattern payload; no checksum yet. */
function udpBody(u: usize, sport: i32, dport: i32, payloadLen: i32): i32 {
  setUdpSrcPort(u, sport);
  setUdpDstPort(u, dport);
  setUdpLength(u, UDP_HEADER_LEN + payloadLen);
  setUdpChecksum(u, 0);
  fillPayload(u + UDP_HEADER_LEN, payloadLen, sport);
  return UDP_HEADER_LEN + payloadLen;
}

/** IPv4 + UDP (checksummed) + pattern payload. Returns the packet length. */
export function buildIpv4Udp(buf: usize, src: u32, dst: u32, sport: i32, dport: i32, payloadLen: i32): i32 {
  const u = buf + IPV4_HEADER_LEN;
  const ul = udpBody(u, sport, dport, payloadLen);
  setUdpChecksum(u, udpComputeChecksum4(u, ul, src, dst));
  buildIpv4Header(buf, src, dst, IP_PROTO_UDP, ul);
  return IPV4_HEADER_LEN + ul;
}

/** Writes a TCP header at `t` (with an MSS option when mss > 0) and pattern payload; no checksum yet. */
function tcpBody(t: usize, sport: i32, dport: i32, flags: i32, seq: u32, ack: u32, mss: i32, payloadLen: i32): i32 {
  const hl = mss > 0 ? TCP_HEADER_LEN + TCP_OPT_MSS_LEN : TCP_HEADER_LEN;
  setTcpSrcPort(t, sport);
  setTcpDstPort(t, dport);
  setTcpSeq(t, seq);
  setTcpAck(t, ack);
  setTcpDataOffset(t, hl);
  setTcpFlags(t, flags);
  setTcpWindow(t, 65535);
  setTcpChecksum(t, 0);
  setTcpUrgent(t, 0);
  if (mss > 0) {
    store<u8>(t, <u8>TCP_OPT_MSS, TCP_HEADER_LEN);
    store<u8>(t, <u8>TCP_OPT_MSS_LEN, TCP_HEADER_LEN + 1);
    store<u16>(t, bswap<u16>(<u16>mss), TCP_HEADER_LEN + 2);
  }
  fillPayload(t + <usize>hl, payloadLen, sport);
  return hl + payloadLen;
}

/** IPv4 + TCP (flags, seq, ack; MSS option when mss > 0) + pattern payload. Returns the length. */
export function buildIpv4Tcp(buf: usize, src: u32, dst: u32, sport: i32, dport: i32, flags: i32,
    seq: u32 = 1000, ack: u32 = 0, mss: i32 = 0, payloadLen: i32 = 0): i32 {
  const t = buf + IPV4_HEADER_LEN;
  const tl = tcpBody(t, sport, dport, flags, seq, ack, mss, payloadLen);
  setTcpChecksum(t, tcpComputeChecksum4(t, tl, src, dst));
  buildIpv4Header(buf, src, dst, IP_PROTO_TCP, tl);
  return IPV4_HEADER_LEN + tl;
}

/** IPv4 + ICMP echo request/reply (type 8 or 0) + pattern payload. Returns the length. */
export function buildIpv4IcmpEcho(buf: usize, src: u32, dst: u32, type: i32, id: i32, seq: i32, payloadLen: i32): i32 {
  const m = buf + IPV4_HEADER_LEN;
  setIcmp4Type(m, type);
  setIcmp4Code(m, 0);
  setIcmp4Checksum(m, 0);
  setIcmp4EchoId(m, id);
  setIcmp4EchoSeq(m, seq);
  fillPayload(m + ICMP4_HEADER_LEN, payloadLen, id);
  const ml = ICMP4_HEADER_LEN + payloadLen;
  icmp4FillChecksum(m, ml);
  buildIpv4Header(buf, src, dst, IP_PROTO_ICMP, ml);
  return IPV4_HEADER_LEN + ml;
}

/**
 * IPv4 + ICMP error (type, code, the 4-byte rest of header `rest` in host
 * order, e.g. the MTU for code 4) quoting `quoteLen` bytes from `quote`
 * (may overlap `buf`: copied with memmove). Returns the length.
 */
export function buildIpv4IcmpError(buf: usize, src: u32, dst: u32, type: i32, code: i32, rest: u32,
    quote: usize, quoteLen: i32): i32 {
  const m = buf + IPV4_HEADER_LEN;
  memory.copy(m + ICMP4_HEADER_LEN, quote, <usize>quoteLen);
  setIcmp4Type(m, type);
  setIcmp4Code(m, code);
  setIcmp4Checksum(m, 0);
  store<u32>(m, bswap<u32>(rest), 4);
  const ml = ICMP4_HEADER_LEN + quoteLen;
  icmp4FillChecksum(m, ml);
  buildIpv4Header(buf, src, dst, IP_PROTO_ICMP, ml);
  return IPV4_HEADER_LEN + ml;
}

// ---------------------------------------------------------------------------
// IPv6

/**
 * Writes a 40-byte IPv6 header in front of `payloadLen` bytes already at
 * buf + 40 (e.g. an IPv4 packet: nextHeader 4 gives the MAP-E
 * IPv4-in-IPv6 encapsulation, RFC 7597 §7.1 / RFC 2473). Returns 40 + payloadLen.
 */
export function buildIpv6(buf: usize, src: usize, dst: usize, nextHeader: i32, payloadLen: i32, hopLimit: i32 = 64): i32 {
  setIpv6VersionClassFlow(buf, 0, 0);
  setIpv6PayloadLength(buf, payloadLen);
  setIpv6NextHeader(buf, nextHeader);
  setIpv6HopLimit(buf, hopLimit);
  setIpv6Src(buf, src);
  setIpv6Dst(buf, dst);
  return IPV6_HEADER_LEN + payloadLen;
}

/** MAP-E encapsulation of the IPv4 packet already at buf + 40 (`ipv4Len` bytes). */
export function buildIpv4InIpv6(buf: usize, src: usize, dst: usize, ipv4Len: i32): i32 {
  return buildIpv6(buf, src, dst, IP_PROTO_IPIP, ipv4Len);
}

/** IPv6 + UDP (checksummed) + pattern payload. Returns the length. */
export function buildIpv6Udp(buf: usize, src: usize, dst: usize, sport: i32, dport: i32, payloadLen: i32): i32 {
  const u = buf + IPV6_HEADER_LEN;
  const ul = udpBody(u, sport, dport, payloadLen);
  buildIpv6(buf, src, dst, IP_PROTO_UDP, ul);
  setUdpChecksum(u, udpComputeChecksum6(u, ul, ipv6Src(buf), ipv6Dst(buf)));
  return IPV6_HEADER_LEN + ul;
}

/** IPv6 + TCP + pattern payload. Returns the length. */
export function buildIpv6Tcp(buf: usize, src: usize, dst: usize, sport: i32, dport: i32, flags: i32,
    seq: u32 = 1000, ack: u32 = 0, mss: i32 = 0, payloadLen: i32 = 0): i32 {
  const t = buf + IPV6_HEADER_LEN;
  const tl = tcpBody(t, sport, dport, flags, seq, ack, mss, payloadLen);
  buildIpv6(buf, src, dst, IP_PROTO_TCP, tl);
  setTcpChecksum(t, tcpComputeChecksum6(t, tl, ipv6Src(buf), ipv6Dst(buf)));
  return IPV6_HEADER_LEN + tl;
}

/** IPv6 + ICMPv6 echo request/reply (type 128 or 129) + pattern payload. Returns the length. */
export function buildIpv6IcmpEcho(buf: usize, src: usize, dst: usize, type: i32, id: i32, seq: i32, payloadLen: i32): i32 {
  const m = buf + IPV6_HEADER_LEN;
  setIcmp6Type(m, type);
  setIcmp6Code(m, 0);
  setIcmp6Checksum(m, 0);
  setIcmp6EchoId(m, id);
  setIcmp6EchoSeq(m, seq);
  fillPayload(m + ICMP6_HEADER_LEN, payloadLen, id);
  const ml = ICMP6_HEADER_LEN + payloadLen;
  buildIpv6(buf, src, dst, IP_PROTO_ICMPV6, ml);
  icmp6FillChecksum(m, ml, ipv6Src(buf), ipv6Dst(buf));
  return IPV6_HEADER_LEN + ml;
}

/**
 * IPv6 + ICMPv6 error (type, code, 32-bit `rest`: MTU for Packet Too Big,
 * pointer for Parameter Problem) quoting `quoteLen` bytes from `quote`
 * (may overlap `buf`). Returns the length.
 */
export function buildIpv6IcmpError(buf: usize, src: usize, dst: usize, type: i32, code: i32, rest: u32,
    quote: usize, quoteLen: i32): i32 {
  const m = buf + IPV6_HEADER_LEN;
  memory.copy(m + ICMP6_HEADER_LEN, quote, <usize>quoteLen);
  setIcmp6Type(m, type);
  setIcmp6Code(m, code);
  setIcmp6Checksum(m, 0);
  store<u32>(m, bswap<u32>(rest), 4);
  const ml = ICMP6_HEADER_LEN + quoteLen;
  buildIpv6(buf, src, dst, IP_PROTO_ICMPV6, ml);
  icmp6FillChecksum(m, ml, ipv6Src(buf), ipv6Dst(buf));
  return IPV6_HEADER_LEN + ml;
}

/**
 * IPv6 + Fragment header (offset in bytes, M flag, identification) in
 * front of `fragLen` bytes already at buf + 48. Returns 48 + fragLen.
 */
export function buildIpv6Fragment(buf: usize, src: usize, dst: usize, nextHeader: i32, offsetBytes: i32,
    more: bool, id: u32, fragLen: i32): i32 {
  buildIpv6(buf, src, dst, IPV6_NH_FRAGMENT, IPV6_FRAG_HEADER_LEN + fragLen);
  setIpv6Frag(buf + IPV6_HEADER_LEN, nextHeader, offsetBytes, more, id);
  return IPV6_HEADER_LEN + IPV6_FRAG_HEADER_LEN + fragLen;
}

// ---------------------------------------------------------------------------
// Fixtures: real packets, checksums computed independently (see top).
// Addresses: 192.0.2.1 -> 198.51.100.2; 2001:db8::1 -> 2001:db8:1::2.

/** IPV4_UDP */
export const FX_IPV4_UDP: usize = memory.data<u8>([
  0x45, 0x00, 0x00, 0x28, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x32, 0x48, 0xc0, 0x00, 0x02, 0x01,
  0xc6, 0x33, 0x64, 0x02, 0x04, 0xd2, 0x00, 0x35, 0x00, 0x14, 0xce, 0x3b, 0x68, 0x65, 0x6c, 0x6c,
  0x6f, 0x2c, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64,
]);
export const FX_IPV4_UDP_LEN: i32 = 40;
/** IPV4_TCP_SYN */
export const FX_IPV4_TCP_SYN: usize = memory.data<u8>([
  0x45, 0x00, 0x00, 0x3c, 0xbe, 0xef, 0x40, 0x00, 0x40, 0x06, 0x8f, 0x95, 0xc0, 0x00, 0x02, 0x01,
  0xc6, 0x33, 0x64, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
  0xa0, 0x02, 0xfa, 0xf0, 0xc0, 0x40, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
]);
export const FX_IPV4_TCP_SYN_LEN: i32 = 60;
/** IPV4_TCP_NOP_MSS */
export const FX_IPV4_TCP_NOP_MSS: usize = memory.data<u8>([
  0x45, 0x00, 0x00, 0x30, 0x01, 0x02, 0x40, 0x00, 0x40, 0x06, 0x4d, 0x8f, 0xc0, 0x00, 0x02, 0x01,
  0xc6, 0x33, 0x64, 0x02, 0x9c, 0x41, 0x01, 0xbb, 0xff, 0xff, 0xff, 0xf0, 0x11, 0x22, 0x33, 0x44,
  0x70, 0x12, 0xff, 0xff, 0x93, 0x19, 0x00, 0x00, 0x01, 0x02, 0x04, 0x23, 0x28, 0x01, 0x01, 0x00,
]);
export const FX_IPV4_TCP_NOP_MSS_LEN: i32 = 48;
/** IPV4_ICMP_ECHO */
export const FX_IPV4_ICMP_ECHO: usize = memory.data<u8>([
  0x45, 0x00, 0x00, 0x24, 0x04, 0xd2, 0x40, 0x00, 0x40, 0x01, 0x49, 0xd0, 0xc0, 0x00, 0x02, 0x01,
  0xc6, 0x33, 0x64, 0x02, 0x08, 0x00, 0x54, 0x35, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64,
  0x65, 0x66, 0x67, 0x68,
]);
export const FX_IPV4_ICMP_ECHO_LEN: i32 = 36;
/** IPV4_OPTS_UDP */
export const FX_IPV4_OPTS_UDP: usize = memory.data<u8>([
  0x46, 0xb8, 0x00, 0x21, 0x00, 0x07, 0x00, 0x00, 0x01, 0x11, 0x37, 0xd2, 0xc0, 0x00, 0x02, 0x01,
  0xc6, 0x33, 0x64, 0x02, 0x94, 0x04, 0x00, 0x00, 0x13, 0x88, 0x17, 0x70, 0x00, 0x09, 0x70, 0xac,
  0x78,
]);
export const FX_IPV4_OPTS_UDP_LEN: i32 = 33;
/** IPV6_UDP */
export const FX_IPV6_UDP: usize = memory.data<u8>([
  0x6b, 0x81, 0x23, 0x45, 0x00, 0x14, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0xd2, 0x00, 0x35, 0x00, 0x14, 0x5e, 0xfd,
  0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64,
]);
export const FX_IPV6_UDP_LEN: i32 = 60;
/** IPV6_ICMP_ECHO */
export const FX_IPV6_ICMP_ECHO: usize = memory.data<u8>([
  0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x9d, 0xe9, 0x43, 0x21, 0x00, 0x07,
  0x70, 0x69, 0x6e, 0x67, 0x36, 0x2e, 0x2e, 0x2e,
]);
export const FX_IPV6_ICMP_ECHO_LEN: i32 = 56;
/** IPV6_EXT_UDP */
export const FX_IPV6_EXT_UDP: usize = memory.data<u8>([
  0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
  0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
  0x00, 0x07, 0x00, 0x09, 0x00, 0x14, 0x7a, 0x07, 0x66, 0x72, 0x61, 0x67, 0x6d, 0x65, 0x6e, 0x74,
  0x65, 0x64, 0x21, 0x21,
]);
export const FX_IPV6_EXT_UDP_LEN: i32 = 84;
/** IPV6_FRAG_LATER */
export const FX_IPV6_FRAG_LATER: usize = memory.data<u8>([
  0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x2c, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x06, 0x00, 0x05, 0xc8, 0x00, 0x00, 0xca, 0xfe,
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);
export const FX_IPV6_FRAG_LATER_LEN: i32 = 64;
/** IPV6_IPIP */
export const FX_IPV6_IPIP: usize = memory.data<u8>([
  0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x04, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x12, 0x34, 0x00,
  0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x34, 0x45, 0x00, 0x00, 0x24, 0x04, 0xd2, 0x40, 0x00,
  0x40, 0x01, 0x49, 0xd0, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x08, 0x00, 0x54, 0x35,
  0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
]);
export const FX_IPV6_IPIP_LEN: i32 = 76;
