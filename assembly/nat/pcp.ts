// The PCP (RFC 6887: MAP and ANNOUNCE) and NAT-PMP (RFC 6886) server of a
// CE: request bytes in, reply bytes out. The hosts own only the UDP socket
// (the CE's LAN address, port 5351: both protocols share it, told apart by
// the version byte, RFC 6887 §9 / Annex A); they write one request into the
// PCP buffer, call pcpRequest with its source address, and send back the
// reply it leaves there (none when the request is dropped silently).
//
// A client asking for a port gets that port when it is in our set and
// free; otherwise the nearest free port of the set (never a port outside
// it: the BR would deliver it to another CE — miniupnp#465's failure).
// An existing implicit mapping of the internal endpoint is kept (RFC 6887
// §11.3: its external port, so the open connections stay). Lifetimes run
// on the module clock; lifetime 0 deletes. The epoch (seconds since the
// pins were made for this address and port set) restarts when the BMR
// changes (pins.ts pinsStart), which tells clients to map again (§8.5).
//
// PCP request header (RFC 6887 §7.1)         PCP response header (§7.2)
//   0      1      2       4                    0      1      2    3     4
//   +------+------+-------+----------+        +------+------+----+-----+----------+
//   |ver=2 |R|op  | -     | lifetime |        |ver=2 |R|op  | -  |res. | lifetime |
//   +------+------+-------+----------+        +------+------+----+-----+----------+
//   4                                   24     8          12                     24
//   +-------------------------------------+     +----------+-----------------------+
//   | client IP (IPv4-mapped IPv6, 16)    |     | epoch    | reserved (12)         |
//   +-------------------------------------+     +----------+-----------------------+
// MAP data (§11.1), after the header:
//   24            36     37     40       42        44                       60
//   +-------------+------+------+--------+---------+------------------------+
//   | nonce (12)  |proto | -    |int port|ext port | external IP (16)       |
//   +-------------+------+------+--------+---------+------------------------+
// then options (§7.3): code, -, length (u16), data padded to 4 bytes.
//
// NAT-PMP (RFC 6886 §3): requests  [0, 0] (external address) and
//   [0, op 1 UDP / 2 TCP, -(2), int port, suggested ext port, lifetime(4)];
// replies [0, 128+op, result(2), epoch(4), ...]: the address (4), or
//   int port(2), mapped ext port(2), lifetime(4).
import { pinAdd, pinFindInt, pinRemove, pinSetLifetime, pinKind, pinExtPort, pinNoncePtr, pinCountOf,
  pinsEpoch, pinCountAll, pinProto, pinIntAddr, pinIntPort, pinRemaining, pinSessions,
  PIN_STATIC, PIN_PCP, PIN_NATPMP } from "./pins";
import { natPortState, natFindMappingInternal, natMappingExtPort, natMappingPinned, NAT_TCP, NAT_UDP } from "./nat";
import { now } from "../datapath/stage";
import { settings, MODE_CE } from "../settings";
import { domain } from "../map/provision";
import { count, C_PCP_REQUESTS, C_PCP_ERRORS, D_PCP_MALFORMED } from "../datapath/counters";
import { Out, newOut } from "../config/text";
import { formatIPv4 } from "../config/ip";
import { textBufferPtr } from "../config/textbuf";
import { TEXT_BUFFER_SIZE } from "../config";

/** Largest PCP message (RFC 6887 §7). */
export const PCP_MAX: i32 = 1100;
const pcpBuf: usize = memory.data(PCP_MAX + 4, 8);

// RFC 6887 §7.4 result codes.
export const PCP_SUCCESS: i32 = 0;
export const PCP_UNSUPP_VERSION: i32 = 1;
export const PCP_NOT_AUTHORIZED: i32 = 2;
export const PCP_MALFORMED_REQUEST: i32 = 3;
export const PCP_UNSUPP_OPCODE: i32 = 4;
export const PCP_UNSUPP_OPTION: i32 = 5;
export const PCP_MALFORMED_OPTION: i32 = 6;
export const PCP_NETWORK_FAILURE: i32 = 7;
export const PCP_NO_RESOURCES: i32 = 8;
export const PCP_UNSUPP_PROTOCOL: i32 = 9;
export const PCP_USER_EX_QUOTA: i32 = 10;
export const PCP_CANNOT_PROVIDE_EXTERNAL: i32 = 11;
export const PCP_ADDRESS_MISMATCH: i32 = 12;

