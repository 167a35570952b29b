// Inbound ports over the real module: static forwards (--forward, JSON
// "forwards", UCI 'list forward'), the refused-port line, reload, hairpin;
// the PCP (RFC 6887) and NAT-PMP (RFC 6886) server with requests built HERE
// from the RFCs' byte layouts (not by the module's builder).

import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { Engine } from "../../host/engine.js";
import { DataPath } from "../../host/datapath.js";
import { ConfigError } from "../../host/config/errors.js";
import { configFromJson, readConfigSource } from "../../host/config/source.js";
import { pcpAnswer, inboundPorts, type PcpExports } from "../../host/pcp.js";
import { dissect, ipip6, tcp4, udp4 } from "./packets.js";

const CE4 = "203.86.225.1";
const CE6 = "2403:9200:1234::cb56:e101:234";
const BR = "2403:9200:fff0::2";
const RULE = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48"];
/** The JANOG rule's 15 ports: one per 4096-block, PSID 0x234. */
const PORTS = Array.from({ length: 15 }, (_, i) => ((i + 1) << 12) | 0x234);
const JANOG = {
  type: "map-e",
  rules: [{ ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 }],
  br: "2403:9200:fff0::2",
  endUserPrefix: "2403:9200:1234::/48",
};
const H1 = "192.168.1.10";
const H2 = "192.168.1.11";
const REMOTE = "198.51.100.7";
const T0 = 1_700_000_000_000;

const fromBr = (inner: Uint8Array): Uint8Array => ipip6({ src: BR, dst: CE6, hopLimit: 60, inner });
const inner = (p: Uint8Array) => dissect(p).inner!;

function ceArgs(args: string[]): DataPath {
  const engine = Engine.load();
  engine.configure(readConfigSource([...RULE, ...args], "ce").encoded);
  const dp = new DataPath(engine, { slots: 64, seed: 1 });
  dp.start();
  return dp;
}
const pcpEx = (dp: DataPath): PcpExports => dp.exports as unknown as PcpExports;

test("--forward udp/tcp: a stranger reaches the LAN host (filtering address-dependent), replies keep the port, hairpin works", () => {
  const dp = ceArgs(["--forward", `udp:${PORTS[2]}=${H1}:5000`, `--forward=tcp:${PORTS[3]}=${H1}:80`]);
  const u = dp.run([fromBr(udp4({ src: REMOTE, dst: CE4, srcPort: 40000, dstPort: PORTS[2] }))], T0);
  assert.equal(u.length, 1);
  assert.equal(dissect(u[0]).dst, H1);
  assert.equal(dissect(u[0]).udp!.dstPort, 5000);
  const t = dp.run([fromBr(tcp4({ src: REMOTE, dst: CE4, srcPort: 40001, dstPort: PORTS[3], flags: "S" }))], T0 + 1);
  assert.equal(t.length, 1);
  assert.equal(dissect(t[0]).tcp!.dstPort, 80);
  // The LAN host's own traffic leaves from the forwarded port (EIM).
  const o = dp.run([udp4({ src: H1, dst: "198.51.100.9", srcPort: 5000, dstPort: 53 })], T0 + 2);
  assert.equal(inner(o[0]).udp!.srcPort, PORTS[2]);
  // Hairpin: another LAN host to our address and the forwarded port.
  const h = dp.run([udp4({ src: H2, dst: CE4, srcPort: 7000, dstPort: PORTS[2] })], T0 + 3);
  assert.equal(h.length, 1);
  const d = dissect(h[0]);
  assert.equal(d.dst, H1);
  assert.equal(d.src, CE4);
  assert.equal(d.udp!.dstPort, 5000);
  assert.ok(PORTS.includes(d.udp!.srcPort));
  // Without a forward the same stranger is refused (so the rows above can fail).
  const plain = ceArgs([]);
  assert.equal(plain.run([fromBr(udp4({ src: REMOTE, dst: CE4, srcPort: 40000, dstPort: PORTS[2] }))], T0).length, 0);
  assert.equal(plain.counters()["drop-nat-no-mapping"].packets, 1);
});

