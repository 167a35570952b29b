// DataPath (host/datapath.ts) over the real module, the local settings of
// the JSON config, `mape pcap`'s error handling, and the behaviours whose
// bytes are not predictable (random ports), so the end-to-end rows
// (tests/e2e) cannot pin them: these assert on sets and counters instead.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "../../host/engine.js";
import { DataPath } from "../../host/datapath.js";
import { ConfigError } from "../../host/config/errors.js";
import { configFromJson, readConfigSource } from "../../host/config/source.js";

/** ABI numbers (docs/abi.md §1): the local-settings option and its sub-option codes. */
const OPTION = { MAPE_LOCAL: 0xff01 } as const;
const LOCAL = {
  FILTERING: 5, MSS_CLAMP: 6, TC_FROM_TOS: 7, UDP_TIMEOUT: 8, DNS_TIMEOUT: 9,
  TCP_ESTABLISHED_TIMEOUT: 10, TCP_TRANSITORY_TIMEOUT: 11, ICMP_TIMEOUT: 12,
} as const;
import { dissect, fragmentIpv4, icmp4Echo, icmp4EchoReply, ipip6, pattern, udp4 } from "./packets.js";

function root(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

const JANOG = {
  type: "map-e",
  rules: [{ ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 }],
  br: "2403:9200:fff0::2",
  endUserPrefix: "2403:9200:1234::/48",
};
const CE4 = "203.86.225.1";
const CE6 = "2403:9200:1234::cb56:e101:234";
const BR = "2403:9200:fff0::2";
const PORTS = Array.from({ length: 15 }, (_, i) => ((i + 1) << 12) | 0x234);
const T0 = 1_700_000_000_000;

function ce(extra: Record<string, unknown> = {}, seed = 1): DataPath {
  const engine = Engine.load();
  engine.configure(configFromJson({ ...JANOG, mode: "ce", ...extra }).encoded);
  const dp = new DataPath(engine, { slots: 64, seed });
  dp.start();
  return dp;
}

const fromBr = (inner: Uint8Array): Uint8Array => ipip6({ src: BR, dst: CE6, hopLimit: 60, inner });
const inner = (p: Uint8Array) => dissect(p).inner!;

test("counter names: read from the module, unique, every one documented in docs/counters.md", () => {
  const dp = ce();
  const names = dp.counterNames();
  assert.ok(names.length > 40);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("in-ipv4") && names.includes("drop-security-ipv6-src-unknown"));
  const doc = readFileSync(join(root(), "docs", "counters.md"), "utf8");
  const missing = names.filter((n) => !doc.includes(`\`${n}\``));
  assert.deepEqual(missing, [], "counters missing from docs/counters.md");
  const c = dp.counters();
  assert.deepEqual(Object.keys(c), [...names]);
  assert.ok(Object.values(c).every((v) => v.packets === 0 && v.bytes === 0));
});

test("inputs are written in place, outputs are views into the module's memory", () => {
  const dp = ce();
  const p = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000, payload: pattern(20) });
  dp.inputView(0).set(p);
  dp.setLength(0, p.length);
  assert.equal(dp.process(1, T0), 1);
  const out = dp.output(0);
  assert.equal(out.buffer, dp.exports.memory.buffer);
  assert.equal(out.length, p.length + 40);
  assert.equal(dissect(out).src, CE6);
  assert.deepEqual(dp.nonZero(), {
    "in-ipv4": 1, "forwarded-to-ipv6": 1, "out-ipv6": 1,
    "sessions-active": 1, "mappings-active": 1, "sessions-created": 1, "mappings-created": 1,
  });
  assert.equal(dp.counters()["out-ipv6"].bytes, p.length + 40);
  assert.equal(dp.countersExact()["in-ipv4"].packets, 1n);
  assert.throws(() => dp.process(dp.batchMax + 1, T0), RangeError);
});