// RFC 6886 §3.5 result codes.
const NATPMP_SUCCESS: i32 = 0;
const NATPMP_UNSUPP_VERSION: i32 = 1;
const NATPMP_REFUSED: i32 = 2;
const NATPMP_NETWORK_FAILURE: i32 = 3;
const NATPMP_NO_RESOURCES: i32 = 4;
const NATPMP_UNSUPP_OPCODE: i32 = 5;

const PCP_VERSION: i32 = 2;
const OP_ANNOUNCE: i32 = 0;
const OP_MAP: i32 = 1;
const OPT_PREFER_FAILURE: i32 = 2;

// Header and MAP offsets (the figures above).
const H_VERSION: usize = 0;
const H_OPCODE: usize = 1;
const H_RESULT: usize = 3;
const H_LIFETIME: usize = 4;
const H_EPOCH: usize = 8;
const H_CLIENT: usize = 8;
const H_SIZE: i32 = 24;
const MAP_NONCE: usize = 24;
const MAP_PROTO: usize = 36;
const MAP_INT_PORT: usize = 40;
const MAP_EXT_PORT: usize = 42;
const MAP_EXT_ADDR: usize = 44;
const MAP_SIZE: i32 = 60;

/** Lifetimes granted: at least 120 s, at most a day (RFC 6887 §15 lets the server choose). */
const LIFETIME_MIN: u32 = 120;
const LIFETIME_MAX: u32 = 86400;
/** Lifetime of an error reply: long for errors a retry will not fix (RFC 6887 §7.2). */
const ERROR_LONG: u32 = 1800;
const ERROR_SHORT: u32 = 30;
/** Client mappings (PCP + NAT-PMP) one LAN address may hold. */
export const PCP_PER_HOST: i32 = 32;

@inline function get16(o: usize): i32 { return (<i32>load<u8>(pcpBuf + o) << 8) | <i32>load<u8>(pcpBuf + o + 1); }
@inline function get32(o: usize): u32 { return bswap<u32>(load<u32>(pcpBuf + o)); }
@inline function put8(o: usize, v: i32): void { store<u8>(pcpBuf + o, <u8>v); }
@inline function put16(o: usize, v: i32): void { store<u16>(pcpBuf + o, bswap<u16>(<u16>v)); }
@inline function put32(o: usize, v: u32): void { store<u32>(pcpBuf + o, bswap<u32>(v)); }

/** The PCP / NAT-PMP buffer: the host writes a request here and reads the reply. */
export function pcpBufferPtr(): usize { return pcpBuf; }
/** Its size (the largest request read; longer ones are cut to it). */
export function pcpBufferSize(): i32 { return PCP_MAX; }

function clampLifetime(l: u32): u32 {
  return l < LIFETIME_MIN ? LIFETIME_MIN : l > LIFETIME_MAX ? LIFETIME_MAX : l;
}

/**
 * The free port of our set nearest to `want` (ties: the higher), or 0 when
 * the set has none free for the protocol. Configuration-rate work (at most
 * 2^16 cheap probes), never on the packet path.
 */
export function pcpNearestFree(proto: i32, want: i32): i32 {
  for (let d = 0; d < 65536; d++) {
    const up = want + d;
    if (up <= 0xffff && natPortState(proto, up) == 1) return up;
    const down = want - d;
    if (d > 0 && down > 0 && natPortState(proto, down) == 1) return down;
    if (up > 0xffff && down <= 0) break;
  }
  return 0;
}

/**
 * Makes or renews the client mapping of (proto, addr:intPort); 0 when
 * `lifetime` is 0 (deleted). Returns the external port (> 0), 0 for a
 * delete, or -(a PCP result code). `strict`: the suggested port or nothing
 * (PCP PREFER_FAILURE).
 */
