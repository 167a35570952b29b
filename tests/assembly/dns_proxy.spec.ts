// The DNS proxy (assembly/dns/proxy.ts): the ID rewrite and its undoing,
// matching answers by ID, name, type and class, the counted drops (table
// full, mismatch, unknown, bad), TC → TCP, EDNS passing byte for byte, the
// client's UDP size, failover and expiry on the module clock; and the
// configuration (--dns-proxy, --dns-upstream, DHCPv6 OPTION_DNS_SERVERS).
import { textBuffer, configFromArgs, configErrorText, configErrorTextLength } from "../../assembly/config/api";
import { configure } from "../../assembly/map/api";
import { init, process, counterValues, counterCount, counterName } from "../../assembly/datapath/process";
import { dnsBuffer, dnsSlots, dnsProxyAddress, dnsProxyPort, dnsUpstreamCount, dnsUpstream, dnsServerCount,
  dnsServer, dnsQuery, dnsAnswer, dnsPoll, dnsClientGone, dnsOutKind, dnsOutUpstream, dnsOutSocket, dnsOutEntry,
  dnsOutClientAddr, dnsOutClientPort, dnsOutConn, dnsOutstanding } from "../../assembly/dns/api";
import { DNS_OUT_UPSTREAM_UDP, DNS_OUT_UPSTREAM_TCP, DNS_OUT_CLIENT_UDP, DNS_OUT_CLIENT_TCP, DNS_TRIES } from "../../assembly/dns/proxy";

// ---- argument records (as the hosts write them) ----
let at = 0;
function arg(s: string): void {
  const b = String.UTF8.encode(s);
  const p = textBuffer() + <usize>at;
  store<u8>(p, 1);
  store<u32>(p + 1, <u32>b.byteLength);
  memory.copy(p + 5, changetype<usize>(b), <usize>b.byteLength);
  at += 5 + b.byteLength;
}
function configArgs(args: string[]): i32 {
  at = 0;
  for (let i = 0; i < args.length; i++) arg(args[i]);
  const n = configFromArgs(at, 1);
  if (n < 0) return -1;
  return configure(n);
}
function errorLine(): string { return String.UTF8.decodeUnsafe(configErrorText(), configErrorTextLength()); }

// ---- counters by name ----
function counter(name: string): u64 {
  const v = counterValues();
  for (let i = 0; i < counterCount(); i++) {
    if (changetype<string>(counterName(i)) == name) return load<u64>(v + (<usize>i << 4));
  }
  throw new Error("no counter " + name);
}

let clock: f64 = 1000;
function advance(ms: f64): void {
  clock += ms;
  process(0, clock);
}

/** A fresh module: the proxy with two upstreams, the module clock at 1000 ms. */
function setup(): void {
  expect(init(0, 0, 12345)).toBe(0);
  expect(configArgs(["--dns-proxy", "192.168.1.1", "--dns-upstream", "2001:db8:53::1", "--dns-upstream", "2001:db8:53::2"])).toBe(0);
  clock = 1000;
  process(0, clock);
}

// ---- message builders (RFC 1035 §4.1) ----
// Builders write into static regions (the stub runtime never frees, so the
// tests allocate nothing per message).
const MSG_CAP = 4096;
class Msg {
  base: usize = 0;
  length: i32 = 0;
  u8(v: i32): Msg { store<u8>(this.base + <usize>this.length, <u8>v); this.length++; return this; }
  u16(v: i32): Msg { this.u8(v >> 8); return this.u8(v); }
  u32(v: u32): Msg { this.u16(<i32>(v >> 16)); return this.u16(<i32>(v & 0xffff)); }
  at(i: i32): u8 { return load<u8>(this.base + <usize>i); }
  set(i: i32, v: u8): void { store<u8>(this.base + <usize>i, v); }
  name(n: string): Msg {
    let start = 0;
    for (let i = 0; i <= n.length; i++) {
      if (i < n.length && n.charCodeAt(i) != 0x2e) continue;
      if (i > start) {
        this.u8(i - start);
        for (let k = start; k < i; k++) this.u8(n.charCodeAt(k));
      }
      start = i + 1;
    }
    return this.u8(0);
  }
  /** Into the DNS buffer; its length. */
  put(): i32 {
    memory.copy(dnsBuffer(), this.base, <usize>this.length);
    return this.length;
  }
}
const msgA = new Msg();
msgA.base = memory.data(MSG_CAP, 8);
const msgB = new Msg();
msgB.base = memory.data(MSG_CAP, 8);
function fresh(m: Msg): Msg { m.length = 0; return m; }

