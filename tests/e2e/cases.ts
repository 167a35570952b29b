// End-to-end cases of the CE and BR data paths, in the shape of Snabb lwAFTR's
// end-to-end rows: (name, config, input packets, expected output packets,
// expected counters), run through `mape pcap` and compared byte for byte.
//
// Every expected packet is built here INDEPENDENTLY from the RFC's rules with
// the builders of tests/host/packets.ts — never by running the module. What
// the module is free to choose is kept out of the bytes:
//   - the outer flow label (RFC 6438 hash of the inner flow): expected
//     packets carry 0; the runner copies the label from the output and checks
//     that one inner flow keeps one label;
//   - the IPv4 identification of fragments the CE sends from its shared
//     address (RFC 7597 §8.3.3 wants it taken from the port set): a case
//     lists `free.fragmentId` and the runner copies the ID, fixes the header
//     checksum, and checks the ID is in the port set and equal across the
//     fragments of one packet;
//   - a NAPT source port that is not in the port set (random, RFC 6056):
//     cases keep source ports inside the set, where the NAPT keeps them;
//     random choices are tested through DataPath (tests/host/datapath.test.ts).
//
// Each case is a list of steps: one input packet at a time (seconds from the
// case's start; default 1 ms after the previous step) and the packets it
// causes, in order. The generator (generate.ts) writes the steps to
// tests/e2e/cases/<name>/ as in.pcap / expected.pcap; `counters` lists every
// counter that must be non-zero at the end (packets), and no other may be.

import {
  concat, fragmentIpv4, fragmentIpv6, hex, icmp4DestUnreachable, icmp4Echo, icmp4EchoReply, icmp4FragNeeded,
  icmp4, icmp4TimeExceeded, icmp6DestUnreachable, icmp6Echo, icmp6EchoReply, icmp6Message, icmp6PacketTooBig,
  icmp6ParamProblem, icmp6TimeExceeded, ip6, ipip6, ipv6, pattern,
  tcp4, udp4, PROTO_ICMPV6, type Ipv4Header, type UdpFields, type TcpFields,
} from "../host/packets.js";

export interface Step {
  /** Seconds from the case's start; default: 1 ms after the previous step. */
  at?: number;
  /** What this input is, for messages. */
  note: string;
  send: Uint8Array;
  /** Every packet this input makes the data path emit, in order. */
  expect: Uint8Array[];
}

export interface FreeFields {
  /** Inner IPv4 fragments sent by the CE: their ID must be one of these ports, the same within a packet. */
  fragmentId?: { ports: number[] };
  /**
   * IPv6 fragments of a tunnel packet (RFC 2473 §7.2): their 32-bit
   * identification is the module's choice (RFC 8200 §4.5, RFC 7739); the
   * runner copies it and checks it is one per packet and new for each.
   */
  ipv6FragmentId?: boolean;
}

export interface E2ECase {
  name: string;
  description: string;
  /** The JSON configuration (docs/config.md); `mape pcap` runs it as a CE, or as a BR when `mode` is "br". */
  config: Record<string, unknown>;
  /** "br": the row runs `mape pcap --br-mode` (IPv4 input from the internet, IPv6 from the CEs). */
  mode?: "br";
  steps: Step[];
  /** Every non-zero counter (packets) after the run. */
  counters: Record<string, number>;
  free?: FreeFields;
  /** A data-path bug this case shows (reported): the runner marks the case "todo" so it does not fail the suite. */
  knownBug?: string;
}

/** Capture time of every case's start (ms since the epoch): 2023-11-14. */
export const T0_MS = 1_700_000_000_000;

// ── the domains ─────────────────────────────────────────────────────────

/** JANOG interop rule: 2403:9200::/32 → 203.86.225.0/28, EA 16, a = 4 (k = 12, 15 ports a CE). */
const JANOG_RULE = { ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 };
const JANOG = {
  config: { type: "map-e", rules: [JANOG_RULE], br: "2403:9200:fff0::2", endUserPrefix: "2403:9200:1234::/48" },
  br: "2403:9200:fff0::2",
  ce4: "203.86.225.1",
  ce6: "2403:9200:1234::cb56:e101:234",
  /** RFC 7597 §5.1 with a = 4, k = 12, PSID 0x234: port = i·2^12 + PSID, i = 1..15. */
  ports: Array.from({ length: 15 }, (_, i) => ((i + 1) << 12) | 0x234),
};
/** The peer CE of the same domain with end-user prefix 2403:9200:5123::/48: 203.86.225.5, PSID 0x123. */
const PEER = { ce4: "203.86.225.5", ce6: "2403:9200:5123::cb56:e105:123", port: (1 << 12) | 0x123 };

/** A v6plus-like rule: 240b:10::/31 → 106.72.0.0/15, EA 25, a = 4 (k = 8), legacy interface id. */
const V6PLUS = {
  config: {
    type: "map-e",
    rules: [{ ipv6Prefix: "240b:10::/31", ipv4Prefix: "106.72.0.0/15", eaLength: 25, psidOffset: 4 }],
    br: "2404:9200:225:100::64",
    endUserPrefix: "240b:11:a1b2:c300::/56",
    legacyIid: true,
  },
  br: "2404:9200:225:100::64",
  ce4: "106.73.161.178",
  /** Legacy interface id 0(8) IPv4(32) PSID(16) 0(8), as the field's CEs use (PSID 0xc3). */
  ce6: "240b:11:a1b2:c300:6a:49a1:b200:c300",
  /** a = 4, k = 8, m = 4, PSID 0xc3: port = i·2^12 + PSID·2^4 + j. */
  port: (1 << 12) | (0xc3 << 4),
};

const LAN = "192.168.1.10";
const LAN_B = "192.168.1.11";
const REMOTE = "198.51.100.7";
const REMOTE_B = "198.51.100.8";
const RPORT = 40000;
/** A router on the IPv6 path (sends Packet Too Big, pings the CE). */
const ROUTER6 = "2403:9200:ffff::1";
const P1 = JANOG.ports[0]; // 4660
const P2 = JANOG.ports[1]; // 8756

// ── building blocks ─────────────────────────────────────────────────────

type D = typeof JANOG | typeof V6PLUS;

/** The CE's encapsulation (RFC 7597 §8.2, RFC 2473): traffic class from the TOS, flow label 0 (free), hop limit 64. */
function encap(d: D, inner: Uint8Array, to: string = d.br, tcFromTos = true): Uint8Array {
  return ipip6({ src: d.ce6, dst: to, hopLimit: 64, trafficClass: tcFromTos ? inner[1] : 0, inner });
}

/** What the BR (or a peer) sends to the CE. */
function fromBr(d: D, inner: Uint8Array, from: string = d.br): Uint8Array {
  return ipip6({ src: from, dst: d.ce6, hopLimit: 60, inner });
}

type Udp = Ipv4Header & UdpFields;

/** A UDP packet from the LAN and the same packet after the CE's NAPT (source → ce4, port kept in set; TTL − 1). */
function udpOut(d: D, f: Partial<Udp> & { srcPort: number }): { lan: Uint8Array; wan: Uint8Array; wanFields: Udp } {
  const base: Udp = { src: LAN, dst: REMOTE, dstPort: RPORT, ttl: 64, id: 0x1000, payload: pattern(32), ...f };
  const wanFields = { ...base, src: d.ce4, ttl: base.ttl! - 1 };
  return { lan: udp4(base), wan: udp4(wanFields), wanFields };
}

/** A UDP reply from the remote to the CE's address, and as delivered to the LAN host (TTL − 1). */
function udpIn(d: D, f: Partial<Udp> & { dstPort: number }, to = LAN): { wan: Uint8Array; lan: Uint8Array } {
  const base: Udp = { src: REMOTE, srcPort: RPORT, dst: d.ce4, ttl: 50, id: 0x2000, payload: pattern(24, 7), ...f };
  return { wan: udp4(base), lan: udp4({ ...base, dst: to, ttl: base.ttl! - 1 }) };
}

function j(f: Partial<Udp> & { srcPort: number }) {
  return udpOut(JANOG, f);
}

// ── the cases ───────────────────────────────────────────────────────────

function udpOutIn(): E2ECase {
  const o = j({ srcPort: P1 });
  const i = udpIn(JANOG, { dstPort: P1 });
  return {
    name: "udp-out-in",
    description: "UDP from the LAN is NAPTed into the port set (the in-set source port is kept) and encapsulated to the BR; the reply is decapsulated and delivered (RFC 7597 §8.1–§8.2).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "remote → CE (reply)", send: fromBr(JANOG, i.wan), expect: [i.lan] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1 },
  };
}