function mapRequest(kind: i32, proto: i32, addr: u32, intPort: i32, suggested: i32, lifetime: u32,
                    nonce: usize, strict: bool): i32 {
  const i = pinFindInt(proto, addr, intPort);
  if (i >= 0) {
    // A static forward is the operator's: a client neither renews nor deletes it.
    if (pinKind(i) == PIN_STATIC) return -PCP_NOT_AUTHORIZED;
    // PCP: only the nonce that made it (RFC 6887 §11.3); NAT-PMP mappings have none.
    if (kind == PIN_PCP && pinKind(i) == PIN_PCP && memory.compare(pinNoncePtr(i), nonce, 12) != 0) {
      return -PCP_NOT_AUTHORIZED;
    }
    const ext = pinExtPort(i);
    if (lifetime == 0) { pinRemove(i, true); return 0; }
    if (strict && suggested != 0 && suggested != ext) return -PCP_CANNOT_PROVIDE_EXTERNAL;
    pinSetLifetime(i, lifetime, now);
    return ext;
  }
  if (lifetime == 0) return 0; // nothing to delete: success (RFC 6887 §15)
  if (pinCountOf(addr) >= PCP_PER_HOST) return -PCP_USER_EX_QUOTA;
  let ext = 0;
  const m = natFindMappingInternal(proto, addr, intPort);
  if (m > 0 && !natMappingPinned(m)) {
    ext = natMappingExtPort(m); // the endpoint's implicit mapping (EIM)
    if (strict && suggested != 0 && suggested != ext) return -PCP_CANNOT_PROVIDE_EXTERNAL;
  } else if (suggested != 0 && natPortState(proto, suggested) == 1) {
    ext = suggested;
  } else {
    if (strict && suggested != 0) return -PCP_CANNOT_PROVIDE_EXTERNAL;
    ext = pcpNearestFree(proto, suggested != 0 ? suggested : intPort);
    if (ext == 0) return -PCP_NO_RESOURCES;
  }
  const r = pinAdd(kind, proto, addr, intPort, ext, lifetime, nonce, now);
  return r > 0 ? ext : -PCP_NO_RESOURCES;
}

/** A long-lived error (a retry will not help) or a short one. */
function errorLifetime(result: i32): u32 {
  return result == PCP_NO_RESOURCES || result == PCP_NETWORK_FAILURE || result == PCP_USER_EX_QUOTA ||
    result == PCP_CANNOT_PROVIDE_EXTERNAL ? ERROR_SHORT : ERROR_LONG;
}

/**
 * Turns the request in the buffer (`len` bytes) into a PCP response in
 * place: R bit, result, lifetime, epoch, reserved zeroed; the rest of the
 * request stays (RFC 6887 §7.2: an error response copies the request).
 */
function pcpReply(len: i32, result: i32, lifetime: u32): i32 {
  if (len < H_SIZE) { memory.fill(pcpBuf + <usize>len, 0, <usize>(H_SIZE - len)); len = H_SIZE; }
  len = (len + 3) & ~3;
  if (len > PCP_MAX) len = PCP_MAX;
  if (result != PCP_SUCCESS) count(C_PCP_ERRORS, len);
  put8(H_VERSION, PCP_VERSION);
  put8(H_OPCODE, 0x80 | (<i32>load<u8>(pcpBuf + H_OPCODE) & 0x7f));
  put8(2, 0);
  put8(H_RESULT, result);
  put32(H_LIFETIME, result == PCP_SUCCESS ? lifetime : errorLifetime(result));
  put32(H_EPOCH, pinsEpoch(now));
  memory.fill(pcpBuf + 12, 0, 12);
  return len;
}

