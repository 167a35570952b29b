import {
  natInit, natReset, natSetPortSet, natOutbound, natInbound, natExpire, natFindSession,
  natFindSessionInbound, natFindMapping, natFindMappingInternal, natSetFiltering, natSetTimeouts,
  natSetInboundRefresh, natSetPortPreservation, natSetEvictOnFull, natCounter, natFreePorts, natBytes,
  natSessionExtPort, natSessionIntAddr, natSessionIntPort, natSessionRemPort, natSessionProto,
  natSessionTcpState, natSessionClass, natSessionFlags, natSessionSpare, natSetSessionSpare,
  natSessionMapping, natMappingExtPort, natMappingIntAddr, natMappingIntPort, natMappingSessions,
  natTimeout,
  NAT_TCP, NAT_UDP, NAT_ICMP, NAT_FILTER_EIF, NAT_FILTER_ADF, NAT_FILTER_APDF,
  NAT_E_ARG, NAT_E_NOT_READY, NAT_E_NO_PORT, NAT_E_FULL, NAT_E_NO_MAPPING, NAT_E_FILTERED,
  NAT_C_ACTIVE_SESSIONS, NAT_C_ACTIVE_MAPPINGS, NAT_C_SESSIONS_CREATED, NAT_C_SESSIONS_EXPIRED,
  NAT_C_REFUSED_NO_PORT, NAT_C_REFUSED_FULL, NAT_C_SESSIONS_EVICTED,
  NAT_CLASS_TCP_EST, NAT_CLASS_TCP_TRANS, NAT_CLASS_UDP, NAT_CLASS_UDP_DNS, NAT_CLASS_ICMP, NAT_SF_INBOUND,
} from "../../assembly/nat/nat";
import {
  TCP_SYN, TCP_ACK, TCP_FIN, TCP_RST, TCP_OUT_SYN, TCP_IN_SYN, TCP_ESTABLISHED, TCP_FIN_OUT,
  TCP_FIN_IN, TCP_FIN_BOTH, TCP_TRANS, tcpNextState,
} from "../../assembly/nat/tcp";
import { PortSet, portSetInit, portSetIndex, portSetPort } from "../../assembly/map/portset";
import { ip, sec, freshNat } from "./nat_helpers";

const H1 = ip(192, 168, 1, 10);
const H2 = ip(192, 168, 1, 11);
const R1 = ip(203, 0, 113, 1);
const R2 = ip(203, 0, 113, 2);
const R3 = ip(198, 51, 100, 7);
const set = new PortSet();

describe("NAT before natInit", () => {
  it("refuses everything and writes nothing", () => {
    expect<i32>(natOutbound(NAT_UDP, H1, 5000, R1, 53, 0, 0)).toBe(NAT_E_NOT_READY);
    expect<i32>(natInbound(NAT_UDP, 5000, R1, 53, 0, 0)).toBe(NAT_E_NOT_READY);
    expect<i32>(natExpire(0, 10)).toBe(0);
    expect<bool>(natSetPortSet(4, 8, 1)).toBe(false);
    expect<i32>(natFindMapping(NAT_UDP, 5000)).toBe(0);
    expect<bool>(natSetSessionSpare(1, 7)).toBe(false);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });
});