test("EIM with a source port outside the set: one in-set external port for two destinations; replies reach the host", () => {
  for (const seed of [1, 2, 3, 99]) {
    const dp = ce({ filtering: "address-and-port-dependent" }, seed);
    const a = dp.run([udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: 5000, dstPort: 40000 })], T0);
    const b = dp.run([udp4({ src: "192.168.1.10", dst: "198.51.100.8", srcPort: 5000, dstPort: 40000 })], T0 + 1);
    const pa = inner(a[0]).udp!.srcPort;
    const pb = inner(b[0]).udp!.srcPort;
    assert.ok(PORTS.includes(pa), `seed ${seed}: port ${pa} not in the set`);
    assert.equal(pb, pa, "endpoint-independent mapping");
    const back = dp.run([fromBr(udp4({ src: "198.51.100.8", dst: CE4, srcPort: 40000, dstPort: pb }))], T0 + 2);
    assert.equal(back.length, 1);
    const d = dissect(back[0]);
    assert.equal(d.dst, "192.168.1.10");
    assert.equal(d.udp!.dstPort, 5000);
    assert.deepEqual(d.problems, []);
  }
});

test("two LAN hosts with the same in-set port: the second gets another in-set port", () => {
  const dp = ce();
  const out = dp.run([
    udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[3], dstPort: 40000 }),
    udp4({ src: "192.168.1.11", dst: "198.51.100.7", srcPort: PORTS[3], dstPort: 40000 }),
  ], T0);
  const [p, q] = out.map((o) => inner(o).udp!.srcPort);
  assert.equal(p, PORTS[3]);
  assert.ok(PORTS.includes(q) && q !== p, `second host got ${q}`);
});

test("ICMP echo with an identifier outside the set: translated into the set and back", () => {
  const dp = ce();
  const [req] = dp.run([icmp4Echo({ src: "192.168.1.10", dst: "198.51.100.7", id: 7, seq: 1 })], T0);
  const id = inner(req).icmp!.id!;
  assert.ok(PORTS.includes(id));
  const [rep] = dp.run([fromBr(icmp4EchoReply({ src: "198.51.100.7", dst: CE4, id, seq: 1 }))], T0 + 1);
  assert.equal(dissect(rep).icmp!.id, 7);
  assert.deepEqual(dissect(rep).problems, []);
});

/** A mixed stream: flows, replies, a fragment pair out of order, junk, a security drop. */
function mixed(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < 6; k++) out.push(udp4({ src: `192.168.1.${10 + k}`, dst: "198.51.100.7", srcPort: 6000 + k, dstPort: 40000, id: k }));
  const big = udp4({ src: "192.168.1.20", dst: "198.51.100.9", srcPort: PORTS[5], dstPort: 40000, id: 0x99, payload: pattern(1000) });
  const frags = fragmentIpv4(big, 576);
  out.push(frags[1], frags[0]);
  out.push(new Uint8Array([0x10, 0, 0]));
  out.push(fromBr(udp4({ src: "198.51.100.7", dst: "203.86.225.2", srcPort: 40000, dstPort: PORTS[0] })));
  out.push(fromBr(udp4({ src: "198.51.100.9", dst: CE4, srcPort: 40000, dstPort: PORTS[5] })));
  return out;
}

test("a batch boundary does not change results: one batch = one packet per call", () => {
  const a = ce({}, 7);
  const b = ce({}, 7);
  const packets = mixed();
  const batched = a.run(packets, T0);
  const single = packets.flatMap((p) => b.run([p], T0));
  assert.equal(batched.length, single.length);
  batched.forEach((p, i) => assert.deepEqual(p, single[i], `output ${i}`));
  assert.deepEqual(a.counters(), b.counters());
});

test("accounting: every input ends in exactly one outcome", () => {
  const dp = ce();
  dp.run(mixed(), T0);
  const c = dp.nonZero();
  const inputs = (c["in-ipv4"] ?? 0) + (c["in-ipv6"] ?? 0) + (c["drop-unknown-version"] ?? 0);
  const outcomes = Object.entries(c)
    .filter(([k]) => k === "forwarded-to-ipv6" || k === "forwarded-to-ipv4" || k === "held" || k.startsWith("drop-"))
    .reduce((n, [, v]) => n + v, 0);
  assert.equal(outcomes, inputs, JSON.stringify(c));
});