function tcpOutIn(): E2ECase {
  type Tcp = Ipv4Header & TcpFields;
  const syn: Tcp = { src: LAN, dst: REMOTE, srcPort: P2, dstPort: 80, seq: 1000, flags: "S", ttl: 64, id: 0x11 };
  const synAck: Tcp = { src: REMOTE, dst: JANOG.ce4, srcPort: 80, dstPort: P2, seq: 5000, ack: 1001, flags: "SA", ttl: 50, id: 0x22 };
  const ack: Tcp = { src: LAN, dst: REMOTE, srcPort: P2, dstPort: 80, seq: 1001, ack: 5001, flags: "A", ttl: 64, id: 0x12 };
  return {
    name: "tcp-out-in",
    description: "A TCP handshake through the CE: SYN out (no MSS option, nothing to clamp), SYN-ACK in, ACK out.",
    config: JANOG.config,
    steps: [
      { note: "SYN", send: tcp4(syn), expect: [encap(JANOG, tcp4({ ...syn, src: JANOG.ce4, ttl: 63 }))] },
      { note: "SYN-ACK", send: fromBr(JANOG, tcp4(synAck)), expect: [tcp4({ ...synAck, dst: LAN, ttl: 49 })] },
      { note: "ACK", send: tcp4(ack), expect: [encap(JANOG, tcp4({ ...ack, src: JANOG.ce4, ttl: 63 }))] },
    ],
    counters: { "in-ipv4": 2, "in-ipv6": 1, "forwarded-to-ipv6": 2, "forwarded-to-ipv4": 1, "out-ipv6": 2, "out-ipv4": 1 },
  };
}

function icmpEcho(): E2ECase {
  const req = { src: LAN, dst: REMOTE, id: P1, seq: 7, ttl: 64, payload: pattern(56) };
  const rep = { src: REMOTE, dst: JANOG.ce4, id: P1, seq: 7, ttl: 55, payload: pattern(56) };
  return {
    name: "icmp-echo-out-in",
    description: "ICMP echo: the identifier is the NAPT's port (RFC 5508 §3.1); an in-set identifier is kept. The reply comes back to the LAN host.",
    config: JANOG.config,
    steps: [
      { note: "echo request", send: icmp4Echo(req), expect: [encap(JANOG, icmp4Echo({ ...req, src: JANOG.ce4, ttl: 63 }))] },
      { note: "echo reply", send: fromBr(JANOG, icmp4EchoReply(rep)), expect: [icmp4EchoReply({ ...rep, dst: LAN, ttl: 54 })] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1 },
  };
}

function icmp6EchoToCe(): E2ECase {
  const f = { src: ROUTER6, dst: JANOG.ce6, id: 9, seq: 1, hopLimit: 62, payload: pattern(16) };
  return {
    name: "icmpv6-echo-to-ce",
    description: "An ICMPv6 echo request to the CE's MAP address is answered (operators ping it).",
    config: JANOG.config,
    steps: [{ note: "ping the MAP address", send: icmp6Echo(f), expect: [icmp6EchoReply({ ...f, src: JANOG.ce6, dst: ROUTER6, hopLimit: 64 })] }],
    counters: { "in-ipv6": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
  };
}

function tosToTrafficClass(tcFromTos: boolean): E2ECase {
  const o = j({ srcPort: P1, tos: 0xb8 });
  return {
    name: tcFromTos ? "tos-to-traffic-class" : "traffic-class-zero",
    description: tcFromTos
      ? "The outer traffic class copies the inner TOS (EF, 0xb8): RFC 2983 uniform model, trafficClassFromTos true (default)."
      : "trafficClassFromTos false: the outer traffic class is 0 whatever the inner TOS.",
    config: { ...JANOG.config, trafficClassFromTos: tcFromTos },
    steps: [{ note: "LAN → remote, TOS 0xb8", send: o.lan, expect: [encap(JANOG, o.wan, JANOG.br, tcFromTos)] }],
    counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
  };
}

function eim(): E2ECase {
  const a = j({ srcPort: P1 });
  const b = j({ srcPort: P1, dst: REMOTE_B, id: 0x1001 });
  return {
    name: "eim-two-destinations",
    description: "Endpoint-independent mapping (RFC 4787 REQ-1): one internal endpoint to two destinations keeps one external port.",
    config: JANOG.config,
    steps: [
      { note: "to remote A", send: a.lan, expect: [encap(JANOG, a.wan)] },
      { note: "to remote B", send: b.lan, expect: [encap(JANOG, b.wan)] },
    ],
    counters: { "in-ipv4": 2, "forwarded-to-ipv6": 2, "out-ipv6": 2 },
  };
}

function filtering(mode: "endpoint-independent" | "address-dependent" | "address-and-port-dependent"): E2ECase {
  const o = j({ srcPort: P1 });
  const newPort = udpIn(JANOG, { dstPort: P1, srcPort: RPORT + 1 });
  const newAddr = udpIn(JANOG, { dstPort: P1, src: REMOTE_B });
  const portOk = mode !== "address-and-port-dependent";
  const addrOk = mode === "endpoint-independent";
  const admitted = (portOk ? 1 : 0) + (addrOk ? 1 : 0);
  const counters: Record<string, number> = { "in-ipv4": 1, "in-ipv6": 2, "forwarded-to-ipv6": 1, "out-ipv6": 1 };
  if (admitted) {
    counters["forwarded-to-ipv4"] = admitted;
    counters["out-ipv4"] = admitted;
  }
  if (admitted < 2) counters["drop-nat-filtered"] = 2 - admitted;
  const short = { "endpoint-independent": "eif", "address-dependent": "adf", "address-and-port-dependent": "apdf" }[mode];
  return {
    name: `filtering-${short}`,
    description: `RFC 4787 REQ-8, filtering "${mode}": after LAN:${P1} → ${REMOTE}:${RPORT}, inbound from the same address but a new port is ${portOk ? "admitted" : "dropped"}, from a new address ${addrOk ? "admitted" : "dropped"} (drop-nat-filtered).`,
    config: { ...JANOG.config, filtering: mode },
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "same remote address, new port", send: fromBr(JANOG, newPort.wan), expect: portOk ? [newPort.lan] : [] },
      { note: "new remote address", send: fromBr(JANOG, newAddr.wan), expect: addrOk ? [newAddr.lan] : [] },
    ],
    counters,
  };
}

function hairpin(mode: "endpoint-independent" | "address-dependent"): E2ECase {
  const a = j({ srcPort: P1 });
  // Host B sends to the CE's own address and A's external port.
  const bFields: Udp = { src: LAN_B, dst: JANOG.ce4, srcPort: P2, dstPort: P1, ttl: 64, id: 0x3000, payload: pattern(20, 3) };
  const eif = mode === "endpoint-independent";
  const delivered = udp4({ ...bFields, src: JANOG.ce4, dst: LAN, ttl: 63 });
  return {
    name: eif ? "hairpin" : "hairpin-adf-filtered",
    description: eif
      ? "Hairpinning (RFC 4787 REQ-9): LAN host B to the CE's own address and A's mapped port reaches A with B's external address and port as source, never leaving the CE."
      : "Hairpinned packets are filtered like any inbound packet: with address-dependent filtering, A has not sent to the CE's own address, so B's packet is drop-nat-filtered.",
    config: { ...JANOG.config, filtering: mode },
    steps: [
      { note: "A → remote (makes A's mapping)", send: a.lan, expect: [encap(JANOG, a.wan)] },
      { note: "B → own address : A's port", send: udp4(bFields), expect: eif ? [delivered] : [] },
    ],
    counters: eif
      ? { "in-ipv4": 2, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1, hairpin: 1 }
      : { "in-ipv4": 2, "forwarded-to-ipv6": 1, "out-ipv6": 1, "drop-nat-filtered": 1 },
  };
}

function hairpinIcmpError(): E2ECase {
  // B makes its mapping (LAN_B:P2 → our address:P2, the in-set port kept).
  const b = j({ src: LAN_B, srcPort: P2, id: 0x3001 });
  // A sends to our own address and B's mapped port: hairpinned to B with A's external address and port (RFC 4787 REQ-9).
  const aFields: Udp = { src: LAN, dst: JANOG.ce4, srcPort: P1, dstPort: P2, ttl: 64, id: 0x3002, payload: pattern(20, 5) };
  const atB = udp4({ ...aFields, src: JANOG.ce4, dst: LAN_B, ttl: 63 });
  // B refuses it and quotes what it got: our address:P1 → B:P2, TTL 63.
  const err = icmp4DestUnreachable({ src: LAN_B, dst: JANOG.ce4, ttl: 64, code: 3, original: atB });
  // A sees an error from our address (B's external address) about what it sent: A:P1 → our address:P2 (TTL as B got it).
  const quoteAtA = udp4({ ...aFields, ttl: 63 });
  const atA = icmp4DestUnreachable({ src: JANOG.ce4, dst: LAN, ttl: 63, code: 3, original: quoteAtA });
  return {
    name: "hairpin-icmp-error",
    description: "Hairpinned ICMP error (RFC 5508 REQ-7 via RFC 7597 §8.2): LAN host B's port unreachable about a packet hairpinned to it from A is turned around inside the CE, never sent to the BR: A gets it from the CE's address (B's external address), its outer destination being the quote's source (REQ-7a), the quote showing A:4660 → 203.86.225.1:8756 as A sent it.",
    config: { ...JANOG.config, filtering: "endpoint-independent" },
    steps: [
      { note: "B → remote (makes B's mapping)", send: b.lan, expect: [encap(JANOG, b.wan)] },
      { note: "A → own address : B's port (hairpinned to B)", send: udp4(aFields), expect: [atB] },
      { note: "B: port unreachable about it", send: err, expect: [atA] },
    ],
    counters: { "in-ipv4": 3, "forwarded-to-ipv6": 1, "out-ipv6": 1, "forwarded-to-ipv4": 2, "out-ipv4": 2, hairpin: 2 },
  };
}

