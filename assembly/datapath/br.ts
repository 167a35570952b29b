// The border relay (BR) data path: stateless MAP-E (RFC 7597 §7–§8) for
// every rule of the domain, one packet at a time. `process`
// (datapath/process.ts) calls brFromIPv4 for IPv4 from the internet and
// brFromIPv6 for IPv6 from the CEs. Each returns its next hop when the
// packet leaves — TO_IPV6 or TO_IPV4 (stage.ts); pktPtr / pktLen say where
// it now starts: encapsulation moves the start back into the headroom,
// decapsulation moves it forward — HELD when the module keeps it, or the
// one drop reason (a D_* counter). IPv4 packets are parsed once into the
// record of parse.ts, the same parse (and RFC 791 fragment checks) the CE
// makes.
//
//   IPv4 from the internet                     IPv6 from a CE
//   ----------------------                     --------------
//   ipv4Check                                  ipv6Check, dst = one of our BR addresses
//   rule = LPM(dst)          else no-rule      extension headers, outer reassembly
//   port that names the CE (see below)         ICMPv6 to the BR (echo, errors)
//   CE = ruleMapIPv6(rule, dst, port)          next header 4, ipv4Check
//        else port-outside                     rule = LPM(inner src) else src-unknown
//   TTL, tunnel MTU (frag needed / fragment)   outer src == ruleMapIPv6(rule, src, sport)
//   encapsulate BR address -> CE                    else security-ipv6-src
//                                              inner dst in a rule? hairpin: re-encapsulate
//                                              else decapsulate toward the internet
//
// The port that names a CE (RFC 7597 §5.1, §8.2; RFC 5508 §4.2):
//
//   packet                 toward a CE (IPv4 path)        from a CE (IPv6 path)
//   TCP / UDP              destination port               source port
//   ICMP echo req / reply  identifier                     identifier
//   ICMP error             quoted SOURCE port: the quote  quoted DESTINATION port: the
//                          is a packet the CE sent        quote is a packet the CE got
//
// A rule without a PSID (k = 0) gives the CE the whole address: no port is
// needed, and any protocol (GRE, ESP, …) passes.
//
// PPTP's GRE (version 1, RFC 2637 §4.1) with settings.brPptp — not RFC
// 7597, which routes by ports only; a BR without it drops PPTP toward a
// shared address. The key's call ID is always the one the RECEIVER chose:
//
//   packet                 toward a CE (IPv4 path)        from a CE (IPv6 path)
//   GRE version 1          call ID (the CE's PPTP ALG     none: the call ID is the
//                          put one of its ports there)    server's. Source check by
//                                                         address only (below)
//
// The call ID of GRE from a CE is the server's choice, in no CE's port set,
// so the RFC 7597 §8.1 check cannot use it. What stays sound is the check
// that needs no port (stage.ts sourceOkWithoutPort, as for a later
// fragment): the outer source must be the MAP address of a CE holding the
// inner source address. A CE can then send GRE only from its own IPv4
// address; it could claim a sibling's call, but GRE carries no port, so no
// sibling's port-set traffic can be forged with it. GRE from a CE to
// another CE (hairpin) is routed by its call ID, the receiver's.
//
// Non-first IPv4 fragments carry no port:
//   * toward a CE: the first fragment's port is remembered in the fragment
//     cache (frag4.ts, direction DIR_BR_DOWN); fragments that come before it
//     are held and released when it arrives.
//   * from a CE: when the first fragment passed the full source check, its
//     ports are remembered (DIR_BR_UP) and later fragments get the same full
//     check. A later fragment seen before its first fragment gets the check
//     that needs no port: the outer source must be the MAP address of *some*
//     CE holding the inner source address, with the PSID read back from the
//     outer source's own EA bits (stage.ts sourceOkWithoutPort, also used by
//     the CE; so a CE can only use its own IPv4 address,
//     but which port set it claims cannot be checked without a port). Such a
//     fragment goes out at once, unless it is for another CE (hairpin needs
//     the destination port): then it is held like the other direction.
//
// Tunnel endpoint choices: everything the BR encapsulates (toward a CE, a
// hairpin, an ICMP error toward a CE) leaves from the first S46_BR address;
// packets are accepted on any of the domain's BR addresses (anycast or
// redundancy on one box), and an echo request is answered from the address
// it was sent to.
//
// ICMPv4 errors the BR makes (Fragmentation Needed for a DF packet that does
// not fit the tunnel) come from the address the packet was sent to: a
// stateless BR has no IPv4 address of its own, and PMTUD senders match the
// quote, not the source. They are rate-limited (RFC 1812 §4.3.2.8; icmp.ts
// icmpAllowed, per kind and per host, shared with the CE), never
// sent about ICMP errors or non-first fragments (RFC 1812 §4.3.2.7). No Time
// Exceeded is sent for TTL 1 (it would name the destination as a router on
// the path); the drop is counted.
//
// Input is untrusted: every header passes its …Check before an accessor
// reads it, and every length below comes from a checked header.

