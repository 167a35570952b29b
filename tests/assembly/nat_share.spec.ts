// Fair shares of a full port set and TCP port reuse (nat.ts header: "Fair
// shares", "Port reuse"). The JANOG set (a = 4, k = 12: 15 ports) and a
// v6plus-like set (a = 4, k = 8: 240 ports).
import {
  natOutbound, natInbound, natSetFairShare, natSetPortReuse, natCounter, natFreePorts, natHostPorts,
  natHostRefused, natFairShare, natSessionExtPort, natSessionIntPort, natSessionIntAddr, natSessionClass,
  natFindSession,
  NAT_TCP, NAT_UDP, NAT_E_NO_PORT, NAT_C_REFUSED_SHARE, NAT_C_RECLAIMED_SHARE, NAT_C_PORT_REUSED,
  NAT_C_ACTIVE_SESSIONS, NAT_CLASS_TCP_EST,
} from "../../assembly/nat/nat";
import { TCP_SYN, TCP_ACK } from "../../assembly/nat/tcp";
import { ip, freshNat } from "./nat_helpers";

const FLOODER = ip(192, 168, 1, 10);
const VICTIM = ip(192, 168, 1, 11);
const NEWCOMER = ip(192, 168, 1, 12);
const R1 = ip(203, 0, 113, 1);

function server(i: i32): u32 { return ip(198, 51, 100 + (i >> 8), i & 255); }

describe("fair shares (UDP flood)", () => {
  it("a flooder that filled the set alone is cut to its share; the victim's DNS and TCP get theirs", () => {
    expect<bool>(freshNat(8192, 0, 4, 12, 0x234)).toBe(true);
    natSetFairShare(true, 2);
    let t: u64 = 1000;
    let flooded = 0;
    // The flooder alone: every port is its share.
    for (let i = 0; i < 200; i++) if (natOutbound(NAT_UDP, FLOODER, 10000 + i, R1, 5000 + i, 0, t++) > 0) flooded++;
    expect<i32>(flooded).toBe(15);
    expect<i32>(natFreePorts(NAT_UDP)).toBe(0);
    // Then both at once: 10 flooder flows for each victim flow.
    let victimDns = 0, victimTcp = 0, floodLater = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) {
        if (natOutbound(NAT_UDP, FLOODER, 20000 + round * 10 + i, R1, 6000 + i, 0, t++) > 0) floodLater++;
      }
      if (natOutbound(NAT_UDP, VICTIM, 30000 + round, R1, 53, 0, t++) > 0) victimDns++;
      if (natOutbound(NAT_TCP, VICTIM, 40000 + round, server(round), 443, TCP_SYN, t++) > 0) victimTcp++;
    }
    // Share = 15 ÷ 2 = 7: the victim's 7 DNS flows were reclaimed from the flooder.
    expect<i32>(victimDns).toBe(7);
    expect<i32>(natHostPorts(VICTIM, NAT_UDP)).toBe(7);
    expect<i32>(natHostPorts(FLOODER, NAT_UDP)).toBe(8);
    expect<i32>(floodLater).toBe(0);
    // TCP is another port set: the flooder holds none of it.
    expect<i32>(victimTcp).toBe(15);
    expect<u64>(natCounter(NAT_C_RECLAIMED_SHARE)).toBe(7);
    // Refused at their share: the flooder 185 alone + 200 later, the victim 13 DNS + 5 TCP.
    expect<u64>(natCounter(NAT_C_REFUSED_SHARE)).toBe(185 + 200 + 13 + 5);
    expect<i32>(natHostRefused(FLOODER)).toBe(185 + 200);
    expect<i32>(natFairShare(VICTIM, NAT_UDP)).toBe(7);
    log<string>("UDP flood: flooder " + (flooded + floodLater).toString() + " mappings then cut to " +
      natHostPorts(FLOODER, NAT_UDP).toString() + "; victim DNS " + victimDns.toString() + "/20, TCP " +
      victimTcp.toString() + "/20");
  });

  it("without fair shares the victim gets nothing (the failure the feature fixes)", () => {
    expect<bool>(freshNat(8192, 0, 4, 12, 0x234)).toBe(true);
    let t: u64 = 1000;
    for (let i = 0; i < 200; i++) natOutbound(NAT_UDP, FLOODER, 10000 + i, R1, 5000 + i, 0, t++);
    let victimDns = 0;
    for (let round = 0; round < 20; round++) if (natOutbound(NAT_UDP, VICTIM, 30000 + round, R1, 53, 0, t++) > 0) victimDns++;
    expect<i32>(victimDns).toBe(0);
  });

  it("keeps a reserve for hosts that have none", () => {
    expect<bool>(freshNat(8192, 0, 4, 12, 0x234)).toBe(true);
    natSetFairShare(true, 2);
    let t: u64 = 1000;
    expect<i32>(natOutbound(NAT_UDP, VICTIM, 30000, R1, 53, 0, t++)).toBeGreaterThan(0);
    let got = 0;
    for (let i = 0; i < 100; i++) if (natOutbound(NAT_UDP, FLOODER, 10000 + i, R1, 5000 + i, 0, t++) > 0) got++;
    // Two hosts: the flooder (share 7) stops at the reserve, 2 ports short of full.
    expect<i32>(got).toBe(12);
    expect<i32>(natFreePorts(NAT_UDP)).toBe(2);
    // A host with none takes one of the reserve without reclaiming anything.
    expect<i32>(natOutbound(NAT_UDP, NEWCOMER, 30000, R1, 53, 0, t++)).toBeGreaterThan(0);
    expect<u64>(natCounter(NAT_C_RECLAIMED_SHARE)).toBe(0);
  });
});

