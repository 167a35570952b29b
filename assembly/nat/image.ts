// The NAT state image: the CE's mappings and sessions (endpoints, external
// ports, TCP states, timeout classes, remaining idle times) written out so a
// restart — SIGTERM, an upgrade of the program, a crash with a periodic
// image — does not break every connection behind the CE (issue 9, "State
// that survives a restart"). The protocol logic lives here once; the hosts
// (host/stateimage.ts, native/router/image.c) only move the bytes between
// this module's image buffer and a file.
//
// The image is LOGICAL, not a memory dump: the export walks the live state
// through nat.ts's walk functions, the import re-creates every mapping on
// its exact external port and every session with its state
// (natRestoreMapping / natRestoreSession), and the remaining idle times are
// rebased onto the new module clock. So the NAT's record layout and hash
// keys may differ between the program that wrote an image and the one that
// reads it; what a record MEANS is fixed by the format version.
//
// Format, version 1. Every integer is little-endian; an IPv4 address is the
// u32 value a·2^24 + b·2^16 + c·2^8 + d (so 192.0.2.1 is the bytes 01 02 00 c0).
//
//   header, 64 bytes
//    0               8       10      12              16
//   +---------------+-------+-------+---------------+
//   | "MAPE-NAT"    |version|hdr len| total bytes   |   version 1, hdr len 64,
//   +---------------+-------+-------+---------------+   total: the whole image
//   16              20  21  22  23  24      26      28              32
//   +---------------+---+---+---+---+-------+-------+---------------+
//   | CE IPv4 addr  |len| a | k | 0 | PSID  |   0   | mappings (M)  |   the BMR the state belongs
//   +---------------+---+---+---+---+-------+-------+---------------+   to: IPv4 address/len, PSID
//   32                                              48              52              56      64
//   +-----------------------------------------------+---------------+---------------+-------+
//   | CE MAP IPv6 address (16 bytes)                | sessions (S)  |       0       | clock |
//   +-----------------------------------------------+---------------+---------------+-------+
//     clock: the module clock at export (ms; informative, never used)
//
//   then M times: a mapping record, 16 bytes, followed by its n sessions
//    0   1    2        4               8       10      12              16
//   +---+----+--------+---------------+-------+-------+---------------+
//   |'M'|prot|int port| int address   |ext prt|   0   | n (≥ 1)       |
//   +---+----+--------+---------------+-------+-------+---------------+
//
//   session record, 20 bytes (its mapping gives protocol, internal endpoint, external port)
//    0   1   2   3   4               8       10      12                              20
//   +---+---+---+---+---------------+-------+-------+-------------------------------+
//   |'S'|tcp|cls|flg| remote address|rem prt| spare | remaining idle time, ms (> 0) |
//   +---+---+---+---+---------------+-------+-------+-------------------------------+
//     tcp: tcp.ts TCP_* (0 for UDP/ICMP); cls: NAT_CLASS_*; flg: NAT_SF_INBOUND;
//     spare: the data path's 16-bit field of the session (natSessionSpare)
//
//   trailer, 4 bytes: CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it.
//
//   total = 64 + 16·M + 20·S + 4. Mappings come host by host, each host's in
//   creation order, each mapping's sessions in creation order (nat.ts's walk).
//   Expired sessions are left out, and mappings left with none.
//
// Size: the default table (65,536 sessions, 16,384 mappings) makes at most
// 64 + 16·16384 + 20·65536 + 4 = 1,572,932 bytes. Memory is fixed, so the
// image moves in chunks through the 256 KiB text buffer (imageBuffer):
//
//   export   total = imageExportBegin(now); while ((n = imageExportChunk()) > 0) write buffer[0, n)
//   import   for pass in (check, apply):
//              imageImportBegin(size, pass, now); for each piece: copy it into the buffer,
//              imageImportChunk(len); r = imageImportEnd()
//
// The import reads the bytes twice (the host keeps the file; this module
// keeps nothing but a CRC): the CHECK pass validates everything — length,
// CRC, version, BMR, every record, capacity — and changes nothing; only then
// the APPLY pass empties the NAT and re-creates the state, checking each
// record again and the CRC against the check pass's. Anything the apply pass
// refuses (a duplicate tuple the NAT will not take, bytes that changed
// between the passes, an End never reached before the next Begin) empties
// the NAT again: never a half-imported table. An image of another BMR,
// version, length or checksum is refused with one error code and a one-line
// text (imageErrorText), and the CE starts empty.
import { TEXT_BUFFER_SIZE } from "../config";
import { pinsReapply } from "./pins";
import { textBufferPtr } from "../config/textbuf";
import { settings, MODE_CE } from "../settings";
import { domain, ceMapAddressPtr } from "../map/provision";
import { clockAdvance } from "../datapath/process";
import {
  natAdvanceClock, natWalkMappingNext, natWalkSessionNext, natSessionRemaining, natRestoreMapping,
  natRestoreSession, natRestoreFinish, natSessionShapeValid, natPortInSet, natPortSetIs, natReset,
  natMappingProto, natMappingIntAddr, natMappingIntPort, natMappingExtPort, natSessionRemAddr,
  natSessionRemPort, natSessionTcpState, natSessionClass, natSessionFlags, natSessionSpare,
  natSessionCapacity, natMappingCapacity, NAT_SF_INBOUND, NAT_ICMP,
} from "./nat";

