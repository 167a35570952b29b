// State of the data path under hostile or careless use (issue "Hostile
// input"): reloads that keep the BMR keep the sessions, configure without
// start changes nothing live, a failed init leaves the running data path, the
// module clock survives bad and jumping values, and oversized batches are
// counted. Each case runs traffic through the same exports the host uses.
import { W, MODE_CE } from "./map_helpers";
import { PKT_A, PKT_B, ip4, buildIpv4Udp, buildIpv4InIpv6, buildIpv6Fragment, copyBytes } from "./builders";
import { fragmentOf } from "./br_helpers";
import { parseIPv6 } from "./map_helpers";
import {
  init, start, startKept, process, inputPtr, inputLengths, outputOffsets, batchMax, clockNow, clockMaxStep,
} from "../../assembly/datapath/process";
import {
  counterPackets, C_FWD_TO_IPV4, C_FWD_TO_IPV6, D_NAT_NO_MAPPING, D_BATCH_OVERFLOW, C_CLOCK_ADJUSTED,
  C_IN_IPV4, C_HELD, C_FRAGMENTS_EVICTED, C_REASSEMBLY_EVICTED, D_SECURITY_IPV6_SRC_UNKNOWN,
  D_IPV6_FRAGMENT_TABLE_FULL, D_FRAGMENT_HOLD_FULL, D_NAT_TABLE_FULL,
} from "../../assembly/datapath/counters";
import {
  natCounter, natHostSessions, NAT_C_ACTIVE_SESSIONS, NAT_C_EVICTED_HOST_LIMIT, NAT_C_EVICTED_MAPPING_LIMIT,
} from "../../assembly/nat/nat";
import { ipv4Src, ipv4Dst, ipv4FillChecksum } from "../../assembly/wire/ipv4";
import { ipv6Src, ipv6AddrEqual } from "../../assembly/wire/ipv6";
import { udpSrcPort, udpDstPort } from "../../assembly/wire/udp";
import { ceIPv4, cePsid, isOwnPort } from "../../assembly/map/api";

const CE_ADDR = "2403:9200:1234::cb56:e101:234";
const BR_ADDR = "2403:9200:fff0::2";
const LAN_HOST = ip4(192, 168, 1, 10);
const REMOTE = ip4(198, 51, 100, 7);
const OUR_V4 = ip4(203, 86, 225, 1);
const RPORT = 4000; // not 53: DNS sessions have their own short timeout
const ceAddr = memory.data(16, 16);
const brAddr = memory.data(16, 16);

/** Writes the JANOG CE configuration with end-user prefix `prefix` (a /48) and configures it. */
function writeCe(prefix: string = "2403:9200:1234::", perHost: i32 = -1, perMapping: i32 = -1): i32 {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix(prefix, 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE);
  if (perHost >= 0) W.setting(13, 4, perHost);
  if (perMapping >= 0) W.setting(14, 4, perMapping);
  W.close(l);
  return W.configure();
}

function freshCe(): void {
  expect<i32>(writeCe()).toBe(0);
  expect<i32>(init(64, 1024, 7)).toBe(0);
  expect<i32>(start(0)).toBe(0);
  memory.copy(ceAddr, parseIPv6(CE_ADDR), 16);
  memory.copy(brAddr, parseIPv6(BR_ADDR), 16);
}

function run1(len: i32, now: f64): i32 {
  copyBytes(inputPtr(0), PKT_A, len);
  store<i32>(inputLengths(), len);
  return process(1, now);
}
function out(j: i32): usize { return <usize>load<i32>(outputOffsets() + (<usize>j << 2)); }

/** LAN host → REMOTE:53 from `sport`; returns the external port it left with (0 when nothing left). */
function outbound(sport: i32, now: f64): i32 {
  if (run1(buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, sport, RPORT, 20), now) != 1) return 0;
  return udpSrcPort(out(0) + 40 + 20);
}

/** REMOTE:53 → our address:port through the BR; true when it reached the LAN host. */
function reply(port: i32, now: f64): bool {
  const inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, RPORT, port, 16);
  const len = buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner);
  if (run1(len, now) != 1) return false;
  return ipv4Dst(out(0)) == LAN_HOST && udpDstPort(out(0) + 20) == 4660;
}