test("a forward outside the port set is refused with one line naming the entry and listing the set's ranges", () => {
  const refused = (args: string[], re: RegExp): void => {
    assert.throws(() => Engine.load().configure(readConfigSource([...RULE, ...args], "ce").encoded), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.ok(!e.message.includes("\n"), "one line");
      assert.match(e.message, re);
      return true;
    });
  };
  refused(["--forward", `tcp:8080=${H1}:80`],
    new RegExp(`^--forward 'tcp:8080=${H1}:80': the external port is not in this CE's port set \\(ports ${PORTS.join(", ")}\\) \\(FORWARD_PORT\\)$`));
  refused(["--forward", "sctp:4660=192.168.1.10"], /^--forward 'sctp:4660=192.168.1.10': 'sctp' is not tcp or udp$/);
  refused(["--forward", "tcp:4660"], /is not <tcp\|udp>:<external port>=<LAN IPv4>\[:<LAN port>\]$/);
  refused(["--forward", "tcp:0=192.168.1.10"], /the external port '0' is not a port from 1 to 65535/);
  refused(["--forward", "tcp:4660=192.168.1.300"], /^--forward 'tcp:4660=192.168.1.300': the LAN address /);
  refused(["--forward", `tcp:${PORTS[0]}=${H1}:80`, "--forward", `tcp:${PORTS[0]}=${H2}:80`], /the external port is forwarded already/);
  refused(["--forward", `tcp:${PORTS[0]}=${H1}:80`, "--forward", `tcp:${PORTS[1]}=${H1}:80`], /this LAN endpoint is forwarded already/);
  // JSON: the same line, named by the JSON path.
  const json = (forwards: unknown, re: RegExp): void => {
    assert.throws(() => Engine.load().configure(configFromJson({ ...JANOG, mode: "ce", forwards }).encoded), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, re);
      return true;
    });
  };
  json([`udp:${PORTS[0]}=${H1}`, "udp:1=10.0.0.1"], /^forwards\[1\] 'udp:1=10\.0\.0\.1': the external port is not in this CE's port set \(ports 4660, /);
  json("udp:4660=10.0.0.1", /^forwards: must be an array/);
  // In the set: accepted (tcp and udp of one port are two forwards).
  Engine.load().configure(readConfigSource([...RULE, "--forward", `tcp:${PORTS[0]}=${H1}:80`, "--forward", `udp:${PORTS[0]}=${H1}:80`], "ce").encoded);
});

test("forwards survive reload: re-applied from the new configuration whether the sessions are kept or dropped", () => {
  const engine = Engine.load();
  engine.configure(configFromJson({ ...JANOG, mode: "ce", forwards: [`udp:${PORTS[4]}=${H1}:5000`] }).encoded);
  const dp = new DataPath(engine, { slots: 64, seed: 1 });
  dp.start();
  const probe = (port: number, t: number): number =>
    dp.run([fromBr(udp4({ src: REMOTE, dst: CE4, srcPort: 40000 + (t % 1000), dstPort: port }))], t).length;
  assert.equal(probe(PORTS[4], T0), 1);
  // Same BMR, new forwards, sessions kept: the old forward goes, the new one works.
  engine.configure(configFromJson({ ...JANOG, mode: "ce", forwards: [`udp:${PORTS[5]}=${H2}:6000`] }).encoded);
  assert.equal(dp.start(true), true);
  assert.equal(probe(PORTS[5], T0 + 10), 1);
  assert.equal(probe(PORTS[4], T0 + 11), 1, "the old forward's live session stays until it idles");
  assert.equal(probe(PORTS[4] , T0 + 400_000), 0, "but no new stranger gets in");
  // Sessions dropped: the forward is pinned again anyway.
  dp.start(false);
  assert.equal(probe(PORTS[5], T0 + 400_010), 1);
  assert.deepEqual(inboundPorts(pcpEx(dp)).mappings.map((m) => [m.kind, m.protocol, m.external, m.internal, m.remaining]),
    [["static", "udp", PORTS[5], `${H2}:6000`, null]]);
});

