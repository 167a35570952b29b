// The TUN loop (host/runner.ts) over a fake device: an object with
// TunDevice's readBatch/writeBatch/onReadable over a queue of packets. It
// checks the loop reads straight into the module's slots (lengths into the
// module's own inputLengths array), processes, and writes every output from
// the module's memory, in order; that write refusals and EAGAIN are counted;
// and that a dead device stops the loop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../host/engine.js";
import { DataPath } from "../../host/datapath.js";
import { readConfigSource } from "../../host/config/source.js";
import { Runner, routesFor, identityOf, statusLine, tunnelMtuOf, reloadDataPath, reloadSummary, type PacketDevice } from "../../host/runner.js";
import { formatCounters } from "../../host/commands/stats.js";
import type { Bytes, Slots } from "../../host/tun.js";
import { dissect, ipip6, udp4, PROTO_IPIP, PROTO_UDP } from "./packets.js";

const CE_ARGS = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", "2403:9200:fff0::2", "--prefix", "2403:9200:1234::/48"];
const MAP_ADDRESS = "2403:9200:1234::cb56:e101:234";
const BR = "2403:9200:fff0::2";

function ceDataPath(args = CE_ARGS): DataPath {
  const engine = Engine.load();
  engine.configure(readConfigSource(args, "ce").encoded);
  const dp = new DataPath(engine);
  dp.start(false);
  return dp;
}

/** A LAN host's UDP datagram whose payload carries its sequence number. */
function lanUdp(seq: number): Uint8Array {
  const payload = new Uint8Array([seq >> 8, seq & 0xff, 0xaa, 0x55]);
  return udp4({ src: "192.168.1.2", dst: "203.0.113.1", srcPort: 40000, dstPort: 9, payload });
}

const bytes = (b: Bytes): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));

/** TunDevice's interface over a queue: what it read, what it was given to write. */
class FakeDevice implements PacketDevice {
  readonly name = "fake0";
  queue: Uint8Array[] = [];
  written: Uint8Array[] = [];
  reads = 0;
  /** Indices (over all writes) the "kernel" refuses with -EINVAL. */
  refuse = new Set<number>();
  /** Indices (over all writes) refused with -EAGAIN one by one, as io_uring completes them. */
  refuseAgain = new Set<number>();
  /** Accept at most this many packets per writeBatch call (EAGAIN after). */
  writeRoom = Infinity;
  readError?: NodeJS.ErrnoException;
  cb?: (err?: Error) => void;
  lengthsSeen?: Int32Array;
  private writes = 0;

  readBatch(buf: Bytes, slots: Slots, count = slots.offsets.length): number {
    this.reads++;
    if (this.readError) throw this.readError;
    this.lengthsSeen = slots.lengths;
    const mem = bytes(buf);
    let n = 0;
    while (n < count && this.queue.length > 0) {
      const p = this.queue.shift()!;
      const len = Math.min(p.length, slots.capacities[n]);
      mem.set(p.subarray(0, len), slots.offsets[n]);
      slots.lengths[n] = len;
      n++;
    }
    return n;
  }

  writeBatch(buf: Bytes, slots: Pick<Slots, "offsets" | "lengths">, count: number, results?: Int32Array): number {
    const mem = bytes(buf);
    const n = Math.min(count, this.writeRoom);
    for (let i = 0; i < n; i++) {
      const w = this.writes++;
      const refused = this.refuse.has(w) || this.refuseAgain.has(w);
      if (!refused) this.written.push(mem.slice(slots.offsets[i], slots.offsets[i] + slots.lengths[i]));
      if (results) results[i] = this.refuse.has(w) ? -22 : this.refuseAgain.has(w) ? -11 : slots.lengths[i];
    }
    return n;
  }

  onReadable(cb: ((err?: Error) => void) | undefined): void {
    this.cb = cb;
  }
}

test("Runner: drains the device in batches and writes every output in order", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  const total = dp.batchMax * 2 + 7; // three batches, the last one short
  for (let i = 0; i < total; i++) dev.queue.push(lanUdp(i));
  let now = 1000;
  const runner = new Runner(dp, dev, { clock: () => now, tickMs: 0 });
  assert.equal(runner.pump(), total);
  assert.equal(dev.reads, 3);
  // The device wrote lengths straight into the module's inputLengths() array.
  assert.equal(dev.lengthsSeen!.buffer, dp.exports.memory.buffer);
  assert.equal(dev.lengthsSeen!.byteOffset, dp.exports.inputLengths());
  assert.equal(dev.written.length, total);
  dev.written.forEach((p, i) => {
    const d = dissect(p);
    assert.deepEqual(d.problems, [], `output ${i}`);
    assert.equal(d.version, 6);
    assert.equal(d.protocol, PROTO_IPIP);
    assert.equal(d.src, MAP_ADDRESS);
    assert.equal(d.dst, BR);
    assert.equal(d.inner?.protocol, PROTO_UDP);
    assert.equal(d.inner?.src, "203.86.225.1");
    const seq = (d.inner!.payload[0] << 8) | d.inner!.payload[1];
    assert.equal(seq, i, "outputs keep the order of their inputs");
  });
  const c = dp.counters();
  assert.equal(c["in-ipv4"].packets, total);
  assert.equal(c["forwarded-to-ipv6"].packets, total);
  assert.equal(runner.hostCounters()["tun-read-batches"].packets, 3);
  assert.equal(runner.hostCounters()["tun-write-errors"].packets, 0);
  now += 10;
  assert.equal(runner.pump(), 0, "an empty device reads nothing");
});