function mesh(fmr: boolean): E2ECase {
  const o = j({ srcPort: P1, dst: PEER.ce4, dstPort: PEER.port });
  const back = udpIn(JANOG, { src: PEER.ce4, srcPort: PEER.port, dstPort: P1 });
  const config = { ...JANOG.config, rules: [{ ...JANOG_RULE, forwarding: fmr }] };
  if (!fmr) {
    return {
      name: "no-mesh-without-fmr",
      description: "Without the F flag the rule is no FMR: traffic to another CE of the domain goes to the BR (RFC 7597 §5.3).",
      config,
      steps: [{ note: "LAN → peer CE's address", send: o.lan, expect: [encap(JANOG, o.wan)] }],
      counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
    };
  }
  return {
    name: "mesh-fmr",
    description: "Mesh (RFC 7597 §5.3, §8.2): the rule is also an FMR, so a packet to 203.86.225.5:4387 goes straight to that CE's MAP address; its reply, from the FMR-derived address, passes the source check (§8.1).",
    config,
    steps: [
      { note: "LAN → peer CE", send: o.lan, expect: [encap(JANOG, o.wan, PEER.ce6)] },
      { note: "peer CE → us", send: fromBr(JANOG, back.wan, PEER.ce6), expect: [back.lan] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1, mesh: 1 },
  };
}

/** Another CE of the JANOG domain (end-user prefix 2403:9200:6123::/48): 203.86.225.6, PSID 0x123. */
const OTHER_PEER = { ce4: "203.86.225.6", ce6: "2403:9200:6123::cb56:e106:123" };

function meshSourceCheckWithoutPort(): E2ECase {
  const o = j({ srcPort: P1, dst: PEER.ce4, dstPort: PEER.port });
  // The peer's reply, DF clear, cut in two: only the first fragment carries ports.
  const back = udpIn(JANOG, { src: PEER.ce4, srcPort: PEER.port, dstPort: P1, df: false, id: 0x3131, payload: pattern(200, 3) });
  const wanFrags = fragmentIpv4(back.wan, 128);
  const lanFrags = fragmentIpv4(back.lan, 128);
  // The peer's LAN host refuses our packet; the peer CE sends the error on from its own address (RFC 5508 §4.2).
  const err = () => icmp4DestUnreachable({ src: PEER.ce4, dst: JANOG.ce4, ttl: 50, code: 3, original: o.wan });
  const lanQuote = udp4({ ...o.wanFields, src: LAN });
  const errLan = icmp4DestUnreachable({ src: PEER.ce4, dst: LAN, ttl: 49, code: 3, original: lanQuote });
  return {
    name: "mesh-source-check-without-port",
    description: "Mesh (the rule is an FMR): packets without a usable port, a later inner fragment and an ICMPv4 error, must come from the MAP address of the peer CE that holds their inner source address (RFC 7597 §8.1, checked by address and the PSID in the outer source's EA bits, as the BR does). From another CE of the domain they are drop-security-ipv6-src; from the right peer they pass.",
    config: { ...JANOG.config, rules: [{ ...JANOG_RULE, forwarding: true }] },
    steps: [
      { note: "LAN → peer CE (mesh)", send: o.lan, expect: [encap(JANOG, o.wan, PEER.ce6)] },
      { note: "first fragment from the peer", send: fromBr(JANOG, wanFrags[0], PEER.ce6), expect: [lanFrags[0]] },
      { note: "second fragment from another CE (203.86.225.6's MAP address)", send: fromBr(JANOG, wanFrags[1], OTHER_PEER.ce6), expect: [] },
      { note: "second fragment from the peer", send: fromBr(JANOG, wanFrags[1], PEER.ce6), expect: [lanFrags[1]] },
      { note: "port unreachable from another CE", send: fromBr(JANOG, err(), OTHER_PEER.ce6), expect: [] },
      { note: "port unreachable from the peer", send: fromBr(JANOG, err(), PEER.ce6), expect: [errLan] },
    ],
    counters: {
      "in-ipv4": 1, "in-ipv6": 5, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 3, "out-ipv6": 1, "out-ipv4": 3,
      mesh: 1, "drop-security-ipv6-src": 2,
    },
  };
}

function security(): E2ECase[] {
  const o = j({ srcPort: P1 });
  const first = { note: "LAN → remote (makes the mapping)", send: o.lan, expect: [encap(JANOG, o.wan)] };
  const base = { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 };
  const one = (name: string, description: string, send: Uint8Array, drop: string, config: Record<string, unknown> = JANOG.config): E2ECase => ({
    name,
    description,
    config,
    steps: [first, { note: description, send, expect: [] }],
    counters: { ...base, [drop]: 1 },
  });
  const fmrConfig = { ...JANOG.config, rules: [{ ...JANOG_RULE, forwarding: true }] };
  return [
    one("security-ipv4-dst", "inner IPv4 destination 203.86.225.2 is not the CE's address (RFC 7597 §8.1)",
      fromBr(JANOG, udpIn(JANOG, { dst: "203.86.225.2", dstPort: P1 }).wan), "drop-security-ipv4-dst"),
    one("security-port", "destination port 5000 is outside the CE's port set (RFC 7597 §8.1)",
      fromBr(JANOG, udpIn(JANOG, { dstPort: 5000 }).wan), "drop-security-port"),
    one("security-ipv6-dst", "outer destination 2403:9200:1234::1 is not the CE's MAP address",
      ipip6({ src: JANOG.br, dst: "2403:9200:1234::1", hopLimit: 60, inner: udpIn(JANOG, { dstPort: P1 }).wan }), "drop-security-ipv6-dst"),
    one("security-ipv6-src", "outer source is the MAP address of CE 203.86.225.5 but the inner source is 203.86.225.6:4387, whose FMR-derived address differs (RFC 7597 §8.1)",
      fromBr(JANOG, udpIn(JANOG, { src: "203.86.225.6", srcPort: PEER.port, dstPort: P1 }).wan, PEER.ce6), "drop-security-ipv6-src", fmrConfig),
    one("security-ipv6-src-unknown", "outer source 2001:db8::1 is neither the BR nor inside any rule",
      fromBr(JANOG, udpIn(JANOG, { dstPort: P1 }).wan, "2001:db8::1"), "drop-security-ipv6-src-unknown"),
  ];
}

function icmpErrorIn(): E2ECase {
  const o = j({ srcPort: P1 });
  // The remote answers our translated packet (as it arrived: TTL 63) with port unreachable.
  const err = icmp4DestUnreachable({ src: REMOTE, dst: JANOG.ce4, ttl: 50, code: 3, original: o.wan });
  const lanQuote = udp4({ ...o.wanFields, src: LAN });
  return {
    name: "icmp-error-in",
    description: "An ICMPv4 port unreachable from the internet about our translated packet is delivered to the LAN host with the quote translated back (RFC 5508 §4.2, RFC 7597 §8.2).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      {
        note: "port unreachable from the remote",
        send: fromBr(JANOG, err),
        expect: [icmp4DestUnreachable({ src: REMOTE, dst: LAN, ttl: 49, code: 3, original: lanQuote })],
      },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1 },
  };
}

function icmpErrorOut(): E2ECase {
  const o = j({ srcPort: P1 });
  const i = udpIn(JANOG, { dstPort: P1 });
  // The LAN host refuses the delivered packet.
  const err = icmp4DestUnreachable({ src: LAN, dst: REMOTE, ttl: 64, code: 3, original: i.lan });
  const wanQuote = udp4({ src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 49, id: 0x2000, payload: pattern(24, 7) });
  return {
    name: "icmp-error-out",
    description: "A LAN host's ICMPv4 port unreachable about an inbound packet leaves with its source and its quote's destination put back to the CE's address and port (RFC 5508 §4.2).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "remote → LAN", send: fromBr(JANOG, i.wan), expect: [i.lan] },
      {
        note: "LAN host: port unreachable",
        send: err,
        expect: [encap(JANOG, icmp4DestUnreachable({ src: JANOG.ce4, dst: REMOTE, ttl: 63, code: 3, original: wanQuote }))],
      },
    ],
    counters: { "in-ipv4": 2, "in-ipv6": 1, "forwarded-to-ipv6": 2, "forwarded-to-ipv4": 1, "out-ipv6": 2, "out-ipv4": 1 },
  };
}

/** A big UDP packet from the LAN: total length `total`. */
function big(total: number, df: boolean, id: number) {
  return j({ srcPort: P1, df, id, payload: pattern(total - 28, id & 0xff) });
}

