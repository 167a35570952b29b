// NAPT44 state of a MAP-E CE (RFC 7597 §8.1: the CE translates into its
// shared IPv4 address and its port set), after RFC 4787 (UDP), RFC 5382
// (TCP), RFC 5508 (ICMP query: the echo identifier is the "port") and
// RFC 6056 (port randomisation). No packet parsing: the data path passes
// parsed values and gets back a session handle (an index, > 0) or an error.
//
// Behaviour, and the failures of deployed CEs it avoids:
// - Endpoint-independent mapping (RFC 4787 REQ-1, RFC 5382 REQ-1, RFC 5508
//   REQ-2): a mapping (proto, internal addr, internal port) ↔ external port
//   is shared by every session of that internal endpoint.
// - The external port is drawn from the WHOLE port set by index
//   (portSetPort/portSetIndex), so every range of the set is used, not only
//   the first. The internal port is kept when it is in the set and free;
//   otherwise a random index (xorshift64*) starts a linear probe over a free
//   bitmap (RFC 6056 §3.3.1 "simple port randomization").
// - No port overloading (RFC 4787 REQ-3): an external port belongs to one
//   mapping per protocol — except TCP with port reuse, below. When the set
//   is exhausted the packet is refused (counted; the CE answers ICMP 3/13);
//   live sessions are never evicted unless natSetEvictOnFull or fair shares.
// - Port reuse, TCP only (natSetPortReuse; RFC 7857 §3 "port overlapping";
//   the CE turns it on for sets below 1024 ports): when the TCP set has no
//   free port (or only the fair-share reserve), a new internal endpoint's
//   mapping may take an external port other mappings already hold, as long
//   as no session of that port has the same remote (address, port). Then
//   (extPort, remAddr, remPort) — the key of the inbound index — is unique
//   across all mappings, so inbound demultiplexing stays exact; every later
//   session of a shared port checks the same (portFreeToward). What TCP
//   gives up (RFC 5382 REQ-1, EIM): it holds per remote only — an
//   endpoint's mapping keeps its one external port toward every remote, but
//   that port is not its alone, so an unsolicited inbound SYN (EIF) to a
//   shared port reaches the port's first holder, and under ADF the mapping
//   that contacted the sender's address. A shared port is freed when its
//   last holder goes. UDP and ICMP never share: REQ-1 of RFC 4787 and
//   RFC 5508 holds as before (one mapping per external port, every remote
//   reaches it), which STUN, games and VoIP depend on.
// - Filtering (RFC 4787 REQ-8): endpoint-independent, address-dependent or
//   address-and-port-dependent, chosen by natSetFiltering.
// - Timeouts per class, each class one list in insertion order; a head
//   refreshed since it was queued gets a second chance at the tail (so a
//   packet only writes its own record), and expiry looks only at list
//   heads: natExpire(now, budget) reclaims at most
//   `budget` sessions per call. Once the hand has gone round a list it
//   knows the earliest time any of its sessions can expire, and skips the
//   list in O(1) until then (expireClass), so the per-batch call costs
//   nothing while no session is due. A session that natOutbound/natInbound find
//   expired is reclaimed on the spot, and the ADF check ignores expired
//   sessions, so session timeouts are exact whatever the expiry cadence.
// - Refresh (RFC 4787 REQ-6): outbound packets always refresh; inbound
//   packets refresh too unless natSetInboundRefresh(false). Inbound refresh
//   is the default because servers that only push (keep-alives from outside)
//   would otherwise lose their sessions; it cannot be abused by strangers,
//   since only packets that passed filtering reach a session.
// - A mapping lives while any of its sessions is in the table; it is freed
//   (its port returned to the bitmap) when its last session is reclaimed.
//   Between the expiry of its last session and that reclaim (at most until
//   the next natExpire with enough budget) the mapping can still be reused:
//   by its own endpoint (harmless, same port) or, in EIF mode, by a new
//   inbound remote. An exhausted set (full table) first reclaims up to 16
//   (8) expired sessions before refusing, so the lag rarely causes one.
//
// Memory (all carved from the arena in natInit; nothing allocated later):
//
//   session record, 56 bytes, index 1..maxSessions (0 = none); the keys of
//   both look-ups and what a packet refreshes are in its first 36 bytes
//    0       4       8      10     12     14   15   16            24
//   +-------+-------+------+------+------+----+----+-------------+
//   |intAddr|remAddr|intPt |remPt |extPt |prot|tcp | last (ms)   |
//   +-------+-------+------+------+------+----+----+-------------+
//   24      28      32     34    35    36      40      44      48      52      56
//   +-------+-------+------+-----+-----+-------+-------+-------+-------+-------+
//   |nextOut|nextIn |spare |class|flags|mapping|lruPrev|lruNext|mapPrev|mapNext|
//   +-------+-------+------+-----+-----+-------+-------+-------+-------+-------+
//   mapPrev/mapNext: the mapping's sessions, a circular list in creation order.
//   nextOut/nextIn chain the two hash indexes (nextOut links the free list
//   of unused records). prot is the protocol index (0 TCP, 1 UDP, 2 ICMP).
//
//   mapping record, 40 bytes, index 1..maxMappings (0 = none)
//    0       4      6      8    9    10    12        16       20        24
//   +-------+------+------+----+----+-----+---------+--------+---------+
//   |intAddr|intPt |extPt |prot|flg | -   |sessions |nextInt |nextExt  |
//   +-------+------+------+----+----+-----+---------+--------+---------+
//   24       28       32         36      40
//   +--------+--------+----------+-------+
//   |hostPrev|hostNext|sessHead  |host   |   the host's mappings (circular, creation
//   +--------+--------+----------+-------+   order); sessHead: its oldest session;
//                                            host: its host record (no look-up per session)
//
//   host record, 32 bytes, index 1..min(maxMappings, HOST_MAX) (a host holds ≥ 1 mapping;
//   a new LAN host past HOST_MAX is refused as a full table)
//    0       4          8         12       16       20       24       28        32
//   +-------+----------+---------+--------+--------+--------+--------+---------+
//   |intAddr|sessions  |mapHead  |next    |ports 0 |ports 1 |ports 2 |refused  |
//   +-------+----------+---------+--------+--------+--------+--------+---------+
//   mapHead: the host's oldest mapping; next chains the host index (and the
//   free list); ports p: its mappings of protocol index p (fair shares);
//   refused: its new mappings refused for want of a port (mape stats)
//
// Session limits (natSetSessionLimits; docs/threat-model.md, State and
// exhaustion): a mapping holds at most `perMapping` sessions and a LAN host
// at most `perHost`, so one remote (ADF: every source port of a contacted
// remote opens a session) or one inside host fanning out cannot fill the
// table for everyone. A new session past a limit evicts the offender's
// oldest session that is not established TCP (looking at a bounded number
// from the oldest), else its oldest — of the mapping for the per-mapping
// limit, of the host's oldest mappings for the per-host limit — never
// another host's. O(1) per new session; nothing on the per-packet path.
//
// Fair shares (natSetFairShare; on in the CE by default, LOCAL FAIR_SHARE):
// a host may take any free port, but once the set of a protocol is full —
// or down to its last `reserve` ports — a host's new mapping is weighed
// against its share, set size ÷ hosts holding ports of that protocol (the
// newcomer counted). A host below its share takes from the reserve, or,
// with nothing free, the port of the oldest mapping of a host ABOVE its
// share is reclaimed with its sessions (reclaimFor: looking at a bounded
// number of list heads, transitory TCP first, then DNS and UDP or ICMP,
// established TCP last; mappings with more than RECLAIM_SESSIONS sessions
// or a shared port are passed over). A host at or above its share is
// refused (NAT_E_NO_PORT, counted in NAT_C_REFUSED_SHARE and in the host
// record). So a flooder that filled the set alone keeps it only until
// someone else needs a port; then it is cut back to its share, and it can
// never take the reserve from a host that has nothing. Bounded work per
// new mapping of a full set; nothing on the per-packet path.
//
//   hash indexes: u32 chain heads, a power of two of them
//     sessions: out = H(prot, intAddr, intPort, remAddr, remPort)
//               in  = H(prot, extPort, remAddr, remPort & inPortMask)
//     mappings: int = H(prot, intAddr, intPort), ext = H(prot, extPort)
//   In ADF mode inPortMask is 0, so every session of one mapping with one
//   remote address shares a chain and the "was this address contacted"
//   check walks one chain. Chains hold ≤ 1 entry per bucket on average; the
//   hash is keyed with a random key chosen at every reset (bucket choice is
//   not predictable from outside).
//
//   free-port bitmaps: 3 × 8 KiB, bit i of protocol p set ⇔ set index i free
//   class lists: 5 × (head u32, tail u32)
//
// Pinned mappings (inbound ports: static forwards, PCP / NAT-PMP; pins.ts
// keeps the list and calls natPin / natUnpin): a mapping with F_PINNED in
// its flags is made before any packet (natPin, with the external port the
// caller chose), lives with no session at all (its last session's reclaim
// does not free it), admits a new remote whatever the filtering mode (EIF
// for it alone: RFC 6887 §11.3 "endpoint-independent filtering" for
// explicit mappings), and is freed only by natUnpin or natReset. Its
// internal endpoint's outbound packets find it (EIM: same external port),
// hairpinned packets go through natInbound and so reach it too. Session
// eviction (limits, evict-on-full) takes sessions, never a mapping.
//
// Handles: a session or mapping index stays valid until the next natExpire,
// natReset/natSetPortSet, or a natOutbound/natInbound call (which may reclaim
// an expired entry). Accessors check the index, so a stale or bad handle
// reads zeros and writes nothing, but it never corrupts the tables.
import { arenaAlloc, arenaUsed, arenaRound } from "../arena";
import { PortSet, portSetInit, portSetIndex, portSetPort } from "../map/portset";
import { TCP_RST, TCP_TRANS, tcpInitialState, tcpMayOpenInbound, tcpNextState, tcpIsEstablished } from "./tcp";

// ---- public constants ----------------------------------------------------

/** IP protocol numbers the NAT handles (anything else is refused, NAT_E_ARG). */
export const NAT_ICMP: i32 = 1;
export const NAT_TCP: i32 = 6;
export const NAT_UDP: i32 = 17;

/** Filtering behaviour (RFC 4787 §5). */
export const NAT_FILTER_EIF: i32 = 0;
export const NAT_FILTER_ADF: i32 = 1;
export const NAT_FILTER_APDF: i32 = 2;

/** Errors (negative results of natOutbound / natInbound). */
export const NAT_E_ARG: i32 = -1;        // unknown protocol, port out of 0..65535
export const NAT_E_NOT_READY: i32 = -2;  // natInit or natSetPortSet not done
export const NAT_E_NO_PORT: i32 = -3;    // port set exhausted for this protocol
export const NAT_E_FULL: i32 = -4;       // session or mapping table full
export const NAT_E_NO_MAPPING: i32 = -5; // inbound: no mapping for the port
export const NAT_E_FILTERED: i32 = -6;   // inbound: mapping exists, filtering refuses
export const NAT_E_NOT_OURS: i32 = -7;   // natPin: the external port is not in the port set (or is 0)
export const NAT_E_TAKEN: i32 = -8;      // natPin: the external port or the internal endpoint has another mapping

/** Timeout classes (each has one idle timeout and one LRU list). */
export const NAT_CLASS_TCP_EST: i32 = 0;
export const NAT_CLASS_TCP_TRANS: i32 = 1;
export const NAT_CLASS_UDP: i32 = 2;
export const NAT_CLASS_UDP_DNS: i32 = 3;
export const NAT_CLASS_ICMP: i32 = 4;
const CLASSES: i32 = 5;

/** Counters (natCounter). */
export const NAT_C_ACTIVE_SESSIONS: i32 = 0;
export const NAT_C_ACTIVE_MAPPINGS: i32 = 1;
export const NAT_C_SESSIONS_CREATED: i32 = 2;
export const NAT_C_SESSIONS_EXPIRED: i32 = 3;
export const NAT_C_REFUSED_NO_PORT: i32 = 4;
export const NAT_C_REFUSED_FULL: i32 = 5;
export const NAT_C_MAPPINGS_CREATED: i32 = 6;
export const NAT_C_SESSIONS_EVICTED: i32 = 7;
/** Sessions evicted because their LAN host had natSetSessionLimits' per-host number. */
export const NAT_C_EVICTED_HOST_LIMIT: i32 = 8;
/** Sessions evicted because their mapping had natSetSessionLimits' per-mapping number. */
export const NAT_C_EVICTED_MAPPING_LIMIT: i32 = 9;
/** New mappings refused: the port set was full and the host held its fair share (natSetFairShare). */
export const NAT_C_REFUSED_SHARE: i32 = 10;
/** Sessions reclaimed from hosts above their fair share so a host below it got a port. */
export const NAT_C_RECLAIMED_SHARE: i32 = 11;
/** TCP mappings given an external port another mapping holds (port overlapping, natSetPortReuse). */
export const NAT_C_PORT_REUSED: i32 = 12;
const COUNTERS: i32 = 13;

/** Session flag: created by an inbound packet (EIF/ADF). */
export const NAT_SF_INBOUND: i32 = 2;
/**
 * Session flag: a placeholder for an expected inbound connection
 * (natExpect: an ALG's data connection); remote port 0 stands for any.
 */
export const NAT_SF_EXPECT: i32 = 4;

// ---- layout --------------------------------------------------------------

