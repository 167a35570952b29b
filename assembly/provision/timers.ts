// The HB46PP client's timers (v6mig-prov v1.0 §3.4, §3.6): how long to wait
// before the next attempt after each outcome. One implementation for both
// hosts: the Node host's state machine (host/provision/state.ts) and the
// OpenWrt fetcher (openwrt/files/usr/share/mape/hb46pp.sh, through the
// router program's `mape hb46pp delay`) both ask this.
//
//   outcome                                   wait (s)
//   0 OK, ttl given                           ttl, taken into [10, 604800]
//   0 OK, no ttl (ttl < 0)                    20–24 h
//   1 ABSENT   NXDOMAIN / NODATA / no record  1–3 h      (§3.6 c.2)
//   2 DNS_FAILED  any other DNS failure       1–10 min   (c.3)
//   3 NO_ANSWER   no HTTP answer              10–30 min  (f.2)
//   4 REFUSED  403/404, a bad answer, rules the module refuses: 10–30 min (h.2)
//
// `random` is the host's randomness, 0..65535 (a window's low end at 0,
// just below its high end at 65535). Anything else: -1.

export const OUTCOME_OK: i32 = 0;
export const OUTCOME_ABSENT: i32 = 1;
export const OUTCOME_DNS_FAILED: i32 = 2;
export const OUTCOME_NO_ANSWER: i32 = 3;
export const OUTCOME_REFUSED: i32 = 4;

/** §3.4: a ttl is at most 7 days. */
export const MAX_TTL_S: i32 = 604800;
/** A ttl below this is taken as this (a server must not make us fetch in a loop). */
export const MIN_TTL_S: i32 = 10;

const MINUTE: i32 = 60;
const HOUR: i32 = 3600;

function within(lo: i32, hi: i32, random: i32): i32 {
  return lo + <i32>((<i64>(hi - lo) * <i64>random) >> 16);
}

export function provisionDelaySeconds(outcome: i32, ttl: i32, random: i32): i32 {
  if (random < 0 || random > 0xffff) return -1;
  if (outcome == OUTCOME_OK) {
    if (ttl < 0) return within(20 * HOUR, 24 * HOUR, random);
    if (ttl > MAX_TTL_S) return MAX_TTL_S;
    return ttl < MIN_TTL_S ? MIN_TTL_S : ttl;
  }
  if (outcome == OUTCOME_ABSENT) return within(1 * HOUR, 3 * HOUR, random);
  if (outcome == OUTCOME_DNS_FAILED) return within(1 * MINUTE, 10 * MINUTE, random);
  if (outcome == OUTCOME_NO_ANSWER || outcome == OUTCOME_REFUSED) return within(10 * MINUTE, 30 * MINUTE, random);
  return -1;
}
