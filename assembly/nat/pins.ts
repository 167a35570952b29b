// Inbound ports of a CE: static forwards (configuration) and the mappings
// PCP / NAT-PMP clients ask for (pcp.ts). This file keeps the list of pins
// and the forward tables of the configuration; the NAT (nat.ts natPin /
// natUnpin) holds the mappings themselves. On a shared address only ports
// of our own set can be opened (RFC 7597 §8.1: the BR routes by port, a
// port outside the set reaches another CE), so both a forward and a client
// request are held to the set.
//
// Static forward, as the configuration carries it (OPTION_MAPE_LOCAL
// sub-option FORWARD = 28, repeatable, one per forward):
//
//    0      1          3                  7          9
//   +------+----------+------------------+----------+
//   |proto | ext port |  LAN IPv4 address| LAN port |   proto 6 (TCP) or 17 (UDP), big-endian
//   +------+----------+------------------+----------+
//
// Forward table (staging → configured → active, as the rest of the
// configuration: provision.ts parses into staging, commit copies, start()
// applies), FORWARD_MAX rows of 12 bytes:
//
//    0      1      2          4           8          10
//   +------+------+----------+-----------+----------+--------+
//   |proto | -    | ext port | int addr  | int port | offset |   offset: of the sub-option in
//   +------+------+----------+-----------+----------+--------+   the configuration (errors)
//
// Pin list (the live inbound ports), PIN_MAX rows of 40 bytes:
//
//    0      1      2          4           8          10     12               24
//   +------+------+----------+-----------+----------+------+----------------+
//   |proto | kind | ext port | int addr  | int port | -    | nonce (12, PCP)|
//   +------+------+----------+-----------+----------+------+----------------+
//   24                    32             36      40
//   +---------------------+--------------+-------+
//   | expires (ms; 0 never)| lifetime (s) | -     |
//   +---------------------+--------------+-------+
//
// A reload (start) re-applies the pins from the new configuration whether
// or not the NAT kept its sessions: static pins of the old configuration
// are unpinned, the new forwards pinned (over any dynamic mapping of the
// port), and PCP / NAT-PMP pins pinned again — unless the CE's address or
// port set changed, which drops them and restarts the epoch (RFC 6887 §8.5:
// clients then re-create their mappings).
import { natPin, natUnpin, natFindMapping, natMappingSessions, NAT_TCP, NAT_UDP } from "./nat";
import { PortSet, portSetInit, portSetIndex } from "../map/portset";

/** LOCAL sub-option code of one static forward (h-inbound's range 28–31). */
export const LOCAL_FORWARD: i32 = 28;
/** Bytes of its value. */
export const FORWARD_VALUE_BYTES: i32 = 9;
/** Static forwards a configuration may hold. */
export const FORWARD_MAX: i32 = 64;
/** Pins (static + PCP + NAT-PMP) the list holds. */
export const PIN_MAX: i32 = 256;

/** Kinds of pin. */
export const PIN_STATIC: i32 = 1;
export const PIN_PCP: i32 = 2;
export const PIN_NATPMP: i32 = 3;

const F_SIZE: usize = 12;
const F_PROTO: usize = 0;
const F_EXT_PORT: usize = 2;
const F_INT_ADDR: usize = 4;
const F_INT_PORT: usize = 8;
const F_OFFSET: usize = 10;

const P_SIZE: usize = 40;
const P_PROTO: usize = 0;
const P_KIND: usize = 1;
const P_EXT_PORT: usize = 2;
const P_INT_ADDR: usize = 4;
const P_INT_PORT: usize = 8;
const P_NONCE: usize = 12;
const P_EXPIRES: usize = 24;
const P_LIFETIME: usize = 32;

const fwdStaging: usize = memory.data(FORWARD_MAX * <i32>F_SIZE, 8);
const fwdConfigured: usize = memory.data(FORWARD_MAX * <i32>F_SIZE, 8);
const fwdActive: usize = memory.data(FORWARD_MAX * <i32>F_SIZE, 8);
let nStaging = 0;
let nConfigured = 0;
let nActive = 0;

const pins: usize = memory.data(PIN_MAX * <i32>P_SIZE, 8);
let pinCount = 0;
let nextExpiry: u64 = 0xffffffffffffffff;

