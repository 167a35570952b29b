// TunDevice against the real kernel. A Node process cannot enter a network
// namespace, so each case runs this same file as a child under
// `ip netns exec NS node tun.test.js` with MAPE_TUN_CHILD set (child mode,
// at the bottom): the child opens the TUN inside the test's namespace, and
// the parent drives `ping` there and checks what came back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execFileSync, type ChildProcess } from "node:child_process";
import { Lab, labUnavailable } from "../../host/netns.js";
import { skipUnlessCI } from "./prereq.js";
import { TunDevice, makeSlots, type Slots } from "../../host/tun.js";

// ---------------------------------------------------------------------------
// Echo responder (plain TS): turns ICMPv4/ICMPv6 echo requests into replies
// in place. Untrusted input: every field used is checked first.

/** RFC 1071 sum of p[off, off+len) added to `acc` (not folded). */
function sum16(p: Uint8Array, off: number, len: number, acc = 0): number {
  let i = 0;
  for (; i + 1 < len; i += 2) acc += (p[off + i] << 8) | p[off + i + 1];
  if (i < len) acc += p[off + i] << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

function put16(p: Uint8Array, off: number, v: number): void {
  p[off] = v >>> 8;
  p[off + 1] = v & 0xff;
}

function swap(p: Uint8Array, a: number, b: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = p[a + i];
    p[a + i] = p[b + i];
    p[b + i] = t;
  }
}

const ICMP4_ECHO_REQUEST = 8;
const ICMP4_ECHO_REPLY = 0;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;

const IPV4_HEADER_LEN = 20;

/** Builds a valid IPv4 ICMP echo packet (checksums correct) with an 8-byte payload. */
function icmp4Echo(src: number[], dst: number[], type: number, id: number, seq: number): Uint8Array {
  const len = IPV4_HEADER_LEN + 8 + 8;
  const p = new Uint8Array(len);
  p[0] = 0x45;
  put16(p, 2, len);
  p[8] = 64; // TTL
  p[9] = 1; // ICMP
  p.set(src, 12);
  p.set(dst, 16);
  put16(p, 10, fold(sum16(p, 0, IPV4_HEADER_LEN)));
  const icmp = IPV4_HEADER_LEN;
  p[icmp] = type;
  put16(p, icmp + 4, id);
  put16(p, icmp + 6, seq);
  p.fill(0xa5, icmp + 8);
  put16(p, icmp + 2, fold(sum16(p, icmp, len - icmp)));
  return p;
}

