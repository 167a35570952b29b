// The customer edge (CE) data path: NAPT44 into the CE's port set plus
// IPv4-in-IPv6 encapsulation (RFC 7597 §8, RFC 2473), for one packet at a
// time. `process` (datapath/process.ts) calls ceFromLan for IPv4 input and
// ceFromWan for IPv6 input. Each returns its next hop when the packet
// leaves — TO_IPV6 or TO_IPV4 (stage.ts); pktPtr / pktLen say where it now
// starts and how long it is: encapsulation moves the start back into the
// headroom, decapsulation moves it forward — HELD when the module keeps it,
// or the one drop reason (a D_* counter). Every IPv4 packet (from the LAN,
// inside a tunnel, quoted by an ICMP error) is parsed once into a record
// (parse.ts) that the steps below read.
//
// Input is untrusted: every header passes its …Check before an accessor
// reads it, and every length below comes from a checked header.
import { settings } from "../settings";
import { domain, cePortSet, ceMapAddressPtr, brAddressPtr, ruleAt } from "../map/provision";
import { lpmIPv4, lpmIPv6 } from "../map/lpm";
import { ruleMapIPv6 } from "../map/rule";
import { portSetIndex, portSetPort, portSetHas } from "../map/portset";
import {
  ipv4Check, ipv4HeaderLength, ipv4TotalLength, ipv4Src, ipv4Dst, ipv4Ttl, ipv4Protocol, ipv4Id,
  ipv4DontFragment, ipv4MoreFragments, ipv4FragmentOffset, ipv4Checksum, setIpv4SrcUpdate, setIpv4SrcDelta,
  setIpv4DstDelta, ipv4DecrementTtlDelta, setIpv4IdDelta, ipv4ChecksumApply, setIpv4Dst,
  setIpv4DstUpdate, setIpv4Id, setIpv4Checksum, IPV4_OK, IPV4_HEADER_LEN, IP_PROTO_ICMP,
  IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_IPIP, IP_PROTO_ICMPV6,
} from "../wire/ipv4";
import {
  ipv6Check, ipv6Upper, ipv6Src, ipv6Dst, ipv6PayloadLength, ipv6AddrEqual, ipv6AddrCopy, ipv6NextHeader,
  ipv6UpperOffset, ipv6UpperProtocol, ipv6FragHeaderAt, ipv6FragmentOffset, ipv6FragmentMore, IPV6_OK,
  IPV6_HEADER_LEN,
} from "../wire/ipv6";
import { udpChecksum, setUdpChecksum, setUdpDstPort } from "../wire/udp";
import {
  tcpFlags, tcpChecksum, setTcpChecksum, setTcpDstPort, tcpCheck, tcpClampMss, TCP_SYN, TCP_OK, TCP_HEADER_LEN,
} from "../wire/tcp";
import {
  checksumUpdate16, checksumUpdate32, udpChecksumUpdate16, udpChecksumUpdate32, checksumUpdateAddrPort,
  udpChecksumUpdateAddrPort, checksumDelta32,
} from "../wire/checksum";
import {
  icmp4Type, icmp4Check, icmp4IsError, icmp4EchoId, setIcmp4EchoId, icmp4Checksum, setIcmp4Checksum,
  icmp4FillChecksum, setIcmp4Type, setIcmp4Code, setIcmp4Unused, setIcmp4Mtu, ICMP4_OK, ICMP4_ECHO_REQUEST,
  ICMP4_ECHO_REPLY, ICMP4_DEST_UNREACHABLE, ICMP4_TIME_EXCEEDED, ICMP4_CODE_FRAGMENTATION_NEEDED,
  ICMP4_CODE_HOST_UNREACHABLE, ICMP4_CODE_TTL_EXCEEDED, ICMP4_HEADER_LEN, ICMP4_CODE_ADMIN_PROHIBITED,
} from "../wire/icmp4";
import {
  icmp6Type, icmp6Check, icmp6Mtu, ICMP6_OK, ICMP6_PACKET_TOO_BIG, ICMP6_DEST_UNREACHABLE,
  ICMP6_TIME_EXCEEDED, ICMP6_PARAMETER_PROBLEM, ICMP6_ECHO_REQUEST, ICMP6_HEADER_LEN,
} from "../wire/icmp6";
import {
  natOutbound, natInbound, natSessionExtPort, natSessionIntAddr, natSessionIntPort, natFindMapping,
  natMappingIntAddr, natMappingIntPort, natFindSession, NAT_E_NO_PORT, NAT_E_FULL, NAT_E_FILTERED,
  NAT_E_NOT_READY, natFilterAdmits, natFiltering, NAT_FILTER_EIF,
} from "../nat/nat";
import { spare, emit } from "./slots";
import {
  HELD, TO_IPV6, TO_IPV4, forwarded, pktPtr, pktLen, now, leave, ipv4Reason, martian, flowLabel, encapsulate,
  fragmentAndEncapsulate, reassemble, echoReply6, sourceOkWithoutPort, ipv6Reason, takeHeld,
  releasedResult, noPortReason,
} from "./stage";
import {
  icmpMake, icmp4ErrorStart, icmp4ErrorSeal, icmpQuoteLen, icmpRateTake, icmpRefusedType, icmp4MtuFloor,
  icmp6To4, quoteParse, quoteTunnel,
  ICMP_KIND_TTL, ICMP_KIND_PMTU, ICMP_KIND_NAT,
} from "./icmp";
import { pmtuFor, pmtuLower, pmtuFloor } from "./pmtu";
import { pkt, quote, parse4 } from "./parse";
import { ftpControl, ftpFromLan, ftpFromWan, ftpLen } from "./ftp";
import { greCheck, greCallId, setGreCallId, IP_PROTO_GRE, GRE_OK, GRE_BAD_VERSION, GRE_TOO_SHORT } from "../wire/gre";
import { PPTP_PORT } from "../wire/pptp";
import { pptpFromLan, pptpFromWan } from "./pptp";
import { pptpCallByServerId, pptpCallByExt, pptpCallClient, pptpCallClientId } from "../nat/pptp";
import {
  frag4Remember, frag4Find, frag4Hold, frag4NextHeld, frag4HeldLen, fragAddr, fragPort, DIR_OUT, DIR_IN,
} from "./frag4";