test("Runner: a drop in the middle keeps the others in order", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  dev.queue.push(lanUdp(0), new Uint8Array([0x00, 1, 2, 3]), lanUdp(2));
  const runner = new Runner(dp, dev, { clock: () => 5, tickMs: 0 });
  runner.pump();
  assert.deepEqual(
    dev.written.map((p) => dissect(p).inner!.payload[1]),
    [0, 2],
  );
  assert.equal(dp.counters()["drop-unknown-version"].packets, 1);
});

test("Runner: write refusals and EAGAIN are counted with their bytes", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  for (let i = 0; i < 5; i++) dev.queue.push(lanUdp(i));
  dev.refuse.add(1);
  dev.writeRoom = 3;
  const runner = new Runner(dp, dev, { clock: () => 5, tickMs: 0 });
  runner.pump();
  const h = runner.hostCounters();
  assert.equal(dev.written.length, 2);
  assert.equal(h["tun-write-errors"].packets, 1);
  assert.equal(h["tun-write-blocked"].packets, 2);
  const outLen = 40 + lanUdp(0).length;
  assert.equal(h["tun-write-errors"].bytes, outLen);
  assert.equal(h["tun-write-blocked"].bytes, 2 * outLen);
});

test("Runner: a packet refused with EAGAIN mid-batch (io_uring) counts as blocked, not as an error", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  for (let i = 0; i < 4; i++) dev.queue.push(lanUdp(i));
  dev.refuseAgain.add(1);
  dev.refuse.add(2);
  const runner = new Runner(dp, dev, { clock: () => 5, tickMs: 0 });
  runner.pump();
  const h = runner.hostCounters();
  assert.deepEqual(dev.written.map((p) => dissect(p).inner!.payload[1]), [0, 3], "the later packets of the batch are written");
  assert.equal(h["tun-write-blocked"].packets, 1);
  assert.equal(h["tun-write-errors"].packets, 1);
});

test("Runner: start watches the device, stop unwatches; a dead device stops the loop", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  const fatal: Error[] = [];
  const runner = new Runner(dp, dev, { clock: () => 5, tickMs: 0, onFatal: (e) => fatal.push(e) });
  runner.start();
  assert.ok(dev.cb);
  dev.queue.push(lanUdp(7));
  dev.cb!();
  assert.equal(dev.written.length, 1);
  const e = Object.assign(new Error("tun.readBatch: Bad file descriptor"), { code: "EBADF" });
  dev.readError = e;
  dev.cb!();
  assert.equal(fatal.length, 1);
  assert.equal(fatal[0], e);
  assert.equal(runner.isRunning, false);
  assert.ok(!dev.cb, "unwatched");
  assert.equal(runner.hostCounters()["tun-read-errors"].packets, 1);
  // A transient error (not fatal) is only counted.
  const runner2 = new Runner(dp, dev, { clock: () => 5, tickMs: 0, onFatal: (x) => fatal.push(x) });
  dev.readError = Object.assign(new Error("EIO"), { code: "EIO" });
  runner2.start();
  (dev.cb as ((err?: Error) => void) | undefined)!();
  assert.equal(runner2.isRunning, true);
  assert.equal(fatal.length, 1);
  runner2.stop();
});

test("Runner: the idle tick runs the module with no input at the clock's time", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  const seen: number[] = [];
  const orig = dp.process.bind(dp);
  dp.process = (n: number, now: number): number => {
    seen.push(n, now);
    return orig(n, now);
  };
  const runner = new Runner(dp, dev, { clock: () => 42, tickMs: 0 });
  runner.tick();
  assert.deepEqual(seen, [0, 42]);
  assert.equal(dev.written.length, 0);
});

