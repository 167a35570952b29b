// One parse per IPv4 packet (smoltcp's Repr, VPP's per-buffer metadata):
// the CE and the BR start every IPv4 packet — from the LAN, the internet,
// inside a tunnel — with parse4, and the quote of an ICMP error goes through
// the same function (quote4) into a second record. After it, the stages read
// the record, never the L4 header by hand; only the wire accessors
// (assembly/wire/) touch the bytes.
//
// Input is untrusted: parse4 runs ipv4Check first and reads nothing its
// lengths do not cover; quote4 reads only the header and the 8 bytes RFC 792
// promises after it (quotes are attacker-controlled and usually truncated).
//
//   packet record (PKT_BYTES = 64), one per use: `pkt` (the packet being
//   handled) and `quote` (the packet an ICMP error quotes)
//   +-----------------+-----------------+-----------------+-----------------+
//   | src u32         | dst u32         | l4 usize        | len i32         |  0
//   +-----------------+-----------------+-----------------+-----------------+
//   | l4len i32       | proto i32       | id i32          | fragOff i32     | 16
//   +-----------------+-----------------+-----------------+-----------------+
//   | sport i32       | dport i32       | tcpFlags i32    | icmpType i32    | 32
//   +-----------------+-----------------+-----------------+-----------------+
//   | portsErr i32    | l4Err i32       | fragErr i32     |more|df |ports|   | 48
//   +-----------------+-----------------+-----------------+----+---+-----+---+
//
//   len        Total Length (bytes after it are link padding, not the packet)
//   l4, l4len  the payload after the header (a quote: what the quote holds)
//   fragOff    fragment offset in bytes; more / df the MF / DF flags
//              (`first`: a first fragment, offset 0 and MF set)
//   sport, dport  TCP / UDP ports; ICMP echo: the identifier in both;
//              valid when `ports` (offset 0 and a protocol with ports)
//   tcpFlags   the TCP flag byte (0 for anything else)
//   icmpType   the ICMP type (ICMP with offset 0 and 8 bytes), else -1
//   portsErr   0, or why the L4 header is too short to carry its ports
//              (TCP 20 bytes, UDP and ICMP 8): what a router needs (BR)
//   l4Err      portsErr, or a whole packet whose TCP data offset or UDP
//              length does not fit (the CE's NAPT rewrites the segment)
//   fragErr    RFC 791: a fragment with MF set carries a multiple of 8
//              bytes, and no fragment reaches past 65535 (drop-fragment-bad)
//
// The stages check the errors in their own order (a martian or a TTL
// runs out before a bad fragment is looked at), so the counters stay what
// the RFCs' order of checks gives.
import {
  ipv4Check, ipv4HeaderLength, ipv4TotalLength, ipv4Src, ipv4Dst, ipv4Ttl, ipv4Protocol, ipv4Id,
  ipv4FlagsFragment, IPV4_OK, IPV4_HEADER_LEN, IPV4_FLAG_DF, IPV4_FLAG_MF, IPV4_FRAGMENT_MASK, IP_PROTO_ICMP,
  IP_PROTO_TCP, IP_PROTO_UDP,
} from "../wire/ipv4";
import { tcpSrcPort, tcpDstPort, tcpFlags, tcpCheck, TCP_OK, TCP_HEADER_LEN } from "../wire/tcp";
import { udpSrcPort, udpDstPort, udpLength, UDP_HEADER_LEN } from "../wire/udp";
import { icmp4Type, icmp4EchoId, ICMP4_HEADER_LEN, ICMP4_ECHO_REQUEST, ICMP4_ECHO_REPLY } from "../wire/icmp4";
import { ipv4Reason } from "./stage";
import { D_IPV4_BAD_L4, D_FRAGMENT_BAD } from "./counters";

@unmanaged
export class Packet {
  src: u32 = 0;
  dst: u32 = 0;
  l4: usize = 0;
  len: i32 = 0;
  l4len: i32 = 0;
  proto: i32 = 0;
  id: i32 = 0;
  fragOff: i32 = 0;
  sport: i32 = 0;
  dport: i32 = 0;
  tcpFlags: i32 = 0;
  icmpType: i32 = 0;
  portsErr: i32 = 0;
  l4Err: i32 = 0;
  fragErr: i32 = 0;
  more: bool = false;
  df: bool = false;
  ports: bool = false;
  /** A first fragment: offset 0, MF set. */
  @inline get first(): bool { return this.fragOff == 0 && this.more; }
}

const PKT_BYTES: i32 = 64;
// The record must fit the region drawn above (checked at compile time).
// @ts-ignore: a compile-time static assertion
if (<i32>offsetof<Packet>() > PKT_BYTES) ERROR("Packet record larger than PKT_BYTES");

/** The IPv4 packet being handled (CE and BR: one packet at a time). */
export const pkt: Packet = changetype<Packet>(memory.data(PKT_BYTES, 16));
/** The IPv4 packet an ICMP error quotes (quote4). */
export const quote: Packet = changetype<Packet>(memory.data(PKT_BYTES, 16));