import {
  count, drop, C_OUT_IPV4, C_OUT_IPV6, C_HAIRPIN, C_MESH, C_ICMP_GENERATED, C_PTB_RECEIVED, D_IPV4_BAD_L4,
  D_IPV4_UNSUPPORTED_PROTOCOL, D_IPV4_TTL_EXPIRED, D_IPV4_DF_TOO_BIG, D_IPV4_MARTIAN, D_IPV6_BAD_EXTENSION,
  D_IPV6_NOT_FOR_US, D_IPV6_UNSUPPORTED_NEXT_HEADER, D_SECURITY_IPV4_DST, D_SECURITY_PORT,
  D_SECURITY_IPV6_DST, D_SECURITY_IPV6_SRC, D_SECURITY_IPV6_SRC_UNKNOWN, D_NAT_NO_MAPPING, D_NAT_FILTERED,
  D_NAT_PORT_EXHAUSTED, D_NAT_TABLE_FULL, D_ICMP_UNSUPPORTED, D_ICMP_BAD_QUOTE, D_ICMPV6_UNSUPPORTED,
  D_ICMPV6_BAD_QUOTE, D_FRAGMENT_HOLD_FULL, D_FRAGMENT_BAD, D_NOT_CONFIGURED, D_ICMP_FILTERED,
  D_ICMPV6_UNTRUSTED_SOURCE, D_ICMPV6_QUOTE_NOT_OURS, D_ICMPV6_QUOTE_ENDPOINT, D_ICMPV6_RATE_LIMITED,
  C_ICMP_MTU_FLOOR, D_PPTP_GRE_VERSION, D_PPTP_GRE_BAD_HEADER, D_PPTP_NO_CALL, C_NAT_REFUSED_ICMP,
} from "./counters";

/** Next hop of an encapsulated packet: 16 bytes. */
const NEXT_HOP: usize = memory.data(16, 16);

// ---- shared helpers ----------------------------------------------------------

/** True when `a` is the CE's own address (or inside its prefix, RFC 7597 §5.2): mask set at install (map/provision.ts). */
@inline function isOwnIPv4(a: u32): bool {
  return (a & domain.ceIPv4Mask) == domain.ceIPv4Net;
}

/** The external address the NAPT uses (for an IPv4-prefix CE, the prefix's first address). */
@inline function extAddr(): u32 { return domain.ceIPv4; }

/**
 * Rewrites the source address and port of an IPv4 packet (header at p, L4
 * at l4 or 0) with its L4 checksum. The header checksum is left to the
 * stage's one update: returns the address's delta (wire/ipv4.ts).
 */
function rewriteSrc(p: usize, l4: usize, proto: i32, addr: u32, port: i32): u32 {
  const oldAddr = ipv4Src(p);
  const d = setIpv4SrcDelta(p, addr);
  if (l4 == 0) return d;
  if (proto == IP_PROTO_TCP) {
    const oldPort = <u16>bswap<u16>(load<u16>(l4));
    store<u16>(l4, bswap<u16>(<u16>port));
    setTcpChecksum(l4, checksumUpdateAddrPort(tcpChecksum(l4), oldAddr, addr, oldPort, <u16>port));
  } else if (proto == IP_PROTO_UDP) {
    const oldPort = <u16>bswap<u16>(load<u16>(l4));
    store<u16>(l4, bswap<u16>(<u16>port));
    setUdpChecksum(l4, udpChecksumUpdateAddrPort(udpChecksum(l4), oldAddr, addr, oldPort, <u16>port));
  } else if (proto == IP_PROTO_ICMP) {
    const old = <u16>icmp4EchoId(l4);
    setIcmp4EchoId(l4, port);
    setIcmp4Checksum(l4, checksumUpdate16(icmp4Checksum(l4), old, <u16>port));
  }
  return d;
}

/** Rewrites the destination address and port of an IPv4 packet; returns the header checksum delta (as rewriteSrc). */
function rewriteDst(p: usize, l4: usize, proto: i32, addr: u32, port: i32): u32 {
  // The old port: TCP / UDP destination, an echo's identifier (icmp4EchoId reads the same bytes).
  const oldPort = l4 == 0 || (proto != IP_PROTO_TCP && proto != IP_PROTO_UDP && proto != IP_PROTO_ICMP) ? 0
    : proto == IP_PROTO_ICMP ? icmp4EchoId(l4) : <i32>bswap<u16>(load<u16>(l4, 2));
  return rewriteDstFrom(p, l4, proto, ipv4Dst(p), oldPort, addr, port);
}

/**
 * rewriteDst with the old destination address and port given (the packet
 * record has them on the established path): the L4 checksum gets address
 * and port in one fold; returns the header checksum's delta. l4 = 0
 * rewrites the address only.
 */
// @ts-ignore: decorator
@inline function rewriteDstFrom(p: usize, l4: usize, proto: i32, oldAddr: u32, oldPort: i32, addr: u32,
                                port: i32): u32 {
  setIpv4Dst(p, addr);
  const d = checksumDelta32(oldAddr, addr);
  if (l4 == 0) return d;
  if (proto == IP_PROTO_UDP) {
    setUdpDstPort(l4, port);
    setUdpChecksum(l4, udpChecksumUpdateAddrPort(udpChecksum(l4), oldAddr, addr, <u16>oldPort, <u16>port));
  } else if (proto == IP_PROTO_TCP) {
    setTcpDstPort(l4, port);
    setTcpChecksum(l4, checksumUpdateAddrPort(tcpChecksum(l4), oldAddr, addr, <u16>oldPort, <u16>port));
  } else if (proto == IP_PROTO_ICMP) {
    setIcmp4EchoId(l4, port);
    setIcmp4Checksum(l4, checksumUpdate16(icmp4Checksum(l4), <u16>oldPort, <u16>port));
  }
  return d;
}

/**
 * RFC 7597 §8.3.3: fragments leaving a shared address get an
 * identification that is one of the CE's own ports, so two CEs sharing the
 * address never reuse each other's IDs. The ID is derived from the original
 * (source, ID), so every fragment of a packet gets the same one.
 */
function sharedFragmentId(src: u32, id: i32): i32 {
  const n = cePortSet.count;
  if (domain.ceK == 0 || n == 0) return id;
  let h = (src ^ (<u32>id * 0x9E3779B1));
  h = (h ^ (h >>> 16)) * 0x85EBCA6B;
  h ^= h >>> 13;
  return portSetPort(cePortSet, <i32>(h % <u32>n));
}

/** Encapsulates from the CE's MAP address toward NEXT_HOP. */
@inline function toNextHop(p: usize, len: i32, label: i32): usize {
  return encapsulate(p, len, label, ceMapAddressPtr(), NEXT_HOP);
}

/**
 * The tunnel endpoint for IPv4 destination dst:port: a peer CE when a
 * forwarding rule covers dst (mesh, RFC 7597 §5.3) — its address made in
 * NEXT_HOP — else the BR, whose address is read where the domain keeps it
 * (nothing copied per packet). Returns the address's pointer.
 */
