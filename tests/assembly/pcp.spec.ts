// The PCP (RFC 6887) / NAT-PMP (RFC 6886) server of nat/pcp.ts and the LOCAL
// FORWARD (28) sub-option of nat/pins.ts, through the module's exports.
// Requests are laid out here byte by byte from the RFCs' figures (Req), not
// with the module's own code; the configuration with map_helpers' Writer.
import { W, MODE_CE } from "./map_helpers";
import { init, start, process } from "../../assembly/datapath/process";
import { pcpBufferPtr, pcpRequest, inboundJson, inboundText } from "../../assembly/nat/pcp";
import { natFindMapping, natMappingPinned, NAT_TCP, NAT_UDP } from "../../assembly/nat/nat";
import { counterPackets, D_PCP_MALFORMED, C_PCP_ERRORS } from "../../assembly/datapath/counters";
import * as E from "../../assembly/map/errors";
import { textBufferPtr } from "../../assembly/config/textbuf";

const BR_ADDR = "2403:9200:fff0::2";
const H1: u32 = 0xc0a8010a; // 192.168.1.10
const H2: u32 = 0xc0a8010b;
const OUR_V4: u32 = 0xcb56e101; // 203.86.225.1
// The JANOG set: one port per 4096 block, PSID 0x234: 4660, 8756, ...
const P1 = 0x1234;
const P2 = 0x2234;
const P3 = 0x3234;

/** The JANOG CE, with the forwards given as (proto, ext, addr, port) quadruples. */
function writeCe(fwd: i32[]): i32 {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix("2403:9200:1234::", 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE);
  for (let i = 0; i + 3 < fwd.length; i += 4) {
    // RFC-less, ours: code 28, length 9: proto, ext port, LAN address, LAN port (pins.ts).
    W.u16(28).u16(9).u8(fwd[i]).u16(fwd[i + 1]).u32(<u32>fwd[i + 2]).u16(fwd[i + 3]);
  }
  W.close(l);
  return W.configure();
}

function freshCe(fwd: i32[] = []): void {
  expect<i32>(writeCe(fwd)).toBe(0);
  expect<i32>(init(64, 1024, 7)).toBe(0);
  expect<i32>(start(0)).toBe(0);
  process(0, 1000000);
}

/** A request writer over the PCP buffer, big-endian. */
class Req {
  pos: i32 = 0;
  u8(v: i32): Req { store<u8>(pcpBufferPtr() + <usize>this.pos, <u8>v); this.pos += 1; return this; }
  u16(v: i32): Req { return this.u8(v >> 8).u8(v & 255); }
  u32(v: u32): Req { return this.u16(<i32>(v >>> 16)).u16(<i32>(v & 0xffff)); }
  zeros(n: i32): Req { for (let i = 0; i < n; i++) this.u8(0); return this; }
  /** ::ffff:a.b.c.d */
  mapped(a: u32): Req { return this.zeros(10).u16(0xffff).u32(a); }
}
function req(): Req { return new Req(); }
@inline function b(i: i32): i32 { return <i32>load<u8>(pcpBufferPtr() + <usize>i); }
function r16(i: i32): i32 { return (b(i) << 8) | b(i + 1); }
function r32(i: i32): u32 { return (<u32>r16(i) << 16) | <u32>r16(i + 2); }

/** RFC 6887 §7.1 header (version 2, opcode MAP) + §11.1 MAP data, nonce 1..12 (+ `k`). */
function pcpMap(client: u32, lifetime: u32, proto: i32, intPort: i32, ext: i32, k: i32 = 0): Req {
  const q = req().u8(2).u8(1).u16(0).u32(lifetime).mapped(client);
  for (let i = 1; i <= 12; i++) q.u8(i + k);
  return q.u8(proto).zeros(3).u16(intPort).u16(ext).zeros(16);
}

describe("LOCAL FORWARD (28)", () => {
  it("pins a forward at start; a port outside the set is FORWARD_PORT at the port's byte", () => {
    freshCe([6, P2, <i32>H1, 80]);
    const m = natFindMapping(NAT_TCP, P2);
    expect<bool>(natMappingPinned(m)).toBe(true);
    expect<i32>(writeCe([6, 8080, <i32>H1, 80])).toBe(E.ERR_FORWARD_PORT);
    expect<i32>(writeCe([6, P1, <i32>H1, 80, 6, P1, <i32>H2, 80])).toBe(E.ERR_OPTION_DUPLICATE);
    expect<i32>(writeCe([1, P1, <i32>H1, 80])).toBe(E.ERR_LOCAL_VALUE);
    // Refused configurations changed nothing: the pin stays.
    expect<bool>(natMappingPinned(natFindMapping(NAT_TCP, P2))).toBe(true);
  });
});