test("LAN fragments: one ID from the port set and one flow label per packet, in order or not", () => {
  const dp = ce();
  for (let id = 1; id <= 40; id++) {
    const big = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000, id, payload: pattern(1200, id) });
    const f = fragmentIpv4(big, 500);
    const order = id % 2 ? f : [f[2], f[0], f[1]];
    const out = dp.run(order, T0 + id);
    assert.equal(out.length, 3, `id ${id}`);
    const ids = new Set(out.map((o) => inner(o).fragment!.id));
    const labels = new Set(out.map((o) => dissect(o).ipv6!.flowLabel));
    assert.equal(ids.size, 1, `id ${id}: fragment IDs ${[...ids]}`);
    assert.ok(PORTS.includes([...ids][0]), `id ${id}: ${[...ids][0]} not in the port set`);
    assert.equal(labels.size, 1, `id ${id}: flow labels ${[...labels]}`);
  }
});

// Known data-path bug (reported): process.ts counts expired-fragments once per
// process() call (count(C_EXPIRED_FRAGMENTS, bytes)) whatever the number of
// fragments frag4Expire freed, so two fragments expiring together count 1.
test("held fragments that expire are each counted", () => {
  const dp = ce();
  const big = udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000, id: 5, payload: pattern(1500) });
  const f = fragmentIpv4(big, 576);
  assert.equal(f.length, 3);
  dp.run([f[1], f[2]], T0);
  dp.run([], T0 + 11_000);
  assert.equal(dp.counters().held.packets, 2);
  assert.equal(dp.counters()["expired-fragments"].packets, 2);
});

test("timeouts.udp: a shorter UDP timeout takes effect", () => {
  const dp = ce({ timeouts: { udp: 120 } });
  dp.run([udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: PORTS[0], dstPort: 40000 })], T0);
  const reply = fromBr(udp4({ src: "198.51.100.7", dst: CE4, srcPort: 40000, dstPort: PORTS[0] }));
  assert.equal(dp.run([reply], T0 + 119_000).length, 1);
  assert.equal(dp.run([reply], T0 + 119_000 + 121_000).length, 0);
  assert.equal(dp.nonZero()["drop-nat-no-mapping"], 1);
});

// ── local settings in the JSON config ───────────────────────────────────

/** The sub-options of OPTION_MAPE_LOCAL in encoded bytes: code → value bytes. */
function localOptions(bytes: Uint8Array): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let at = 0; at + 4 <= bytes.length; ) {
    const code = (bytes[at] << 8) | bytes[at + 1];
    const len = (bytes[at + 2] << 8) | bytes[at + 3];
    if (code === OPTION.MAPE_LOCAL) {
      for (let s = at + 4; s < at + 4 + len; ) {
        const c = (bytes[s] << 8) | bytes[s + 1];
        const l = (bytes[s + 2] << 8) | bytes[s + 3];
        out.set(c, [...bytes.subarray(s + 4, s + 4 + l)]);
        s += 4 + l;
      }
    }
    at += 4 + len;
  }
  return out;
}