function hopFor(dst: u32, dport: i32): usize {
  const r = lpmIPv4(dst);
  if (r >= 0 && !isOwnIPv4(dst) && ruleMapIPv6(ruleAt(r), dst, dport, NEXT_HOP)) return NEXT_HOP;
  return brAddressPtr(0);
}

/** hopFor with the endpoint always in NEXT_HOP (the ICMP paths compare against it); true for a peer. */
function nextHop(dst: u32, dport: i32): bool {
  const h = hopFor(dst, dport);
  if (h != NEXT_HOP) ipv6AddrCopy(NEXT_HOP, h);
  return h == NEXT_HOP;
}

// ---- ICMPv4 errors made by the CE --------------------------------------------

/**
 * Makes an ICMPv4 error of `kind` (icmp.ts: its own rate limit) about the
 * IPv4 packet at `orig` (as received), from the CE's address to the
 * packet's source, and emits it toward the LAN (icmp.ts icmpMake, shared
 * with the BR: RFC 1812 §4.3.2.3 quote clamp, §4.3.2.7 never about an ICMP
 * error or a non-first fragment, §4.3.2.8 rate limit; suppressed ones
 * count in `icmp-rate-limited`).
 */
function icmpErrorToLan(orig: usize, origLen: i32, kind: i32, type: i32, code: i32, mtu: i32): bool {
  const p = icmpMake(orig, origLen, kind, type, code, mtu, extAddr(), 0);
  if (p == 0) return false;
  const total = ipv4TotalLength(p);
  count(C_OUT_IPV4, total);
  emit(p, total);
  return true;
}

// ---- LAN → WAN -----------------------------------------------------------------

/**
 * An IPv4 packet from the LAN. Validates, NAPTs into the port set,
 * encapsulates toward the BR or a peer CE (or hairpins), fragmenting or
 * answering Fragmentation Needed when it does not fit the tunnel.
 */
export function ceFromLan(p: usize, len: i32): i32 {
  const e = parse4(pkt, p, len);
  if (e != 0) return e;
  len = pkt.len;
  const src = pkt.src;
  const dst = pkt.dst;
  if (martian(dst) || martian(src) || isOwnIPv4(src)) return D_IPV4_MARTIAN;
  // RFC 1812 §5.3.1: a router does not forward a packet whose TTL runs out.
  if (ipv4Ttl(p) <= 1) {
    icmpErrorToLan(p, len, ICMP_KIND_TTL, ICMP4_TIME_EXCEEDED, ICMP4_CODE_TTL_EXCEEDED, 0);
    return D_IPV4_TTL_EXPIRED;
  }
  // RFC 791: every fragment but the last carries a multiple of 8 bytes, and
  // no fragment reaches past 65535 (parse.ts).
  if (pkt.fragErr != 0) return pkt.fragErr;
  const proto = pkt.proto;
  const more = pkt.more;
  const id = pkt.id;
  const l4 = pkt.l4;
  const l4len = pkt.l4len;

  if (pkt.fragOff != 0) {
    // A later fragment: no ports; the first fragment decided the translation.
    if (!frag4Find(src, dst, id, proto, DIR_OUT, now)) {
      return frag4Hold(p, len, src, dst, id, proto, DIR_OUT, now) ? HELD : D_FRAGMENT_HOLD_FULL;
    }
    return lanLaterFragment(p, len, src, dst, fragPort, id);
  }

  let dport = 0;
  let sport = 0;
  if (proto == IP_PROTO_ICMP) {
    if (pkt.l4Err != 0) return pkt.l4Err;
    const t = pkt.icmpType;
    // An echo's checksum is updated incrementally with its identifier
    // (RFC 1624), so a corrupt one stays corrupt for the host that
    // verifies it (RFC 1122 §3.2.2.6); a router need not sum the payload.
    // Everything else is checked: an error's checksum is recomputed after
    // its quote is translated, which must not hide corruption.
    if (!more && t != ICMP4_ECHO_REQUEST && icmp4Check(l4, l4len) != ICMP4_OK) return D_IPV4_BAD_L4;
    const refused = icmpRefusedType(t); // Redirect, Source Quench: never forwarded (icmp.ts)
    if (refused != 0) return refused;
    if (icmp4IsError(t)) return more ? D_ICMP_UNSUPPORTED : icmpErrorFromLan(p, len, l4, l4len);
    if (t != ICMP4_ECHO_REQUEST) return D_ICMP_UNSUPPORTED;
    sport = pkt.sport;
  } else if (proto == IP_PROTO_GRE && settings.pptp != 0) {
    // PPTP (datapath/pptp.ts): the server's call ID plays the destination
    // port (a mesh peer CE is chosen by it, as a BR routes it).
    const g = greCheck(l4, l4len);
    if (g != GRE_OK) return greReason(g);
    dport = greCallId(l4);
  } else if (proto == IP_PROTO_TCP || proto == IP_PROTO_UDP) {
    // A whole packet's TCP data offset / UDP length, a first fragment's ports (parse.ts).
    if (pkt.l4Err != 0) return pkt.l4Err;
    sport = pkt.sport;
    dport = pkt.dport;
  } else {
    return noPortReason(proto); // ESP, AH named (stage.ts)
  }

  // Too big for the tunnel with DF set: tell the sender before any state
  // is made (RFC 7597 §8.3.1, RFC 1191). The check is one compare unless a
  // Packet Too Big lowered the MTU toward some endpoint.
  // The path MTU is looked up once per packet (pmtu.ts: no scan unless a
  // Packet Too Big lowered some path) and used by the DF check, the FTP
  // ALG's room, the MSS clamp and lanFinish.
  const hop = hopFor(dst, dport);
  const mtu = pmtuFor(hop, now);
  if (len + IPV6_HEADER_LEN > mtu && ipv4DontFragment(p)) {
    icmpErrorToLan(p, len, ICMP_KIND_PMTU, ICMP4_DEST_UNREACHABLE, ICMP4_CODE_FRAGMENTATION_NEEDED, mtu - IPV6_HEADER_LEN);
    return D_IPV4_DF_TOO_BIG;
  }

  if (proto == IP_PROTO_GRE) return greFromLan(p, len, l4, src, dst, dport, id, more, hop, mtu);
  const s = natOutbound(proto, src, sport, dst, dport, pkt.tcpFlags, now);
  if (s <= 0) {
    // RFC 5508 REQ-8 (and RFC 4787 / RFC 5382 §5): a new flow the NAPT has
    // no port or session for is answered with Destination Unreachable,
    // communication administratively prohibited, so the host gives up
    // at once instead of retrying into a full set. Rate-limited in its own
    // kind (icmp.ts); the drop counter stays the packet's outcome.
    if (s == NAT_E_NO_PORT || s == NAT_E_FULL) {
      if (icmpErrorToLan(p, len, ICMP_KIND_NAT, ICMP4_DEST_UNREACHABLE, ICMP4_CODE_ADMIN_PROHIBITED, 0)) {
        count(C_NAT_REFUSED_ICMP, len);
      }
    }
    return natOutboundReason(s);
  }
  const ext = natSessionExtPort(s);
  const hd = rewriteSrc(p, l4, proto, extAddr(), ext); // header checksum: one update in lanFinish / hairpin
  // PPTP control connection: the client's call ID into our port set (datapath/pptp.ts).
  if (proto == IP_PROTO_TCP && dport == PPTP_PORT && settings.pptp != 0 && !more) {
    const a = pptpFromLan(l4, l4len, src, dst, ext, now);
    if (a != 0) return a;
  }

  // FTP ALG (ftp.ts): PORT / EPRT / 227 lines get our address and a port of
  // the set; the segment may change length, its sequence number follows.
  if (proto == IP_PROTO_TCP && !more && ftpControl(sport, dport)) {
    const room = mtu - IPV6_HEADER_LEN - len;
    const f = ftpFromLan(p, len, l4, s, src, dport == settings.ftpPort, room, now);
    if (f != 0) return f;
    len = ftpLen;
  }

  // MSS clamp (RFC 7597 §8.3.1 leaves it to the CE; the field needs it).
  // Only the packet's own bytes: a first fragment may end inside the
  // options (then an MSS option past its end is not clamped).
  if (proto == IP_PROTO_TCP && (pkt.tcpFlags & TCP_SYN) != 0 && settings.mssClamp != 0) {
    let mss = settings.mssClamp;
    if (mss == 1) mss = mtu - IPV6_HEADER_LEN - IPV4_HEADER_LEN - TCP_HEADER_LEN;
    tcpClampMss(l4, mss, l4len);
  }

  if (more) frag4Remember(src, dst, id, proto, DIR_OUT, 0, dport, now);

  // Hairpin (RFC 4787 REQ-9): to our own address and one of our ports.
  if (isOwnIPv4(dst)) return hairpin(p, len, l4, proto, dport, ext, hd);

  const res = lanTunnel(p, len, l4, src, id, more, hd, hop, mtu);
  if (forwarded(res) && hop == NEXT_HOP) count(C_MESH, len);
  if (more && forwarded(res)) releaseHeld(src, dst, id, proto, DIR_OUT);
  return res;
}

