// FTP application-level gateway of the CE's NAPT (RFC 959 PORT and the 227
// reply, RFC 2428 EPRT), for a shared IPv4 address (RFC 7597 §8.1).
//
// An FTP control connection (TCP port settings.ftpPort, 21 by default)
// carries the address and port of the data connection as text. Behind the
// NAPT that text names a LAN address, so:
//   - `PORT h1,h2,h3,h4,p1,p2` and `EPRT |1|a.b.c.d|port|` from a LAN client
//     are rewritten to our address and a port OF OUR SET, taken through the
//     NAT (natExpect: the mapping LAN host:data port ↔ external port, plus a
//     placeholder that admits the server's connection through ADF/APDF
//     filtering) BEFORE the command leaves. Linux's nf_nat_ftp counts ports
//     upward from the LAN port and ignores the set: on MAP-E the BR would
//     then deliver the data connection to another CE.
//   - `227 Entering Passive Mode (h1,…,p2)` from a LAN server (a control
//     session whose LAN side is port 21: reached through a forwarded port)
//     is rewritten the same way, the expected remote being the client.
//   - PASV / EPSV from LAN clients and 229 replies carry no address: no
//     rewrite.
// Only a line that starts in the segment and ends in it (CR LF) is
// rewritten; one cut by the segment boundary is counted (ftp-alg-split-
// command) and passed as it is, not guessed at. A line naming another
// address than its sender's (FTP bounce, RFC 2577; a server that already
// advertises a public address) is passed unchanged and counted.
//
// The new text may be longer or shorter than the old, so the segment's
// length changes and the LAN→WAN sequence numbers move by the sum of the
// changes so far. Each control session that had a rewrite has an ALG
// context (below) holding that offset the way Linux's nf_nat_seq_adjust
// does: `pos` is the sequence number of the last segment that changed the
// offset, `before` the offset of bytes before it, `after` the offset of
// later ones. A retransmission of a segment from before the rewrite (its
// seq is not after pos) keeps `before`; the rewritten segment itself (seq
// == pos) starts at `before` and its end moves by the change. Outbound
// segments get seq + offset; inbound ones get ack − offset and every SACK
// edge (RFC 2018) − offset, the offset chosen by the same rule on the
// unshifted value. The ALG only ever rewrites LAN→WAN segments, so the
// WAN→LAN sequence space never moves and needs no offset.
//
// A grown segment must still fit: the slot's tailroom (slots.ts), the
// tunnel MTU, and an MSS the peer accepts (we do not know the peer's MSS:
// the payload may grow to the larger of its old length and 536, RFC 9293
// §3.7.1's default). Otherwise the segment is dropped (drop-ftp-alg-no-room);
// FTP commands are a few dozen bytes, so this takes a pathological segment.
// Checksums: IPv4 total length, seq, ack and SACK edges are updated
// incrementally (wire/ setters); a changed payload gets a full TCP checksum
// (the tail moves by an odd number of bytes as often as not, which no
// incremental update expresses cheaply; control segments are small).
//
// ALG contexts, a fixed table (no allocation while packets flow), keyed by
// the NAT session index (open addressing, CTX_PROBE probes):
//
//    0         4         8       10      12        16        20        24
//   +---------+---------+-------+-------+---------+---------+---------+
//   | session | remAddr |extPort|remPort|   pos   | before  |  after  |
//   +---------+---------+-------+-------+---------+---------+---------+
//   session 0 = free. remAddr/extPort/remPort tell a live entry from one
//   whose session was reclaimed and its index reused; a SYN on the control
//   connection (a new connection on the same tuple) forgets the entry.
//   When the table has no free or stale entry a rewrite that changes the
//   length is not made (ftp-alg-table-full).
import { settings } from "../settings";
import { natExpect, natSessionExtPort, natSessionRemAddr, natSessionRemPort, NAT_TCP } from "../nat/nat";
import { ipv4Src, ipv4Dst, ipv4HeaderLength, setIpv4TotalLengthUpdate } from "../wire/ipv4";
import {
  tcpSeq, tcpAck, tcpFlags, tcpDataOffset, tcpComputeChecksum4, setTcpChecksum, setTcpSeqUpdate,
  setTcpAckUpdate, setTcpWord32Update, TCP_SYN, TCP_ACK_FLAG, TCP_HEADER_LEN, TCP_OPT_END, TCP_OPT_NOP,
} from "../wire/tcp";
import { slotTailroom } from "./slots";
import {
  count, D_FTP_ALG_NO_ROOM, C_FTP_ALG_REWRITTEN, C_FTP_ALG_SPLIT, C_FTP_ALG_MALFORMED,
  C_FTP_ALG_OTHER_ADDRESS, C_FTP_ALG_NO_MAPPING, C_FTP_ALG_TABLE_FULL,
} from "./counters";

