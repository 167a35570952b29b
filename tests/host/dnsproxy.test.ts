// The Node host's DNS proxy sockets (host/dnsproxy.ts) over the real module,
// with real sockets on loopback: a LAN client on 127.0.0.1, a fake upstream
// resolver on [::1] (UDP and TCP) that records what it got.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, connect, type Server } from "node:net";
import { Engine } from "../../host/engine.js";
import { DataPath } from "../../host/datapath.js";
import { readConfigSource } from "../../host/config/source.js";
import { DnsProxy } from "../../host/dnsproxy.js";

type Bytes = Uint8Array;
function cat(...parts: Bytes[]): Bytes {
  const o = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    o.set(p, at);
    at += p.length;
  }
  return o;
}
const u16 = (b: Bytes, at: number): number => (b[at] << 8) | b[at + 1];
function setU16(b: Bytes, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v & 255;
}
const bytes = (b: Buffer): Bytes => new Uint8Array(b);
function framed(m: Bytes): Bytes {
  const l = new Uint8Array(2);
  setU16(l, 0, m.length);
  return cat(l, m);
}

/** A query: id, RD, one question (RFC 1035 §4.1), with EDNS (DO) when `edns`. */
function query(id: number, name: string, qtype: number, edns = false): Bytes {
  const labels = name.split(".").filter(Boolean).map((l) => cat(Uint8Array.of(l.length), new TextEncoder().encode(l)));
  const h = new Uint8Array(12);
  setU16(h, 0, id);
  setU16(h, 2, 0x0100);
  setU16(h, 4, 1);
  setU16(h, 10, edns ? 1 : 0);
  const tail = new Uint8Array(4);
  setU16(tail, 0, qtype);
  setU16(tail, 2, 1);
  const opt = edns ? Uint8Array.of(0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0) : new Uint8Array(0);
  return cat(h, ...labels, Uint8Array.of(0), tail, opt);
}

/** The answer to `q` (same ID and question) with one A record, TC (no record) when `tc`. */
function answerTo(q: Bytes, tc = false): Bytes {
  const qdEnd = 12 + q.subarray(12).indexOf(0) + 5;
  const a = cat(q.subarray(0, qdEnd), Uint8Array.of(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 2));
  setU16(a, 2, tc ? 0x8380 : 0x8180);
  setU16(a, 6, tc ? 0 : 1);
  setU16(a, 10, 0);
  return tc ? a.subarray(0, qdEnd) : a;
}

const freePort = async (): Promise<number> => {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const p = s.address().port;
  s.close();
  return p;
};

interface Fake {
  udp: UdpSocket;
  tcp: Server;
  port: number;
  udpSeen: Bytes[];
  tcpSeen: Bytes[];
  /** UDP answers with TC set (the proxy must ask again over TCP). */
  truncate: boolean;
  silent: boolean;
}

/** A resolver on [::1]: answers every query, over UDP (TC when asked) and TCP. */
async function fakeUpstream(): Promise<Fake> {
  const udp = createSocket("udp6");
  await new Promise<void>((r) => udp.bind(0, "::1", () => r()));
  const port = udp.address().port;
  const f: Fake = { udp, tcp: createServer(), port, udpSeen: [], tcpSeen: [], truncate: false, silent: false };
  udp.on("message", (m, r) => {
    f.udpSeen.push(bytes(m));
    if (!f.silent) udp.send(answerTo(bytes(m), f.truncate), r.port, r.address);
  });
  f.tcp.on("connection", (c) => {
    let pending: Bytes = new Uint8Array(0);
    c.on("data", (d: Buffer) => {
      pending = cat(pending, bytes(d));
      if (pending.length < 2 || pending.length < 2 + u16(pending, 0)) return;
      const q = pending.slice(2, 2 + u16(pending, 0));
      f.tcpSeen.push(q);
      c.end(framed(answerTo(q)));
    });
    c.on("error", () => undefined);
  });
  await new Promise<void>((r) => f.tcp.listen(port, "::1", () => r()));
  return f;
}

async function proxyWith(args: string[], upstreamPort: number): Promise<{ proxy: DnsProxy; dp: DataPath }> {
  const engine = Engine.load();
  engine.configure(readConfigSource(args, "ce").encoded);
  const dp = new DataPath(engine, { seed: 99 });
  dp.start(false);
  const proxy = await DnsProxy.open(engine.exports, { upstreamPort, pollMs: 50 });
  assert.ok(proxy);
  return { proxy, dp };
}

async function askUdp(port: number, q: Bytes, from = "127.0.0.1"): Promise<Bytes> {
  const c = createSocket("udp4");
  await new Promise<void>((r) => c.bind(0, from, () => r()));
  const got = new Promise<Bytes>((resolve) => c.once("message", (m) => resolve(bytes(m))));
  c.send(q, port, "127.0.0.1");
  try {
    return await got;
  } finally {
    c.close();
  }
}

