// The batch loop and the data-path exports (docs/abi.md §2–§3).
//
// One call handles a vector of packets (VPP's shape): each input leaves
// with exactly one outcome — forwarded, held, or dropped for one named
// reason — and whatever the module makes on the way (ICMP errors,
// fragments, released fragments) comes out of spare slots in order.
import { ftpReset } from "./ftp";
import { HEADROOM, SLOT_SIZE, DEFAULT_SESSIONS, DEFAULT_SLOTS, CLOCK_MAX_STEP_MS } from "../config";
import { arenaReset, arenaCapacity } from "../arena";
import { settings, MODE_CE, MODE_BR, PORT_REUSE_ON, PORT_REUSE_AUTO } from "../settings";
import { domain, cePortSet, configured, configuredSettings, provisionApply, provisionHoldLive } from "../map/provision";
import {
  natInit, natReset, natSetPortSet, natClearPortSet, natSetTimeouts, natSetFiltering, natExpire,
  natBytesFor, natPortSetIs, natSetSessionLimits, natSetFairShare, natSetPortReuse,
} from "../nat/nat";
import {
  slotsInit, slotsBytes, slotsBegin, slotPtr, slotN, inLens, emit, outN, outputOffsetsPtr, outputLengthsPtr,
} from "./slots";
import { ceFromLan, ceFromWan } from "./ce";
import { flushLater, setNow, fragmentIdSeed, pktPtr, pktLen, HELD, TO_IPV6, TO_IPV4 } from "./stage";
import { brFromIPv4, brFromIPv6 } from "./br";
import { frag4Reset, frag4Expire, expiredBytes } from "./frag4";
import { pptpReset } from "../nat/pptp";
import { reasm6Reset, reasm6Expire } from "./reasm6";
import { pmtuReset } from "./pmtu";
import { pinsForget, pinsStart, pinsClear, pinsExpire } from "../nat/pins";
import { dnsInit, dnsBytes } from "../dns/proxy";
import {
  count, countN, countBatch, drop, countersReset, C_IN_IPV4, C_IN_IPV6, C_FWD_TO_IPV6, C_FWD_TO_IPV4,
  C_OUT_IPV6, C_OUT_IPV4, C_HELD,
  C_EXPIRED_FRAGMENTS, D_UNKNOWN_VERSION, D_NOT_CONFIGURED, D_BATCH_OVERFLOW, C_CLOCK_ADJUSTED,
} from "./counters";

export { counterCount, counterValues, counterName } from "./counters";

let ready = false;
let maxSessions = 0;
let kept = 0;

// ---- the module clock (docs/abi.md §2, "Time") ------------------------------
//
// The host passes its monotonic clock in every process() call; the module
// keeps its own time and advances it by the host's step, so one bad value
// cannot age every table at once:
//   - a value that is not a number of milliseconds (NaN, ±Infinity, negative,
//     above 2^53) does not move the clock;
//   - a step backward does not move it (the next step counts from the new
//     value);
//   - a step forward counts at most CLOCK_MAX_STEP_MS.
// Each such call counts once in clock-adjusted. A host that calls process
// (n = 0 is fine) at least every CLOCK_MAX_STEP_MS gets exact timeouts; a
// longer gap only makes state live longer, never shorter.
const MAX_HOST_MS: f64 = 9007199254740992; // 2^53
let clockSet = false;
let hostLast: f64 = 0;
let moduleMs: f64 = 0;

function clockStep(nowMs: f64): u64 {
  if (!(nowMs >= 0 && nowMs <= MAX_HOST_MS)) {
    count(C_CLOCK_ADJUSTED, 0);
  } else if (!clockSet) {
    clockSet = true;
    hostLast = nowMs;
    moduleMs = nowMs;
  } else {
    const d = nowMs - hostLast;
    hostLast = nowMs;
    if (d < 0) count(C_CLOCK_ADJUSTED, 0);
    else if (d > <f64>CLOCK_MAX_STEP_MS) { moduleMs += <f64>CLOCK_MAX_STEP_MS; count(C_CLOCK_ADJUSTED, 0); }
    else moduleMs += d;
  }
  return <u64>moduleMs;
}