describe("reload (start with keepSessions) after configuring the same rule", () => {
  it("keeps the sessions: a flow from before is answered after, on the same external port", () => {
    freshCe();
    const port = outbound(4660, 1000);
    expect<i32>(port).toBeGreaterThan(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(1);
    expect<i32>(writeCe()).toBe(0);
    expect<i32>(start(1)).toBe(0);
    expect<i32>(startKept()).toBe(1);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(1);
    expect<bool>(reply(port, 1100)).toBe(true);
    expect<i32>(outbound(4660, 1200)).toBe(port);
    expect<u64>(counterPackets(D_NAT_NO_MAPPING)).toBe(0);
  });

  it("drops them when the BMR changed, whatever the host asked", () => {
    freshCe();
    const port = outbound(4660, 1000);
    expect<i32>(writeCe("2403:9200:1235::")).toBe(0);
    expect<i32>(start(1)).toBe(0);
    expect<i32>(startKept()).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    void port;
  });
});

describe("configure without start", () => {
  it("changes nothing live: packets keep the old address, MAP address and port set until start()", () => {
    freshCe();
    const port = outbound(4660, 1000);
    expect<i32>(writeCe("2403:9200:1235::")).toBe(0);
    // The getters describe what was configured (same IPv4 address, PSID 0x235) …
    expect<i32>(cePsid()).toBe(0x235);
    // … the data path still runs the configuration it was started with.
    const again = outbound(4660, 1100);
    expect<i32>(again).toBe(port);
    const o = out(0);
    expect<bool>(ipv6AddrEqual(ipv6Src(o), ceAddr)).toBe(true);
    expect<u32>(ipv4Src(o + 40)).toBe(OUR_V4);
    expect<bool>(reply(port, 1200)).toBe(true);
    // start() applies the new one as a whole.
    expect<i32>(start(0)).toBe(0);
    expect<i32>(run1(buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, RPORT, 20), 1300)).toBe(1);
    expect<bool>(ipv6AddrEqual(ipv6Src(out(0)), ceAddr)).toBe(false);
    expect<u32>(ipv4Src(out(0) + 40)).toBe(ceIPv4());
    expect<i32>(isOwnPort(udpSrcPort(out(0) + 60))).toBe(1);
    expect<i32>(udpSrcPort(out(0) + 60) & 0xfff).toBe(0x235);
  });
});

describe("a failed init", () => {
  it("leaves the running data path and its sessions intact", () => {
    freshCe();
    const port = outbound(4660, 1000);
    expect<i32>(init(64, 1 << 22, 7)).toBe(-1); // sessions beyond the arena
    expect<i32>(init(1 << 20, 1024, 7)).toBe(-1); // slots beyond the limit
    expect<i32>(init(4000, 65536, 7)).toBe(-1); // slots and sessions that do not fit together
    expect<bool>(reply(port, 1100)).toBe(true);
    expect<i32>(outbound(4660, 1200)).toBe(port);
  });
});

describe("the module clock", () => {
  it("ignores values that are not a time (Infinity, NaN, 1e300, negative): no session expires", () => {
    freshCe();
    const port = outbound(4660, 1000);
    process(0, Infinity);
    process(0, NaN);
    process(0, 1e300);
    process(0, -5);
    expect<u64>(counterPackets(C_CLOCK_ADJUSTED)).toBe(4);
    expect<f64>(clockNow()).toBe(1000);
    expect<bool>(reply(port, 1100)).toBe(true);
  });

  it("takes a jump forward as one bounded step, and a step backward as none", () => {
    freshCe();
    const port = outbound(4660, 1000);
    process(0, 1000 + 86400000); // a day in one call
    expect<f64>(clockNow()).toBe(1000 + <f64>clockMaxStep());
    process(0, 500); // backward: time stands
    expect<f64>(clockNow()).toBe(1000 + <f64>clockMaxStep());
    expect<u64>(counterPackets(C_CLOCK_ADJUSTED)).toBe(2);
    expect<bool>(reply(port, 600)).toBe(true); // counts from the new value: +100 ms
    expect<f64>(clockNow()).toBe(1100 + <f64>clockMaxStep());
  });

  it("keeps timeouts exact for a host that ticks (UDP 300 s)", () => {
    freshCe();
    const port = outbound(4660, 1000);
    let t: f64 = 1000;
    while (t < 1000 + 295000) { t += 5000; process(0, t); }
    expect<bool>(reply(port, t)).toBe(true); // refreshed at t
    const last = t;
    while (t < last + 301000) { t += 5000; process(0, t); }
    expect<bool>(reply(port, t)).toBe(false);
    expect<u64>(counterPackets(D_NAT_NO_MAPPING)).toBe(1);
    expect<u64>(counterPackets(C_CLOCK_ADJUSTED)).toBe(0);
  });
});