describe("NAT-PMP (RFC 6886)", () => {
  it("answers the external address and maps into the set", () => {
    freshCe();
    req().u8(0).u8(0);
    expect<i32>(pcpRequest(2, H1)).toBe(12);
    expect<i32>(b(1)).toBe(128);
    expect<u32>(r32(8)).toBe(OUR_V4);
    // Map UDP 5000, asking for 5000 (not ours): the nearest of the set, 4660.
    req().u8(0).u8(1).u16(0).u16(5000).u16(5000).u32(3600);
    expect<i32>(pcpRequest(12, H1)).toBe(16);
    expect<i32>(b(1)).toBe(129);
    expect<i32>(r16(2)).toBe(0);
    expect<i32>(r16(8)).toBe(5000);
    expect<i32>(r16(10)).toBe(P1);
    expect<u32>(r32(12)).toBe(3600);
    expect<bool>(natMappingPinned(natFindMapping(NAT_UDP, P1))).toBe(true);
    // Cut short: no answer, counted.
    req().u8(0).u8(2).u16(0);
    expect<i32>(pcpRequest(4, H1)).toBe(0);
    expect<u64>(counterPackets(D_PCP_MALFORMED)).toBe(1);
  });
});

describe("PCP (RFC 6887)", () => {
  it("MAP: the suggested port when ours and free; a renewal needs the nonce; delete", () => {
    freshCe();
    pcpMap(H1, 7200, 6, 8080, P3);
    expect<i32>(pcpRequest(60, H1)).toBe(60);
    expect<i32>(b(0)).toBe(2);
    expect<i32>(b(1)).toBe(0x81);
    expect<i32>(b(3)).toBe(0);
    expect<u32>(r32(4)).toBe(7200);
    expect<i32>(r16(42)).toBe(P3);
    expect<u32>(r32(56)).toBe(OUR_V4);
    pcpMap(H1, 7200, 6, 8080, 0, 1);
    expect<i32>(pcpRequest(60, H1)).toBe(60);
    expect<i32>(b(3)).toBe(2); // NOT_AUTHORIZED
    pcpMap(H1, 0, 6, 8080, 0);
    expect<i32>(pcpRequest(60, H1)).toBe(60);
    expect<i32>(b(3)).toBe(0);
    expect<i32>(natFindMapping(NAT_TCP, P3)).toBe(0);
  });

  it("errors: version, address mismatch, length, opcode; the R bit is dropped", () => {
    freshCe();
    const before = counterPackets(C_PCP_ERRORS);
    req().u8(3).u8(1).zeros(22);
    expect<i32>(pcpRequest(24, H1)).toBe(24);
    expect<i32>(b(0)).toBe(2);
    expect<i32>(b(3)).toBe(1); // UNSUPP_VERSION
    pcpMap(H2, 7200, 17, 9, 0);
    expect<i32>(pcpRequest(60, H1)).toBe(60);
    expect<i32>(b(3)).toBe(12); // ADDRESS_MISMATCH
    pcpMap(H1, 7200, 17, 9, 0);
    expect<i32>(pcpRequest(58, H1)).toBe(60);
    expect<i32>(b(3)).toBe(3); // MALFORMED_REQUEST (not a multiple of 4)
    req().u8(2).u8(2).u16(0).u32(0).mapped(H1);
    expect<i32>(pcpRequest(24, H1)).toBe(24);
    expect<i32>(b(3)).toBe(4); // UNSUPP_OPCODE (PEER)
    expect<u64>(counterPackets(C_PCP_ERRORS) - before).toBe(4);
    req().u8(2).u8(0x81).u16(0).u32(0).mapped(H1);
    expect<i32>(pcpRequest(24, H1)).toBe(0);
  });

  it("inboundJson lists the pins", () => {
    freshCe([17, P2, <i32>H1, 53]);
    pcpMap(H1, 600, 6, 22, P3);
    pcpRequest(60, H1);
    const n = inboundJson();
    expect<i32>(n).toBeGreaterThan(0);
    const s = String.UTF8.decodeUnsafe(textBufferPtr(), <usize>n);
    expect<string>(s).toBe("{\"epoch\":0,\"address\":\"203.86.225.1\",\"mappings\":[" +
      "{\"kind\":\"static\",\"protocol\":\"udp\",\"external\":8756,\"internal\":\"192.168.1.10:53\",\"remaining\":null,\"sessions\":0}," +
      "{\"kind\":\"pcp\",\"protocol\":\"tcp\",\"external\":12852,\"internal\":\"192.168.1.10:22\",\"remaining\":600,\"sessions\":0}]}");
  });

  it("inboundText renders the pins as mape stats prints them", () => {
    freshCe([17, P2, <i32>H1, 53]);
    pcpMap(H1, 600, 6, 22, P3);
    pcpRequest(60, H1);
    const n = inboundText();
    const s = String.UTF8.decodeUnsafe(textBufferPtr(), <usize>n);
    expect<string>(s).toBe("  inbound ports   2 (epoch 0 s)\n" +
      "    udp 8756   -> 192.168.1.10:53       static, 0 sessions\n" +
      "    tcp 12852  -> 192.168.1.10:22       pcp, 600 s left, 0 sessions\n");
  });
});