describe("fair shares (SYN flood that never completes)", () => {
  it("reclaims the flooder's transitory sessions first; the victim's established ones stay", () => {
    expect<bool>(freshNat(8192, 0, 4, 12, 0x234)).toBe(true);
    natSetFairShare(true, 2);
    let t: u64 = 1000;
    let flooded = 0;
    for (let i = 0; i < 100; i++) if (natOutbound(NAT_TCP, FLOODER, 10000 + i, R1, 80, TCP_SYN, t++) > 0) flooded++;
    expect<i32>(flooded).toBe(15);
    let victim = 0, floodLater = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) {
        if (natOutbound(NAT_TCP, FLOODER, 20000 + round * 10 + i, R1, 80, TCP_SYN, t++) > 0) floodLater++;
      }
      const s = natOutbound(NAT_TCP, VICTIM, 40000 + round, server(round), 443, TCP_SYN, t++);
      if (s > 0) {
        victim++;
        // The handshake completes: SYN-ACK in, ACK out.
        expect<i32>(natInbound(NAT_TCP, natSessionExtPort(s), server(round), 443, TCP_SYN | TCP_ACK, t++)).toBe(s);
        expect<i32>(natOutbound(NAT_TCP, VICTIM, 40000 + round, server(round), 443, TCP_ACK, t++)).toBe(s);
        expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_TCP_EST);
      }
    }
    expect<i32>(victim).toBe(7);
    expect<i32>(floodLater).toBe(0);
    expect<i32>(natHostPorts(FLOODER, NAT_TCP)).toBe(8);
    // Every victim connection is still there.
    for (let round = 0; round < 7; round++) {
      expect<i32>(natFindSession(NAT_TCP, VICTIM, 40000 + round, server(round), 443)).toBeGreaterThan(0);
    }
    log<string>("SYN flood (no reuse): flooder " + flooded.toString() + " then cut to " +
      natHostPorts(FLOODER, NAT_TCP).toString() + "; victim " + victim.toString() + "/20 connections");
  });

  it("with port reuse the victim's connections to other servers share the flooder's ports", () => {
    expect<bool>(freshNat(8192, 0, 4, 12, 0x234)).toBe(true);
    natSetFairShare(true, 2);
    natSetPortReuse(true);
    let t: u64 = 1000;
    let flooded = 0;
    for (let i = 0; i < 100; i++) if (natOutbound(NAT_TCP, FLOODER, 10000 + i, R1, 80, TCP_SYN, t++) > 0) flooded++;
    // Every port has a session toward R1:80: none can be shared toward it.
    expect<i32>(flooded).toBe(15);
    let victim = 0;
    for (let round = 0; round < 20; round++) {
      if (natOutbound(NAT_TCP, VICTIM, 40000 + round, server(round), 443, TCP_SYN, t++) > 0) victim++;
    }
    expect<i32>(victim).toBe(20);
    expect<u64>(natCounter(NAT_C_RECLAIMED_SHARE)).toBe(0);
    expect<u64>(natCounter(NAT_C_PORT_REUSED)).toBe(20);
    log<string>("SYN flood (reuse): flooder " + flooded.toString() + "; victim " + victim.toString() + "/20 connections");
  });
});