// ---- format ----------------------------------------------------------------

/** The format version this module writes and reads. */
export const IMAGE_VERSION: i32 = 1;

const HDR_BYTES: i32 = 64;
const HDR_MAGIC: usize = 0;      // 8 bytes "MAPE-NAT"
const HDR_VERSION: usize = 8;    // u16
const HDR_LENGTH: usize = 10;    // u16 header bytes
const HDR_TOTAL: usize = 12;     // u32 image bytes
const HDR_IPV4: usize = 16;      // u32
const HDR_IPV4_LEN: usize = 20;  // u8
const HDR_PSID_OFFSET: usize = 21; // u8 a
const HDR_PSID_LEN: usize = 22;  // u8 k
const HDR_PAD0: usize = 23;      // u8 0
const HDR_PSID: usize = 24;      // u16
const HDR_PAD1: usize = 26;      // u16 0
const HDR_MAPPINGS: usize = 28;  // u32
const HDR_IPV6: usize = 32;      // 16 bytes
const HDR_SESSIONS: usize = 48;  // u32
const HDR_PAD2: usize = 52;      // u32 0
const HDR_CLOCK: usize = 56;     // u64

const MAP_BYTES: i32 = 16;
const MAP_KIND: usize = 0;       // 'M'
const MAP_PROTO: usize = 1;
const MAP_INT_PORT: usize = 2;
const MAP_INT_ADDR: usize = 4;
const MAP_EXT_PORT: usize = 8;
const MAP_PAD: usize = 10;       // u16 0
const MAP_SESSIONS: usize = 12;  // u32

const SES_BYTES: i32 = 20;
const SES_KIND: usize = 0;       // 'S'
const SES_TCP: usize = 1;
const SES_CLASS: usize = 2;
const SES_FLAGS: usize = 3;
const SES_REM_ADDR: usize = 4;
const SES_REM_PORT: usize = 8;
const SES_SPARE: usize = 10;
const SES_REMAINING: usize = 12; // u64

const TRAILER_BYTES: i32 = 4;
const KIND_MAPPING: u8 = 0x4d;   // 'M'
const KIND_SESSION: u8 = 0x53;   // 'S'
const MAGIC_LO: u32 = 0x4550414d; // "MAPE"
const MAGIC_HI: u32 = 0x54414e2d; // "-NAT"

// ---- results ---------------------------------------------------------------

