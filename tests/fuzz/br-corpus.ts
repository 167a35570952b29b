// Seed packets for fuzzing the BR (structure-aware): valid packets of every
// kind a BR meets, addressed from the module's own rule table so they pass
// its checks, built with the independent builders of tests/host/packets.ts.
//
// CE endpoints: for every rule, a few (IPv4 address, port) pairs with the
// MAP address that owns them (mapIPv6 over the installed rules). Then
//   from the internet (IPv4): UDP / TCP / echo reply to an endpoint, any
//     protocol (GRE) to a full-address CE, ICMPv4 errors from a router
//     quoting a packet the CE sent, DF and non-DF packets around the tunnel
//     MTU, TTL 1 and 2, IPv4 fragment trains (in order, reversed, last
//     first: fragments before their first are held);
//   from a CE (IPv6 to a BR address): UDP / TCP / echo request from the
//     endpoint's own MAP address, ICMPv4 errors from the CE quoting a packet
//     it got, hairpins to another CE, inner IPv4 fragment trains, outer IPv6
//     fragment trains, extension-header chains in front of the inner packet,
//     ICMPv6 echo to the BR;
//   learned from what the BR sent for clean inputs: ICMPv6 errors (Packet
//     Too Big, Destination Unreachable, Time Exceeded) from a router on the
//     IPv6 path quoting the very tunnel packet the BR sent; the CE's reply
//     to it; the internet host's reply to a decapsulated packet, and a
//     router's ICMPv4 error quoting it.
// Fragment identifications: clean trains take fresh IDs (corpus.freshId),
// mutation bases IDs far from them, as in corpus.ts.

import * as P from "../host/packets.js";
import type { RawDataPath } from "./driver.js";
import { garbageChain, type Entry, type Seq } from "./corpus.js";
import type { Rng } from "./rng.js";

const REMOTES = ["198.51.100.1", "198.51.100.77", "203.0.113.9", "8.8.8.8", "93.184.216.34"];
const ROUTER4 = "192.0.2.254";
const ROUTER6 = "2001:db8:ffff::1";
const DIRTY_ID6 = 0xf0000000;
const DIRTY_ID4 = 0xff00;

export interface Endpoint {
  rule: number;
  addr: Uint8Array;
  port: number;
  ce6: Uint8Array;
  /** PSID length 0: the CE owns the whole address (any protocol passes). */
  full: boolean;
}

const bytes = (n: number, seed: number): Uint8Array => P.pattern(n, seed);
const u32 = (b: Uint8Array): number => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
const addr4 = (v: number): Uint8Array => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);

export class BrCorpus {
  /** Fixed seeds from the internet (IPv4) and from CEs (IPv6). */
  readonly inet: Entry[] = [];
  readonly ces: Entry[] = [];
  /** Learned from outputs (a ring). */
  readonly learned: Entry[] = [];
  private learnedAt = 0;
  private readonly learnedMax = 384;
  readonly endpoints: Endpoint[] = [];
  readonly brs: Uint8Array[] = [];
  private nextId = 1;