describe("NAT mapping (RFC 4787 REQ-1, REQ-3)", () => {
  it("one internal endpoint to two destinations keeps one external port (EIM)", () => {
    expect<bool>(freshNat(1024, 0, 4, 8, 0x12)).toBe(true);
    portSetInit(set, 4, 8, 0x12);
    const a = natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, sec(1));
    const b = natOutbound(NAT_UDP, H1, 1000, R2, 443, 0, sec(2));
    expect<i32>(a).toBeGreaterThan(0);
    expect<i32>(b).toBeGreaterThan(0);
    expect<bool>(a != b).toBe(true);
    expect<i32>(natSessionExtPort(b)).toBe(natSessionExtPort(a));
    expect<i32>(portSetIndex(set, natSessionExtPort(a))).toBeGreaterThanOrEqual(0);
    const m = natSessionMapping(a);
    expect<i32>(natSessionMapping(b)).toBe(m);
    expect<i32>(natMappingSessions(m)).toBe(2);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(1);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(2);
    // The same packet again finds the same session.
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, sec(3))).toBe(a);
    expect<u64>(natCounter(NAT_C_SESSIONS_CREATED)).toBe(2);
    // Another protocol is another port space and another mapping.
    const t = natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_SYN, sec(3));
    expect<bool>(natSessionMapping(t) != m).toBe(true);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(2);
  });

  it("keeps the internal port when it is in the set and free", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    portSetInit(set, 4, 8, 0x12);
    const p = portSetPort(set, 100);
    const a = natOutbound(NAT_UDP, H1, p, R1, 80, 0, 0);
    expect<i32>(natSessionExtPort(a)).toBe(p);
    // A second host with the same port cannot have it (no overloading, REQ-3).
    const b = natOutbound(NAT_UDP, H2, p, R1, 80, 0, 0);
    expect<bool>(natSessionExtPort(b) != p).toBe(true);
    expect<i32>(portSetIndex(set, natSessionExtPort(b))).toBeGreaterThanOrEqual(0);
    // TCP is a separate space: the port is free there.
    const t = natOutbound(NAT_TCP, H2, p, R1, 80, TCP_SYN, 0);
    expect<i32>(natSessionExtPort(t)).toBe(p);
    // Without preservation the port is random (here: p is taken for UDP anyway; use ICMP).
    natSetPortPreservation(false);
    let kept = 0;
    for (let i = 0; i < 20; i++) {
      const s = natOutbound(NAT_ICMP, ip(10, 0, 0, <i32>i + 1), portSetPort(set, i), R1, 0, 0, 0);
      if (natSessionExtPort(s) == portSetPort(set, i)) kept++;
    }
    expect<i32>(kept).toBeLessThan(20);
    natSetPortPreservation(true);
  });

  it("v6plus-like set (a=4, k=8, 240 ports): more flows than one range spread over ranges; all 240 get used, then refusal", () => {
    freshNat(4096, 0, 4, 8, 0x34);
    portSetInit(set, 4, 8, 0x34);
    // 32 flows: two ranges' worth. Random start indices must not pile into range 0.
    const used = new StaticArray<i32>(15);
    for (let i = 0; i < 32; i++) {
      const s = natOutbound(NAT_UDP, H1, 1000 + i, R1, 80, 0, 0);
      used[portSetIndex(set, natSessionExtPort(s)) >> 4]++;
    }
    let ranges = 0;
    for (let r = 0; r < 15; r++) if (used[r] > 0) ranges++;
    expect<i32>(ranges).toBeGreaterThan(4);
    for (let i = 32; i < 240; i++) natOutbound(NAT_UDP, H1, 1000 + i, R1, 80, 0, 0);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(240);
    expect<i32>(natFreePorts(NAT_UDP)).toBe(0);
    // Every port of every range is owned by exactly one mapping.
    let bad = 0;
    for (let i = 0; i < 240; i++) {
      const m = natFindMapping(NAT_UDP, portSetPort(set, i));
      if (m == 0 || natMappingExtPort(m) != portSetPort(set, i)) bad++;
    }
    expect<i32>(bad).toBe(0);
    expect<i32>(natOutbound(NAT_UDP, H1, 2000, R1, 80, 0, 0)).toBe(NAT_E_NO_PORT);
    expect<u64>(natCounter(NAT_C_REFUSED_NO_PORT)).toBe(1);
    // An existing mapping still gets new sessions when the set is exhausted.
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R2, 80, 0, 0)).toBeGreaterThan(0);
    // Other protocols are unaffected.
    expect<i32>(natOutbound(NAT_TCP, H1, 2000, R1, 80, TCP_SYN, 0)).toBeGreaterThan(0);
  });

  it("JANOG set (a=4, k=12): all 15 single-port ranges, then exactly one refusal per try", () => {
    freshNat(1024, 0, 4, 12, 564);
    portSetInit(set, 4, 12, 564);
    let seen = 0;
    for (let i = 0; i < 15; i++) {
      const s = natOutbound(NAT_UDP, H1, 40000 + i, R1, 80, 0, 0);
      if (s > 0) seen |= 1 << portSetIndex(set, natSessionExtPort(s));
    }
    expect<i32>(seen).toBe(0x7fff);
    expect<i32>(natOutbound(NAT_UDP, H2, 40000, R1, 80, 0, 0)).toBe(NAT_E_NO_PORT);
    expect<i32>(natOutbound(NAT_UDP, H2, 40001, R1, 80, 0, 0)).toBe(NAT_E_NO_PORT);
    expect<u64>(natCounter(NAT_C_REFUSED_NO_PORT)).toBe(2);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(15);
  });

  it("a = 0 sets never hand out port 0 for TCP/UDP", () => {
    freshNat(256, 0, 0, 12, 0); // ports 0..15
    expect<i32>(natFreePorts(NAT_UDP)).toBe(15);
    expect<i32>(natFreePorts(NAT_ICMP)).toBe(16);
    let zero = 0;
    for (let i = 0; i < 15; i++) if (natSessionExtPort(natOutbound(NAT_UDP, H1, 100 + i, R1, 80, 0, 0)) == 0) zero++;
    expect<i32>(zero).toBe(0);
    expect<i32>(natOutbound(NAT_UDP, H1, 200, R1, 80, 0, 0)).toBe(NAT_E_NO_PORT);
  });
});

