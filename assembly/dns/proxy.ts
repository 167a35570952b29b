// The CE's DNS transport proxy (RFC 7597 §10, RFC 5625): the LAN's IPv4 DNS
// queries are answered by carrying each one over IPv6 to the upstream
// resolvers (--dns-upstream, else DHCPv6 OPTION_DNS_SERVERS), from an IPv6
// address of the CE that is not the MAP address, so DNS takes no port of
// the port set (at the JANOG interop DNS alone exhausted a 15-port CE).
//
// The protocol logic is all here; the hosts (host/dnsproxy.ts,
// native/router/dns.c) own the sockets: a LAN UDP socket and TCP listener
// on the proxy address, a small pool of UDP sockets toward the upstreams
// (DNS_SOCKETS, each on a random port the kernel chose), and one TCP
// connection per retried query. A message goes through dnsBuffer():
//
//   LAN query   → dnsQuery(len, client addr, port, conn)  → bytes for an upstream
//   upstream    → dnsAnswer(len, upstream, socket)        → bytes for the client,
//                                                            or the query again over TCP
//   every tick  → dnsPoll() until 0                        → retransmissions (next upstream)
//   TCP client closed → dnsClientGone(conn)
//
// Each call returns the length of the message now in the buffer (0: nothing
// to send; every refusal is counted in one dns-drop-* counter) and where it
// goes in dnsOut*(). Untrusted input: every message is checked before a
// field is read (dnsCheck: the header, exactly one question, its name,
// type and class); the rest of the message is never parsed but for a
// query's EDNS OPT size, and never changed: unknown types, EDNS options and
// the DO/CD/AD bits pass byte for byte (RFC 5625 §4). The proxy rewrites
// the ID only, to a random one (RFC 5452 §9.2; the hosts' upstream ports
// are random too), and takes an answer only from the upstream and socket
// its query went to, with the same ID AND the same name, type and class
// (RFC 5452 §3). A truncated answer over UDP is retried over TCP (RFC 5625
// §4.4, RFC 7766); an answer too large for the client's UDP size is cut to
// its header and question with TC set, so the client retries over TCP.
//
// The table of outstanding queries is fixed (DNS_SLOTS); a query past it
// is dropped (dns-drop-table-full); it and the message buffer are carved
// from the arena by init() (no static memory: the stub heap stays). Timeouts run on the module clock
// (clockNow: what the last process() call ran at).
//
//   entry (ENTRY_BYTES):
//   +-------+-------+----------+--------+-----------+-------------+
//   | state | tries | upstream | socket | client id | upstream id |  0..7
//   +-------+-------+----------+--------+-----------+-------------+
//   | client IPv4 (u32)        | client port (u16) | qtype (u16)   |  8..15
//   +--------------------------+-------------------+---------------+
//   | qclass (u16) | name length (u16) | conn (i32, -1: UDP client)  |  16..23
//   +--------------+-------------------+-----------------------------+
//   | query length (u16) | client UDP size (u16) | (pad, 4)          |  24..31
//   +--------------------+-----------------------+------------------+
//   | expiry (u64, module ms)                                       |  32..39
//   +---------------------------------------------------------------+
//   | the client's query, ID as the client sent it (QUERY_MAX)      |  40..
//   +---------------------------------------------------------------+
import { count, drop,
  C_DNS_QUERIES, C_DNS_ANSWERS, C_DNS_TCP_RETRIES, C_DNS_RETRANSMITS, C_DNS_ANSWERS_TRUNCATED,
  D_DNS_QUERY_BAD, D_DNS_QUERY_TOO_LONG, D_DNS_TABLE_FULL, D_DNS_NO_UPSTREAM, D_DNS_ANSWER_BAD,
  D_DNS_ANSWER_UNKNOWN, D_DNS_ANSWER_MISMATCH, D_DNS_TIMEOUT, D_DNS_CLIENT_GONE } from "../datapath/counters";
import { clockNow } from "../datapath/process";
import { arenaAlloc, arenaRound } from "../arena";
import { dnsUpstreamCountActive } from "../map/provision";