/** ALG contexts (control sessions with a sequence offset); a power of two. */
export const FTP_CTX_MAX: i32 = 64;
const CTX_PROBE: i32 = 8;
const X_SESSION: usize = 0;
const X_REM_ADDR: usize = 4;
const X_EXT_PORT: usize = 8;
const X_REM_PORT: usize = 10;
const X_POS: usize = 12;
const X_BEFORE: usize = 16;
const X_AFTER: usize = 20;
const X_SIZE: usize = 24;
const ctxBase: usize = memory.data(FTP_CTX_MAX * <i32>X_SIZE, 8);
let ctxUsed: i32 = 0;

/** TCP option kind of SACK blocks (RFC 2018 §3). */
const TCP_OPT_SACK: i32 = 5;
/** The default MSS every TCP accepts (RFC 9293 §3.7.1). */
const DEFAULT_MSS: i32 = 536;

/** Length of the IPv4 packet after ftpFromLan (it may grow or shrink). */
export let ftpLen: i32 = 0;

/** Forgets every ALG context (the NAT was reset: session indexes mean nothing now). */
export function ftpReset(): void {
  memory.fill(ctxBase, 0, <usize>FTP_CTX_MAX * X_SIZE);
  ctxUsed = 0;
}

/** Live ALG contexts (for tests and stats). */
export function ftpContexts(): i32 { return ctxUsed; }

/** True when a TCP packet with these LAN-side ports is on an FTP control connection the ALG watches. */
// @ts-ignore: decorator
@inline export function ftpControl(sport: i32, dport: i32): bool {
  return settings.ftpAlg != 0 && (dport == settings.ftpPort || sport == settings.ftpPort);
}

// ---- contexts ------------------------------------------------------------------

@inline function ctxAt(i: i32): usize { return ctxBase + <usize>(i & (FTP_CTX_MAX - 1)) * X_SIZE; }

/** True when entry e still belongs to its session (not reclaimed and reused). */
function ctxValid(e: usize): bool {
  const s = <i32>load<u32>(e, X_SESSION);
  return natSessionExtPort(s) == <i32>load<u16>(e, X_EXT_PORT) && natSessionRemAddr(s) == load<u32>(e, X_REM_ADDR) &&
    natSessionRemPort(s) == <i32>load<u16>(e, X_REM_PORT);
}

function ctxFree(e: usize): void {
  store<u32>(e, 0, X_SESSION);
  ctxUsed--;
}

/** The context of session s, or 0. A stale one found on the way is freed. */
function ctxFind(s: i32): usize {
  if (ctxUsed == 0) return 0;
  for (let k = 0; k < CTX_PROBE; k++) {
    const e = ctxAt(s + k);
    if (load<u32>(e, X_SESSION) != <u32>s) continue;
    if (ctxValid(e)) return e;
    ctxFree(e);
    return 0;
  }
  return 0;
}

/** A new context for session s (offsets 0), reusing a stale entry; 0 when none is free. */
function ctxNew(s: i32): usize {
  for (let k = 0; k < CTX_PROBE; k++) {
    const e = ctxAt(s + k);
    if (load<u32>(e, X_SESSION) != 0) {
      if (ctxValid(e)) continue;
      ctxFree(e);
    }
    store<u32>(e, <u32>s, X_SESSION);
    store<u32>(e, natSessionRemAddr(s), X_REM_ADDR);
    store<u16>(e, <u16>natSessionExtPort(s), X_EXT_PORT);
    store<u16>(e, <u16>natSessionRemPort(s), X_REM_PORT);
    store<u32>(e, 0, X_POS);
    store<i32>(e, 0, X_BEFORE);
    store<i32>(e, 0, X_AFTER);
    ctxUsed++;
    return e;
  }
  return 0;
}