/** The drop counter of a greCheck reason. */
function greReason(g: i32): i32 {
  return g == GRE_BAD_VERSION || g == GRE_TOO_SHORT ? D_PPTP_GRE_VERSION : D_PPTP_GRE_BAD_HEADER;
}

/**
 * PPTP GRE from a LAN client (first fragment or whole): it carries the
 * SERVER's call ID, so it is translated by source address only, for a call
 * the control-connection ALG opened and the server answered
 * (nat/pptp.ts). Later fragments follow through the fragment cache as for
 * any protocol (the call ID is remembered as the port).
 */
function greFromLan(p: usize, len: i32, l4: usize, src: u32, dst: u32, serverId: i32, id: i32,
                    more: bool, hop: usize, mtu: i32): i32 {
  if (isOwnIPv4(dst) || pptpCallByServerId(src, dst, serverId, now) < 0) return D_PPTP_NO_CALL;
  const hd = setIpv4SrcDelta(p, extAddr());
  if (more) frag4Remember(src, dst, id, IP_PROTO_GRE, DIR_OUT, 0, serverId, now);
  const res = lanFinish(p, len, l4, src, id, more, hd, hop, mtu);
  if (forwarded(res) && hop == NEXT_HOP) count(C_MESH, len);
  if (more && forwarded(res)) releaseHeld(src, dst, id, IP_PROTO_GRE, DIR_OUT);
  return res;
}

/**
 * PPTP GRE from the WAN (first fragment or whole): its call ID is the one
 * the ALG gave the server — one of our ports, checked like a destination
 * port — and is put back to the client's own before the packet goes to
 * the client. The outer source gets the address-only check: the GRE names
 * no port of the sender.
 */
function greFromWan(outer: usize, p: usize, len: i32, l4: usize, l4len: i32, src: u32, dst: u32, id: i32,
                    more: bool): i32 {
  const g = greCheck(l4, l4len);
  if (g != GRE_OK) return greReason(g);
  const ext = greCallId(l4);
  if (portSetIndex(cePortSet, ext) < 0) return D_SECURITY_PORT;
  const o = outerSourceOk(outer, src, -1);
  if (o != 0) return o;
  const c = pptpCallByExt(src, ext, now);
  if (c < 0) return D_PPTP_NO_CALL;
  const ia = pptpCallClient(c);
  setGreCallId(l4, pptpCallClientId(c));
  if (more) frag4Remember(src, dst, id, IP_PROTO_GRE, DIR_IN, ia, 0, now);
  const res = wanDeliver(p, len, 0, IP_PROTO_GRE, ia, 0);
  if (more && forwarded(res)) releaseHeld(src, dst, id, IP_PROTO_GRE, DIR_IN);
  return res;
}

/** The drop reason of a natOutbound failure. */
function natOutboundReason(e: i32): i32 {
  if (e == NAT_E_NO_PORT) return D_NAT_PORT_EXHAUSTED;
  if (e == NAT_E_FULL) return D_NAT_TABLE_FULL;
  // A TCP RST that would need a new mapping: it must not take a port (nat.ts natOutbound).
  if (e == NAT_E_FILTERED) return D_NAT_FILTERED;
  // No port set installed in the NAPT yet: the CE cannot translate.
  if (e == NAT_E_NOT_READY) return D_NOT_CONFIGURED;
  // NAT_E_ARG: a protocol or port the NAPT does not take (readPorts lets none through).
  return D_IPV4_UNSUPPORTED_PROTOCOL;
}

/**
 * Last steps toward the tunnel: TTL, a fragment's ID, one header checksum
 * update, then encapsulation toward `hop` (hopFor) or, too big for `mtu`
 * (its path MTU), fragmentation. `src` / `id` are the internal source and
 * the ID the packet came with (RFC 7597 §8.3.3 derives the new ID from
 * them). `hd` is the header checksum delta of what the caller changed (the
 * NAPT's address); with the TTL and a fragment's ID it is applied once.
 * `l4` is 0 for a later fragment. Inlined into ceFromLan's path; the rare
 * paths call lanFinish.
 */
