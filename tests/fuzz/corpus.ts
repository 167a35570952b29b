// Seed packets for the fuzzer: valid packets of every kind a CE meets, built
// with the independent builders of tests/host/packets.ts.
//
// LAN seeds are fixed. WAN seeds must pass the CE's security checks and find
// a NAT session, so they are learned: every IPv4-in-IPv6 packet the CE emits
// for a clean LAN seed becomes a flow, and each flow yields replies from the
// BR (or the peer CE of a mesh flow), ICMPv4 errors inside the tunnel,
// ICMPv6 errors quoting the outer packet, replies behind extension headers,
// and fragmented replies (outer IPv6 fragments and inner IPv4 fragments).
//
// Fragment identifications keep clean and mutated traffic apart: a clean
// fragment set gets a fresh ID from a counter (1, 2, …) and a dedicated
// source (LAN 192.168.1.200), while the sets kept as mutation bases carry IDs
// far from that range (0xF000xxxx for IPv6, 0xFFxx for IPv4) and LAN source
// 192.168.1.55. So a mutated fragment never completes a clean packet, and the
// outputs of clean inputs can be held to a strict well-formedness check.

import * as P from "../host/packets.js";
import type { Rng } from "./rng.js";

export type Seq = Uint8Array[];

export interface Flow {
  proto: number;
  /** Our external port (TCP/UDP source port, or ICMP echo id). */
  ext: number;
  remote: Uint8Array;
  rport: number;
  /** The outer destination the CE chose: the BR or a peer CE. */
  peer: Uint8Array;
  /** The whole encapsulated packet as the CE sent it. */
  outer: Uint8Array;
  tcpFlags: number;
}

export interface Profile {
  name: string;
  args: string[];
  br: string;
}

export interface Entry {
  /** Packets as a mutation base (fragment sets carry "dirty" IDs). */
  base: Seq;
  /** For fragment sets: a fresh clean copy with a new ID. */
  fresh?: (id: number) => Seq;
}

const LAN = ["192.168.1.10", "192.168.1.11", "192.168.1.12", "10.0.0.2"];
const REMOTES = ["198.51.100.1", "198.51.100.2", "203.0.113.9", "8.8.8.8"];
const CLEAN_FRAG_SRC = "192.168.1.200";
const DIRTY_FRAG_SRC = "192.168.1.55";
const DIRTY_ID6 = 0xf0000000;
const DIRTY_ID4 = 0xff00;

const bytes = (n: number, seed: number): Uint8Array => P.pattern(n, seed);

export class Corpus {
  readonly lan: Entry[] = [];
  readonly wan: Entry[] = [];
  /** Learned WAN entries (a ring). */
  readonly learned: Entry[] = [];
  private learnedAt = 0;
  private readonly learnedMax = 384;
  /** Flows learned from outputs: ext port → flow (newest wins). */
  readonly flows = new Map<string, Flow>();
  /** LAN seeds made from delivered WAN packets (ICMP errors from the LAN host). */
  readonly lanLearned: Entry[] = [];
  private lanLearnedAt = 0;
  private nextId = 1;

  constructor(
    readonly profile: Profile,
    readonly ce4: Uint8Array,
    readonly ce6: Uint8Array,
    readonly ports: number[],
    /** MAP address of a peer CE for (addr, port), from the module's own rule table. */
    readonly peerOf: (addr: Uint8Array, port: number) => Uint8Array | undefined,
  ) {
    this.buildLan();
    this.buildWan();
  }

  freshId(): number {
    return this.nextId++;
  }