/**
 * Bytes of the message buffer. A message may be longer (TCP: up to 65535):
 * the host puts its first DNS_BUFFER_SIZE bytes here and passes the whole
 * length; the module reads and changes only the header and the question
 * (and a query, which it keeps whole, is at most QUERY_MAX), so the host
 * sends the buffer's first min(n, DNS_BUFFER_SIZE) bytes, then bytes
 * [DNS_BUFFER_SIZE, n) of the message as it came.
 */
export const DNS_BUFFER_SIZE: i32 = 4096;
/** Largest DNS message (a TCP message: 2-byte length). */
export const DNS_MESSAGE_MAX: i32 = 65535;
/** Outstanding queries at most (dnsmasq's default is 150 forwarded queries). */
export const DNS_SLOTS: i32 = 128;
/** Largest query kept for a retry (header, a 255-byte name, EDNS with a cookie). */
export const QUERY_MAX: i32 = 344;
/** UDP sockets toward the upstreams (the host opens them, each on a random port). */
export const DNS_SOCKETS: i32 = 4;
/** Sends of one query at most (the first and the retransmissions, rotating the upstreams). */
export const DNS_TRIES: i32 = 3;
/** Module ms an upstream has to answer over UDP, and over TCP. */
export const DNS_UDP_WAIT_MS: u64 = 2000;
export const DNS_TCP_WAIT_MS: u64 = 5000;

// ---- the message (RFC 1035 §4.1) ------------------------------------------
const H_ID = 0;
const H_FLAGS = 2;
const H_QDCOUNT = 4;
const H_ANCOUNT = 6;
const H_NSCOUNT = 8;
const H_ARCOUNT = 10;
const HEADER_BYTES = 12;
const FLAG_QR: u32 = 0x8000;
const FLAG_TC: u32 = 0x0200;
const TYPE_OPT: u32 = 41;
/** The UDP size of a client without EDNS (RFC 1035 §4.2.1). */
const UDP_CLASSIC: i32 = 512;

// ---- where the message in the buffer goes (dnsOutKind) -------------------
export const DNS_OUT_NONE: i32 = 0;
export const DNS_OUT_UPSTREAM_UDP: i32 = 1;
export const DNS_OUT_UPSTREAM_TCP: i32 = 2;
export const DNS_OUT_CLIENT_UDP: i32 = 3;
export const DNS_OUT_CLIENT_TCP: i32 = 4;

// ---- the table -------------------------------------------------------------
const E_STATE = 0;
const E_TRIES = 1;
const E_UPSTREAM = 2;
const E_SOCKET = 3;
const E_CLIENT_ID = 4;
const E_UP_ID = 6;
const E_CLIENT_ADDR = 8;
const E_CLIENT_PORT = 12;
const E_QTYPE = 14;
const E_QCLASS = 16;
const E_NAME_LEN = 18;
const E_CONN = 20;
const E_QUERY_LEN = 24;
const E_CLIENT_UDP = 26;
const E_EXPIRY = 32;
const E_QUERY = 40;
const ENTRY_BYTES = 40 + 344; // E_QUERY + QUERY_MAX
const ST_FREE: u8 = 0;
const ST_UDP: u8 = 1;
const ST_TCP: u8 = 2;

// Carved from the arena by init() (dnsInit), like the NAT tables.
let buf: usize = 0;
let table: usize = 0;
let used = 0;
let pollAt = 0;
let rng: u64 = 0x9e3779b97f4a7c15;

let outKind = DNS_OUT_NONE;
let outUpstream = 0;
let outSocket = 0;
let outEntry = -1;
let outClientAddr: u32 = 0;
let outClientPort = 0;
let outConn = -1;

// The question of the message last checked (dnsCheck).
let qNameLen = 0;
let qType: u32 = 0;
let qClass: u32 = 0;
let qEnd = 0;

@inline function entry(i: i32): usize { return table + <usize>(i * ENTRY_BYTES); }
@inline function be16(p: usize): u32 { return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p, 1); }
@inline function setBe16(p: usize, v: u32): void { store<u8>(p, <u8>(v >> 8)); store<u8>(p, <u8>v, 1); }