/** Sequence number a comes after b (RFC 9293 §3.4, modulo 2^32). */
// @ts-ignore: decorator
@inline function seqAfter(a: u32, b: u32): bool { return <i32>(a - b) > 0; }

/** The LAN→WAN offset for a sequence number `seq` (unshifted) of context e. */
// @ts-ignore: decorator
@inline function offsetFor(e: usize, seq: u32): i32 {
  return seqAfter(seq, load<u32>(e, X_POS)) ? load<i32>(e, X_AFTER) : load<i32>(e, X_BEFORE);
}

/** Records a change of `delta` bytes made in the segment starting at `seq` (nf_nat_set_seq_adjust's rule). */
function ctxShift(e: usize, seq: u32, delta: i32): void {
  const before = load<i32>(e, X_BEFORE);
  const after = load<i32>(e, X_AFTER);
  // A retransmitted rewritten segment (seq == pos) changes nothing again.
  if (before == after || seqAfter(seq, load<u32>(e, X_POS))) {
    store<u32>(e, seq, X_POS);
    store<i32>(e, after, X_BEFORE);
    store<i32>(e, after + delta, X_AFTER);
  }
}

// ---- parsing -----------------------------------------------------------------

/** What ftpParse found. */
export const FTP_NONE: i32 = 0;
export const FTP_PORT: i32 = 1;
export const FTP_EPRT: i32 = 2;
export const FTP_227: i32 = 3;
/** A PORT / EPRT / 227 line cut by the end of the segment (counted, not rewritten). */
export const FTP_SPLIT: i32 = 4;
/** A PORT / EPRT / 227 line that does not parse (counted, not rewritten). */
export const FTP_MALFORMED: i32 = 5;

/** Results of ftpParse: the address and port named, and the byte span [spanAt, spanAt + spanLen) to replace. */
export let ftpAddr: u32 = 0;
export let ftpDataPort: i32 = 0;
export let ftpSpanAt: i32 = 0;
export let ftpSpanLen: i32 = 0;
let eprtDelim: i32 = 0;

@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
@inline function upper(c: i32): i32 { return c >= 0x61 && c <= 0x7a ? c - 0x20 : c; }

/** True when the 4 bytes at p are `word` (upper case ASCII), case-insensitively (RFC 959 §5.3). */
function keywordIs(p: usize, word: string): bool {
  for (let i = 0; i < 4; i++) {
    if (upper(<i32>load<u8>(p + <usize>i)) != <i32>word.charCodeAt(i)) return false;
  }
  return true;
}

let numEnd: i32 = 0;
/** A decimal of 1..maxDigits digits at data[i..end) up to max, or -1; its end in numEnd. */
function number(data: usize, i: i32, end: i32, maxDigits: i32, max: i32): i32 {
  let v = 0;
  let n = 0;
  while (i < end && isDigit(<i32>load<u8>(data + <usize>i))) {
    if (++n > maxDigits) return -1;
    v = v * 10 + (<i32>load<u8>(data + <usize>i) - 0x30);
    i++;
  }
  if (n == 0 || v > max) return -1;
  numEnd = i;
  return v;
}

/** `h1,h2,h3,h4,p1,p2` at data[i..end): sets ftpAddr/ftpDataPort and numEnd; false when it does not parse. */
function sixNumbers(data: usize, i: i32, end: i32): bool {
  let a: u32 = 0;
  let port = 0;
  for (let k = 0; k < 6; k++) {
    if (k > 0) {
      if (i >= end || load<u8>(data + <usize>i) != 0x2c) return false; // ','
      i++;
    }
    const v = number(data, i, end, 3, 255);
    if (v < 0) return false;
    if (k < 4) a = (a << 8) | <u32>v; else port = (port << 8) | v;
    i = numEnd;
  }
  ftpAddr = a;
  ftpDataPort = port;
  return port != 0;
}

/** `a.b.c.d` at data[i..end) into ftpAddr; false when it does not parse. */
function dottedQuad(data: usize, i: i32, end: i32): bool {
  let a: u32 = 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (i >= end || load<u8>(data + <usize>i) != 0x2e) return false; // '.'
      i++;
    }
    const v = number(data, i, end, 3, 255);
    if (v < 0) return false;
    a = (a << 8) | <u32>v;
    i = numEnd;
  }
  ftpAddr = a;
  return true;
}