test("local settings: JSON fields become OPTION_MAPE_LOCAL sub-options 5..12 of the right widths", () => {
  const enc = configFromJson({
    ...JANOG,
    mode: "ce",
    filtering: "address-and-port-dependent",
    mssClamp: 1400,
    trafficClassFromTos: false,
    timeouts: { udp: 600, dns: 20, tcpEstablished: 86400, tcpTransitory: 300, icmp: 90 },
  }).encoded;
  const l = localOptions(enc.bytes);
  assert.deepEqual(l.get(LOCAL.FILTERING), [2]);
  assert.deepEqual(l.get(LOCAL.MSS_CLAMP), [0x05, 0x78]);
  assert.deepEqual(l.get(LOCAL.TC_FROM_TOS), [0]);
  assert.deepEqual(l.get(LOCAL.UDP_TIMEOUT), [0, 0, 0x02, 0x58]);
  assert.deepEqual(l.get(LOCAL.DNS_TIMEOUT), [0, 0, 0, 20]);
  assert.deepEqual(l.get(LOCAL.TCP_ESTABLISHED_TIMEOUT), [0, 1, 0x51, 0x80]);
  assert.deepEqual(l.get(LOCAL.TCP_TRANSITORY_TIMEOUT), [0, 0, 1, 0x2c]);
  assert.deepEqual(l.get(LOCAL.ICMP_TIMEOUT), [0, 0, 0, 90]);
  Engine.load().configure(enc); // the module accepts every value
  const auto = localOptions(configFromJson({ ...JANOG, mssClamp: "auto", filtering: "endpoint-independent" }).encoded.bytes);
  assert.deepEqual(auto.get(LOCAL.MSS_CLAMP), [0, 1]);
  assert.deepEqual(auto.get(LOCAL.FILTERING), [0]);
  assert.deepEqual(localOptions(configFromJson({ ...JANOG, mssClamp: "off" }).encoded.bytes).get(LOCAL.MSS_CLAMP), [0, 0]);
});

test("local settings: the host refuses bad types, the module bad ranges, each naming the field", () => {
  const refused = (extra: Record<string, unknown>, field: RegExp): void => {
    assert.throws(() => Engine.load().configure(configFromJson({ ...JANOG, mode: "ce", ...extra }).encoded), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, field);
      return true;
    });
  };
  refused({ filtering: "full-cone" }, /^filtering: must be one of/);
  refused({ mssClamp: 1 }, /^mssClamp: must be "auto", "off" or an MSS/);
  refused({ trafficClassFromTos: 1 }, /^trafficClassFromTos: must be true or false/);
  refused({ timeouts: { udp: "300" } }, /^timeouts\.udp: must be an integer/);
  refused({ timeouts: { tcp: 300 } }, /^timeouts\.tcp: unknown field/);
  refused({ timeouts: { udp: 60 } }, /^timeouts\.udp: .*LOCAL_VALUE/);
  refused({ timeouts: { tcpEstablished: 7439 } }, /^timeouts\.tcpEstablished: .*LOCAL_VALUE/);
  refused({ timeouts: { tcpTransitory: 239 } }, /^timeouts\.tcpTransitory: .*LOCAL_VALUE/);
  refused({ timeouts: { icmp: 59 } }, /^timeouts\.icmp: .*LOCAL_VALUE/);
});

// ── mape pcap: errors ───────────────────────────────────────────────────