/** xorshift64*, seeded by init(): the upstream IDs and sockets. */
function random16(): u32 {
  let x = rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng = x;
  return <u32>((x * 0x2545f4914f6cdd1d) >> 48);
}

/** Arena bytes dnsInit carves: the message buffer and the table. */
export function dnsBytes(): usize {
  return arenaRound(<usize>DNS_BUFFER_SIZE) + arenaRound(<usize>(DNS_SLOTS * ENTRY_BYTES));
}

/** Carves the buffer and the table from the arena and forgets every query; init() calls it with its seed. */
export function dnsInit(seed: u32): bool {
  buf = arenaAlloc(<usize>DNS_BUFFER_SIZE);
  table = arenaAlloc(<usize>(DNS_SLOTS * ENTRY_BYTES));
  if (buf == 0 || table == 0) { buf = table = 0; return false; }
  used = 0;
  pollAt = 0;
  rng = (<u64>seed << 32) ^ <u64>seed ^ 0x9e3779b97f4a7c15;
  if (rng == 0) rng = 1;
  for (let i = 0; i < 4; i++) random16();
  return true;
}

/**
 * Checks the header and the one question of the len bytes at p, and reads
 * the question into qNameLen/qType/qClass/qEnd. The name is uncompressed
 * labels (a question has nothing earlier to point to). False: malformed.
 */
function dnsCheck(p: usize, len: i32): bool {
  if (len < HEADER_BYTES + 5) return false;
  if (be16(p + H_QDCOUNT) != 1) return false;
  let o = HEADER_BYTES;
  while (true) {
    if (o >= len) return false;
    const l = <i32>load<u8>(p + <usize>o);
    if (l == 0) { o++; break; }
    if (l > 63) return false; // a pointer or an extended label type
    o += 1 + l;
    if (o - HEADER_BYTES > 254) return false; // RFC 1035 §2.3.4: 255 bytes with the root
  }
  if (o + 4 > len) return false;
  qNameLen = o - HEADER_BYTES;
  qType = be16(p + <usize>o);
  qClass = be16(p + <usize>(o + 2));
  qEnd = o + 4;
  return true;
}

/** Skips one resource record at offset o (name, possibly a pointer, then the fixed part); -1 when it runs out. */
function skipRecord(p: usize, len: i32, o: i32): i32 {
  while (true) {
    if (o >= len) return -1;
    const l = <i32>load<u8>(p + <usize>o);
    if (l == 0) { o++; break; }
    if ((l & 0xc0) == 0xc0) { o += 2; break; }
    if (l > 63) return -1;
    o += 1 + l;
  }
  if (o + 10 > len) return -1;
  const rd = <i32>be16(p + <usize>(o + 8));
  o += 10 + rd;
  return o > len ? -1 : o;
}

/** The client's UDP size: its EDNS OPT's (at least 512), else 512. -1 when the records run out. */
function clientUdpSize(p: usize, len: i32): i32 {
  const n = <i32>(be16(p + H_ANCOUNT) + be16(p + H_NSCOUNT) + be16(p + H_ARCOUNT));
  let o = qEnd;
  let size = UDP_CLASSIC;
  for (let i = 0; i < n; i++) {
    const start = o;
    o = skipRecord(p, len, o);
    if (o < 0) return -1;
    // An OPT's owner is the root: one zero byte, then TYPE, then CLASS = UDP size.
    if (load<u8>(p + <usize>start) == 0 && be16(p + <usize>(start + 1)) == TYPE_OPT) {
      const s = <i32>be16(p + <usize>(start + 3));
      if (s > size) size = s;
    }
  }
  return size;
}

/** An upstream ID no outstanding query has. */
function freshId(): u32 {
  while (true) {
    const id = random16();
    let taken = false;
    for (let i = 0; i < DNS_SLOTS && !taken; i++) {
      const e = entry(i);
      if (load<u8>(e, E_STATE) != ST_FREE && <u32>load<u16>(e, E_UP_ID) == id) taken = true;
    }
    if (!taken) return id;
  }
}