const S_SIZE: usize = 56;
const S_INT_ADDR: usize = 0;
const S_REM_ADDR: usize = 4;
const S_INT_PORT: usize = 8;
const S_REM_PORT: usize = 10;
const S_EXT_PORT: usize = 12;
const S_PROTO: usize = 14;
const S_TCP: usize = 15;
const S_LAST: usize = 16;
const S_NEXT_OUT: usize = 24;
const S_NEXT_IN: usize = 28;
const S_SPARE: usize = 32;
const S_CLASS: usize = 34;
const S_FLAGS: usize = 35;
const S_MAPPING: usize = 36;
const S_PREV_LRU: usize = 40;
const S_NEXT_LRU: usize = 44;
const S_MAP_PREV: usize = 48;
const S_MAP_NEXT: usize = 52;
// The outbound key as two words: the u64 at 0 is (remAddr << 32 | intAddr); the u64
// at 8 is intPort | remPort << 16 | extPort << 32 | proto << 48 | tcp << 56.
const OUT_KEY_MASK: u64 = 0x00ff_0000_ffff_ffff;  // intPort, remPort, proto
const ADDR_KEY_MASK: u64 = 0x00ff_ffff_0000_0000; // extPort, proto (ADF: any remote port)

const M_SIZE: usize = 40;
const M_INT_ADDR: usize = 0;
const M_INT_PORT: usize = 4;
const M_EXT_PORT: usize = 6;
const M_PROTO: usize = 8;
const M_FLAGS: usize = 9;
const M_SESSIONS: usize = 12;
const M_NEXT_INT: usize = 16;
const M_NEXT_EXT: usize = 20;
const M_HOST_PREV: usize = 24;
const M_HOST_NEXT: usize = 28;
const M_SESS_HEAD: usize = 32;
const M_HOST: usize = 36;

const H_SIZE: usize = 32;
const H_ADDR: usize = 0;
const H_SESSIONS: usize = 4;
const H_MAP_HEAD: usize = 8;
const H_NEXT: usize = 12;
const H_PORTS: usize = 16;   // u32 per protocol index
const H_REFUSED: usize = 28;

/** Most LAN hosts the NAT tracks (a /20 of them): their records are 32 bytes. */
const HOST_MAX: i32 = 4096;
/** Ports of the set looked at for one to share (port reuse). */
const REUSE_LOOK: i32 = 64;
/** List heads looked at per class when reclaiming a port for a host below its share. */
const RECLAIM_LOOK: i32 = 32;
/** A mapping with more sessions than this is not reclaimed (bounded work). */
const RECLAIM_SESSIONS: u32 = 8;

/** Sessions looked at, from the oldest, for one that is not established TCP. */
const EVICT_LOOK: i32 = 8;

const F_USED: u8 = 1;
/** Mapping flag: pinned by natPin (no idle expiry, EIF, never evicted, never lent; see the file header). */
const F_PINNED: u8 = 2;
/** Mapping flag: its external port is held by more than one mapping (port reuse, TCP). */
const F_PORT_SHARED: u8 = 4;

/** Bytes of one protocol's free-port bitmap (65536 bits, any port set fits). */
const BITMAP_BYTES: usize = 8192;
const BITMAP_WORDS: i32 = 1024;

/** Largest table the API accepts (beyond this the arena cannot hold it anyway). */
const MAX_CAPACITY: i32 = 1 << 22;

// ---- state ---------------------------------------------------------------

let ready = false;
let sessBase: usize = 0;     // record 0 unused
let sessCap: u32 = 0;
let sessTop: u32 = 0;        // highest index ever handed out
let sessFree: u32 = 0;       // free list through S_NEXT_OUT
let outHeads: usize = 0;
let inHeads: usize = 0;
let sessMask: u32 = 0;

let mapBase: usize = 0;
let mapCap: u32 = 0;
let mapTop: u32 = 0;
let mapFree: u32 = 0;        // free list through M_NEXT_INT
let intHeads: usize = 0;
let extHeads: usize = 0;
let mapMask: u32 = 0;

let hostBase: usize = 0;     // record 0 unused; capacity hostCap
let hostCap: u32 = 0;
let hostTop: u32 = 0;
let hostFree: u32 = 0;       // free list through H_NEXT
let hostHeads: usize = 0;
let hostMask: u32 = 0;
let perHostMax: u32 = 0;     // 0 = no limit
let perMappingMax: u32 = 0;
let portReuse = false;       // natSetPortReuse (TCP)
let fairShare = false;       // natSetFairShare
let fairReserve: i32 = 0;
// Exhaustion events (mape stats): a ring of EVENTS records, one per
// protocol and minute the set was found full (a refusal or a reclaim):
//   | at u64 (ms) | refusals u32 | host u32 (the first host refused) | proto index u32 | pad |
const EVENTS: i32 = 16;
const EV_SIZE: usize = 24;
const events = memory.data(EVENTS * 24, 8);
let eventCount: i32 = 0;     // events ever (the host logs when it grows)
const portHosts = memory.data(12, 4);   // i32 per protocol index: hosts with ≥ 1 mapping of it
const setSize = memory.data(12, 4);     // i32 per protocol index: usable ports of the set

let bitmaps: usize = 0;      // 3 × BITMAP_BYTES
let lru: usize = 0;          // CLASSES × (head u32, tail u32)
let counters: usize = 0;     // COUNTERS × u64
let arenaBytes: usize = 0;   // bytes natInit carved

const ports = new PortSet(); // the CE's port set (start-up allocation)
let portsReady = false;
const freeCount = memory.data(12, 4);   // i32 per protocol index

let rng: u64 = 0x9e3779b97f4a7c15;
let hashKey0: u64 = 0;
let hashKey1: u64 = 0;

let clock: u64 = 0;          // monotonic: the largest `now` seen
let expireCursor: i32 = 0;   // class natExpire looks at first
// The expiry hand's state per class (expireClass): `due` is a time before
// which no session of the class can have expired (so the hand skips it in
// O(1)), `roundFirst` the first session the current round requeued (0: no
// round), `roundMin` the earliest last-refresh time seen in the round.
const hand = memory.data(CLASSES * 24, 8);   // per class: due u64 | roundMin u64 | roundFirst u32 | pad
@inline function handDue(c: i32): u64 { return load<u64>(hand + <usize>c * 24); }
@inline function handFirst(c: i32): u32 { return load<u32>(hand + <usize>c * 24, 16); }
let filterMode: i32 = NAT_FILTER_APDF;
let inPortMask: u32 = 0xffff;
let inboundRefresh = true;
let preservePorts = true;
let evictOnFull = false;

/** Idle timeouts in ms per class; defaults per RFC 5382 REQ-5, RFC 4787 REQ-5, RFC 5508 REQ-1. */
const timeouts = memory.data<u64>([7440000, 240000, 300000, 30000, 60000], 8);

// ---- small helpers ---------------------------------------------------------

@inline function protoIndex(proto: i32): i32 {
  return proto == NAT_TCP ? 0 : proto == NAT_UDP ? 1 : proto == NAT_ICMP ? 2 : -1;
}
@inline function protoNumber(pi: i32): i32 {
  return pi == 0 ? NAT_TCP : pi == 1 ? NAT_UDP : NAT_ICMP;
}
@inline function sp(s: u32): usize { return sessBase + <usize>s * S_SIZE; }
@inline function mp(m: u32): usize { return mapBase + <usize>m * M_SIZE; }
@inline function hp(h: u32): usize { return hostBase + <usize>h * H_SIZE; }
@inline function timeoutOf(c: i32): u64 { return load<u64>(timeouts + (<usize>c << 3)); }
@inline function count(id: i32): void {
  const p = counters + (<usize>id << 3);
  store<u64>(p, load<u64>(p) + 1);
}
@inline function lruHead(c: i32): u32 { return load<u32>(lru + (<usize>c << 3)); }
@inline function lruTail(c: i32): u32 { return load<u32>(lru + (<usize>c << 3), 4); }

/** xorshift64* (Vigna): cheap, good enough to make port choice unpredictable on the wire. */
function random32(): u32 {
  let x = rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng = x;
  return <u32>((x * 0x2545f4914f6cdd1d) >> 32);
}

/** Keyed mix of two 64-bit words to a 32-bit bucket hash (multiply / xor-shift). */
@inline function mix(a: u64, b: u64): u32 {
  let h = (a ^ hashKey0) * 0x9e3779b97f4a7c15 + (b ^ hashKey1);
  h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9;
  return <u32>(h >> 32);
}
@inline function hashOut(pi: u32, intAddr: u32, intPort: u32, remAddr: u32, remPort: u32): u32 {
  return mix((<u64>intAddr << 32) | remAddr, <u64>((intPort << 16) | remPort) << 2 | pi);
}
@inline function hashIn(pi: u32, extPort: u32, remAddr: u32, remPort: u32): u32 {
  return mix(<u64>remAddr, <u64>((extPort << 16) | (remPort & inPortMask)) << 2 | pi | (<u64>1 << 40));
}
@inline function hashInt(pi: u32, intAddr: u32, intPort: u32): u32 {
  return mix(<u64>intAddr, <u64>intPort << 2 | pi | (<u64>2 << 40));
}
@inline function hashExt(pi: u32, extPort: u32): u32 {
  return mix(0, <u64>extPort << 2 | pi | (<u64>3 << 40));
}
@inline function hashHost(intAddr: u32): u32 {
  return mix(<u64>intAddr, <u64>4 << 40);
}

// ---- circular doubly linked lists (head = oldest; append = before head) ----

/** Appends record x to the list whose head is stored at `headAt`; prev/next at offsets po/no of base+x*size. */
@inline function ringAppend(headAt: usize, x: u32, base: usize, size: usize, po: usize, no: usize): void {
  const xp = base + <usize>x * size;
  const head = load<u32>(headAt);
  if (head == 0) {
    store<u32>(xp + po, x);
    store<u32>(xp + no, x);
    store<u32>(headAt, x);
    return;
  }
  const hpp = base + <usize>head * size;
  const tail = load<u32>(hpp + po);
  store<u32>(xp + po, tail);
  store<u32>(xp + no, head);
  store<u32>(base + <usize>tail * size + no, x);
  store<u32>(hpp + po, x);
}

@inline function ringUnlink(headAt: usize, x: u32, base: usize, size: usize, po: usize, no: usize): void {
  const xp = base + <usize>x * size;
  const next = load<u32>(xp + no);
  if (next == x) { store<u32>(headAt, 0); return; }
  const prev = load<u32>(xp + po);
  store<u32>(base + <usize>prev * size + no, next);
  store<u32>(base + <usize>next * size + po, prev);
  if (load<u32>(headAt) == x) store<u32>(headAt, next);
}

// ---- hosts (LAN addresses with at least one mapping) ----------------------

function hostFind(intAddr: u32): u32 {
  let h = load<u32>(hostHeads + (<usize>(hashHost(intAddr) & hostMask) << 2));
  while (h) {
    if (load<u32>(hp(h), H_ADDR) == intAddr) return h;
    h = load<u32>(hp(h), H_NEXT);
  }
  return 0;
}

/** May a new mapping be made (a free mapping record, and a host record: `found`, hostFind's answer, or a free one)? */
@inline function mappingRoom(found: u32): bool {
  return (mapFree != 0 || mapTop < mapCap) && (found != 0 || hostFree != 0 || hostTop < hostCap);
}

/** The host of intAddr: `found` (hostFind's answer) or, when 0, a new one (the caller checked there is room). */
function hostGet(intAddr: u32, found: u32): u32 {
  if (found) return found;
  let h = hostFree;
  if (h) hostFree = load<u32>(hp(h), H_NEXT);
  else h = ++hostTop;
  const p = hp(h);
  const head = hostHeads + (<usize>(hashHost(intAddr) & hostMask) << 2);
  // Four words: address, no sessions | no mappings, chain next | no ports, no ports | nothing refused.
  store<u64>(p, <u64>intAddr, H_ADDR);
  store<u64>(p, <u64>load<u32>(head) << 32, H_MAP_HEAD);
  store<u64>(p, 0, H_PORTS);
  store<u64>(p, 0, H_PORTS + 8);
  store<u32>(head, h);
  return h;
}

function hostRelease(h: u32): void {
  const intAddr = load<u32>(hp(h), H_ADDR);
  let link = hostHeads + (<usize>(hashHost(intAddr) & hostMask) << 2);
  for (let x = load<u32>(link); x; x = load<u32>(link)) {
    if (x == h) { store<u32>(link, load<u32>(hp(h), H_NEXT)); break; }
    link = hp(x) + H_NEXT;
  }
  store<u32>(hp(h), hostFree, H_NEXT);
  hostFree = h;
}

@inline function hostPortsOf(h: u32, pi: i32): u32 { return load<u32>(hp(h) + H_PORTS + (<usize>pi << 2)); }
@inline function portHostsOf(pi: i32): i32 { return load<i32>(portHosts + (<usize>pi << 2)); }

/** Adds d (±1) to host h's mappings of protocol pi, keeping the count of hosts that hold any. */
function hostPortsAdd(h: u32, pi: i32, d: i32): void {
  const at = hp(h) + H_PORTS + (<usize>pi << 2);
  const was = load<u32>(at);
  const now = <u32>(<i32>was + d);
  store<u32>(at, now);
  const ph = portHosts + (<usize>pi << 2);
  if (was == 0 && now != 0) store<i32>(ph, load<i32>(ph) + 1);
  else if (was != 0 && now == 0) store<i32>(ph, load<i32>(ph) - 1);
}

/** The fair share of protocol pi for a host holding `mine` of its ports: set size ÷ hosts holding ports (≥ 1). */
function shareOf(pi: i32, mine: u32): u32 {
  const hosts = portHostsOf(pi) + (mine == 0 ? 1 : 0);
  const n = load<i32>(setSize + (<usize>pi << 2));
  const share = hosts > 0 ? n / hosts : n;
  return share > 0 ? <u32>share : 1;
}

/**
 * Frees the port of the oldest mapping of protocol pi held by a host above
 * `share` (not host `me`), with its sessions: looks at RECLAIM_LOOK heads
 * of each class list, in the order transitory TCP, established TCP (TCP);
 * DNS, UDP (UDP); ICMP. True when a port was freed.
 */