// The CE's address and port set the pins were made for (epoch and reload).
let haveSet = false;
let setAddr: u32 = 0;
let setA = -1;
let setK = -1;
let setPsid = -1;
let epochStartMs: u64 = 0;
let epochStarted = false;
let epochPending = false; // start() ran before the clock's first reading: the next pinsExpire sets it

@inline function fw(base: usize, i: i32): usize { return base + <usize>i * F_SIZE; }
@inline function pin(i: i32): usize { return pins + <usize>i * P_SIZE; }
@inline function be16(p: usize): i32 { return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p, 1); }
@inline function be32(p: usize): u32 { return bswap<u32>(load<u32>(p)); }

// ---- the configuration's forward table -------------------------------------

/** Forgets the staged forwards (provision() starts a parse). */
export function forwardStageReset(): void { nStaging = 0; }

/**
 * Stages one FORWARD sub-option value (`len` bytes at p; `offset` of the
 * sub-option in the configuration, for errors). 0, or which check failed:
 * 1 length, 2 value (protocol not 6/17, a port 0), 3 too many, 4 a second
 * forward of the same external port and protocol, or of the same LAN
 * endpoint (one mapping per internal endpoint, RFC 4787 REQ-1).
 */
export function forwardStage(p: usize, len: i32, offset: i32): i32 {
  if (len != FORWARD_VALUE_BYTES) return 1;
  const proto = <i32>load<u8>(p);
  const ext = be16(p + 1);
  const addr = be32(p + 3);
  const port = be16(p + 7);
  if ((proto != NAT_TCP && proto != NAT_UDP) || ext == 0 || port == 0) return 2;
  if (nStaging >= FORWARD_MAX) return 3;
  for (let i = 0; i < nStaging; i++) {
    const r = fw(fwdStaging, i);
    if (<i32>load<u8>(r, F_PROTO) != proto) continue;
    if (<i32>load<u16>(r, F_EXT_PORT) == ext) return 4;
    if (load<u32>(r, F_INT_ADDR) == addr && <i32>load<u16>(r, F_INT_PORT) == port) return 4;
  }
  const r = fw(fwdStaging, nStaging++);
  store<u8>(r, <u8>proto, F_PROTO);
  store<u16>(r, <u16>ext, F_EXT_PORT);
  store<u32>(r, addr, F_INT_ADDR);
  store<u16>(r, <u16>port, F_INT_PORT);
  store<u16>(r, <u16>offset, F_OFFSET);
  return 0;
}

const checkSet = new PortSet();

/**
 * The first staged forward whose external port is not in the port set of
 * (a, k, psid), or -1. provision() refuses the configuration with it.
 */
export function forwardOutsideSet(a: i32, k: i32, psid: i32): i32 {
  portSetInit(checkSet, a, k, psid);
  for (let i = 0; i < nStaging; i++) {
    if (portSetIndex(checkSet, <i32>load<u16>(fw(fwdStaging, i), F_EXT_PORT)) < 0) return i;
  }
  return -1;
}

/** The port set forwardOutsideSet checked against (the error names its ranges). */
export function forwardCheckSet(): PortSet { return checkSet; }

/** Configuration offset / external port of staged forward i (for the error). */
export function forwardStagedOffset(i: i32): i32 { return <i32>load<u16>(fw(fwdStaging, i), F_OFFSET); }
export function forwardStagedPort(i: i32): i32 { return <i32>load<u16>(fw(fwdStaging, i), F_EXT_PORT); }

/** provision() commit: the staged forwards become the configured ones. */
export function forwardCommit(): void {
  memory.copy(fwdConfigured, fwdStaging, <usize>nStaging * F_SIZE);
  nConfigured = nStaging;
}

/** provisionApply(): the configured forwards become the active ones. */
export function forwardActivate(): void {
  memory.copy(fwdActive, fwdConfigured, <usize>nConfigured * F_SIZE);
  nActive = nConfigured;
}

/** Number of active static forwards. */
export function forwardCount(): i32 { return nActive; }

// ---- the pin list -------------------------------------------------------------

/** The pin of (proto, external port), or -1. */
export function pinFindExt(proto: i32, ext: i32): i32 {
  for (let i = 0; i < pinCount; i++) {
    const r = pin(i);
    if (<i32>load<u8>(r, P_PROTO) == proto && <i32>load<u16>(r, P_EXT_PORT) == ext) return i;
  }
  return -1;
}