/** Puts entry i's query into the buffer with its upstream ID; sets the outputs for an upstream send. */
function sendUpstream(i: i32): i32 {
  const e = entry(i);
  const n = <i32>load<u16>(e, E_QUERY_LEN);
  memory.copy(buf, e + E_QUERY, <usize>n);
  setBe16(buf + H_ID, <u32>load<u16>(e, E_UP_ID));
  const tcp = load<u8>(e, E_STATE) == ST_TCP;
  store<u64>(e, <u64>clockNow() + (tcp ? DNS_TCP_WAIT_MS : DNS_UDP_WAIT_MS), E_EXPIRY);
  store<u8>(e, load<u8>(e, E_TRIES) + 1, E_TRIES);
  outKind = tcp ? DNS_OUT_UPSTREAM_TCP : DNS_OUT_UPSTREAM_UDP;
  outUpstream = <i32>load<u8>(e, E_UPSTREAM);
  outSocket = <i32>load<u8>(e, E_SOCKET);
  outEntry = i;
  return n;
}

function free(i: i32): void {
  store<u8>(entry(i), ST_FREE, E_STATE);
  used--;
}

function clearOut(): void {
  outKind = DNS_OUT_NONE;
  outEntry = -1;
  outConn = -1;
}

/**
 * A query from the LAN: `len` bytes in dnsBuffer() from clientAddr:clientPort
 * (UDP, conn = -1) or from the host's TCP connection `conn` (>= 0). Returns
 * the length of the query to send (dnsOutKind: to upstream dnsOutUpstream()
 * over UDP socket dnsOutSocket()), or 0 when it was dropped (counted).
 */
export function dnsQuery(len: i32, clientAddr: u32, clientPort: i32, conn: i32): i32 {
  clearOut();
  if (table == 0) { drop(D_DNS_QUERY_BAD, 0); return 0; } // before init()
  if (len < 0 || len > DNS_MESSAGE_MAX) { drop(D_DNS_QUERY_BAD, 0); return 0; }
  if (len > QUERY_MAX) { drop(D_DNS_QUERY_TOO_LONG, len); return 0; }
  if (!dnsCheck(buf, len) || (be16(buf + H_FLAGS) & FLAG_QR) != 0) { drop(D_DNS_QUERY_BAD, len); return 0; }
  const udpSize = clientUdpSize(buf, len);
  if (udpSize < 0) { drop(D_DNS_QUERY_BAD, len); return 0; }
  const ups = dnsUpstreamCountActive();
  if (ups == 0) { drop(D_DNS_NO_UPSTREAM, len); return 0; }
  if (used >= DNS_SLOTS) { drop(D_DNS_TABLE_FULL, len); return 0; }
  let i = 0;
  while (load<u8>(entry(i), E_STATE) != ST_FREE) i++;
  const e = entry(i);
  store<u8>(e, ST_UDP, E_STATE);
  used++;
  store<u8>(e, 0, E_TRIES);
  // Start at a random upstream: the load spreads, and failover rotates on.
  store<u8>(e, <u8>(random16() % <u32>ups), E_UPSTREAM);
  store<u8>(e, <u8>(random16() % <u32>DNS_SOCKETS), E_SOCKET);
  store<u16>(e, <u16>be16(buf + H_ID), E_CLIENT_ID);
  store<u16>(e, <u16>freshId(), E_UP_ID);
  store<u32>(e, clientAddr, E_CLIENT_ADDR);
  store<u16>(e, <u16>clientPort, E_CLIENT_PORT);
  store<u16>(e, <u16>qType, E_QTYPE);
  store<u16>(e, <u16>qClass, E_QCLASS);
  store<u16>(e, <u16>qNameLen, E_NAME_LEN);
  store<i32>(e, conn < 0 ? -1 : conn, E_CONN);
  store<u16>(e, <u16>len, E_QUERY_LEN);
  store<u16>(e, <u16>udpSize, E_CLIENT_UDP);
  memory.copy(e + E_QUERY, buf, <usize>len);
  count(C_DNS_QUERIES, len);
  return sendUpstream(i);
}