// @ts-ignore: decorator
@inline function lanTunnel(p: usize, len: i32, l4: usize, src: u32, id: i32, isFragment: bool, hd: u32,
                           hop: usize, mtu: i32): i32 {
  let d = hd + ipv4DecrementTtlDelta(p);
  const label = flowLabel(p, isFragment ? 0 : l4); // one label for every fragment of a packet (RFC 6437 §3)
  const tooBig = len + IPV6_HEADER_LEN > mtu;
  // RFC 7597 §8.3.3: every IPv4 fragment that leaves, ours or the host's
  // (by default a packet too big leaves whole, in IPv6 fragments: stage.ts).
  if (isFragment || (tooBig && settings.innerFragmentation != 0)) d += setIpv4IdDelta(p, sharedFragmentId(src, id));
  ipv4ChecksumApply(p, d);
  if (tooBig) {
    if (ipv4DontFragment(p)) {
      // A later fragment with DF cannot happen legally; a first fragment was checked above.
      return D_IPV4_DF_TOO_BIG;
    }
    return fragmentAndEncapsulate(p, len, mtu - IPV6_HEADER_LEN, label, ceMapAddressPtr(), hop);
  }
  leave(encapsulate(p, len, label, ceMapAddressPtr(), hop), len + IPV6_HEADER_LEN);
  return TO_IPV6;
}

/** lanTunnel, not inlined: PPTP's GRE and later fragments. */
function lanFinish(p: usize, len: i32, l4: usize, src: u32, id: i32, isFragment: bool, hd: u32,
                   hop: usize, mtu: i32): i32 {
  return lanTunnel(p, len, l4, src, id, isFragment, hd, hop, mtu);
}

/**
 * A later fragment (no ports: its first fragment decided the translation,
 * `dport` is the port the fragment cache remembered) toward the tunnel:
 * its source address, next hop and path MTU are found here.
 */
function lanLaterFragment(p: usize, len: i32, src: u32, dst: u32, dport: i32, id: i32): i32 {
  const hd = setIpv4SrcDelta(p, extAddr());
  const hop = hopFor(dst, dport);
  return lanFinish(p, len, 0, src, id, true, hd, hop, pmtuFor(hop, now));
}

/** Runs the held later fragments of a key whose first fragment just passed. */
function releaseHeld(src: u32, dst: u32, id: i32, proto: i32, dir: i32): void {
  // The current input's result must survive the held fragments' runs.
  const keepPtr = pktPtr;
  const keepLen = pktLen;
  if (!frag4Find(src, dst, id, proto, dir, now)) return;
  let i = frag4NextHeld(0, src, dst, id, proto, dir, now);
  while (i >= 0) {
    const len = frag4HeldLen(i);
    const q = takeHeld(i);
    if (q == 0) break;
    releasedResult(dir == DIR_OUT ? ceFromLanHeld(q, len) : wanDeliverHeld(q, len), len);
    i = frag4NextHeld(i + 1, src, dst, id, proto, dir, now);
  }
  leave(keepPtr, keepLen);
}

function ceFromLanHeld(p: usize, len: i32): i32 {
  return lanLaterFragment(p, len, ipv4Src(p), ipv4Dst(p), fragPort, ipv4Id(p));
}

/**
 * Hairpinning: the packet (already NAPTed, source = our address:ext) is
 * addressed to our own address. Translate it as if it came in from the
 * WAN, and send it back to the LAN (RFC 4787 REQ-9: with the external
 * source address and port).
 */
function hairpin(p: usize, len: i32, l4: usize, proto: i32, dport: i32, ext: i32, hd: u32): i32 {
  if (portSetIndex(cePortSet, dport) < 0) return D_SECURITY_PORT;
  const s = natInbound(proto, dport, extAddr(), ext, pkt.tcpFlags, now);
  if (s <= 0) return s == NAT_E_FILTERED ? D_NAT_FILTERED : D_NAT_NO_MAPPING;
  // One header checksum update: the NAPT's source (hd), destination, TTL.
  let d = hd + rewriteDst(p, l4, proto, natSessionIntAddr(s), natSessionIntPort(s));
  d += ipv4DecrementTtlDelta(p);
  ipv4ChecksumApply(p, d);
  leave(p, len);
  count(C_HAIRPIN, len);
  return TO_IPV4;
}

/**
 * An ICMPv4 error sent by a LAN host about a packet that came in from the
 * WAN (e.g. Port Unreachable). The quoted packet went remote → internal;
 * put it back as remote → our address:ext, and send it out (RFC 5508 §4.2).
 *
 * When the quoted source is our own address the packet in error was
 * hairpinned from another LAN host (RFC 4787 REQ-9): the error is turned
 * around inside the CE (RFC 5508 REQ-7, through RFC 7597 §8.2), never sent
 * toward the BR. After the translation above (quote: our address:extA →
 * our address:extB, outer source: our address) the mapping that owns extA
 * gives host A: outer destination → A, quoted source → A:portA (REQ-7a:
 * the outer destination is the quoted source), and it goes to the LAN,
 * counted as hairpin.
 */
function icmpErrorFromLan(p: usize, len: i32, ic: usize, iclen: i32): i32 {
  const q = ic + ICMP4_HEADER_LEN;
  const qlen = iclen - ICMP4_HEADER_LEN;
  const qhl = quoteParse(q, qlen);
  if (qhl == 0 || !quote.ports) return D_ICMP_BAD_QUOTE;
  const qproto = quote.proto;
  let qsport = quote.sport;
  const qdport = quote.dport;
  // An echo our LAN host answered that made an error? Only echo ids map.
  if (qproto == IP_PROTO_ICMP) qsport = 0;
  // Hairpinned (quoted source = our own address): only TCP and UDP are
  // hairpinned (an echo request to our own address has no port set port,
  // ceFromLan drops it), and the source port must be one of ours.
  const turn = isOwnIPv4(quote.src);
  if (turn) {
    if (qproto == IP_PROTO_ICMP) return D_ICMP_BAD_QUOTE;
    if (portSetIndex(cePortSet, qsport) < 0) return D_SECURITY_PORT;
  }
  const s = natFindSession(qproto, quote.dst, qdport, quote.src, qsport);
  if (s <= 0) return D_NAT_NO_MAPPING;
  const ext = natSessionExtPort(s);
  let m = 0;
  if (turn) {
    m = natFindMapping(qproto, qsport);
    if (m <= 0) return D_NAT_NO_MAPPING;
  }
  translateQuoted(q, qhl, qlen, qproto, false, extAddr(), ext);
  // The error's own header: source, TTL (and a hairpin's destination) in one checksum update.
  let d = setIpv4SrcDelta(p, extAddr()) + ipv4DecrementTtlDelta(p);
  if (turn) {
    const ia = natMappingIntAddr(m);
    translateQuoted(q, qhl, qlen, qproto, true, ia, natMappingIntPort(m));
    ipv4ChecksumApply(p, d + setIpv4DstDelta(p, ia));
    icmp4FillChecksum(ic, iclen);
    leave(p, len);
    count(C_HAIRPIN, len);
    return TO_IPV4;
  }
  ipv4ChecksumApply(p, d);
  icmp4FillChecksum(ic, iclen);
  nextHop(ipv4Dst(p), qsport);
  leave(toNextHop(p, len, flowLabel(p, 0)), len + IPV6_HEADER_LEN);
  return TO_IPV6;
}