function reclaimFor(pi: i32, share: u32, me: u32): bool {
  const first = pi == 0 ? NAT_CLASS_TCP_TRANS : pi == 1 ? NAT_CLASS_UDP_DNS : NAT_CLASS_ICMP;
  const second = pi == 0 ? NAT_CLASS_TCP_EST : pi == 1 ? NAT_CLASS_UDP : -1;
  for (let round = 0; round < 2; round++) {
    const c = round == 0 ? first : second;
    if (c < 0) break;
    let s = lruHead(c);
    for (let i = 0; i < RECLAIM_LOOK && s != 0; i++, s = load<u32>(sp(s), S_NEXT_LRU)) {
      const m = load<u32>(sp(s), S_MAPPING);
      const mpp = mp(m);
      const h = load<u32>(mpp, M_HOST);
      if (h == me || h == 0 || hostPortsOf(h, pi) <= share) continue;
      const n = load<u32>(mpp, M_SESSIONS);
      // A pinned mapping (forward, PCP) keeps its port: freeing its sessions frees nothing.
      if (n > RECLAIM_SESSIONS || (load<u8>(mpp, M_FLAGS) & (F_PORT_SHARED | F_PINNED)) != 0) continue;
      // The last sessionFree frees the mapping, and its port with it.
      for (let k: u32 = 0; k < n; k++) {
        sessionFree(load<u32>(mpp, M_SESS_HEAD));
        count(NAT_C_RECLAIMED_SHARE);
      }
      return true;
    }
  }
  return false;
}

/**
 * Fair shares, before a new mapping of protocol pi for host intAddr: true
 * when mappingNew may take a port (one is free and the host may have it,
 * or one was reclaimed for it). False: refused, counted (the host's record,
 * NAT_C_REFUSED_NO_PORT, and NAT_C_REFUSED_SHARE when at its share).
 */
/** Notes that the set of pi was found full for intAddr at now: a new event unless one of pi is under a minute old. */
function exhaustNote(pi: i32, intAddr: u32, now: u64, refused: bool): void {
  for (let k = 0; k < min(eventCount, EVENTS); k++) {
    const e = events + <usize>((eventCount - 1 - k) % EVENTS) * EV_SIZE;
    if (load<u32>(e, 16) != <u32>pi) continue;
    if (now - load<u64>(e) < 60000) {
      if (refused) store<u32>(e, load<u32>(e, 8) + 1, 8);
      return;
    }
    break;
  }
  const e = events + <usize>(eventCount % EVENTS) * EV_SIZE;
  store<u64>(e, now);
  store<u32>(e, refused ? 1 : 0, 8);
  store<u32>(e, intAddr, 12);
  store<u32>(e, <u32>pi, 16);
  eventCount++;
}

function shareAdmits(pi: i32, intAddr: u32, now: u64): bool {
  const free = freeCountOf(pi);
  if (free > fairReserve) return true;
  const h = hostFind(intAddr);
  const mine = h ? hostPortsOf(h, pi) : 0;
  const share = shareOf(pi, mine);
  if (mine < share) {
    if (free > 0) return true; // the reserve is for hosts below their share
    if (reclaimFor(pi, share, h)) { exhaustNote(pi, intAddr, now, false); return true; }
  } else {
    count(NAT_C_REFUSED_SHARE);
  }
  if (h) store<u32>(hp(h), load<u32>(hp(h), H_REFUSED) + 1, H_REFUSED);
  count(NAT_C_REFUSED_NO_PORT);
  return false;
}

/** A session of mapping m to evict: the oldest not established TCP among the first EVICT_LOOK, else the oldest. */
function mappingVictim(m: u32): u32 {
  const head = load<u32>(mp(m), M_SESS_HEAD);
  let s = head;
  for (let i = 0; i < EVICT_LOOK && s != 0; i++) {
    if (<i32>load<u8>(sp(s), S_CLASS) != NAT_CLASS_TCP_EST) return s;
    s = load<u32>(sp(s), S_MAP_NEXT);
    if (s == head) break;
  }
  return head;
}

/** A session of host h to evict: from its oldest mappings, as mappingVictim; else its oldest mapping's oldest. */
function hostVictim(h: u32): u32 {
  const head = load<u32>(hp(h), H_MAP_HEAD);
  let m = head;
  let fallback: u32 = 0;
  for (let i = 0; i < EVICT_LOOK && m != 0; i++) {
    const s = load<u32>(mp(m), M_SESS_HEAD);
    if (s != 0) {
      if (fallback == 0) fallback = s;
      const v = mappingVictim(m);
      if (<i32>load<u8>(sp(v), S_CLASS) != NAT_CLASS_TCP_EST) return v;
    }
    m = load<u32>(mp(m), M_HOST_NEXT);
    if (m == head) break;
  }
  return fallback;
}

/**
 * Before a new session of mapping m (host h): evicts what the session
 * limits require, from m and from h only. m is pinned meanwhile, so an
 * eviction never frees the mapping the new session goes into.
 */
function makeRoom(m: u32, h: u32): void {
  const mpp = mp(m);
  store<u32>(mpp, load<u32>(mpp, M_SESSIONS) + 1, M_SESSIONS); // pin
  if (perMappingMax != 0 && load<u32>(mpp, M_SESSIONS) - 1 >= perMappingMax) {
    const v = mappingVictim(m);
    if (v) { sessionFree(v); count(NAT_C_EVICTED_MAPPING_LIMIT); }
  }
  if (perHostMax != 0 && load<u32>(hp(h), H_SESSIONS) >= perHostMax) {
    const v = hostVictim(h);
    if (v) { sessionFree(v); count(NAT_C_EVICTED_HOST_LIMIT); }
  }
  store<u32>(mpp, load<u32>(mpp, M_SESSIONS) - 1, M_SESSIONS); // unpin
}

/**
 * makeRoom when a limit is reached, else nothing: the common case (no
 * limit, or room under both) costs two compares and no store. A limit of 0
 * (none) wraps to the largest u32, which no count reaches. Returns m's host.
 */
@inline function roomFor(m: u32): u32 {
  const mpp = mp(m);
  const h = load<u32>(mpp, M_HOST);
  if (load<u32>(mpp, M_SESSIONS) > perMappingMax - 1 || load<u32>(hp(h), H_SESSIONS) > perHostMax - 1) makeRoom(m, h);
  return h;
}

@inline function sessionLive(s: u32): bool {
  return s - 1 < sessTop && (load<u8>(sp(s), S_FLAGS) & F_USED) != 0;
}
@inline function mappingLive(m: u32): bool {
  return m - 1 < mapTop && (load<u8>(mp(m), M_FLAGS) & F_USED) != 0;
}
@inline function sessionExpired(s: u32, now: u64): bool {
  const p = sp(s);
  return now - load<u64>(p, S_LAST) >= timeoutOf(load<u8>(p, S_CLASS));
}
@inline function advanceClock(now: u64): u64 {
  if (now > clock) clock = now;
  return clock;
}

// ---- class lists (head = queued longest ago; second chance on expiry) ---

function lruUnlink(s: u32): void {
  const p = sp(s);
  const c = <usize>load<u8>(p, S_CLASS);
  // The hand's round cannot end at a session that left the list: start over.
  if (handFirst(<i32>c) == s) store<u32>(hand + c * 24, 0, 16);
  const prev = load<u32>(p, S_PREV_LRU);
  const next = load<u32>(p, S_NEXT_LRU);
  if (prev) store<u32>(sp(prev), next, S_NEXT_LRU);
  else store<u32>(lru + (c << 3), next);
  if (next) store<u32>(sp(next), prev, S_PREV_LRU);
  else store<u32>(lru + (c << 3), prev, 4);
}

function lruAppend(s: u32, c: i32): void {
  const p = sp(s);
  const l = lru + (<usize>c << 3);
  const tail = load<u32>(l, 4);
  store<u8>(p, <u8>c, S_CLASS);
  store<u32>(p, tail, S_PREV_LRU);
  store<u32>(p, 0, S_NEXT_LRU);
  if (tail) store<u32>(sp(tail), s, S_NEXT_LRU);
  else store<u32>(l, s);
  store<u32>(l, s, 4);
}

/**
 * Sets the session's last-refresh time. The session moves to another list
 * only when its class changes: within a class the list is kept in order of
 * *insertion*, and expireSome gives a refreshed head a second chance (moves
 * it to the tail) instead of every packet relinking its neighbours — which
 * would touch three more cache lines per packet on the hot path.
 */
@inline function touch(s: u32, c: i32, now: u64): void {
  const p = sp(s);
  store<u64>(p, now, S_LAST);
  if (<i32>load<u8>(p, S_CLASS) != c) {
    lruUnlink(s);
    lruAppend(s, c);
  }
}

@inline function classOf(pi: i32, remPort: u32, tcpState: i32): i32 {
  if (pi == 0) return tcpIsEstablished(tcpState) ? NAT_CLASS_TCP_EST : NAT_CLASS_TCP_TRANS;
  if (pi == 1) return remPort == 53 ? NAT_CLASS_UDP_DNS : NAT_CLASS_UDP;
  return NAT_CLASS_ICMP;
}

// ---- free-port bitmaps ---------------------------------------------------

@inline function bitmapOf(pi: i32): usize { return bitmaps + <usize>pi * BITMAP_BYTES; }
@inline function freeCountOf(pi: i32): i32 { return load<i32>(freeCount + (<usize>pi << 2)); }
@inline function setFreeCount(pi: i32, n: i32): void { store<i32>(freeCount + (<usize>pi << 2), n); }

@inline function bitTest(bm: usize, i: i32): bool {
  return (load<u64>(bm + (<usize>(i >>> 6) << 3)) & (<u64>1 << <u64>(i & 63))) != 0;
}
@inline function bitFlip(bm: usize, i: i32): void {
  const w = bm + (<usize>(i >>> 6) << 3);
  store<u64>(w, load<u64>(w) ^ (<u64>1 << <u64>(i & 63)));
}

/** Marks every index of the set free (port 0 stays used for TCP and UDP). */
function bitmapsFill(): void {
  memory.fill(bitmaps, 0, 3 * BITMAP_BYTES);
  memory.fill(portHosts, 0, 12);
  if (!portsReady) {
    for (let pi = 0; pi < 3; pi++) { setFreeCount(pi, 0); store<i32>(setSize + (<usize>pi << 2), 0); }
    return;
  }
  const n = ports.count;
  for (let pi = 0; pi < 3; pi++) {
    const bm = bitmapOf(pi);
    memory.fill(bm, 0xff, <usize>(n >>> 3));
    for (let i = n & ~7; i < n; i++) bitFlip(bm, i);
    let free = n;
    // Port 0 is not a usable TCP/UDP port; ICMP identifier 0 is fine.
    const zero = portSetIndex(ports, 0);
    if (pi < 2 && zero >= 0) { bitFlip(bm, zero); free--; }
    setFreeCount(pi, free);
    store<i32>(setSize + (<usize>pi << 2), free);
  }
}

/**
 * Takes a free port of the set for protocol pi: the internal port when
 * possible (no index-to-port conversion then), else one drawn at random.
 * -1 when none.
 */
@inline function portTake(pi: i32, intPort: i32): i32 {
  const free = freeCountOf(pi);
  if (free <= 0) return -1;
  const bm = bitmapOf(pi);
  let i = preservePorts ? portSetIndex(ports, intPort) : -1;
  if (i >= 0 && bitTest(bm, i)) {
    bitFlip(bm, i);
    setFreeCount(pi, free - 1);
    return intPort;
  }
  i = portDraw(bm);
  if (i < 0) return -1; // unreachable while freeCount is right
  bitFlip(bm, i);
  setFreeCount(pi, free - 1);
  return portSetPort(ports, i);
}

/** A free index of bitmap bm, probing linearly from a random one (RFC 6056 §3.3.1); -1 when none. */
function portDraw(bm: usize): i32 {
  const n = ports.count;
  const start = <i32>((<u64>random32() * <u64>n) >> 32); // a multiply, no division
  const words = (n + 63) >>> 6;
  let w = start >>> 6;
  let word = load<u64>(bm + (<usize>w << 3)) & (<u64>-1 << <u64>(start & 63));
  // Bits past `n` are never set, so the probe needs no range check; one
  // extra round revisits the start word's low bits.
  for (let k = 0; k <= words; k++) {
    if (word != 0) return (w << 6) + <i32>ctz(word);
    if (++w == words) w = 0;
    word = load<u64>(bm + (<usize>w << 3));
  }
  return -1;
}

@inline function portRelease(pi: i32, port: i32): void {
  const i = portSetIndex(ports, port);
  const bm = bitmapOf(pi);
  if (i >= 0 && !bitTest(bm, i)) {
    bitFlip(bm, i);
    setFreeCount(pi, freeCountOf(pi) + 1);
  }
}

// ---- mappings --------------------------------------------------------------

/** The internal-index chain head of (pi, intAddr:intPort): found once, used to look up and to insert. */
@inline function intBucket(pi: u32, intAddr: u32, intPort: u32): usize {
  return intHeads + (<usize>(hashInt(pi, intAddr, intPort) & mapMask) << 2);
}

@inline function mappingFindInt(pi: u32, intAddr: u32, intPort: u32): u32 {
  return mappingFindIntAt(intBucket(pi, intAddr, intPort), pi, intAddr, intPort);
}

function mappingFindIntAt(bucket: usize, pi: u32, intAddr: u32, intPort: u32): u32 {
  let m = load<u32>(bucket);
  while (m) {
    const p = mp(m);
    if (load<u32>(p, M_INT_ADDR) == intAddr && <u32>load<u16>(p, M_INT_PORT) == intPort &&
        <u32>load<u8>(p, M_PROTO) == pi) return m;
    m = load<u32>(p, M_NEXT_INT);
  }
  return 0;
}

function mappingFindExt(pi: u32, extPort: u32): u32 {
  let m = load<u32>(extHeads + (<usize>(hashExt(pi, extPort) & mapMask) << 2));
  while (m) {
    const p = mp(m);
    if (<u32>load<u16>(p, M_EXT_PORT) == extPort && <u32>load<u8>(p, M_PROTO) == pi) return m;
    m = load<u32>(p, M_NEXT_EXT);
  }
  return 0;
}