@inline function skipSpaces(data: usize, i: i32, end: i32): i32 {
  while (i < end && load<u8>(data + <usize>i) == 0x20) i++;
  return i;
}

/** True when only CR (and spaces) remain in the line data[i..end). */
function lineDone(data: usize, i: i32, end: i32): bool {
  i = skipSpaces(data, i, end);
  return i == end;
}

/** The line data[at..end) (CR LF taken off) as a PORT / EPRT command. */
function parseCommand(data: usize, at: i32, end: i32, eprt: bool): i32 {
  let i = at + 4;
  if (i >= end || load<u8>(data + <usize>i) != 0x20) return FTP_MALFORMED;
  i = skipSpaces(data, i, end);
  if (!eprt) {
    if (!sixNumbers(data, i, end) || !lineDone(data, numEnd, end)) return FTP_MALFORMED;
    ftpSpanAt = i;
    ftpSpanLen = numEnd - i;
    return FTP_PORT;
  }
  // RFC 2428 §2: EPRT<space><d><net-prt><d><net-addr><d><tcp-port><d>, d in ASCII 33..126.
  if (i >= end) return FTP_MALFORMED;
  const d = <i32>load<u8>(data + <usize>i);
  if (d < 33 || d > 126 || isDigit(d)) return FTP_MALFORMED;
  const start = i;
  i++;
  const af = number(data, i, end, 1, 9);
  if (af != 1) return FTP_MALFORMED; // 2 = IPv6: not on an IPv4 control connection behind a NAPT44
  i = numEnd;
  if (i >= end || <i32>load<u8>(data + <usize>i) != d) return FTP_MALFORMED;
  if (!dottedQuad(data, i + 1, end)) return FTP_MALFORMED;
  i = numEnd;
  if (i >= end || <i32>load<u8>(data + <usize>i) != d) return FTP_MALFORMED;
  const port = number(data, i + 1, end, 5, 65535);
  if (port <= 0) return FTP_MALFORMED;
  i = numEnd;
  if (i >= end || <i32>load<u8>(data + <usize>i) != d) return FTP_MALFORMED;
  i++;
  if (!lineDone(data, i, end)) return FTP_MALFORMED;
  ftpDataPort = port;
  eprtDelim = d;
  ftpSpanAt = start;
  ftpSpanLen = i - start;
  return FTP_EPRT;
}

/** The line data[at..end) as a 227 reply: the six numbers after the first digit that follows "227 " (RFC 1123 §4.1.2.6). */
function parse227(data: usize, at: i32, end: i32): i32 {
  let i = at + 4;
  while (i < end && !isDigit(<i32>load<u8>(data + <usize>i))) i++;
  if (!sixNumbers(data, i, end)) return FTP_MALFORMED;
  ftpSpanAt = i;
  ftpSpanLen = numEnd - i;
  return FTP_227;
}

/**
 * Looks for a PORT / EPRT line (client side) or a 227 reply (server side)
 * in the `len` bytes of TCP payload at `data`: each line that starts in the
 * segment is looked at, the first match decides. Returns FTP_NONE,
 * FTP_PORT, FTP_EPRT, FTP_227 (with ftpAddr, ftpDataPort, ftpSpanAt,
 * ftpSpanLen), FTP_SPLIT or FTP_MALFORMED.
 */
export function ftpParse(data: usize, len: i32, client: bool): i32 {
  let at = 0;
  while (at < len) {
    let lf = at;
    while (lf < len && load<u8>(data + <usize>lf) != 0x0a) lf++;
    const avail = lf - at;
    // Which line is it? Up to the first 4 bytes decide; a line cut before
    // 4 bytes that could still become one of ours is split too.
    let kind = FTP_NONE;
    if (avail >= 4) {
      if (client) {
        if (keywordIs(data + <usize>at, "PORT")) kind = FTP_PORT;
        else if (keywordIs(data + <usize>at, "EPRT")) kind = FTP_EPRT;
      } else if (load<u8>(data + <usize>at) == 0x32 && load<u8>(data + <usize>at + 1) == 0x32 &&
                 load<u8>(data + <usize>at + 2) == 0x37 && load<u8>(data + <usize>at + 3) == 0x20) {
        kind = FTP_227;
      }
    } else if (lf == len && avail > 0) {
      return prefixOfOurs(data + <usize>at, avail, client) ? FTP_SPLIT : FTP_NONE;
    }
    if (kind != FTP_NONE) {
      if (lf == len) return FTP_SPLIT;
      let end = lf;
      if (end > at && load<u8>(data + <usize>end - 1) == 0x0d) end--;
      return kind == FTP_227 ? parse227(data, at, end) : parseCommand(data, at, end, kind == FTP_EPRT);
    }
    at = lf + 1;
  }
  return FTP_NONE;
}