/** The module's clock in ms (what the last process() call ran at). */
export function clockNow(): f64 { return Math.floor(moduleMs); }
/**
 * Moves the module clock to the host's `nowMs` as process(0, nowMs) would,
 * without running a batch (the services beside the data path, e.g. the
 * state image, take the host's clock too). Returns the module clock (ms).
 */
export function clockAdvance(nowMs: f64): f64 { return <f64>clockStep(nowMs); }
/** Largest forward step one process() call takes (ms). */
export function clockMaxStep(): i32 { return CLOCK_MAX_STEP_MS; }

/**
 * Carves the slots and the NAT tables from the arena. Call once at start
 * (and again only to change capacities: it forgets every session, the
 * counters and the clock, and the data path waits for start()).
 * Returns 0, or -1 when the capacities are out of range or do not fit the
 * fixed memory: then nothing changes (a running data path keeps running).
 */
export function init(slots: i32, sessions: i32, seed: u32): i32 {
  if (slots <= 0) slots = DEFAULT_SLOTS;
  if (sessions <= 0) sessions = DEFAULT_SESSIONS;
  const sb = slotsBytes(slots);
  const nb = natBytesFor(sessions, 0);
  if (sb == 0 || nb == 0 || sb + nb + dnsBytes() > arenaCapacity()) return -1;
  ready = false;
  arenaReset();
  if (!slotsInit(slots)) return -1; // unreachable: checked above
  if (!natInit(sessions, 0, <u64>seed | 1)) return -1;
  maxSessions = sessions;
  fragmentIdSeed(seed);
  if (!dnsInit(seed)) return -1; // unreachable: checked above
  frag4Reset();
  reasm6Reset();
  ftpReset();
  pptpReset(); // PPTP calls (nat/pptp.ts)
  countersReset();
  pinsForget();
  provisionHoldLive(false);
  clockSet = false;
  moduleMs = 0;
  kept = 0;
  ready = true;
  return 0;
}

/**
 * Applies the configuration installed by `configure` to the data path (all
 * of it at once: until now the data path ran on the previous one).
 * `keepSessions`: 1 keeps the NAT and fragment state when it is still valid
 * — a CE keeps it only when its IPv4 address or prefix and its port set are
 * unchanged (startKept() tells whether it did); 0 drops it. Returns 0, or
 * -1 (nothing changes) when init was not called, the configured mode is calc
 * or a CE has no BMR.
 */
export function start(keepSessions: i32): i32 {
  if (!ready) return -1;
  const mode = configuredSettings.mode;
  if (mode != MODE_CE && mode != MODE_BR) return -1;
  if (mode == MODE_CE && configured.bmr < 0) return -1;
  // A CE's sessions stay valid while its external address and port set do.
  let keep = keepSessions != 0 && settings.mode == mode;
  if (keep && mode == MODE_CE) {
    keep = domain.bmr >= 0 && domain.ceIPv4 == configured.ceIPv4 && domain.ceIPv4Len == configured.ceIPv4Len &&
      natPortSetIs(configured.ceA, configured.ceK, configured.cePsid);
  }
  provisionApply();
  provisionHoldLive(true);
  pmtuReset(settings.tunnelMtu);
  if (!keep) { natReset(); frag4Reset(); reasm6Reset(); ftpReset(); }
  if (!keep) { natReset(); frag4Reset(); reasm6Reset(); pptpReset(); }
  if (mode == MODE_CE) {
    natSetPortSet(cePortSet.offset, cePortSet.psidLength, cePortSet.psid, keep);
    natSetTimeouts(settings.udpTimeout, settings.dnsTimeout, settings.tcpEstablishedTimeout,
      settings.tcpTransitoryTimeout, settings.icmpTimeout);
    natSetFiltering(settings.filtering);
    natSetSessionLimits(settings.maxSessionsPerHost, settings.maxSessionsPerMapping);
    natSetFairShare(settings.fairShare != 0, settings.fairReserve);
    natSetPortReuse(settings.portReuse == PORT_REUSE_ON ||
      (settings.portReuse == PORT_REUSE_AUTO && cePortSet.count < 1024));
    // Inbound ports (static forwards, PCP / NAT-PMP) re-applied from the new configuration.
    pinsStart(domain.ceIPv4, cePortSet.offset, cePortSet.psidLength, cePortSet.psid, <u64>moduleMs);
  } else {
    pinsClear();
    natClearPortSet();
  }
  kept = keep ? 1 : 0;
  return 0;
}