test("routes, reload identity and status of a CE and a BR", () => {
  const engine = Engine.load();
  const src = readConfigSource([...CE_ARGS], "ce");
  engine.configure(src.encoded);
  assert.equal(tunnelMtuOf(src.encoded.bytes), 1500);
  assert.deepEqual(routesFor("ce", engine, 1500), [
    { v6: false, dest: "default", mtu: 1460 },
    { v6: true, dest: `${MAP_ADDRESS}/128` },
  ]);
  const id = identityOf("ce", engine);
  engine.configure(readConfigSource([...CE_ARGS], "ce").encoded);
  assert.equal(identityOf("ce", engine), id, "same BMR, same identity");
  engine.configure(readConfigSource([...CE_ARGS.slice(0, 4), "--prefix", "2403:9200:1235::/48"], "ce").encoded);
  assert.notEqual(identityOf("ce", engine), id, "another end-user prefix, another BMR");
  assert.match(statusLine("ce", engine, "mape0", 1500), /^ce on mape0: IPv4 203\.86\.225\.\d+, PSID \d+ \(12 bits at offset 4\), 15 ports .*MAP address 2403:9200:1235::/);

  const br = Engine.load();
  br.configure(readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR], "br").encoded);
  assert.deepEqual(routesFor("br", br, 1500), [
    { v6: false, dest: "203.86.225.0/28", mtu: 1460 },
    { v6: true, dest: `${BR}/128` },
  ]);
  assert.equal(statusLine("br", br, "mapebr0", 1500), `br on mapebr0: 1 rule, BR ${BR}, tunnel MTU 1500`);
});

test("formatCounters: non-zero counters, aligned", () => {
  const out = formatCounters({ "in-ipv4": { packets: 2, bytes: 168 }, "drop-x": { packets: 0, bytes: 0 }, "forwarded-to-ipv6": { packets: 12, bytes: 1008 } });
  assert.equal(
    out,
    [
      "                     packets  bytes",
      "  in-ipv4                  2    168",
      "  forwarded-to-ipv6       12   1008",
      "",
    ].join("\n"),
  );
  assert.equal(formatCounters({ a: { packets: 0, bytes: 0 } }), "  (all counters are zero)\n");
});

// ── reload (SIGHUP's data-path half) tested by traffic ────────────────────

/** A reply from the internet host of lanUdp() to external port `port`, through the BR. */
function replyVia(port: number, dst = "203.86.225.1", to = MAP_ADDRESS): Uint8Array {
  return ipip6({ src: BR, dst: to, hopLimit: 60, inner: udp4({ src: "203.0.113.1", dst, srcPort: 9, dstPort: port, payload: new Uint8Array([1, 2, 3, 4]) }) });
}

test("reload with the same BMR: a flow from before is answered after it, on the same external port", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  let now = 1000;
  const runner = new Runner(dp, dev, { clock: () => now, tickMs: 0 });
  dev.queue.push(lanUdp(1));
  runner.pump();
  const port = dissect(dev.written[0]).inner!.udp!.srcPort;
  assert.equal(dp.counters()["sessions-active"].packets, 1);

  const r = reloadDataPath("ce", dp.engine, dp, readConfigSource([...CE_ARGS], "ce").encoded);
  assert.deepEqual(r, { same: true, kept: true });
  assert.equal(reloadSummary("ce", r.same, r.kept), "BMR unchanged, sessions kept");
  assert.equal(dp.counters()["sessions-active"].packets, 1, "the session outlived the reload");

  now += 10;
  dev.written = [];
  dev.queue.push(replyVia(port), lanUdp(2));
  runner.pump();
  assert.equal(dev.written.length, 2);
  const back = dissect(dev.written[0]);
  assert.equal(back.version, 4, "the reply reached the LAN host");
  assert.equal(back.dst, "192.168.1.2");
  assert.equal(back.udp!.dstPort, 40000);
  assert.equal(dissect(dev.written[1]).inner!.udp!.srcPort, port, "the flow keeps its external port");
  assert.equal(dp.counters()["drop-nat-no-mapping"].packets, 0);
});

test("reload with another BMR: the sessions go, and the log line says so", () => {
  const dp = ceDataPath();
  const dev = new FakeDevice();
  const runner = new Runner(dp, dev, { clock: () => 1000, tickMs: 0 });
  dev.queue.push(lanUdp(1));
  runner.pump();
  const port = dissect(dev.written[0]).inner!.udp!.srcPort;
  const other = [...CE_ARGS.slice(0, 4), "--prefix", "2403:9200:1235::/48"];
  const r = reloadDataPath("ce", dp.engine, dp, readConfigSource(other, "ce").encoded);
  assert.deepEqual(r, { same: false, kept: false });
  assert.equal(reloadSummary("ce", r.same, r.kept), "BMR changed, sessions reset");
  assert.equal(dp.counters()["sessions-active"].packets, 0);
  assert.equal(reloadSummary("ce", true, false), "BMR unchanged, sessions reset", "the line says what the module did");
  void port;
});