function pcp(len: i32, src: u32): i32 {
  if (len < H_SIZE || len > PCP_MAX || (len & 3) != 0) return pcpReply(len, PCP_MALFORMED_REQUEST, 0);
  // The client's address, IPv4-mapped (::ffff:a.b.c.d), must be the packet's source (§8.1).
  for (let i = 0; i < 10; i++) if (load<u8>(pcpBuf + H_CLIENT + <usize>i) != 0) return pcpReply(len, PCP_ADDRESS_MISMATCH, 0);
  if (get16(H_CLIENT + 10) != 0xffff || get32(H_CLIENT + 12) != src) return pcpReply(len, PCP_ADDRESS_MISMATCH, 0);
  const op = <i32>load<u8>(pcpBuf + H_OPCODE) & 0x7f;
  if (op == OP_ANNOUNCE) return pcpReply(H_SIZE, PCP_SUCCESS, 0); // §14.1: an empty SUCCESS
  if (op != OP_MAP) return pcpReply(len, PCP_UNSUPP_OPCODE, 0);
  if (len < MAP_SIZE) return pcpReply(len, PCP_MALFORMED_REQUEST, 0);
  if (settings.mode != MODE_CE || domain.bmr < 0) return pcpReply(len, PCP_NETWORK_FAILURE, 0);
  const proto = <i32>load<u8>(pcpBuf + MAP_PROTO);
  const intPort = get16(MAP_INT_PORT);
  // Protocol 0 ("all protocols") needs a whole address: not on a shared one.
  if (proto != NAT_TCP && proto != NAT_UDP) return pcpReply(len, PCP_UNSUPP_PROTOCOL, 0);
  if (intPort == 0) return pcpReply(len, PCP_MALFORMED_REQUEST, 0);
  // Options (§7.3): PREFER_FAILURE is ours; any other mandatory one (< 128) we do not do.
  let strict = false;
  let p = MAP_SIZE;
  while (p < len) {
    if (len - p < 4) return pcpReply(len, PCP_MALFORMED_OPTION, 0);
    const code = <i32>load<u8>(pcpBuf + <usize>p);
    const olen = get16(<usize>(p + 2));
    if (p + 4 + olen > len) return pcpReply(len, PCP_MALFORMED_OPTION, 0);
    if (code == OPT_PREFER_FAILURE) {
      if (olen != 0 || strict) return pcpReply(len, PCP_MALFORMED_OPTION, 0);
      strict = true;
    } else if (code < 128) {
      return pcpReply(len, PCP_UNSUPP_OPTION, 0);
    }
    p += 4 + ((olen + 3) & ~3);
  }
  const requested = get32(H_LIFETIME);
  const lifetime = requested == 0 ? 0 : clampLifetime(requested);
  const r = mapRequest(PIN_PCP, proto, src, intPort, get16(MAP_EXT_PORT), lifetime, pcpBuf + MAP_NONCE, strict);
  if (r < 0) return pcpReply(len, -r, 0);
  // SUCCESS: the mapping as made (§11.4), options not echoed.
  put16(MAP_EXT_PORT, r);
  memory.fill(pcpBuf + MAP_EXT_ADDR, 0, 10);
  put16(MAP_EXT_ADDR + 10, 0xffff);
  put32(MAP_EXT_ADDR + 12, r > 0 ? domain.ceIPv4 : 0);
  put8(37, 0); put8(38, 0); put8(39, 0);
  return pcpReply(MAP_SIZE, PCP_SUCCESS, lifetime);
}

/** A NAT-PMP reply head: version 0, 128 + op, result, epoch. */
function natpmpHead(op: i32, result: i32): void {
  put8(0, 0);
  put8(1, 128 + op);
  put16(2, result);
  put32(4, pinsEpoch(now));
}

function natpmp(len: i32, src: u32): i32 {
  const op = <i32>load<u8>(pcpBuf + 1);
  const up = settings.mode == MODE_CE && domain.bmr >= 0;
  if (op == 0) {
    natpmpHead(0, up ? NATPMP_SUCCESS : NATPMP_NETWORK_FAILURE);
    put32(8, up ? domain.ceIPv4 : 0);
    return 12;
  }
  if (op != 1 && op != 2) {
    natpmpHead(op, NATPMP_UNSUPP_OPCODE);
    count(C_PCP_ERRORS, 8);
    return 8;
  }
  if (len < 12) { count(D_PCP_MALFORMED, len); return 0; }
  const proto = op == 1 ? NAT_UDP : NAT_TCP;
  const intPort = get16(4);
  const suggested = get16(6);
  const requested = get32(8);
  let result = NATPMP_SUCCESS;
  let ext = 0;
  let lifetime: u32 = 0;
  if (!up) {
    result = NATPMP_NETWORK_FAILURE;
  } else if (requested == 0 && intPort == 0) {
    // Delete every mapping this client made with NAT-PMP for the protocol (§3.4).
    for (let i = pinCountAll() - 1; i >= 0; i--) {
      if (pinKind(i) == PIN_NATPMP && pinProto(i) == proto && pinIntAddr(i) == src) pinRemove(i, true);
    }
  } else if (intPort == 0) {
    result = NATPMP_REFUSED;
  } else {
    lifetime = requested == 0 ? 0 : clampLifetime(requested);
    const r = mapRequest(PIN_NATPMP, proto, src, intPort, suggested, lifetime, 0, false);
    if (r < 0) {
      result = r == -PCP_NOT_AUTHORIZED ? NATPMP_REFUSED : NATPMP_NO_RESOURCES;
      lifetime = 0;
    } else {
      ext = r;
    }
  }
  if (result != NATPMP_SUCCESS) count(C_PCP_ERRORS, 16);
  natpmpHead(op, result);
  put16(8, intPort);
  put16(10, ext);
  put32(12, lifetime);
  return 16;
}

/**
 * One PCP or NAT-PMP request of `len` bytes in the PCP buffer, from LAN
 * address `src` (host order; the UDP source). Returns the reply's length
 * in the buffer, or 0: nothing to send (a message too short to answer, a
 * response, or a NAT-PMP request cut short; counted in drop-pcp-malformed).
 */