  constructor(readonly dp: RawDataPath, r: Rng) {
    const ex = dp.ex;
    for (let b = 0; b < ex.brCount(); b++) {
      const p = ex.brAddress(b);
      this.brs.push(dp.mem.slice(p, p + 16));
    }
    for (let rule = 0; rule < ex.ruleCount(); rule++) {
      const base = ex.ruleIPv4Prefix(rule) >>> 0;
      const plen = ex.ruleIPv4PrefixLength(rule);
      const a = ex.rulePsidOffset(rule);
      const k = ex.rulePsidLength(rule);
      for (let n = 0, tries = 0; n < 4 && tries < 100; tries++) {
        const host = plen >= 32 ? 0 : r.u32() >>> plen;
        const addr = addr4((base | host) >>> 0);
        const low = 1 << (16 - a);
        const port = r.chance(0.2) ? r.pick([low, 65535, low + 1]) : r.range(low, 65535);
        const ce6 = dp.mapIPv6(addr, port);
        if (!ce6 || ex.ruleForIPv4(u32(addr)) !== rule) continue;
        this.endpoints.push({ rule, addr, port, ce6, full: k === 0 });
        n++;
      }
    }
    if (this.endpoints.length < 2) throw new Error("BR corpus: the rules gave fewer than two CE endpoints");
    for (const e of this.endpoints) {
      for (const x of this.fromInternet(r, e)) this.inet.push(x);
      for (const x of this.fromCe(r, e)) this.ces.push(x);
    }
    const br = this.brs[0];
    this.ces.push({ base: [P.icmp6Echo({ src: "2001:db8:1::1", dst: br, id: 7, seq: 1, payload: bytes(32, 1) })] });
    // Not for the BR: another destination, MLD.
    this.ces.push({ base: [P.ipip6({ src: this.endpoints[0].ce6, dst: "2001:db8:9::1", inner: P.udp4({ src: this.endpoints[0].addr, dst: REMOTES[0], srcPort: this.endpoints[0].port, dstPort: 53 }) })] });
    this.ces.push({ base: [P.icmp6({ src: "fe80::1", dst: "ff02::16", hopLimit: 1, type: 143, payload: new Uint8Array(20), extensions: [{ type: "hopByHop", options: Uint8Array.of(5, 2, 0, 0) }] })] });
    // From the internet to no rule.
    this.inet.push({ base: [P.udp4({ src: REMOTES[1], dst: "100.64.0.1", srcPort: 53, dstPort: 40000 })] });
  }

  freshId(): number {
    return this.nextId++;
  }

  private other(r: Rng, e: Endpoint): Endpoint {
    for (let i = 0; i < 8; i++) {
      const o = r.pick(this.endpoints);
      if (o !== e) return o;
    }
    return this.endpoints[(this.endpoints.indexOf(e) + 1) % this.endpoints.length];
  }

  /** A transport packet between (src:sport) and (dst:dport) of a random kind. */
  private l4(r: Rng, kind: number, h: P.Ipv4Header, sport: number, dport: number, size: number, echoId: number, reply: boolean): Uint8Array {
    const payload = bytes(size, sport ^ dport);
    if (kind === 0) return P.udp4({ ...h, srcPort: sport, dstPort: dport, payload });
    if (kind === 1) return P.tcp4({ ...h, srcPort: sport, dstPort: dport, flags: r.pick(["S", "SA", "A", "PA", "FA", "R"]), seq: r.u32(), ack: r.u32(), options: r.chance(0.3) ? { mss: 1460, wscale: 7 } : {}, payload: r.chance(0.5) ? payload : undefined });
    return reply ? P.icmp4EchoReply({ ...h, id: echoId, seq: r.int(65536), payload }) : P.icmp4Echo({ ...h, id: echoId, seq: r.int(65536), payload });
  }