/** Errors (negative results); imageErrorText says more. Append-only. */
export const IMAGE_E_TRUNCATED: i32 = -1;  // fewer bytes than the header says (or no header)
export const IMAGE_E_MAGIC: i32 = -2;      // not a state image
export const IMAGE_E_VERSION: i32 = -3;    // another format version
export const IMAGE_E_LENGTH: i32 = -4;     // more bytes than the header says
export const IMAGE_E_CHECKSUM: i32 = -5;   // CRC mismatch: corrupt
export const IMAGE_E_CORRUPT: i32 = -6;    // a malformed header field or record (with a good CRC)
export const IMAGE_E_BMR: i32 = -7;        // made for another BMR
export const IMAGE_E_CAPACITY: i32 = -8;   // more sessions or mappings than the table holds
export const IMAGE_E_NOT_READY: i32 = -9;  // no CE configured and started
export const IMAGE_E_APPLY: i32 = -10;     // the NAT refused a record (duplicate tuple or port)
export const IMAGE_E_SEQUENCE: i32 = -11;  // calls out of order (apply without a good check pass, …)
export const IMAGE_E_CHANGED: i32 = -12;   // the state or the bytes changed between calls

// ---- buffers ------------------------------------------------------------------

// The chunks move through the module's one text buffer (config/textbuf.ts):
// an export or import is a run of calls the host makes in one go, and the
// buffer holds nothing between them that this module needs (its own state
// is below), so it is not paid for twice in the fixed memory.
const IMAGE_BUFFER_SIZE: i32 = TEXT_BUFFER_SIZE;
const buffer: usize = textBufferPtr();
const unit: usize = memory.data(64, 16);     // one header or record, gathered across chunks
const crcTable: usize = memory.data(1024, 4);
let crcTableReady = false;
const TEXT_CAP: i32 = 200;
const text: usize = memory.data(TEXT_CAP, 4);
let textLen: i32 = 0;

/** The image buffer: chunks go out and come in here (IMAGE_BUFFER_SIZE bytes). */
export function imageBuffer(): usize { return buffer; }
export function imageBufferSize(): i32 { return IMAGE_BUFFER_SIZE; }
export function imageVersion(): i32 { return IMAGE_VERSION; }
/** The last error's one-line text (ASCII, imageErrorTextLength bytes). */
export function imageErrorText(): usize { return text; }
export function imageErrorTextLength(): i32 { return textLen; }

// ---- small helpers ---------------------------------------------------------------

function say(s: string): void {
  textLen = 0;
  add(s);
}
function add(s: string): void {
  for (let i = 0; i < s.length && textLen < TEXT_CAP; i++) store<u8>(text + textLen++, <u8>s.charCodeAt(i));
}
function addNum(v: u64): void {
  const at = textLen;
  do {
    if (textLen >= TEXT_CAP) return;
    store<u8>(text + textLen++, <u8>(48 + <i32>(v % 10)));
    v /= 10;
  } while (v != 0);
  for (let i = at, j = textLen - 1; i < j; i++, j--) {
    const t = load<u8>(text + i);
    store<u8>(text + i, load<u8>(text + j));
    store<u8>(text + j, t);
  }
}

/** CRC-32 (IEEE) of n bytes at p continuing `crc` (0 to start): the trailer's checksum. */
export function imageCrc32(crc: u32, p: usize, n: i32): u32 { return crcUpdate(crc, p, n); }

function crcUpdate(crc: u32, p: usize, n: i32): u32 {
  if (!crcTableReady) {
    for (let i: u32 = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      store<u32>(crcTable + (<usize>i << 2), c);
    }
    crcTableReady = true;
  }
  let c = ~crc;
  for (let i = 0; i < n; i++) c = load<u32>(crcTable + (<usize>((c ^ load<u8>(p + i)) & 0xff) << 2)) ^ (c >>> 8);
  return ~c;
}

/** A CE is configured, started, and its port set is in the NAT. */
function ceReady(): bool {
  return settings.mode == MODE_CE && domain.bmr >= 0 && natPortSetIs(domain.ceA, domain.ceK, domain.cePsid);
}

/** The NAT clock at the host's nowMs (moves the module clock as process(0, nowMs) would). */
function nowAt(nowMs: f64): u64 { return natAdvanceClock(<u64>clockAdvance(nowMs)); }

/** Sessions of mapping m still live at `now`. */
function liveSessions(m: i32, now: u64): u32 {
  let n: u32 = 0;
  for (let s = natWalkSessionNext(m, 0); s != 0; s = natWalkSessionNext(m, s)) if (natSessionRemaining(s, now) > 0) n++;
  return n;
}

// ---- export ----------------------------------------------------------------------