function packetTooBig(): E2ECase {
  const first = big(1400, true, 0x5001);
  const sent = encap(JANOG, first.wan);
  const ptb = icmp6PacketTooBig({ src: ROUTER6, dst: JANOG.ce6, hopLimit: 60, mtu: 1400, original: sent });
  const quoteBack = udp4({ ...first.wanFields, src: LAN });
  const again = big(1400, true, 0x5002);
  const clear = big(1400, false, 0x5003);
  const clearFrags = fragmentIpv6(encap(JANOG, clear.wan), 1400, 1);
  return {
    name: "packet-too-big",
    description: "An ICMPv6 Packet Too Big (MTU 1400) about a tunnelled DF packet becomes an ICMPv4 frag-needed with MTU 1360 to the LAN host (RFC 7597 §8.2, RFC 2473 §7); later DF packets to that BR are refused at 1360, DF-clear ones encapsulated and sent as IPv6 fragments of at most 1400 bytes (RFC 2473 §7.2).",
    config: JANOG.config,
    steps: [
      { note: "1400-byte DF packet fits 1500", send: first.lan, expect: [sent] },
      {
        note: "Packet Too Big, MTU 1400",
        send: ptb,
        expect: [icmp4FragNeeded({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, mtu: 1360, original: quoteBack })],
      },
      {
        note: "1400-byte DF packet no longer fits",
        send: again.lan,
        expect: [icmp4FragNeeded({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, mtu: 1360, original: again.lan })],
      },
      { note: "1400-byte DF-clear packet: its tunnel packet is fragmented", send: clear.lan, expect: clearFrags },
    ],
    counters: {
      "in-ipv4": 3, "in-ipv6": 1, "forwarded-to-ipv6": 2, "forwarded-to-ipv4": 1, "out-ipv6": 3, "out-ipv4": 2,
      "ptb-received": 1, "icmp-generated": 2, "drop-ipv4-df-too-big": 1, "fragments-out": 1,
    },
    free: { ipv6FragmentId: true },
  };
}

function dfTooBig(): E2ECase {
  const p = big(1461, true, 0x6001);
  return {
    name: "df-too-big",
    description: "A DF packet of 1461 bytes does not fit the 1500-byte tunnel (1461 + 40): ICMPv4 frag-needed with MTU 1460 to the sender (RFC 7597 §8.3.1, RFC 1191).",
    config: JANOG.config,
    steps: [{ note: "1461 bytes, DF", send: p.lan, expect: [icmp4FragNeeded({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, mtu: 1460, original: p.lan })] }],
    counters: { "in-ipv4": 1, "drop-ipv4-df-too-big": 1, "icmp-generated": 1, "out-ipv4": 1 },
  };
}

/** The CE's tunnel packet of a DF-clear 1600-byte LAN packet, as IPv6 fragments over the 1500-byte tunnel (RFC 2473 §7.2). */
function dfClearTunnelFragments() {
  const p = big(1600, false, 0x6002);
  return { p, frags: fragmentIpv6(encap(JANOG, p.wan), 1500, 0x6002) };
}

function dfClearFragmented(inner: boolean): E2ECase {
  if (!inner) {
    const { p, frags } = dfClearTunnelFragments();
    return {
      name: "df-clear-fragmented",
      description: "A DF-clear 1600-byte packet too big for the 1500-byte tunnel is encapsulated whole and the IPv6 tunnel packet is fragmented (RFC 7597 §8.3.1 → RFC 2473 §7.2; Fragment header, RFC 8200 §4.5): 1448 + 192 bytes of the 1640-byte tunnel packet, the inner packet untouched but for the NAPT and TTL, so the BR reassembles before it decapsulates and every decapsulated packet carries its ports.",
      config: JANOG.config,
      steps: [{ note: "1600 bytes, DF clear", send: p.lan, expect: frags }],
      counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 2, "fragments-out": 1 },
      free: { ipv6FragmentId: true },
    };
  }
  const p = big(1600, false, 0x6002);
  const frags = fragmentIpv4(p.wan, 1460);
  return {
    name: "df-clear-fragmented-inner",
    description: "innerFragmentation true: a DF-clear 1600-byte packet is fragmented as IPv4 before encapsulation, two fragments, each in its own IPv6 packet, with an identification from the port set (RFC 7597 §8.3.3). (A BR that checks the port of every decapsulated packet drops the second one.)",
    config: { ...JANOG.config, innerFragmentation: true },
    steps: [{ note: "1600 bytes, DF clear", send: p.lan, expect: frags.map((f) => encap(JANOG, f)) }],
    counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 2, "fragments-out": 1 },
    free: { fragmentId: { ports: JANOG.ports } },
  };
}

function lanFragmentsOutOfOrder(): E2ECase {
  const p = j({ srcPort: P1, id: 0x4242, payload: pattern(1000, 1) });
  const lanFrags = fragmentIpv4(p.lan, 576);
  const wanFrags = fragmentIpv4(p.wan, 576);
  return {
    name: "lan-fragments-out-of-order",
    description: "IPv4 fragments from the LAN, the later one first: it is held (it has no ports), then both leave, in order, when the first fragment has been translated (RFC 7597 §8.3.3).",
    config: JANOG.config,
    steps: [
      { note: "second fragment first", send: lanFrags[1], expect: [] },
      { note: "first fragment", send: lanFrags[0], expect: [encap(JANOG, wanFrags[0]), encap(JANOG, wanFrags[1])] },
    ],
    counters: { "in-ipv4": 2, held: 1, "forwarded-to-ipv6": 1, released: 1, "out-ipv6": 2 },
    free: { fragmentId: { ports: JANOG.ports } },
  };
}

function ipv6Reassembly(): E2ECase {
  const o = j({ srcPort: P1 });
  const i = udpIn(JANOG, { dstPort: P1, payload: pattern(1372, 9) });
  const frags = fragmentIpv6(fromBr(JANOG, i.wan), 1280, 0xabcd);
  return {
    name: "ipv6-fragments-reassembled",
    description: "The BR's IPv6 fragments of one tunnelled packet (1440 bytes over a 1280 path) are reassembled, then decapsulated (RFC 2473 §7.2, RFC 8200 §4.5).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "IPv6 fragment 1", send: frags[0], expect: [] },
      { note: "IPv6 fragment 2", send: frags[1], expect: [i.lan] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 2, "forwarded-to-ipv6": 1, "out-ipv6": 1, held: 1, reassembled: 1, "forwarded-to-ipv4": 1, "out-ipv4": 1 },
  };
}

function mss(setting: "auto" | "off" | number): E2ECase {
  const syn = { src: LAN, dst: REMOTE, srcPort: P2, dstPort: 443, seq: 77, flags: "S", ttl: 64, id: 0x77, options: { mss: 1460, sackPermitted: true, wscale: 7 } };
  const want = setting === "auto" ? 1420 : setting === "off" ? 1460 : setting;
  return {
    name: setting === "auto" ? "mss-clamp" : setting === "off" ? "mss-clamp-off" : `mss-clamp-${setting}`,
    description: setting === "auto"
      ? "MSS clamp (auto): a SYN with MSS 1460 leaves with 1420 = 1500 − 40 (IPv6) − 20 (IPv4) − 20 (TCP)."
      : setting === "off" ? "mssClamp off: the SYN's MSS 1460 is left alone." : `mssClamp ${setting}: the SYN's MSS 1460 becomes ${setting}.`,
    config: setting === "auto" ? JANOG.config : { ...JANOG.config, mssClamp: setting },
    steps: [{ note: "SYN, MSS 1460", send: tcp4(syn), expect: [encap(JANOG, tcp4({ ...syn, src: JANOG.ce4, ttl: 63, options: { ...syn.options, mss: want } }))] }],
    counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
  };
}

function ttlExpired(): E2ECase {
  const p = j({ srcPort: P1, ttl: 1 });
  return {
    name: "ttl-expired",
    description: "A LAN packet with TTL 1 is not forwarded; the sender gets an ICMPv4 time exceeded (RFC 1812 §5.3.1, §4.3.2.3).",
    config: JANOG.config,
    steps: [{ note: "TTL 1", send: p.lan, expect: [icmp4TimeExceeded({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, code: 0, original: p.lan })] }],
    counters: { "in-ipv4": 1, "drop-ipv4-ttl-expired": 1, "icmp-generated": 1, "out-ipv4": 1 },
  };
}