describe("process() with a count outside 0..batchMax", () => {
  it("processes batchMax inputs and counts the rest in drop-batch-overflow", () => {
    freshCe();
    const n = batchMax();
    const len = buildIpv4Udp(PKT_A, LAN_HOST, REMOTE, 4660, RPORT, 20);
    for (let i = 0; i < n; i++) {
      copyBytes(inputPtr(i), PKT_A, len);
      store<i32>(inputLengths() + (<usize>i << 2), len);
    }
    expect<i32>(process(n + 3, 1000)).toBe(n);
    expect<u64>(counterPackets(C_IN_IPV4)).toBe(<u64>n);
    expect<u64>(counterPackets(C_FWD_TO_IPV6)).toBe(<u64>n);
    expect<u64>(counterPackets(D_BATCH_OVERFLOW)).toBe(3);
    expect<i32>(process(-1, 1001)).toBe(0);
    expect<u64>(counterPackets(D_BATCH_OVERFLOW)).toBe(4);
    expect<u64>(counterPackets(C_FWD_TO_IPV4)).toBe(0);
  });
});

/** Bytes [off, off + n) of a 128-byte reply to `port` as an outer IPv6 fragment from `src6`. */
function outerFragment(src6: usize, port: i32, off: i32, n: i32, id: u32): i32 {
  const ilen = buildIpv4Udp(PKT_B, REMOTE, OUR_V4, RPORT, port, 100);
  memory.copy(PKT_A + 48, PKT_B + <usize>off, <usize>n);
  return buildIpv6Fragment(PKT_A, src6, ceAddr, 4, off, off + n < ilen, id, n);
}

/** A LAN fragment [off, off + n) of a 128-byte datagram from `host`, IPv4 id `id`. */
function lanFragment(host: u32, off: i32, n: i32, id: i32): i32 {
  buildIpv4Udp(PKT_B, host, REMOTE, 5000, RPORT, 100);
  store<u16>(PKT_B + 4, bswap<u16>(<u16>id));
  ipv4FillChecksum(PKT_B);
  return fragmentOf(PKT_A, PKT_B, off, n);
}

describe("fragment state an outsider could fill", () => {
  it("IPv6 first fragments from a source no rule covers hold no reassembly state", () => {
    freshCe();
    const port = outbound(4660, 1000);
    const stranger = memory.data(16, 16);
    memory.copy(stranger, parseIPv6("2001:db8::1"), 16);
    for (let i = 0; i < 16; i++) run1(outerFragment(stranger, port, 0, 64, 1 + i), 1001);
    expect<u64>(counterPackets(D_SECURITY_IPV6_SRC_UNKNOWN)).toBe(16);
    expect<u64>(counterPackets(C_HELD)).toBe(0);
    expect<i32>(run1(outerFragment(brAddr, port, 0, 64, 99), 1002)).toBe(0);
    expect<i32>(run1(outerFragment(brAddr, port, 64, 64, 99), 1003)).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
    expect<u64>(counterPackets(D_IPV6_FRAGMENT_TABLE_FULL)).toBe(0);
  });

  it("one source holds at most its share of reassembly contexts: the newest packet evicts its oldest", () => {
    freshCe();
    const port = outbound(4660, 1000);
    for (let i = 0; i < 20; i++) run1(outerFragment(brAddr, port, 0, 64, 1 + i), 1001);
    expect<u64>(counterPackets(C_HELD)).toBe(20);
    expect<u64>(counterPackets(C_REASSEMBLY_EVICTED)).toBe(16);
    expect<i32>(run1(outerFragment(brAddr, port, 0, 64, 99), 1002)).toBe(0);
    expect<i32>(run1(outerFragment(brAddr, port, 64, 64, 99), 1003)).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(LAN_HOST);
    expect<u64>(counterPackets(D_IPV6_FRAGMENT_TABLE_FULL)).toBe(0);
  });

  it("stray non-first IPv4 fragments of one source cannot fill the holds: another source's are still held", () => {
    freshCe();
    const A = ip4(192, 168, 1, 20);
    for (let i = 0; i < 40; i++) run1(lanFragment(A, 64, 64, 100 + i), 1000);
    expect<u64>(counterPackets(C_HELD)).toBe(40);
    expect<u64>(counterPackets(C_FRAGMENTS_EVICTED)).toBe(32);
    expect<u64>(counterPackets(D_FRAGMENT_HOLD_FULL)).toBe(0);
    // LAN_HOST's fragments, the later one first: held, then released with the first.
    expect<i32>(run1(lanFragment(LAN_HOST, 64, 64, 7), 1001)).toBe(0);
    expect<u64>(counterPackets(C_HELD)).toBe(41);
    expect<i32>(run1(lanFragment(LAN_HOST, 0, 64, 7), 1002)).toBe(2);
    expect<u64>(counterPackets(C_FWD_TO_IPV6)).toBe(1);
  });
});