  private buildLan(): void {
    const add = (p: Uint8Array): void => void this.lan.push({ base: [p] });
    for (let h = 0; h < LAN.length; h++) {
      for (let k = 0; k < 4; k++) {
        const src = LAN[h];
        const dst = REMOTES[(h + k) % REMOTES.length];
        add(P.udp4({ src, dst, srcPort: 5000 + k, dstPort: 53, payload: bytes(20 + 40 * k, h) }));
        add(P.tcp4({ src, dst, srcPort: 40000 + k, dstPort: 443, flags: "S", seq: 1000, options: { mss: 1460, sackPermitted: true, wscale: 7, timestamps: [1, 0] } }));
        add(P.tcp4({ src, dst, srcPort: 40000 + k, dstPort: 443, flags: "PA", seq: 1001, ack: 77, payload: bytes(100 + k, h) }));
        add(P.icmp4Echo({ src, dst, id: 0x100 * h + k, seq: k, payload: bytes(56, k) }));
      }
    }
    const src = LAN[0];
    add(P.tcp4({ src, dst: REMOTES[0], srcPort: 40000, dstPort: 443, flags: "FA", seq: 2000, ack: 77 }));
    add(P.tcp4({ src, dst: REMOTES[1], srcPort: 40001, dstPort: 443, flags: "R", seq: 2000 }));
    // Sizes around the tunnel MTU: 1460 fits a 1500 tunnel, 1461+ does not.
    add(P.udp4({ src, dst: REMOTES[0], srcPort: 5001, dstPort: 4500, payload: bytes(1432, 1) }));
    add(P.udp4({ src, dst: REMOTES[0], srcPort: 5001, dstPort: 4500, payload: bytes(1452, 2) }));
    add(P.udp4({ src, dst: REMOTES[0], srcPort: 5001, dstPort: 4500, df: true, payload: bytes(1452, 3) }));
    add(P.udp4({ src, dst: REMOTES[1], srcPort: 5002, dstPort: 4500, payload: bytes(3900, 4) }));
    add(P.udp4({ src, dst: REMOTES[1], srcPort: 5002, dstPort: 9, payload: new Uint8Array(0), checksum: 0 }));
    // IP options (record route), TTL 1 (time exceeded), TTL 2.
    add(P.udp4({ src, dst: REMOTES[2], srcPort: 5003, dstPort: 123, ipOptions: Uint8Array.of(7, 7, 4, 0, 0, 0, 0), payload: bytes(48, 5) }));
    add(P.udp4({ src, dst: REMOTES[2], srcPort: 5003, dstPort: 123, ttl: 1, payload: bytes(48, 6) }));
    add(P.icmp4Echo({ src, dst: REMOTES[3], id: 7, seq: 1, ttl: 2 }));
    // Mesh: a destination inside the BMR's IPv4 prefix but not ours.
    const ce = this.ce4;
    const peer = Uint8Array.of(ce[0], ce[1], ce[2], ce[3] ^ 4);
    add(P.udp4({ src, dst: peer, srcPort: 5004, dstPort: 50000, payload: bytes(30, 7) }));
    // Hairpin: to our own address and one of our ports (filtered unless mapped).
    add(P.udp4({ src: LAN[1], dst: ce, srcPort: 5005, dstPort: this.ports[this.ports.length >> 1], payload: bytes(10, 8) }));
    // Martian sources/destinations, own source.
    add(P.udp4({ src, dst: "224.0.0.251", srcPort: 5353, dstPort: 5353 }));
    add(P.udp4({ src: ce, dst: REMOTES[0], srcPort: this.ports[0], dstPort: 53 }));
    // Fragment sets (dirty base; clean use is regenerated with fresh IDs).
    for (const order of ["forward", "reverse"] as const) {
      const make = (id: number, from: string): Seq => {
        const big = P.udp4({ src: from, dst: REMOTES[(id + 1) & 3], srcPort: 6000 + (id & 7), dstPort: 5060, id: id & 0xffff, payload: bytes(2800, id) });
        const f = P.fragmentIpv4(big, 1200);
        return order === "reverse" ? f.reverse() : f;
      };
      this.lan.push({ base: make(DIRTY_ID4 + this.lan.length, DIRTY_FRAG_SRC), fresh: (id) => make(id & 0x7fff, CLEAN_FRAG_SRC) });
    }
  }

  private buildWan(): void {
    const br = this.profile.br;
    const add = (p: Uint8Array): void => void this.wan.push({ base: [p] });
    add(P.icmp6Echo({ src: br, dst: this.ce6, id: 1, seq: 1, payload: bytes(32, 1) }));
    add(P.icmp6Echo({ src: "2001:db8::1", dst: this.ce6, id: 2, seq: 9, payload: bytes(200, 2) }));
    // Not for us: MLDv2 report, another address, unknown source.
    add(P.icmp6({ src: "fe80::1", dst: "ff02::16", hopLimit: 1, type: 143, payload: new Uint8Array(20), extensions: [{ type: "hopByHop", options: Uint8Array.of(5, 2, 0, 0) }] }));
    const other = this.ce6.slice();
    other[15] ^= 1;
    add(P.ipip6({ src: br, dst: other, inner: P.udp4({ src: REMOTES[0], dst: this.ce4, srcPort: 53, dstPort: this.ports[0] }) }));
    add(P.ipip6({ src: "2001:db8:bad::1", dst: this.ce6, inner: P.udp4({ src: REMOTES[0], dst: this.ce4, srcPort: 53, dstPort: this.ports[0] }) }));
    // A garbage-free chain of every extension header we skip, to an unknown upper layer.
    add(P.ipv6({ src: br, dst: this.ce6, nextHeader: 59, extensions: [{ type: "hopByHop" }, { type: "destination" }, { type: "routing", segmentsLeft: 0 }] }));
  }