/**
 * A new mapping with a port from the set, or NAT_E_FULL / NAT_E_NO_PORT
 * (counted). `at` >= 0: exactly that set index, which the caller has found
 * free (natPin).
 */
function mappingNew(pi: i32, intAddr: u32, intPort: u32, at: i32 = -1, bucket: usize = 0): i32 {
  const host = hostFind(intAddr);
  if (!mappingRoom(host)) { count(NAT_C_REFUSED_FULL); return NAT_E_FULL; }
  let port: i32;
  if (at >= 0) {
    bitFlip(bitmapOf(pi), at);
    setFreeCount(pi, freeCountOf(pi) - 1);
    port = portSetPort(ports, at);
  } else {
    port = portTake(pi, <i32>intPort);
  }
  if (port < 0) { count(NAT_C_REFUSED_NO_PORT); return NAT_E_NO_PORT; }
  count(NAT_C_MAPPINGS_CREATED);
  return <i32>mappingLink(pi, intAddr, intPort, <u32>port, false, host, bucket);
}

/**
 * Port reuse (TCP, RFC 7857 §3): a new mapping on an external port other
 * mappings hold, chosen so that no session of that port has the remote
 * remAddr:remPort — so (extPort, remAddr, remPort), the key of the inbound
 * index, stays unique and inbound demultiplexing exact. Looks at
 * REUSE_LOOK ports of the set from a random index. The mapping (and the
 * one that held the port) are flagged F_PORT_SHARED: their later sessions
 * check the same uniqueness (portFreeToward). 0 when none fits.
 */
function mappingBorrow(intAddr: u32, intPort: u32, remAddr: u32, remPort: u32, now: u64): u32 {
  const host = hostFind(intAddr);
  if (!mappingRoom(host)) return 0;
  const n = ports.count;
  const bm = bitmapOf(0);
  let i = <i32>((<u64>random32() * <u64>n) >> 32);
  const look = n < REUSE_LOOK ? n : REUSE_LOOK;
  for (let k = 0; k < look; k++, i = i + 1 == n ? 0 : i + 1) {
    if (bitTest(bm, i)) continue; // free ports are not lent (the caller found none, or only the reserve)
    const port = <u32>portSetPort(ports, i);
    const owner = mappingFindExt(0, port);
    // A pinned port (forward, PCP) is never lent: inbound to it is the pin's alone.
    if (owner == 0 || (load<u8>(mp(owner), M_FLAGS) & F_PINNED) != 0 || !portFreeToward(port, remAddr, remPort, now)) continue;
    store<u8>(mp(owner), load<u8>(mp(owner), M_FLAGS) | F_PORT_SHARED, M_FLAGS);
    count(NAT_C_PORT_REUSED);
    count(NAT_C_MAPPINGS_CREATED);
    // portFreeToward may have reclaimed a mapping of this host, and the host with it: look again.
    return mappingInsert(0, intAddr, intPort, port, true, hostFind(intAddr));
  }
  return 0;
}

/**
 * With port reuse: may a new TCP session of external port extPort go to
 * remAddr:remPort? Not when a live session of the port (any mapping
 * sharing it) already has that remote; an expired one is reclaimed.
 */
function portFreeToward(extPort: u32, remAddr: u32, remPort: u32, now: u64): bool {
  const s = findIn(0, extPort, remAddr, remPort);
  if (s == 0) return true;
  if (!sessionExpired(s, now)) return false;
  sessionFree(s);
  count(NAT_C_SESSIONS_EXPIRED);
  return true;
}

/**
 * Links a mapping of (pi, intAddr:intPort) on extPort into every index (a
 * free record is there: the caller checked; the port is taken from the
 * bitmap, or lent; counted as created by the callers that create). A borrowed (shared) port's
 * mapping goes to the END of its external chain, so the port's first
 * holder stays the one natFindMapping and EIF inbound find.
 */
function mappingInsert(pi: i32, intAddr: u32, intPort: u32, extPort: u32, shared: bool, host: u32, bucket: usize = 0): u32 {
  return mappingLink(pi, intAddr, intPort, extPort, shared, host, bucket);
}

/** mappingInsert's body: inlined into mappingNew (the per-packet caller), one copy for the others. */
@inline function mappingLink(pi: i32, intAddr: u32, intPort: u32, extPort: u32, shared: bool, host: u32, bucket: usize): u32 {
  let m = mapFree;
  if (m) mapFree = load<u32>(mp(m), M_NEXT_INT);
  else m = ++mapTop;
  const p = mp(m);
  const h = hostGet(intAddr, host);
  // The host's ring: m goes before its head (last in creation order).
  const hpp = hp(h);
  const head = load<u32>(hpp, H_MAP_HEAD);
  let ring = (<u64>m << 32) | m;
  if (head == 0) {
    store<u32>(hpp, m, H_MAP_HEAD);
  } else {
    const first = mp(head);
    const last = load<u32>(first, M_HOST_PREV);
    store<u32>(mp(last), m, M_HOST_NEXT);
    store<u32>(first, m, M_HOST_PREV);
    ring = (<u64>head << 32) | last;
  }
  hostPortsAdd(h, pi, 1);
  // Both indexes: m goes first of its internal chain; of its external
  // chain too, unless the port is shared (then last).
  const hi = bucket != 0 ? bucket : intBucket(pi, intAddr, intPort);
  let he = extHeads + (<usize>(hashExt(pi, extPort) & mapMask) << 2);
  if (shared) {
    while (load<u32>(he) != 0) he = mp(load<u32>(he)) + M_NEXT_EXT;
  }
  const chains = (<u64>load<u32>(he) << 32) | load<u32>(hi);
  store<u32>(hi, m);
  store<u32>(he, m);
  // The record: five words, in the order of the drawn layout (no sessions yet).
  const flags = shared ? F_USED | F_PORT_SHARED : F_USED;
  store<u64>(p, <u64>intAddr | (<u64>intPort << 32) | (<u64>extPort << 48), M_INT_ADDR);
  store<u64>(p, <u64>pi | (<u64>flags << 8), M_PROTO); // sessions 0
  store<u64>(p, chains, M_NEXT_INT);
  store<u64>(p, ring, M_HOST_PREV);
  store<u64>(p, <u64>h << 32, M_SESS_HEAD);
  count(NAT_C_ACTIVE_MAPPINGS);
  return m;
}

function mappingFree(m: u32): void {
  const p = mp(m);
  const pi = <u32>load<u8>(p, M_PROTO);
  const intAddr = load<u32>(p, M_INT_ADDR);
  const intPort = <u32>load<u16>(p, M_INT_PORT);
  const extPort = <u32>load<u16>(p, M_EXT_PORT);
  // Unlink from both chains (singly linked: walk from the head).
  let link = intHeads + (<usize>(hashInt(pi, intAddr, intPort) & mapMask) << 2);
  for (let x = load<u32>(link); x; x = load<u32>(link)) {
    if (x == m) { store<u32>(link, load<u32>(p, M_NEXT_INT)); break; }
    link = mp(x) + M_NEXT_INT;
  }
  // A shared port (port reuse) stays taken while another mapping holds it:
  // the walk goes on past m to see (all holders share the chain).
  const shared = (load<u8>(p, M_FLAGS) & F_PORT_SHARED) != 0;
  let held = false;
  link = extHeads + (<usize>(hashExt(pi, extPort) & mapMask) << 2);
  for (let x = load<u32>(link); x; x = load<u32>(link)) {
    if (x == m) {
      store<u32>(link, load<u32>(p, M_NEXT_EXT));
      if (!shared) break;
      continue;
    }
    if (shared && <u32>load<u16>(mp(x), M_EXT_PORT) == extPort && <u32>load<u8>(mp(x), M_PROTO) == pi) held = true;
    link = mp(x) + M_NEXT_EXT;
  }
  if (!held) portRelease(<i32>pi, <i32>extPort);
  const h = load<u32>(p, M_HOST);
  if (h) {
    hostPortsAdd(h, <i32>pi, -1);
    ringUnlink(hp(h) + H_MAP_HEAD, m, mapBase, M_SIZE, M_HOST_PREV, M_HOST_NEXT);
    if (load<u32>(hp(h), H_MAP_HEAD) == 0) hostRelease(h);
  }
  store<u8>(p, 0, M_FLAGS);
  store<u32>(p, mapFree, M_NEXT_INT);
  mapFree = m;
  const c = counters + (<usize>NAT_C_ACTIVE_MAPPINGS << 3);
  store<u64>(c, load<u64>(c) - 1);
}

// ---- sessions --------------------------------------------------------------

/** Removes a session from every index; frees its mapping with its last session. */
function sessionFree(s: u32): void {
  const p = sp(s);
  const pi = <u32>load<u8>(p, S_PROTO);
  const intAddr = load<u32>(p, S_INT_ADDR);
  const remAddr = load<u32>(p, S_REM_ADDR);
  const intPort = <u32>load<u16>(p, S_INT_PORT);
  const extPort = <u32>load<u16>(p, S_EXT_PORT);
  const remPort = <u32>load<u16>(p, S_REM_PORT);
  let link = outHeads + (<usize>(hashOut(pi, intAddr, intPort, remAddr, remPort) & sessMask) << 2);
  for (let x = load<u32>(link); x; x = load<u32>(link)) {
    if (x == s) { store<u32>(link, load<u32>(p, S_NEXT_OUT)); break; }
    link = sp(x) + S_NEXT_OUT;
  }
  link = inHeads + (<usize>(hashIn(pi, extPort, remAddr, remPort) & sessMask) << 2);
  for (let x = load<u32>(link); x; x = load<u32>(link)) {
    if (x == s) { store<u32>(link, load<u32>(p, S_NEXT_IN)); break; }
    link = sp(x) + S_NEXT_IN;
  }
  lruUnlink(s);
  const m = load<u32>(p, S_MAPPING);
  const mpp = mp(m);
  ringUnlink(mpp + M_SESS_HEAD, s, sessBase, S_SIZE, S_MAP_PREV, S_MAP_NEXT);
  const h = load<u32>(mpp, M_HOST);
  if (h) store<u32>(hp(h), load<u32>(hp(h), H_SESSIONS) - 1, H_SESSIONS);
  const left = load<u32>(mpp, M_SESSIONS) - 1;
  store<u32>(mpp, left, M_SESSIONS);
  if (left == 0 && (load<u8>(mpp, M_FLAGS) & F_PINNED) == 0) mappingFree(m); // a pin outlives its sessions
  store<u8>(p, 0, S_FLAGS);
  store<u32>(p, sessFree, S_NEXT_OUT);
  sessFree = s;
  const c = counters + (<usize>NAT_C_ACTIVE_SESSIONS << 3);
  store<u64>(c, load<u64>(c) - 1);
}

/**
 * Reclaims up to `budget` expired sessions, oldest of each class first. The
 * first class looked at rotates per call, so a long backlog in one class
 * cannot starve the others.
 */
function expireSome(now: u64, budget: i32): i32 {
  let n = 0;
  let c = expireCursor;
  expireCursor = c + 1 == CLASSES ? 0 : c + 1;
  for (let i = 0; i < CLASSES && n < budget; i++, c = c + 1 == CLASSES ? 0 : c + 1) {
    if (now - handDue(c) < (<u64>1 << 63)) n += expireClass(c, now, budget - n); // now >= due (modular: restored times may wrap)
  }
  return n;
}

/**
 * The expiry hand on class list c: reclaims expired heads (at most
 * `budget`); a head refreshed since it was queued gets a second chance at
 * the tail. The list is in queue order and a session's last refresh is never
 * before its queueing, so once the hand has gone round the whole list (a
 * round, carried across calls; at most 4 × budget + 16 requeues per call)
 * nothing in it can expire before (the earliest refresh seen) + timeout:
 * that is the class's `due`, and until then the hand skips the class in
 * O(1). Sessions queued later were refreshed later (their own timeout ends
 * after `due`); a session leaving the list restarts the round (lruUnlink);
 * natSetTimeouts and a restore reset `due` (handReset).
 */
function expireClass(c: i32, now: u64, budget: i32): i32 {
  const t = timeoutOf(c);
  const h = hand + <usize>c * 24;
  let n = 0;
  let requeue: i64 = (<i64>budget << 2) + 16;
  while (n < budget) {
    const s = lruHead(c);
    if (s == 0) {
      // Empty: whatever comes is refreshed from now on.
      store<u64>(h, now + t);
      store<u32>(h, 0, 16);
      break;
    }
    const last = load<u64>(sp(s), S_LAST);
    if (now - last >= t) {
      sessionFree(s);
      count(NAT_C_SESSIONS_EXPIRED);
      n++;
      continue;
    }
    const first = load<u32>(h, 16);
    if (s == first) {
      // Gone round: every session now in the list was seen live (or queued
      // after the round began). Those seen earliest may have expired since:
      // then a new round starts at once.
      const due = load<u64>(h, 8) + t;
      store<u64>(h, due);
      store<u32>(h, 0, 16);
      if (due - now - 1 < (<u64>1 << 63)) break; // due > now (modular)
      continue;
    }
    if (requeue-- == 0) break; // the round goes on at the next call
    if (first == 0) {
      store<u32>(h, s, 16);
      store<u64>(h, last, 8);
    } else if (now - last > now - load<u64>(h, 8)) {
      store<u64>(h, last, 8);
    }
    if (lruTail(c) == s) {
      // The only session left: the round is complete.
      store<u64>(h, load<u64>(h, 8) + t);
      store<u32>(h, 0, 16);
      break;
    }
    lruUnlink(s);
    lruAppend(s, c);
    if (load<u32>(h, 16) == 0) { store<u32>(h, s, 16); store<u64>(h, last, 8); } // lruUnlink restarted it
  }
  return n;
}

/** Forgets what the expiry hand knows (timeouts changed, sessions restored with past refresh times). */
function handReset(): void {
  memory.fill(hand, 0, CLASSES * 24);
}