/**
 * Rewrites the quoted packet inside an ICMP error: its source (src=true)
 * or destination address and port, with its header checksum and, when
 * present, its L4 checksum (incrementally: the quote may be truncated).
 * The caller recomputes the ICMP checksum over the whole message.
 */
function translateQuoted(q: usize, qhl: i32, qlen: i32, proto: i32, src: bool, addr: u32, port: i32): void {
  const ql4 = q + <usize>qhl;
  const oldAddr = src ? ipv4Src(q) : ipv4Dst(q);
  if (src) setIpv4SrcUpdate(q, addr); else setIpv4DstUpdate(q, addr);
  if (proto == IP_PROTO_ICMP) {
    const old = <u16>icmp4EchoId(ql4);
    setIcmp4EchoId(ql4, port);
    setIcmp4Checksum(ql4, checksumUpdate16(icmp4Checksum(ql4), old, <u16>port));
    return;
  }
  const at: usize = src ? 0 : 2;
  const oldPort = <u16>bswap<u16>(load<u16>(ql4 + at));
  store<u16>(ql4 + at, bswap<u16>(<u16>port));
  // The L4 checksum sits at bytes 6 (UDP) or 16 (TCP); only the 8 first
  // bytes are promised in a quote, so TCP's is fixed only when present.
  // (Checked by the caller: qlen >= qhl + 8.)
  if (proto == IP_PROTO_UDP) {
    let c = udpChecksumUpdate32(udpChecksum(ql4), oldAddr, addr);
    c = udpChecksumUpdate16(c, oldPort, <u16>port);
    setUdpChecksum(ql4, c);
  } else if (proto == IP_PROTO_TCP && qlen >= qhl + TCP_HEADER_LEN) {
    let c = checksumUpdate32(tcpChecksum(ql4), oldAddr, addr);
    c = checksumUpdate16(c, oldPort, <u16>port);
    setTcpChecksum(ql4, c);
  }
}

// ---- WAN → LAN -----------------------------------------------------------------

/**
 * An IPv6 packet from the WAN. A fragment goes to reassembly; the rebuilt
 * packet (at pktPtr / pktLen) runs through the same checks again, in the
 * loop: it has lost its fragment header, so each round is shorter.
 */
export function ceFromWan(p: usize, len: i32): i32 {
  while (true) {
    const r = ipv6Check(p, len);
    if (r != IPV6_OK) return ipv6Reason(r);
    len = IPV6_HEADER_LEN + ipv6PayloadLength(p);
    const dst = ipv6Dst(p);
    if (load<u8>(dst) == 0xff) return D_IPV6_NOT_FOR_US; // multicast: MLD, ND, …
    if (!ipv6AddrEqual(dst, ceMapAddressPtr())) return D_SECURITY_IPV6_DST;
    if (ipv6Upper(p, len) != IPV6_OK) return D_IPV6_BAD_EXTENSION;
    if (ipv6FragHeaderAt != 0 && (ipv6FragmentOffset != 0 || ipv6FragmentMore)) {
      const a = reassemble(p, len, ipv6FragHeaderAt);
      if (a != 0) return a;
      p = pktPtr;
      len = pktLen;
      continue;
    }
    const off = ipv6UpperOffset;
    const nh = ipv6UpperProtocol;
    if (nh == IP_PROTO_ICMPV6) return icmp6FromWan(p, len, p + <usize>off, len - off);
    if (nh != IP_PROTO_IPIP) return D_IPV6_UNSUPPORTED_NEXT_HEADER;
    return wanInner(p, p + <usize>off, len - off);
  }
}

/**
 * Outer source check (RFC 7597 §8.1): the BR (exempt), or the peer CE a
 * forwarding rule gives for the inner source address and port. With no
 * usable port (sport < 0: a non-first inner fragment, an ICMPv4 error) the
 * check is the BR's address-only one (stage.ts sourceOkWithoutPort): the
 * outer source must be the MAP address of the peer CE that holds the inner
 * source address, the PSID read from the outer source's own EA bits.
 */
// @ts-ignore: decorator
@inline function outerSourceOk(outer: usize, innerSrc: u32, sport: i32): i32 {
  // Nearly every packet comes from the (first) BR: that compare inline.
  if (domain.brCount > 0 && ipv6AddrEqual(ipv6Src(outer), brAddressPtr(0))) return 0;
  return outerSourceCheck(outer, innerSrc, sport);
}

/** outerSourceOk past its first compare: the other BRs, then a peer CE's address. */
function outerSourceCheck(outer: usize, innerSrc: u32, sport: i32): i32 {
  const src = ipv6Src(outer);
  for (let i = 1; i < domain.brCount; i++) {
    if (ipv6AddrEqual(src, brAddressPtr(i))) return 0;
  }
  if (lpmIPv6(src) < 0) return D_SECURITY_IPV6_SRC_UNKNOWN;
  const r4 = lpmIPv4(innerSrc);
  if (r4 < 0) return D_SECURITY_IPV6_SRC;
  if (sport < 0) return sourceOkWithoutPort(src, ruleAt(r4), innerSrc, NEXT_HOP) ? 0 : D_SECURITY_IPV6_SRC;
  if (!ruleMapIPv6(ruleAt(r4), innerSrc, sport, NEXT_HOP)) return D_SECURITY_IPV6_SRC;
  return ipv6AddrEqual(NEXT_HOP, src) ? 0 : D_SECURITY_IPV6_SRC;
}