function portExhaustion(): E2ECase {
  const steps: Step[] = JANOG.ports.map((port, k) => {
    const o = j({ srcPort: port, id: 0x7000 + k });
    return { note: `flow from port ${port}`, send: o.lan, expect: [encap(JANOG, o.wan)] };
  });
  const extra = j({ srcPort: 1024, id: 0x7100 }).lan;
  steps.push({
    note: "a 16th flow from port 1024: refused, answered with 3/13",
    send: extra,
    expect: [icmp4DestUnreachable({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, code: 13, original: extra })],
  });
  return {
    name: "port-exhaustion",
    description: "The JANOG CE has 15 ports: 15 flows (in-set source ports, kept) are mapped, a 16th flow finds no free port (RFC 4787 REQ-3: no port overloading), is dropped and its sender gets ICMP destination unreachable, communication administratively prohibited (RFC 5508 REQ-8).",
    config: JANOG.config,
    steps,
    counters: {
      "in-ipv4": 16, "forwarded-to-ipv6": 15, "out-ipv6": 15, "drop-nat-port-exhausted": 1,
      "icmp-generated": 1, "out-ipv4": 1, "nat-refused-icmp": 1, "share-refused": 1,
    },
  };
}

function sessionExpiry(): E2ECase {
  const o = j({ srcPort: P1 });
  const r1 = udpIn(JANOG, { dstPort: P1, id: 0x2001 });
  const r2 = udpIn(JANOG, { dstPort: P1, id: 0x2002 });
  return {
    name: "session-expiry",
    description: "UDP mapping timeout 300 s (RFC 4787 REQ-5): a reply after 100 s is delivered (and refreshes the session, REQ-6), one 301 s after that finds no mapping.",
    config: JANOG.config,
    steps: [
      { at: 0, note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { at: 100, note: "reply at 100 s", send: fromBr(JANOG, r1.wan), expect: [r1.lan] },
      { at: 401, note: "reply at 401 s", send: fromBr(JANOG, r2.wan), expect: [] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 2, "forwarded-to-ipv6": 1, "out-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv4": 1, "drop-nat-no-mapping": 1 },
  };
}

function mldReport(): E2ECase {
  const src = "fe80::1";
  const dst = "ff02::16";
  // MLDv2 report (RFC 3810 §5.2): one record, CHANGE_TO_EXCLUDE ff02::1:ff00:1; hop limit 1, Router Alert.
  const record = concat(Uint8Array.of(4, 0, 0, 0), ip6("ff02::1:ff00:1"));
  const report = ipv6({
    src, dst, hopLimit: 1, nextHeader: PROTO_ICMPV6,
    extensions: [{ type: "hopByHop", options: hex("05020000") }],
    payload: icmp6Message({ src, dst, type: 143, rest: 1, payload: record }),
  });
  return {
    name: "mld-report-dropped",
    description: "A stray MLDv2 report to ff02::16 (the kernel writes some into a new TUN) is dropped as not for us.",
    config: JANOG.config,
    steps: [{ note: "MLDv2 report", send: report, expect: [] }],
    counters: { "in-ipv6": 1, "drop-ipv6-not-for-us": 1 },
  };
}

function v6plus(): E2ECase {
  const o = udpOut(V6PLUS, { srcPort: V6PLUS.port + 5 });
  const i = udpIn(V6PLUS, { dstPort: V6PLUS.port + 5 });
  return {
    name: "v6plus-udp-out-in",
    description: "A v6plus-like domain (240b:10::/31 → 106.72.0.0/15, EA 25, offset 4, PSID 0xc3, legacy interface id): UDP out from in-set port 7221 and the reply in.",
    config: V6PLUS.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(V6PLUS, o.wan)] },
      { note: "remote → CE", send: fromBr(V6PLUS, i.wan), expect: [i.lan] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1 },
  };
}

function lanFragmentsInOrder(): E2ECase {
  const p = j({ srcPort: P1, id: 0x4343, payload: pattern(1500, 2) });
  const lanFrags = fragmentIpv4(p.lan, 576);
  const wanFrags = fragmentIpv4(p.wan, 576);
  return {
    name: "lan-fragments-in-order",
    description: "Three IPv4 fragments from the LAN in order: the first is translated (its ports), the later ones follow its translation; one identification from the port set for all three (RFC 7597 §8.3.3).",
    config: JANOG.config,
    steps: lanFrags.map((f, k) => ({ note: `fragment ${k + 1}`, send: f, expect: [encap(JANOG, wanFrags[k])] })),
    counters: { "in-ipv4": 3, "forwarded-to-ipv6": 3, "out-ipv6": 3 },
    free: { fragmentId: { ports: JANOG.ports } },
  };
}

function lanFragmentExpiry(): E2ECase {
  const p = j({ srcPort: P1, id: 0x4444, payload: pattern(1500, 3) });
  const f = fragmentIpv4(p.lan, 576);
  const later = j({ srcPort: P2, id: 0x4445 });
  return {
    name: "lan-fragment-expiry",
    description: "Two later fragments whose first fragment never comes are held, then freed after the hold time (10 s): each counts in expired-fragments.",
    config: JANOG.config,
    steps: [
      { at: 0, note: "fragment 3", send: f[2], expect: [] },
      { note: "fragment 2", send: f[1], expect: [] },
      { at: 11, note: "an unrelated packet 11 s later", send: later.lan, expect: [encap(JANOG, later.wan)] },
    ],
    counters: { "in-ipv4": 3, held: 2, "expired-fragments": 2, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
  };
}

function icmp6ErrorIn(kind: "unreachable" | "time-exceeded" | "parameter-problem"): E2ECase {
  const o = j({ srcPort: P1 });
  const sent = encap(JANOG, o.wan);
  const err = kind === "unreachable"
    ? icmp6DestUnreachable({ src: JANOG.br, dst: JANOG.ce6, hopLimit: 60, code: 3, original: sent })
    : kind === "time-exceeded"
      // From the BR: errors other than Packet Too Big are taken from a tunnel endpoint only (icmpv6-error-untrusted-source).
      ? icmp6TimeExceeded({ src: JANOG.br, dst: JANOG.ce6, hopLimit: 60, code: 0, original: sent })
      // The BR cannot parse the tunnel header: erroneous header field, pointer 6 (Next Header) (RFC 4443 §3.4).
      : icmp6ParamProblem({ src: JANOG.br, dst: JANOG.ce6, hopLimit: 60, code: 0, pointer: 6, original: sent });
  const quote = udp4({ ...o.wanFields, src: LAN });
  const v4 = kind === "time-exceeded"
    ? icmp4TimeExceeded({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, code: 0, original: quote })
    : icmp4DestUnreachable({ src: JANOG.ce4, dst: LAN, ttl: 64, df: true, code: 1, original: quote });
  return {
    name: `icmpv6-${kind}-in`,
    description: kind === "unreachable"
      ? "An ICMPv6 address unreachable about a tunnelled packet becomes an ICMPv4 host unreachable to the LAN sender, quoting its packet as it sent it (RFC 2473 §8.3, RFC 7597 §8.2)."
      : kind === "time-exceeded"
        ? "An ICMPv6 hop limit exceeded about a tunnelled packet becomes an ICMPv4 time exceeded to the LAN sender (RFC 2473 §8.3)."
        : "An ICMPv6 parameter problem about a tunnelled packet becomes an ICMPv4 host unreachable to the LAN sender, the tunnel being one link for the inner packet (RFC 2473 §8.3, RFC 7597 §8.2).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [sent] },
      { note: `ICMPv6 ${kind}`, send: err, expect: [v4] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1, "icmp-generated": 1 },
  };
}

function udpZeroChecksum(): E2ECase {
  const o = j({ srcPort: P1, checksum: 0 });
  return {
    name: "udp-zero-checksum",
    description: "A UDP packet without checksum (0, RFC 768) keeps 0 through the NAPT: the incremental update must not invent one.",
    config: JANOG.config,
    steps: [{ note: "UDP checksum 0", send: o.lan, expect: [encap(JANOG, o.wan)] }],
    counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
  };
}

/** First 16-bit payload value whose translated packet's checksum computes to 0 (sent as 0xffff, RFC 768). */
function udpFfffOut(): E2ECase {
  for (let x = 0; x < 0x10000; x++) {
    const payload = concat(Uint8Array.of(x >> 8, x & 0xff), pattern(14));
    const o = j({ srcPort: P1, payload });
    if (o.wan[20 + 6] === 0xff && o.wan[20 + 7] === 0xff) {
      return {
        name: "udp-checksum-ffff",
        description: "After the NAPT the UDP checksum computes to 0, which RFC 768 sends as 0xffff (0 would mean no checksum).",
        config: JANOG.config,
        steps: [{ note: "translated checksum computes to 0", send: o.lan, expect: [encap(JANOG, o.wan)] }],
        counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1 },
      };
    }
  }
  throw new Error("no payload gives a zero checksum");
}