const X_IDLE = 0, X_HEADER = 1, X_RECORDS = 2, X_TRAILER = 3, X_DONE = 4;
let xPhase = X_IDLE;
let xNow: u64 = 0;
let xMaps: u32 = 0;       // mapping records still to write
let xSess: u32 = 0;       // session records still to write
let xTotal: u32 = 0;
let xM: i32 = 0;          // the mapping being written (its sessions follow)
let xS: i32 = 0;          // the last session written of xM
let xLeft: u32 = 0;       // sessions of xM still to write
let xCrc: u32 = 0;

/**
 * Starts an export of the NAT state at the host's clock `nowMs`: counts
 * what goes in and returns the image's total bytes (≥ 68), or
 * IMAGE_E_NOT_READY. Then call imageExportChunk until it returns 0, with no
 * other call of the module in between.
 */
export function imageExportBegin(nowMs: f64): i32 {
  xPhase = X_IDLE;
  if (!ceReady()) { say("no CE is running (configure and start one first)"); return IMAGE_E_NOT_READY; }
  xNow = nowAt(nowMs);
  let maps: u32 = 0, sess: u32 = 0;
  for (let m = natWalkMappingNext(0); m != 0; m = natWalkMappingNext(m)) {
    const n = liveSessions(m, xNow);
    if (n > 0) { maps++; sess += n; }
  }
  xMaps = maps;
  xSess = sess;
  xTotal = <u32>HDR_BYTES + <u32>MAP_BYTES * maps + <u32>SES_BYTES * sess + <u32>TRAILER_BYTES;
  xM = 0; xS = 0; xLeft = 0;
  xCrc = 0;
  xPhase = X_HEADER;
  return <i32>xTotal;
}

/** The next mapping after xM with live sessions (0 = none), its count in xLeft. */
function nextExportMapping(): i32 {
  let m = xM;
  while (true) {
    m = natWalkMappingNext(m);
    if (m == 0) return 0;
    const n = liveSessions(m, xNow);
    if (n > 0) { xLeft = n; return m; }
  }
}

/**
 * Writes the next chunk of the image into the buffer; returns its bytes, 0
 * when the image is complete, IMAGE_E_SEQUENCE without a Begin, or
 * IMAGE_E_CHANGED when the NAT changed since the Begin (the export ends;
 * what was written is no image: begin again).
 */