/** REMOTE:sport → our address:port through the BR (ADF admits a new port of a contacted remote). */
function fromRemote(sport: i32, port: i32, now: f64): i32 {
  const inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, sport, port, 16);
  return run1(buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner), now);
}

describe("session limits (one remote or one host cannot fill the table)", () => {
  it("ADF: a remote sending from many source ports fills only its mapping's share", () => {
    expect<i32>(writeCe("2403:9200:1234::", 16384, 64)).toBe(0); // table: 1024 sessions
    expect<i32>(init(64, 1024, 7)).toBe(0);
    expect<i32>(start(0)).toBe(0);
    const other = ip4(192, 168, 1, 30);
    expect<i32>(run1(buildIpv4Udp(PKT_A, other, REMOTE, 7000, RPORT, 20), 999)).toBe(1);
    const otherPort = udpSrcPort(out(0) + 60);
    const port = outbound(4660, 1000);
    for (let i = 0; i < 2000; i++) fromRemote(10000 + i, port, 1001);
    expect<u64>(natCounter(NAT_C_EVICTED_MAPPING_LIMIT)).toBe(2001 - 64);
    expect<i32>(natHostSessions(LAN_HOST)).toBe(64);
    expect<u64>(counterPackets(D_NAT_TABLE_FULL)).toBe(0);
    // Another host: its session survived, and its new flows still get one.
    const inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, RPORT, otherPort, 16);
    expect<i32>(run1(buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner), 1002)).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(other);
    expect<i32>(run1(buildIpv4Udp(PKT_A, other, ip4(198, 51, 100, 99), 7001, RPORT, 20), 1003)).toBe(1);
    expect<u64>(counterPackets(D_NAT_TABLE_FULL)).toBe(0);
  });

  it("an inside host fanning out evicts its own oldest sessions, never another host's", () => {
    expect<i32>(writeCe("2403:9200:1234::", 128, 4096)).toBe(0);
    expect<i32>(init(64, 1024, 7)).toBe(0);
    expect<i32>(start(0)).toBe(0);
    const other = ip4(192, 168, 1, 30);
    expect<i32>(run1(buildIpv4Udp(PKT_A, other, REMOTE, 7000, RPORT, 20), 999)).toBe(1);
    const otherPort = udpSrcPort(out(0) + 60);
    for (let i = 0; i < 2000; i++) {
      run1(buildIpv4Udp(PKT_A, LAN_HOST, ip4(198, 18, <i32>(i >> 8), i & 255), 4660, RPORT, 20), 1000);
    }
    expect<i32>(natHostSessions(LAN_HOST)).toBe(128);
    expect<u64>(natCounter(NAT_C_EVICTED_HOST_LIMIT)).toBe(2000 - 128);
    expect<i32>(natHostSessions(other)).toBe(1);
    const inner = buildIpv4Udp(PKT_A + 40, REMOTE, OUR_V4, RPORT, otherPort, 16);
    expect<i32>(run1(buildIpv4InIpv6(PKT_A, brAddr, ceAddr, inner), 1002)).toBe(1);
    expect<u32>(ipv4Dst(out(0))).toBe(other);
    expect<i32>(run1(buildIpv4Udp(PKT_A, other, ip4(198, 51, 100, 99), 7001, RPORT, 20), 1003)).toBe(1);
    expect<u64>(counterPackets(D_NAT_TABLE_FULL)).toBe(0);
  });
});
