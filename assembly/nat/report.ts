// The port budget of the CE's NAPT for `mape stats` (both hosts print what
// this writes): per protocol the set's ports in use and free, mappings and
// sessions; per LAN host its ports (mappings) per protocol, sessions and
// refusals; the busiest remote addresses; the last exhaustion events.
// Written into the module's text buffer (config/textbuf.ts) as JSON or as
// aligned text. Runs at the operator's request, never on the packet path:
// it walks the session table once (O(capacity)) with two small fixed
// tables (hosts, remotes) in static memory; past their size, further hosts
// or remotes are left out of the lists (the totals stay exact).
//
//   hostTab: HOSTS × (addr u32, sessions u32)     open addressing, addr 0 = empty
//   remTab:  REMOTES × (addr u32, sessions u32)
import {
  natSessionCapacity, natSessionProto, natSessionIntAddr, natSessionRemAddr, natFreePorts, natSetPorts,
  natHostPorts, natHostRefused, natClock, natExhaustCount, natExhaustAt, natExhaustProto, natExhaustHost,
  natExhaustRefusals, natCounter, NAT_TCP, NAT_UDP, NAT_ICMP, NAT_C_ACTIVE_MAPPINGS,
} from "./nat";
import { Out, newOut } from "../config/text";
import { textBufferPtr } from "../config/textbuf";
import { TEXT_BUFFER_SIZE } from "../config";

const HOSTS: i32 = 256;
const REMOTES: i32 = 1024;
const TOP: i32 = 8;
const hostTab = memory.data(HOSTS * 8, 8);
const remTab = memory.data(REMOTES * 8, 8);
const perProto = memory.data(3 * 4, 4); // sessions per protocol index
const out: Out = newOut(textBufferPtr(), TEXT_BUFFER_SIZE, memory.data(<i32>offsetof<Out>(), 8));

/** Adds one session of addr to an open-addressing table of n slots; false when it is full. */
function tally(tab: usize, n: i32, addr: u32): void {
  let i = <i32>((addr * 0x9E3779B1) >>> 22) & (n - 1);
  for (let k = 0; k < n; k++, i = (i + 1) & (n - 1)) {
    const e = tab + (<usize>i << 3);
    const a = load<u32>(e);
    if (a == addr) { store<u32>(e, load<u32>(e, 4) + 1, 4); return; }
    if (a == 0) { store<u32>(e, addr); store<u32>(e, 1, 4); return; }
  }
}

function ip(o: Out, a: u32): Out {
  return o.u32(a >>> 24).byte(46).u32((a >>> 16) & 255).byte(46).u32((a >>> 8) & 255).byte(46).u32(a & 255);
}

function protoName(p: i32): string { return p == NAT_TCP ? "tcp" : p == NAT_UDP ? "udp" : "icmp"; }
@inline function protoAt(pi: i32): i32 { return pi == 0 ? NAT_TCP : pi == 1 ? NAT_UDP : NAT_ICMP; }

/** Takes the busiest remaining entry of a table (its sessions zeroed after); 0 when none is left. */
function takeTop(tab: usize, n: i32): usize {
  let best: usize = 0;
  for (let i = 0; i < n; i++) {
    const e = tab + (<usize>i << 3);
    if (load<u32>(e) != 0 && load<u32>(e, 4) != 0 && (best == 0 || load<u32>(e, 4) > load<u32>(best, 4))) best = e;
  }
  return best;
}

function gather(): void {
  memory.fill(hostTab, 0, HOSTS * 8);
  memory.fill(remTab, 0, REMOTES * 8);
  memory.fill(perProto, 0, 12);
  const cap = natSessionCapacity();
  for (let s = 1; s <= cap; s++) {
    const p = natSessionProto(s);
    if (p == 0) continue;
    const pi = p == NAT_TCP ? 0 : p == NAT_UDP ? 1 : 2;
    store<i32>(perProto + (<usize>pi << 2), load<i32>(perProto + (<usize>pi << 2)) + 1);
    tally(hostTab, HOSTS, natSessionIntAddr(s));
    tally(remTab, REMOTES, natSessionRemAddr(s));
  }
}

/**
 * Writes the port budget into the text buffer: format 0 aligned text, 1
 * JSON (one object: protocols, hosts, destinations, exhaustion). Returns
 * its length in bytes. Ages are seconds before the NAT clock.
 */