function dnsTimeout(): E2ECase {
  // A DNS query for example.com A (RFC 1035 §4.1), so tshark dissects port 53 cleanly.
  const query = hex("1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001");
  const o = j({ srcPort: P1, dstPort: 53, payload: query });
  const answer = hex("1234 8180 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001");
  const r = udpIn(JANOG, { srcPort: 53, dstPort: P1, payload: answer });
  return {
    name: "dns-timeout",
    description: "UDP to port 53 has its own, shorter timeout (30 s): an answer 31 s after the query finds no mapping.",
    config: JANOG.config,
    steps: [
      { at: 0, note: "DNS query", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { at: 31, note: "answer 31 s later", send: fromBr(JANOG, r.wan), expect: [] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1, "drop-nat-no-mapping": 1 },
  };
}

function lanDrops(): E2ECase {
  const martian = j({ srcPort: P1, dst: "127.0.0.1" });
  const badSum = j({ srcPort: P1, ipChecksum: 0x1234 });
  const timestamp = icmp4({ src: LAN, dst: REMOTE, type: 13, code: 0, rest: 0x00010001, payload: new Uint8Array(12) });
  const inTtl = udpIn(JANOG, { dstPort: P1, ttl: 1 });
  const o = j({ srcPort: P1 });
  return {
    name: "drops-misc",
    description: "Single-reason drops: a LAN packet to 127.0.0.1 (martian), a bad IPv4 header checksum, an ICMP timestamp request (not translated), and an inbound packet whose TTL would reach 0 (no ICMP toward the tunnel).",
    config: JANOG.config,
    steps: [
      { note: "to 127.0.0.1", send: martian.lan, expect: [] },
      { note: "bad header checksum", send: badSum.lan, expect: [] },
      { note: "ICMP timestamp request", send: timestamp, expect: [] },
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "inbound TTL 1", send: fromBr(JANOG, inTtl.wan), expect: [] },
    ],
    counters: {
      "in-ipv4": 4, "in-ipv6": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1,
      "drop-ipv4-martian": 1, "drop-ipv4-bad-checksum": 1, "drop-icmp-unsupported": 1, "drop-ipv4-ttl-expired": 1,
    },
  };
}

// ── hostile ICMP (docs/threat-model.md) ─────────────────────────────────

function icmpErrorFiltered(): E2ECase {
  const o = j({ srcPort: P1 });
  const good = icmp4DestUnreachable({ src: REMOTE, dst: JANOG.ce4, ttl: 50, code: 3, original: o.wan });
  // A stranger forges our packet toward REMOTE_B, which we never contacted.
  const forged = udp4({ ...o.wanFields, dst: REMOTE_B });
  const bad = icmp4DestUnreachable({ src: REMOTE_B, dst: JANOG.ce4, ttl: 50, code: 3, original: forged });
  return {
    name: "icmp-error-filtered",
    description: "An ICMPv4 error from the WAN is delivered only when the session's filtering (RFC 4787 REQ-8, address-dependent here) would admit the quoted remote: a port unreachable about a forged packet to an address never contacted is drop-icmp-filtered.",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "port unreachable about a packet to a remote never contacted", send: fromBr(JANOG, bad), expect: [] },
      {
        note: "port unreachable from the contacted remote",
        send: fromBr(JANOG, good),
        expect: [icmp4DestUnreachable({ src: REMOTE, dst: LAN, ttl: 49, code: 3, original: udp4({ ...o.wanFields, src: LAN }) })],
      },
    ],
    counters: {
      "in-ipv4": 1, "in-ipv6": 2, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1,
      "drop-icmp-filtered": 1,
    },
  };
}

function icmpRedirectQuench(): E2ECase {
  const o = j({ srcPort: P1 });
  const i = udpIn(JANOG, { dstPort: P1 });
  const redirect = icmp4({ src: REMOTE, dst: JANOG.ce4, ttl: 50, type: 5, code: 1, rest: 0xc0000201, payload: o.wan.subarray(0, 28) });
  const quench = icmp4({ src: LAN, dst: REMOTE, ttl: 64, type: 4, code: 0, rest: 0, payload: i.lan.subarray(0, 28) });
  return {
    name: "icmp-redirect-quench-dropped",
    description: "ICMP Redirect (meaningless across a tunnel, RFC 1812 §5.2.7.2) and Source Quench (deprecated, RFC 6633) are dropped both ways under their own names.",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "redirect from the WAN", send: fromBr(JANOG, redirect), expect: [] },
      { note: "source quench from the LAN", send: quench, expect: [] },
    ],
    counters: {
      "in-ipv4": 2, "in-ipv6": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1,
      "drop-icmp-redirect": 1, "drop-icmp-source-quench": 1,
    },
  };
}

function wanMartians(): E2ECase {
  const o = j({ srcPort: P1 });
  const loopErr = icmp4DestUnreachable({ src: "127.0.0.1", dst: JANOG.ce4, ttl: 50, code: 3, original: o.wan });
  const mcast = udpIn(JANOG, { dstPort: P1, src: "224.0.0.1" });
  const own = udpIn(JANOG, { dstPort: P1, src: JANOG.ce4, srcPort: P2 });
  const land = udpIn(JANOG, { dstPort: P1, src: LAN });
  const stranger = udpIn(JANOG, { dstPort: P1, src: REMOTE_B });
  return {
    name: "wan-martian-sources",
    description: "With endpoint-independent filtering (which admits any remote) the CE still refuses, from the WAN, an ICMP error from 127.0.0.1, a packet from 224.0.0.1, from its own address and one of its ports, and from the LAN host's own address (RFC 1812 §5.3.7: drop-ipv4-martian); a real stranger is admitted.",
    config: { ...JANOG.config, filtering: "endpoint-independent" },
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "error from 127.0.0.1", send: fromBr(JANOG, loopErr), expect: [] },
      { note: "from 224.0.0.1", send: fromBr(JANOG, mcast.wan), expect: [] },
      { note: "from our own address and port", send: fromBr(JANOG, own.wan), expect: [] },
      { note: "from the LAN host's address", send: fromBr(JANOG, land.wan), expect: [] },
      { note: "from a stranger (EIF)", send: fromBr(JANOG, stranger.wan), expect: [stranger.lan] },
    ],
    counters: {
      "in-ipv4": 1, "in-ipv6": 5, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1,
      "drop-ipv4-martian": 4,
    },
  };
}

function fragNeededFloor(): E2ECase {
  const o = j({ srcPort: P1 });
  const err = icmp4FragNeeded({ src: "192.0.2.1", dst: JANOG.ce4, ttl: 50, mtu: 68, original: o.wan });
  return {
    name: "frag-needed-mtu-floor",
    description: "A Fragmentation Needed from the WAN announcing next-hop MTU 68 (legal in RFC 791, below anything a tunnel path has) reaches the LAN host with the MTU raised to 552 (icmp-mtu-floor).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [encap(JANOG, o.wan)] },
      {
        note: "frag needed, MTU 68",
        send: fromBr(JANOG, err),
        expect: [icmp4FragNeeded({ src: "192.0.2.1", dst: LAN, ttl: 49, mtu: 552, original: udp4({ ...o.wanFields, src: LAN }) })],
      },
    ],
    counters: {
      "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1,
      "icmp-mtu-floor": 1,
    },
  };
}

function icmp6ErrorUntrusted(): E2ECase {
  const o = j({ srcPort: P1 });
  const sent = encap(JANOG, o.wan);
  const fromRouter = icmp6DestUnreachable({ src: ROUTER6, dst: JANOG.ce6, hopLimit: 60, code: 3, original: sent });
  const te = icmp6TimeExceeded({ src: ROUTER6, dst: JANOG.ce6, hopLimit: 60, code: 0, original: sent });
  // The quoted tunnel packet was not sent to the BR.
  const elsewhere = ipip6({ src: JANOG.ce6, dst: "2001:db8::1", hopLimit: 64, trafficClass: o.wan[1], inner: o.wan });
  const ptbElsewhere = icmp6PacketTooBig({ src: ROUTER6, dst: JANOG.ce6, hopLimit: 60, mtu: 1280, original: elsewhere });
  return {
    name: "icmpv6-error-untrusted-source",
    description: "ICMPv6 errors other than Packet Too Big are relayed only from a BR address (or the peer CE the quote was sent to): an unreachable or time exceeded from another IPv6 router is drop-icmpv6-untrusted-source. A Packet Too Big may come from any router, but only about a packet sent to a real tunnel endpoint (drop-icmpv6-quote-endpoint, no MTU learned).",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote", send: o.lan, expect: [sent] },
      { note: "unreachable from a router", send: fromRouter, expect: [] },
      { note: "time exceeded from a router", send: te, expect: [] },
      { note: "Packet Too Big about a packet to 2001:db8::1", send: ptbElsewhere, expect: [] },
    ],
    counters: {
      "in-ipv4": 1, "in-ipv6": 3, "forwarded-to-ipv6": 1, "out-ipv6": 1,
      "drop-icmpv6-untrusted-source": 2, "drop-icmpv6-quote-endpoint": 1,
    },
  };
}