/** A query: id, RD, one question; with EDNS (udp size, DO) when udp > 0. */
function query(id: i32, name: string, qtype: i32, udp: i32 = 0, flags: i32 = 0x0100): Msg {
  const m = fresh(msgA).u16(id).u16(flags).u16(1).u16(0).u16(0).u16(udp > 0 ? 1 : 0).name(name).u16(qtype).u16(1);
  if (udp > 0) m.u8(0).u16(41).u16(udp).u32(0x00008000).u16(0); // OPT, DO bit
  return m;
}

/** An answer with one A record (or `rdlen` bytes of type qtype). */
function answer(id: i32, name: string, qtype: i32, flags: i32 = 0x8180, rdlen: i32 = 4): Msg {
  const m = fresh(msgB).u16(id).u16(flags).u16(1).u16(1).u16(0).u16(0).name(name).u16(qtype).u16(1);
  m.u16(0xc00c).u16(qtype).u16(1).u32(60).u16(rdlen);
  for (let i = 0; i < rdlen; i++) m.u8(i == 0 ? 198 : i);
  return m;
}

function bufId(): i32 { return (<i32>load<u8>(dnsBuffer()) << 8) | <i32>load<u8>(dnsBuffer(), 1); }
/** Bytes [2, n) of the buffer equal those of m. */
function sameAfterId(m: Msg, n: i32): bool {
  if (n != m.length) return false;
  for (let i = 2; i < n; i++) if (load<u8>(dnsBuffer() + <usize>i) != m.at(i)) return false;
  return true;
}

const CLIENT: u32 = 0xc0a80102; // 192.168.1.2

describe("configuration", () => {
  it("takes --dns-proxy and --dns-upstream", () => {
    setup();
    expect(dnsProxyAddress()).toBe(0xc0a80101);
    expect(dnsProxyPort()).toBe(53);
    expect(dnsUpstreamCount()).toBe(2);
    expect(load<u8>(dnsUpstream(1), 15)).toBe(2);
    expect(dnsUpstream(2)).toBe(0);
    expect(configArgs(["--dns-proxy", "10.0.0.1:5353", "--dns-upstream", "2001:db8::53"])).toBe(0);
    expect(dnsProxyAddress()).toBe(0x0a000001);
    expect(dnsProxyPort()).toBe(5353);
  });
  it("refuses bad values with one line", () => {
    expect(configArgs(["--dns-proxy", "192.168.1"])).toBe(-1);
    expect(errorLine()).toBe("--dns-proxy: '192.168.1' is not an IPv4 address (need four dotted numbers)");
    expect(configArgs(["--dns-proxy", "192.168.1.1:0"])).toBe(-1);
    expect(errorLine()).toBe("--dns-proxy: '0' is not a port from 1 to 65535");
    expect(configArgs(["--dns-upstream", "2001:db8::53", "--dns-upstream", "nope"])).toBe(-1);
    expect(errorLine().startsWith("--dns-upstream #2: ")).toBe(true);
  });
  it("takes the upstreams from DHCPv6 OPTION_DNS_SERVERS (23), --dns-upstream overriding them", () => {
    // The JANOG rule as RFC 7598 options, then option 23 with two resolvers.
    const hex = "005e002c" + "00590014" + "00101c" + "cb56e100" + "20" + "24039200" + "005d0004" + "04000000" +
      "005a0010" + "24039200fff000000000000000000002" +
      "00170020" + "20010db8000000000000000000000053" + "20010db8000000000000000000005353";
    expect(init(0, 0, 3)).toBe(0);
    expect(configArgs(["--dhcpv6", hex, "--prefix", "2403:9200:1234::/48", "--dns-proxy", "192.168.1.1"])).toBe(0);
    expect(dnsServerCount()).toBe(2);
    expect(load<u8>(dnsServer(1), 14)).toBe(0x53);
    expect(dnsUpstreamCount()).toBe(2);
    expect(load<u8>(dnsUpstream(1), 14)).toBe(0x53);
    expect(configArgs(["--dhcpv6", hex, "--prefix", "2403:9200:1234::/48", "--dns-upstream", "2001:db8::99"])).toBe(0);
    expect(dnsServerCount()).toBe(2);
    expect(dnsUpstreamCount()).toBe(1);
    expect(load<u8>(dnsUpstream(0), 15)).toBe(0x99);
    // A length that is not a multiple of 16: one line naming the option.
    const bad = hex.slice(0, hex.length - 72) + "00170004" + "00000000";
    expect(configArgs(["--dhcpv6", bad, "--prefix", "2403:9200:1234::/48"])).toBeGreaterThan(0);
    expect(errorLine().length > 0).toBe(true);
  });
});