export function portBudget(format: i32): i32 {
  gather();
  const o = out.reset();
  const json = format == 1;
  const now = natClock();
  if (json) o.str("{\"protocols\":{");
  else o.str("  port set     ports   in use     free  sessions\n");
  for (let pi = 0; pi < 3; pi++) {
    const p = protoAt(pi);
    const n = natSetPorts(p);
    const free = natFreePorts(p);
    const sess = load<i32>(perProto + (<usize>pi << 2));
    if (json) {
      if (pi) o.byte(44);
      o.byte(34).str(protoName(p)).str("\":{\"ports\":").i32(n).str(",\"inUse\":").i32(n - free)
        .str(",\"free\":").i32(free).str(",\"sessions\":").i32(sess).byte(125);
    } else {
      const st = o.len;
      o.str("  ").str(protoName(p));
      o.padTo(st, 14).i32(n);
      o.padTo(st, 23).i32(n - free);
      o.padTo(st, 32).i32(free);
      o.padTo(st, 42).i32(sess).byte(10);
    }
  }
  if (json) o.str("},\"mappings\":").u64(natCounter(NAT_C_ACTIVE_MAPPINGS)).str(",\"hosts\":[");
  else o.str("  LAN host          tcp  udp  icmp  sessions  refused\n");
  for (let k = 0; k < HOSTS; k++) {
    const e = takeTop(hostTab, HOSTS);
    if (e == 0) break;
    const a = load<u32>(e);
    const sess = load<u32>(e, 4);
    store<u32>(e, 0, 4);
    if (json) {
      if (k) o.byte(44);
      ip(o.str("{\"address\":\""), a).str("\",\"tcpPorts\":").i32(natHostPorts(a, NAT_TCP))
        .str(",\"udpPorts\":").i32(natHostPorts(a, NAT_UDP)).str(",\"icmpPorts\":").i32(natHostPorts(a, NAT_ICMP))
        .str(",\"sessions\":").u32(sess).str(",\"refused\":").i32(natHostRefused(a)).byte(125);
    } else {
      const st = o.len;
      ip(o.str("  "), a);
      o.padTo(st, 20).i32(natHostPorts(a, NAT_TCP));
      o.padTo(st, 25).i32(natHostPorts(a, NAT_UDP));
      o.padTo(st, 31).i32(natHostPorts(a, NAT_ICMP));
      o.padTo(st, 41).u32(sess);
      o.padTo(st, 50).i32(natHostRefused(a)).byte(10);
    }
  }
  if (json) o.str("],\"destinations\":[");
  else o.str("  busiest remote    sessions\n");
  for (let k = 0; k < TOP; k++) {
    const e = takeTop(remTab, REMOTES);
    if (e == 0) break;
    const a = load<u32>(e);
    const sess = load<u32>(e, 4);
    store<u32>(e, 0, 4);
    if (json) {
      if (k) o.byte(44);
      ip(o.str("{\"address\":\""), a).str("\",\"sessions\":").u32(sess).byte(125);
    } else {
      const st = o.len;
      ip(o.str("  "), a);
      o.padTo(st, 28).u32(sess).byte(10);
    }
  }
  const ev = min(natExhaustCount(), 16);
  if (json) o.str("],\"exhaustionEvents\":").i32(natExhaustCount()).str(",\"exhaustion\":[");
  else if (ev == 0) o.str("  the port set has not been found full\n");
  else o.str("  set full        ago (s)  first host        refused in its minute\n");
  for (let i = 0; i < ev; i++) {
    const at = natExhaustAt(i);
    const ago = now > at ? (now - at) / 1000 : 0;
    if (json) {
      if (i) o.byte(44);
      o.str("{\"protocol\":\"").str(protoName(natExhaustProto(i))).str("\",\"agoS\":").u64(ago);
      ip(o.str(",\"host\":\""), natExhaustHost(i)).str("\",\"refused\":").i32(natExhaustRefusals(i)).byte(125);
    } else {
      const st = o.len;
      o.str("  ").str(protoName(natExhaustProto(i)));
      o.padTo(st, 25).u64(ago);
      ip(o.padTo(st, 27), natExhaustHost(i));
      o.padTo(st, 45).i32(natExhaustRefusals(i)).byte(10);
    }
  }
  if (json) o.str("]}");
  return o.len;
}

// The hosts' log line ("port set full …") polls these once a second.
export { natExhaustCount, natExhaustProto, natExhaustHost } from "./nat";