test("UCI: 'list forward' in the map interface's section", () => {
  const uci = [
    "config interface 'wan6map'",
    "\toption proto 'map'",
    "\toption type 'map-e'",
    "\toption peeraddr '2403:9200:fff0::2'",
    "\toption ipaddr '203.86.225.0'",
    "\toption ip4prefixlen '28'",
    "\toption ip6prefix '2403:9200::'",
    "\toption ip6prefixlen '32'",
    "\toption ealen '16'",
    "\toption psidlen '12'",
    "\toption offset '4'",
    `\tlist forward 'tcp:${PORTS[6]}=${H1}:22'`,
    "",
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "mape-inbound-"));
  const path = join(dir, "network");
  writeFileSync(path, uci);
  const src = readConfigSource(["--uci", path, "--interface", "wan6map", "--prefix", "2403:9200:1234::/48"], "ce");
  rmSync(dir, { recursive: true });
  const engine = Engine.load();
  engine.configure(src.encoded);
  const dp = new DataPath(engine, { slots: 64, seed: 1 });
  dp.start();
  const t = dp.run([fromBr(tcp4({ src: REMOTE, dst: CE4, srcPort: 40001, dstPort: PORTS[6], flags: "S" }))], T0);
  assert.equal(t.length, 1);
  assert.equal(dissect(t[0]).tcp!.dstPort, 22);
});

// ── PCP / NAT-PMP: requests from the RFCs' layouts ─────────────────────────

const be16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const v4 = (a: string): number[] => a.split(".").map(Number);
const mapped = (a: string): number[] => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...v4(a)];
const read16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const read32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** RFC 6886 §3.3: version 0, opcode 1 (UDP) or 2 (TCP), reserved, internal port, suggested external port, lifetime. */
const natpmpMap = (op: number, intPort: number, ext: number, lifetime: number): Uint8Array =>
  Uint8Array.from([0, op, 0, 0, ...be16(intPort), ...be16(ext), ...be32(lifetime)]);
/** RFC 6887 §7.1 + §11.1: the common header, then the MAP opcode's 36 bytes. */
const pcpMap = (client: string, lifetime: number, nonce: number[], proto: number, intPort: number, ext: number, options: number[] = []): Uint8Array =>
  Uint8Array.from([2, 1, 0, 0, ...be32(lifetime), ...mapped(client), ...nonce, proto, 0, 0, 0, ...be16(intPort), ...be16(ext), ...new Array(16).fill(0), ...options]);
const NONCE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

test("NAT-PMP: the external address, a mapping of a port outside the set gets the nearest of the set, inbound works, delete", () => {
  const dp = ceArgs([]);
  dp.process(0, T0);
  const ex = pcpEx(dp);
  const addr = pcpAnswer(ex, Uint8Array.from([0, 0]), H1)!;
  assert.deepEqual([...addr.subarray(0, 4)], [0, 128, 0, 0]);
  assert.deepEqual([...addr.subarray(8, 12)], v4(CE4));
  // 8000 is not ours; the nearest of the set is 8756 (0x2234).
  const r = pcpAnswer(ex, natpmpMap(1, 5000, 8000, 3600), H1)!;
  assert.equal(r.length, 16);
  assert.deepEqual([r[0], r[1], read16(r, 2)], [0, 129, 0]);
  assert.equal(read16(r, 8), 5000);
  assert.equal(read16(r, 10), 0x2234);
  assert.equal(read32(r, 12), 3600);
  const u = dp.run([fromBr(udp4({ src: REMOTE, dst: CE4, srcPort: 40000, dstPort: 0x2234 }))], T0 + 1);
  assert.equal(u.length, 1);
  assert.equal(dissect(u[0]).dst, H1);
  assert.equal(dissect(u[0]).udp!.dstPort, 5000);
  // A second host asking for the same port gets another one of the set.
  const r2 = pcpAnswer(ex, natpmpMap(1, 5000, 0x2234, 3600), H2)!;
  assert.ok(PORTS.includes(read16(r2, 10)) && read16(r2, 10) !== 0x2234);
  const list = inboundPorts(ex).mappings;
  assert.deepEqual(list.map((m) => [m.kind, m.external, m.internal, m.remaining]),
    [["nat-pmp", 0x2234, `${H1}:5000`, 3600], ["nat-pmp", read16(r2, 10), `${H2}:5000`, 3600]]);
  // Lifetime 0 deletes (the mapped port reads 0).
  const del = pcpAnswer(ex, natpmpMap(1, 5000, 0, 0), H1)!;
  assert.deepEqual([read16(del, 2), read16(del, 10), read32(del, 12)], [0, 0, 0]);
  assert.equal(inboundPorts(ex).mappings.length, 1);
  // Unsupported opcode: result 5; a response (opcode ≥ 128) or a short request: no reply, counted.
  assert.deepEqual([...pcpAnswer(ex, Uint8Array.from([0, 3]), H1)!.subarray(0, 4)], [0, 131, 0, 5]);
  assert.equal(pcpAnswer(ex, Uint8Array.from([0, 129, 0, 0]), H1), null);
  assert.equal(pcpAnswer(ex, Uint8Array.from([0, 1, 0, 0, 0]), H1), null);
  assert.equal(dp.counters()["drop-pcp-malformed"].packets, 2);
});