function mssFirstFragment(): E2ECase {
  // A SYN cut after 24 TCP bytes: Data Offset says 60, four NOPs are here, the rest (with the MSS) is not.
  const opts = { raw: new Uint8Array(40).fill(1) };
  opts.raw.set([2, 4, 0x23, 0x28], 4); // MSS 9000, in the second fragment
  const syn = tcp4({ src: LAN, dst: REMOTE, srcPort: P1, dstPort: 80, ttl: 64, id: 0x7001, flags: 0x02, options: opts });
  const frags = fragmentIpv4(syn, 44);
  const wanSyn = tcp4({ src: JANOG.ce4, dst: REMOTE, srcPort: P1, dstPort: 80, ttl: 63, id: 0x7001, flags: 0x02, options: opts });
  const wanFrags = fragmentIpv4(wanSyn, 44);
  // A packet before it leaves bytes in the slot: at 44..47 they look like an MSS option (9000).
  const staleBytes = pattern(32);
  staleBytes.set([2, 4, 0x23, 0x28], 16);
  const before = j({ srcPort: P2, payload: staleBytes });
  return {
    name: "mss-clamp-first-fragment",
    description: "A SYN whose options run past a 24-byte first fragment, after a packet that left MSS-like bytes in the slot just past it: the MSS clamp reads only the fragment's own bytes, so the fragments leave NAPTed but otherwise as they came (the MSS in the second fragment is not clamped; docs/threat-model.md).",
    config: JANOG.config,
    steps: [
      { note: "a packet whose bytes 44..47 read 02 04 23 28", send: before.lan, expect: [encap(JANOG, before.wan)] },
      { note: "first fragment (options cut)", send: frags[0], expect: [encap(JANOG, wanFrags[0])] },
      { note: "second fragment", send: frags[1], expect: [encap(JANOG, wanFrags[1])] },
    ],
    counters: { "in-ipv4": 3, "forwarded-to-ipv6": 3, "out-ipv6": 3 },
    free: { fragmentId: { ports: JANOG.ports } },
  };
}

// ── the BR ──────────────────────────────────────────────────────────────
//
// The same JANOG domain seen from its BR (rows with mode "br"): IPv4 from the
// internet is tunnelled to the CE that owns the destination port (RFC 7597
// §8.2), IPv6 from a CE is source-checked (§8.1) and decapsulated, or
// re-encapsulated to another CE (hairpin).

const JANOG_BR = { type: "map-e", rules: [JANOG_RULE], br: JANOG.br };
/** An IPv4 router on the internet side (sends ICMP errors). */
const ROUTER4 = "198.51.100.1";

/** What the BR sends to a CE: from the BR address, hop limit 64, traffic class from the TOS (RFC 2983). */
function brToCe(inner: Uint8Array, to: string = JANOG.ce6): Uint8Array {
  return ipip6({ src: JANOG.br, dst: to, hopLimit: 64, trafficClass: inner[1], inner });
}

/** A packet as it crosses the BR toward the internet or another CE: TTL − 1. */
function ttlLess(f: Udp): Uint8Array {
  return udp4({ ...f, ttl: f.ttl! - 1 });
}

function brUdpInOut(): E2ECase {
  const o = j({ srcPort: P1 });
  const down: Udp = { src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 50, id: 0x2000, payload: pattern(24, 7) };
  return {
    name: "br-udp-out-in",
    description: "BR: the CE's tunnelled UDP passes the source check (outer source = the MAP address of 203.86.225.1:4660, RFC 7597 §8.1) and leaves decapsulated; the reply to 203.86.225.1:4660 is tunnelled to the CE that owns port 4660 (§8.2).",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "CE → internet", send: encap(JANOG, o.wan), expect: [ttlLess(o.wanFields)] },
      { note: "internet → CE's port", send: udp4(down), expect: [brToCe(ttlLess(down))] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1 },
  };
}

function brSecurity(): E2ECase {
  // 203.86.225.1 with port 8756 (PSID 0x234, so this CE's) but from the MAP address of the CE with PSID 0x123.
  const spoofed = j({ srcPort: P2 });
  // An inner source no rule of the BR covers.
  const foreign = udpOut(JANOG, { srcPort: P1 });
  const foreignWan = udp4({ ...foreign.wanFields, src: "192.0.2.77" });
  const ok = j({ srcPort: P1 });
  return {
    name: "br-security",
    description: "BR source checks (RFC 7597 §8.1): an inner source address and port whose MAP address is not the outer source (drop-security-ipv6-src), an inner source no rule covers (drop-security-ipv6-src-unknown), and an outer destination that is not a BR address (drop-security-ipv6-dst); the genuine packet passes.",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "203.86.225.1:8756 from the MAP address of PSID 0x123", send: ipip6({ src: "2403:9200:5123::cb56:e101:123", dst: JANOG.br, hopLimit: 64, trafficClass: 0, inner: spoofed.wan }), expect: [] },
      { note: "inner source 192.0.2.77 (no rule)", send: encap(JANOG, foreignWan), expect: [] },
      { note: "outer destination 2403:9200:fff0::9", send: encap(JANOG, ok.wan, "2403:9200:fff0::9"), expect: [] },
      { note: "the genuine packet", send: encap(JANOG, ok.wan), expect: [ttlLess(ok.wanFields)] },
    ],
    counters: {
      "in-ipv6": 4, "forwarded-to-ipv4": 1, "out-ipv4": 1,
      "drop-security-ipv6-src": 1, "drop-security-ipv6-src-unknown": 1, "drop-security-ipv6-dst": 1,
    },
  };
}

function brPortOutside(): E2ECase {
  const low: Udp = { src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: 1000, ttl: 50, id: 0x2100, payload: pattern(16) };
  const noRule: Udp = { ...low, dst: "198.51.100.99", dstPort: P1 };
  return {
    name: "br-port-outside",
    description: "BR: destination port 1000 is below 2^(16−a) = 4096, in no CE's port set (RFC 7597 §5.1): drop-br-port-outside; a destination no rule covers: drop-br-no-rule.",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "to 203.86.225.1:1000", send: udp4(low), expect: [] },
      { note: "to 198.51.100.99 (no rule)", send: udp4(noRule), expect: [] },
    ],
    counters: { "in-ipv4": 2, "drop-br-port-outside": 1, "drop-br-no-rule": 1 },
  };
}

function brHairpin(): E2ECase {
  // CE 203.86.225.1 sends to the peer CE 203.86.225.5:4387 through the BR (no FMR at the CE).
  const o = j({ srcPort: P1, dst: PEER.ce4, dstPort: PEER.port });
  return {
    name: "br-hairpin",
    description: "BR hairpin (RFC 7597 §8.2): a CE's packet to another CE of the domain (203.86.225.5:4387) passes the source check, is re-encapsulated to that CE's MAP address and never leaves as IPv4 (TTL − 1 at the BR).",
    config: JANOG_BR,
    mode: "br",
    steps: [{ note: "CE A → CE B via the BR", send: encap(JANOG, o.wan), expect: [brToCe(ttlLess(o.wanFields), PEER.ce6)] }],
    counters: { "in-ipv6": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1, hairpin: 1 },
  };
}

function brDfTooBig(): E2ECase {
  const down: Udp = { src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 50, id: 0x2200, df: true, payload: pattern(1461 - 28, 4) };
  // CE A → CE B, DF, too big for the tunnel toward B: the error goes back to A, tunnelled.
  const up = big(1461, true, 0x6101);
  const upFields = { ...up.wanFields, dst: PEER.ce4, dstPort: PEER.port };
  const upWan = udp4(upFields);
  return {
    name: "br-df-too-big",
    description: "BR: a DF packet of 1461 bytes toward a CE does not fit the 1500-byte tunnel (1461 + 40): ICMPv4 fragmentation needed with MTU 1460, from the address it was sent to, to the internet sender (RFC 7597 §8.3.1, RFC 1191); the same for a hairpinned packet, whose error is tunnelled back to the sending CE.",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "internet → CE, 1461 bytes, DF", send: udp4(down), expect: [icmp4FragNeeded({ src: JANOG.ce4, dst: REMOTE, ttl: 64, df: true, mtu: 1460, original: udp4(down) })] },
      {
        note: "CE A → CE B, 1461 bytes, DF",
        send: encap(JANOG, upWan),
        expect: [brToCe(icmp4FragNeeded({ src: PEER.ce4, dst: JANOG.ce4, ttl: 64, df: true, mtu: 1460, original: upWan }))],
      },
    ],
    counters: {
      "in-ipv4": 1, "in-ipv6": 1, "drop-ipv4-df-too-big": 2, "icmp-generated": 2, "out-ipv4": 1, "out-ipv6": 1,
    },
  };
}

/** A DF-clear 1600-byte packet from the internet to the CE, and the BR's tunnel packet for it. */
function brBigDown() {
  const down: Udp = { src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 50, id: 0x2300, df: false, payload: pattern(1600 - 28, 5) };
  return { down, delivered: udp4({ ...down, dst: LAN, ttl: 48 }), tunnel: brToCe(ttlLess(down)) };
}