describe("NAT filtering (RFC 4787 REQ-8)", () => {
  it("APDF: only the contacted address and port", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const s = natOutbound(NAT_UDP, H1, 1000, R1, 3478, 0, 0);
    const e = natSessionExtPort(s);
    expect<i32>(natInbound(NAT_UDP, e, R1, 3478, 0, 1)).toBe(s);
    expect<u32>(natSessionIntAddr(s)).toBe(H1);
    expect<i32>(natSessionIntPort(s)).toBe(1000);
    expect<i32>(natInbound(NAT_UDP, e, R1, 3479, 0, 1)).toBe(NAT_E_FILTERED);
    expect<i32>(natInbound(NAT_UDP, e, R2, 3478, 0, 1)).toBe(NAT_E_FILTERED);
    expect<i32>(natInbound(NAT_UDP, e ^ 1, R1, 3478, 0, 1)).toBe(NAT_E_NO_MAPPING);
    expect<i32>(natInbound(NAT_TCP, e, R1, 3478, TCP_SYN, 1)).toBe(NAT_E_NO_MAPPING);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(1);
  });

  it("ADF: another port of a contacted address, not another address", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    natSetFiltering(NAT_FILTER_ADF);
    const s = natOutbound(NAT_UDP, H1, 1000, R1, 3478, 0, 0);
    const e = natSessionExtPort(s);
    const n = natInbound(NAT_UDP, e, R1, 3479, 0, 1);
    expect<i32>(n).toBeGreaterThan(0);
    expect<bool>(n != s).toBe(true);
    expect<i32>(natSessionFlags(n)).toBe(NAT_SF_INBOUND);
    expect<i32>(natSessionMapping(n)).toBe(natSessionMapping(s));
    expect<u32>(natSessionIntAddr(n)).toBe(H1);
    expect<i32>(natInbound(NAT_UDP, e, R2, 3478, 0, 1)).toBe(NAT_E_FILTERED);
    // The address stops being "contacted" when its sessions expire (even
    // before natExpire reclaims them), and the mapping goes with them.
    expect<i32>(natInbound(NAT_UDP, e, R1, 5000, 0, sec(400))).toBe(NAT_E_FILTERED);
    natExpire(sec(400), 100);
    expect<i32>(natInbound(NAT_UDP, e, R1, 5000, 0, sec(400))).toBe(NAT_E_NO_MAPPING);
    // Switching modes with live sessions keeps them findable.
    const s2 = natOutbound(NAT_UDP, H1, 1000, R1, 3478, 0, sec(500));
    natSetFiltering(NAT_FILTER_APDF);
    expect<i32>(natInbound(NAT_UDP, natSessionExtPort(s2), R1, 3478, 0, sec(501))).toBe(s2);
    natSetFiltering(NAT_FILTER_ADF);
    expect<i32>(natInbound(NAT_UDP, natSessionExtPort(s2), R1, 3478, 0, sec(502))).toBe(s2);
  });

  it("EIF: any remote reaches an existing mapping and gets its own session", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    natSetFiltering(NAT_FILTER_EIF);
    const s = natOutbound(NAT_UDP, H1, 1000, R1, 3478, 0, 0);
    const e = natSessionExtPort(s);
    const n = natInbound(NAT_UDP, e, R3, 9999, 0, 1);
    expect<i32>(n).toBeGreaterThan(0);
    expect<i32>(natSessionRemPort(n)).toBe(9999);
    expect<i32>(natFindSession(NAT_UDP, H1, 1000, R3, 9999)).toBe(n);
    expect<i32>(natFindSessionInbound(NAT_UDP, e, R3, 9999)).toBe(n);
    expect<i32>(natInbound(NAT_UDP, e ^ 1, R3, 9999, 0, 1)).toBe(NAT_E_NO_MAPPING);
    // TCP: only a bare SYN from a stranger opens a session.
    const t = natOutbound(NAT_TCP, H1, 2000, R1, 80, TCP_SYN, 0);
    const te = natSessionExtPort(t);
    expect<i32>(natInbound(NAT_TCP, te, R3, 80, TCP_ACK, 1)).toBe(NAT_E_FILTERED);
    expect<i32>(natInbound(NAT_TCP, te, R3, 80, TCP_SYN | TCP_ACK, 1)).toBe(NAT_E_FILTERED);
    const ts = natInbound(NAT_TCP, te, R3, 80, TCP_SYN, 1);
    expect<i32>(natSessionTcpState(ts)).toBe(TCP_IN_SYN);
    expect<i32>(natOutbound(NAT_TCP, H1, 2000, R3, 80, TCP_SYN | TCP_ACK, 2)).toBe(ts);
    expect<i32>(natSessionTcpState(ts)).toBe(TCP_ESTABLISHED);
  });

  it("hairpin look-ups create and refresh nothing", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const s = natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, sec(0));
    const e = natSessionExtPort(s);
    const m = natFindMapping(NAT_UDP, e);
    expect<i32>(m).toBe(natSessionMapping(s));
    expect<u32>(natMappingIntAddr(m)).toBe(H1);
    expect<i32>(natMappingIntPort(m)).toBe(1000);
    expect<i32>(natFindMappingInternal(NAT_UDP, H1, 1000)).toBe(m);
    expect<i32>(natFindSession(NAT_UDP, H1, 1000, R2, 80)).toBe(0);
    expect<i32>(natFindSession(NAT_UDP, H1, 1000, R1, 80)).toBe(s);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(1);
    // Look-ups at a later time did not refresh: the session expires at 300 s.
    expect<i32>(natExpire(sec(300), 10)).toBe(1);
    expect<i32>(natFindMapping(NAT_UDP, e)).toBe(0);
  });
});