describe("queries and answers", () => {
  it("rewrites the ID, and restores it on the matching answer", () => {
    setup();
    const q = query(0x1234, "a.lab.example", 1);
    const n = dnsQuery(q.put(), CLIENT, 40000, -1);
    expect(n).toBe(q.length);
    expect(dnsOutKind()).toBe(DNS_OUT_UPSTREAM_UDP);
    expect(sameAfterId(q, n)).toBe(true);
    const up = bufId();
    const upstream = dnsOutUpstream();
    const socket = dnsOutSocket();
    expect(upstream < 2).toBe(true);
    const a = answer(up, "a.lab.example", 1);
    const m = dnsAnswer(a.put(), upstream, socket, -1);
    expect(m).toBe(a.length);
    expect(dnsOutKind()).toBe(DNS_OUT_CLIENT_UDP);
    expect(bufId()).toBe(0x1234);
    expect(sameAfterId(a, m)).toBe(true);
    expect(dnsOutClientAddr()).toBe(CLIENT);
    expect(dnsOutClientPort()).toBe(40000);
    expect(dnsOutConn()).toBe(-1);
    expect(dnsOutstanding()).toBe(0);
    expect(counter("dns-queries")).toBe(1);
    expect(counter("dns-answers")).toBe(1);
  });
  it("gives random, distinct upstream IDs", () => {
    setup();
    let same = 0;
    const ids = new Set<i32>();
    for (let i = 0; i < 64; i++) {
      dnsQuery(query(7, "n" + i.toString() + ".example", 1).put(), CLIENT, 1000 + i, -1);
      const id = bufId();
      if (id == 7) same++;
      ids.add(id);
    }
    expect(ids.size).toBe(64);
    expect(same < 2).toBe(true);
  });
  it("matches the name without regard to case, and the type and class exactly", () => {
    setup();
    dnsQuery(query(1, "Www.Example", 28).put(), CLIENT, 5000, -1);
    const up = bufId();
    const u = dnsOutUpstream();
    const s = dnsOutSocket();
    // Right ID, wrong name / type: dropped, counted, and the query waits on.
    expect(dnsAnswer(answer(up, "www.example.org", 28).put(), u, s, -1)).toBe(0);
    expect(dnsAnswer(answer(up, "www.example", 1).put(), u, s, -1)).toBe(0);
    expect(counter("dns-drop-answer-mismatch")).toBe(2);
    expect(dnsOutstanding()).toBe(1);
    // Wrong socket or upstream: no such query.
    expect(dnsAnswer(answer(up, "www.example", 28).put(), u, (s + 1) % 4, -1)).toBe(0);
    expect(dnsAnswer(answer(up, "www.example", 28).put(), 1 - u, s, -1)).toBe(0);
    expect(dnsAnswer(answer(up ^ 1, "www.example", 28).put(), u, s, -1)).toBe(0);
    expect(counter("dns-drop-answer-unknown")).toBe(3);
    const a = answer(up, "WWW.EXAMPLE", 28, 0x8180, 16);
    expect(dnsAnswer(a.put(), u, s, -1)).toBe(a.length);
    expect(bufId()).toBe(1);
  });
  it("drops what is not a query or not an answer, counted", () => {
    setup();
    expect(dnsQuery(answer(1, "x.example", 1).put(), CLIENT, 1, -1)).toBe(0); // QR set
    const two = fresh(msgB).u16(1).u16(0x0100).u16(2).u16(0).u16(0).u16(0).name("x").u16(1).u16(1).name("y").u16(1).u16(1);
    expect(dnsQuery(two.put(), CLIENT, 1, -1)).toBe(0);
    const cut = fresh(msgB).u16(1).u16(0x0100).u16(1).u16(0).u16(0).u16(0).u8(5).u8(0x61);
    expect(dnsQuery(cut.put(), CLIENT, 1, -1)).toBe(0);
    const ptr = fresh(msgB).u16(1).u16(0x0100).u16(1).u16(0).u16(0).u16(0).u16(0xc00c).u16(1).u16(1);
    expect(dnsQuery(ptr.put(), CLIENT, 1, -1)).toBe(0);
    expect(dnsQuery(-1, CLIENT, 1, -1)).toBe(0);
    expect(counter("dns-drop-query-bad")).toBe(5);
    expect(dnsAnswer(query(1, "x", 1).put(), 0, 0, -1)).toBe(0); // QR clear
    expect(dnsAnswer(3, 0, 0, -1)).toBe(0);
    expect(counter("dns-drop-answer-bad")).toBe(2);
    expect(dnsOutstanding()).toBe(0);
  });
  it("counts a query past the table as dns-drop-table-full", () => {
    setup();
    for (let i = 0; i < dnsSlots(); i++) expect(dnsQuery(query(i, "t" + i.toString() + ".example", 1).put(), CLIENT, 2000, -1) > 0).toBe(true);
    expect(dnsOutstanding()).toBe(dnsSlots());
    expect(dnsQuery(query(9, "over.example", 1).put(), CLIENT, 2000, -1)).toBe(0);
    expect(counter("dns-drop-table-full")).toBe(1);
  });
});