function brDfClearFragmented(inner: boolean): E2ECase {
  const { down } = brBigDown();
  if (!inner) {
    return {
      name: "br-df-clear-fragmented",
      description: "BR: a DF-clear 1600-byte packet toward a CE is encapsulated whole and the 1640-byte tunnel packet sent as IPv6 fragments (RFC 7597 §8.3.1 → RFC 2473 §7.2), so the CE reassembles and sees the packet with its ports.",
      config: JANOG_BR,
      mode: "br",
      steps: [{ note: "internet → CE, 1600 bytes, DF clear", send: udp4(down), expect: fragmentIpv6(brToCe(ttlLess(down)), 1500, 7) }],
      counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 2, "fragments-out": 1 },
      free: { ipv6FragmentId: true },
    };
  }
  const frags = fragmentIpv4(ttlLess(down), 1460);
  return {
    name: "br-df-clear-fragmented-inner",
    description: "BR with innerFragmentation true: a DF-clear 1600-byte packet toward a CE is cut into IPv4 fragments first, each tunnelled on its own (the identification is the sender's: the BR does not own the address).",
    config: { ...JANOG_BR, innerFragmentation: true },
    mode: "br",
    steps: [{ note: "internet → CE, 1600 bytes, DF clear", send: udp4(down), expect: frags.map((f) => brToCe(f)) }],
    counters: { "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 2, "fragments-out": 1 },
  };
}

function brReassemblesCe(): E2ECase {
  // Exactly what the df-clear-fragmented row expects the CE to send.
  const { p, frags } = dfClearTunnelFragments();
  return {
    name: "br-reassembles-ce-fragments",
    description: "Round trip CE → BR: the CE's IPv6 fragments of a DF-clear 1600-byte packet (the df-clear-fragmented row's expected output) are reassembled by the BR (RFC 8200 §4.5), source-checked and decapsulated whole, ports included.",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "first IPv6 fragment", send: frags[0], expect: [] },
      { note: "last IPv6 fragment", send: frags[1], expect: [ttlLess(p.wanFields)] },
    ],
    counters: { "in-ipv6": 2, held: 1, reassembled: 1, "forwarded-to-ipv4": 1, "out-ipv4": 1 },
  };
}

function ceReassemblesBr(): E2ECase {
  // Exactly what the br-df-clear-fragmented row expects the BR to send.
  const { delivered, tunnel } = brBigDown();
  const o = j({ srcPort: P1 });
  const frags = fragmentIpv6(tunnel, 1500, 7);
  return {
    name: "ce-reassembles-br-fragments",
    description: "Round trip BR → CE: the BR's IPv6 fragments of a DF-clear 1600-byte packet (the br-df-clear-fragmented row's expected output) are reassembled by the CE and delivered whole to the LAN host.",
    config: JANOG.config,
    steps: [
      { note: "LAN → remote (makes the mapping)", send: o.lan, expect: [encap(JANOG, o.wan)] },
      { note: "first IPv6 fragment", send: frags[0], expect: [] },
      { note: "last IPv6 fragment", send: frags[1], expect: [delivered] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 2, "forwarded-to-ipv6": 1, "out-ipv6": 1, held: 1, reassembled: 1, "forwarded-to-ipv4": 1, "out-ipv4": 1 },
  };
}

function brIcmpErrors(): E2ECase {
  const o = j({ srcPort: P1 });
  // A router on the internet refuses what the CE sent (quote: 203.86.225.1:4660 → remote): to the CE that owns the quoted SOURCE port.
  const toCe = icmp4TimeExceeded({ src: ROUTER4, dst: JANOG.ce4, ttl: 60, code: 0, original: o.wan });
  // The CE sends on its LAN host's port unreachable about a packet it got (quote: remote → 203.86.225.1:4660): checked by the quoted DESTINATION port.
  const got = udp4({ src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 48, id: 0x2400, payload: pattern(24, 7) });
  const fromCe = icmp4DestUnreachable({ src: JANOG.ce4, dst: REMOTE, ttl: 63, code: 3, original: got });
  // The same error claiming port 8756's packet (PSID 0x234 too) but from another CE's MAP address: spoofed.
  const spoofQuote = udp4({ src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: PEER.port, ttl: 48, id: 0x2401, payload: pattern(24, 7) });
  const spoofed = icmp4DestUnreachable({ src: JANOG.ce4, dst: REMOTE, ttl: 63, code: 3, original: spoofQuote });
  return {
    name: "br-icmp-errors",
    description: "BR, ICMPv4 errors in each direction (RFC 7597 §8.2, RFC 5508 §4.2): from the internet about a CE's packet, tunnelled to the CE owning the quoted source port; from a CE about a packet it received, source-checked by the quoted destination port and decapsulated; one whose quoted port belongs to another CE is drop-security-ipv6-src.",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "time exceeded from an internet router", send: toCe, expect: [brToCe(icmp4TimeExceeded({ src: ROUTER4, dst: JANOG.ce4, ttl: 59, code: 0, original: o.wan }))] },
      { note: "port unreachable from the CE", send: encap(JANOG, fromCe), expect: [icmp4DestUnreachable({ src: JANOG.ce4, dst: REMOTE, ttl: 62, code: 3, original: got })] },
      { note: "port unreachable quoting another CE's port", send: encap(JANOG, spoofed), expect: [] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 2, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1, "drop-security-ipv6-src": 1 },
  };
}

function brIcmp6Error(): E2ECase {
  const down: Udp = { src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 50, id: 0x2500, payload: pattern(24, 8) };
  const sent = brToCe(ttlLess(down));
  const err = icmp6DestUnreachable({ src: ROUTER6, dst: JANOG.br, hopLimit: 60, code: 3, original: sent });
  return {
    name: "br-icmpv6-unreachable",
    description: "BR: an ICMPv6 address unreachable about a packet the BR tunnelled to a CE becomes an ICMPv4 host unreachable to the internet sender, from the address it was sent to, quoting the packet as it was tunnelled (RFC 2473 §8.3, RFC 7597 §8.2).",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "internet → CE", send: udp4(down), expect: [sent] },
      { note: "ICMPv6 address unreachable", send: err, expect: [icmp4DestUnreachable({ src: JANOG.ce4, dst: REMOTE, ttl: 64, df: true, code: 1, original: ttlLess(down) })] },
    ],
    counters: { "in-ipv4": 1, "in-ipv6": 1, "forwarded-to-ipv6": 1, "forwarded-to-ipv4": 1, "out-ipv6": 1, "out-ipv4": 1, "icmp-generated": 1 },
  };
}

function brInternetFragments(): E2ECase {
  const down: Udp = { src: REMOTE, srcPort: RPORT, dst: JANOG.ce4, dstPort: P1, ttl: 50, id: 0x2600, df: false, payload: pattern(1200, 6) };
  const frags = fragmentIpv4(udp4(down), 576);
  const out = fragmentIpv4(ttlLess(down), 576);
  return {
    name: "br-internet-fragments",
    description: "BR: IPv4 fragments from the internet to a shared address, the last one first: it has no port, so it is held until the first fragment names the CE (RFC 7597 §8.3.3; the port is remembered for the rest), then all go to that CE, in order.",
    config: JANOG_BR,
    mode: "br",
    steps: [
      { note: "last fragment first", send: frags[2], expect: [] },
      { note: "first fragment", send: frags[0], expect: [brToCe(out[0]), brToCe(out[2])] },
      { note: "middle fragment", send: frags[1], expect: [brToCe(out[1])] },
    ],
    counters: { "in-ipv4": 3, held: 1, released: 1, "forwarded-to-ipv6": 2, "out-ipv6": 3 },
  };
}

/** Every case, most important first. */
export function allCases(): E2ECase[] {
  return [
    udpOutIn(),
    tcpOutIn(),
    icmpEcho(),
    v6plus(),
    eim(),
    filtering("endpoint-independent"),
    filtering("address-dependent"),
    filtering("address-and-port-dependent"),
    hairpin("endpoint-independent"),
    hairpin("address-dependent"),
    hairpinIcmpError(),
    mesh(true),
    mesh(false),
    meshSourceCheckWithoutPort(),
    ...security(),
    icmpErrorIn(),
    icmpErrorOut(),
    packetTooBig(),
    dfTooBig(),
    dfClearFragmented(false),
    dfClearFragmented(true),
    lanFragmentsOutOfOrder(),
    lanFragmentsInOrder(),
    lanFragmentExpiry(),
    ipv6Reassembly(),
    mss("auto"),
    mss("off"),
    mss(1300),
    ttlExpired(),
    portExhaustion(),
    sessionExpiry(),
    mldReport(),
    icmp6ErrorIn("unreachable"),
    icmp6ErrorIn("time-exceeded"),
    icmp6ErrorIn("parameter-problem"),
    udpZeroChecksum(),
    udpFfffOut(),
    dnsTimeout(),
    lanDrops(),
    icmp6EchoToCe(),
    tosToTrafficClass(true),
    tosToTrafficClass(false),
    icmpErrorFiltered(),
    icmpRedirectQuench(),
    wanMartians(),
    fragNeededFloor(),
    icmp6ErrorUntrusted(),
    mssFirstFragment(),
    brUdpInOut(),
    brSecurity(),
    brPortOutside(),
    brHairpin(),
    brDfTooBig(),
    brDfClearFragmented(false),
    brDfClearFragmented(true),
    brReassemblesCe(),
    ceReassemblesBr(),
    brIcmpErrors(),
    brIcmp6Error(),
    brInternetFragments(),
  ];
}
