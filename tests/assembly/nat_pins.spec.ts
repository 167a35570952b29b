// Pinned mappings (nat.ts natPin / natUnpin): static forwards and PCP /
// NAT-PMP mappings. Port set a=4, k=8, PSID 0x12: ports 0x1120..0x112f in
// each 4096 block, e.g. 4384..4399, 8480..8495, ...
import {
  natOutbound, natInbound, natExpire, natFindMapping, natFindMappingInternal, natSetFiltering,
  natSessionIntAddr, natSessionIntPort, natSessionExtPort, natMappingSessions, natMappingPinned,
  natMappingExtPort, natCounter, natFreePorts, natPin, natUnpin, natPortState, natFilterAdmits,
  natSetSessionLimits, natReset,
  NAT_TCP, NAT_UDP, NAT_ICMP, NAT_FILTER_APDF, NAT_FILTER_ADF,
  NAT_E_ARG, NAT_E_NOT_OURS, NAT_E_TAKEN, NAT_E_FILTERED, NAT_E_NO_MAPPING,
  NAT_C_ACTIVE_MAPPINGS,
} from "../../assembly/nat/nat";
import { TCP_SYN, TCP_ACK } from "../../assembly/nat/tcp";
import { ip, sec, freshNat } from "./nat_helpers";

const H1 = ip(192, 168, 1, 10);
const H2 = ip(192, 168, 1, 11);
const R1 = ip(203, 0, 113, 1);
const R2 = ip(198, 51, 100, 7);
const OURS = 4390;   // 0x1126: PSID 0x12 in bits 4..11
const OURS2 = 8485;  // 0x2125
const NOT_OURS = 4400; // 0x1130: PSID 0x13

