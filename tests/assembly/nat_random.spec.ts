// Randomized consistency: thousands of outbound / inbound / look-up / expire
// operations against a reference model kept in fixed arrays. The model knows
// exact timeouts; the table may keep an expired session or mapping until it is
// reclaimed, so where that is allowed the check accepts it and the model
// follows. Mismatches are counted and asserted once (every expect allocates).
import {
  natOutbound, natInbound, natExpire, natFindSession, natFindMapping, natCounter, natSetFiltering,
  natSessionExtPort, natSessionIntAddr, natSessionIntPort, natSessionLastSeen, natSessionClass,
  natMappingIntAddr, natMappingIntPort, natTimeout,
  NAT_UDP, NAT_E_NO_PORT, NAT_E_FILTERED, NAT_E_NO_MAPPING, NAT_FILTER_EIF, NAT_FILTER_ADF, NAT_FILTER_APDF,
  NAT_C_ACTIVE_SESSIONS, NAT_C_ACTIVE_MAPPINGS,
} from "../../assembly/nat/nat";
import { PortSet, portSetInit, portSetIndex, portSetPort } from "../../assembly/map/portset";
import { ip, freshNat } from "./nat_helpers";

// Key space: 8 hosts × 8 internal ports = 64 internal endpoints (more than
// the 60 ports of the set, so exhaustion happens), × 4 remote addresses × 4
// remote ports (53 is the short DNS class; 5000 is only ever a source of
// unsolicited inbound packets).
const HOSTS = 8;
const IPORTS = 8;
const ENDPOINTS = HOSTS * IPORTS;
const RADDRS = 4;
const RPORTS = 4;
const OUT_RPORTS = 3;
const KEYS = ENDPOINTS * RADDRS * RPORTS;
const A = 4;
const K = 10;
const PSID = 0x155;

const set = new PortSet();
const mLast = new StaticArray<u64>(KEYS);     // last refresh of the session, ms
const mHas = new StaticArray<bool>(KEYS);     // the model holds this session
const mPort = new StaticArray<i32>(ENDPOINTS); // external port of the endpoint's mapping
let seed: u32 = 0x9e3779b9;
// How often each interesting branch ran (logged once per run, to show the
// test exercises them).
let nRefused = 0, nCreatedIn = 0, nFiltered = 0, nStaleFound = 0;

function rnd(n: i32): i32 {
  let x = seed;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  seed = x;
  return <i32>((<u64>x * <u64>n) >> 32);
}

@inline function hostAddr(e: i32): u32 { return ip(192, 168, 0, 10 + e / IPORTS); }
/** Half the internal ports are in the set (preservation, and collisions between hosts). */
function intPort(e: i32): i32 {
  const j = e % IPORTS;
  return j < 4 ? 1000 + j : portSetPort(set, j * 3);
}
@inline function remAddr(r: i32): u32 { return ip(203, 0, 113, 1 + r); }
function remPortOf(q: i32): i32 { return q == 0 ? 53 : q == 1 ? 80 : q == 2 ? 443 : 5000; }
@inline function key(e: i32, r: i32, q: i32): i32 { return (e * RADDRS + r) * RPORTS + q; }

function timeoutMs(q: i32): u64 { return <u64>(q == 0 ? natTimeout(3) : natTimeout(2)) * 1000; }
function live(k: i32, now: u64): bool {
  return mHas[k] && now - mLast[k] < timeoutMs(k % RPORTS);
}
function mappingLive(e: i32, now: u64): bool {
  for (let x = 0; x < RADDRS * RPORTS; x++) if (live(e * RADDRS * RPORTS + x, now)) return true;
  return false;
}
function liveMappings(now: u64): i32 {
  let n = 0;
  for (let e = 0; e < ENDPOINTS; e++) if (mappingLive(e, now)) n++;
  return n;
}
function liveSessions(now: u64): i32 {
  let n = 0;
  for (let k = 0; k < KEYS; k++) if (live(k, now)) n++;
  return n;
}
/** The model endpoint whose live mapping owns an external port, or -1. */
function ownerOf(port: i32, now: u64): i32 {
  for (let e = 0; e < ENDPOINTS; e++) if (mappingLive(e, now) && mPort[e] == port) return e;
  return -1;
}
/** Forget the dead sessions of an endpoint (its mapping is being made anew). */
function dropDead(e: i32, now: u64): void {
  for (let x = 0; x < RADDRS * RPORTS; x++) {
    const k = e * RADDRS * RPORTS + x;
    if (!live(k, now)) mHas[k] = false;
  }
}