import { settings } from "../settings";
import { domain, brAddressPtr, ruleAt } from "../map/provision";
import { greCheck, greCallId, IP_PROTO_GRE, GRE_OK, GRE_BAD_VERSION, GRE_TOO_SHORT } from "../wire/gre";
import { lpmIPv4 } from "../map/lpm";
import { Rule, ruleMapIPv6 } from "../map/rule";
import {
  ipv4Check, ipv4HeaderLength, ipv4TotalLength, ipv4Src, ipv4Dst, ipv4Ttl, ipv4Protocol, ipv4Id,
  ipv4DontFragment, ipv4MoreFragments, ipv4FragmentOffset, setIpv4TtlUpdate, ipv4DecrementTtlDelta,
  ipv4ChecksumApply, IPV4_OK, IPV4_HEADER_LEN,
  IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_IPIP, IP_PROTO_ICMPV6,
} from "../wire/ipv4";
import {
  ipv6Check, ipv6Upper, ipv6Src, ipv6Dst, ipv6PayloadLength, ipv6AddrEqual, ipv6NextHeader,
  ipv6UpperOffset, ipv6UpperProtocol, ipv6FragHeaderAt, ipv6FragmentOffset, ipv6FragmentMore, IPV6_OK,
  IPV6_HEADER_LEN,
} from "../wire/ipv6";
import { TCP_HEADER_LEN } from "../wire/tcp";
import {
  icmp4Type, icmp4IsError, icmp4EchoId, icmp4FillChecksum, setIcmp4Type, setIcmp4Code, setIcmp4Unused,
  setIcmp4Mtu, ICMP4_ECHO_REQUEST, ICMP4_ECHO_REPLY, ICMP4_DEST_UNREACHABLE, ICMP4_TIME_EXCEEDED,
  ICMP4_CODE_FRAGMENTATION_NEEDED, ICMP4_CODE_HOST_UNREACHABLE, ICMP4_CODE_TTL_EXCEEDED, ICMP4_HEADER_LEN,
} from "../wire/icmp4";
import {
  icmp6Type, icmp6Check, icmp6Mtu, ICMP6_OK, ICMP6_PACKET_TOO_BIG, ICMP6_DEST_UNREACHABLE,
  ICMP6_TIME_EXCEEDED, ICMP6_ECHO_REQUEST, ICMP6_HEADER_LEN,
} from "../wire/icmp6";
import { spare, emit } from "./slots";
import { pmtuFor, pmtuLower, pmtuFloor } from "./pmtu";
import { pkt, quote, parse4 } from "./parse";
import {
  frag4Remember, frag4Find, frag4Hold, frag4NextHeld, frag4HeldLen, fragAddr, fragPort,
} from "./frag4";

import {
  HELD, TO_IPV6, TO_IPV4, forwarded, pktPtr, pktLen, now, leave, ipv4Reason, martian, flowLabel, encapsulate,
  fragmentAndEncapsulate, reassemble, echoReply6, sourceOkWithoutPort, ipv6Reason, takeHeld,
  releasedResult, noPortReason,
} from "./stage";
import {
  icmpMake, icmp4ErrorStart, icmp4ErrorSeal, icmpQuoteLen, icmpRateTake, icmpRefusedType, icmp6To4,
  quoteParse, quoteTunnel, ICMP_KIND_PMTU,
} from "./icmp";
import {
  count, drop, C_OUT_IPV4, C_OUT_IPV6, C_HAIRPIN, C_ICMP_GENERATED, C_PTB_RECEIVED, D_IPV4_BAD_L4,
  D_IPV4_UNSUPPORTED_PROTOCOL, D_IPV4_TTL_EXPIRED, D_IPV4_DF_TOO_BIG, D_IPV4_MARTIAN, D_IPV6_BAD_EXTENSION,
  D_IPV6_NOT_FOR_US, D_IPV6_UNSUPPORTED_NEXT_HEADER, D_SECURITY_IPV6_DST, D_SECURITY_IPV6_SRC,
  D_SECURITY_IPV6_SRC_UNKNOWN, D_ICMP_UNSUPPORTED, D_ICMP_BAD_QUOTE, D_ICMPV6_UNSUPPORTED,
  D_ICMPV6_BAD_QUOTE, D_FRAGMENT_HOLD_FULL, D_BR_NO_RULE, D_BR_PORT_OUTSIDE, D_ICMPV6_QUOTE_NOT_OURS,
  D_ICMPV6_QUOTE_ENDPOINT, D_ICMPV6_RATE_LIMITED, D_PPTP_GRE_VERSION, D_PPTP_GRE_BAD_HEADER,
} from "./counters";