export function imageExportChunk(): i32 {
  if (xPhase == X_IDLE) { say("export chunk without imageExportBegin"); return IMAGE_E_SEQUENCE; }
  let at: usize = 0;
  const cap: usize = <usize>IMAGE_BUFFER_SIZE;
  while (xPhase != X_DONE) {
    if (xPhase == X_HEADER) {
      const p = buffer;
      memory.fill(p, 0, HDR_BYTES);
      store<u32>(p, MAGIC_LO, HDR_MAGIC);
      store<u32>(p, MAGIC_HI, HDR_MAGIC + 4);
      store<u16>(p, <u16>IMAGE_VERSION, HDR_VERSION);
      store<u16>(p, <u16>HDR_BYTES, HDR_LENGTH);
      store<u32>(p, xTotal, HDR_TOTAL);
      store<u32>(p, domain.ceIPv4, HDR_IPV4);
      store<u8>(p, <u8>domain.ceIPv4Len, HDR_IPV4_LEN);
      store<u8>(p, <u8>domain.ceA, HDR_PSID_OFFSET);
      store<u8>(p, <u8>domain.ceK, HDR_PSID_LEN);
      store<u16>(p, <u16>domain.cePsid, HDR_PSID);
      store<u32>(p, xMaps, HDR_MAPPINGS);
      memory.copy(p + HDR_IPV6, ceMapAddressPtr(), 16);
      store<u32>(p, xSess, HDR_SESSIONS);
      store<u64>(p, xNow, HDR_CLOCK);
      at = HDR_BYTES;
      xPhase = X_RECORDS;
      continue;
    }
    if (xPhase == X_RECORDS) {
      if (xLeft == 0) {
        if (at + <usize>MAP_BYTES > cap) break;
        const m = nextExportMapping();
        if (m == 0) {
          if (xMaps != 0 || xSess != 0) return changed();
          xPhase = X_TRAILER;
          continue;
        }
        if (xMaps == 0 || xLeft > xSess) return changed();
        xMaps--;
        xSess -= xLeft;
        xM = m; xS = 0;
        const p = buffer + at;
        store<u8>(p, KIND_MAPPING, MAP_KIND);
        store<u8>(p, <u8>natMappingProto(m), MAP_PROTO);
        store<u16>(p, <u16>natMappingIntPort(m), MAP_INT_PORT);
        store<u32>(p, natMappingIntAddr(m), MAP_INT_ADDR);
        store<u16>(p, <u16>natMappingExtPort(m), MAP_EXT_PORT);
        store<u16>(p, 0, MAP_PAD);
        store<u32>(p, xLeft, MAP_SESSIONS);
        at += MAP_BYTES;
        continue;
      }
      if (at + <usize>SES_BYTES > cap) break;
      let s = natWalkSessionNext(xM, xS);
      let rem: u64 = 0;
      while (s != 0) {
        rem = natSessionRemaining(s, xNow);
        if (rem > 0) break;
        s = natWalkSessionNext(xM, s);
      }
      if (s == 0) return changed();
      xS = s;
      xLeft--;
      const p = buffer + at;
      store<u8>(p, KIND_SESSION, SES_KIND);
      store<u8>(p, <u8>natSessionTcpState(s), SES_TCP);
      store<u8>(p, <u8>natSessionClass(s), SES_CLASS);
      store<u8>(p, <u8>natSessionFlags(s), SES_FLAGS);
      store<u32>(p, natSessionRemAddr(s), SES_REM_ADDR);
      store<u16>(p, <u16>natSessionRemPort(s), SES_REM_PORT);
      store<u16>(p, <u16>natSessionSpare(s), SES_SPARE);
      store<u64>(p, rem, SES_REMAINING);
      at += SES_BYTES;
      continue;
    }
    // X_TRAILER
    if (at + <usize>TRAILER_BYTES > cap) break;
    xCrc = crcUpdate(xCrc, buffer, <i32>at);
    store<u32>(buffer + at, xCrc);
    at += TRAILER_BYTES;
    xPhase = X_DONE;
    return <i32>at;
  }
  xCrc = crcUpdate(xCrc, buffer, <i32>at);
  return <i32>at;
}

function changed(): i32 {
  xPhase = X_IDLE;
  say("the NAT changed during the export (call no other export between imageExportBegin and the last chunk)");
  return IMAGE_E_CHANGED;
}

// ---- import ----------------------------------------------------------------------

const U_HEADER = 0, U_MAPPING = 1, U_SESSION = 2, U_SKIP = 3, U_TRAILER = 4, U_DONE = 5;
let iActive = false;
let iApply = false;
let iNow: u64 = 0;
let iSize: u32 = 0;       // bytes the host says it has
let iPos: u32 = 0;        // bytes consumed
let iUnit = U_HEADER;
let iWant: u32 = HDR_BYTES;
let iHave: u32 = 0;
let iCrc: u32 = 0;
let iFatal: i32 = 0;      // an error that ends the pass at once
let iLater: i32 = 0;      // check pass: the first record error, reported after the CRC
let iLaterText: i32 = 0;  // …and which text
let iLaterAt: u32 = 0;
let iMaps: u32 = 0;       // mapping records the header announces
let iSess: u32 = 0;
let iMapsSeen: u32 = 0;
let iSessSeen: u32 = 0;
let iLeft: u32 = 0;       // sessions of the current mapping still to come
let iProto: i32 = 0;
let iHandle: i32 = 0;     // apply: the current mapping's handle
let iCrcOk = false;
let iBmrOk = true;
let iTotal: u32 = 0;
let iVersion: u32 = 0;
// The last good check pass: what the apply pass must match.
let checkedSize: u32 = 0;
let checkedCrc: u32 = 0;
let checkedOk = false;

const T_FIELD = 1, T_RECORD = 2;