  /** Learns from a packet the CE emitted toward the WAN for a clean input. */
  learn(r: Rng, out: Uint8Array): void {
    if (out.length < 68 || out[0] >> 4 !== 6 || out[6] !== 4) return;
    const inner = out.subarray(40);
    if (inner[0] >> 4 !== 4) return;
    const hl = (inner[0] & 15) * 4;
    const frag = (inner[6] << 8) | inner[7];
    if ((frag & 0x1fff) !== 0 || inner.length < hl + 8) return;
    const proto = inner[9];
    const l4 = inner.subarray(hl);
    const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
    let ext: number;
    let rport: number;
    if (proto === 1) {
      if (l4[0] !== 8) return;
      ext = u16(l4, 4);
      rport = 0;
    } else if (proto === 17 || proto === 6) {
      ext = u16(l4, 0);
      rport = u16(l4, 2);
    } else return;
    const flow: Flow = {
      proto, ext, rport,
      remote: inner.slice(16, 20),
      peer: out.slice(24, 40),
      outer: out.slice(),
      tcpFlags: proto === 6 && l4.length >= 14 ? l4[13] : 0,
    };
    const key = `${proto}/${ext}/${P.formatAddr(flow.remote)}/${rport}`;
    if (this.flows.has(key) && r.chance(0.9)) return; // known: learn again only now and then
    this.flows.set(key, flow);
    for (const e of this.wanFromFlow(r, flow)) this.pushLearned(e);
  }

  /** Learns from an IPv4 packet the CE delivered to the LAN for a clean input: the LAN host answers with an ICMP error. */
  learnDelivered(r: Rng, out: Uint8Array): void {
    if (out.length < 28 || out[0] >> 4 !== 4 || (out[9] !== 17 && out[9] !== 6)) return;
    if (((out[6] << 8) | out[7]) & 0x3fff) return;
    if (!r.chance(0.2)) return;
    const host = out.slice(16, 20);
    const e: Entry = { base: [P.icmp4DestUnreachable({ src: host, dst: out.slice(12, 16), code: 3, original: out.slice(0, Math.min(out.length, 28 + r.int(64))) })] };
    if (this.lanLearned.length < 64) this.lanLearned.push(e);
    else this.lanLearned[this.lanLearnedAt++ % 64] = e;
  }

  private pushLearned(e: Entry): void {
    if (this.learned.length < this.learnedMax) this.learned.push(e);
    else this.learned[this.learnedAt++ % this.learnedMax] = e;
  }