/** Fragment-cache directions of the BR (the CE uses 0 and 1). */
export const DIR_BR_DOWN: i32 = 2; // internet -> CE: port = the CE's port
export const DIR_BR_UP: i32 = 3;   // CE -> internet or CE: addr = source port, port = destination port

/** The CE a packet is tunnelled to: 16 bytes. */
const TO_CE: usize = memory.data(16, 16);
/** The MAP address the source check expects (after it passed: the sending CE). */
const EXPECT: usize = memory.data(16, 16);
/** Scratch for swapping addresses. */
const TMP6: usize = memory.data(16, 16);

// ---- shared helpers ----------------------------------------------------------

/** Index of the BR address equal to the 16 bytes at a, -1 when none. */
function brIndexOf(a: usize): i32 {
  for (let i = 0; i < domain.brCount; i++) {
    if (ipv6AddrEqual(a, brAddressPtr(i))) return i;
  }
  return -1;
}

// ---- ports --------------------------------------------------------------------

/**
 * The ports that name each side of the packet in the record (table in the
 * file header), checked only as far as finding the CE needs: the BR is a
 * router, the end hosts check the rest. Afterwards pkt.sport is the port
 * the source side owns and pkt.dport the one the destination side owns
 * (-1: none, PPTP's GRE from a CE); for an ICMP error they come from its
 * quote (parse.ts quote4, into `quote`: it went the other way). Returns 0
 * or a drop reason.
 */
function sidePorts(): i32 {
  const proto = pkt.proto;
  if (proto == IP_PROTO_TCP || proto == IP_PROTO_UDP) return pkt.portsErr;
  if (proto == IP_PROTO_GRE && settings.brPptp != 0) {
    // PPTP (file header): the call ID names the receiving side only.
    const g = greCheck(pkt.l4, pkt.l4len);
    if (g != GRE_OK) return g == GRE_BAD_VERSION || g == GRE_TOO_SHORT ? D_PPTP_GRE_VERSION : D_PPTP_GRE_BAD_HEADER;
    pkt.sport = -1;
    pkt.dport = greCallId(pkt.l4);
    return 0;
  }
  if (proto != IP_PROTO_ICMP) return noPortReason(proto); // ESP, AH named (stage.ts)
  if (pkt.portsErr != 0) return pkt.portsErr;
  if (pkt.ports) return 0; // echo request / reply: the identifier names both sides
  const t = pkt.icmpType;
  const refused = icmpRefusedType(t); // Redirect, Source Quench: never forwarded (icmp.ts)
  if (refused != 0) return refused;
  if (!icmp4IsError(t)) return D_ICMP_UNSUPPORTED;
  // The quote: an IPv4 header and at least 8 bytes of what followed it,
  // with ports (TCP, UDP, an echo's identifier).
  if (quoteParse(pkt.l4 + ICMP4_HEADER_LEN, pkt.l4len - ICMP4_HEADER_LEN) == 0 || !quote.ports) return D_ICMP_BAD_QUOTE;
  // The quote went the other way: its destination is this packet's source side.
  pkt.sport = quote.dport;
  pkt.dport = quote.sport;
  return 0;
}

/** True for an ICMP error (after sidePorts: its ports are its quote's). */
@inline function isIcmpError(): bool { return icmp4IsError(pkt.icmpType); }

