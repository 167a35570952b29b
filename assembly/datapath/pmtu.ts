// Path MTU toward tunnel endpoints (BR or peer CEs), lowered by ICMPv6
// Packet Too Big (RFC 7597 §8.3.1, RFC 2473 §7.1, RFC 8201). A handful of
// entries: a CE talks to one BR and a few mesh peers.
//
//   entry (32 bytes): | addr (16) | mtu i32 | pad | expires u64 |
//
// `pmtuFloor` is the smallest MTU in the table (or the configured one), so
// the per-packet test is one compare unless a packet is bigger than that.
import { PMTU_ENTRIES, PMTU_TIMEOUT_MS } from "../config";
import { ipv6AddrEqual, ipv6AddrCopy, IPV6_MIN_MTU } from "../wire/ipv6";

const TABLE: usize = memory.data(PMTU_ENTRIES * 32, 16);
let tunnelMtu: i32 = 1500;
export let pmtuFloor: i32 = 1500;

export function pmtuReset(mtu: i32): void {
  memory.fill(TABLE, 0, PMTU_ENTRIES * 32);
  tunnelMtu = mtu;
  pmtuFloor = mtu;
}

function refloor(now: u64): void {
  let f = tunnelMtu;
  for (let i = 0; i < PMTU_ENTRIES; i++) {
    const e = TABLE + <usize>(i << 5);
    const m = load<i32>(e, 16);
    if (m == 0) continue;
    if (load<u64>(e, 24) <= now) { store<i32>(e, 0, 16); continue; }
    if (m < f) f = m;
  }
  pmtuFloor = f;
}

/**
 * MTU of the path to the IPv6 address at `dst`. The floor is below the
 * configured MTU exactly when some entry is live (pmtuLower stores only
 * lower values and refloors), so without one this is two loads and a
 * compare, no scan.
 */
@inline export function pmtuFor(dst: usize, now: u64): i32 {
  return pmtuFloor == tunnelMtu ? tunnelMtu : pmtuScan(dst, now);
}

/** pmtuFor's scan of the table. */
function pmtuScan(dst: usize, now: u64): i32 {
  for (let i = 0; i < PMTU_ENTRIES; i++) {
    const e = TABLE + <usize>(i << 5);
    const m = load<i32>(e, 16);
    if (m != 0 && ipv6AddrEqual(e, dst)) {
      if (load<u64>(e, 24) > now) return m;
      store<i32>(e, 0, 16);
      refloor(now);
      return tunnelMtu;
    }
  }
  return tunnelMtu;
}

/** Lowers the MTU toward `dst` (never below 1280, never raises it). */
export function pmtuLower(dst: usize, mtu: i32, now: u64): void {
  if (mtu < IPV6_MIN_MTU) mtu = IPV6_MIN_MTU;
  if (mtu >= tunnelMtu) return;
  let slot = -1;
  let oldest: u64 = U64.MAX_VALUE;
  for (let i = 0; i < PMTU_ENTRIES; i++) {
    const e = TABLE + <usize>(i << 5);
    const m = load<i32>(e, 16);
    if (m != 0 && ipv6AddrEqual(e, dst)) { slot = i; break; }
    const exp = m == 0 ? 0 : load<u64>(e, 24);
    if (exp < oldest) { oldest = exp; slot = i; }
  }
  const e = TABLE + <usize>(slot << 5);
  const cur = load<i32>(e, 16);
  if (cur != 0 && ipv6AddrEqual(e, dst) && cur <= mtu) return;
  ipv6AddrCopy(e, dst);
  store<i32>(e, mtu, 16);
  store<u64>(e, now + <u64>PMTU_TIMEOUT_MS, 24);
  refloor(now);
}