describe("NAT timeouts and expiry", () => {
  it("UDP 300 s, refreshed by outbound and (by default) inbound", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const s = natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, sec(0));
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_UDP);
    expect<i32>(natExpire(sec(299), 10)).toBe(0);
    natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, sec(299));
    expect<i32>(natExpire(sec(598), 10)).toBe(0);
    natInbound(NAT_UDP, natSessionExtPort(s), R1, 80, 0, sec(598));
    expect<i32>(natExpire(sec(897), 10)).toBe(0);
    expect<i32>(natExpire(sec(898), 10)).toBe(1);
    expect<u64>(natCounter(NAT_C_SESSIONS_EXPIRED)).toBe(1);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
    // Inbound refresh off: only outbound packets keep the session.
    natSetInboundRefresh(false);
    const t = natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, sec(1000));
    natInbound(NAT_UDP, natSessionExtPort(t), R1, 80, 0, sec(1200));
    expect<i32>(natExpire(sec(1300), 10)).toBe(1);
    natSetInboundRefresh(true);
  });

  it("UDP to port 53 times out after 30 s, other UDP of the same mapping stays", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const d = natOutbound(NAT_UDP, H1, 1000, R1, 53, 0, sec(0));
    const u = natOutbound(NAT_UDP, H1, 1000, R2, 123, 0, sec(0));
    expect<i32>(natSessionClass(d)).toBe(NAT_CLASS_UDP_DNS);
    expect<i32>(natExpire(sec(29), 10)).toBe(0);
    expect<i32>(natExpire(sec(30), 10)).toBe(1);
    expect<i32>(natFindSession(NAT_UDP, H1, 1000, R1, 53)).toBe(0);
    expect<i32>(natSessionExtPort(u)).toBeGreaterThan(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(1);
    // Configurable.
    expect<bool>(natSetTimeouts(300, 5, 7440, 240, 60)).toBe(true);
    natOutbound(NAT_UDP, H1, 1000, R1, 53, 0, sec(100));
    expect<i32>(natExpire(sec(105), 10)).toBe(1);
    expect<i32>(natTimeout(NAT_CLASS_UDP_DNS)).toBe(5);
  });

  it("rejects timeouts below the RFC minimums", () => {
    expect<bool>(natSetTimeouts(119, 30, 7440, 240, 60)).toBe(false);
    expect<bool>(natSetTimeouts(300, 0, 7440, 240, 60)).toBe(false);
    expect<bool>(natSetTimeouts(300, 30, 7439, 240, 60)).toBe(false);
    expect<bool>(natSetTimeouts(300, 30, 7440, 239, 60)).toBe(false);
    expect<bool>(natSetTimeouts(300, 30, 7440, 240, 59)).toBe(false);
    expect<i32>(natTimeout(NAT_CLASS_UDP)).toBe(300);
    expect<i32>(natTimeout(9)).toBe(-1);
  });

  it("ICMP query 60 s; the identifier is the port, the remote port is ignored", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const s = natOutbound(NAT_ICMP, H1, 0x1234, R1, 999, 0, sec(0));
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_ICMP);
    expect<i32>(natSessionRemPort(s)).toBe(0);
    expect<i32>(natInbound(NAT_ICMP, natSessionExtPort(s), R1, 0, 0, sec(1))).toBe(s);
    expect<i32>(natExpire(sec(60), 10)).toBe(0);
    expect<i32>(natExpire(sec(61), 10)).toBe(1);
  });

  it("expiry returns ports to the set; budgeted expiry reclaims at most budget", () => {
    freshNat(1024, 0, 4, 12, 564);
    for (let i = 0; i < 15; i++) natOutbound(NAT_UDP, H1, 40000 + i, R1, 80, 0, sec(i));
    expect<i32>(natOutbound(NAT_UDP, H2, 40000, R1, 80, 0, sec(20))).toBe(NAT_E_NO_PORT);
    expect<i32>(natExpire(sec(305), 4)).toBe(4);   // sessions of t = 0..5 are due; budget 4
    expect<i32>(natExpire(sec(305), 4)).toBe(2);   // t = 4, 5
    expect<i32>(natExpire(sec(305), 4)).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(9);
    expect<i32>(natFreePorts(NAT_UDP)).toBe(6);
    expect<i32>(natExpire(sec(400), 100)).toBe(9);
    expect<i32>(natFreePorts(NAT_UDP)).toBe(15);
    // Every port is usable again.
    let ok = 0;
    for (let i = 0; i < 15; i++) if (natOutbound(NAT_UDP, H2, 30000 + i, R1, 80, 0, sec(401)) > 0) ok++;
    expect<i32>(ok).toBe(15);
  });

  it("a backlog in one class does not starve the others", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    for (let i = 0; i < 10; i++) {
      natOutbound(NAT_UDP, H1, 1000 + i, R1, 80, 0, sec(0));
      natOutbound(NAT_ICMP, H1, 1000 + i, R1, 0, 0, sec(0));
    }
    for (let i = 0; i < 5; i++) natExpire(sec(1000), 1);
    let udp = 0, icmp = 0;
    for (let i = 0; i < 10; i++) {
      if (natFindSession(NAT_UDP, H1, 1000 + i, R1, 80)) udp++;
      if (natFindSession(NAT_ICMP, H1, 1000 + i, R1, 0)) icmp++;
    }
    expect<i32>(udp).toBeLessThan(10);
    expect<i32>(icmp).toBeLessThan(10);
    expect<i32>(udp + icmp).toBe(15);
  });

  it("the expiry hand: a round carried across small calls, then exact reclaim at each timeout", () => {
    freshNat(4096, 0, 0, 0, 0);
    for (let i = 0; i < 300; i++) natOutbound(NAT_UDP, H1, 1000 + i, R1, 80, 0, sec(0));
    // Budget 1: each call requeues at most 20 live heads, so the round spans calls.
    for (let k = 0; k < 3; k++) expect<i32>(natExpire(sec(10), 1)).toBe(0);
    for (let i = 1; i < 300; i += 2) natOutbound(NAT_UDP, H1, 1000 + i, R1, 80, 0, sec(200));
    expect<i32>(natExpire(sec(299), 1 << 30)).toBe(0);
    expect<i32>(natExpire(sec(300), 1 << 30)).toBe(150);   // every one not refreshed, at once
    expect<i32>(natExpire(sec(301), 1 << 30)).toBe(0);
    expect<i32>(natExpire(sec(499), 1 << 30)).toBe(0);     // the refreshed ones are due at 500 s
    expect<i32>(natExpire(sec(500), 1 << 30)).toBe(150);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });

  it("a shorter timeout applies at once to the expiry hand's next call", () => {
    freshNat(1024, 0, 0, 0, 0);
    for (let i = 0; i < 10; i++) natOutbound(NAT_UDP, H1, 1000 + i, R1, 80, 0, sec(0));
    expect<i32>(natExpire(sec(10), 100)).toBe(0);          // the hand has gone round: nothing due before 300 s
    expect<bool>(natSetTimeouts(120, 30, 7440, 240, 60)).toBe(true);
    expect<i32>(natExpire(sec(121), 100)).toBe(10);
  });

  it("an exhausted set reclaims expired mappings on demand, without natExpire", () => {
    freshNat(1024, 0, 4, 12, 564);
    for (let i = 0; i < 15; i++) natOutbound(NAT_UDP, H1, 40000 + i, R1, 80, 0, sec(0));
    const s = natOutbound(NAT_UDP, H2, 40000, R1, 80, 0, sec(300));
    expect<i32>(s).toBeGreaterThan(0);
  });
});