/**
 * Starts a pass over an image of `size` bytes: apply 0 = check (changes
 * nothing), 1 = apply (needs a successful check pass of the same size just
 * before; empties the NAT first). `nowMs`: the host's clock, the time the
 * remaining idle times count from. Returns 0, IMAGE_E_NOT_READY or
 * IMAGE_E_SEQUENCE.
 */
export function imageImportBegin(size: i32, apply: i32, nowMs: f64): i32 {
  if (iActive && iApply) { natReset(); pinsReapply(); } // an apply pass that never reached its End
  iActive = false;
  if (!ceReady()) { say("no CE is running (configure and start one first)"); return IMAGE_E_NOT_READY; }
  if (size < 0) { say("negative image size"); return IMAGE_E_SEQUENCE; }
  iApply = apply != 0;
  if (iApply) {
    if (!checkedOk || checkedSize != <u32>size) {
      say("apply pass without a good check pass of the same image");
      return IMAGE_E_SEQUENCE;
    }
    natReset();
  }
  checkedOk = checkedOk && iApply;
  iNow = nowAt(nowMs);
  iSize = <u32>size;
  iPos = 0; iUnit = U_HEADER; iWant = HDR_BYTES; iHave = 0; iCrc = 0;
  iFatal = 0; iLater = 0; iLaterText = 0; iLaterAt = 0;
  iMaps = 0; iSess = 0; iMapsSeen = 0; iSessSeen = 0; iLeft = 0; iProto = 0; iHandle = 0;
  iCrcOk = false; iBmrOk = true; iTotal = 0; iVersion = 0;
  iActive = true;
  return 0;
}

/** A record error: at once in the apply pass; in the check pass noted, the rest only checksummed. */
function recordError(code: i32, which: i32): void {
  if (iApply) {
    if (iFatal == 0) { iFatal = code; iLaterText = which; iLaterAt = iPos - iHave; }
    return;
  }
  if (iLater == 0) { iLater = code; iLaterText = which; iLaterAt = iPos - iHave; }
  iUnit = U_SKIP;
}

/** Sets the next unit after a header or record. */
function nextUnit(): void {
  if (iUnit != U_SKIP && iFatal == 0) {
    if (iLeft > 0) { iUnit = U_SESSION; iWant = SES_BYTES; iHave = 0; return; }
    if (iMapsSeen < iMaps) { iUnit = U_MAPPING; iWant = MAP_BYTES; iHave = 0; return; }
    if (iSessSeen == iSess) { iUnit = U_TRAILER; iWant = TRAILER_BYTES; iHave = 0; return; }
    // Fewer sessions than the header said. recordError stops the apply pass
    // (iFatal) or makes the check pass skip (U_SKIP): either way, below.
    recordError(IMAGE_E_CORRUPT, T_RECORD);
  }
  // Skipping (the check pass after a record error) or stopped: on to the trailer.
  const end = iTotal - <u32>TRAILER_BYTES;
  if (iPos < end) { iUnit = U_SKIP; iWant = end - iPos; iHave = 0; return; }
  iUnit = U_TRAILER; iWant = TRAILER_BYTES; iHave = 0;
}