  private fromInternet(r: Rng, e: Endpoint): Entry[] {
    const out: Entry[] = [];
    const remote = r.pick(REMOTES);
    const rport = r.pick([53, 80, 443, 3478, 51820]);
    for (let kind = 0; kind < 3; kind++) {
      out.push({ base: [this.l4(r, kind, { src: remote, dst: e.addr }, rport, e.port, r.int(120), e.port, true)] });
    }
    // Sizes around the tunnel MTU (1500 − 40 = 1460 fits), with and without DF.
    for (const total of [1460, 1461]) {
      out.push({ base: [P.udp4({ src: remote, dst: e.addr, srcPort: rport, dstPort: e.port, df: r.chance(0.5), payload: bytes(total - 28, 3) })] });
    }
    out.push({ base: [P.udp4({ src: remote, dst: e.addr, srcPort: rport, dstPort: e.port, ttl: r.pick([1, 2]), payload: bytes(8, 4) })] });
    if (e.full) out.push({ base: [P.ipv4({ src: remote, dst: e.addr, proto: 47, payload: bytes(40, 5) })] });
    // A router's ICMPv4 error about a packet the CE sent (quoted source = the endpoint).
    const sent = P.udp4({ src: e.addr, dst: remote, srcPort: e.port, dstPort: rport, payload: bytes(20, 6) });
    out.push({ base: [r.chance(0.5)
      ? P.icmp4DestUnreachable({ src: ROUTER4, dst: e.addr, code: r.pick([1, 3, 4, 13]), mtu: 1400, original: sent })
      : P.icmp4TimeExceeded({ src: ROUTER4, dst: e.addr, original: sent })] });
    // Fragment trains toward the CE.
    const order = r.int(3);
    const make = (id: number): Seq => {
      const big = P.udp4({ src: remote, dst: e.addr, srcPort: rport, dstPort: e.port, id: id & 0xffff, payload: bytes(1800 + r.int(1200), id) });
      const f = P.fragmentIpv4(big, r.pick([576, 1000, 1400]));
      return order === 1 ? f.reverse() : order === 2 ? [f[f.length - 1], ...f.slice(0, -1)] : f;
    };
    out.push({ base: make(DIRTY_ID4 + r.int(0x100)), fresh: (id) => make(id & 0x7fff) });
    return out;
  }

  private fromCe(r: Rng, e: Endpoint): Entry[] {
    const out: Entry[] = [];
    const br = r.pick(this.brs);
    const wrap = (inner: Uint8Array, extensions?: P.Ipv6Extension[]): Uint8Array =>
      P.ipip6({ src: e.ce6, dst: br, inner, extensions, flowLabel: r.int(0x100000) });
    const remote = r.pick(REMOTES);
    const rport = r.pick([53, 80, 443, 123]);
    for (let kind = 0; kind < 3; kind++) {
      out.push({ base: [wrap(this.l4(r, kind, { src: e.addr, dst: remote }, e.port, rport, r.int(120), e.port, false))] });
    }
    // Extension-header chains in front of the inner packet.
    const chains: P.Ipv6Extension[][] = [
      [{ type: "hopByHop", options: Uint8Array.of(1, 0) }],
      [{ type: "destination", options: new Uint8Array(12) }],
      [{ type: "hopByHop" }, { type: "routing", segmentsLeft: 0 }, { type: "destination" }],
    ];
    out.push({ base: [wrap(P.udp4({ src: e.addr, dst: remote, srcPort: e.port, dstPort: rport, payload: bytes(r.int(60), 7) }), r.pick(chains))] });
    // The CE's ICMPv4 error about a packet it got (quoted destination = the endpoint).
    const got = P.udp4({ src: remote, dst: e.addr, srcPort: rport, dstPort: e.port, payload: bytes(16, 8) });
    out.push({ base: [wrap(P.icmp4DestUnreachable({ src: e.addr, dst: remote, code: 3, original: got }))] });
    // Hairpin to another CE.
    const o = this.other(r, e);
    out.push({ base: [wrap(P.udp4({ src: e.addr, dst: o.addr, srcPort: e.port, dstPort: o.port, payload: bytes(r.int(100), 9) }))] });
    // Inner IPv4 fragments (each in its own tunnel packet), to the internet or hairpinned.
    const order = r.int(3);
    const dst = r.chance(0.3) ? o : undefined;
    const make4 = (id: number): Seq => {
      const big = P.udp4({ src: e.addr, dst: dst ? dst.addr : remote, srcPort: e.port, dstPort: dst ? dst.port : rport, id: id & 0xffff, payload: bytes(1500 + r.int(1500), id) });
      const f = P.fragmentIpv4(big, r.pick([600, 1000, 1400])).map((p) => wrap(p));
      return order === 1 ? f.reverse() : f;
    };
    out.push({ base: make4(DIRTY_ID4 + r.int(0x100)), fresh: (id) => make4(id & 0x7fff) });
    // Outer IPv6 fragments of one big tunnel packet.
    const make6 = (id: number): Seq => {
      const f = P.fragmentIpv6(wrap(P.udp4({ src: e.addr, dst: remote, srcPort: e.port, dstPort: rport, payload: bytes(1400 + r.int(1400), id) })), r.pick([1280, 1400]), id);
      return order === 1 ? f.reverse() : f;
    };
    out.push({ base: make6(DIRTY_ID6 + r.int(0x10000)), fresh: make6 });
    return out;
  }