describe("NAT TCP state (RFC 5382)", () => {
  it("state machine rows", () => {
    // (state, outbound, flags) -> next
    let bad = 0;
    if (tcpNextState(0, true, TCP_SYN) != TCP_OUT_SYN) bad |= 1;
    if (tcpNextState(0, true, TCP_ACK) != TCP_TRANS) bad |= 2;
    if (tcpNextState(TCP_OUT_SYN, false, TCP_SYN | TCP_ACK) != TCP_ESTABLISHED) bad |= 4;
    if (tcpNextState(TCP_OUT_SYN, true, TCP_SYN) != TCP_OUT_SYN) bad |= 8;
    if (tcpNextState(TCP_OUT_SYN, false, TCP_ACK) != TCP_OUT_SYN) bad |= 16;
    if (tcpNextState(TCP_IN_SYN, true, TCP_SYN | TCP_ACK) != TCP_ESTABLISHED) bad |= 32;
    if (tcpNextState(TCP_ESTABLISHED, true, TCP_FIN | TCP_ACK) != TCP_FIN_OUT) bad |= 64;
    if (tcpNextState(TCP_ESTABLISHED, false, TCP_FIN | TCP_ACK) != TCP_FIN_IN) bad |= 128;
    if (tcpNextState(TCP_FIN_OUT, true, TCP_FIN) != TCP_FIN_OUT) bad |= 256;
    if (tcpNextState(TCP_FIN_OUT, false, TCP_FIN) != TCP_FIN_BOTH) bad |= 512;
    if (tcpNextState(TCP_FIN_IN, true, TCP_FIN) != TCP_FIN_BOTH) bad |= 1024;
    if (tcpNextState(TCP_FIN_BOTH, true, TCP_ACK) != TCP_FIN_BOTH) bad |= 2048;
    if (tcpNextState(TCP_FIN_BOTH, true, TCP_SYN) != TCP_OUT_SYN) bad |= 4096;
    if (tcpNextState(TCP_ESTABLISHED, false, TCP_RST) != TCP_TRANS) bad |= 8192;
    if (tcpNextState(TCP_TRANS, true, TCP_ACK) != TCP_ESTABLISHED) bad |= 16384;
    if (tcpNextState(TCP_TRANS, false, TCP_RST | TCP_ACK) != TCP_TRANS) bad |= 32768;
    if (tcpNextState(TCP_TRANS, true, TCP_SYN) != TCP_OUT_SYN) bad |= 65536;
    if (tcpNextState(TCP_ESTABLISHED, true, TCP_SYN | TCP_ACK) != TCP_ESTABLISHED) bad |= 131072;
    expect<i32>(bad).toBe(0);
  });

  it("an outbound RST opens no mapping; with a mapping it gets a transitory session", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    expect<i32>(natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_RST | TCP_ACK, 0)).toBe(NAT_E_FILTERED);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
    natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_SYN, 0);
    const r = natOutbound(NAT_TCP, H1, 1000, R2, 80, TCP_RST, 0);
    expect<i32>(natSessionTcpState(r)).toBe(TCP_TRANS);
    // A mid-stream packet (no SYN) opens a transitory session.
    const m = natOutbound(NAT_TCP, H1, 1001, R1, 80, TCP_ACK, 0);
    expect<i32>(natSessionTcpState(m)).toBe(TCP_TRANS);
  });

  it("SYN-only is transitory (240 s)", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const s = natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_SYN, sec(0));
    expect<i32>(natSessionTcpState(s)).toBe(TCP_OUT_SYN);
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_TCP_TRANS);
    expect<i32>(natExpire(sec(239), 10)).toBe(0);
    expect<i32>(natExpire(sec(240), 10)).toBe(1);
  });

  it("handshake, established 7440 s, FIN both ways back to 240 s, RST 240 s and revival", () => {
    freshNat(1024, 0, 4, 8, 0x12);
    const s = natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_SYN, sec(0));
    const e = natSessionExtPort(s);
    expect<i32>(natInbound(NAT_TCP, e, R1, 80, TCP_SYN | TCP_ACK, sec(1))).toBe(s);
    expect<i32>(natSessionTcpState(s)).toBe(TCP_ESTABLISHED);
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_TCP_EST);
    natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_ACK, sec(2));
    expect<i32>(natExpire(sec(2 + 7439), 10)).toBe(0);
    natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_ACK, sec(7441));
    // Half-closed keeps the established timeout.
    natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_FIN | TCP_ACK, sec(7442));
    expect<i32>(natSessionTcpState(s)).toBe(TCP_FIN_OUT);
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_TCP_EST);
    natInbound(NAT_TCP, e, R1, 80, TCP_FIN | TCP_ACK, sec(7443));
    expect<i32>(natSessionTcpState(s)).toBe(TCP_FIN_BOTH);
    expect<i32>(natSessionClass(s)).toBe(NAT_CLASS_TCP_TRANS);
    expect<i32>(natExpire(sec(7443 + 239), 10)).toBe(0);
    expect<i32>(natExpire(sec(7443 + 240), 10)).toBe(1);

    // RST: transitory, and further traffic revives it (the RST may have been spoofed).
    const t = natOutbound(NAT_TCP, H1, 1001, R1, 80, TCP_SYN, sec(10000));
    natInbound(NAT_TCP, natSessionExtPort(t), R1, 80, TCP_SYN | TCP_ACK, sec(10001));
    natInbound(NAT_TCP, natSessionExtPort(t), R1, 80, TCP_RST, sec(10002));
    expect<i32>(natSessionTcpState(t)).toBe(TCP_TRANS);
    expect<i32>(natSessionClass(t)).toBe(NAT_CLASS_TCP_TRANS);
    natOutbound(NAT_TCP, H1, 1001, R1, 80, TCP_ACK, sec(10003));
    expect<i32>(natSessionTcpState(t)).toBe(TCP_ESTABLISHED);
    natOutbound(NAT_TCP, H1, 1001, R1, 80, TCP_RST, sec(10004));
    expect<i32>(natExpire(sec(10004 + 240), 10)).toBe(1);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });
});