  /** WAN packets that answer a flow, each valid and addressed to pass the CE's checks. */
  private wanFromFlow(r: Rng, f: Flow): Entry[] {
    const ce4 = this.ce4;
    const ce6 = this.ce6;
    const src6 = f.peer;
    const reply = (payloadLen: number, extra: Partial<P.Ipv4Header> = {}): Uint8Array => {
      const h = { src: f.remote, dst: ce4, ...extra };
      const payload = bytes(payloadLen, f.ext);
      if (f.proto === 17) return P.udp4({ ...h, srcPort: f.rport, dstPort: f.ext, payload });
      if (f.proto === 6) {
        const syn = (f.tcpFlags & P.TCP_SYN) !== 0;
        return P.tcp4({ ...h, srcPort: f.rport, dstPort: f.ext, flags: syn ? "SA" : "A", seq: 5000, ack: 1001, options: syn ? { mss: 1400 } : {}, payload: syn ? undefined : payload });
      }
      return P.icmp4EchoReply({ ...h, id: f.ext, seq: 1, payload });
    };
    const out: Entry[] = [];
    const wrap = (inner: Uint8Array, extensions?: P.Ipv6Extension[]): Uint8Array =>
      P.ipip6({ src: src6, dst: ce6, inner, extensions, flowLabel: r.int(0x100000) });
    out.push({ base: [wrap(reply(r.int(200)))] });
    out.push({ base: [wrap(reply(r.int(40)), [{ type: "hopByHop", options: Uint8Array.of(1, 0) }, { type: "destination", options: new Uint8Array(12) }])] });
    // ICMPv4 error from a router on the IPv4 path about our packet.
    const sent = f.outer.subarray(40);
    const q = sent.subarray(0, Math.min(sent.length, 28 + r.int(200)));
    out.push({ base: [wrap(r.chance(0.5)
      ? P.icmp4DestUnreachable({ src: "192.0.2.254", dst: ce4, code: r.pick([1, 3, 13]), original: q })
      : P.icmp4TimeExceeded({ src: "192.0.2.254", dst: ce4, original: q }))] });
    // ICMPv6 error from the BR / a router about the tunnelled packet.
    const icmp6From = r.chance(0.5) ? this.profile.br : "2001:db8:ffff::1";
    const which = r.int(3);
    const original = f.outer.subarray(0, Math.min(f.outer.length, r.chance(0.5) ? 1232 : 68 + r.int(40)));
    out.push({ base: [which === 0
      ? P.icmp6PacketTooBig({ src: icmp6From, dst: ce6, mtu: r.pick([1280, 1400, 1480, 1500, 9000]), original })
      : which === 1
        ? P.icmp6DestUnreachable({ src: icmp6From, dst: ce6, code: r.int(7), original })
        : P.icmp6TimeExceeded({ src: icmp6From, dst: ce6, original })] });
    // Outer IPv6 fragments (the BR fragments a big tunnelled packet, RFC 7597 §8.3.2).
    if (f.proto !== 6 || (f.tcpFlags & P.TCP_SYN) === 0) {
      const len = 1300 + r.int(1200);
      const order = r.int(3);
      const make6 = (id: number): Seq => {
        const fr = P.fragmentIpv6(wrap(reply(len)), r.pick([1280, 1280, 1400]), id);
        return order === 1 ? fr.reverse() : order === 2 ? [fr[fr.length - 1], ...fr.slice(0, -1)] : fr;
      };
      out.push({ base: make6(DIRTY_ID6 + r.int(0x10000)), fresh: make6 });
      // Inner IPv4 fragments, each in its own IPv4-in-IPv6 packet.
      if (f.proto === 17) {
        const make4 = (id: number): Seq => {
          const fr = P.fragmentIpv4(reply(len, { id: id & 0xffff }), 1000).map((p) => wrap(p));
          return order === 1 ? fr.reverse() : fr;
        };
        out.push({ base: make4(DIRTY_ID4 + r.int(0x100)), fresh: (id) => make4(id & 0x7fff) });
      }
    }
    return out;
  }

  /** A garbage chain of extension headers between a valid outer header and (maybe) a valid inner packet. */
  garbageChain(r: Rng): Uint8Array {
    return garbageChain(r, P.ip6(this.profile.br), this.ce6, P.udp4({ src: REMOTES[0], dst: this.ce4, srcPort: 53, dstPort: r.pick(this.ports) }));
  }
}

/**
 * IPv6 from src6 to dst6 with a garbage chain of 1–6 extension headers
 * (known and unknown types, sane and insane lengths) in front of `inner`
 * (an IPv4 packet, announced as next header 4 most of the time); cut to
 * the input capacity. Shared by the CE and BR corpora.
 */
export function garbageChain(r: Rng, src6: Uint8Array, dst6: Uint8Array, inner: Uint8Array): Uint8Array {
  const types = [0, 43, 44, 60, 51, 50, 135, 139, 140, 253, 254];
  const parts: Uint8Array[] = [];
  let first = 0;
  const n = r.range(1, 6);
  let prev: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const t = r.chance(0.8) ? r.pick(types) : r.byte();
    const hlen = t === 44 ? 8 : 8 * (1 + (r.chance(0.8) ? r.int(3) : r.int(256)));
    const h = new Uint8Array(Math.min(hlen, 2100));
    for (let k = 0; k < h.length; k++) h[k] = r.chance(0.5) ? 0 : r.byte();
    if (t !== 44) h[1] = r.chance(0.8) ? hlen / 8 - 1 : r.byte();
    if (prev) prev[0] = t;
    else first = t;
    parts.push(h);
    prev = h;
  }
  prev![0] = r.chance(0.7) ? 4 : r.byte();
  const body = P.concat(...parts, inner);
  const h = P.ipv6({ src: src6, dst: dst6, nextHeader: first, payload: body });
  return h.length > 3968 ? h.subarray(0, 3968) : h;
}