/** The pin of (proto, LAN endpoint), or -1. */
export function pinFindInt(proto: i32, addr: u32, port: i32): i32 {
  for (let i = 0; i < pinCount; i++) {
    const r = pin(i);
    if (<i32>load<u8>(r, P_PROTO) == proto && load<u32>(r, P_INT_ADDR) == addr &&
        <i32>load<u16>(r, P_INT_PORT) == port) return i;
  }
  return -1;
}

/** Pins of one LAN address (PCP / NAT-PMP quota). */
export function pinCountOf(addr: u32): i32 {
  let n = 0;
  for (let i = 0; i < pinCount; i++) if (load<u32>(pin(i), P_INT_ADDR) == addr) n++;
  return n;
}

export function pinCountAll(): i32 { return pinCount; }
export function pinKind(i: i32): i32 { return <i32>load<u8>(pin(i), P_KIND); }
export function pinProto(i: i32): i32 { return <i32>load<u8>(pin(i), P_PROTO); }
export function pinExtPort(i: i32): i32 { return <i32>load<u16>(pin(i), P_EXT_PORT); }
export function pinIntAddr(i: i32): u32 { return load<u32>(pin(i), P_INT_ADDR); }
export function pinIntPort(i: i32): i32 { return <i32>load<u16>(pin(i), P_INT_PORT); }
export function pinNoncePtr(i: i32): usize { return pin(i) + P_NONCE; }
export function pinExpires(i: i32): u64 { return load<u64>(pin(i), P_EXPIRES); }

/** Seconds pin i has left at `now` (0 for a static pin: it does not expire). */
export function pinRemaining(i: i32, now: u64): u32 {
  const e = pinExpires(i);
  if (e == 0) return 0;
  return e > now ? <u32>((e - now + 999) / 1000) : 0;
}

/**
 * Pins (proto, addr:port) ↔ ext in the NAT and lists it; `lifetimeS` 0
 * never expires (static). The NAT result: > 0 listed, < 0 (nat.ts
 * NAT_E_*) nothing changed. A pin of this kind that already exists is
 * refreshed (same port).
 */
export function pinAdd(kind: i32, proto: i32, addr: u32, port: i32, ext: i32, lifetimeS: u32,
                       nonce: usize, now: u64): i32 {
  let i = pinFindInt(proto, addr, port);
  if (i < 0 && pinCount >= PIN_MAX) return -4; // NAT_E_FULL
  const m = natPin(proto, addr, port, ext, kind == PIN_STATIC);
  if (m < 0) return m;
  if (i < 0) i = pinCount++;
  const r = pin(i);
  store<u8>(r, <u8>proto, P_PROTO);
  store<u8>(r, <u8>kind, P_KIND);
  store<u16>(r, <u16>ext, P_EXT_PORT);
  store<u32>(r, addr, P_INT_ADDR);
  store<u16>(r, <u16>port, P_INT_PORT);
  if (nonce != 0) memory.copy(r + P_NONCE, nonce, 12);
  else memory.fill(r + P_NONCE, 0, 12);
  pinSetLifetime(i, lifetimeS, now);
  return m;
}

/** Sets the lifetime of pin i from `now` (0: never expires). */
export function pinSetLifetime(i: i32, lifetimeS: u32, now: u64): void {
  const r = pin(i);
  const e: u64 = lifetimeS == 0 ? 0 : now + <u64>lifetimeS * 1000;
  store<u64>(r, e, P_EXPIRES);
  store<u32>(r, lifetimeS, P_LIFETIME);
  if (e != 0 && e < nextExpiry) nextExpiry = e;
}

/**
 * Removes pin i from the list and unpins its mapping: with `drop` the
 * mapping goes at once with its sessions (a client's delete), else it
 * lives on while its sessions do (a lifetime's end: open connections
 * finish, no new remote gets in).
 */
export function pinRemove(i: i32, drop: bool): void {
  const r = pin(i);
  natUnpin(<i32>load<u8>(r, P_PROTO), <i32>load<u16>(r, P_EXT_PORT), drop);
  pinCount--;
  if (i != pinCount) memory.copy(r, pin(pinCount), P_SIZE);
}

/** The list forgets every pin (init: the NAT forgot them too). */
export function pinsForget(): void {
  pinCount = 0;
  nActive = 0;
  haveSet = false;
  epochStarted = false;
  epochPending = false;
  nextExpiry = 0xffffffffffffffff;
}