/** Opens `n` TCP connections to distinct servers (one each); returns how many the NAT held. */
function openDistinct(n: i32): i32 {
  let held = 0;
  let t: u64 = 1000;
  for (let i = 0; i < n; i++) {
    const host = ip(192, 168, 1, 10 + (i & 7));
    const s = natOutbound(NAT_TCP, host, 1024 + i, server(i), 443, TCP_SYN, t++);
    if (s <= 0) continue;
    held++;
    // Inbound demultiplexing stays exact: the SYN-ACK reaches this session.
    const back = natInbound(NAT_TCP, natSessionExtPort(s), server(i), 443, TCP_SYN | TCP_ACK, t++);
    if (back != s || natSessionIntAddr(back) != host || natSessionIntPort(back) != 1024 + i) return -1;
  }
  return held;
}

describe("port reuse toward distinct destinations (RFC 7857 §3)", () => {
  it("concurrent TCP connections to distinct servers: 15-port and 240-port sets, with and without reuse", () => {
    const N = 3000;
    expect<bool>(freshNat(8192, 4096, 4, 12, 0x234)).toBe(true);
    const janogOff = openDistinct(N);
    expect<bool>(freshNat(8192, 4096, 4, 12, 0x234)).toBe(true);
    natSetPortReuse(true);
    const janogOn = openDistinct(N);
    expect<bool>(freshNat(8192, 4096, 4, 8, 0x12)).toBe(true);
    const v6Off = openDistinct(N);
    expect<bool>(freshNat(8192, 4096, 4, 8, 0x12)).toBe(true);
    natSetPortReuse(true);
    const v6On = openDistinct(N);
    expect<i32>(janogOff).toBe(15);
    expect<i32>(v6Off).toBe(240);
    expect<i32>(janogOn).toBe(N);
    expect<i32>(v6On).toBe(N);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(<u64>N);
    log<string>("connections to " + N.toString() + " distinct servers held: 15 ports " + janogOff.toString() +
      " without reuse, " + janogOn.toString() + " with; 240 ports " + v6Off.toString() + " without, " +
      v6On.toString() + " with");
  });

  it("refuses a second connection toward the same remote on a shared port; UDP never shares", () => {
    expect<bool>(freshNat(8192, 0, 4, 12, 0x234)).toBe(true);
    natSetPortReuse(true);
    let t: u64 = 1000;
    for (let i = 0; i < 15; i++) expect<i32>(natOutbound(NAT_TCP, FLOODER, 10000 + i, R1, 80, TCP_SYN, t++)).toBeGreaterThan(0);
    // Toward R1:80 every port is taken: no port can tell a 16th connection apart.
    expect<i32>(natOutbound(NAT_TCP, VICTIM, 40000, R1, 80, TCP_SYN, t++)).toBe(NAT_E_NO_PORT);
    // Another port of R1 is another remote endpoint: it shares.
    const s = natOutbound(NAT_TCP, VICTIM, 40001, R1, 81, TCP_SYN, t++);
    expect<i32>(s).toBeGreaterThan(0);
    // That (shared) mapping toward R1:80 would collide with the port's holder.
    expect<i32>(natOutbound(NAT_TCP, VICTIM, 40001, R1, 80, TCP_SYN, t++)).toBe(NAT_E_NO_PORT);
    for (let i = 0; i < 15; i++) expect<i32>(natOutbound(NAT_UDP, FLOODER, 10000 + i, R1, 80, 0, t++)).toBeGreaterThan(0);
    expect<i32>(natOutbound(NAT_UDP, VICTIM, 40000, ip(9, 9, 9, 9), 80, 0, t++)).toBe(NAT_E_NO_PORT);
  });
});