/** The n (< 4) bytes at p start one of the words we rewrite. */
function prefixOfOurs(p: usize, n: i32, client: bool): bool {
  const a = client ? "PORT" : "227 ";
  const b = client ? "EPRT" : "227 ";
  let ma = true;
  let mb = true;
  for (let i = 0; i < n; i++) {
    const c = upper(<i32>load<u8>(p + <usize>i));
    if (c != <i32>a.charCodeAt(i)) ma = false;
    if (c != <i32>b.charCodeAt(i)) mb = false;
  }
  return ma || mb;
}

// ---- writing -----------------------------------------------------------------

/** The replacement text (at most "|1|255.255.255.255|65535|" or 23 bytes of numbers). */
const TEXT: usize = memory.data(32, 8);
let textLen: i32 = 0;

function put(c: i32): void { store<u8>(TEXT + <usize>textLen, <u8>c); textLen++; }
function putDecimal(v: i32): void {
  if (v >= 10000) put(0x30 + v / 10000);
  if (v >= 1000) put(0x30 + (v / 1000) % 10);
  if (v >= 100) put(0x30 + (v / 100) % 10);
  if (v >= 10) put(0x30 + (v / 10) % 10);
  put(0x30 + v % 10);
}

/** Writes the replacement of a span of `kind` naming addr:port into TEXT; returns its length. */
export function ftpText(kind: i32, addr: u32, port: i32): i32 {
  textLen = 0;
  if (kind == FTP_EPRT) {
    put(eprtDelim); put(0x31); put(eprtDelim);
    for (let k = 3; k >= 0; k--) {
      putDecimal(<i32>((addr >>> (<u32>k << 3)) & 0xff));
      if (k > 0) put(0x2e);
    }
    put(eprtDelim); putDecimal(port); put(eprtDelim);
  } else {
    for (let k = 3; k >= 0; k--) { putDecimal(<i32>((addr >>> (<u32>k << 3)) & 0xff)); put(0x2c); }
    putDecimal(port >>> 8); put(0x2c); putDecimal(port & 0xff);
  }
  return textLen;
}

/** The bytes ftpText wrote. */
export function ftpTextPtr(): usize { return TEXT; }

// ---- the per-packet hooks (ce.ts) ------------------------------------------

/**
 * A TCP segment from the LAN on an FTP control connection (ftpControl),
 * already translated to our address by the NAPT: `p` the IPv4 header, `len`
 * its length, `l4` the TCP header (tcpCheck passed), `s` its NAT session,
 * `lanAddr` the LAN host's address, `client` true when the LAN host is the
 * FTP client (destination port = settings.ftpPort), `mtuRoom` the bytes the packet
 * may grow by in the tunnel. Rewrites a PORT / EPRT / 227 line (making the
 * data connection's mapping first) and moves the sequence number by the
 * session's offset. Returns 0 (the packet goes on, its length in ftpLen) or
 * D_FTP_ALG_NO_ROOM.
 */
