// State of the data path under hostile or careless use (issue "Hostile
// input"): reloads that keep the BMR keep the sessions, configure without
// start changes nothing live, a failed init leaves the running data path, the
// module clock survives bad and jumping values, and oversized batches are
// counted. Each case runs traffic through the same exports the host uses.
import { W, MODE_CE } from "./map_helpers";
import { PKT_A, ip4, buildIpv4Udp, buildIpv4InIpv6, copyBytes } from "./builders";
import { parseIPv6 } from "./map_helpers";
import {
  init, start, startKept, process, inputPtr, inputLengths, outputOffsets, batchMax, clockNow, clockMaxStep,
} from "../../assembly/datapath/process";
import {
  counterPackets, C_FWD_TO_IPV4, C_FWD_TO_IPV6, D_NAT_NO_MAPPING, D_BATCH_OVERFLOW, C_CLOCK_ADJUSTED,
  C_IN_IPV4,
} from "../../assembly/datapath/counters";
import { natCounter, NAT_C_ACTIVE_SESSIONS } from "../../assembly/nat/nat";
import { ipv4Src, ipv4Dst } from "../../assembly/wire/ipv4";
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
function writeCe(prefix: string = "2403:9200:1234::"): i32 {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix(prefix, 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE);
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