/**
 * Unpins every PCP / NAT-PMP pin whose lifetime ended by `now` (the data
 * path calls it once per batch; O(1) until the earliest lifetime ends).
 */
export function pinsExpire(now: u64): void {
  if (epochPending) { epochPending = false; epochStartMs = now; }
  if (now < nextExpiry) return;
  let next: u64 = 0xffffffffffffffff;
  for (let i = pinCount - 1; i >= 0; i--) {
    const e = pinExpires(i);
    if (e == 0) continue;
    if (e <= now) pinRemove(i, false);
    else if (e < next) next = e;
  }
  nextExpiry = next;
}

/** Seconds since the epoch started (RFC 6887 §8.5, RFC 6886 §3.6). */
export function pinsEpoch(now: u64): u32 {
  if (!epochStarted || epochPending || now < epochStartMs) return 0;
  return <u32>((now - epochStartMs) / 1000);
}

/**
 * start() of a CE, after the NAT has its port set: re-applies every pin for
 * the new configuration (file header). `addr`/a/k/psid: the CE's IPv4
 * address and port set. Returns the forwards the NAT refused (counted by
 * the caller; provision() already refused ports outside the set, so only a
 * full mapping table can).
 */
export function pinsStart(addr: u32, a: i32, k: i32, psid: i32, now: u64): i32 {
  const changed = !haveSet || addr != setAddr || a != setA || k != setK || psid != setPsid;
  haveSet = true;
  setAddr = addr; setA = a; setK = k; setPsid = psid;
  if (changed || !epochStarted) {
    epochStartMs = now;
    epochStarted = true;
    epochPending = now == 0; // no process() yet: the module clock has not been read
  }
  // Old static pins, and (new set) every dynamic one, go.
  for (let i = pinCount - 1; i >= 0; i--) {
    if (changed || pinKind(i) == PIN_STATIC) pinRemove(i, changed);
  }
  let refused = 0;
  for (let f = 0; f < nActive; f++) {
    const r = fw(fwdActive, f);
    const proto = <i32>load<u8>(r, F_PROTO);
    const ext = <i32>load<u16>(r, F_EXT_PORT);
    const ia = load<u32>(r, F_INT_ADDR);
    const ip = <i32>load<u16>(r, F_INT_PORT);
    // A forward outranks a client's mapping of its port or its LAN endpoint.
    let d = pinFindExt(proto, ext);
    if (d >= 0) pinRemove(d, true);
    d = pinFindInt(proto, ia, ip);
    if (d >= 0) pinRemove(d, true);
    if (pinAdd(PIN_STATIC, proto, ia, ip, ext, 0, 0, now) < 0) refused++;
  }
  // Client pins of the same set: pinned again (natReset may have dropped them).
  repin(false);
  return refused;
}

/**
 * Pins the mappings of the pins again (client pins only, or all with
 * `all`), after the NAT tables were emptied: by a start that dropped the
 * sessions, or by a state image import (image.ts), which restores the
 * mappings with their sessions and then calls pinsReapply. A pin whose
 * port or endpoint another mapping now holds is dropped from the list.
 */
function repin(all: bool): void {
  for (let i = pinCount - 1; i >= 0; i--) {
    const kind = pinKind(i);
    if (!all && kind == PIN_STATIC) continue;
    const r = pin(i);
    const m = natPin(<i32>load<u8>(r, P_PROTO), load<u32>(r, P_INT_ADDR), <i32>load<u16>(r, P_INT_PORT),
      <i32>load<u16>(r, P_EXT_PORT), kind == PIN_STATIC);
    if (m < 0) { pinCount--; if (i != pinCount) memory.copy(r, pin(pinCount), P_SIZE); }
  }
}

/** Every pin's mapping pinned again (after an image import emptied and refilled the NAT). */
export function pinsReapply(): void { repin(true); }

/** BR mode, or a CE without a set: no inbound ports. */
export function pinsClear(): void {
  for (let i = pinCount - 1; i >= 0; i--) pinRemove(i, true);
  haveSet = false;
}

/** Sessions of pin i's mapping now. */
export function pinSessions(i: i32): i32 {
  return natMappingSessions(natFindMapping(pinProto(i), pinExtPort(i)));
}