export function ftpFromLan(p: usize, len: i32, l4: usize, s: i32, lanAddr: u32, client: bool,
                           mtuRoom: i32, now: u64): i32 {
  ftpLen = len;
  const flags = tcpFlags(l4);
  if ((flags & TCP_SYN) != 0) {
    // A new connection on this tuple: an old offset would corrupt it.
    const old = ctxFind(s);
    if (old != 0) ctxFree(old);
    return 0;
  }
  const hl = tcpDataOffset(l4);
  const data = l4 + <usize>hl;
  const dlen = len - <i32>(l4 - p) - hl;
  let e = ctxFind(s);
  const seq = tcpSeq(l4);
  let changed = false;
  if (dlen > 0) {
    const kind = ftpParse(data, dlen, client);
    if (kind == FTP_SPLIT) count(C_FTP_ALG_SPLIT, len);
    else if (kind == FTP_MALFORMED) count(C_FTP_ALG_MALFORMED, len);
    else if (kind != FTP_NONE && (kind == FTP_227) == !client) {
      if (ftpAddr != lanAddr) {
        count(C_FTP_ALG_OTHER_ADDRESS, len);
      } else {
        // The data connection's mapping first: the server may connect as
        // soon as it reads the command.
        const ext = natExpect(NAT_TCP, lanAddr, ftpDataPort, ipv4Dst(p), now);
        if (ext <= 0) {
          count(C_FTP_ALG_NO_MAPPING, len);
        } else {
          const n = ftpText(kind, ipv4Src(p), ext);
          const delta = n - ftpSpanLen;
          if (delta != 0 && e == 0) e = ctxNew(s);
          if (delta != 0 && e == 0) {
            count(C_FTP_ALG_TABLE_FULL, len);
          } else {
            if (delta > 0 && (delta > slotTailroom(p, len) || delta > mtuRoom ||
                              dlen + delta > max(dlen, DEFAULT_MSS))) {
              return D_FTP_ALG_NO_ROOM;
            }
            const tailAt = data + <usize>(ftpSpanAt + ftpSpanLen);
            memory.copy(tailAt + <usize>delta, tailAt, <usize>(dlen - ftpSpanAt - ftpSpanLen));
            memory.copy(data + <usize>ftpSpanAt, TEXT, <usize>n);
            len += delta;
            setIpv4TotalLengthUpdate(p, len);
            if (delta != 0) ctxShift(e, seq, delta);
            changed = true;
            count(C_FTP_ALG_REWRITTEN, len);
          }
        }
      }
    }
  }
  if (e != 0) setTcpSeqUpdate(l4, seq + <u32>offsetFor(e, seq));
  if (changed) {
    // The payload changed: a full checksum (see the file header).
    const tl = len - ipv4HeaderLength(p);
    setTcpChecksum(l4, 0);
    setTcpChecksum(l4, tcpComputeChecksum4(l4, tl, ipv4Src(p), ipv4Dst(p)));
  }
  ftpLen = len;
  return 0;
}

/**
 * A TCP segment from the WAN on an FTP control connection, before it is
 * translated toward the LAN host (`l4` the TCP header, tcpCheck passed;
 * `s` its session): moves the acknowledgment number and the SACK edges back
 * by the session's LAN→WAN offset, so the LAN host sees its own sequence
 * space. A SYN (a new connection on the tuple) forgets the context.
 */
export function ftpFromWan(l4: usize, s: i32): void {
  if (ctxUsed == 0) return;
  const e = ctxFind(s);
  if (e == 0) return;
  const flags = tcpFlags(l4);
  if ((flags & TCP_SYN) != 0) { ctxFree(e); return; }
  if ((flags & TCP_ACK_FLAG) == 0) return;
  const ack = tcpAck(l4);
  setTcpAckUpdate(l4, ack - <u32>offsetFor(e, ack - <u32>load<i32>(e, X_BEFORE)));
  // SACK blocks (RFC 2018 §3): kind 5, length 2 + 8n, n left/right edges.
  const hl = tcpDataOffset(l4);
  let i = TCP_HEADER_LEN;
  while (i < hl) {
    const kind = <i32>load<u8>(l4 + <usize>i);
    if (kind == TCP_OPT_END) break;
    if (kind == TCP_OPT_NOP) { i++; continue; }
    if (i + 1 >= hl) break;
    const olen = <i32>load<u8>(l4 + <usize>i + 1);
    if (olen < 2 || i + olen > hl) break;
    if (kind == TCP_OPT_SACK) {
      for (let j = i + 2; j + 4 <= i + olen; j += 4) {
        const edge = bswap<u32>(load<u32>(l4 + <usize>j));
        setTcpWord32Update(l4, j, edge - <u32>offsetFor(e, edge - <u32>load<i32>(e, X_BEFORE)));
      }
    }
    i += olen;
  }
}