describe("NAT capacity", () => {
  it("session table full: refused and counted, never evicting; usable after expiry", () => {
    freshNat(8, 8, 4, 8, 0x12);
    let ok = 0;
    for (let i = 0; i < 8; i++) if (natOutbound(NAT_UDP, H1, 1000, ip(1, 1, 1, i + 1), 80, 0, sec(i)) > 0) ok++;
    expect<i32>(ok).toBe(8);
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R2, 80, 0, sec(10))).toBe(NAT_E_FULL);
    expect<i32>(natOutbound(NAT_UDP, H2, 1000, R2, 80, 0, sec(10))).toBe(NAT_E_FULL);
    expect<u64>(natCounter(NAT_C_REFUSED_FULL)).toBe(2);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(8);
    // Live sessions are still all there.
    let found = 0;
    for (let i = 0; i < 8; i++) if (natFindSession(NAT_UDP, H1, 1000, ip(1, 1, 1, i + 1), 80) > 0) found++;
    expect<i32>(found).toBe(8);
    // At 300 s the oldest is expired: a new one fits without natExpire.
    expect<i32>(natOutbound(NAT_UDP, H2, 1000, R2, 80, 0, sec(300))).toBeGreaterThan(0);
  });

  it("mapping table full", () => {
    freshNat(16, 2, 4, 8, 0x12);
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, 0)).toBeGreaterThan(0);
    expect<i32>(natOutbound(NAT_UDP, H1, 1001, R1, 80, 0, 0)).toBeGreaterThan(0);
    expect<i32>(natOutbound(NAT_UDP, H1, 1002, R1, 80, 0, 0)).toBe(NAT_E_FULL);
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R2, 80, 0, 0)).toBeGreaterThan(0);
    expect<u64>(natCounter(NAT_C_REFUSED_FULL)).toBe(1);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(2);
  });

  it("opt-in eviction takes the oldest transitory TCP session", () => {
    freshNat(4, 4, 4, 8, 0x12);
    natSetEvictOnFull(true);
    const old = natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_SYN, sec(0));
    natOutbound(NAT_UDP, H1, 1001, R1, 80, 0, sec(1));
    natOutbound(NAT_UDP, H1, 1002, R1, 80, 0, sec(2));
    natOutbound(NAT_UDP, H1, 1003, R1, 80, 0, sec(3));
    const n = natOutbound(NAT_UDP, H1, 1004, R1, 80, 0, sec(4));
    expect<i32>(n).toBeGreaterThan(0);
    expect<i32>(natFindSession(NAT_TCP, H1, 1000, R1, 80)).toBe(0);
    expect<u64>(natCounter(NAT_C_SESSIONS_EVICTED)).toBe(1);
    expect<i32>(natOutbound(NAT_UDP, H1, 1005, R1, 80, 0, sec(5))).toBe(NAT_E_FULL);
    natSetEvictOnFull(false);
    expect<i32>(old).toBeGreaterThan(0);
  });

  it("64K sessions fit, and the bytes per session are measured", () => {
    expect<bool>(freshNat(65536, 0, 0, 0, 0)).toBe(true); // a whole address: 65535 UDP ports
    const bytes = natBytes();
    log<string>("NAT bytes for 65536 sessions + 16384 mappings: " + bytes.toString() +
      " (" + (bytes / 65536).toString() + " per session all in)");
    // 56-byte session, its two hash heads, and per session a quarter of a
    // mapping (40 bytes, two heads) and of a host record (32 with the
    // fair-share port counts and refusals, one head).
    expect<usize>(bytes / 65536).toBeLessThanOrEqual(85);
    let ok = 0;
    for (let i = 0; i < 65536; i++) {
      // 4096 internal endpoints × 16 destinations: 4096 mappings.
      if (natOutbound(NAT_UDP, ip(10, 0, (i >> 8) & 15, i & 255), 5000, R1, 1000 + (i >> 12), 0, 0) > 0) ok++;
    }
    expect<i32>(ok).toBe(65536);
    expect<i32>(natOutbound(NAT_UDP, H1, 1, R1, 1, 0, 0)).toBe(NAT_E_FULL);
    let found = 0;
    for (let i = 0; i < 65536; i++) {
      if (natFindSession(NAT_UDP, ip(10, 0, (i >> 8) & 15, i & 255), 5000, R1, 1000 + (i >> 12)) > 0) found++;
    }
    expect<i32>(found).toBe(65536);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(4096);
    expect<i32>(natExpire(sec(300), 1 << 30)).toBe(65536);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
  });
});