// The source check of a later fragment (no port) is stage.ts
// sourceOkWithoutPort (shared with the CE); ICMP errors, their quotes and
// the rate limiter are icmp.ts (shared with the CE).

// ---- ICMPv4 errors made by the BR ------------------------------------------------

/**
 * Makes an ICMPv4 error of `kind` about the IPv4 packet at `orig` (as
 * received, not yet changed), from its destination to its source (icmp.ts
 * icmpMake, shared with the CE: quote clamp, RFC 1812 §4.3.2.7 and the
 * rate limit), and emits it: as IPv4 toward the internet (to6 = 0) or
 * encapsulated to the CE at to6 (a hairpinned packet's sender).
 */
function icmpError(orig: usize, origLen: i32, kind: i32, type: i32, code: i32, mtu: i32, to6: usize): void {
  const p = icmpMake(orig, origLen, kind, type, code, mtu, ipv4Dst(orig), IPV6_HEADER_LEN);
  if (p == 0) return;
  const total = ipv4TotalLength(p);
  if (to6 != 0) {
    const o = encapsulate(p, total, flowLabel(p, 0), brAddressPtr(0), to6);
    count(C_OUT_IPV6, total + IPV6_HEADER_LEN);
    emit(o, total + IPV6_HEADER_LEN);
  } else {
    count(C_OUT_IPV4, total);
    emit(p, total);
  }
}

// ---- toward a CE ------------------------------------------------------------------

/**
 * The last steps toward the CE at TO_CE (from the internet or a hairpin):
 * tunnel MTU, TTL, encapsulation. A packet too big with DF set gets an
 * ICMPv4 Fragmentation Needed with the tunnel MTU − 40 (RFC 7597 §8.3.1,
 * RFC 1191) sent to `errTo6` (a CE) or, when 0, to the internet; with DF
 * clear it is encapsulated and the tunnel packet fragmented (RFC 2473 §7.2;
 * stage.ts fragmentAndEncapsulate, shared with the CE). The caller checked
 * the TTL.
 */
function toTunnel(p: usize, len: i32, l4: usize, errTo6: usize): i32 {
  const mtu = len + IPV6_HEADER_LEN > pmtuFloor ? pmtuFor(TO_CE, now) : pmtuFloor;
  const tooBig = len + IPV6_HEADER_LEN > mtu;
  if (tooBig && ipv4DontFragment(p)) {
    icmpError(p, len, ICMP_KIND_PMTU, ICMP4_DEST_UNREACHABLE, ICMP4_CODE_FRAGMENTATION_NEEDED, mtu - IPV6_HEADER_LEN, errTo6);
    return D_IPV4_DF_TOO_BIG;
  }
  const label = flowLabel(p, l4);
  ipv4ChecksumApply(p, ipv4DecrementTtlDelta(p));
  if (tooBig) return fragmentAndEncapsulate(p, len, mtu - IPV6_HEADER_LEN, label, brAddressPtr(0), TO_CE);
  leave(encapsulate(p, len, label, brAddressPtr(0), TO_CE), len + IPV6_HEADER_LEN);
  return TO_IPV6;
}

// ---- IPv4 from the internet --------------------------------------------------------

/**
 * An IPv4 packet from the internet: find the rule of the destination, the
 * CE that owns the destination port, and tunnel the packet to it
 * (RFC 7597 §8.2).
 */