/** A free session record, reclaiming expired (or, if allowed, transitory) ones first; 0 when full. */
function sessionSlot(now: u64): bool {
  if (sessFree != 0 || sessTop < sessCap) return true;
  if (expireSome(now, 8) > 0) return true;
  if (evictOnFull) {
    // Opt-in: the least recently used transitory TCP session, then DNS.
    let s = lruHead(NAT_CLASS_TCP_TRANS);
    if (s == 0) s = lruHead(NAT_CLASS_UDP_DNS);
    if (s != 0) { sessionFree(s); count(NAT_C_SESSIONS_EVICTED); return true; }
  }
  return false;
}

/**
 * A new session of mapping m, linked into the five places it is found from:
 * the outbound and inbound hash chains, its class list (last), its
 * mapping's session ring (last) and its host's count. Every list is
 * appended to in O(1), and the record is written once, word by word: each
 * 8-byte word of the drawn layout (two or more fields) is one store of
 * values already in hand, never a field-by-field fill. h is m's host (the
 * caller has it from roomFor).
 */
@inline function sessionMake(m: u32, h: u32, pi: u32, intAddr: u32, intPort: u32, remAddr: u32, remPort: u32,
                             tcp: i32, flags: u8, now: u64): u32 {
  const base = sessBase;
  let s = sessFree;
  if (s) sessFree = load<u32>(base + <usize>s * S_SIZE, S_NEXT_OUT);
  else s = ++sessTop;
  const p = base + <usize>s * S_SIZE;
  const mpp = mp(m);
  const extPort = <u32>load<u16>(mpp, M_EXT_PORT);
  store<u32>(mpp, load<u32>(mpp, M_SESSIONS) + 1, M_SESSIONS);
  // The mapping's ring: s goes before its head (last in creation order).
  const head = load<u32>(mpp, M_SESS_HEAD);
  let ring = (<u64>s << 32) | s;
  if (head == 0) {
    store<u32>(mpp, s, M_SESS_HEAD);
  } else {
    const hpp = base + <usize>head * S_SIZE;
    const last = load<u32>(hpp, S_MAP_PREV);
    store<u32>(base + <usize>last * S_SIZE, s, S_MAP_NEXT);
    store<u32>(hpp, s, S_MAP_PREV);
    ring = (<u64>head << 32) | last;
  }
  if (h) store<u32>(hp(h), load<u32>(hp(h), H_SESSIONS) + 1, H_SESSIONS);
  // The class list: s goes last.
  const c = classOf(<i32>pi, remPort, tcp);
  const l = lru + (<usize>c << 3);
  const tail = load<u32>(l, 4);
  if (tail) store<u32>(base + <usize>tail * S_SIZE, s, S_NEXT_LRU);
  else store<u32>(l, s);
  store<u32>(l, s, 4);
  // Both hash chains: s goes first.
  const ho = outHeads + (<usize>(hashOut(pi, intAddr, intPort, remAddr, remPort) & sessMask) << 2);
  const hi = inHeads + (<usize>(hashIn(pi, extPort, remAddr, remPort) & sessMask) << 2);
  const chains = (<u64>load<u32>(hi) << 32) | load<u32>(ho);
  store<u32>(ho, s);
  store<u32>(hi, s);
  // The record: seven words, in the order of the drawn layout.
  store<u64>(p, (<u64>remAddr << 32) | intAddr, S_INT_ADDR);
  store<u64>(p, <u64>(intPort | (remPort << 16)) | (<u64>extPort << 32) | (<u64>pi << 48) | (<u64>(tcp & 0xff) << 56), S_INT_PORT);
  store<u64>(p, now, S_LAST);
  store<u64>(p, chains, S_NEXT_OUT);
  store<u64>(p, (<u64>c << 16) | (<u64>(flags | F_USED) << 24) | (<u64>m << 32), S_SPARE); // spare 0
  store<u64>(p, <u64>tail, S_PREV_LRU); // lruNext 0
  store<u64>(p, ring, S_MAP_PREV);
  count(NAT_C_ACTIVE_SESSIONS);
  return s;
}

/** sessionMake for the callers off the per-packet path (one copy of the code). */
function sessionNew(m: u32, pi: u32, intAddr: u32, intPort: u32, remAddr: u32, remPort: u32,
                    tcp: i32, flags: u8, now: u64): u32 {
  return sessionMake(m, load<u32>(mp(m), M_HOST), pi, intAddr, intPort, remAddr, remPort, tcp, flags, now);
}

@inline function findOut(pi: u32, intAddr: u32, intPort: u32, remAddr: u32, remPort: u32): u32 {
  let s = load<u32>(outHeads + (<usize>(hashOut(pi, intAddr, intPort, remAddr, remPort) & sessMask) << 2));
  const k0 = (<u64>remAddr << 32) | intAddr;
  const k1 = <u64>(intPort | (remPort << 16)) | (<u64>pi << 48);
  while (s) {
    const p = sp(s);
    if (load<u64>(p) == k0 && (load<u64>(p, 8) & OUT_KEY_MASK) == k1) return s;
    s = load<u32>(p, S_NEXT_OUT);
  }
  return 0;
}

@inline function findIn(pi: u32, extPort: u32, remAddr: u32, remPort: u32): u32 {
  let s = load<u32>(inHeads + (<usize>(hashIn(pi, extPort, remAddr, remPort) & sessMask) << 2));
  while (s) {
    const p = sp(s);
    if (load<u32>(p, S_REM_ADDR) == remAddr && <u32>load<u16>(p, S_EXT_PORT) == extPort &&
        <u32>load<u16>(p, S_REM_PORT) == remPort && <u32>load<u8>(p, S_PROTO) == pi) return s;
    s = load<u32>(p, S_NEXT_IN);
  }
  return 0;
}

/** ADF: is there a live session of (pi, extPort) with this remote address? */
@inline function addressContacted(pi: u32, extPort: u32, remAddr: u32, now: u64): bool {
  return contactedSession(pi, extPort, remAddr, now) != 0;
}

/**
 * ADF: a live session of (pi, extPort) with this remote address, or 0.
 * With port reuse its mapping, not the port's first holder, is the one a
 * new inbound session of that remote belongs to.
 */
function contactedSession(pi: u32, extPort: u32, remAddr: u32, now: u64): u32 {
  let s = load<u32>(inHeads + (<usize>(hashIn(pi, extPort, remAddr, 0) & sessMask) << 2));
  const k1 = (<u64>extPort << 32) | (<u64>pi << 48);
  while (s) {
    const p = sp(s);
    if (load<u32>(p, S_REM_ADDR) == remAddr && (load<u64>(p, 8) & ADDR_KEY_MASK) == k1 &&
        !sessionExpired(s, now)) return s;
    s = load<u32>(p, S_NEXT_IN);
  }
  return 0;
}

/** Applies a packet to a found session: TCP state, class, refresh. */
@inline function sessionHit(s: u32, pi: i32, outbound: bool, tcpFlags: i32, now: u64): void {
  const p = sp(s);
  if (pi == 0) {
    const old = <i32>load<u8>(p, S_TCP);
    const st = tcpNextState(old, outbound, tcpFlags);
    if (st != old) {
      store<u8>(p, <u8>st, S_TCP);
      // A state change always restarts the timer of its (maybe new) class.
      touch(s, classOf(0, 0, st), now);
      return;
    }
  }
  if (outbound || inboundRefresh) touch(s, <i32>load<u8>(p, S_CLASS), now);
}

// ---- API: set-up -------------------------------------------------------------

@inline function pow2AtLeast(n: u32): u32 {
  return n <= 1 ? 1 : <u32>1 << (32 - clz(n - 1));
}

@inline function hostsFor(maxMappings: i32): i32 { return maxMappings < HOST_MAX ? maxMappings : HOST_MAX; }

/** The mapping capacity natInit gives for these arguments. */
function mappingsFor(maxSessions: i32, maxMappings: i32): i32 {
  if (maxMappings <= 0) maxMappings = max(64, maxSessions >> 2);
  if (maxMappings > maxSessions) maxMappings = maxSessions; // each mapping holds ≥ 1 session
  return maxMappings;
}

/**
 * Arena bytes natInit(maxSessions, maxMappings) would carve, 0 for arguments
 * it refuses: lets a caller check that new tables fit before it forgets the
 * old ones.
 */
export function natBytesFor(maxSessions: i32, maxMappings: i32 = 0): usize {
  if (maxSessions <= 0 || maxSessions > MAX_CAPACITY) return 0;
  maxMappings = mappingsFor(maxSessions, maxMappings);
  const sb = <usize>pow2AtLeast(<u32>maxSessions);
  const mb = <usize>pow2AtLeast(<u32>maxMappings);
  const hosts = hostsFor(maxMappings);
  const hb = <usize>pow2AtLeast(<u32>hosts);
  return arenaRound(<usize>(maxSessions + 1) * S_SIZE) + 2 * arenaRound(sb << 2) +
    arenaRound(<usize>(maxMappings + 1) * M_SIZE) + 2 * arenaRound(mb << 2) +
    arenaRound(3 * BITMAP_BYTES) + arenaRound(<usize>(CLASSES * 8 + COUNTERS * 8)) +
    arenaRound(<usize>(hosts + 1) * H_SIZE) + arenaRound(hb << 2);
}

/**
 * Carves the NAT tables from the arena: `maxSessions` sessions and
 * `maxMappings` mappings (0 = maxSessions / 4, at least 64), hash indexes of
 * the next power of two. `seed` seeds the port and hash-key generator (give
 * the host's random bits). False when an argument is out of range or the
 * arena is too small: bad arguments change nothing, an arena failure leaves
 * the NAT unusable (every call refuses).
 * Timeouts and modes keep their current values; the port set must be
 * installed with natSetPortSet.
 */
export function natInit(maxSessions: i32, maxMappings: i32 = 0, seed: u64 = 0): bool {
  if (maxSessions <= 0 || maxSessions > MAX_CAPACITY) return false; // nothing changes
  ready = false;
  sessTop = 0; mapTop = 0; // stale handles read nothing
  eventCount = 0;
  maxMappings = mappingsFor(maxSessions, maxMappings);
  const sb = pow2AtLeast(<u32>maxSessions);
  const mb = pow2AtLeast(<u32>maxMappings);
  const used0 = arenaUsed();
  const sRec = arenaAlloc(<usize>(maxSessions + 1) * S_SIZE);
  const oH = arenaAlloc(<usize>sb << 2);
  const iH = arenaAlloc(<usize>sb << 2);
  const mRec = arenaAlloc(<usize>(maxMappings + 1) * M_SIZE);
  const mI = arenaAlloc(<usize>mb << 2);
  const mE = arenaAlloc(<usize>mb << 2);
  const bm = arenaAlloc(3 * BITMAP_BYTES);
  const ctl = arenaAlloc(<usize>(CLASSES * 8 + COUNTERS * 8));
  const hosts = hostsFor(maxMappings);
  const hb = pow2AtLeast(<u32>hosts);
  const hRec = arenaAlloc(<usize>(hosts + 1) * H_SIZE);
  const hH = arenaAlloc(<usize>hb << 2);
  if (!sRec || !oH || !iH || !mRec || !mI || !mE || !bm || !ctl || !hRec || !hH) return false;
  hostBase = hRec; hostHeads = hH; hostMask = hb - 1; hostCap = <u32>hosts;
  sessBase = sRec; outHeads = oH; inHeads = iH;
  sessCap = <u32>maxSessions; sessMask = sb - 1;
  mapBase = mRec; intHeads = mI; extHeads = mE;
  mapCap = <u32>maxMappings; mapMask = mb - 1;
  bitmaps = bm;
  lru = ctl;
  counters = ctl + CLASSES * 8;
  arenaBytes = arenaUsed() - used0;
  rng = seed != 0 ? seed : 0x9e3779b97f4a7c15;
  clock = 0;
  portsReady = false;
  ready = true;
  natReset();
  return true;
}

/**
 * Drops every session and mapping (the rule changed, or the operator asked)
 * and draws a new hash key. Cumulative counters (created, expired, refused)
 * are kept; active counts go to 0. The port set stays installed.
 */
export function natReset(): void {
  if (!ready) return;
  sessTop = 0; sessFree = 0;
  mapTop = 0; mapFree = 0;
  memory.fill(outHeads, 0, <usize>(sessMask + 1) << 2);
  memory.fill(inHeads, 0, <usize>(sessMask + 1) << 2);
  memory.fill(intHeads, 0, <usize>(mapMask + 1) << 2);
  memory.fill(extHeads, 0, <usize>(mapMask + 1) << 2);
  hostTop = 0; hostFree = 0;
  memory.fill(hostHeads, 0, <usize>(hostMask + 1) << 2);
  memory.fill(lru, 0, CLASSES * 8);
  memory.fill(portHosts, 0, 12);
  handReset();
  store<u64>(counters + (<usize>NAT_C_ACTIVE_SESSIONS << 3), 0);
  store<u64>(counters + (<usize>NAT_C_ACTIVE_MAPPINGS << 3), 0);
  hashKey0 = (<u64>random32() << 32) | random32();
  hashKey1 = (<u64>random32() << 32) | random32();
  bitmapsFill();
}

/** True when this port set is installed (a reload with the same BMR may keep the state). */
export function natPortSetIs(offset: i32, psidLength: i32, psid: i32): bool {
  return ready && portsReady && ports.offset == offset && ports.psidLength == psidLength && ports.psid == psid;
}

/**
 * Installs the CE's port set (RFC 7597 §5.1: offset a, PSID length k, PSID)
 * and drops all state (mappings into the old set are meaningless). With
 * `keep`, the same set as installed changes nothing: every mapping and
 * session stays (a reload with the same BMR). False, with nothing changed,
 * when a + k > 16, a > 15 or the NAT is not initialised.
 */