/**
 * Parses the IPv4 packet (len bytes at p) into r: ipv4Check, then the
 * header, the fragment state with its RFC 791 checks (fragErr), and for a
 * whole packet or a first fragment the L4 fields (ports or echo id, TCP
 * flags, ICMP type) with how far they can be trusted (portsErr, l4Err).
 * Returns 0, or the drop reason of a header that cannot be trusted (then
 * nothing else in r is valid).
 */
@inline export function parse4(r: Packet, p: usize, len: i32): i32 {
  const c = ipv4Check(p, len);
  if (c != IPV4_OK) return ipv4Reason(c);
  len = ipv4TotalLength(p);
  const hl = ipv4HeaderLength(p);
  const l4len = len - hl;
  fill(r, p, hl, l4len, false);
  r.len = len;
  r.fragErr = (r.more && (l4len & 7) != 0) || r.fragOff + l4len > 65535 ? D_FRAGMENT_BAD : 0;
  return 0;
}

/**
 * Parses the IPv4 packet quoted (qlen bytes at q) inside an ICMP error into
 * r (the QUOTE record). Returns its header length, or 0 when the quote
 * cannot be used: not IPv4, a bad IHL, less than the header plus 8 bytes,
 * or a quoted ICMP message other than an echo (an error about an ICMP error
 * is never sent, RFC 1812 §4.3.2.7, so such a quote is forged). A quoted
 * non-first fragment, or a protocol without ports, has only its addresses
 * (r.ports false). r.len is what the quote holds (the quoted Total Length
 * is the original's).
 */
export function quote4(r: Packet, q: usize, qlen: i32): i32 {
  if (qlen < IPV4_HEADER_LEN + 8 || (load<u8>(q) >> 4) != 4) return 0;
  const qhl = ipv4HeaderLength(q);
  if (qhl < IPV4_HEADER_LEN || qlen < qhl + 8) return 0;
  fill(r, q, qhl, qlen - qhl, true);
  r.len = qlen;
  r.fragErr = 0;
  if (r.proto == IP_PROTO_ICMP && r.fragOff == 0 && !r.ports) return 0;
  return qhl;
}

/**
 * The fields both parses share. `quoted`: only 8 bytes after the header
 * are promised (ports of every protocol fit in them; nothing past is read).
 */
@inline function fill(r: Packet, p: usize, hl: i32, l4len: i32, quoted: bool): void {
  const ff = ipv4FlagsFragment(p);
  const l4 = p + <usize>hl;
  const proto = ipv4Protocol(p);
  r.src = ipv4Src(p);
  r.dst = ipv4Dst(p);
  r.l4 = l4;
  r.l4len = l4len;
  r.proto = proto;
  r.id = ipv4Id(p);
  const fragOff = <i32>(ff & IPV4_FRAGMENT_MASK) << 3;
  const more = (ff & IPV4_FLAG_MF) != 0;
  r.fragOff = fragOff;
  r.more = more;
  r.df = (ff & IPV4_FLAG_DF) != 0;
  // Each path below writes every L4 field once.
  let sport = 0;
  let dport = 0;
  let flags = 0;
  let type = -1;
  let ports = false;
  let short = 0;
  let bad = 0;
  if (fragOff == 0) {
    if (proto == IP_PROTO_TCP) {
      const need = quoted ? 8 : TCP_HEADER_LEN;
      if (l4len < need) {
        short = D_IPV4_BAD_L4;
        bad = D_IPV4_BAD_L4;
      } else {
        sport = tcpSrcPort(l4);
        dport = tcpDstPort(l4);
        ports = true;
        if (!quoted) {
          flags = tcpFlags(l4);
          if (!more && tcpCheck(l4, l4len) != TCP_OK) bad = D_IPV4_BAD_L4;
        }
      }
    } else if (proto == IP_PROTO_UDP) {
      if (l4len < UDP_HEADER_LEN) {
        short = D_IPV4_BAD_L4;
        bad = D_IPV4_BAD_L4;
      } else {
        sport = udpSrcPort(l4);
        dport = udpDstPort(l4);
        ports = true;
        if (!quoted && !more) {
          const ul = udpLength(l4);
          if (ul < UDP_HEADER_LEN || ul > l4len) bad = D_IPV4_BAD_L4;
        }
      }
    } else if (proto == IP_PROTO_ICMP) {
      if (l4len < ICMP4_HEADER_LEN) {
        short = D_IPV4_BAD_L4;
        bad = D_IPV4_BAD_L4;
      } else {
        type = icmp4Type(l4);
        if (type == ICMP4_ECHO_REQUEST || type == ICMP4_ECHO_REPLY) {
          sport = icmp4EchoId(l4);
          dport = sport;
          ports = true;
        }
      }
    }
  }
  r.sport = sport;
  r.dport = dport;
  r.tcpFlags = flags;
  r.icmpType = type;
  r.ports = ports;
  r.portsErr = short;
  r.l4Err = bad;
}