export function brFromIPv4(p: usize, len: i32): i32 {
  const c = parse4(pkt, p, len);
  if (c != 0) return c;
  len = pkt.len;
  const src = pkt.src;
  const dst = pkt.dst;
  if (martian(src) || martian(dst)) return D_IPV4_MARTIAN;
  const r = lpmIPv4(dst);
  if (r < 0) return D_BR_NO_RULE;
  // RFC 1812 §5.3.1: a router does not forward a packet whose TTL runs out.
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
  // RFC 791 (parse.ts), as the CE checks it: a fragment with MF set carries
  // a multiple of 8 bytes, no fragment reaches past 65535.
  if (pkt.fragErr != 0) return pkt.fragErr;
  const rule = ruleAt(r);
  const proto = pkt.proto;
  const fragOff = pkt.fragOff;
  const more = pkt.more;
  const id = pkt.id;
  const l4 = pkt.l4;
  const shared = rule.psidLength > 0;
  let port = 0;
  if (fragOff != 0) {
    // A later fragment: the first one said which CE (held until it comes).
    if (shared) {
      if (!frag4Find(src, dst, id, proto, DIR_BR_DOWN, now)) {
        return frag4Hold(p, len, src, dst, id, proto, DIR_BR_DOWN, now) ? HELD : D_FRAGMENT_HOLD_FULL;
      }
      port = fragPort;
    }
  } else if (shared) {
    const e = sidePorts();
    if (e != 0) return e;
    // An error about a packet the CE sent quotes the CE's address as source.
    if (isIcmpError() && quote.src != dst) return D_ICMP_BAD_QUOTE;
    port = pkt.dport;
  }
  // Below 2^(16-a) (the ports no CE gets) or a PSID no CE of the rule holds.
  if (!ruleMapIPv6(rule, dst, port, TO_CE)) return D_BR_PORT_OUTSIDE;
  const first = pkt.first && shared;
  if (first) frag4Remember(src, dst, id, proto, DIR_BR_DOWN, 0, port, now);
  const res = toTunnel(p, len, fragOff != 0 || more ? 0 : l4, 0);
  if (first && forwarded(res)) releaseHeld(src, dst, id, proto, DIR_BR_DOWN, rule, 0, port);
  return res;
}

/** A held fragment toward a CE, released by its first fragment (port from it). */
function downHeld(p: usize, len: i32, port: i32): i32 {
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
  const dst = ipv4Dst(p);
  const r = lpmIPv4(dst);
  if (r < 0) return D_BR_NO_RULE;
  if (!ruleMapIPv6(ruleAt(r), dst, port, TO_CE)) return D_BR_PORT_OUTSIDE;
  return toTunnel(p, len, 0, 0);
}

/**
 * Runs the held later fragments of a key whose first fragment just passed.
 * Their outputs leave after the current input's; the current input's
 * result (pktPtr / pktLen) is kept.
 */
function releaseHeld(src: u32, dst: u32, id: i32, proto: i32, dir: i32,
                     srule: Rule, sport: i32, dport: i32): void {
  const keepPtr = pktPtr;
  const keepLen = pktLen;
  let i = frag4NextHeld(0, src, dst, id, proto, dir, now);
  while (i >= 0) {
    const len = frag4HeldLen(i);
    const q = takeHeld(i);
    if (q == 0) break;
    releasedResult(dir == DIR_BR_DOWN ? downHeld(q, len, dport) : upHeld(q, len, srule, sport, dport), len);
    i = frag4NextHeld(i + 1, src, dst, id, proto, dir, now);
  }
  leave(keepPtr, keepLen);
}

// ---- IPv6 from the CEs ---------------------------------------------------------------

/**
 * An IPv6 packet from the IPv6 network (a CE, or ICMPv6 to the BR). A
 * fragment goes to reassembly; the rebuilt packet (at pktPtr / pktLen) runs
 * through the same checks again, in the loop: it has lost its fragment
 * header, so each round is shorter.
 */
export function brFromIPv6(p: usize, len: i32): i32 {
  while (true) {
    const c = ipv6Check(p, len);
    if (c != IPV6_OK) return ipv6Reason(c);
    len = IPV6_HEADER_LEN + ipv6PayloadLength(p);
    const dst = ipv6Dst(p);
    if (load<u8>(dst) == 0xff) return D_IPV6_NOT_FOR_US; // multicast: MLD, ND, …
    // Any of the domain's BR addresses (anycast / redundancy on one BR).
    const b = brIndexOf(dst);
    if (b < 0) return D_SECURITY_IPV6_DST;
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
    if (nh == IP_PROTO_ICMPV6) return icmp6ToBr(p, len, p + <usize>off, len - off, b);
    if (nh != IP_PROTO_IPIP) return D_IPV6_UNSUPPORTED_NEXT_HEADER;
    return fromCe(p, p + <usize>off, len - off);
  }
}

/**
 * The IPv4 packet a CE tunnelled (outer header at `outer`): the source
 * check of RFC 7597 §8.1 (recompute the MAP address of the inner source
 * address and port, compare with the outer source), then hairpin or
 * decapsulate.
 */