/** Whether the checked question in the buffer is entry e's (name case-insensitively, type, class). */
function sameQuestion(e: usize): bool {
  if (<i32>load<u16>(e, E_NAME_LEN) != qNameLen) return false;
  if (<u32>load<u16>(e, E_QTYPE) != qType || <u32>load<u16>(e, E_QCLASS) != qClass) return false;
  const a = buf + HEADER_BYTES;
  const b = e + E_QUERY + HEADER_BYTES;
  for (let k = 0; k < qNameLen; k++) {
    let x = <u32>load<u8>(a + <usize>k);
    let y = <u32>load<u8>(b + <usize>k);
    if (x - 0x41 < 26) x |= 0x20;
    if (y - 0x41 < 26) y |= 0x20;
    if (x != y) return false;
  }
  return true;
}

/**
 * An answer of `len` bytes (its first DNS_BUFFER_SIZE in the buffer) from upstream `upstream`: over UDP socket `socket` (0..DNS_SOCKETS-1),
 * or over TCP (socket = -1; `entryHint` the dnsOutEntry() of the query the
 * connection carried, else -1). Returns the length of what to send now:
 * the answer with the client's ID (DNS_OUT_CLIENT_UDP / _TCP), or for a
 * truncated UDP answer the query again for TCP (DNS_OUT_UPSTREAM_TCP); 0
 * when it was dropped (counted).
 */
export function dnsAnswer(len: i32, upstream: i32, socket: i32, entryHint: i32): i32 {
  clearOut();
  if (table == 0) { drop(D_DNS_ANSWER_BAD, 0); return 0; } // before init()
  if (len < 0 || len > DNS_MESSAGE_MAX) { drop(D_DNS_ANSWER_BAD, 0); return 0; }
  const head = min(len, DNS_BUFFER_SIZE);
  if (len < HEADER_BYTES || (be16(buf + H_FLAGS) & FLAG_QR) == 0) { drop(D_DNS_ANSWER_BAD, len); return 0; }
  const id = be16(buf + H_ID);
  const tcp = socket < 0;
  let found = -1;
  for (let i = 0; i < DNS_SLOTS; i++) {
    const e = entry(i);
    const st = load<u8>(e, E_STATE);
    if (st == ST_FREE || <u32>load<u16>(e, E_UP_ID) != id) continue;
    if (<i32>load<u8>(e, E_UPSTREAM) != upstream) continue;
    if (tcp ? st != ST_TCP || (entryHint >= 0 && entryHint != i) : st != ST_UDP || <i32>load<u8>(e, E_SOCKET) != socket) continue;
    found = i;
    break;
  }
  if (found < 0) { drop(D_DNS_ANSWER_UNKNOWN, len); return 0; }
  const e = entry(found);
  // An answer with our ID but not our question is a spoofing attempt or a
  // confused server: dropped, and the query waits on (RFC 5452 §3).
  if (!dnsCheck(buf, head)) { drop(D_DNS_ANSWER_BAD, len); return 0; }
  if (!sameQuestion(e)) { drop(D_DNS_ANSWER_MISMATCH, len); return 0; }
  const flags = be16(buf + H_FLAGS);
  if (!tcp && (flags & FLAG_TC) != 0) {
    // RFC 5625 §4.4 / RFC 7766 §5: ask again over TCP, with a new ID.
    store<u8>(e, ST_TCP, E_STATE);
    store<u16>(e, <u16>freshId(), E_UP_ID);
    count(C_DNS_TCP_RETRIES, len);
    return sendUpstream(found);
  }
  setBe16(buf + H_ID, <u32>load<u16>(e, E_CLIENT_ID));
  const conn = load<i32>(e, E_CONN);
  outClientAddr = load<u32>(e, E_CLIENT_ADDR);
  outClientPort = <i32>load<u16>(e, E_CLIENT_PORT);
  outConn = conn;
  let n = len;
  if (conn < 0) {
    outKind = DNS_OUT_CLIENT_UDP;
    if (len > <i32>load<u16>(e, E_CLIENT_UDP)) {
      // Too big for the client's UDP: header and question, TC set, no records.
      setBe16(buf + H_FLAGS, flags | FLAG_TC);
      setBe16(buf + H_ANCOUNT, 0);
      setBe16(buf + H_NSCOUNT, 0);
      setBe16(buf + H_ARCOUNT, 0);
      n = qEnd;
      count(C_DNS_ANSWERS_TRUNCATED, len);
    }
  } else {
    outKind = DNS_OUT_CLIENT_TCP;
  }
  free(found);
  count(C_DNS_ANSWERS, n);
  return n;
}