function doHeader(): void {
  const p = unit;
  if (load<u32>(p, HDR_MAGIC) != MAGIC_LO || load<u32>(p, HDR_MAGIC + 4) != MAGIC_HI) {
    iFatal = IMAGE_E_MAGIC; return;
  }
  iVersion = load<u16>(p, HDR_VERSION);
  if (iVersion != <u32>IMAGE_VERSION) { iFatal = IMAGE_E_VERSION; return; }
  iTotal = load<u32>(p, HDR_TOTAL);
  iMaps = load<u32>(p, HDR_MAPPINGS);
  iSess = load<u32>(p, HDR_SESSIONS);
  // Sizes in u64: a flipped count must not wrap into a plausible total.
  const expect = <u64>HDR_BYTES + <u64>MAP_BYTES * iMaps + <u64>SES_BYTES * iSess + <u64>TRAILER_BYTES;
  if (<u32>load<u16>(p, HDR_LENGTH) != <u32>HDR_BYTES || <u64>iTotal != expect || iMaps > iSess) {
    // The lengths decide where the trailer is: with them wrong, only the
    // size the host has can say whether anything was cut off.
    iFatal = iSize < iTotal ? IMAGE_E_TRUNCATED : IMAGE_E_CORRUPT;
    iLaterText = T_FIELD; iLaterAt = <u32>HDR_TOTAL;
    return;
  }
  if (iSize < iTotal) { iFatal = IMAGE_E_TRUNCATED; return; }
  if (iSize > iTotal) { iFatal = IMAGE_E_LENGTH; return; }
  if (load<u8>(p, HDR_PAD0) != 0 || load<u16>(p, HDR_PAD1) != 0 || load<u32>(p, HDR_PAD2) != 0) {
    recordError(IMAGE_E_CORRUPT, T_FIELD);
    return;
  }
  iBmrOk = load<u32>(p, HDR_IPV4) == domain.ceIPv4 && <i32>load<u8>(p, HDR_IPV4_LEN) == domain.ceIPv4Len &&
    <i32>load<u8>(p, HDR_PSID_OFFSET) == domain.ceA && <i32>load<u8>(p, HDR_PSID_LEN) == domain.ceK &&
    <i32>load<u16>(p, HDR_PSID) == domain.cePsid && memory.compare(p + HDR_IPV6, ceMapAddressPtr(), 16) == 0;
  if (!iBmrOk) { recordError(IMAGE_E_BMR, T_FIELD); return; }
  if (iSess > <u32>natSessionCapacity() || iMaps > <u32>natMappingCapacity()) {
    recordError(IMAGE_E_CAPACITY, T_FIELD);
  }
}

function doMapping(): void {
  const p = unit;
  const proto = <i32>load<u8>(p, MAP_PROTO);
  const n = load<u32>(p, MAP_SESSIONS);
  const extPort = <i32>load<u16>(p, MAP_EXT_PORT);
  iMapsSeen++;
  if (load<u8>(p, MAP_KIND) != KIND_MAPPING || load<u16>(p, MAP_PAD) != 0 || n == 0 || n > iSess - iSessSeen ||
      !natPortInSet(proto, extPort)) {
    recordError(IMAGE_E_CORRUPT, T_RECORD);
    return;
  }
  iLeft = n;
  iProto = proto;
  if (iApply) {
    iHandle = natRestoreMapping(proto, load<u32>(p, MAP_INT_ADDR), load<u16>(p, MAP_INT_PORT), extPort);
    if (iHandle <= 0) { iFatal = IMAGE_E_APPLY; iLaterAt = iPos - iHave; }
  }
}

function doSession(): void {
  const p = unit;
  const tcp = <i32>load<u8>(p, SES_TCP);
  const cls = <i32>load<u8>(p, SES_CLASS);
  const flags = <i32>load<u8>(p, SES_FLAGS);
  const remPort = <i32>load<u16>(p, SES_REM_PORT);
  const remaining = load<u64>(p, SES_REMAINING);
  iSessSeen++;
  iLeft--;
  if (load<u8>(p, SES_KIND) != KIND_SESSION || !natSessionShapeValid(iProto, cls, tcp) ||
      (flags & ~NAT_SF_INBOUND) != 0 || (iProto == NAT_ICMP && remPort != 0) || remaining == 0) {
    recordError(IMAGE_E_CORRUPT, T_RECORD);
    return;
  }
  if (iApply) {
    const s = natRestoreSession(iHandle, load<u32>(p, SES_REM_ADDR), remPort, tcp, cls, flags,
      load<u16>(p, SES_SPARE), remaining, iNow);
    if (s <= 0) { iFatal = IMAGE_E_APPLY; iLaterAt = iPos - iHave; }
  }
}

/**
 * The next `len` bytes of the image, in the buffer (at most
 * IMAGE_BUFFER_SIZE; pieces may cut records anywhere). Returns 0, or the
 * pass's error once it is known (the rest of the pass is ignored; the
 * apply pass has emptied the NAT).
 */