function fromCe(outer: usize, p: usize, len: i32): i32 {
  const c = parse4(pkt, p, len);
  if (c != 0) return c;
  len = pkt.len;
  const src = pkt.src;
  const dst = pkt.dst;
  const rs = lpmIPv4(src);
  // The inner source names no CE the BR serves.
  if (rs < 0) return D_SECURITY_IPV6_SRC_UNKNOWN;
  if (martian(dst)) return D_IPV4_MARTIAN;
  // RFC 791 (parse.ts), as the CE checks it.
  if (pkt.fragErr != 0) return pkt.fragErr;
  const srule = ruleAt(rs);
  const rd = lpmIPv4(dst);
  const needS = srule.psidLength > 0;
  const needD = rd >= 0 && ruleAt(rd).psidLength > 0;
  const proto = pkt.proto;
  const fragOff = pkt.fragOff;
  const more = pkt.more;
  const id = pkt.id;
  const l4 = pkt.l4;
  const outerSrc = ipv6Src(outer);
  let sport = 0;
  let dport = 0;
  let checked = false;
  if (fragOff != 0) {
    if (needS || needD) {
      if (frag4Find(src, dst, id, proto, DIR_BR_UP, now)) {
        sport = <i32>fragAddr;
        dport = fragPort;
      } else {
        // Before its first fragment: the check without a port (file header).
        if (!sourceOkWithoutPort(outerSrc, srule, src, EXPECT)) return D_SECURITY_IPV6_SRC;
        if (needD) {
          // Checked before holding, so a released fragment cannot fail on it.
          if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
          return frag4Hold(p, len, src, dst, id, proto, DIR_BR_UP, now) ? HELD : D_FRAGMENT_HOLD_FULL;
        }
        checked = true;
      }
    }
  } else if (needS || needD) {
    const e = sidePorts();
    if (e != 0) return e;
    if (isIcmpError()) {
      // The quote is a packet the CE received (and, for a hairpin, one the other CE sent).
      if (needS && quote.dst != src) return D_ICMP_BAD_QUOTE;
      if (needD && quote.src != dst) return D_ICMP_BAD_QUOTE;
    }
    sport = pkt.sport;
    dport = pkt.dport;
  }
  // RFC 7597 §8.1: the outer source must be the MAP address of the CE that
  // owns the inner source address and port; anything else is spoofed.
  // PPTP GRE (sport -1) names no port of the sender: the address-only check.
  if (!checked) {
    if (sport < 0) {
      if (!sourceOkWithoutPort(outerSrc, srule, src, EXPECT)) return D_SECURITY_IPV6_SRC;
    } else if (!ruleMapIPv6(srule, src, sport, EXPECT) || !ipv6AddrEqual(EXPECT, outerSrc)) {
      return D_SECURITY_IPV6_SRC;
    }
  }
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
  const first = pkt.first && (needS || needD);
  if (first) frag4Remember(src, dst, id, proto, DIR_BR_UP, <u32>sport, dport, now);
  const isFrag = fragOff != 0 || more;
  const res = rd >= 0 ? hairpin(p, len, ruleAt(rd), dst, dport, isFrag ? 0 : l4) : decapsulate(p, len);
  if (first && forwarded(res) && needD) releaseHeld(src, dst, id, proto, DIR_BR_UP, srule, sport, dport);
  return res;
}

/** Hands the inner IPv4 packet to the internet: the start moves past the outer headers. */
function decapsulate(p: usize, len: i32): i32 {
  ipv4ChecksumApply(p, ipv4DecrementTtlDelta(p));
  leave(p, len);
  return TO_IPV4;
}

/**
 * CE -> CE through the BR: the destination is another CE of the domain;
 * re-encapsulate to it without the packet leaving as IPv4. EXPECT holds
 * the sending CE's address (for a Fragmentation Needed back to it).
 */
function hairpin(p: usize, len: i32, drule: Rule, dst: u32, dport: i32, l4: usize): i32 {
  if (!ruleMapIPv6(drule, dst, dport, TO_CE)) return D_BR_PORT_OUTSIDE;
  const res = toTunnel(p, len, l4, EXPECT);
  if (forwarded(res)) count(C_HAIRPIN, len);
  return res;
}

/** A held fragment from a CE to another CE, released by its first fragment. */
function upHeld(p: usize, len: i32, srule: Rule, sport: i32, dport: i32): i32 {
  if (ipv4Ttl(p) <= 1) return D_IPV4_TTL_EXPIRED;
  const dst = ipv4Dst(p);
  const rd = lpmIPv4(dst);
  if (rd < 0) return D_BR_NO_RULE;
  if (sport >= 0 && !ruleMapIPv6(srule, ipv4Src(p), sport, EXPECT)) return D_SECURITY_IPV6_SRC;
  return hairpin(p, len, ruleAt(rd), dst, dport, 0);
}