function run(mode: i32, ops: i32): i32 {
  freshNat(4096, 256, A, K, PSID);
  portSetInit(set, A, K, PSID);
  natSetFiltering(mode);
  for (let k = 0; k < KEYS; k++) { mHas[k] = false; mLast[k] = 0; }
  let now: u64 = 0;
  let bad = 0;
  nRefused = 0; nCreatedIn = 0; nFiltered = 0; nStaleFound = 0;
  for (let op = 0; op < ops; op++) {
    const what = rnd(100);
    if (what < 45) {
      // Outbound packet.
      const e = rnd(ENDPOINTS), r = rnd(RADDRS), q = rnd(OUT_RPORTS);
      const k = key(e, r, q);
      const wasLive = mappingLive(e, now);
      const s = natOutbound(NAT_UDP, hostAddr(e), intPort(e), remAddr(r), remPortOf(q), 0, now);
      if (s == NAT_E_NO_PORT) {
        nRefused++;
        if (wasLive) { bad++; continue; }
        // Refusal is right only when every port is held; reclaim the stale and retry.
        natExpire(now, 1 << 30);
        const again = natOutbound(NAT_UDP, hostAddr(e), intPort(e), remAddr(r), remPortOf(q), 0, now);
        if (liveMappings(now) < 60) {
          if (again <= 0) { bad++; continue; }
          dropDead(e, now);
          mPort[e] = natSessionExtPort(again);
          mHas[k] = true; mLast[k] = now;
        } else if (again != NAT_E_NO_PORT) bad++;
        continue;
      }
      if (s <= 0) { bad++; continue; }
      const port = natSessionExtPort(s);
      if (portSetIndex(set, port) < 0) bad++;
      if (wasLive) {
        if (port != mPort[e]) bad++; // EIM
      } else {
        const o = ownerOf(port, now);
        if (o >= 0) bad++;            // no overloading
        dropDead(e, now);
        mPort[e] = port;
      }
      mHas[k] = true; mLast[k] = now;
    } else if (what < 70) {
      // Inbound packet to a random port of the set from a random remote.
      const port = portSetPort(set, rnd(set.count));
      const r = rnd(RADDRS);
      const q = rnd(RPORTS);
      const rp = remPortOf(q);
      const s = natInbound(NAT_UDP, port, remAddr(r), rp, 0, now);
      const o = ownerOf(port, now);
      if (o < 0) {
        if (s > 0) {
          // Allowed only as revival of a stale (not yet reclaimed) mapping in EIF mode.
          const m = natFindMapping(NAT_UDP, port);
          let e = -1;
          for (let x = 0; x < ENDPOINTS; x++) {
            if (hostAddr(x) == natMappingIntAddr(m) && intPort(x) == natMappingIntPort(m)) e = x;
          }
          if (mode != NAT_FILTER_EIF || e < 0 || mPort[e] != port) { bad++; continue; }
          dropDead(e, now);
          const k = key(e, r, q);
          mHas[k] = true; mLast[k] = now;
        } else if (s != NAT_E_NO_MAPPING && s != NAT_E_FILTERED) bad++;
        continue;
      }
      const k = key(o, r, q);
      let allowed = live(k, now) || mode == NAT_FILTER_EIF;
      if (mode == NAT_FILTER_ADF) {
        for (let x = 0; x < RPORTS; x++) if (live(key(o, r, x), now)) allowed = true;
      }
      if (!allowed) nFiltered++;
      else if (!live(k, now)) nCreatedIn++;
      if (allowed) {
        if (s <= 0 || natSessionIntAddr(s) != hostAddr(o) || natSessionIntPort(s) != intPort(o)) { bad++; continue; }
        mHas[k] = true; mLast[k] = now; // created, or refreshed (inbound refresh on)
      } else if (s != NAT_E_FILTERED) bad++;
    } else if (what < 85) {
      // Look-up without refresh.
      const e = rnd(ENDPOINTS), r = rnd(RADDRS), q = rnd(RPORTS);
      const k = key(e, r, q);
      const s = natFindSession(NAT_UDP, hostAddr(e), intPort(e), remAddr(r), remPortOf(q));
      if (live(k, now)) {
        if (s <= 0 || natSessionExtPort(s) != mPort[e]) bad++;
      } else if (s > 0) {
        // Only an expired, not yet reclaimed session may still be found.
        nStaleFound++;
        const to: u64 = <u64>natTimeout(natSessionClass(s)) * 1000;
        if (now - natSessionLastSeen(s) < to) bad++;
      }
    } else if (what < 95) {
      now += <u64>rnd(40000);
    } else {
      natExpire(now, rnd(6));
    }
    if ((op & 255) == 255) {
      natExpire(now, 1 << 30);
      if (natCounter(NAT_C_ACTIVE_SESSIONS) != <u64>liveSessions(now)) bad += 1000;
      if (natCounter(NAT_C_ACTIVE_MAPPINGS) != <u64>liveMappings(now)) bad += 1000;
    }
  }
  log<string>("refused " + nRefused.toString() + ", inbound-created " + nCreatedIn.toString() +
    ", filtered " + nFiltered.toString() + ", stale found " + nStaleFound.toString());
  return bad;
}

describe("NAT randomized consistency against a reference model", () => {
  it("APDF", () => { expect<i32>(run(NAT_FILTER_APDF, 20000)).toBe(0); });
  it("ADF", () => { expect<i32>(run(NAT_FILTER_ADF, 20000)).toBe(0); });
  it("EIF", () => { expect<i32>(run(NAT_FILTER_EIF, 20000)).toBe(0); });
});