export function imageImportChunk(len: i32): i32 {
  if (!iActive) { say("import chunk without imageImportBegin"); return IMAGE_E_SEQUENCE; }
  if (len < 0 || len > IMAGE_BUFFER_SIZE) { say("chunk larger than the image buffer"); return abort(IMAGE_E_SEQUENCE); }
  let p = buffer;
  let n = <u32>len;
  while (n > 0 && iFatal == 0) {
    if (iUnit == U_DONE) { iFatal = IMAGE_E_LENGTH; break; }
    let take = iWant - iHave;
    if (take > n) take = n;
    if (iUnit != U_SKIP) memory.copy(unit + iHave, p, take);
    if (iUnit != U_TRAILER) iCrc = crcUpdate(iCrc, p, <i32>take);
    iHave += take; iPos += take; p += take; n -= take;
    if (iHave < iWant) break;
    if (iUnit == U_HEADER) doHeader();
    else if (iUnit == U_MAPPING) doMapping();
    else if (iUnit == U_SESSION) doSession();
    else if (iUnit == U_TRAILER) { iCrcOk = load<u32>(unit) == iCrc; iUnit = U_DONE; continue; }
    if (iFatal == 0) nextUnit();
  }
  if (iFatal != 0) return abort(iFatal);
  return 0;
}

/** Ends the pass with an error: its text, and an empty NAT after an apply pass. */
function abort(code: i32): i32 {
  if (iApply) { natReset(); pinsReapply(); }
  iActive = false;
  checkedOk = false;
  describe(code);
  return code;
}

function describe(code: i32): void {
  if (code == IMAGE_E_TRUNCATED) {
    say("truncated: ");
    addNum(iSize);
    if (iTotal != 0) { add(" of "); addNum(iTotal); add(" bytes"); } else add(" bytes, not even a header");
  } else if (code == IMAGE_E_MAGIC) say("not a NAT state image (no MAPE-NAT header)");
  else if (code == IMAGE_E_VERSION) {
    say("format version "); addNum(iVersion); add(", this program reads version "); addNum(<u64>IMAGE_VERSION);
  } else if (code == IMAGE_E_LENGTH) {
    say("length: "); addNum(iSize); add(" bytes where the header says "); addNum(iTotal);
  } else if (code == IMAGE_E_CHECKSUM) say("checksum mismatch: the image is corrupt");
  else if (code == IMAGE_E_CORRUPT) {
    say(iLaterText == T_FIELD ? "corrupt: a bad header field" : "corrupt: a malformed record at byte ");
    if (iLaterText != T_FIELD) addNum(iLaterAt);
  } else if (code == IMAGE_E_BMR) say("made for another BMR (IPv4 address, PSID or MAP address differ)");
  else if (code == IMAGE_E_CAPACITY) {
    say("too large: "); addNum(iSess); add(" sessions, "); addNum(iMaps); add(" mappings; the table holds ");
    addNum(<u64>natSessionCapacity()); add(", "); addNum(<u64>natMappingCapacity());
  } else if (code == IMAGE_E_APPLY) { say("the NAT refused the record at byte "); addNum(iLaterAt); add(" (a duplicate)"); }
  else if (code == IMAGE_E_CHANGED) say("the image changed between the check and the apply pass");
}

/**
 * Ends the pass. Check pass: the number of sessions the image holds (≥ 0),
 * or its error (nothing changed). Apply pass: the number of sessions
 * restored, or an error after which the NAT is empty. Every error has a
 * one-line text (imageErrorText).
 */
export function imageImportEnd(): i32 {
  if (!iActive) { if (textLen == 0) say("import end without imageImportBegin"); return IMAGE_E_SEQUENCE; }
  if (iFatal != 0) return abort(iFatal);
  if (iUnit != U_DONE) return abort(IMAGE_E_TRUNCATED);
  if (!iCrcOk) return abort(IMAGE_E_CHECKSUM);
  if (iLater != 0) return abort(iLater);
  iActive = false;
  if (!iApply) {
    checkedOk = true;
    checkedSize = iSize;
    checkedCrc = iCrc;
    textLen = 0;
    return <i32>iSess;
  }
  if (iCrc != checkedCrc) { iActive = true; return abort(IMAGE_E_CHANGED); }
  checkedOk = false;
  natRestoreFinish();
  pinsReapply(); // static forwards and PCP mappings: the configuration's, not the image's
  textLen = 0;
  return <i32>iSess;
}