/** Makes the packet at p[off, off+len) an echo reply; returns 4 or 6, or 0 when it is not an echo request. */
function echoReply(p: Uint8Array, off: number, len: number): 0 | 4 | 6 {
  if (len < 1) return 0;
  const version = p[off] >>> 4;
  if (version === 4) {
    const ihl = (p[off] & 0x0f) * 4;
    if (ihl < 20 || len < ihl + 8 || ((p[off + 2] << 8) | p[off + 3]) !== len || p[off + 9] !== 1) return 0;
    const icmp = off + ihl;
    if (p[icmp] !== ICMP4_ECHO_REQUEST || p[icmp + 1] !== 0) return 0;
    swap(p, off + 12, off + 16, 4);
    p[off + 8] = 64; // TTL
    put16(p, off + 10, 0);
    put16(p, off + 10, fold(sum16(p, off, ihl)));
    p[icmp] = ICMP4_ECHO_REPLY;
    put16(p, icmp + 2, 0);
    put16(p, icmp + 2, fold(sum16(p, icmp, len - ihl)));
    return 4;
  }
  if (version === 6) {
    if (len < 48 || ((p[off + 4] << 8) | p[off + 5]) !== len - 40 || p[off + 6] !== 58) return 0;
    const icmp = off + 40;
    if (p[icmp] !== ICMP6_ECHO_REQUEST || p[icmp + 1] !== 0) return 0;
    swap(p, off + 8, off + 24, 16);
    p[off + 7] = 64; // hop limit
    p[icmp] = ICMP6_ECHO_REPLY;
    put16(p, icmp + 2, 0);
    // RFC 8200 §8.1 pseudo-header: addresses, upper-layer length, next header.
    const pseudo = sum16(p, off + 8, 32) + (len - 40) + 58;
    put16(p, icmp + 2, fold(sum16(p, icmp, len - 40, pseudo)));
    return 6;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Child mode.

type ChildJob =
  | { mode: "echo"; dev: string; batch: number }
  | { mode: "open"; dev: string; path?: string }
  | { mode: "busy"; dev: string }
  | { mode: "lifecycle"; dev: string }
  | { mode: "misuse"; dev: string }
  | { mode: "coalesce"; dev: string; uring: boolean }
  | { mode: "offload"; dev: string };

interface EchoStats {
  packets: number;
  calls: number;
  maxBatch: number;
  replies4: number;
  replies6: number;
  ignored: number;
  written: number;
}

function say(obj: object): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function errInfo(e: unknown): { code?: string; message: string } {
  const err = e as NodeJS.ErrnoException;
  return { code: err.code, message: err.message };
}

function runEcho(job: { dev: string; batch: number }): void {
  const dev = TunDevice.open(job.dev);
  // The packets live in a wasm memory, as they will in the data path.
  const mem = new WebAssembly.Memory({ initial: 2, maximum: 2 });
  const bytes = new Uint8Array(mem.buffer);
  const slots: Slots = makeSlots(job.batch, { base: 0, stride: 2048, headroom: 64 });
  const out = { offsets: new Int32Array(job.batch), lengths: new Int32Array(job.batch) };
  const results = new Int32Array(job.batch);
  const st: EchoStats = { packets: 0, calls: 0, maxBatch: 0, replies4: 0, replies6: 0, ignored: 0, written: 0 };
  const drain = (err?: Error): void => {
    if (err) throw err;
    for (let round = 0; round < 64; round++) {
      const n = dev.readBatch(mem.buffer, slots);
      st.calls++;
      st.packets += n;
      st.maxBatch = Math.max(st.maxBatch, n);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const v = echoReply(bytes, slots.offsets[i], slots.lengths[i]);
        if (v === 0) {
          st.ignored++; // e.g. the MLD reports the kernel sends when the link comes up
          continue;
        }
        if (v === 4) st.replies4++;
        else st.replies6++;
        out.offsets[m] = slots.offsets[i];
        out.lengths[m] = slots.lengths[i];
        m++;
      }
      if (m > 0) {
        const w = dev.writeBatch(mem.buffer, out, m, results);
        for (let i = 0; i < w; i++) if (results[i] === out.lengths[i]) st.written++;
      }
      if (n < job.batch) break;
    }
  };
  dev.onReadable(drain);
  say({ ready: true, name: dev.name, mtu: dev.mtu });
  const finish = (): void => {
    dev.close();
    say({ done: true, ...st });
    process.exit(0);
  };
  // Commands, one a line: hold (stop reading, so packets queue in the
  // device), release (read again), quit.
  let pending = "";
  process.stdin.setEncoding("utf8").on("data", (d: string) => {
    pending += d;
    let i;
    while ((i = pending.indexOf("\n")) >= 0) {
      const cmd = pending.slice(0, i);
      pending = pending.slice(i + 1);
      if (cmd === "hold") {
        dev.onReadable(undefined);
        say({ held: true });
      } else if (cmd === "release") {
        dev.onReadable(drain);
      } else {
        finish();
      }
    }
  });
  process.stdin.on("end", finish);
  setTimeout(() => process.exit(3), 60_000).unref(); // bounded even if the parent vanishes
}

/** An IPv4 TCP segment 192.0.2.1:40000 -> 198.51.100.1:9 (ACK, maybe PSH), checksums correct. */
function tcp4Segment(seq: number, payload: number, psh: boolean): Uint8Array {
  const len = IPV4_HEADER_LEN + 20 + payload;
  const p = new Uint8Array(len);
  p[0] = 0x45;
  put16(p, 2, len);
  p[6] = 0x40; // DF
  p[8] = 64;
  p[9] = 6;
  p.set([192, 0, 2, 1], 12);
  p.set([198, 51, 100, 1], 16);
  put16(p, 10, fold(sum16(p, 0, IPV4_HEADER_LEN)));
  const t = IPV4_HEADER_LEN;
  put16(p, t, 40000);
  put16(p, t + 2, 9);
  put16(p, t + 4, seq >>> 16);
  put16(p, t + 6, seq & 0xffff);
  put16(p, t + 8, 0x1234);
  put16(p, t + 10, 0x5678); // ack
  p[t + 12] = 5 << 4;
  p[t + 13] = 0x10 | (psh ? 0x08 : 0);
  put16(p, t + 14, 512);
  for (let i = 0; i < payload; i++) p[t + 20 + i] = (seq + i) & 0xff;
  const pseudo = sum16(p, 12, 8) + 6 + (len - t);
  put16(p, t + 16, fold(sum16(p, t, len - t, pseudo)));
  return p;
}

/**
 * Writes three contiguous segments of one flow (one GSO packet) and a fourth
 * with a corrupt checksum (written alone), with coalescing on; reports the
 * results, the link's rx packet count, and the resets the kernel sends back
 * (nothing listens on port 9), read through the vnet-header read path.
 */
function runCoalesce(job: { dev: string; uring: boolean }): void {
  const dev = TunDevice.open(job.dev, { coalesceTcp: true, uring: job.uring });
  const mem = new WebAssembly.Memory({ initial: 2, maximum: 2 });
  const bytes = new Uint8Array(mem.buffer);
  const slots = makeSlots(8, { base: 0, stride: 2048, headroom: 64 });
  say({ ready: true });
  process.stdin.setEncoding("utf8").once("data", () => {
    const rx = (): number => Number(readFileSync(`/sys/class/net/${dev.name}/statistics/rx_packets`, "utf8"));
    const segs = [tcp4Segment(1000, 100, false), tcp4Segment(1100, 100, false), tcp4Segment(1200, 60, true), tcp4Segment(1260, 100, false)];
    segs[3][IPV4_HEADER_LEN + 20] ^= 0xff; // corrupt payload: not merged
    for (let i = 0; i < segs.length; i++) {
      bytes.set(segs[i], slots.offsets[i]);
      slots.lengths[i] = segs[i].length;
    }
    const results = new Int32Array(segs.length);
    const before = rx();
    const consumed = dev.writeBatch(mem.buffer, slots, segs.length, results);
    const rxDelta = rx() - before;
    const resets: string[] = [];
    const deadline = Date.now() + 2000;
    const poll = (): void => {
      const n = dev.readBatch(mem.buffer, slots);
      for (let i = 0; i < n; i++) {
        const o = slots.offsets[i];
        const p = bytes.subarray(o, o + slots.lengths[i]);
        if (p[0] >> 4 === 4 && p[9] === 6 && p[IPV4_HEADER_LEN + 13] & 0x04) {
          resets.push(`${(p[IPV4_HEADER_LEN + 4] << 24 | p[IPV4_HEADER_LEN + 5] << 16 | p[IPV4_HEADER_LEN + 6] << 8 | p[IPV4_HEADER_LEN + 7]) >>> 0}`);
        }
      }
      if (resets.length >= 1 && Date.now() > deadline - 1500) {
        dev.close();
        say({ consumed, results: [...results], lengths: segs.map((x) => x.length), rxDelta, resets });
        process.exit(0);
      }
      if (Date.now() > deadline) {
        dev.close();
        say({ consumed, results: [...results], lengths: segs.map((x) => x.length), rxDelta, resets });
        process.exit(0);
      }
      setTimeout(poll, 20);
    };
    poll();
  });
  setTimeout(() => process.exit(3), 30_000).unref();
}

function runChild(job: ChildJob): void {
  switch (job.mode) {
    case "echo":
      return runEcho(job);
    case "open":
      try {
        TunDevice.open(job.dev, { path: job.path }).close();
        say({ ok: true });
      } catch (e) {
        say({ ok: false, ...errInfo(e) });
      }
      return;
    case "busy": {
      const first = TunDevice.open(job.dev);
      try {
        TunDevice.open(job.dev).close();
        say({ ok: true });
      } catch (e) {
        say({ ok: false, ...errInfo(e) });
      } finally {
        first.close();
      }
      return;
    }
    case "offload": {
      // TSO on a persistent device, then a reader that did not ask for it.
      const tso = (): string | undefined => /^tcp-segmentation-offload: (\w+)/m.exec(execFileSync("ethtool", ["-k", job.dev], { encoding: "utf8" }))?.[1];
      const a = TunDevice.open(job.dev, { coalesceTcp: true, tso: true });
      const withTso = { tso: tso(), flag: a.tso, segs: /gso_max_segs (\d+)/.exec(execFileSync("ip", ["-d", "link", "show", "dev", job.dev], { encoding: "utf8" }))?.[1] };
      a.close();
      const b = TunDevice.open(job.dev, { coalesceTcp: true });
      const without = { tso: tso(), flag: b.tso };
      b.close();
      say({ withTso, without });
      return;
    }
    case "misuse": {
      // Wrong arguments are caught before any read or write, and a throwing
      // readable-callback surfaces as an uncaught exception (like any event).
      const dev = TunDevice.open(job.dev);
      const buf = new Uint8Array(4096);
      const r: Record<string, string> = {};
      const attempt = (key: string, f: () => unknown): void => {
        try {
          f();
          r[key] = "no error";
        } catch (e) {
          r[key] = `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      attempt("outside", () => dev.readBatch(buf, makeSlots(3, { base: 0, stride: 2048, headroom: 0 })));
      attempt("shortLengths", () => dev.writeBatch(buf, { offsets: new Int32Array(4), lengths: new Int32Array(2) }, 4));
      attempt("notBytes", () => dev.readBatch(new Float64Array(8) as unknown as Uint8Array, makeSlots(1, { base: 0, stride: 64, headroom: 0 })));
      attempt("nothingWaiting", () => dev.readBatch(buf, makeSlots(1, { base: 0, stride: 2048, headroom: 0 })));
      process.on("uncaughtException", (e) => {
        r.thrownInCallback = e.message;
        dev.close();
        attempt("afterClose", () => dev.readBatch(buf, makeSlots(1, { base: 0, stride: 2048, headroom: 0 })));
        say(r);
      });
      dev.onReadable(() => {
        throw new Error("boom from onReadable");
      });
      say({ ready: true });
      return;
    }
    case "coalesce":
      return runCoalesce(job);
    case "lifecycle": {
      const dev = TunDevice.open(job.dev);
      // `ip netns exec` mounts this namespace's sysfs, so /sys shows its links.
      const whileOpen = existsSync(`/sys/class/net/${dev.name}`);
      const mtu = dev.mtu;
      dev.close();
      dev.close(); // idempotent
      say({ name: dev.name, whileOpen, afterClose: existsSync(`/sys/class/net/${dev.name}`), mtu });
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Parent side.

const SELF = fileURLToPath(import.meta.url);

function childEnv(job: ChildJob): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MAPE_TUN_CHILD: JSON.stringify(job) };
  delete env.NODE_TEST_CONTEXT; // the child is a plain script, not part of the test run
  return env;
}

/** Starts this file in child mode inside `ns`; lines of JSON come back on stdout. */
function startChild(lab: Lab, ns: string, job: ChildJob): { child: ChildProcess; next: (ms?: number) => Promise<any> } {
  const child = lab.spawn(ns, process.execPath, [SELF], {
    env: childEnv(job),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = "";
  let stderr = "";
  let exited = false;
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.on("exit", () => {
    exited = true;
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (ms = 10_000): Promise<any> => {
    const deadline = Date.now() + ms;
    while (lines.length === 0) {
      if (exited) throw new Error(`child exited without output; stderr:\n${stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output from child in ${ms} ms; stderr:\n${stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return JSON.parse(lines.shift()!);
  };
  return { child, next };
}

async function oneShot(lab: Lab, ns: string, job: ChildJob): Promise<any> {
  return startChild(lab, ns, job).next();
}

function defineTests(): void {
  const skip = skipUnlessCI(labUnavailable({ tun: true, programs: ["ping"] }));

  test("TunDevice: ping through a TUN answered by a Node child (IPv4 and IPv6, batched)", { skip, timeout: 60_000 }, async (t) => {
    const lab = new Lab();
    try {
      const ns = lab.netns("tun");
      lab.tuntap(ns, "mtun0", 1500);
      const { child, next } = startChild(lab, ns, { mode: "echo", dev: "mtun0", batch: 32 });
      const ready = await next();
      assert.deepEqual(ready, { ready: true, name: "mtun0", mtu: 1500 });

      // Our addresses sit on lo; the peers are routed into the TUN, not assigned.
      lab.addr(ns, "lo", "198.51.100.1/32");
      lab.addr(ns, "lo", "2001:db8:1::1/128");
      lab.up(ns, "mtun0");
      lab.route(ns, "192.0.2.0/24", { dev: "mtun0", src: "198.51.100.1" });
      lab.route(ns, "2001:db8:2::/64", { dev: "mtun0", src: "2001:db8:1::1" });

      const p4 = await lab.exec(ns, "ping", ["-c", "3", "-W", "1", "-i", "0.2", "192.0.2.1"]);
      assert.equal(p4.code, 0, `ping failed:\n${p4.stdout}${p4.stderr}`);
      assert.match(p4.stdout, /3 packets transmitted, 3 received/);

      const p6 = await lab.exec(ns, "ping", ["-6", "-c", "3", "-W", "1", "-i", "0.2", "2001:db8:2::1"]);
      assert.equal(p6.code, 0, `ping -6 failed:\n${p6.stdout}${p6.stderr}`);
      assert.match(p6.stdout, /3 packets transmitted, 3 received/);

      // A burst queues in the device while the child holds off reading
      // (ping -l 16 sends 16 at once); after release, one readBatch call
      // takes them all.
      child.stdin!.write("hold\n");
      assert.deepEqual(await next(), { held: true });
      const burstDone = lab.exec(ns, "ping", ["-c", "16", "-l", "16", "-W", "5", "-q", "192.0.2.7"]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      child.stdin!.write("release\n");
      const burst = await burstDone;
      assert.equal(burst.code, 0, `ping -l failed:\n${burst.stdout}${burst.stderr}`);
      assert.match(burst.stdout, /16 packets transmitted, 16 received/);

      child.stdin!.end();
      const st = (await next()) as EchoStats & { done: boolean };
      t.diagnostic(`echo child: ${JSON.stringify(st)}`);
      assert.equal(st.replies4, 3 + 16);
      assert.equal(st.replies6, 3);
      assert.equal(st.written, st.replies4 + st.replies6);
      assert.ok(st.maxBatch > 1, `expected a batch of more than one packet, got ${JSON.stringify(st)}`);
      assert.ok(st.calls < st.packets, `one call per batch, not per packet: ${JSON.stringify(st)}`);
    } finally {
      lab.teardown();
    }
  });

  test("TunDevice: a device it creates lives as long as the fd", { skip, timeout: 30_000 }, async () => {
    const lab = new Lab();
    try {
      const ns = lab.netns("life");
      const r = await oneShot(lab, ns, { mode: "lifecycle", dev: "mtmp0" });
      assert.deepEqual(r, { name: "mtmp0", whileOpen: true, afterClose: false, mtu: 1500 });
    } finally {
      lab.teardown();
    }
  });

  test("TunDevice.open: clear errors", { skip, timeout: 30_000 }, async () => {
    const lab = new Lab();
    try {
      const ns = lab.netns("err");
      // No clone device (stands in for a kernel without /dev/net/tun).
      const noDev = await oneShot(lab, ns, { mode: "open", dev: "mtun1", path: "/nonexistent/tun" });
      assert.equal(noDev.code, "ENOENT");
      assert.match(noDev.message, /cannot open \/nonexistent\/tun.*modprobe tun/);
      // Attached twice: EBUSY.
      const busy = await oneShot(lab, ns, { mode: "busy", dev: "mtun2" });
      assert.equal(busy.code, "EBUSY");
      assert.match(busy.message, /busy: another process has it open/);
      // A name that is not a TUN.
      const notTun = await oneShot(lab, ns, { mode: "open", dev: "lo" });
      assert.equal(notTun.code, "EINVAL");
      assert.match(notTun.message, /not a TUN/);
      // Not permitted: root without CAP_NET_ADMIN.
      const child = lab.spawn(
        ns,
        "setpriv",
        ["--inh-caps=-net_admin", "--bounding-set=-net_admin", process.execPath, SELF],
        { env: childEnv({ mode: "open", dev: "mtun3" }), stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
      await new Promise((resolve) => child.on("close", resolve));
      const denied = JSON.parse(out.trim());
      assert.equal(denied.code, "EPERM");
      assert.match(denied.message, /not permitted.*CAP_NET_ADMIN/);
    } finally {
      lab.teardown();
    }
  });

  test("TunDevice: bad slots and arguments are refused; a throwing callback is an uncaught exception", { skip, timeout: 30_000 }, async () => {
    const lab = new Lab();
    try {
      const ns = lab.netns("misuse");
      lab.tuntap(ns, "mtun0", 1500);
      const { next } = startChild(lab, ns, { mode: "misuse", dev: "mtun0" });
      assert.deepEqual(await next(), { ready: true });
      lab.addr(ns, "lo", "198.51.100.1/32");
      lab.up(ns, "mtun0");
      lab.route(ns, "192.0.2.0/24", { dev: "mtun0", src: "198.51.100.1" });
      // One packet into the TUN wakes the callback; ping itself gets no answer.
      await lab.exec(ns, "ping", ["-c", "1", "-W", "1", "192.0.2.1"]);
      const r = await next();
      assert.match(r.outside, /^RangeError: tun: slot 2 \[4096, \+2048\) lies outside the buffer \(4096 bytes\)/);
      assert.match(r.shortLengths, /^RangeError: tun: lengths has 2 elements, the batch needs 4/);
      assert.match(r.notBytes, /^TypeError: tun: buffer must be an ArrayBuffer or a Uint8Array/);
      assert.equal(r.nothingWaiting, "no error");
      assert.equal(r.thrownInCallback, "boom from onReadable");
      assert.match(r.afterClose, /TUN mtun0 is closed/);
    } finally {
      lab.teardown();
    }
  });

  for (const uring of [true, false]) {
    test(`TunDevice coalesceTcp (${uring ? "io_uring" : "writev"}): contiguous TCP segments go as one GSO packet, a corrupt one alone; reads strip the vnet header`, { skip, timeout: 30_000 }, async () => {
      const lab = new Lab();
      try {
        const ns = lab.netns("gso");
        lab.tuntap(ns, "mtun0", 1500);
        const { child, next } = startChild(lab, ns, { mode: "coalesce", dev: "mtun0", uring });
        assert.deepEqual(await next(), { ready: true });
        lab.addr(ns, "lo", "198.51.100.1/32");
        lab.up(ns, "mtun0");
        lab.route(ns, "192.0.2.0/24", { dev: "mtun0", src: "198.51.100.1" });
        child.stdin!.write("go\n");
        const r = await next();
        assert.equal(r.consumed, 4);
        assert.deepEqual(r.results, r.lengths, "every packet written (merged ones get their own lengths)");
        assert.equal(r.rxDelta, 2, "three merged into one GSO packet, the corrupt one alone");
        // Nothing listens on port 9: the kernel resets, its sequence number the
        // segments' acknowledgment (RFC 9293 §3.10.7.1), read back through the
        // vnet-header read path.
        assert.ok(r.resets.includes(String(0x12345678)), `a reset with seq 0x12345678 among ${JSON.stringify(r.resets)}`);
      } finally {
        lab.teardown();
      }
    });
  }

  test("TunDevice tso: offloads negotiated (TSO on, gso_max_segs 64), and cleared for the next reader of a persistent device", { skip, timeout: 30_000 }, async () => {
    const lab = new Lab();
    try {
      const ns = lab.netns("tso");
      lab.tuntap(ns, "mtun0", 1500);
      const { next } = startChild(lab, ns, { mode: "offload", dev: "mtun0" });
      const r = await next();
      assert.deepEqual(r.withTso, { tso: "on", flag: true, segs: "64" });
      assert.deepEqual(r.without, { tso: "off", flag: false }, "a reader that did not ask for TSO gets no super-packets");
    } finally {
      lab.teardown();
    }
  });

  test("TunDevice.open: an over-long name fails before any system call", { skip: process.platform !== "linux" }, () => {
    assert.throws(() => TunDevice.open("x".repeat(16)), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, "EINVAL");
      assert.match(e.message, /interface name too long \(at most 15 bytes\)/);
      return true;
    });
  });

  test("makeSlots: packets at a headroom offset in equal slots", () => {
    const s = makeSlots(3, { base: 4096, stride: 2048, headroom: 64 });
    assert.deepEqual([...s.offsets], [4160, 6208, 8256]);
    assert.deepEqual([...s.capacities], [1984, 1984, 1984]);
    assert.throws(() => makeSlots(1, { base: 0, stride: 64, headroom: 64 }), RangeError);
  });

  test("echoReply: turns requests into replies with valid checksums", () => {
    const p = icmp4Echo([198, 51, 100, 1], [192, 0, 2, 1], ICMP4_ECHO_REQUEST, 0x1234, 1);
    assert.equal(echoReply(p, 0, p.length), 4);
    assert.equal(p[IPV4_HEADER_LEN], ICMP4_ECHO_REPLY);
    assert.deepEqual([...p.subarray(12, 20)], [192, 0, 2, 1, 198, 51, 100, 1], "addresses swapped");
    assert.equal(fold(sum16(p, 0, IPV4_HEADER_LEN)), 0, "IPv4 header checksum");
    assert.equal(fold(sum16(p, IPV4_HEADER_LEN, p.length - IPV4_HEADER_LEN)), 0, "ICMP checksum");
    assert.equal(echoReply(p, 0, p.length), 0, "a reply is not answered");
  });
}

// ---------------------------------------------------------------------------

if (process.env.MAPE_TUN_CHILD) runChild(JSON.parse(process.env.MAPE_TUN_CHILD) as ChildJob);
else defineTests();