export function pcpRequest(len: i32, src: u32): i32 {
  if (len > PCP_MAX) len = PCP_MAX;
  if (len < 2 || (load<u8>(pcpBuf + 1) & 0x80) != 0) {
    count(D_PCP_MALFORMED, len < 0 ? 0 : len);
    return 0;
  }
  count(C_PCP_REQUESTS, len);
  const version = <i32>load<u8>(pcpBuf);
  if (version == 0) return natpmp(len, src);
  if (version == PCP_VERSION) return pcp(len, src);
  // Another version: PCP's answer (the highest we speak is 2; NAT-PMP's is 0).
  return pcpReply(len < H_SIZE ? 2 : len, PCP_UNSUPP_VERSION, 0);
}

// ---- mape stats: the inbound ports as JSON in the text buffer ---------------

const out: Out = newOut(textBufferPtr(), TEXT_BUFFER_SIZE, memory.data(<i32>offsetof<Out>(), 8));

/**
 * Writes the inbound ports into the text buffer as one JSON object and
 * returns its length:
 *   {"epoch":s,"address":"a.b.c.d","mappings":[{"kind":"static"|"pcp"|"nat-pmp",
 *    "protocol":"tcp"|"udp","external":port,"internal":"a.b.c.d:port",
 *    "remaining":s|null,"sessions":n}, ...]}
 * ("remaining": seconds of lifetime left; null for a static forward).
 */
export function inboundJson(): i32 {
  out.reset();
  out.str("{\"epoch\":").u32(pinsEpoch(now)).str(",\"address\":");
  if (settings.mode == MODE_CE && domain.bmr >= 0) { out.byte(0x22); formatIPv4(out, domain.ceIPv4); out.byte(0x22); }
  else out.str("null");
  out.str(",\"mappings\":[");
  for (let i = 0; i < pinCountAll(); i++) {
    if (i > 0) out.byte(0x2c);
    const k = pinKind(i);
    out.str("{\"kind\":\"").str(k == PIN_STATIC ? "static" : k == PIN_PCP ? "pcp" : "nat-pmp")
      .str("\",\"protocol\":\"").str(pinProto(i) == NAT_TCP ? "tcp" : "udp")
      .str("\",\"external\":").i32(pinExtPort(i)).str(",\"internal\":\"");
    formatIPv4(out, pinIntAddr(i));
    out.byte(0x3a).i32(pinIntPort(i)).str("\",\"remaining\":");
    if (k == PIN_STATIC) out.str("null");
    else out.u32(pinRemaining(i, now));
    out.str(",\"sessions\":").i32(pinSessions(i)).byte(0x7d);
  }
  out.str("]}");
  return out.len;
}

/**
 * Writes the inbound ports into the text buffer as the lines `mape stats`
 * prints (both hosts print this text as it is) and returns its length:
 *   "  inbound ports   2 (epoch 30 s)\n"
 *   "    tcp 8080   -> 192.168.1.10:80        static, 1 session\n"
 *   "    udp 12852  -> 192.168.1.10:5000      pcp, 590 s left, 0 sessions\n"
 * Empty (0) outside a configured CE.
 */
export function inboundText(): i32 {
  out.reset();
  if (settings.mode != MODE_CE || domain.bmr < 0) return 0;
  out.str("  ");
  let from = out.len;
  out.str("inbound ports").padTo(from, 16).i32(pinCountAll()).str(" (epoch ").u32(pinsEpoch(now)).str(" s)\n");
  for (let i = 0; i < pinCountAll(); i++) {
    const k = pinKind(i);
    out.str("    ");
    from = out.len;
    out.str(pinProto(i) == NAT_TCP ? "tcp " : "udp ").i32(pinExtPort(i)).padTo(from, 10).str(" -> ");
    from = out.len;
    formatIPv4(out, pinIntAddr(i));
    out.byte(0x3a).i32(pinIntPort(i)).padTo(from, 21).byte(0x20);
    out.str(k == PIN_STATIC ? "static" : k == PIN_PCP ? "pcp" : "nat-pmp");
    if (k != PIN_STATIC) out.str(", ").u32(pinRemaining(i, now)).str(" s left");
    const s = pinSessions(i);
    out.str(", ").i32(s).str(s == 1 ? " session\n" : " sessions\n");
  }
  return out.len;
}