/** 1 when the last start() kept the NAT and fragment state, 0 when it dropped it. */
export function startKept(): i32 { return kept; }

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

/**
 * Processes inputs 0..n-1; returns the number of outputs. Inputs past
 * batchMax are not read: they count in drop-batch-overflow (packets; their
 * bytes are unknown, 0). A negative n processes nothing and counts once
 * there (docs/abi.md §2).
 */
export function process(n: i32, nowMs: f64): i32 {
  const bmax = slotN >> 1;
  if (n > bmax) { countN(D_BATCH_OVERFLOW, n - bmax, 0); n = bmax; }
  if (n < 0) { count(D_BATCH_OVERFLOW, 0); n = 0; }
  slotsBegin(n);
  const now = clockStep(nowMs);
  setNow(now);
  const ce = settings.mode == MODE_CE;
  const live = ready && (ce || settings.mode == MODE_BR);
  if (live) {
    natExpire(now, 64);
    pinsExpire(now);
    const held = frag4Expire(now);
    if (held) countN(C_EXPIRED_FRAGMENTS, held, expiredBytes);
    reasm6Expire(now);
  }
  // The per-packet outcomes that every forwarded packet has (in-*,
  // forwarded-to-*, out-* of the packet that leaves) are summed in locals
  // and counted once per batch; drops and statistics count as they happen.
  const cap = SLOT_SIZE - HEADROOM;
  let in4: i32 = 0, in6: i32 = 0, to6: i32 = 0, to4: i32 = 0;
  let in4b: u64 = 0, in6b: u64 = 0, to6b: u64 = 0, to4b: u64 = 0, out6b: u64 = 0, out4b: u64 = 0;
  for (let i = 0; i < n; i++) {
    const p = slotPtr(i) + HEADROOM;
    let len = load<i32>(inLens + (<usize>i << 2));
    if (len < 0) len = 0;
    if (len > cap) len = cap;
    const v = len > 0 ? <i32>(load<u8>(p) >> 4) : 0;
    if (v == 4) { in4++; in4b += <u64>len; }
    else if (v == 6) { in6++; in6b += <u64>len; }
    else { drop(D_UNKNOWN_VERSION, len); continue; }
    if (!live) { drop(D_NOT_CONFIGURED, len); continue; }
    let r: i32;
    if (ce) r = v == 4 ? ceFromLan(p, len) : ceFromWan(p, len);
    else r = v == 4 ? brFromIPv4(p, len) : brFromIPv6(p, len);
    // The stage's next hop says where the packet went (stage.ts).
    if (r == TO_IPV6) {
      to6++;
      to6b += <u64>len;
      out6b += <u64>pktLen;
      emit(pktPtr, pktLen);
    } else if (r == TO_IPV4) {
      to4++;
      to4b += <u64>len;
      out4b += <u64>pktLen;
      emit(pktPtr, pktLen);
    } else if (r == HELD) {
      count(C_HELD, len);
    } else {
      drop(r, len);
    }
    flushLater();
  }
  countBatch(C_IN_IPV4, in4, in4b);
  countBatch(C_IN_IPV6, in6, in6b);
  countBatch(C_FWD_TO_IPV6, to6, to6b);
  countBatch(C_FWD_TO_IPV4, to4, to4b);
  countBatch(C_OUT_IPV6, to6, out6b);
  countBatch(C_OUT_IPV4, to4, out4b);
  return outN;
}