test("a UDP query goes upstream with a new ID and the same bytes; the answer comes back with the client's ID", async () => {
  const up = await fakeUpstream();
  const port = await freePort();
  const { proxy, dp } = await proxyWith(["--dns-proxy", `127.0.0.1:${port}`, "--dns-upstream", "::1"], up.port);
  try {
    const q = query(0x1234, "a.lab.example", 1, true);
    const a = await askUdp(port, q);
    assert.equal(u16(a, 0), 0x1234);
    assert.deepEqual(a.subarray(2), answerTo(q).subarray(2));
    assert.equal(up.udpSeen.length, 1);
    assert.deepEqual(up.udpSeen[0].subarray(2), q.subarray(2), "only the ID changes (EDNS and DO pass)");
    const c = dp.counters();
    assert.equal(c["dns-queries"].packets, 1);
    assert.equal(c["dns-answers"].packets, 1);
    assert.equal(c["sessions-created"].packets, 0, "DNS made no NAT session");
  } finally {
    proxy.close();
    up.udp.close();
    up.tcp.close();
  }
});

test("a truncated UDP answer is asked again over TCP upstream", async () => {
  const up = await fakeUpstream();
  up.truncate = true;
  const port = await freePort();
  const { proxy, dp } = await proxyWith(["--dns-proxy", `127.0.0.1:${port}`, "--dns-upstream", "::1"], up.port);
  try {
    const q = query(0x0bad, "big.lab.example", 16);
    const a = await askUdp(port, q);
    assert.equal(u16(a, 0), 0x0bad);
    assert.equal(u16(a, 6), 1, "the whole answer, from TCP");
    assert.equal(up.tcpSeen.length, 1);
    assert.deepEqual(up.tcpSeen[0].subarray(2), q.subarray(2));
    assert.equal(dp.counters()["dns-tcp-retries"].packets, 1);
  } finally {
    proxy.close();
    up.udp.close();
    up.tcp.close();
  }
});

test("a LAN client over TCP gets its framed answers", async () => {
  const up = await fakeUpstream();
  const port = await freePort();
  const { proxy } = await proxyWith(["--dns-proxy", `127.0.0.1:${port}`, "--dns-upstream", "::1"], up.port);
  try {
    const c = connect({ host: "127.0.0.1", port });
    await new Promise<void>((r) => c.once("connect", () => r()));
    const qs = [query(1, "one.example", 1), query(2, "two.example", 28)];
    const got: Bytes[] = [];
    const done = new Promise<void>((resolve) => {
      let pending: Bytes = new Uint8Array(0);
      c.on("data", (d: Buffer) => {
        pending = cat(pending, bytes(d));
        while (pending.length >= 2 && pending.length >= 2 + u16(pending, 0)) {
          got.push(pending.slice(2, 2 + u16(pending, 0)));
          pending = pending.slice(2 + u16(pending, 0));
          if (got.length === 2) resolve();
        }
      });
    });
    c.write(cat(...qs.map(framed))); // both in one segment
    await done;
    c.destroy();
    assert.deepEqual(got.map((a) => u16(a, 0)).sort(), [1, 2]);
  } finally {
    proxy.close();
    up.udp.close();
    up.tcp.close();
  }
});

test("an upstream that never answers: retransmissions, then dns-drop-timeout on the module clock", async () => {
  const up = await fakeUpstream();
  up.silent = true;
  const port = await freePort();
  const { proxy, dp } = await proxyWith(["--dns-proxy", `127.0.0.1:${port}`, "--dns-upstream", "::1"], up.port);
  try {
    const c = createSocket("udp4");
    await new Promise<void>((r) => c.bind(0, "127.0.0.1", () => r()));
    c.send(query(5, "slow.example", 1), port, "127.0.0.1");
    for (let i = 0; i < 100 && up.udpSeen.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    let t = 1000;
    dp.process(0, t);
    for (let k = 0; k < 3; k++) {
      t += 2001;
      dp.process(0, t);
      proxy.poll();
    }
    c.close();
    for (let i = 0; i < 100 && up.udpSeen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(up.udpSeen.length, 3, "the first send and two retransmissions");
    const cs = dp.counters();
    assert.equal(cs["dns-retransmits"].packets, 2);
    assert.equal(cs["dns-drop-timeout"].packets, 1);
  } finally {
    proxy.close();
    up.udp.close();
    up.tcp.close();
  }
});

test("--dns-proxy without any upstream is one clear error", async () => {
  const engine = Engine.load();
  engine.configure(readConfigSource(["--dns-proxy", "127.0.0.1:5399"], "ce").encoded);
  const dp = new DataPath(engine, { seed: 1 });
  dp.start(false);
  await assert.rejects(DnsProxy.open(engine.exports), /^Error: --dns-proxy: no upstream resolver: give --dns-upstream <ipv6>/);
});

test("no --dns-proxy: no proxy", async () => {
  const engine = Engine.load();
  engine.configure(readConfigSource([], "ce").encoded);
  new DataPath(engine, { seed: 1 }).start(false);
  assert.equal(await DnsProxy.open(engine.exports), undefined);
});