export function natSetPortSet(offset: i32, psidLength: i32, psid: i32, keep: bool = false): bool {
  if (!ready) return false;
  if (offset < 0 || offset > 15 || psidLength < 0 || offset + psidLength > 16) return false;
  if (keep && natPortSetIs(offset, psidLength, psid)) return true;
  portSetInit(ports, offset, psidLength, psid);
  portsReady = true;
  natReset();
  return true;
}

/** Removes the port set: every new mapping is refused (NAT_E_NOT_READY) until one is installed. */
export function natClearPortSet(): void {
  portsReady = false;
  natReset();
}

/**
 * Idle timeouts in seconds. False (nothing changed) when one is below its
 * RFC minimum: UDP 120 s (RFC 4787 REQ-5), UDP to port 53 1 s (REQ-5a allows
 * shorter for well-known ports), TCP established 7440 s and transitory 240 s
 * (RFC 5382 REQ-5), ICMP query 60 s (RFC 5508 REQ-1), or above 2^31 s.
 * Changing a timeout applies at once to every session of the class (order
 * within a class is kept, so expiry stays a walk from the head).
 */
export function natSetTimeouts(udp: i32, udpDns: i32, tcpEstablished: i32, tcpTransitory: i32, icmp: i32): bool {
  if (udp < 120 || udpDns < 1 || tcpEstablished < 7440 || tcpTransitory < 240 || icmp < 60) return false;
  store<u64>(timeouts + (<usize>NAT_CLASS_UDP << 3), <u64>udp * 1000);
  store<u64>(timeouts + (<usize>NAT_CLASS_UDP_DNS << 3), <u64>udpDns * 1000);
  store<u64>(timeouts + (<usize>NAT_CLASS_TCP_EST << 3), <u64>tcpEstablished * 1000);
  store<u64>(timeouts + (<usize>NAT_CLASS_TCP_TRANS << 3), <u64>tcpTransitory * 1000);
  store<u64>(timeouts + (<usize>NAT_CLASS_ICMP << 3), <u64>icmp * 1000);
  handReset(); // a shorter timeout makes sessions due sooner
  return true;
}

/** The idle timeout of a class in seconds (-1 for an unknown class). */
export function natTimeout(cls: i32): i32 {
  if (<u32>cls >= <u32>CLASSES) return -1;
  return <i32>(timeoutOf(cls) / 1000);
}

/**
 * Filtering behaviour (NAT_FILTER_EIF / ADF / APDF; default APDF). Live
 * sessions stay; the inbound index is rebuilt when the ADF keying changes
 * (O(sessions), configuration time only). False for an unknown mode.
 */
export function natSetFiltering(mode: i32): bool {
  if (mode < NAT_FILTER_EIF || mode > NAT_FILTER_APDF) return false;
  filterMode = mode;
  const mask: u32 = mode == NAT_FILTER_ADF ? 0 : 0xffff;
  if (mask == inPortMask) return true;
  inPortMask = mask;
  if (!ready) return true;
  memory.fill(inHeads, 0, <usize>(sessMask + 1) << 2);
  for (let s: u32 = 1; s <= sessTop; s++) {
    const p = sp(s);
    if ((load<u8>(p, S_FLAGS) & F_USED) == 0) continue;
    const h = inHeads + (<usize>(hashIn(load<u8>(p, S_PROTO), load<u16>(p, S_EXT_PORT),
      load<u32>(p, S_REM_ADDR), load<u16>(p, S_REM_PORT)) & sessMask) << 2);
    store<u32>(p, load<u32>(h), S_NEXT_IN);
    store<u32>(h, s);
  }
  return true;
}

export function natFiltering(): i32 { return filterMode; }

/** Whether inbound packets refresh their session (RFC 4787 REQ-6 MAY; default true). */
export function natSetInboundRefresh(on: bool): void { inboundRefresh = on; }

/** Whether the internal port is kept when it is in the set and free (default true). */
export function natSetPortPreservation(on: bool): void { preservePorts = on; }

/**
 * Session limits: at most `perMapping` sessions per mapping and `perHost`
 * per LAN host (0 = no limit). A new session past a limit evicts the
 * offender's oldest non-established session (see the file header), counted
 * in NAT_C_EVICTED_MAPPING_LIMIT / NAT_C_EVICTED_HOST_LIMIT. Live sessions
 * above a lowered limit stay until new ones push them out. False (nothing
 * changed) for a negative value.
 */
export function natSetSessionLimits(perHost: i32, perMapping: i32): bool {
  if (perHost < 0 || perMapping < 0) return false;
  perHostMax = <u32>perHost;
  perMappingMax = <u32>perMapping;
  return true;
}

/** Sessions of the LAN host intAddr now (0 when it has none). */
export function natHostSessions(intAddr: u32): i32 {
  if (!ready) return 0;
  const h = hostFind(intAddr);
  return h ? <i32>load<u32>(hp(h), H_SESSIONS) : 0;
}

/**
 * TCP port reuse toward distinct remotes (RFC 7857 §3 port overlapping;
 * see the file header): when the TCP set has no free port (or only the
 * fair-share reserve), a new mapping may share an external port other
 * mappings hold, provided no session of that port has the same remote
 * address and port. Off by default in the module (the CE turns it on for
 * sets below 1024 ports, LOCAL PORT_REUSE). UDP and ICMP never share.
 */
export function natSetPortReuse(on: bool): void { portReuse = on; }

/**
 * Fair shares of a full port set (see the file header): on or off, and the
 * reserve: the last `reserve` free ports of a protocol go only to hosts
 * below their share. Off by default in the module (the CE turns it on,
 * LOCAL FAIR_SHARE / FAIR_RESERVE). False (nothing changed) for a reserve
 * outside 0..65536.
 */
export function natSetFairShare(on: bool, reserve: i32): bool {
  if (reserve < 0 || reserve > 65536) return false;
  fairShare = on;
  fairReserve = reserve;
  return true;
}

/** Mappings of protocol `proto` the LAN host intAddr holds now (its ports; with port reuse, TCP mappings). */
export function natHostPorts(intAddr: u32, proto: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || pi < 0) return 0;
  const h = hostFind(intAddr);
  return h ? <i32>hostPortsOf(h, pi) : 0;
}

/** New mappings of the LAN host intAddr refused for want of a port (fair shares), while it has a record. */
export function natHostRefused(intAddr: u32): i32 {
  if (!ready) return 0;
  const h = hostFind(intAddr);
  return h ? <i32>load<u32>(hp(h), H_REFUSED) : 0;
}

/** The fair share of `proto`'s port set for the host intAddr now (set size ÷ hosts holding its ports, it counted). */
export function natFairShare(intAddr: u32, proto: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || pi < 0) return 0;
  const h = hostFind(intAddr);
  return <i32>shareOf(pi, h ? hostPortsOf(h, pi) : 0);
}

/**
 * Opt-in: when the session table is full (after reclaiming expired ones),
 * evict the least recently used transitory TCP session, else the oldest
 * DNS session. Off by default: live sessions are never evicted.
 */
export function natSetEvictOnFull(on: bool): void { evictOnFull = on; }

// ---- API: per packet --------------------------------------------------------

/**
 * An outbound packet (inside → outside): finds or creates the session of
 * (proto, intAddr:intPort → remAddr:remPort), refreshes it and drives the TCP
 * state with `tcpFlags` (TCP only; the flags byte). For ICMP queries the
 * ports are the echo identifier and 0 (remPort is ignored). `now` is the
 * caller's millisecond clock (it may not go back: earlier values count as
 * the latest seen). Returns the session handle (> 0), or NAT_E_ARG,
 * NAT_E_NOT_READY, NAT_E_NO_PORT (set exhausted, counted), NAT_E_FULL
 * (counted), or NAT_E_FILTERED for a TCP RST that would need a new mapping.
 * The external port is natSessionExtPort(handle).
 */
export function natOutbound(proto: i32, intAddr: u32, intPort: i32, remAddr: u32, remPort: i32,
                            tcpFlags: i32, now: u64): i32 {
  const pi = protoIndex(proto);
  if (pi < 0 || <u32>intPort > 0xffff || <u32>remPort > 0xffff) return NAT_E_ARG;
  if (!ready) return NAT_E_NOT_READY;
  if (pi == 2) remPort = 0;
  now = advanceClock(now);
  // The fast path (a live session) stays small; everything else is outboundMiss.
  const s = findOut(pi, intAddr, intPort, remAddr, remPort);
  if (s == 0) return outboundMiss(pi, intAddr, intPort, remAddr, remPort, tcpFlags, now);
  if (sessionExpired(s, now)) {
    sessionFree(s);
    count(NAT_C_SESSIONS_EXPIRED);
    return outboundMiss(pi, intAddr, intPort, remAddr, remPort, tcpFlags, now);
  }
  sessionHit(s, pi, true, tcpFlags, now);
  return <i32>s;
}

/** natOutbound without a live session: a new one (and a mapping when the endpoint has none), or an error. */
function outboundMiss(pi: i32, intAddr: u32, intPort: i32, remAddr: u32, remPort: i32, tcpFlags: i32, now: u64): i32 {
  if (!sessionSlot(now)) { count(NAT_C_REFUSED_FULL); return NAT_E_FULL; }
  const bucket = intBucket(pi, intAddr, intPort);
  let m = mappingFindIntAt(bucket, pi, intAddr, intPort);
  if (!m) {
    if (!portsReady) return NAT_E_NOT_READY;
    // A TCP RST that belongs to nothing (e.g. a host resetting connections
    // the CE forgot) must not take a port from a small set for 4 minutes.
    if (pi == 0 && (tcpFlags & TCP_RST) != 0) return NAT_E_FILTERED;
    // Above the floor (free ports beyond the fair-share reserve) a port is
    // simply drawn: shareAdmits would admit at once, nothing is borrowed.
    const floor = fairShare ? fairReserve : 0;
    if (freeCountOf(pi) <= floor) {
      // Ports may be held by mappings whose sessions all expired: reclaim some first.
      expireSome(now, 16);
      // Port reuse first (it takes nothing from anyone), then fair shares.
      if (pi == 0 && portReuse && freeCountOf(0) <= floor) {
        m = mappingBorrow(intAddr, intPort, remAddr, remPort, now);
      }
      if (!m && fairShare && !shareAdmits(pi, intAddr, now)) { exhaustNote(pi, intAddr, now, true); return NAT_E_NO_PORT; }
    }
    if (!m) {
      const r = mappingNew(pi, intAddr, intPort, -1, bucket);
      if (r < 0) {
        if (r == NAT_E_NO_PORT) exhaustNote(pi, intAddr, now, true);
        return r;
      }
      m = <u32>r;
    }
  } else if (pi == 0 && (load<u8>(mp(m), M_FLAGS) & F_PORT_SHARED) != 0 &&
             !portFreeToward(load<u16>(mp(m), M_EXT_PORT), remAddr, remPort, now)) {
    // A shared port already has a session toward this remote (another
    // internal endpoint's): this one cannot be told apart inbound.
    count(NAT_C_REFUSED_NO_PORT);
    return NAT_E_NO_PORT;
  }
  const h = roomFor(m);
  const tcp = pi == 0 ? tcpInitialState(true, tcpFlags) : 0;
  count(NAT_C_SESSIONS_CREATED);
  return <i32>sessionMake(m, h, pi, intAddr, intPort, remAddr, remPort, tcp, 0, now);
}

/**
 * An inbound packet (outside → inside) to external port `extPort` from
 * remAddr:remPort. Returns the session handle (> 0; the internal endpoint is
 * natSessionIntAddr / natSessionIntPort), NAT_E_NO_MAPPING, NAT_E_FILTERED,
 * NAT_E_FULL (counted), NAT_E_ARG or NAT_E_NOT_READY.
 * Filtering (RFC 4787 REQ-8): APDF admits only known sessions; ADF also a
 * new port of a remote address the mapping has a live session with; EIF any
 * remote. A new remote admitted by ADF/EIF gets its own session (so it is
 * tracked and timed out); for TCP only a bare SYN may open one (RFC 5382:
 * anything else from a stranger is not a connection attempt).
 */
export function natInbound(proto: i32, extPort: i32, remAddr: u32, remPort: i32,
                           tcpFlags: i32, now: u64): i32 {
  const pi = protoIndex(proto);
  if (pi < 0 || <u32>extPort > 0xffff || <u32>remPort > 0xffff) return NAT_E_ARG;
  if (!ready) return NAT_E_NOT_READY;
  if (pi == 2) remPort = 0;
  now = advanceClock(now);
  let s = findIn(pi, extPort, remAddr, remPort);
  if (s) {
    // A natExpect placeholder is no session: a packet from port 0 is no connection.
    if ((load<u8>(sp(s), S_FLAGS) & <u8>NAT_SF_EXPECT) != 0) return NAT_E_FILTERED;
    if (!sessionExpired(s, now)) {
      sessionHit(s, pi, false, tcpFlags, now);
      return <i32>s;
    }
    sessionFree(s);
    count(NAT_C_SESSIONS_EXPIRED);
  }
  let m = mappingFindExt(pi, extPort);
  if (!m) return NAT_E_NO_MAPPING;
  // A pinned mapping (forward, PCP) admits any remote: EIF for it alone.
  // An expected connection (natExpect: the remote may use any port) passes
  // ADF/APDF filtering once; its placeholder is freed below.
  const pinned = (load<u8>(mp(m), M_FLAGS) & F_PINNED) != 0;
  const x = filterMode == NAT_FILTER_EIF || pinned ? 0 : expectFind(pi, extPort, remAddr, now);
  if (x != 0) m = load<u32>(sp(x), S_MAPPING); // a shared port: the mapping that expects remAddr
  else if (!pinned) {
    if (filterMode == NAT_FILTER_APDF) return NAT_E_FILTERED;
    if (filterMode == NAT_FILTER_ADF) {
      const c = contactedSession(pi, extPort, remAddr, now);
      if (c == 0) return NAT_E_FILTERED;
      m = load<u32>(sp(c), S_MAPPING); // a shared port: the mapping that contacted remAddr
    }
  }
  if (pi == 0 && !tcpMayOpenInbound(tcpFlags)) return NAT_E_FILTERED;
  // sessionSlot may reclaim expired sessions, and with them this mapping.
  if (!sessionSlot(now) || !mappingLive(m)) {
    if (!mappingLive(m)) return NAT_E_NO_MAPPING;
    count(NAT_C_REFUSED_FULL);
    return NAT_E_FULL;
  }
  const p = mp(m);
  roomFor(m);
  const tcp = pi == 0 ? tcpInitialState(false, tcpFlags) : 0;
  count(NAT_C_SESSIONS_CREATED);
  const s2 = sessionNew(m, pi, load<u32>(p, M_INT_ADDR), load<u16>(p, M_INT_PORT), remAddr, remPort,
    tcp, <u8>NAT_SF_INBOUND, now);
  // The expectation is met: its placeholder goes (sessionSlot/makeRoom may
  // have reclaimed it already, and its record may now be s2: look again).
  if (x != 0 && x != s2 && expectFind(pi, extPort, remAddr, now) == x) sessionFree(x);
  return <i32>s2;
}