/**
 * ICMPv6 to a BR address. Echo requests are answered from the address
 * they were sent to. Errors about packets the BR tunnelled to a CE
 * (RFC 2473 §8) become ICMPv4 errors to the internet sender (icmp.ts
 * icmp6To4, the one mapping CE and BR use, Parameter Problem included); a
 * Packet Too Big also lowers the tunnel MTU toward that CE (RFC 8201,
 * never below 1280), and about a DF-clear packet needs nothing more (the
 * BR fragments from now on).
 *
 * Anyone can send an ICMPv6 error and quote anything, and what the BR
 * emits is an ICMPv4 error *from* the quoted destination: without checks
 * it reflects spoofed errors from any address to any victim. So an error
 * is relayed only when the quoted packet is one the BR could have sent
 * (docs/threat-model.md): outer source a BR address, next header 4; the
 * inner destination inside a rule's IPv4 prefix (else
 * `drop-icmpv6-quote-not-ours`); the quoted IPv6 destination the MAP
 * address of the CE that owns (inner destination, port) — by address only
 * for a quoted non-first fragment (else `drop-icmpv6-quote-endpoint`); and
 * at most the rate limit per kind and per victim (`drop-icmpv6-rate-limited`).
 * The sender itself can be any router between the BR and the CE.
 */
function icmp6ToBr(p: usize, len: i32, ic: usize, iclen: i32, b: i32): i32 {
  if (icmp6Check(ic, iclen, ipv6Src(p), ipv6Dst(p)) != ICMP6_OK) return D_ICMPV6_UNSUPPORTED;
  const t = icmp6Type(ic);
  if (t == ICMP6_ECHO_REQUEST) return echoReply6(p, len, ic, iclen, brAddressPtr(b));
  const map = icmp6To4(t);
  if (map < 0) return D_ICMPV6_UNSUPPORTED;
  const q6 = ic + ICMP6_HEADER_LEN;
  const q6len = iclen - ICMP6_HEADER_LEN;
  if (quoteTunnel(q6, q6len) == 0 || brIndexOf(ipv6Src(q6)) < 0) return D_ICMPV6_BAD_QUOTE;
  const q4 = q6 + IPV6_HEADER_LEN;
  const q4len = q6len - IPV6_HEADER_LEN;
  const qsrc = quote.src;
  const qdst = quote.dst;
  if (martian(qsrc)) return D_ICMPV6_BAD_QUOTE;
  const r = lpmIPv4(qdst);
  if (r < 0) return D_ICMPV6_QUOTE_NOT_OURS;
  const rule = ruleAt(r);
  const qdst6 = ipv6Dst(q6);
  if (rule.psidLength > 0 && !quote.ports) {
    if (!sourceOkWithoutPort(qdst6, rule, qdst, TO_CE)) return D_ICMPV6_QUOTE_ENDPOINT;
  } else if (!ruleMapIPv6(rule, qdst, rule.psidLength > 0 ? quote.dport : 0, TO_CE) ||
             !ipv6AddrEqual(TO_CE, qdst6)) {
    return D_ICMPV6_QUOTE_ENDPOINT;
  }
  if (t == ICMP6_PACKET_TOO_BIG) {
    pmtuLower(qdst6, <i32>min<u32>(icmp6Mtu(ic), 65535), now);
    count(C_PTB_RECEIVED, len);
    if (!ipv4DontFragment(q4)) return HELD;
  }
  // Over the limit the error is not relayed (a Packet Too Big's MTU was still learned).
  if (!icmpRateTake(map >>> 16, qsrc)) return D_ICMPV6_RATE_LIMITED;
  const mtu = t == ICMP6_PACKET_TOO_BIG ? pmtuFor(qdst6, now) - IPV6_HEADER_LEN : 0;
  // Written over this packet's own slot: the ICMPv4 message is shorter than
  // what it replaces, and the quote moves forward first.
  const total = icmp4ErrorStart(p, qdst, qsrc, (map >>> 8) & 0xFF, map & 0xFF, mtu, q4, icmpQuoteLen(q4len));
  icmp4ErrorSeal(p, total);
  leave(p, total);
  return TO_IPV4;
}