describe("natPin (inbound ports)", () => {
  it("refuses a port outside the set, port 0, ICMP, and nothing changes", () => {
    expect<bool>(freshNat(256, 0, 4, 8, 0x12)).toBe(true);
    const free = natFreePorts(NAT_TCP);
    expect<i32>(natPin(NAT_TCP, H1, 80, NOT_OURS)).toBe(NAT_E_NOT_OURS);
    expect<i32>(natPin(NAT_TCP, H1, 80, 0)).toBe(NAT_E_NOT_OURS);
    expect<i32>(natPin(NAT_ICMP, H1, 80, OURS)).toBe(NAT_E_ARG);
    expect<i32>(natPin(NAT_TCP, H1, 0, OURS)).toBe(NAT_E_ARG);
    expect<i32>(natFreePorts(NAT_TCP)).toBe(free);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
    expect<i32>(natPortState(NAT_TCP, NOT_OURS)).toBe(-1);
    expect<i32>(natPortState(NAT_TCP, OURS)).toBe(1);
  });

  it("admits any remote under APDF, lives with no session, and outbound keeps its port (EIM)", () => {
    expect<bool>(freshNat(256, 0, 4, 8, 0x12)).toBe(true);
    natSetFiltering(NAT_FILTER_APDF);
    const m = natPin(NAT_TCP, H1, 80, OURS);
    expect<i32>(m).toBeGreaterThan(0);
    expect<bool>(natMappingPinned(m)).toBe(true);
    expect<i32>(natPortState(NAT_TCP, OURS)).toBe(0);
    expect<i32>(natMappingSessions(m)).toBe(0);
    // A stranger's SYN opens a session to the LAN host.
    const s = natInbound(NAT_TCP, OURS, R1, 40000, TCP_SYN, sec(1));
    expect<i32>(s).toBeGreaterThan(0);
    expect<u32>(natSessionIntAddr(s)).toBe(H1);
    expect<i32>(natSessionIntPort(s)).toBe(80);
    expect<bool>(natFilterAdmits(NAT_TCP, OURS, R2, 1, sec(1))).toBe(true);
    // A bare ACK from a stranger still opens nothing (RFC 5382).
    expect<i32>(natInbound(NAT_TCP, OURS, R2, 1234, TCP_ACK, sec(1))).toBe(NAT_E_FILTERED);
    // Outbound from the pinned endpoint to anyone uses the pinned port.
    const o = natOutbound(NAT_TCP, H1, 80, R2, 443, TCP_SYN, sec(2));
    expect<i32>(natSessionExtPort(o)).toBe(OURS);
    // Every session expires; the pin stays and still admits.
    expect<i32>(natExpire(sec(100000), 1000)).toBe(2);
    expect<i32>(natFindMapping(NAT_TCP, OURS)).toBe(m);
    expect<i32>(natInbound(NAT_UDP, OURS, R1, 5, 0, sec(100001))).toBe(NAT_E_NO_MAPPING);
    expect<i32>(natInbound(NAT_TCP, OURS, R1, 40001, TCP_SYN, sec(100001))).toBeGreaterThan(0);
  });

  it("an unpinned mapping under APDF refuses the same stranger (the test can fail)", () => {
    expect<bool>(freshNat(256, 0, 4, 8, 0x12)).toBe(true);
    natSetFiltering(NAT_FILTER_ADF);
    const o = natOutbound(NAT_UDP, H1, OURS, R2, 53, 0, sec(1));
    expect<i32>(natSessionExtPort(o)).toBe(OURS);
    expect<i32>(natInbound(NAT_UDP, OURS, R1, 5, 0, sec(1))).toBe(NAT_E_FILTERED);
    // Pinning the endpoint's own mapping keeps its session and opens it.
    const m = natPin(NAT_UDP, H1, OURS, OURS);
    expect<i32>(m).toBe(natFindMapping(NAT_UDP, OURS));
    expect<i32>(natMappingSessions(m)).toBe(1);
    expect<i32>(natInbound(NAT_UDP, OURS, R1, 5, 0, sec(1))).toBeGreaterThan(0);
  });

  it("refuses a port taken by another mapping unless forced over a dynamic one", () => {
    expect<bool>(freshNat(256, 0, 4, 8, 0x12)).toBe(true);
    const o = natOutbound(NAT_UDP, H2, OURS, R2, 53, 0, sec(1));
    expect<i32>(natSessionExtPort(o)).toBe(OURS);
    expect<i32>(natPin(NAT_UDP, H1, 5000, OURS)).toBe(NAT_E_TAKEN);
    // A static forward outranks the dynamic mapping: it goes, with its session.
    const m = natPin(NAT_UDP, H1, 5000, OURS, true);
    expect<i32>(m).toBeGreaterThan(0);
    expect<u32>(natSessionIntAddr(natInbound(NAT_UDP, OURS, R1, 9, 0, sec(2)))).toBe(H1);
    expect<i32>(natFindMappingInternal(NAT_UDP, H2, OURS)).toBe(0);
    // Another pin on the same port is refused, forced or not.
    expect<i32>(natPin(NAT_UDP, H2, 6000, OURS, true)).toBe(NAT_E_TAKEN);
    // The same internal endpoint on a second port is refused (EIM: one mapping).
    expect<i32>(natPin(NAT_UDP, H1, 5000, OURS2)).toBe(NAT_E_TAKEN);
    // Pinning the same triple again is the same mapping.
    expect<i32>(natPin(NAT_UDP, H1, 5000, OURS)).toBe(m);
  });

  it("is never taken by the session limits; unpin frees it with its last session", () => {
    expect<bool>(freshNat(256, 0, 4, 8, 0x12)).toBe(true);
    natSetSessionLimits(2, 2);
    const m = natPin(NAT_UDP, H1, 5000, OURS);
    for (let i = 0; i < 5; i++) expect<i32>(natInbound(NAT_UDP, OURS, R1, 100 + i, 0, sec(1))).toBeGreaterThan(0);
    expect<i32>(natMappingSessions(m)).toBe(2);
    expect<bool>(natMappingPinned(m)).toBe(true);
    expect<bool>(natUnpin(NAT_UDP, OURS)).toBe(true);
    expect<bool>(natUnpin(NAT_UDP, OURS)).toBe(false);
    expect<i32>(natFindMapping(NAT_UDP, OURS)).toBe(m); // sessions still hold it
    natExpire(sec(100000), 100);
    expect<i32>(natFindMapping(NAT_UDP, OURS)).toBe(0);
    expect<i32>(natPortState(NAT_UDP, OURS)).toBe(1);
    // Unpin with drop: gone at once, with its sessions.
    expect<i32>(natPin(NAT_UDP, H1, 5000, OURS)).toBeGreaterThan(0);
    natInbound(NAT_UDP, OURS, R1, 100, 0, sec(100001));
    expect<bool>(natUnpin(NAT_UDP, OURS, true)).toBe(true);
    expect<i32>(natFindMapping(NAT_UDP, OURS)).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
    natSetSessionLimits(0, 0);
    natReset();
  });
});