test("NAT-PMP: a mapping expires at its lifetime on the module clock; the epoch counts seconds", () => {
  const dp = ceArgs([]);
  dp.process(0, T0);
  const ex = pcpEx(dp);
  const r = pcpAnswer(ex, natpmpMap(2, 8080, PORTS[7], 200), H1)!;
  assert.equal(read16(r, 10), PORTS[7]);
  dp.tickTo(T0 + 150_000);
  dp.process(0, T0 + 150_000);
  assert.equal(inboundPorts(ex).mappings[0].remaining, 50);
  assert.equal(read32(pcpAnswer(ex, Uint8Array.from([0, 0]), H1)!, 4), 150);
  dp.tickTo(T0 + 201_000);
  dp.process(0, T0 + 201_000);
  assert.equal(inboundPorts(ex).mappings.length, 0);
  assert.equal(dp.run([fromBr(tcp4({ src: REMOTE, dst: CE4, srcPort: 1, dstPort: PORTS[7], flags: "S" }))], T0 + 202_000).length, 0);
});

test("PCP MAP: suggested port granted, renewal needs the nonce, PREFER_FAILURE, errors; version 0 and 2 share the port", () => {
  const dp = ceArgs(["--forward", `tcp:${PORTS[9]}=${H2}:443`]);
  dp.process(0, T0);
  const ex = pcpEx(dp);
  const r = pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 8080, PORTS[8]), H1)!;
  assert.equal(r.length, 60);
  assert.deepEqual([r[0], r[1], r[3]], [2, 0x81, 0], "version 2, R|MAP, SUCCESS");
  assert.equal(read32(r, 4), 7200);
  assert.deepEqual([...r.subarray(24, 36)], NONCE);
  assert.equal(read16(r, 40), 8080);
  assert.equal(read16(r, 42), PORTS[8]);
  assert.deepEqual([...r.subarray(44, 60)], mapped(CE4));
  const t = dp.run([fromBr(tcp4({ src: REMOTE, dst: CE4, srcPort: 2, dstPort: PORTS[8], flags: "S" }))], T0 + 1);
  assert.equal(dissect(t[0]).tcp!.dstPort, 8080);
  // Another nonce: NOT_AUTHORIZED (2); the same: renewed.
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE.map((x) => x + 1), 6, 8080, 0), H1)![3], 2);
  assert.equal(pcpAnswer(ex, pcpMap(H1, 100000, NONCE, 6, 8080, 0), H1)![3], 0);
  // A static forward's port with PREFER_FAILURE (option 2, length 0): CANNOT_PROVIDE_EXTERNAL (11).
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 17, 9000, PORTS[9], [2, 0, 0, 0]), H1)![3], 0, "udp is another port space");
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 9001, PORTS[9], [2, 0, 0, 0]), H1)![3], 11);
  // Without it: the nearest free port instead.
  const near = pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 9002, PORTS[9]), H1)!;
  assert.equal(near[3], 0);
  assert.ok(PORTS.includes(read16(near, 42)) && ![PORTS[8], PORTS[9]].includes(read16(near, 42)));
  // A static forward cannot be changed by a client.
  assert.equal(pcpAnswer(ex, pcpMap(H2, 0, NONCE, 6, 443, 0), H2)![3], 2);
  // Errors: each answered with its result code and the request copied.
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 8080, 0), H2)![3], 12, "ADDRESS_MISMATCH");
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 132, 8080, 0), H1)![3], 9, "UNSUPP_PROTOCOL");
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 0, 0), H1)![3], 3, "MALFORMED_REQUEST");
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 8080, 0, [3, 0, 0, 20, ...new Array(20).fill(0)]), H1)![3], 5, "UNSUPP_OPTION (FILTER)");
  assert.equal(pcpAnswer(ex, pcpMap(H1, 7200, NONCE, 6, 8080, 0, [2, 0, 0, 8]), H1)![3], 6, "MALFORMED_OPTION");
  const v1 = pcpAnswer(ex, Uint8Array.from([1, 1, 0, 0, ...new Array(20).fill(0)]), H1)!;
  assert.deepEqual([v1[0], v1[3]], [2, 1], "UNSUPP_VERSION, with the version we speak");
  const peer = pcpAnswer(ex, Uint8Array.from([2, 2, 0, 0, ...be32(0), ...mapped(H1)]), H1)!;
  assert.deepEqual([peer[1], peer[3]], [0x82, 4], "PEER: UNSUPP_OPCODE");
  assert.equal(pcpAnswer(ex, Uint8Array.from([2, 1, 0, 0, 0, 0, 0, 0]), H1)![3], 3, "short: MALFORMED_REQUEST");
  const ann = pcpAnswer(ex, Uint8Array.from([2, 0, 0, 0, ...be32(0), ...mapped(H1)]), H1)!;
  assert.deepEqual([ann.length, ann[1], ann[3]], [24, 0x80, 0], "ANNOUNCE: SUCCESS");
  assert.equal(pcpAnswer(ex, Uint8Array.from([2, 0x81, 0, 0, ...be32(0), ...mapped(H1)]), H1), null, "a response: dropped");
  // Delete with the nonce: gone.
  const del = pcpAnswer(ex, pcpMap(H1, 0, NONCE, 6, 8080, 0), H1)!;
  assert.deepEqual([del[3], read32(del, 4)], [0, 0]);
  assert.equal(dp.run([fromBr(tcp4({ src: REMOTE, dst: CE4, srcPort: 3, dstPort: PORTS[8], flags: "S" }))], T0 + 2).length, 0);
  const c = dp.counters();
  assert.ok(c["pcp-requests"].packets >= 15);
  assert.equal(c["pcp-errors"].packets, 11);
});

