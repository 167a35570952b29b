// Shared set-up for the nat_*.spec.ts files (not a spec itself).
import { arenaReset } from "../../assembly/arena";
import { natInit, natSetPortSet, natSetFiltering, natSetTimeouts, natSetInboundRefresh,
  natSetPortPreservation, natSetEvictOnFull, natSetFairShare, natSetPortReuse,
  NAT_FILTER_APDF } from "../../assembly/nat/nat";

/** a.b.c.d as a host-order u32. */
export function ip(a: i32, b: i32, c: i32, d: i32): u32 {
  return (<u32>a << 24) | (<u32>b << 16) | (<u32>c << 8) | <u32>d;
}

/** Seconds to the NAT's millisecond clock. */
export function sec(s: i32): u64 { return <u64>s * 1000; }

/**
 * A fresh NAT: the arena is forgotten first (each spec owns the whole arena),
 * default timeouts, APDF, inbound refresh and port preservation on.
 */
export function freshNat(maxSessions: i32, maxMappings: i32, a: i32, k: i32, psid: i32): bool {
  arenaReset();
  natSetTimeouts(300, 30, 7440, 240, 60);
  natSetFiltering(NAT_FILTER_APDF);
  natSetInboundRefresh(true);
  natSetPortPreservation(true);
  natSetEvictOnFull(false);
  natSetFairShare(false, 0);
  natSetPortReuse(false);
  if (!natInit(maxSessions, maxMappings, 0x1234567890abcdef)) return false;
  return natSetPortSet(a, k, psid);
}
