// The batch loop and the data-path exports (docs/abi.md §2–§3).
//
// One call handles a vector of packets (VPP's shape): each input leaves
// with exactly one outcome — forwarded, held, or dropped for one named
// reason — and whatever the module makes on the way (ICMP errors,
// fragments, released fragments) comes out of spare slots in order.
import { HEADROOM, SLOT_SIZE, DEFAULT_SESSIONS } from "../config";
import { arenaReset } from "../arena";
import { settings, MODE_CE, MODE_BR } from "../settings";
import { domain, cePortSet } from "../map/provision";
import {
  natInit, natReset, natSetPortSet, natClearPortSet, natSetTimeouts, natSetFiltering, natExpire,
} from "../nat/nat";
import {
  slotsInit, slotsBegin, slotPtr, slotN, inLens, emit, outN, outputOffsetsPtr, outputLengthsPtr,
} from "./slots";
import { ceFromLan, ceFromWan } from "./ce";
import { flushLater, setNow, fragmentIdSeed, pktPtr, pktLen, HELD } from "./stage";
import { brFromIPv4, brFromIPv6 } from "./br";
import { frag4Reset, frag4Expire, expiredBytes } from "./frag4";
import { reasm6Reset, reasm6Expire } from "./reasm6";
import { pmtuReset } from "./pmtu";
import {
  count, countN, drop, countersReset, C_IN_IPV4, C_IN_IPV6, C_FWD_TO_IPV6, C_FWD_TO_IPV4, C_HELD,
  C_EXPIRED_FRAGMENTS, D_UNKNOWN_VERSION, D_NOT_CONFIGURED,
} from "./counters";

export { counterCount, counterValues, counterName } from "./counters";

let ready = false;
let maxSessions = 0;

/**
 * Carves the slots and the NAT tables from the arena. Call once at start
 * (and again only to change capacities: it forgets every session).
 * Returns 0, or -1 when the capacities do not fit the fixed memory.
 */
export function init(slots: i32, sessions: i32, seed: u32): i32 {
  ready = false;
  arenaReset();
  if (slots <= 0) slots = 256;
  if (sessions <= 0) sessions = DEFAULT_SESSIONS;
  if (!slotsInit(slots)) return -1;
  if (!natInit(sessions, 0, <u64>seed | 1)) return -1;
  maxSessions = sessions;
  fragmentIdSeed(seed);
  frag4Reset();
  reasm6Reset();
  countersReset();
  ready = true;
  return 0;
}

/**
 * Applies the configuration installed by `configure` to the data path.
 * `keepSessions`: 1 keeps the NAT state (a reload with the same BMR), 0
 * drops it. Returns 0, or -1 when init was not called or the mode is calc.
 */
export function start(keepSessions: i32): i32 {
  if (!ready) return -1;
  if (settings.mode != MODE_CE && settings.mode != MODE_BR) return -1;
  pmtuReset(settings.tunnelMtu);
  if (!keepSessions) { natReset(); frag4Reset(); reasm6Reset(); }
  if (settings.mode == MODE_CE) {
    if (domain.bmr < 0) return -1;
    natSetPortSet(cePortSet.offset, cePortSet.psidLength, cePortSet.psid);
    natSetTimeouts(settings.udpTimeout, settings.dnsTimeout, settings.tcpEstablishedTimeout,
      settings.tcpTransitoryTimeout, settings.icmpTimeout);
    natSetFiltering(settings.filtering);
  } else {
    natClearPortSet();
  }
  return 0;
}

export function slotCount(): i32 { return slotN; }
export function slotSize(): i32 { return SLOT_SIZE; }
export function headroom(): i32 { return HEADROOM; }
export function batchMax(): i32 { return slotN >> 1; }
export function inputPtr(i: i32): usize { return slotPtr(i) + HEADROOM; }
export function inputCapacity(): i32 { return SLOT_SIZE - HEADROOM; }
export function inputLengths(): usize { return inLens; }
export function outputOffsets(): usize { return outputOffsetsPtr(); }
export function outputLengths(): usize { return outputLengthsPtr(); }
export function sessionCapacity(): i32 { return maxSessions; }

/** Processes inputs 0..count-1; returns the number of outputs. */
export function process(n: i32, nowMs: f64): i32 {
  if (n > (slotN >> 1)) n = slotN >> 1;
  if (n < 0) n = 0;
  slotsBegin(n);
  const now = nowMs > 0 ? <u64>nowMs : 0;
  setNow(now);
  const ce = settings.mode == MODE_CE;
  const live = ready && (ce || settings.mode == MODE_BR);
  if (live) {
    natExpire(now, 64);
    const held = frag4Expire(now);
    if (held) countN(C_EXPIRED_FRAGMENTS, held, expiredBytes);
    reasm6Expire(now);
  }
  const cap = SLOT_SIZE - HEADROOM;
  for (let i = 0; i < n; i++) {
    const p = slotPtr(i) + HEADROOM;
    let len = load<i32>(inLens + (<usize>i << 2));
    if (len < 0) len = 0;
    if (len > cap) len = cap;
    const v = len > 0 ? <i32>(load<u8>(p) >> 4) : 0;
    if (v == 4) count(C_IN_IPV4, len);
    else if (v == 6) count(C_IN_IPV6, len);
    else { drop(D_UNKNOWN_VERSION, len); continue; }
    if (!live) { drop(D_NOT_CONFIGURED, len); continue; }
    let r: i32;
    if (ce) r = v == 4 ? ceFromLan(p, len) : ceFromWan(p, len);
    else r = v == 4 ? brFromIPv4(p, len) : brFromIPv6(p, len);
    if (r == 0) {
      count((load<u8>(pktPtr) >> 4) == 6 ? C_FWD_TO_IPV6 : C_FWD_TO_IPV4, len);
      emit(pktPtr, pktLen);
    } else if (r == HELD) {
      count(C_HELD, len);
    } else {
      drop(r, len);
    }
    flushLater();
  }
  return outN;
}