describe("RFC 5625", () => {
  it("passes EDNS, the DO and CD bits and unknown types byte for byte (only the ID changes)", () => {
    setup();
    const q = query(0xbeef, "x.example", 65280, 4096, 0x0110); // RD + CD, OPT with DO
    const n = dnsQuery(q.put(), CLIENT, 53000, -1);
    expect(sameAfterId(q, n)).toBe(true);
    const up = bufId();
    const u = dnsOutUpstream();
    const s = dnsOutSocket();
    const a = answer(up, "x.example", 65280, 0x81b0, 100);
    a.u8(0).u16(41).u16(1232).u32(0x00008000).u16(6).u16(10).u16(2).u16(0xabcd); // OPT + an option
    const last = a.length;
    // ARCOUNT 1 for the OPT.
    a.set(11, 1);
    expect(dnsAnswer(a.put(), u, s, -1)).toBe(last);
    expect(bufId()).toBe(0xbeef);
    expect(sameAfterId(a, last)).toBe(true);
  });
  it("asks again over TCP when the UDP answer is truncated", () => {
    setup();
    const q = query(0x4242, "big.example", 16, 1232);
    dnsQuery(q.put(), CLIENT, 6000, -1);
    const up = bufId();
    const u = dnsOutUpstream();
    const s = dnsOutSocket();
    const tc = fresh(msgB).u16(up).u16(0x8380).u16(1).u16(0).u16(0).u16(0).name("big.example").u16(16).u16(1);
    const n = dnsAnswer(tc.put(), u, s, -1);
    expect(n).toBe(q.length);
    expect(dnsOutKind()).toBe(DNS_OUT_UPSTREAM_TCP);
    expect(sameAfterId(q, n)).toBe(true);
    expect(counter("dns-tcp-retries")).toBe(1);
    const tcpId = bufId();
    const entryIndex = dnsOutEntry();
    // The UDP answer again (late duplicate) no longer matches.
    expect(dnsAnswer(answer(tcpId, "big.example", 16).put(), u, s, -1)).toBe(0);
    const a = answer(tcpId, "big.example", 16, 0x8180, 1000);
    expect(dnsAnswer(a.put(), u, -1, (entryIndex + 1) % dnsSlots())).toBe(0); // another query's connection
    expect(dnsAnswer(a.put(), u, -1, entryIndex)).toBe(a.length);
    expect(dnsOutKind()).toBe(DNS_OUT_CLIENT_UDP);
    expect(bufId()).toBe(0x4242);
  });
  it("cuts an answer too big for the client's UDP to its question with TC", () => {
    setup();
    dnsQuery(query(5, "big.example", 16).put(), CLIENT, 6001, -1); // no EDNS: 512 bytes
    const up = bufId();
    const a = answer(up, "big.example", 16, 0x8180, 600);
    const n = dnsAnswer(a.put(), dnsOutUpstream(), dnsOutSocket(), -1);
    expect(n).toBe(12 + 13 + 4);
    expect((load<u8>(dnsBuffer(), 2) & 0x02) != 0).toBe(true);
    expect(load<u8>(dnsBuffer(), 7)).toBe(0); // ANCOUNT 0
    expect(counter("dns-answers-truncated")).toBe(1);
  });
  it("answers a TCP client on its connection", () => {
    setup();
    dnsQuery(query(77, "t.example", 1).put(), 0, 0, 3);
    const up = bufId();
    const a = answer(up, "t.example", 1, 0x8180, 700);
    expect(dnsAnswer(a.put(), dnsOutUpstream(), dnsOutSocket(), -1)).toBe(a.length);
    expect(dnsOutKind()).toBe(DNS_OUT_CLIENT_TCP);
    expect(dnsOutConn()).toBe(3);
    // A TCP answer longer than the buffer: the host passes its length and the
    // first dnsBufferSize() bytes; the module changes only the header.
    dnsQuery(query(79, "long.example", 1).put(), 0, 0, 3);
    const id2 = bufId();
    answer(id2, "long.example", 1, 0x8180, 100).put();
    expect(dnsAnswer(30000, dnsOutUpstream(), dnsOutSocket(), -1)).toBe(30000);
    expect(bufId()).toBe(79);
    dnsQuery(query(78, "u.example", 1).put(), 0, 0, 3);
    dnsClientGone(3);
    expect(dnsOutstanding()).toBe(0);
    expect(counter("dns-drop-client-gone")).toBe(1);
  });
});

