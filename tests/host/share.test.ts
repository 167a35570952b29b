// Fair shares and port reuse of the CE's NAPT through the DataPath (the
// module as the hosts run it), configured by the command-line flags:
// one LAN host opens new flows as fast as it can, another then opens TCP
// and DNS flows and gets its share (nat.ts header, "Fair shares").
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../host/engine.js";
import { DataPath } from "../../host/datapath.js";
import { readConfigSource } from "../../host/config/source.js";
import { tcp4, udp4 } from "./packets.js";

const BR = "2403:9200:fff0::2";
const JANOG_FLAGS = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48"];
const T0 = 1_700_000_000_000;
const FLOODER = "192.168.1.10";
const VICTIM = "192.168.1.11";

function ce(flags: string[]): DataPath {
  const engine = Engine.load();
  engine.configure(readConfigSource([...JANOG_FLAGS, ...flags], "ce").encoded);
  const dp = new DataPath(engine, { slots: 64, seed: 3 });
  dp.start();
  return dp;
}

/** Forwarded toward the tunnel (IPv6), as opposed to an ICMP answer toward the LAN (IPv4). */
const tunnelled = (out: Uint8Array[]): number => out.filter((p) => p[0] >> 4 === 6).length;
const refusedWith313 = (out: Uint8Array[]): number => out.filter((p) => p[0] >> 4 === 4 && p[20] === 3 && p[21] === 13).length;

function flood(dp: DataPath, kind: "udp" | "syn", t: number, n: number, base: number): number {
  const pkts = Array.from({ length: n }, (_, i) =>
    kind === "udp"
      ? udp4({ src: FLOODER, dst: "203.0.113.1", srcPort: base + i, dstPort: 5000 + (i % 1000) })
      : tcp4({ src: FLOODER, dst: "203.0.113.1", srcPort: base + i, dstPort: 80, flags: "S" }));
  let got = 0;
  for (let k = 0; k < pkts.length; k += 32) got += tunnelled(dp.run(pkts.slice(k, k + 32), t));
  return got;
}

function victimRound(dp: DataPath, round: number, t: number): { dns: number; tcp: number; icmp: number } {
  const dns = dp.run([udp4({ src: VICTIM, dst: "198.51.100.53", srcPort: 30000 + round, dstPort: 53 })], t);
  const tcp = dp.run([tcp4({ src: VICTIM, dst: `198.51.100.${1 + round}`, srcPort: 40000 + round, dstPort: 443, flags: "S" })], t);
  return { dns: tunnelled(dns), tcp: tunnelled(tcp), icmp: refusedWith313(dns) + refusedWith313(tcp) };
}

for (const kind of ["udp", "syn"] as const) {
  test(`fair shares: a ${kind === "udp" ? "UDP" : "SYN"} flooder that filled the 15 ports is cut to its share; the victim gets its own`, () => {
    const dp = ce(["--port-reuse", "off"]);
    const before = flood(dp, kind, T0, 200, 10000);
    assert.equal(before, 15, "the flooder alone may take the whole set");
    let dns = 0, tcp = 0, later = 0, icmp = 0;
    for (let round = 0; round < 20; round++) {
      later += flood(dp, kind, T0 + 10 + round, 10, 20000 + round * 10);
      const v = victimRound(dp, round, T0 + 10 + round);
      dns += v.dns;
      tcp += v.tcp;
      icmp += v.icmp;
    }
    const c = dp.counters();
    // Share 15 ÷ 2 = 7 of the contested set; the other set is the victim's alone.
    if (kind === "udp") {
      assert.equal(dns, 7);
      assert.equal(tcp, 15);
    } else {
      assert.equal(tcp, 7);
      assert.equal(dns, 15);
    }
    assert.equal(later, 0, "the flooder at its share is refused");
    assert.equal(c["share-reclaimed"].packets, 7);
    assert.ok(c["share-refused"].packets >= 200, "the flooder's refusals are counted");
    assert.ok(icmp > 0 && c["nat-refused-icmp"].packets > 0, "refusals answered with 3/13");
    console.log(`${kind} flood: flooder ${before} ports, then ${later} more (cut to 8); victim DNS ${dns}/20, TCP ${tcp}/20`);
  });
}

test("fair shares off (--fair-share off): the flooder keeps every port, the victim gets none of that set", () => {
  const dp = ce(["--fair-share", "off", "--port-reuse", "off"]);
  assert.equal(flood(dp, "udp", T0, 100, 10000), 15);
  let dns = 0;
  for (let round = 0; round < 10; round++) dns += victimRound(dp, round, T0 + 10 + round).dns;
  assert.equal(dns, 0);
  assert.throws(() => readConfigSource([...JANOG_FLAGS, "--port-reuse", "maybe"], "ce"), /--port-reuse: 'maybe' is not on, off or auto/);
  assert.throws(() => readConfigSource([...JANOG_FLAGS, "--fair-reserve", "5000"], "ce"), /--fair-reserve: '5000' is not an integer from 0 to 4096/);
});

test("port reuse (default on for 15 ports): a SYN flood to one server leaves the victim every connection to others", () => {
  const dp = ce([]);
  assert.equal(flood(dp, "syn", T0, 100, 10000), 15);
  let tcp = 0;
  for (let round = 0; round < 20; round++) tcp += victimRound(dp, round, T0 + 10 + round).tcp;
  assert.equal(tcp, 20);
  assert.equal(dp.counters()["share-port-reused"].packets, 20);
});

test("port budget: the module's report (JSON and text) shows ports, hosts, refusals, destinations and the exhaustion event", () => {
  const dp = ce(["--port-reuse", "off"]);
  flood(dp, "udp", T0, 40, 10000);
  for (let round = 0; round < 3; round++) victimRound(dp, round, T0 + 10 + round);
  const b = dp.portBudget();
  assert.deepEqual(b.protocols.udp, { ports: 15, inUse: 15, free: 0, sessions: 15 });
  assert.equal(b.protocols.tcp.inUse, 3);
  const f = b.hosts.find((h) => h.address === FLOODER)!;
  const v = b.hosts.find((h) => h.address === VICTIM)!;
  assert.deepEqual([f.udpPorts, f.refused], [12, 25]);
  assert.deepEqual([v.udpPorts, v.tcpPorts, v.sessions, v.refused], [3, 3, 6, 0]);
  assert.equal(b.destinations[0].address, "203.0.113.1");
  assert.equal(b.exhaustionEvents, 1);
  assert.deepEqual(b.exhaustion.map((e) => [e.protocol, e.host]), [["udp", FLOODER]]);
  assert.equal(dp.portExhaustion().count, 1);
  const text = dp.portBudgetText();
  assert.match(text, /^ {2}udp +15 +15 +0 +15$/m);
  assert.match(text, /192\.168\.1\.10 +0 +12 +0 +12 +25/);
  console.log(text);
});
