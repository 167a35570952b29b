// Packet builders and a dissector for tests — the oracle the data path is
// judged against, so nothing here uses the wasm module.
//
// Builders make valid packets by default (every length and checksum right):
// RFC 1071 sums, the IPv4 header checksum (RFC 791), UDP/TCP pseudo-headers
// (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1) and the ICMPv6 pseudo-header
// (RFC 4443 §2.3). Fields that tests want to get wrong on purpose have an
// override (`checksum`, `ipChecksum`, `totalLength`, `payloadLength`).
//
// Conventions:
//   - addresses are text ("192.0.2.1", "2001:db8::1") or bytes (4 or 16);
//   - fragment offsets are in BYTES (multiples of 8), not 8-octet units;
//   - `dissect()` reads a packet back and lists every problem it finds, so a
//     test can assert `checkPacket(p)` is `[]` for every packet emitted.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../../host/ip.js";

export type Addr = string | Uint8Array;

export const PROTO_HOPOPT = 0;
export const PROTO_ICMP = 1;
export const PROTO_IPIP = 4;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_IPV6 = 41;
export const PROTO_ROUTING = 43;
export const PROTO_FRAGMENT = 44;
export const PROTO_ICMPV6 = 58;
export const PROTO_NONE = 59;
export const PROTO_DSTOPTS = 60;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const ICMP4_ECHO_REPLY = 0;
export const ICMP4_DEST_UNREACHABLE = 3;
export const ICMP4_ECHO_REQUEST = 8;
export const ICMP4_TIME_EXCEEDED = 11;
/** Destination unreachable code 4: fragmentation needed and DF set (RFC 792, RFC 1191). */
export const ICMP4_CODE_FRAG_NEEDED = 4;

export const ICMP6_DEST_UNREACHABLE = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROBLEM = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;

const IPV4_HEADER_LEN = 20;
const IPV6_HEADER_LEN = 40;
const UDP_HEADER_LEN = 8;
const TCP_HEADER_LEN = 20;
const ICMP_HEADER_LEN = 8;
const FRAG_HEADER_LEN = 8;
/** RFC 1812 §4.3.2.3: an ICMPv4 error should not exceed 576 bytes. */
const ICMP4_ERROR_MAX = 576;
/** RFC 4443 §2.4 (c): an ICMPv6 error must not exceed the minimum MTU. */
const ICMP6_ERROR_MAX = 1280;

// ── bytes and addresses ─────────────────────────────────────────────────

/** Concatenate byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes from hex text; spaces, colons and newlines are ignored. */
export function hex(text: string): Uint8Array {
  const s = text.replace(/[\s:]/g, "");
  if (s.length % 2 !== 0 || /[^0-9a-fA-F]/.test(s)) throw new Error(`bad hex '${text}'`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex text of bytes (for assertion messages). */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** `n` bytes of a repeating, recognisable pattern (0, 1, 2, … 255, 0, …) plus `seed`. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i + seed) & 0xff;
  return out;
}