describe("timeouts (module clock)", () => {
  it("fails over to the next upstream, then drops after DNS_TRIES sends", () => {
    setup();
    dnsQuery(query(1, "slow.example", 1).put(), CLIENT, 7000, -1);
    const first = dnsOutUpstream();
    advance(1999);
    expect(dnsPoll()).toBe(0);
    advance(2);
    const n = dnsPoll();
    expect(n > 0).toBe(true);
    expect(dnsOutKind()).toBe(DNS_OUT_UPSTREAM_UDP);
    expect(dnsOutUpstream()).toBe(1 - first);
    const secondId = bufId();
    const secondSocket = dnsOutSocket();
    expect(dnsPoll()).toBe(0);
    expect(counter("dns-retransmits")).toBe(1);
    for (let i = 2; i < DNS_TRIES; i++) {
      advance(2001);
      expect(dnsPoll() > 0).toBe(true);
    }
    advance(2001);
    expect(dnsPoll()).toBe(0);
    expect(dnsOutstanding()).toBe(0);
    expect(counter("dns-drop-timeout")).toBe(1);
    // A late answer to the expired query matches nothing.
    expect(dnsAnswer(answer(secondId, "slow.example", 1).put(), 1 - first, secondSocket, -1)).toBe(0);
    expect(counter("dns-drop-answer-unknown")).toBe(1);
  });
  it("drops a query when no upstream is configured", () => {
    expect(init(0, 0, 1)).toBe(0);
    expect(configArgs(["--dns-proxy", "192.168.1.1"])).toBe(0);
    expect(dnsUpstreamCount()).toBe(0);
    expect(dnsQuery(query(1, "x.example", 1).put(), CLIENT, 1, -1)).toBe(0);
    expect(counter("dns-drop-no-upstream")).toBe(1);
    expect(dnsServerCount()).toBe(0);
    expect(dnsServer(0)).toBe(0);
  });
});