describe("NAT bad arguments", () => {
  it("refuses unknown protocols, out-of-range ports and bad handles", () => {
    freshNat(64, 0, 4, 8, 0x12);
    expect<i32>(natOutbound(0, H1, 1000, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natOutbound(58, H1, 1000, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natOutbound(NAT_UDP, H1, -1, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natOutbound(NAT_UDP, H1, 65536, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R1, 0x10050, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natInbound(NAT_UDP, -5, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natInbound(NAT_UDP, 70000, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natInbound(200, 5000, R1, 80, 0, 0)).toBe(NAT_E_ARG);
    expect<i32>(natFindMapping(NAT_UDP, 1 << 20)).toBe(0);
    expect<i32>(natFindSession(-1, H1, 1, R1, 1)).toBe(0);
    expect<i32>(natExpire(0, -1)).toBe(0);
    expect<u64>(natCounter(-1)).toBe(0);
    expect<u64>(natCounter(99)).toBe(0);
    const s = natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, 0);
    expect<bool>(natSetSessionSpare(s, 0x1234)).toBe(true);
    expect<i32>(natSessionSpare(s)).toBe(0x1234);
    expect<bool>(natSetSessionSpare(0, 1)).toBe(false);
    expect<bool>(natSetSessionSpare(-1, 1)).toBe(false);
    expect<bool>(natSetSessionSpare(s + 1, 1)).toBe(false);
    expect<bool>(natSetSessionSpare(0x7fffffff, 1)).toBe(false);
    expect<i32>(natSessionExtPort(123456)).toBe(0);
    expect<i32>(natMappingExtPort(-3)).toBe(0);
    expect<i32>(natSessionProto(s)).toBe(NAT_UDP);
    expect<bool>(natSetPortSet(16, 0, 0)).toBe(false);
    expect<bool>(natSetPortSet(6, 11, 0)).toBe(false);
    expect<bool>(natSetPortSet(-1, 4, 0)).toBe(false);
    expect<bool>(natSetFiltering(3)).toBe(false);
    expect<bool>(natInit(0, 0, 1)).toBe(false);
    // A freed session's handle is stale: accessors see nothing.
    natExpire(sec(1000), 10);
    expect<i32>(natSessionExtPort(s)).toBe(0);
    expect<bool>(natSetSessionSpare(s, 1)).toBe(false);
  });

  it("natReset drops everything and keeps cumulative counters", () => {
    freshNat(64, 0, 4, 8, 0x12);
    natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, 0);
    natOutbound(NAT_TCP, H1, 1000, R1, 80, TCP_SYN, 0);
    natReset();
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
    expect<u64>(natCounter(NAT_C_SESSIONS_CREATED)).toBe(2);
    expect<i32>(natFindSession(NAT_UDP, H1, 1000, R1, 80)).toBe(0);
    expect<i32>(natFreePorts(NAT_UDP)).toBe(240);
    expect<i32>(natOutbound(NAT_UDP, H1, 1000, R1, 80, 0, 0)).toBeGreaterThan(0);
  });
});