/** IPv4 address as 4 bytes. */
export function ip4(a: Addr): Uint8Array {
  if (typeof a !== "string") {
    if (a.length !== 4) throw new Error(`IPv4 address must be 4 bytes, got ${a.length}`);
    return a;
  }
  const v = parseIPv4(a);
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

/** IPv6 address as 16 bytes. */
export function ip6(a: Addr): Uint8Array {
  if (typeof a !== "string") {
    if (a.length !== 16) throw new Error(`IPv6 address must be 16 bytes, got ${a.length}`);
    return a;
  }
  return parseIPv6(a);
}

/** Address bytes of either family: text with ':' is IPv6. */
function addrBytes(a: Addr): Uint8Array {
  if (typeof a === "string") return a.includes(":") ? ip6(a) : ip4(a);
  if (a.length !== 4 && a.length !== 16) throw new Error(`address must be 4 or 16 bytes, got ${a.length}`);
  return a;
}

/** Text of a 4- or 16-byte address. */
export function formatAddr(b: Uint8Array): string {
  if (b.length === 4) return formatIPv4(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
  return formatIPv6(b);
}

const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}
function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

// ── checksums (RFC 1071) ────────────────────────────────────────────────

/** One's-complement sum of 16-bit words (odd tail padded with zero), folded to 16 bits, not inverted. */
export function onesSum(data: Uint8Array, initial = 0): number {
  let s = initial;
  const end = data.length & ~1;
  for (let i = 0; i < end; i += 2) s += (data[i] << 8) | data[i + 1];
  if (data.length & 1) s += data[data.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The Internet checksum of `data` (with `initial` partial sum, e.g. a pseudo-header). */
export function internetChecksum(data: Uint8Array, initial = 0): number {
  return ~onesSum(data, initial) & 0xffff;
}

/** Sum of the UDP/TCP/ICMPv6 pseudo-header: RFC 768 for 4-byte addresses, RFC 8200 §8.1 for 16. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, length: number): number {
  if (src.length !== dst.length) throw new Error("pseudo-header addresses of different families");
  // Both layouts sum to the same words: addresses, the protocol, the length
  // (the IPv6 layout's 32-bit length and zero padding add nothing more).
  let s = onesSum(src) + onesSum(dst) + proto + (length & 0xffff) + Math.floor(length / 0x10000);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

// ── link layer (for building Ethernet captures) ─────────────────────────

export interface EthernetFields {
  dst?: Uint8Array;
  src?: Uint8Array;
  /** Defaults to IPv4 / IPv6 from the payload's version nibble. */
  etherType?: number;
  /** 802.1Q tags (VLAN ids), outermost first. */
  vlans?: number[];
  payload: Uint8Array;
  /** Pad the frame to the 60-byte Ethernet minimum (default true). */
  pad?: boolean;
}

export function ethernet(f: EthernetFields): Uint8Array {
  const type = f.etherType ?? (f.payload[0] >> 4 === 6 ? 0x86dd : 0x0800);
  const vlans = f.vlans ?? [];
  const h = new Uint8Array(14 + 4 * vlans.length);
  h.set(f.dst ?? Uint8Array.of(0x02, 0, 0, 0, 0, 0x02), 0);
  h.set(f.src ?? Uint8Array.of(0x02, 0, 0, 0, 0, 0x01), 6);
  let at = 12;
  for (const v of vlans) {
    put16(h, at, 0x8100);
    put16(h, at + 2, v & 0x0fff);
    at += 4;
  }
  put16(h, at, type);
  const frame = concat(h, f.payload);
  return (f.pad ?? true) && frame.length < 60 ? concat(frame, new Uint8Array(60 - frame.length)) : frame;
}

// ── IPv4 (RFC 791) ──────────────────────────────────────────────────────

export interface Ipv4Header {
  src: Addr;
  dst: Addr;
  ttl?: number;
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** IP options, padded with End-of-Option-List zeros to a multiple of 4.
   *  (Named apart from TCP's `options` so `tcp4({...})` can take both.) */
  ipOptions?: Uint8Array;
  /** Override the header checksum (to build a bad packet). */
  ipChecksum?: number;
  /** Override the total length field. */
  totalLength?: number;
}

export interface Ipv4Fields extends Ipv4Header {
  proto: number;
  payload?: Uint8Array;
}

export function ipv4(f: Ipv4Fields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const opts = f.ipOptions ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw new Error(`IPv4 options of ${opts.length} bytes exceed 40`);
  const hlen = IPV4_HEADER_LEN + optLen;
  const frag = f.fragOffset ?? 0;
  if (frag % 8 !== 0 || frag < 0 || frag > 0xfff8) throw new Error(`fragment offset ${frag} is not a multiple of 8 in 0..65528`);
  const p = new Uint8Array(hlen + payload.length);
  p[0] = 0x40 | (hlen >> 2);
  p[1] = f.tos ?? 0;
  put16(p, 2, f.totalLength ?? p.length);
  put16(p, 4, f.id ?? 0);
  put16(p, 6, (f.df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0) | (frag >> 3));
  p[8] = f.ttl ?? 64;
  p[9] = f.proto;
  p.set(ip4(f.src), 12);
  p.set(ip4(f.dst), 16);
  p.set(opts, 20);
  put16(p, 10, f.ipChecksum ?? internetChecksum(p.subarray(0, hlen)));
  p.set(payload, hlen);
  return p;
}

// ── UDP (RFC 768) ───────────────────────────────────────────────────────

export interface UdpFields {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
  /** Override the checksum (0 = none, allowed over IPv4 only). */
  checksum?: number;
  /** Override the length field. */
  length?: number;
}

/** A UDP datagram; `src`/`dst` (4 or 16 bytes) give the pseudo-header. */
export function udp(f: UdpFields & { src: Addr; dst: Addr }): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const d = new Uint8Array(UDP_HEADER_LEN + payload.length);
  put16(d, 0, f.srcPort);
  put16(d, 2, f.dstPort);
  put16(d, 4, f.length ?? d.length);
  d.set(payload, UDP_HEADER_LEN);
  let c = f.checksum;
  if (c === undefined) {
    const src = addrBytes(f.src);
    c = internetChecksum(d, pseudoHeaderSum(src, addrBytes(f.dst), PROTO_UDP, d.length));
    // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
    if (c === 0) c = 0xffff;
  }
  put16(d, 6, c);
  return d;
}

// ── TCP (RFC 9293) ──────────────────────────────────────────────────────

export interface TcpOptions {
  /** Maximum segment size (kind 2). */
  mss?: number;
  /** Window scale shift (kind 3). */
  wscale?: number;
  /** SACK permitted (kind 4). */
  sackPermitted?: boolean;
  /** Timestamps value and echo reply (kind 8). */
  timestamps?: [number, number];
  /** Raw option bytes appended after the above. */
  raw?: Uint8Array;
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** Bit mask (TCP_SYN | TCP_ACK) or letters "FSRPAUEC" ("SA" = SYN+ACK). */
  flags?: number | string;
  window?: number;
  urgent?: number;
  options?: TcpOptions;
  payload?: Uint8Array;
  /** Override the checksum. */
  checksum?: number;
}

const FLAG_LETTERS: Record<string, number> = { F: TCP_FIN, S: TCP_SYN, R: TCP_RST, P: TCP_PSH, A: TCP_ACK, U: TCP_URG, E: TCP_ECE, C: TCP_CWR };

function tcpFlags(f: number | string | undefined): number {
  if (f === undefined) return TCP_ACK;
  if (typeof f === "number") return f;
  let v = 0;
  for (const ch of f.toUpperCase()) {
    const bit = FLAG_LETTERS[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag '${ch}' in '${f}'`);
    v |= bit;
  }
  return v;
}

/** Encoded TCP options, padded with End-of-Option-List to a multiple of 4. */
export function tcpOptionBytes(o: TcpOptions): Uint8Array {
  const parts: number[] = [];
  if (o.mss !== undefined) parts.push(2, 4, (o.mss >> 8) & 0xff, o.mss & 0xff);
  if (o.sackPermitted && o.timestamps) parts.push(4, 2);
  else if (o.timestamps || o.sackPermitted) parts.push(1, 1);
  if (o.sackPermitted && !o.timestamps) parts.push(4, 2);
  if (o.timestamps) {
    const t = new Uint8Array(8);
    put32(t, 0, o.timestamps[0]);
    put32(t, 4, o.timestamps[1]);
    parts.push(8, 10, ...t);
  }
  if (o.wscale !== undefined) parts.push(1, 3, 3, o.wscale);
  if (o.raw) parts.push(...o.raw);
  while (parts.length % 4) parts.push(0);
  if (parts.length > 40) throw new Error(`TCP options of ${parts.length} bytes exceed 40`);
  return Uint8Array.from(parts);
}

/** A TCP segment; `src`/`dst` (4 or 16 bytes) give the pseudo-header. */
export function tcp(f: TcpFields & { src: Addr; dst: Addr }): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const opts = tcpOptionBytes(f.options ?? {});
  const hlen = TCP_HEADER_LEN + opts.length;
  const s = new Uint8Array(hlen + payload.length);
  put16(s, 0, f.srcPort);
  put16(s, 2, f.dstPort);
  put32(s, 4, f.seq ?? 0);
  put32(s, 8, f.ack ?? 0);
  s[12] = (hlen >> 2) << 4;
  s[13] = tcpFlags(f.flags);
  put16(s, 14, f.window ?? 65535);
  put16(s, 18, f.urgent ?? 0);
  s.set(opts, TCP_HEADER_LEN);
  s.set(payload, hlen);
  const c = f.checksum ?? internetChecksum(s, pseudoHeaderSum(addrBytes(f.src), addrBytes(f.dst), PROTO_TCP, s.length));
  put16(s, 16, c);
  return s;
}

// ── ICMP messages (RFC 792, RFC 4443) ───────────────────────────────────

export interface IcmpFields {
  type: number;
  code?: number;
  /** The 4 bytes after the checksum: a number (u32) or bytes. */
  rest?: number | Uint8Array;
  payload?: Uint8Array;
  /** Override the checksum. */
  checksum?: number;
}

function icmpMessage(f: IcmpFields, initialSum: number): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const m = new Uint8Array(ICMP_HEADER_LEN + payload.length);
  m[0] = f.type;
  m[1] = f.code ?? 0;
  if (typeof f.rest === "number") put32(m, 4, f.rest);
  else if (f.rest) m.set(f.rest.subarray(0, 4), 4);
  m.set(payload, ICMP_HEADER_LEN);
  put16(m, 2, f.checksum ?? internetChecksum(m, initialSum));
  return m;
}

/** An ICMPv4 message (checksum over the message only). */
export function icmp4Message(f: IcmpFields): Uint8Array {
  return icmpMessage(f, 0);
}

/** An ICMPv6 message (checksum includes the IPv6 pseudo-header, RFC 4443 §2.3). */
export function icmp6Message(f: IcmpFields & { src: Addr; dst: Addr }): Uint8Array {
  const len = ICMP_HEADER_LEN + (f.payload?.length ?? 0);
  return icmpMessage(f, pseudoHeaderSum(ip6(f.src), ip6(f.dst), PROTO_ICMPV6, len));
}

// ── whole IPv4 packets ──────────────────────────────────────────────────

export function udp4(f: Ipv4Header & UdpFields): Uint8Array {
  return ipv4({ ...f, proto: PROTO_UDP, payload: udp(f) });
}

export function tcp4(f: Ipv4Header & TcpFields): Uint8Array {
  return ipv4({ ...f, proto: PROTO_TCP, payload: tcp(f) });
}

export function icmp4(f: Ipv4Header & IcmpFields): Uint8Array {
  return ipv4({ ...f, proto: PROTO_ICMP, payload: icmp4Message(f) });
}

export interface EchoFields {
  id?: number;
  seq?: number;
  payload?: Uint8Array;
  /** Build an echo reply instead of a request. */
  reply?: boolean;
  checksum?: number;
}

const echoRest = (f: EchoFields): number => (((f.id ?? 0) & 0xffff) * 0x10000 + ((f.seq ?? 0) & 0xffff)) >>> 0;

/** ICMPv4 echo request (or reply with `reply: true`). */
export function icmp4Echo(f: Ipv4Header & EchoFields): Uint8Array {
  return icmp4({ ...f, type: f.reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST, code: 0, rest: echoRest(f) });
}

export function icmp4EchoReply(f: Ipv4Header & EchoFields): Uint8Array {
  return icmp4Echo({ ...f, reply: true });
}

export interface Icmp4ErrorFields extends Ipv4Header {
  /** The packet that caused the error; quoted from its first byte. */
  original: Uint8Array;
  /** Bytes of the original to quote; default as much as fits in 576 bytes (RFC 1812 §4.3.2.3). */
  quoteLength?: number;
  checksum?: number;
}

function quote4(f: Icmp4ErrorFields): Uint8Array {
  const max = ICMP4_ERROR_MAX - IPV4_HEADER_LEN - ICMP_HEADER_LEN;
  return f.original.subarray(0, Math.min(f.quoteLength ?? max, f.original.length));
}

/** ICMPv4 destination unreachable; with code 4 `mtu` is the next-hop MTU (RFC 1191 §4). */
export function icmp4DestUnreachable(f: Icmp4ErrorFields & { code: number; mtu?: number }): Uint8Array {
  return icmp4({ ...f, type: ICMP4_DEST_UNREACHABLE, code: f.code, rest: (f.mtu ?? 0) & 0xffff, payload: quote4(f) });
}

/** ICMPv4 "fragmentation needed and DF set" with the next-hop MTU. */
export function icmp4FragNeeded(f: Icmp4ErrorFields & { mtu: number }): Uint8Array {
  return icmp4DestUnreachable({ ...f, code: ICMP4_CODE_FRAG_NEEDED });
}

/** ICMPv4 time exceeded (code 0 TTL exceeded in transit, 1 reassembly time exceeded). */
export function icmp4TimeExceeded(f: Icmp4ErrorFields & { code?: number }): Uint8Array {
  return icmp4({ ...f, type: ICMP4_TIME_EXCEEDED, code: f.code ?? 0, rest: 0, payload: quote4(f) });
}

// ── IPv6 (RFC 8200) ─────────────────────────────────────────────────────

export type Ipv6Extension =
  | { type: "hopByHop" | "destination"; /** option TLVs, padded with PadN to 8n+6 */ options?: Uint8Array }
  | { type: "routing"; routingType?: number; segmentsLeft?: number; /** type-specific data after the 4 fixed bytes */ data?: Uint8Array }
  | { type: "fragment"; /** in bytes, a multiple of 8 */ offset: number; more: boolean; id: number };

export interface Ipv6Header {
  src: Addr;
  dst: Addr;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Extension headers in order, between the fixed header and the payload. */
  extensions?: Ipv6Extension[];
  /** Override the payload length field. */
  payloadLength?: number;
}

export interface Ipv6Fields extends Ipv6Header {
  /** Protocol of `payload` (the last header's next header). */
  nextHeader: number;
  payload?: Uint8Array;
}

const EXT_CODES = { hopByHop: PROTO_HOPOPT, routing: PROTO_ROUTING, fragment: PROTO_FRAGMENT, destination: PROTO_DSTOPTS };

function extensionBytes(e: Ipv6Extension, next: number): Uint8Array {
  if (e.type === "fragment") {
    if (e.offset % 8 !== 0 || e.offset < 0 || e.offset > 0xfff8) throw new Error(`fragment offset ${e.offset} is not a multiple of 8 in 0..65528`);
    const h = new Uint8Array(FRAG_HEADER_LEN);
    h[0] = next;
    put16(h, 2, e.offset | (e.more ? 1 : 0));
    put32(h, 4, e.id);
    return h;
  }
  let body: Uint8Array;
  if (e.type === "routing") {
    body = concat(Uint8Array.of(e.routingType ?? 0, e.segmentsLeft ?? 0, 0, 0), e.data ?? new Uint8Array(0));
  } else {
    body = e.options ?? new Uint8Array(0);
  }
  // Options headers: pad with Pad1 / PadN (RFC 8200 §4.2) to a multiple of 8.
  const len = (2 + body.length + 7) & ~7;
  const h = new Uint8Array(len);
  h[0] = next;
  h[1] = len / 8 - 1;
  h.set(body, 2);
  const pad = len - 2 - body.length;
  if (e.type !== "routing") {
    if (pad === 1) h[2 + body.length] = 0;
    else if (pad >= 2) {
      h[2 + body.length] = 1;
      h[3 + body.length] = pad - 2;
    }
  }
  return h;
}

export function ipv6(f: Ipv6Fields): Uint8Array {
  const exts = f.extensions ?? [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? EXT_CODES[exts[i + 1].type] : f.nextHeader;
    parts.push(extensionBytes(exts[i], next));
  }
  const body = concat(...parts, f.payload ?? new Uint8Array(0));
  const h = new Uint8Array(IPV6_HEADER_LEN);
  const tc = f.trafficClass ?? 0;
  put32(h, 0, ((6 << 28) | (tc << 20) | ((f.flowLabel ?? 0) & 0xfffff)) >>> 0);
  put16(h, 4, f.payloadLength ?? body.length);
  h[6] = exts.length ? EXT_CODES[exts[0].type] : f.nextHeader;
  h[7] = f.hopLimit ?? 64;
  h.set(ip6(f.src), 8);
  h.set(ip6(f.dst), 24);
  return concat(h, body);
}

export function udp6(f: Ipv6Header & UdpFields): Uint8Array {
  return ipv6({ ...f, nextHeader: PROTO_UDP, payload: udp(f) });
}

export function tcp6(f: Ipv6Header & TcpFields): Uint8Array {
  return ipv6({ ...f, nextHeader: PROTO_TCP, payload: tcp(f) });
}

export function icmp6(f: Ipv6Header & IcmpFields): Uint8Array {
  return ipv6({ ...f, nextHeader: PROTO_ICMPV6, payload: icmp6Message(f) });
}

/** ICMPv6 echo request (or reply with `reply: true`). */
export function icmp6Echo(f: Ipv6Header & EchoFields): Uint8Array {
  return icmp6({ ...f, type: f.reply ? ICMP6_ECHO_REPLY : ICMP6_ECHO_REQUEST, code: 0, rest: echoRest(f) });
}

export function icmp6EchoReply(f: Ipv6Header & EchoFields): Uint8Array {
  return icmp6Echo({ ...f, reply: true });
}

export interface Icmp6ErrorFields extends Ipv6Header {
  original: Uint8Array;
  /** Default: as much as fits in 1280 bytes (RFC 4443 §2.4 (c)). */
  quoteLength?: number;
  checksum?: number;
}

function quote6(f: Icmp6ErrorFields): Uint8Array {
  const max = ICMP6_ERROR_MAX - IPV6_HEADER_LEN - ICMP_HEADER_LEN;
  return f.original.subarray(0, Math.min(f.quoteLength ?? max, f.original.length));
}

/** ICMPv6 packet too big with the MTU (RFC 4443 §3.2). */
export function icmp6PacketTooBig(f: Icmp6ErrorFields & { mtu: number }): Uint8Array {
  return icmp6({ ...f, type: ICMP6_PACKET_TOO_BIG, code: 0, rest: f.mtu >>> 0, payload: quote6(f) });
}

/** ICMPv6 destination unreachable (RFC 4443 §3.1; code 0 no route … 5 source address failed policy). */
export function icmp6DestUnreachable(f: Icmp6ErrorFields & { code: number }): Uint8Array {
  return icmp6({ ...f, type: ICMP6_DEST_UNREACHABLE, code: f.code, rest: 0, payload: quote6(f) });
}

/** ICMPv6 time exceeded (RFC 4443 §3.3; code 0 hop limit, 1 reassembly). */
export function icmp6TimeExceeded(f: Icmp6ErrorFields & { code?: number }): Uint8Array {
  return icmp6({ ...f, type: ICMP6_TIME_EXCEEDED, code: f.code ?? 0, rest: 0, payload: quote6(f) });
}

/** ICMPv6 parameter problem with the pointer (RFC 4443 §3.4). */
export function icmp6ParamProblem(f: Icmp6ErrorFields & { code: number; pointer: number }): Uint8Array {
  return icmp6({ ...f, type: ICMP6_PARAM_PROBLEM, code: f.code, rest: f.pointer >>> 0, payload: quote6(f) });
}

/** IPv4-in-IPv6 (next header 4), the MAP-E encapsulation (RFC 7597 §7, RFC 2473). */
export function ipip6(f: Ipv6Header & { inner: Uint8Array }): Uint8Array {
  return ipv6({ ...f, nextHeader: PROTO_IPIP, payload: f.inner });
}

// ── fragmentation ───────────────────────────────────────────────────────

/**
 * Split an IPv4 packet into fragments of at most `mtu` bytes (RFC 791 §3.2):
 * non-last fragments carry a multiple of 8 data bytes; options without the
 * copy flag go only in the first fragment. A packet that is already a
 * fragment is split further (offsets add, the last keeps its MF). DF set
 * throws unless `ignoreDf`.
 */
export function fragmentIpv4(packet: Uint8Array, mtu: number, opts: { ignoreDf?: boolean } = {}): Uint8Array[] {
  const hlen = (packet[0] & 0x0f) * 4;
  const total = u16(packet, 2);
  const flags = u16(packet, 6);
  if (total > packet.length || hlen < IPV4_HEADER_LEN) throw new Error("fragmentIpv4: malformed packet");
  if (total <= mtu) return [packet.subarray(0, total)];
  if (flags & 0x4000 && !opts.ignoreDf) throw new Error("fragmentIpv4: DF is set");
  const baseOffset = (flags & 0x1fff) * 8;
  const lastMf = (flags & 0x2000) !== 0;
  const firstOpts = packet.subarray(IPV4_HEADER_LEN, hlen);
  const laterOpts = copiedOptions(firstOpts);
  const data = packet.subarray(hlen, total);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    const options = at === 0 ? firstOpts : laterOpts;
    const room = mtu - IPV4_HEADER_LEN - ((options.length + 3) & ~3);
    const max = room & ~7;
    if (max <= 0) throw new Error(`fragmentIpv4: MTU ${mtu} leaves no room for data`);
    const n = Math.min(max, data.length - at);
    const last = at + n === data.length;
    out.push(
      ipv4({
        src: packet.subarray(12, 16),
        dst: packet.subarray(16, 20),
        proto: packet[9],
        ttl: packet[8],
        tos: packet[1],
        id: u16(packet, 4),
        df: (flags & 0x4000) !== 0,
        mf: last ? lastMf : true,
        fragOffset: baseOffset + at,
        ipOptions: options,
        payload: data.subarray(at, at + n),
      }),
    );
    at += n;
  }
  return out;
}

/** IPv4 options whose copy flag (RFC 791 §3.1, bit 0x80 of the type) is set. */
function copiedOptions(opts: Uint8Array): Uint8Array {
  const keep: number[] = [];
  let i = 0;
  while (i < opts.length) {
    const t = opts[i];
    if (t === 0) break;
    if (t === 1) {
      i++;
      continue;
    }
    const len = opts[i + 1];
    if (len < 2 || i + len > opts.length) break;
    if (t & 0x80) keep.push(...opts.subarray(i, i + len));
    i += len;
  }
  return Uint8Array.from(keep);
}

/**
 * Split an IPv6 packet into fragments of at most `mtu` bytes (RFC 8200 §4.5):
 * the unfragmentable part (fixed header, and extension headers up to the
 * last Routing header, or the Hop-by-Hop header) is repeated in each
 * fragment, followed by a Fragment header with `id`.
 */
export function fragmentIpv6(packet: Uint8Array, mtu: number, id: number): Uint8Array[] {
  if (packet.length <= mtu) return [packet];
  let next = packet[6];
  let at = IPV6_HEADER_LEN;
  let unfragEnd = IPV6_HEADER_LEN;
  let splitNextAt = 6;
  while (next === PROTO_HOPOPT || next === PROTO_ROUTING || next === PROTO_DSTOPTS) {
    const len = (packet[at + 1] + 1) * 8;
    if (next === PROTO_HOPOPT || next === PROTO_ROUTING) {
      unfragEnd = at + len;
      splitNextAt = at;
    }
    next = packet[at];
    at += len;
  }
  if (next === PROTO_FRAGMENT) throw new Error("fragmentIpv6: packet already has a Fragment header");
  const unfrag = packet.slice(0, unfragEnd);
  const firstFragmentable = packet[splitNextAt];
  unfrag[splitNextAt] = PROTO_FRAGMENT;
  const data = packet.subarray(unfragEnd);
  const max = (mtu - unfragEnd - FRAG_HEADER_LEN) & ~7;
  if (max <= 0) throw new Error(`fragmentIpv6: MTU ${mtu} leaves no room for data`);
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += max) {
    const n = Math.min(max, data.length - off);
    const fh = extensionBytes({ type: "fragment", offset: off, more: off + n < data.length, id }, firstFragmentable);
    const frag = concat(unfrag, fh, data.subarray(off, off + n));
    put16(frag, 4, frag.length - IPV6_HEADER_LEN);
    out.push(frag);
  }
  return out;
}

/** Reassemble IPv4 fragments (any order) into one packet; throws on gaps or overlaps. */
export function reassembleIpv4(frags: Uint8Array[]): Uint8Array {
  if (frags.length === 0) throw new Error("reassembleIpv4: no fragments");
  const pieces = frags.map((f) => {
    const hlen = (f[0] & 0x0f) * 4;
    const fl = u16(f, 6);
    return { f, hlen, off: (fl & 0x1fff) * 8, mf: (fl & 0x2000) !== 0, data: f.subarray(hlen, u16(f, 2)) };
  });
  pieces.sort((a, b) => a.off - b.off);
  const first = pieces[0];
  if (first.off !== 0) throw new Error("reassembleIpv4: first fragment missing");
  let end = 0;
  for (const p of pieces) {
    if (p.off !== end) throw new Error(`reassembleIpv4: ${p.off < end ? "overlap" : "gap"} at ${end}`);
    end += p.data.length;
  }
  if (pieces[pieces.length - 1].mf) throw new Error("reassembleIpv4: last fragment missing");
  const f = first.f;
  return ipv4({
    src: f.subarray(12, 16),
    dst: f.subarray(16, 20),
    proto: f[9],
    ttl: f[8],
    tos: f[1],
    id: u16(f, 4),
    df: (u16(f, 6) & 0x4000) !== 0,
    ipOptions: f.subarray(IPV4_HEADER_LEN, first.hlen),
    payload: concat(...pieces.map((p) => p.data)),
  });
}

/** Reassemble IPv6 fragments (any order) into one packet; throws on gaps or overlaps. */
export function reassembleIpv6(frags: Uint8Array[]): Uint8Array {
  if (frags.length === 0) throw new Error("reassembleIpv6: no fragments");
  const pieces = frags.map((f) => {
    const d = dissect(f);
    if (!d.fragment || d.fragmentHeaderAt === undefined) throw new Error("reassembleIpv6: packet has no Fragment header");
    return { f, fhAt: d.fragmentHeaderAt, off: d.fragment.offset, more: d.fragment.more, data: f.subarray(d.fragmentHeaderAt + FRAG_HEADER_LEN) };
  });
  pieces.sort((a, b) => a.off - b.off);
  let end = 0;
  for (const p of pieces) {
    if (p.off !== end) throw new Error(`reassembleIpv6: ${p.off < end ? "overlap" : "gap"} at ${end}`);
    end += p.data.length;
  }
  if (pieces[pieces.length - 1].more) throw new Error("reassembleIpv6: last fragment missing");
  const first = pieces[0];
  const unfrag = first.f.slice(0, first.fhAt);
  // Point the header before the Fragment header at what the Fragment header carried.
  const prevAt = previousNextHeaderAt(first.f, first.fhAt);
  unfrag[prevAt] = first.f[first.fhAt];
  const p = concat(unfrag, ...pieces.map((x) => x.data));
  put16(p, 4, p.length - IPV6_HEADER_LEN);
  return p;
}

/** Offset of the Next Header byte that names the header at `target`. */
function previousNextHeaderAt(p: Uint8Array, target: number): number {
  let nextAt = 6;
  let type = p[6];
  let at = IPV6_HEADER_LEN;
  while (at < target) {
    const len = type === PROTO_FRAGMENT ? FRAG_HEADER_LEN : (p[at + 1] + 1) * 8;
    nextAt = at;
    type = p[at];
    at += len;
  }
  return nextAt;
}

// ── dissector ───────────────────────────────────────────────────────────

export interface Ipv4Info {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** In bytes. */
  fragOffset: number;
  ttl: number;
  proto: number;
  checksum: number;
  options: Uint8Array;
}

export interface Ipv6Info {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  /** Extension header protocol numbers in order. */
  extensions: number[];
}

export interface UdpInfo {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

export interface TcpInfo {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  headerLength: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: [number, number];
}

export interface IcmpInfo {
  /** 4 for ICMP, 6 for ICMPv6. */
  version: 4 | 6;
  type: number;
  code: number;
  checksum: number;
  /** The 4 bytes after the checksum, as a u32. */
  rest: number;
  /** Echo identifier and sequence (echo request / reply only). */
  id?: number;
  seq?: number;
  /** MTU of ICMPv4 frag-needed / ICMPv6 packet too big. */
  mtu?: number;
  /** The quoted packet of an error message, dissected leniently (may be cut short). */
  quoted?: Dissection;
}

export interface Dissection {
  version: 4 | 6;
  src: string;
  dst: string;
  /** TTL or hop limit. */
  hopLimit: number;
  /** The upper-layer protocol (after IPv6 extension headers). */
  protocol: number;
  ipv4?: Ipv4Info;
  ipv6?: Ipv6Info;
  /** Fragment fields (IPv4 header or IPv6 Fragment header), if a fragment. */
  fragment?: { offset: number; more: boolean; id: number };
  /** Byte offset of the IPv6 Fragment header. */
  fragmentHeaderAt?: number;
  /** IPv4 packet carried in IPv6 (next header 4). */
  inner?: Dissection;
  udp?: UdpInfo;
  tcp?: TcpInfo;
  icmp?: IcmpInfo;
  /** Upper-layer payload (after the UDP/TCP/ICMP header). */
  payload: Uint8Array;
  /** Everything wrong, each prefixed with where ("ipv6/ipv4/udp: …"). Empty means well formed. */
  problems: string[];
}

export interface DissectOptions {
  /** Inside an ICMP error: may be cut short, and an inner ICMP error is not followed. */
  quoted?: boolean;
  /** Prefix for problem messages. */
  path?: string;
}

/** Parse an IPv4 or IPv6 packet (with inner IPv4, ICMP quotes) and verify every length and checksum. */
export function dissect(p: Uint8Array, opts: DissectOptions = {}): Dissection {
  const problems: string[] = [];
  const version = p.length > 0 ? p[0] >> 4 : 0;
  const base = opts.path ?? "";
  if (version === 4) return dissect4(p, opts, problems, base ? `${base}/ipv4` : "ipv4");
  if (version === 6) return dissect6(p, opts, problems, base ? `${base}/ipv6` : "ipv6");
  problems.push(`${base || "packet"}: ${p.length === 0 ? "empty" : `IP version ${version}`}`);
  return { version: 4, src: "", dst: "", hopLimit: 0, protocol: -1, payload: new Uint8Array(0), problems };
}

/** Problems of a packet; `[]` means well formed with correct checksums. */
export function checkPacket(p: Uint8Array): string[] {
  return dissect(p).problems;
}

function empty(version: 4 | 6, problems: string[]): Dissection {
  return { version, src: "", dst: "", hopLimit: 0, protocol: -1, payload: new Uint8Array(0), problems };
}

function dissect4(p: Uint8Array, opts: DissectOptions, problems: string[], path: string): Dissection {
  const d = empty(4, problems);
  if (p.length < IPV4_HEADER_LEN) {
    problems.push(`${path}: ${p.length} bytes, shorter than the 20-byte header`);
    return d;
  }
  const hlen = (p[0] & 0x0f) * 4;
  const total = u16(p, 2);
  const fl = u16(p, 6);
  const info: Ipv4Info = {
    headerLength: hlen,
    tos: p[1],
    totalLength: total,
    id: u16(p, 4),
    df: (fl & 0x4000) !== 0,
    mf: (fl & 0x2000) !== 0,
    fragOffset: (fl & 0x1fff) * 8,
    ttl: p[8],
    proto: p[9],
    checksum: u16(p, 10),
    options: p.subarray(IPV4_HEADER_LEN, Math.min(hlen, p.length)),
  };
  Object.assign(d, { ipv4: info, src: formatAddr(p.subarray(12, 16)), dst: formatAddr(p.subarray(16, 20)), hopLimit: info.ttl, protocol: info.proto });
  if (hlen < IPV4_HEADER_LEN || hlen > p.length) {
    problems.push(`${path}: header length ${hlen} out of range (packet ${p.length} bytes)`);
    return d;
  }
  if (fl & 0x8000) problems.push(`${path}: reserved flag bit set`);
  const sum = onesSum(p.subarray(0, hlen));
  if (sum !== 0xffff) problems.push(`${path}: bad header checksum 0x${hex4(info.checksum)} (expected 0x${hex4(expected(info.checksum, sum))})`);
  let end = total;
  if (total < hlen) {
    problems.push(`${path}: total length ${total} less than header length ${hlen}`);
    return d;
  }
  if (opts.quoted) {
    end = Math.min(total, p.length);
  } else if (total !== p.length) {
    problems.push(`${path}: total length ${total} but packet has ${p.length} bytes`);
    end = Math.min(total, p.length);
  }
  const body = p.subarray(hlen, end);
  if (info.mf || info.fragOffset) {
    d.fragment = { offset: info.fragOffset, more: info.mf, id: info.id };
    if (info.mf && (total - hlen) % 8 !== 0) problems.push(`${path}: non-last fragment with ${total - hlen} data bytes, not a multiple of 8`);
    if (info.fragOffset + total - hlen > 0xffff) problems.push(`${path}: fragment ends past 65535`);
  }
  upperLayer(d, info.proto, body, p.subarray(12, 16), p.subarray(16, 20), total - hlen, opts, problems, path);
  return d;
}

function dissect6(p: Uint8Array, opts: DissectOptions, problems: string[], path: string): Dissection {
  const d = empty(6, problems);
  if (p.length < IPV6_HEADER_LEN) {
    problems.push(`${path}: ${p.length} bytes, shorter than the 40-byte header`);
    return d;
  }
  const w = u32(p, 0);
  const plen = u16(p, 4);
  const info: Ipv6Info = {
    trafficClass: (w >>> 20) & 0xff,
    flowLabel: w & 0xfffff,
    payloadLength: plen,
    nextHeader: p[6],
    hopLimit: p[7],
    extensions: [],
  };
  Object.assign(d, { ipv6: info, src: formatAddr(p.subarray(8, 24)), dst: formatAddr(p.subarray(24, 40)), hopLimit: info.hopLimit });
  let end = IPV6_HEADER_LEN + plen;
  if (opts.quoted) end = Math.min(end, p.length);
  else if (end !== p.length) {
    problems.push(`${path}: payload length ${plen} but packet has ${p.length - IPV6_HEADER_LEN} bytes after the header`);
    end = Math.min(end, p.length);
  }
  let next = info.nextHeader;
  let at = IPV6_HEADER_LEN;
  // Each extension header advances `at` by at least 8, so this ends.
  while (next === PROTO_HOPOPT || next === PROTO_ROUTING || next === PROTO_DSTOPTS || next === PROTO_FRAGMENT) {
    const ext = next;
    if (ext === PROTO_HOPOPT && info.extensions.length > 0) problems.push(`${path}: Hop-by-Hop header not first (RFC 8200 §4.1)`);
    if (at + 8 > end) {
      if (!opts.quoted) problems.push(`${path}: extension header ${ext} cut short at ${at}`);
      d.protocol = ext;
      return d;
    }
    info.extensions.push(ext);
    const len = ext === PROTO_FRAGMENT ? FRAG_HEADER_LEN : (p[at + 1] + 1) * 8;
    if (at + len > end) {
      if (!opts.quoted) problems.push(`${path}: extension header ${ext} of ${len} bytes runs past the end`);
      d.protocol = ext;
      return d;
    }
    if (ext === PROTO_FRAGMENT) {
      if (d.fragment) problems.push(`${path}: more than one Fragment header`);
      const ofm = u16(p, at + 2);
      d.fragment = { offset: ofm & 0xfff8, more: (ofm & 1) !== 0, id: u32(p, at + 4) };
      d.fragmentHeaderAt = at;
      const dataLen = end - at - FRAG_HEADER_LEN;
      if (!opts.quoted && d.fragment.more && dataLen % 8 !== 0) problems.push(`${path}: non-last fragment with ${dataLen} data bytes, not a multiple of 8`);
      if (!opts.quoted && d.fragment.offset + dataLen > 0xffff) problems.push(`${path}: fragment ends past 65535`);
    }
    next = p[at];
    at += len;
    // A non-first fragment carries only data: nothing after its Fragment header is a header.
    if (ext === PROTO_FRAGMENT && d.fragment && d.fragment.offset !== 0) break;
  }
  d.protocol = next;
  const upperLen = IPV6_HEADER_LEN + plen - at;
  upperLayer(d, next, p.subarray(at, end), p.subarray(8, 24), p.subarray(24, 40), upperLen, opts, problems, path);
  return d;
}

/**
 * The part after the IP header(s). `declaredLen` is the length the IP header
 * gives the upper layer; `body` is what is actually there (less if quoted).
 */
function upperLayer(
  d: Dissection,
  proto: number,
  body: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  declaredLen: number,
  opts: DissectOptions,
  problems: string[],
  path: string,
): void {
  if (d.fragment && (d.fragment.offset !== 0 || d.fragment.more)) {
    // Only the first fragment has the upper-layer header; no checksum can be
    // verified before reassembly.
    if (d.fragment.offset === 0) parseUpperHeaderOnly(d, proto, body);
    d.payload = body;
    return;
  }
  const complete = body.length === declaredLen;
  const v6 = src.length === 16;
  switch (proto) {
    case PROTO_IPIP: {
      if (!v6) problems.push(`${path}: IPv4-in-IPv4 is not expected here`);
      d.inner = dissect(body, { quoted: opts.quoted, path });
      // Share one problem list: dissect() made its own.
      problems.push(...d.inner.problems);
      d.inner.problems = problems;
      d.payload = body;
      return;
    }
    case PROTO_UDP: {
      if (body.length < UDP_HEADER_LEN) {
        if (!opts.quoted) problems.push(`${path}/udp: ${body.length} bytes, shorter than the header`);
        return;
      }
      const u: UdpInfo = { srcPort: u16(body, 0), dstPort: u16(body, 2), length: u16(body, 4), checksum: u16(body, 6) };
      d.udp = u;
      d.payload = body.subarray(UDP_HEADER_LEN, Math.min(Math.max(u.length, UDP_HEADER_LEN), body.length));
      if (u.length !== declaredLen) problems.push(`${path}/udp: length ${u.length} but IP gives ${declaredLen}`);
      if (u.checksum === 0) {
        // RFC 768: zero means no checksum (IPv4); RFC 8200 §8.1: not allowed over IPv6.
        if (v6) problems.push(`${path}/udp: zero checksum over IPv6`);
      } else if (complete && u.length === declaredLen) {
        checkSum(problems, `${path}/udp`, u.checksum, body, pseudoHeaderSum(src, dst, PROTO_UDP, body.length));
      }
      return;
    }
    case PROTO_TCP: {
      if (body.length < TCP_HEADER_LEN) {
        if (!opts.quoted) problems.push(`${path}/tcp: ${body.length} bytes, shorter than the header`);
        else if (body.length >= 8) d.tcp = tcpPorts(body);
        return;
      }
      const t = tcpInfo(body, problems, `${path}/tcp`, opts.quoted ?? false);
      d.tcp = t;
      d.payload = body.subarray(Math.min(t.headerLength, body.length));
      if (complete && t.headerLength >= TCP_HEADER_LEN && t.headerLength <= body.length) {
        checkSum(problems, `${path}/tcp`, t.checksum, body, pseudoHeaderSum(src, dst, PROTO_TCP, body.length));
      }
      return;
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
      const name = proto === PROTO_ICMP ? "icmp" : "icmpv6";
      if ((proto === PROTO_ICMPV6) !== v6) problems.push(`${path}/${name}: ${name} over IPv${v6 ? 6 : 4}`);
      if (body.length < ICMP_HEADER_LEN) {
        if (!opts.quoted) problems.push(`${path}/${name}: ${body.length} bytes, shorter than the header`);
        return;
      }
      const ic: IcmpInfo = { version: v6 ? 6 : 4, type: body[0], code: body[1], checksum: u16(body, 2), rest: u32(body, 4) };
      d.icmp = ic;
      d.payload = body.subarray(ICMP_HEADER_LEN);
      if (complete) {
        const initial = proto === PROTO_ICMPV6 ? pseudoHeaderSum(src, dst, PROTO_ICMPV6, body.length) : 0;
        checkSum(problems, `${path}/${name}`, ic.checksum, body, initial);
      }
      const echo = v6 ? ic.type === ICMP6_ECHO_REQUEST || ic.type === ICMP6_ECHO_REPLY : ic.type === ICMP4_ECHO_REQUEST || ic.type === ICMP4_ECHO_REPLY;
      const error = v6 ? ic.type < 128 : ic.type === ICMP4_DEST_UNREACHABLE || ic.type === ICMP4_TIME_EXCEEDED || ic.type === 12 || ic.type === 4 || ic.type === 5;
      if (echo) {
        ic.id = ic.rest >>> 16;
        ic.seq = ic.rest & 0xffff;
      }
      if (v6 && ic.type === ICMP6_PACKET_TOO_BIG) ic.mtu = ic.rest;
      if (!v6 && ic.type === ICMP4_DEST_UNREACHABLE && ic.code === ICMP4_CODE_FRAG_NEEDED) ic.mtu = ic.rest & 0xffff;
      if (error && !opts.quoted && d.payload.length > 0) {
        // RFC 4884 extensions are not used here: the quote is the rest of the message.
        ic.quoted = dissect(d.payload, { quoted: true, path: `${path}/${name}/quoted` });
        problems.push(...ic.quoted.problems);
        ic.quoted.problems = problems;
        const qv = ic.quoted.version;
        if (qv !== (v6 ? 6 : 4)) problems.push(`${path}/${name}: quotes an IPv${qv} packet`);
        const min = v6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN + 8;
        if (d.payload.length < min) problems.push(`${path}/${name}: quote of ${d.payload.length} bytes is shorter than ${min} (RFC 792 / RFC 4443 §2.4)`);
      }
      return;
    }
    default:
      d.payload = body;
  }
}

function parseUpperHeaderOnly(d: Dissection, proto: number, body: Uint8Array): void {
  if (proto === PROTO_UDP && body.length >= UDP_HEADER_LEN) {
    d.udp = { srcPort: u16(body, 0), dstPort: u16(body, 2), length: u16(body, 4), checksum: u16(body, 6) };
  } else if (proto === PROTO_TCP && body.length >= 8) {
    d.tcp = tcpPorts(body);
  } else if ((proto === PROTO_ICMP || proto === PROTO_ICMPV6) && body.length >= ICMP_HEADER_LEN) {
    d.icmp = { version: proto === PROTO_ICMP ? 4 : 6, type: body[0], code: body[1], checksum: u16(body, 2), rest: u32(body, 4) };
  }
}

function tcpPorts(b: Uint8Array): TcpInfo {
  return { srcPort: u16(b, 0), dstPort: u16(b, 2), seq: u32(b, 4), ack: 0, headerLength: 0, flags: 0, window: 0, checksum: 0, urgent: 0 };
}

function tcpInfo(b: Uint8Array, problems: string[], path: string, quoted: boolean): TcpInfo {
  const t: TcpInfo = {
    srcPort: u16(b, 0),
    dstPort: u16(b, 2),
    seq: u32(b, 4),
    ack: u32(b, 8),
    headerLength: (b[12] >> 4) * 4,
    flags: b[13],
    window: u16(b, 14),
    checksum: u16(b, 16),
    urgent: u16(b, 18),
  };
  if (t.headerLength < TCP_HEADER_LEN) {
    problems.push(`${path}: data offset ${t.headerLength} less than 20`);
    return t;
  }
  if (t.headerLength > b.length) {
    if (!quoted) problems.push(`${path}: data offset ${t.headerLength} past the end (${b.length} bytes)`);
    return t;
  }
  const o = b.subarray(TCP_HEADER_LEN, t.headerLength);
  let i = 0;
  while (i < o.length) {
    const kind = o[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = o[i + 1];
    if (i + 1 >= o.length || len < 2 || i + len > o.length) {
      problems.push(`${path}: option ${kind} at ${i} has bad length ${len ?? "(missing)"}`);
      break;
    }
    const v = o.subarray(i + 2, i + len);
    const want: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10 };
    if (want[kind] !== undefined && want[kind] !== len) problems.push(`${path}: option ${kind} has length ${len}, want ${want[kind]}`);
    else if (kind === 2) t.mss = u16(v, 0);
    else if (kind === 3) t.wscale = v[0];
    else if (kind === 4) t.sackPermitted = true;
    else if (kind === 8) t.timestamps = [u32(v, 0), u32(v, 4)];
    i += len;
  }
  return t;
}

function checkSum(problems: string[], path: string, field: number, data: Uint8Array, initial: number): void {
  const sum = onesSum(data, initial);
  if (sum !== 0xffff) problems.push(`${path}: bad checksum 0x${hex4(field)} (expected 0x${hex4(expected(field, sum))})`);
}

/** The checksum value that would have made `sum` (which includes `field`) come out right. */
function expected(field: number, sum: number): number {
  // Remove the field from the folded sum, then complement (RFC 1624 arithmetic).
  let s = sum + (~field & 0xffff);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0");
}