/**
 * Timeouts, on the module clock: a query whose upstream did not answer in
 * time is sent again to the next upstream (over the same transport), until
 * DNS_TRIES sends; then it is dropped (dns-drop-timeout). Returns the length
 * of one retransmission in the buffer (call again until 0).
 */
export function dnsPoll(): i32 {
  clearOut();
  if (used == 0) return 0;
  const now = <u64>clockNow();
  for (let k = 0; k < DNS_SLOTS; k++) {
    const i = pollAt;
    pollAt = pollAt + 1 == DNS_SLOTS ? 0 : pollAt + 1;
    const e = entry(i);
    if (load<u8>(e, E_STATE) == ST_FREE || load<u64>(e, E_EXPIRY) > now) continue;
    if (<i32>load<u8>(e, E_TRIES) >= DNS_TRIES) {
      drop(D_DNS_TIMEOUT, <i32>load<u16>(e, E_QUERY_LEN));
      free(i);
      continue;
    }
    const ups = dnsUpstreamCountActive();
    if (ups == 0) {
      drop(D_DNS_NO_UPSTREAM, <i32>load<u16>(e, E_QUERY_LEN));
      free(i);
      continue;
    }
    store<u8>(e, <u8>((<i32>load<u8>(e, E_UPSTREAM) + 1) % ups), E_UPSTREAM);
    store<u8>(e, <u8>(random16() % <u32>DNS_SOCKETS), E_SOCKET);
    store<u16>(e, <u16>freshId(), E_UP_ID);
    count(C_DNS_RETRANSMITS, <i32>load<u16>(e, E_QUERY_LEN));
    return sendUpstream(i);
  }
  return 0;
}

/** The LAN's TCP connection `conn` closed: its outstanding queries go (dns-drop-client-gone). */
export function dnsClientGone(conn: i32): void {
  if (conn < 0 || table == 0) return;
  for (let i = 0; i < DNS_SLOTS; i++) {
    const e = entry(i);
    if (load<u8>(e, E_STATE) != ST_FREE && load<i32>(e, E_CONN) == conn) {
      drop(D_DNS_CLIENT_GONE, <i32>load<u16>(e, E_QUERY_LEN));
      free(i);
    }
  }
}

/**
 * A TCP connection to an upstream failed or closed before it answered the
 * query dnsOutEntry() gave: the query is retried at once on the next upstream
 * (dnsPoll's rule), by making it due now.
 */
export function dnsUpstreamFailed(entryIndex: i32): void {
  if (entryIndex < 0 || entryIndex >= DNS_SLOTS || table == 0) return;
  const e = entry(entryIndex);
  if (load<u8>(e, E_STATE) != ST_FREE) store<u64>(e, 0, E_EXPIRY);
}

// ---- accessors (docs/abi.md, DNS proxy) ------------------------------------
export function dnsBufferPtr(): usize { return buf; }
export function dnsOutKind(): i32 { return outKind; }
export function dnsOutUpstream(): i32 { return outUpstream; }
export function dnsOutSocket(): i32 { return outSocket; }
export function dnsOutEntry(): i32 { return outEntry; }
export function dnsOutClientAddr(): u32 { return outClientAddr; }
export function dnsOutClientPort(): i32 { return outClientPort; }
export function dnsOutConn(): i32 { return outConn; }
export function dnsOutstanding(): i32 { return used; }