test("PCP: an endpoint with an implicit mapping keeps its port (RFC 6887 §11.3); a BMR change drops client mappings and restarts the epoch", () => {
  const engine = Engine.load();
  engine.configure(readConfigSource(RULE, "ce").encoded);
  const dp = new DataPath(engine, { slots: 64, seed: 1 });
  dp.start();
  const o = dp.run([udp4({ src: H1, dst: REMOTE, srcPort: 6000, dstPort: 53 })], T0);
  const implicit = inner(o[0]).udp!.srcPort;
  const ex = pcpEx(dp);
  const r = pcpAnswer(ex, pcpMap(H1, 600, NONCE, 17, 6000, 0), H1)!;
  assert.equal(read16(r, 42), implicit);
  dp.tickTo(T0 + 20_000);
  dp.process(0, T0 + 20_000);
  assert.equal(read32(pcpAnswer(ex, Uint8Array.from([0, 0]), H1)!, 4), 20);
  // Same rule: the mapping stays across a reload that drops the sessions.
  engine.configure(readConfigSource(RULE, "ce").encoded);
  dp.start(false);
  assert.equal(inboundPorts(ex).mappings.length, 1);
  assert.equal(dp.run([fromBr(udp4({ src: "198.51.100.99", dst: CE4, srcPort: 1, dstPort: implicit }))], T0 + 20_001).length, 1);
  // Another prefix (another IPv4 address / PSID): gone, epoch from 0.
  engine.configure(readConfigSource([...RULE.slice(0, 4), "--prefix", "2403:9200:5678::/48"], "ce").encoded);
  dp.start(true);
  assert.equal(inboundPorts(ex).mappings.length, 0);
  assert.equal(read32(pcpAnswer(ex, Uint8Array.from([0, 0]), H1)!, 4), 0);
});