function mape(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root(), "bin", "mape.js"), ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("mape pcap: bad input is one line on stderr and a non-zero exit", () => {
  const dir = mkdtempSync(join(tmpdir(), "mape-pcap-"));
  try {
    const bad = join(dir, "bad.pcap");
    writeFileSync(bad, new TextEncoder().encode("this is not a capture file at all"));
    const out = join(dir, "out.pcap");
    for (const args of [
      ["pcap", "--in", bad, "--out", out],
      ["pcap", "--in", join(dir, "missing.pcap"), "--out", out],
      ["pcap", "--out", out],
      ["pcap", "--in", bad],
      ["pcap", "--in", bad, "--out", out, "--bogus"],
    ]) {
      const r = mape(args);
      assert.notEqual(r.status, 0, args.join(" "));
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^mape: .+\n$/, args.join(" "));
    }
    assert.equal(existsSync(out), false, "no output written on error");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The field's failure: CEs that only ever use the first range of their port
// set. Source ports outside the set force a choice for every flow; the NAPT
// must hand out every port of every range before it refuses.
const V6PLUS = {
  type: "map-e",
  rules: [{ ipv6Prefix: "240b:10::/31", ipv4Prefix: "106.72.0.0/15", eaLength: 25, psidOffset: 4 }],
  br: "2404:9200:225:100::64",
  endUserPrefix: "240b:11:a1b2:c300::/56",
  legacyIid: true,
};
const SETS: [string, Record<string, unknown>, number, number, number][] = [
  ["JANOG (15 ports, 15 ranges of 1)", JANOG, 4, 12, 0x234],
  ["v6plus-like (240 ports, 15 ranges of 16)", V6PLUS, 4, 8, 195],
];
for (const [name, cfg, a, k, psid] of SETS) {
  test(`all ranges of the port set are used: ${name}`, () => {
    const engine = Engine.load();
    engine.configure(configFromJson({ ...cfg, mode: "ce" }).encoded);
    const dp = new DataPath(engine, { slots: 64, seed: 7 });
    dp.start();
    const m = 16 - a - k;
    const count = ((1 << a) - 1) << m;
    const inSet = (p: number): boolean => p >> (16 - a) >= 1 && ((p >> m) & ((1 << k) - 1)) === psid;
    const ports = new Set<number>();
    // Source ports 1000.. are below 2^(16-a) = 4096: never in the set.
    for (let i = 0; i < count + 1; i++) {
      const out = dp.run([udp4({ src: "192.168.1.10", dst: "198.51.100.7", srcPort: 1000 + i, dstPort: 53 })], T0 + i);
      if (i < count) {
        assert.equal(out.length, 1, `flow ${i} was refused`);
        const p = inner(out[0]).udp!.srcPort;
        assert.ok(inSet(p), `flow ${i}: port ${p} is not in the set`);
        ports.add(p);
      } else {
        // Refused, and answered with ICMP 3/13 toward the LAN (RFC 5508 REQ-8).
        assert.equal(out.length, 1, "one flow more than the set holds must be refused with one ICMP error");
        assert.equal(out[0][0] >> 4, 4, "the answer is IPv4, toward the LAN");
        assert.deepEqual([out[0][20], out[0][21]], [3, 13], "destination unreachable, administratively prohibited");
      }
    }
    assert.equal(ports.size, count, "every port handed out once");
    const ranges = new Set([...ports].map((p) => p >> (16 - a)));
    assert.equal(ranges.size, (1 << a) - 1, "every range of the set used");
    assert.equal(dp.counters()["drop-nat-port-exhausted"].packets, 1);
    assert.equal(dp.counters()["sessions-active"].packets, count);
  });
}

// ── session limits (JSON maxSessionsPerHost / maxSessionsPerMapping, CLI flags) ──

test("maxSessionsPerMapping: a mapping past its limit evicts its own oldest session (counted)", () => {
  const dp = ce({ maxSessionsPerMapping: 2 });
  for (let i = 0; i < 3; i++) {
    assert.equal(dp.run([udp4({ src: "192.168.1.10", dst: `198.51.100.${10 + i}`, srcPort: PORTS[0], dstPort: 40000 })], T0 + i).length, 1);
  }
  const c = dp.counters();
  assert.equal(c["sessions-active"].packets, 2);
  assert.equal(c["sessions-evicted-mapping-limit"].packets, 1);
  // The oldest went: its reply finds no session (APDF would filter; ADF: the address left too).
  assert.equal(dp.run([fromBr(udp4({ src: "198.51.100.10", dst: CE4, srcPort: 40000, dstPort: PORTS[0] }))], T0 + 5).length, 0);
  assert.equal(dp.run([fromBr(udp4({ src: "198.51.100.12", dst: CE4, srcPort: 40000, dstPort: PORTS[0] }))], T0 + 6).length, 1);
});

test("--max-sessions-per-host: one host's fan-out evicts its own sessions, another host keeps its own", () => {
  const engine = Engine.load();
  engine.configure(readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48", "--max-sessions-per-host", "3"], "ce").encoded);
  const dp = new DataPath(engine, { slots: 64 });
  dp.start();
  const other = dp.run([udp4({ src: "192.168.1.20", dst: "198.51.100.7", srcPort: PORTS[1], dstPort: 40000 })], T0);
  const otherPort = inner(other[0]).udp!.srcPort;
  for (let i = 0; i < 10; i++) dp.run([udp4({ src: "192.168.1.10", dst: `198.51.100.${20 + i}`, srcPort: PORTS[0], dstPort: 40000 })], T0 + 1);
  const c = dp.counters();
  assert.equal(c["sessions-active"].packets, 4);
  assert.equal(c["sessions-evicted-host-limit"].packets, 7);
  assert.equal(dp.run([fromBr(udp4({ src: "198.51.100.7", dst: CE4, srcPort: 40000, dstPort: otherPort }))], T0 + 2).length, 1);
  assert.throws(() => readConfigSource(["--max-sessions-per-host", "lots"], "ce"), /--max-sessions-per-host: 'lots' is not a number of sessions from 0 \(no limit\) to 4194304/);
  assert.throws(() => readConfigSource(["--max-sessions-per-mapping", "4194305"], "ce"), /--max-sessions-per-mapping/);
});

// ── inner fragmentation (JSON innerFragmentation, CLI --inner-fragmentation) ──

test("innerFragmentation: the JSON key and the CLI flag both set LOCAL INNER_FRAGMENTATION (15); a bad value is one line", () => {
  const INNER_FRAGMENTATION = 15;
  assert.deepEqual(localOptions(configFromJson({ ...JANOG, innerFragmentation: true }).encoded.bytes).get(INNER_FRAGMENTATION), [1]);
  assert.equal(localOptions(configFromJson(JANOG).encoded.bytes).get(INNER_FRAGMENTATION), undefined);
  const flag = readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48", "--inner-fragmentation", "on"], "ce");
  assert.deepEqual(localOptions(flag.encoded.bytes).get(INNER_FRAGMENTATION), [1]);
  const off = readConfigSource(["--inner-fragmentation=off"], "ce");
  assert.deepEqual(localOptions(off.encoded.bytes).get(INNER_FRAGMENTATION), [0]);
  assert.throws(() => readConfigSource(["--inner-fragmentation", "maybe"], "ce"), /--inner-fragmentation: 'maybe' is not on or off/);
  assert.throws(() => configFromJson({ ...JANOG, innerFragmentation: 1 }), /innerFragmentation/);
});

// ── the FTP ALG and fair-share settings from the JSON file (LOCAL 24/25, 16/17/18) ──

test("ftpAlg, ftpPort, fairShare, fairReserve, portReuse: the JSON keys set the same LOCAL settings as the flags; bad values are one line", () => {
  const json = localOptions(configFromJson({ ...JANOG, ftpAlg: false, ftpPort: 2121, fairShare: false, fairReserve: 5, portReuse: "on" }).encoded.bytes);
  const flags = localOptions(readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48",
    "--ftp-alg", "off", "--ftp-port", "2121", "--fair-share", "off", "--fair-reserve", "5", "--port-reuse", "on"], "ce").encoded.bytes);
  for (const code of [24, 25, 16, 17, 18]) assert.deepEqual(json.get(code), flags.get(code), `LOCAL ${code}`);
  assert.deepEqual(json.get(24), [0]);
  assert.deepEqual(json.get(25), [0x08, 0x49]); // 2121
  assert.deepEqual(json.get(16), [0]);
  assert.deepEqual(json.get(17), [0, 5]);
  assert.deepEqual(json.get(18), [1]);
  assert.deepEqual(localOptions(configFromJson({ ...JANOG, portReuse: "auto" }).encoded.bytes).get(18), [2]);
  assert.throws(() => configFromJson({ ...JANOG, portReuse: "sometimes" }), /portReuse: must be one of "off", "on", "auto", not "sometimes"/);
  assert.throws(() => configFromJson({ ...JANOG, ftpPort: 0 }), /ftpPort: must be an integer from 1 to 65535/);
  assert.throws(() => configFromJson({ ...JANOG, fairReserve: 5000 }), /fairReserve: must be an integer from 0 to 4096/);
  assert.throws(() => configFromJson({ ...JANOG, fairShare: "yes" }), /fairShare/);
});