  /** A garbage chain of extension headers from a CE to the BR (corpus.ts garbageChain). */
  garbageChain(r: Rng): Uint8Array {
    const e = r.pick(this.endpoints);
    return garbageChain(r, e.ce6, r.pick(this.brs), P.udp4({ src: e.addr, dst: REMOTES[0], srcPort: e.port, dstPort: 53 }));
  }

  /** Learns from a packet the BR emitted for a clean input. */
  learn(r: Rng, out: Uint8Array): void {
    if (!r.chance(0.25)) return;
    const v = out[0] >> 4;
    if (v === 6 && out.length >= 60 && out[6] === 4) {
      // To a CE: a router's ICMPv6 error quoting it, and the CE's reply.
      const src = out.subarray(8, 24);
      const ce6 = out.subarray(24, 40);
      const q = out.subarray(0, Math.min(out.length, r.chance(0.5) ? 1232 : 68 + r.int(40)));
      const which = r.int(3);
      const from = r.chance(0.7) ? ROUTER6 : ce6;
      this.push({ base: [which === 0
        ? P.icmp6PacketTooBig({ src: from, dst: src, mtu: r.pick([1280, 1300, 1400, 1480]), original: q })
        : which === 1
          ? P.icmp6DestUnreachable({ src: from, dst: src, code: r.pick([0, 1, 3, 4]), original: q })
          : P.icmp6TimeExceeded({ src: from, dst: src, original: q })] });
      const inner = out.subarray(40);
      const swapped = this.swap(inner);
      if (swapped) this.push({ base: [P.ipip6({ src: ce6, dst: src, inner: swapped })] });
    } else if (v === 4 && out.length >= 28) {
      // To the internet: the host's reply, a router's ICMPv4 error quoting it.
      const swapped = this.swap(out);
      if (swapped) this.push({ base: [swapped] });
      if (out[9] !== 1) {
        this.push({ base: [P.icmp4DestUnreachable({ src: ROUTER4, dst: out.slice(12, 16), code: r.pick([1, 3]), original: out.slice(0, Math.min(out.length, 28 + r.int(100))) })] });
      }
    }
  }

  /** The reply to an unfragmented UDP / TCP / echo request packet (addresses and ports swapped). */
  private swap(p: Uint8Array): Uint8Array | undefined {
    if (p.length < 28 || p[0] >> 4 !== 4 || ((p[6] << 8) | p[7]) & 0x3fff) return undefined;
    const hl = (p[0] & 15) * 4;
    const l4 = p.subarray(hl);
    const h = { src: p.slice(16, 20), dst: p.slice(12, 16) };
    const u16 = (at: number): number => (l4[at] << 8) | l4[at + 1];
    if (p[9] === 17 && l4.length >= 8) return P.udp4({ ...h, srcPort: u16(2), dstPort: u16(0), payload: bytes(12, 1) });
    if (p[9] === 6 && l4.length >= 20) return P.tcp4({ ...h, srcPort: u16(2), dstPort: u16(0), flags: "A", seq: 1, ack: 2 });
    if (p[9] === 1 && l4[0] === 8) return P.icmp4EchoReply({ ...h, id: u16(4), seq: u16(6), payload: bytes(8, 2) });
    return undefined;
  }

  private push(e: Entry): void {
    if (this.learned.length < this.learnedMax) this.learned.push(e);
    else this.learned[this.learnedAt++ % this.learnedMax] = e;
  }
}