/** The IPv4 packet inside (outer header at `outer`). */
function wanInner(outer: usize, p: usize, len: i32): i32 {
  const e = parse4(pkt, p, len);
  if (e != 0) return e;
  len = pkt.len;
  const src = pkt.src;
  const dst = pkt.dst;
  if (!isOwnIPv4(dst)) return D_SECURITY_IPV4_DST;
  // RFC 1812 §5.3.7: never a martian source, whatever the filtering mode;
  // nor our own address when no other CE shares it (with a PSID, siblings
  // hold the same address: then only our own ports are refused, below).
  if (martian(src) || (domain.ceK == 0 && isOwnIPv4(src))) return D_IPV4_MARTIAN;
  const proto = pkt.proto;
  const more = pkt.more;
  const id = pkt.id;
  const l4 = pkt.l4;
  const l4len = pkt.l4len;
  if (pkt.fragErr != 0) return pkt.fragErr;
  // Refused now rather than after being held: a held fragment has its outcome.
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;

  if (pkt.fragOff != 0) {
    // Later fragment: the outer source is checked as far as it can be
    // without ports (a BR, or the peer CE holding the inner source
    // address); the port check came with the first fragment.
    const o = outerSourceOk(outer, src, -1);
    if (o != 0) return o;
    if (!frag4Find(src, dst, id, proto, DIR_IN, now)) {
      return frag4Hold(p, len, src, dst, id, proto, DIR_IN, now) ? HELD : D_FRAGMENT_HOLD_FULL;
    }
    return wanDeliver(p, len, 0, proto, fragAddr, fragPort);
  }

  let sport = 0;
  let dport = 0;
  if (proto == IP_PROTO_ICMP) {
    if (pkt.l4Err != 0) return pkt.l4Err;
    const t = pkt.icmpType;
    // An echo's checksum is updated incrementally with its identifier
    // (RFC 1624), so a corrupt one stays corrupt for the host that
    // verifies it (RFC 1122 §3.2.2.6); a router need not sum the payload.
    // Everything else is checked: an error's checksum is recomputed after
    // its quote is translated, which must not hide corruption.
    if (!more && t != ICMP4_ECHO_REPLY && icmp4Check(l4, l4len) != ICMP4_OK) return D_IPV4_BAD_L4;
    const refused = icmpRefusedType(t); // Redirect, Source Quench: never forwarded (icmp.ts)
    if (refused != 0) return refused;
    if (icmp4IsError(t)) {
      if (more) return D_ICMP_UNSUPPORTED;
      return icmpErrorFromWan(outer, p, len, l4, l4len);
    }
    if (t != ICMP4_ECHO_REPLY) return D_ICMP_UNSUPPORTED;
    dport = pkt.dport;
  } else if (proto == IP_PROTO_GRE && settings.pptp != 0) {
    return greFromWan(outer, p, len, l4, l4len, src, dst, id, more);
  } else if (proto == IP_PROTO_TCP || proto == IP_PROTO_UDP) {
    if (pkt.l4Err != 0) return pkt.l4Err;
    sport = pkt.sport;
    dport = pkt.dport;
  } else {
    return noPortReason(proto); // ESP, AH named (stage.ts)
  }
  if (!portSetHas(cePortSet, dport)) return D_SECURITY_PORT;
  // Our own address and one of our own ports: spoofed (a sibling CE sharing
  // the address has other ports).
  if (isOwnIPv4(src) && portSetHas(cePortSet, sport)) return D_IPV4_MARTIAN;
  const o = outerSourceOk(outer, src, sport);
  if (o != 0) return o;
  // A LAN address as the source from the WAN: the address of the host it
  // would be delivered to (a "land" packet). Endpoint-independent filtering
  // would make it a session, so look first; otherwise only a session the
  // host made can match, checked below at no cost.
  if (natFiltering() == NAT_FILTER_EIF) {
    const m = natFindMapping(proto, dport);
    if (m > 0 && natMappingIntAddr(m) == src) return D_IPV4_MARTIAN;
  }
  const s = natInbound(proto, dport, src, sport, pkt.tcpFlags, now);
  if (s <= 0) {
    if (s == NAT_E_FILTERED) return D_NAT_FILTERED;
    if (s == NAT_E_FULL) return D_NAT_TABLE_FULL;
    return D_NAT_NO_MAPPING;
  }
  const ia = natSessionIntAddr(s);
  if (ia == src) return D_IPV4_MARTIAN;
  const ip = natSessionIntPort(s);
  // FTP ALG (ftp.ts): acknowledgments and SACK edges back into the LAN host's sequence space.
  if (proto == IP_PROTO_TCP && !more && ftpControl(ip, sport)) ftpFromWan(l4, s);
  // PPTP control connection: our call ID back to the client's (datapath/pptp.ts).
  if (proto == IP_PROTO_TCP && sport == PPTP_PORT && settings.pptp != 0 && !more) pptpFromWan(l4, l4len, src, dport, now);
  if (more) frag4Remember(src, dst, id, proto, DIR_IN, ia, ip, now);
  const res = wanDeliverSession(p, len, ia, ip);
  if (more && forwarded(res)) releaseHeld(src, dst, id, proto, DIR_IN);
  return res;
}

/** Rewrites toward the internal host and hands the IPv4 packet to the LAN. */
function wanDeliver(p: usize, len: i32, l4: usize, proto: i32, addr: u32, port: i32): i32 {
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
  // One header checksum update: the address and the TTL.
  const d = rewriteDst(p, l4, proto, addr, port) + ipv4DecrementTtlDelta(p);
  ipv4ChecksumApply(p, d);
  leave(p, len);
  return TO_IPV4;
}

/**
 * wanDeliver for the packet parsed into `pkt` (a whole packet or a first
 * fragment) once the NAPT found its session: wanInner checked its TTL, and
 * the old destination address and port are the record's (an echo reply's
 * identifier in dport, parse.ts). One header checksum update: the address
 * and the TTL.
 */
function wanDeliverSession(p: usize, len: i32, addr: u32, port: i32): i32 {
  const d = rewriteDstFrom(p, pkt.l4, pkt.proto, pkt.dst, pkt.dport, addr, port);
  ipv4ChecksumApply(p, d + ipv4DecrementTtlDelta(p));
  leave(p, len);
  return TO_IPV4;
}

function wanDeliverHeld(p: usize, len: i32): i32 {
  return wanDeliver(p, len, 0, ipv4Protocol(p), fragAddr, fragPort);
}

/**
 * An ICMPv4 error from the internet about a packet we sent: the quote is
 * our translated packet (our address:ext → remote). Map it back by the
 * quoted source port (RFC 5508 §4.2) and deliver to the internal host —
 * only when the session's filtering (RFC 4787 REQ-8) would admit a packet
 * from the quoted remote (RFC 5508 REQ-3: the quote must match a session;
 * an off-path stranger must guess it). The error's own source is a router
 * and is not filtered (RFC 4787 REQ-12a); martian ones were refused in
 * wanInner. A Fragmentation Needed below ICMP4_MTU_FLOOR is raised to it.
 */