/** The live placeholder of natExpect for (pi, extPort, remAddr), or 0. */
function expectFind(pi: u32, extPort: u32, remAddr: u32, now: u64): u32 {
  const x = findIn(pi, extPort, remAddr, 0);
  if (x == 0 || (load<u8>(sp(x), S_FLAGS) & <u8>NAT_SF_EXPECT) == 0 || sessionExpired(x, now)) return 0;
  return x;
}

/**
 * An expected inbound connection, made by an ALG before the packet that
 * announces it leaves (ftp.ts: the data connection of an FTP PORT/EPRT
 * command or a 227 reply). Finds or makes the mapping of intAddr:intPort
 * (a port of the set, as natOutbound would: endpoint-independent, so a
 * retransmitted command gets the same port) and adds a placeholder session
 * toward remAddr with remote port 0 (= any port: an FTP server's data
 * connection comes from port 20 or any other) that lets one inbound
 * connection attempt from remAddr through ADF/APDF filtering; the session
 * that attempt makes replaces it. The placeholder is transitory (TCP: the
 * transitory timeout, >= 240 s; Linux's nf_conntrack_ftp expectation lives
 * 300 s) and holds the mapping while it waits. TCP or UDP only.
 * Returns the external port (> 0) or NAT_E_ARG, NAT_E_NOT_READY,
 * NAT_E_NO_PORT or NAT_E_FULL (counted as natOutbound's).
 */
export function natExpect(proto: i32, intAddr: u32, intPort: i32, remAddr: u32, now: u64): i32 {
  const pi = protoIndex(proto);
  if (pi < 0 || pi == 2 || intPort <= 0 || intPort > 0xffff) return NAT_E_ARG;
  if (!ready) return NAT_E_NOT_READY;
  now = advanceClock(now);
  const old = findOut(pi, intAddr, intPort, remAddr, 0);
  if (old) {
    if ((load<u8>(sp(old), S_FLAGS) & <u8>NAT_SF_EXPECT) == 0) return NAT_E_ARG; // a real remote port 0
    if (!sessionExpired(old, now)) {
      touch(old, <i32>load<u8>(sp(old), S_CLASS), now);
      return <i32>load<u16>(sp(old), S_EXT_PORT);
    }
    sessionFree(old);
    count(NAT_C_SESSIONS_EXPIRED);
  }
  if (!sessionSlot(now)) { count(NAT_C_REFUSED_FULL); return NAT_E_FULL; }
  let m = mappingFindInt(pi, intAddr, intPort);
  if (!m) {
    if (!portsReady) return NAT_E_NOT_READY;
    if (freeCountOf(pi) == 0) expireSome(now, 16);
    const r = mappingNew(pi, intAddr, intPort);
    if (r < 0) return r;
    m = <u32>r;
  }
  roomFor(m);
  sessionNew(m, pi, intAddr, intPort, remAddr, 0, pi == 0 ? TCP_TRANS : 0, <u8>NAT_SF_EXPECT, now);
  return <i32>load<u16>(mp(m), M_EXT_PORT);
}

/**
 * Reclaims at most `budget` expired sessions (and the mappings they were the
 * last of); returns how many. The data path calls it once per batch.
 */
export function natExpire(now: u64, budget: i32): i32 {
  if (!ready || budget <= 0) return 0;
  return expireSome(advanceClock(now), budget);
}

// ---- API: look-ups that create and refresh nothing ------------------------

/** The session of an outbound 5-tuple (ICMP: remPort ignored), or 0. Expired-but-unreclaimed sessions count. */
export function natFindSession(proto: i32, intAddr: u32, intPort: i32, remAddr: u32, remPort: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || pi < 0 || <u32>intPort > 0xffff || <u32>remPort > 0xffff) return 0;
  return <i32>findOut(pi, intAddr, intPort, remAddr, pi == 2 ? 0 : remPort);
}

/** The session of an inbound 4-tuple (external port, remote endpoint), or 0 (for ICMP errors from outside). */
export function natFindSessionInbound(proto: i32, extPort: i32, remAddr: u32, remPort: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || pi < 0 || <u32>extPort > 0xffff || <u32>remPort > 0xffff) return 0;
  return <i32>findIn(pi, extPort, remAddr, pi == 2 ? 0 : remPort);
}

/**
 * Would the filtering (RFC 4787 REQ-8) admit a packet from remAddr:remPort
 * to external port `extPort` now? EIF: the mapping exists; ADF: it has a
 * live session with remAddr; APDF: a live session with remAddr:remPort
 * (ICMP: remPort ignored). The test an ICMP error's quote gets (the quoted
 * remote is the one the error speaks for). Creates and refreshes nothing.
 */
export function natFilterAdmits(proto: i32, extPort: i32, remAddr: u32, remPort: i32, now: u64): bool {
  const pi = protoIndex(proto);
  if (!ready || pi < 0 || <u32>extPort > 0xffff || <u32>remPort > 0xffff) return false;
  const m = mappingFindExt(pi, extPort);
  if (!m) return false;
  if (filterMode == NAT_FILTER_EIF || (load<u8>(mp(m), M_FLAGS) & F_PINNED) != 0) return true;
  if (now < clock) now = clock;
  if (filterMode == NAT_FILTER_ADF) return addressContacted(pi, extPort, remAddr, now);
  const s = findIn(pi, extPort, remAddr, pi == 2 ? 0 : remPort);
  return s != 0 && !sessionExpired(s, now);
}

/** The mapping that owns (proto, external port), or 0 (hairpinning, RFC 4787 REQ-9). */
export function natFindMapping(proto: i32, extPort: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || pi < 0 || <u32>extPort > 0xffff) return 0;
  return <i32>mappingFindExt(pi, extPort);
}

/** The mapping of an internal endpoint, or 0. */
export function natFindMappingInternal(proto: i32, intAddr: u32, intPort: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || pi < 0 || <u32>intPort > 0xffff) return 0;
  return <i32>mappingFindInt(pi, intAddr, intPort);
}

// ---- API: pinned mappings (inbound ports; see the file header) --------------

/** Frees a mapping now: its sessions first (the last one frees an unpinned mapping). */
function mappingDrop(m: u32): void {
  const p = mp(m);
  store<u8>(p, load<u8>(p, M_FLAGS) & ~F_PINNED, M_FLAGS);
  while (mappingLive(m) && load<u32>(p, M_SESS_HEAD) != 0) sessionFree(load<u32>(p, M_SESS_HEAD));
  if (mappingLive(m)) mappingFree(m);
}

/**
 * Whether an external port can be pinned: 1 it is in the set and free for
 * the protocol, 0 in the set but held by a mapping (or port 0), -1 not in
 * the set (or no set, or a protocol other than TCP/UDP).
 */
export function natPortState(proto: i32, extPort: i32): i32 {
  const pi = protoIndex(proto);
  if (!ready || !portsReady || pi < 0 || pi > 1 || <u32>extPort > 0xffff) return -1;
  const i = portSetIndex(ports, extPort);
  if (i < 0) return -1;
  return extPort != 0 && bitTest(bitmapOf(pi), i) ? 1 : 0;
}

/**
 * Pins the mapping (proto, intAddr:intPort) ↔ external port `extPort`
 * (TCP or UDP): made now if missing, never expired by idleness, EIF,
 * never evicted (file header). Returns the mapping handle, or
 * NAT_E_ARG, NAT_E_NOT_READY, NAT_E_NOT_OURS (port outside the set, or 0),
 * NAT_E_TAKEN, NAT_E_FULL (mapping table full).
 * An existing mapping of that internal endpoint and port is pinned as it
 * is (its sessions stay). Another mapping in the way — on the external
 * port, or of the internal endpoint on another port (EIM allows one) —
 * refuses with NAT_E_TAKEN, unless `force` and it is not pinned: then it is
 * dropped with its sessions (a static forward outranks a dynamic mapping).
 */
export function natPin(proto: i32, intAddr: u32, intPort: i32, extPort: i32, force: bool = false): i32 {
  const pi = protoIndex(proto);
  if (pi < 0 || pi > 1 || <u32>intPort > 0xffff || <u32>extPort > 0xffff || intPort == 0) return NAT_E_ARG;
  if (!ready || !portsReady) return NAT_E_NOT_READY;
  const idx = portSetIndex(ports, extPort);
  if (idx < 0 || extPort == 0) return NAT_E_NOT_OURS;
  let me = mappingFindExt(pi, extPort);
  const mi = mappingFindInt(pi, intAddr, intPort);
  if (me != 0 && me == mi) {
    store<u8>(mp(me), load<u8>(mp(me), M_FLAGS) | F_PINNED, M_FLAGS);
    return <i32>me;
  }
  const taken = (me != 0 && (!force || (load<u8>(mp(me), M_FLAGS) & F_PINNED) != 0)) ||
    (mi != 0 && (!force || (load<u8>(mp(mi), M_FLAGS) & F_PINNED) != 0));
  if (taken) return NAT_E_TAKEN;
  if (me) mappingDrop(me);
  if (mi) mappingDrop(mi);
  const r = mappingNew(pi, intAddr, <u32>intPort, idx);
  if (r > 0) store<u8>(mp(<u32>r), F_USED | F_PINNED, M_FLAGS);
  return r;
}

/**
 * Unpins the mapping of (proto, extPort): it becomes an ordinary mapping
 * that lives while its sessions do (none: freed now). With `drop`, it goes
 * now with its sessions (a PCP delete). False when the port has no pinned
 * mapping.
 */
export function natUnpin(proto: i32, extPort: i32, drop: bool = false): bool {
  const pi = protoIndex(proto);
  if (!ready || pi < 0 || pi > 1 || <u32>extPort > 0xffff) return false;
  const m = mappingFindExt(pi, extPort);
  if (!m || (load<u8>(mp(m), M_FLAGS) & F_PINNED) == 0) return false;
  if (drop) { mappingDrop(m); return true; }
  store<u8>(mp(m), load<u8>(mp(m), M_FLAGS) & ~F_PINNED, M_FLAGS);
  if (load<u32>(mp(m), M_SESSIONS) == 0) mappingFree(m);
  return true;
}

/** Whether mapping m is pinned (natPin). */
export function natMappingPinned(m: i32): bool {
  return mappingLive(m) && (load<u8>(mp(m), M_FLAGS) & F_PINNED) != 0;
}

// ---- API: accessors (bad or stale handles read 0 / write nothing) ---------

export function natSessionIntAddr(s: i32): u32 { return sessionLive(s) ? load<u32>(sp(s), S_INT_ADDR) : 0; }
export function natSessionIntPort(s: i32): i32 { return sessionLive(s) ? load<u16>(sp(s), S_INT_PORT) : 0; }
export function natSessionExtPort(s: i32): i32 { return sessionLive(s) ? load<u16>(sp(s), S_EXT_PORT) : 0; }
export function natSessionRemAddr(s: i32): u32 { return sessionLive(s) ? load<u32>(sp(s), S_REM_ADDR) : 0; }
export function natSessionRemPort(s: i32): i32 { return sessionLive(s) ? load<u16>(sp(s), S_REM_PORT) : 0; }
/** IP protocol number of the session, 0 for a bad handle. */
export function natSessionProto(s: i32): i32 { return sessionLive(s) ? protoNumber(load<u8>(sp(s), S_PROTO)) : 0; }
/** TCP state (tcp.ts TCP_*), 0 for UDP/ICMP or a bad handle. */
export function natSessionTcpState(s: i32): i32 { return sessionLive(s) ? load<u8>(sp(s), S_TCP) : 0; }
/** Timeout class (NAT_CLASS_*), -1 for a bad handle. */
export function natSessionClass(s: i32): i32 { return sessionLive(s) ? load<u8>(sp(s), S_CLASS) : -1; }
/** Session flags (NAT_SF_INBOUND), 0 for a bad handle. */
export function natSessionFlags(s: i32): i32 { return sessionLive(s) ? load<u8>(sp(s), S_FLAGS) & ~F_USED : 0; }
/** The session's mapping handle, 0 for a bad handle. */
export function natSessionMapping(s: i32): i32 { return sessionLive(s) ? load<u32>(sp(s), S_MAPPING) : 0; }
/** Milliseconds of the last refresh. */
export function natSessionLastSeen(s: i32): u64 { return sessionLive(s) ? load<u64>(sp(s), S_LAST) : 0; }
/** The 16-bit field kept for the data path (0 on creation). */
export function natSessionSpare(s: i32): i32 { return sessionLive(s) ? load<u16>(sp(s), S_SPARE) : 0; }
export function natSetSessionSpare(s: i32, v: i32): bool {
  if (!sessionLive(s)) return false;
  store<u16>(sp(s), <u16>v, S_SPARE);
  return true;
}