function icmpErrorFromWan(outer: usize, p: usize, len: i32, ic: usize, iclen: i32): i32 {
  const q = ic + ICMP4_HEADER_LEN;
  const qlen = iclen - ICMP4_HEADER_LEN;
  const qhl = quoteParse(q, qlen);
  if (qhl == 0 || !quote.ports) return D_ICMP_BAD_QUOTE;
  if (!isOwnIPv4(quote.src)) return D_SECURITY_IPV4_DST;
  const qproto = quote.proto;
  const qsport = quote.sport;
  const qdport = qproto == IP_PROTO_ICMP ? 0 : quote.dport;
  if (!portSetHas(cePortSet, qsport)) return D_SECURITY_PORT;
  // The error has no port of its own. Through a BR it may come from any
  // router (exempt); from a peer CE its source is that CE's address.
  const o = outerSourceOk(outer, ipv4Src(p), -1);
  if (o != 0) return o;
  const m = natFindMapping(qproto, qsport);
  if (m <= 0) return D_NAT_NO_MAPPING;
  if (!natFilterAdmits(qproto, qsport, quote.dst, qdport, now)) return D_ICMP_FILTERED;
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
  const ia = natMappingIntAddr(m);
  translateQuoted(q, qhl, qlen, qproto, true, ia, natMappingIntPort(m));
  if (icmp4MtuFloor(ic)) count(C_ICMP_MTU_FLOOR, len);
  ipv4ChecksumApply(p, setIpv4DstDelta(p, ia) + ipv4DecrementTtlDelta(p)); // one header update (TTL > 1: checked above)
  icmp4FillChecksum(ic, iclen);
  leave(p, len);
  return TO_IPV4;
}

/** True when the 16 bytes at a are one of the domain's BR addresses. */
function isBr(a: usize): bool {
  for (let i = 0; i < domain.brCount; i++) {
    if (ipv6AddrEqual(a, brAddressPtr(i))) return true;
  }
  return false;
}

/**
 * ICMPv6 to our MAP address: errors about packets we tunnelled (RFC 2473
 * §8, RFC 7597 §8.2) become ICMPv4 errors to the original LAN sender
 * (icmp.ts icmp6To4, the one mapping CE and BR use); a Packet Too Big also
 * lowers the tunnel MTU toward that endpoint (never below 1280, RFC 8201
 * §4, pmtu.ts). Echo requests to the MAP address are answered (operators
 * ping it). What is trusted (docs/threat-model.md):
 *   - the quote must be one of our tunnel packets: outer source our MAP
 *     address, inner source our address and one of our ports, outer
 *     destination the endpoint nextHop gives for the inner destination
 *     (the BR, or the peer CE of a forwarding rule);
 *   - the sender: a Packet Too Big may come from any router of the IPv6
 *     path (RFC 8201 §4; the worst it can do is the 1280 floor); any other
 *     error only from a BR address or the peer the quote was sent to — the
 *     only nodes that answer about the tunnel itself (RFC 7597 §8.1's
 *     spoofing answer), so a stranger cannot make LAN hosts see
 *     unreachables;
 *   - the quoted remote must pass the session's filtering, as an ICMPv4
 *     error's (icmpErrorFromWan);
 *   - relayed errors are rate-limited per kind and per LAN host.
 */
function icmp6FromWan(p: usize, len: i32, ic: usize, iclen: i32): i32 {
  if (icmp6Check(ic, iclen, ipv6Src(p), ipv6Dst(p)) != ICMP6_OK) return D_ICMPV6_UNSUPPORTED;
  const t = icmp6Type(ic);
  if (t == ICMP6_ECHO_REQUEST) return echoReply6(p, len, ic, iclen, ceMapAddressPtr());
  const map = icmp6To4(t);
  if (map < 0) return D_ICMPV6_UNSUPPORTED;
  const q6 = ic + ICMP6_HEADER_LEN;
  const q6len = iclen - ICMP6_HEADER_LEN;
  const qhl = quoteTunnel(q6, q6len);
  if (qhl == 0 || !quote.ports || !ipv6AddrEqual(ipv6Src(q6), ceMapAddressPtr())) return D_ICMPV6_BAD_QUOTE;
  const q4 = q6 + IPV6_HEADER_LEN;
  const q4len = q6len - IPV6_HEADER_LEN;
  const qproto = quote.proto;
  const qsport = quote.sport;
  const qdport = qproto == IP_PROTO_ICMP ? 0 : quote.dport;
  if (!isOwnIPv4(quote.src) || !portSetHas(cePortSet, qsport)) return D_ICMPV6_QUOTE_NOT_OURS;
  nextHop(quote.dst, qdport); // as ceFromLan chose it
  if (!ipv6AddrEqual(ipv6Dst(q6), NEXT_HOP)) return D_ICMPV6_QUOTE_ENDPOINT;
  if (t != ICMP6_PACKET_TOO_BIG && !isBr(ipv6Src(p)) && !ipv6AddrEqual(ipv6Src(p), NEXT_HOP)) {
    return D_ICMPV6_UNTRUSTED_SOURCE;
  }
  const m = natFindMapping(qproto, qsport);
  if (m <= 0) return D_NAT_NO_MAPPING;
  if (!natFilterAdmits(qproto, qsport, quote.dst, qdport, now)) return D_ICMP_FILTERED;
  if (t == ICMP6_PACKET_TOO_BIG) {
    pmtuLower(NEXT_HOP, <i32>min<u32>(icmp6Mtu(ic), 65535), now);
    count(C_PTB_RECEIVED, len);
    // About a DF-clear packet no ICMPv4 is needed: the CE fragments from
    // now on. The message was used; keep it.
    if (!ipv4DontFragment(q4)) return HELD;
  }
  const ia = natMappingIntAddr(m);
  // Over the limit the error is not relayed (a Packet Too Big's MTU was still learned).
  if (!icmpRateTake(map >>> 16, ia)) return D_ICMPV6_RATE_LIMITED;
  const mtu = t == ICMP6_PACKET_TOO_BIG ? pmtuFor(NEXT_HOP, now) - IPV6_HEADER_LEN : 0;
  // Rebuild the quote as the LAN host sent it, in a fresh ICMPv4 error
  // written over this packet's own slot (shorter than what it replaces;
  // the quote moves forward first).
  const qcopy = icmpQuoteLen(q4len);
  const total = icmp4ErrorStart(p, extAddr(), ia, (map >>> 8) & 0xFF, map & 0xFF, mtu, q4, qcopy);
  translateQuoted(p + IPV4_HEADER_LEN + ICMP4_HEADER_LEN, qhl, qcopy, qproto, true, ia, natMappingIntPort(m));
  icmp4ErrorSeal(p, total);
  leave(p, total);
  return TO_IPV4;
}