export function natMappingIntAddr(m: i32): u32 { return mappingLive(m) ? load<u32>(mp(m), M_INT_ADDR) : 0; }
export function natMappingIntPort(m: i32): i32 { return mappingLive(m) ? load<u16>(mp(m), M_INT_PORT) : 0; }
export function natMappingExtPort(m: i32): i32 { return mappingLive(m) ? load<u16>(mp(m), M_EXT_PORT) : 0; }
export function natMappingProto(m: i32): i32 { return mappingLive(m) ? protoNumber(load<u8>(mp(m), M_PROTO)) : 0; }
/** Number of sessions the mapping holds. */
export function natMappingSessions(m: i32): i32 { return mappingLive(m) ? load<u32>(mp(m), M_SESSIONS) : 0; }

// ---- API: counters and sizes ------------------------------------------------

/** A counter (NAT_C_*); 0 for an unknown id or before natInit. */
export function natCounter(id: i32): u64 {
  if (!ready || <u32>id >= <u32>COUNTERS) return 0;
  return load<u64>(counters + (<usize>id << 3));
}

/** Free external ports left for a protocol (-1 for an unknown protocol). */
export function natFreePorts(proto: i32): i32 {
  const pi = protoIndex(proto);
  if (pi < 0) return -1;
  return ready ? freeCountOf(pi) : 0;
}

/** The NAT clock: the largest `now` seen (ms of the host's clock). */
export function natClock(): u64 { return clock; }

/** Usable ports of the set for a protocol (TCP/UDP without port 0). */
export function natSetPorts(proto: i32): i32 {
  const pi = protoIndex(proto);
  return ready && pi >= 0 ? load<i32>(setSize + (<usize>pi << 2)) : 0;
}

/** Exhaustion events ever noted (a set found full, once per protocol and minute); the ring keeps the last 16. */
export function natExhaustCount(): i32 { return ready ? eventCount : 0; }
@inline function eventAt(i: i32): usize { return events + <usize>((eventCount - 1 - i) % EVENTS) * EV_SIZE; }
@inline function eventOk(i: i32): bool { return ready && i >= 0 && i < eventCount && i < EVENTS; }
/** Event i (0 = the latest): its time (ms of natClock), protocol number, first host, refusals in its minute. */
export function natExhaustAt(i: i32): u64 { return eventOk(i) ? load<u64>(eventAt(i)) : 0; }
export function natExhaustProto(i: i32): i32 { return eventOk(i) ? protoNumber(load<u32>(eventAt(i), 16)) : 0; }
export function natExhaustHost(i: i32): u32 { return eventOk(i) ? load<u32>(eventAt(i), 12) : 0; }
export function natExhaustRefusals(i: i32): i32 { return eventOk(i) ? <i32>load<u32>(eventAt(i), 8) : 0; }

/** Capacity given to natInit (sessions, mappings). */
export function natSessionCapacity(): i32 { return ready ? <i32>sessCap : 0; }
export function natMappingCapacity(): i32 { return ready ? <i32>mapCap : 0; }

/** Arena bytes the NAT tables take (natInit's carve, rounded as the arena rounds). */
export function natBytes(): usize { return ready ? arenaBytes : 0; }

// ---- API: walk and re-create, for the state image (assembly/nat/image.ts) ---
//
// The image is LOGICAL: it holds what each mapping and session means
// (endpoints, external port, TCP state, class, remaining idle time), never
// this file's records, indexes or hash layout. An export walks the live
// state with the functions below; an import re-creates each mapping with
// its exact external port and each session with its state, then puts the
// class lists back in expiry order. So the record layout above may change
// (or other fields be added) without breaking images; what a mapping or
// session *is* changing means a new image format version.
//
// Walk order: LAN hosts in record order, each host's mappings in creation
// order (its ring from the head), each mapping's sessions in creation order.
// Re-creating in that order rebuilds the rings the session limits evict
// from (oldest first) as they were.

/** The NAT's clock: the largest `now` it has seen (ms), after moving it to `now` when that is later. */
export function natAdvanceClock(now: u64): u64 { return advanceClock(now); }

/** Number of timeout classes (NAT_CLASS_* are 0 .. natClassCount() - 1). */
export function natClassCount(): i32 { return CLASSES; }

/**
 * Whether a session of protocol `proto` (IP number) may have timeout class
 * `cls` and TCP state `tcp`: TCP takes a state 1..7 and a TCP class, UDP and
 * ICMP state 0 and their own classes. The image reader's record check.
 */
export function natSessionShapeValid(proto: i32, cls: i32, tcp: i32): bool {
  const pi = protoIndex(proto);
  if (pi == 0) return tcp >= 1 && tcp <= TCP_RST_STATE && (cls == NAT_CLASS_TCP_EST || cls == NAT_CLASS_TCP_TRANS);
  if (pi == 1) return tcp == 0 && (cls == NAT_CLASS_UDP || cls == NAT_CLASS_UDP_DNS);
  if (pi == 2) return tcp == 0 && cls == NAT_CLASS_ICMP;
  return false;
}
/** Highest TCP state value (tcp.ts TCP_TRANS). */
const TCP_RST_STATE: i32 = 7;

/** Whether `port` is in the installed port set (an external port a mapping may hold). */
export function natPortInSet(proto: i32, port: i32): bool {
  if (!ready || !portsReady || <u32>port > 0xffff) return false;
  const pi = protoIndex(proto);
  if (pi < 0 || (pi < 2 && port == 0)) return false;
  return portSetIndex(ports, port) >= 0;
}

/**
 * The mapping after `prev` in walk order (0 starts the walk; 0 = no more).
 * Stateless: the walk scans the mapping records for host ring heads and
 * goes round each host's ring from its head, so each live mapping comes
 * once. Only valid while nothing else changes the NAT.
 */
export function natWalkMappingNext(prev: i32): i32 {
  if (!ready) return 0;
  let from: u32 = 1;
  if (prev != 0) {
    if (!mappingLive(<u32>prev)) return 0;
    const p = mp(<u32>prev);
    const head = load<u32>(hp(load<u32>(p, M_HOST)), H_MAP_HEAD);
    const next = load<u32>(p, M_HOST_NEXT);
    if (next != head) return <i32>next;
    from = head + 1;
  }
  for (let m = from; m <= mapTop; m++) {
    if (!mappingLive(m)) continue;
    if (load<u32>(hp(load<u32>(mp(m), M_HOST)), H_MAP_HEAD) == m) return <i32>m;
  }
  return 0;
}

/** The session of mapping m after `prev` in creation order (0 starts; 0 = no more). */
export function natWalkSessionNext(m: i32, prev: i32): i32 {
  if (!mappingLive(<u32>m)) return 0;
  const head = load<u32>(mp(<u32>m), M_SESS_HEAD);
  if (prev == 0) return <i32>head;
  if (!sessionLive(<u32>prev)) return 0;
  const next = load<u32>(sp(<u32>prev), S_MAP_NEXT);
  return next == head ? 0 : <i32>next;
}

/**
 * Milliseconds session s has left before its idle timeout at `now` (the
 * NAT clock when that is later); 0 when it has expired or s is not live.
 */
export function natSessionRemaining(s: i32, now: u64): u64 {
  if (!sessionLive(<u32>s)) return 0;
  if (now < clock) now = clock;
  const p = sp(<u32>s);
  const idle = now - load<u64>(p, S_LAST);
  const t = timeoutOf(load<u8>(p, S_CLASS));
  return idle >= t ? 0 : t - idle;
}

/**
 * Re-creates a mapping of (proto, intAddr:intPort) on exactly `extPort`.
 * Returns its handle, or NAT_E_ARG (bad protocol or port, or the internal
 * endpoint has a mapping already), NAT_E_NOT_READY, NAT_E_NO_PORT (the port
 * is not in the set, or is taken and cannot be lent: port reuse off, not
 * TCP, or pinned) or NAT_E_FULL (no mapping record left).
 * Nothing changes on an error. The mapping is freed with its last session,
 * as any: give it at least one (natRestoreSession) before anything else
 * runs. Counts as active, not as created.
 */
export function natRestoreMapping(proto: i32, intAddr: u32, intPort: i32, extPort: i32): i32 {
  const pi = protoIndex(proto);
  if (pi < 0 || <u32>intPort > 0xffff || <u32>extPort > 0xffff) return NAT_E_ARG;
  if (!ready || !portsReady) return NAT_E_NOT_READY;
  if (!natPortInSet(proto, extPort)) return NAT_E_NO_PORT;
  const idx = portSetIndex(ports, extPort);
  const bm = bitmapOf(pi);
  if (mappingFindInt(pi, intAddr, intPort)) return NAT_E_ARG;
  const host = hostFind(intAddr);
  if (!mappingRoom(host)) return NAT_E_FULL;
  if (!bitTest(bm, idx)) {
    // Taken: a TCP port that port reuse had lent (mappingBorrow) is lent
    // again to its second holder, as it was when the image was made.
    const owner = mappingFindExt(pi, extPort);
    if (pi != 0 || !portReuse || owner == 0 || (load<u8>(mp(owner), M_FLAGS) & F_PINNED) != 0) return NAT_E_NO_PORT;
    store<u8>(mp(owner), load<u8>(mp(owner), M_FLAGS) | F_PORT_SHARED, M_FLAGS);
    return <i32>mappingInsert(pi, intAddr, intPort, <u32>extPort, true, host);
  }
  bitFlip(bm, idx);
  setFreeCount(pi, freeCountOf(pi) - 1);
  return <i32>mappingInsert(pi, intAddr, intPort, <u32>extPort, false, host);
}

/**
 * Re-creates a session of mapping m toward remAddr:remPort with TCP state
 * `tcp`, timeout class `cls`, flags (NAT_SF_INBOUND), the data path's spare
 * field, and `remainingMs` of idle time left at `now` (its last refresh is
 * set to now - (timeout - remaining); a remaining time above the class's
 * timeout counts as a full one). Returns its handle, or NAT_E_ARG (bad
 * handle, shape — natSessionShapeValid —, flags, or a session of the same
 * tuple exists), NAT_E_FULL (no record left). Nothing changes on an error.
 * Session limits are not applied (the state was within them when saved).
 * Call natRestoreFinish when every session is back.
 */
export function natRestoreSession(m: i32, remAddr: u32, remPort: i32, tcp: i32, cls: i32, flags: i32,
                                  spare: i32, remainingMs: u64, now: u64): i32 {
  if (!ready || !mappingLive(<u32>m) || <u32>remPort > 0xffff || <u32>spare > 0xffff) return NAT_E_ARG;
  const mpp = mp(<u32>m);
  const pi = <i32>load<u8>(mpp, M_PROTO);
  if (!natSessionShapeValid(protoNumber(pi), cls, tcp) || (flags & ~NAT_SF_INBOUND) != 0) return NAT_E_ARG;
  if (pi == 2 && remPort != 0) return NAT_E_ARG;
  const intAddr = load<u32>(mpp, M_INT_ADDR);
  const intPort = <u32>load<u16>(mpp, M_INT_PORT);
  const extPort = <u32>load<u16>(mpp, M_EXT_PORT);
  if (findOut(pi, intAddr, intPort, remAddr, remPort) || findIn(pi, extPort, remAddr, remPort)) return NAT_E_ARG;
  if (sessFree == 0 && sessTop >= sessCap) return NAT_E_FULL;
  now = advanceClock(now);
  const s = sessionNew(<u32>m, pi, intAddr, intPort, remAddr, remPort, tcp, <u8>flags, now);
  const p = sp(s);
  if (<i32>load<u8>(p, S_CLASS) != cls) {
    lruUnlink(s);
    lruAppend(s, cls);
  }
  const t = timeoutOf(cls);
  // Modular: a host clock that started near 0 makes `last` wrap, and every
  // use of it is a difference (now - last), so that is exact.
  store<u64>(p, remainingMs >= t ? now : now - (t - remainingMs), S_LAST);
  handReset(); // a refresh time in the past: the hand's bounds no longer hold
  store<u16>(p, <u16>spare, S_SPARE);
  return <i32>s;
}

/**
 * After a restore: sorts each class list by last refresh (longest idle at
 * the head), so expiry finds the oldest first as if the sessions had aged
 * here. A merge sort over the list links (Tatham's bottom-up list merge
 * sort): O(n log n), no memory beyond the records.
 */
export function natRestoreFinish(): void {
  if (!ready) return;
  for (let c = 0; c < CLASSES; c++) sortClass(c);
  handReset();
}

/** Sorts class list c by idle time at the NAT clock, longest first (stable). */
function sortClass(c: i32): void {
  const l = lru + (<usize>c << 3);
  let list = load<u32>(l);
  if (list == 0) return;
  const now = clock;
  let k: u32 = 1;
  while (true) {
    let pp = list;
    list = 0;
    let tail: u32 = 0;
    let merges = 0;
    while (pp) {
      merges++;
      let q = pp;
      let psize: u32 = 0;
      for (let i: u32 = 0; i < k && q != 0; i++) { psize++; q = load<u32>(sp(q), S_NEXT_LRU); }
      let qsize = k;
      while (psize > 0 || (qsize > 0 && q != 0)) {
        let e: u32;
        if (psize == 0) { e = q; q = load<u32>(sp(q), S_NEXT_LRU); qsize--; }
        else if (qsize == 0 || q == 0) { e = pp; pp = load<u32>(sp(pp), S_NEXT_LRU); psize--; }
        else if (now - load<u64>(sp(pp), S_LAST) >= now - load<u64>(sp(q), S_LAST)) {
          e = pp; pp = load<u32>(sp(pp), S_NEXT_LRU); psize--;
        } else { e = q; q = load<u32>(sp(q), S_NEXT_LRU); qsize--; }
        if (tail) store<u32>(sp(tail), e, S_NEXT_LRU);
        else list = e;
        store<u32>(sp(e), tail, S_PREV_LRU);
        tail = e;
      }
      pp = q;
    }
    store<u32>(sp(tail), 0, S_NEXT_LRU);
    if (merges <= 1) {
      store<u32>(l, list);
      store<u32>(l, tail, 4);
      return;
    }
    k <<= 1;
  }
}
