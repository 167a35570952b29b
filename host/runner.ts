// The TUN loop shared by `mape ce` and `mape br`: packets go from the device
// straight into the module's input slots and from the module's output slots
// straight back to the device, with no per-packet copy or allocation in JS.
//
//   device ──readBatch──▶ inputPtr(0..n)      (lengths land in the module's
//                                              inputLengths() Int32Array)
//          process(n, now)
//   device ◀─writeBatch── outputOffsets()/outputLengths()[0..m)
//
// Every typed array the loop hands the device is made once, in the
// constructor: the slot offsets and capacities (small JS arrays) and three
// views over the module's fixed memory (input lengths, output offsets,
// output lengths), which never detach because the memory never grows. A
// readable event drains the device batch by batch until it has nothing left
// (EAGAIN) or a bound is reached (the watch is level-triggered, so the rest
// comes on the next turn of the event loop and timers and the control
// socket still get their turn). A periodic tick calls process(0, now) so the
// module's timeouts (NAT sessions, held fragments) run while the link is idle.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { Engine } from "./engine.js";
import { DataPath } from "./datapath.js";
import { TunDevice, tsoSegments, type Bytes, type Slots } from "./tun.js";
import { ip, prepareTun } from "./netns.js";
import { formatIPv6 } from "./ip.js";
import { readConfigSource, type ConfigSource } from "./config/source.js";
import type { Mode } from "./config/source.js";
import { ControlServer, controlPath } from "./control.js";
import { PcpServer, hasPcp, inboundPorts, inboundText, type PcpExports } from "./pcp.js";
import { formatCounters } from "./commands/stats.js";
import { UsageError } from "./commands/usage.js";
import { takeAutoFlags, autoProvisioner } from "./provision/auto.js";
import { DnsProxy } from "./dnsproxy.js";
import type { Provisioner } from "./provision/state.js";
import { loadState, saveState, parseStateInterval, DEFAULT_STATE_INTERVAL_S, type ImageExports } from "./stateimage.js";

const EAGAIN = osConstants.errno.EAGAIN;

/** The device side of the loop: what TunDevice offers (a fake one in tests). */
export interface PacketDevice {
  readonly name: string;
  /** Reads up to `count` packets into the slots; sets slots.lengths[0..n); 0 when none wait. */
  readBatch(buf: Bytes, slots: Slots, count?: number): number;
  /** Writes packets 0..count; returns how many were consumed (fewer only on EAGAIN); results[i] = bytes or -errno. */
  writeBatch(buf: Bytes, slots: Pick<Slots, "offsets" | "lengths">, count: number, results?: Int32Array): number;
  /** Calls cb whenever packets are waiting; undefined stops. */
  onReadable(cb: ((err?: Error) => void) | undefined): void;
  /** TSO super-packets read: cut (packets, bytes), dropped (packets, bytes); TunDevice has it. */
  readonly tsoStats?: Float64Array;
}

/** Counters of the host side of the loop (the module counts everything else). */
export interface HostCounters {
  /** Batches read from the device (readable events that found packets). */
  "tun-read-batches": number;
  /** Read errors other than EAGAIN (the device is gone or broken). */
  "tun-read-errors": number;
  /** Packets the kernel refused on write (results[i] < 0: EINVAL, EIO, …). */
  "tun-write-errors": number;
  /** Packets not written because the device would block (EAGAIN mid-batch). */
  "tun-write-blocked": number;
  /** TSO super-packets from the kernel cut into segments (before the module; bytes as read). */
  "tun-tso-packets": number;
  /** TSO super-packets that could not be cut (not IPv4 TCP, bad lengths, a segment larger than a slot): dropped. */
  "tun-tso-dropped": number;
  /** Read system calls (read/readv, or io_uring_enter for a round of reads); with tun-read-batches and the module's packets in, the reads' cost per packet. */
  "tun-read-calls": number;
}

/** The same counters with the bytes of the packets involved (as the module's counters). */
export type HostCounterValues = Record<keyof HostCounters, { packets: number; bytes: number }>;

export interface RunnerOptions {
  /** Monotonic milliseconds (default performance.now()). */
  clock?: () => number;
  /** Idle tick period in ms (default 1000; 0 disables the timer). */
  tickMs?: number;
  /** Most batches one readable event drains before yielding to the event loop (default 64). */
  maxBatchesPerEvent?: number;
  /** Called on a fatal device error (the device is gone); the runner has stopped itself. */
  onFatal?: (err: Error) => void;
  /** Called after each idle tick (once a second by default): cheap checks such as the port budget log line. */
  onTick?: () => void;
}

/** errno names after which reading again cannot succeed. */
const FATAL_READ = new Set(["EBADF", "EBADFD", "ENODEV", "ENXIO"]);

export class Runner {
  readonly dp: DataPath;
  readonly dev: PacketDevice;
  private readonly buf: ArrayBuffer;
  private readonly clock: () => number;
  private readonly tickMs: number;
  private readonly maxBatches: number;
  private readonly onFatal?: (err: Error) => void;
  private readonly onTick?: () => void;
  /** Input slots: offsets/capacities made once; lengths is the module's own array. */
  private readonly inSlots: Slots;
  /** Output slots: both arrays are the module's own (absolute offsets, lengths). */
  private readonly outSlots: Pick<Slots, "offsets" | "lengths">;
  /** Per-packet write results (bytes or -errno), one per possible output. */
  private readonly results: Int32Array;
  private readonly batch: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private readonly host: HostCounterValues = {
    "tun-read-batches": { packets: 0, bytes: 0 },
    "tun-read-errors": { packets: 0, bytes: 0 },
    "tun-write-errors": { packets: 0, bytes: 0 },
    "tun-write-blocked": { packets: 0, bytes: 0 },
    "tun-tso-packets": { packets: 0, bytes: 0 },
    "tun-tso-dropped": { packets: 0, bytes: 0 },
    "tun-read-calls": { packets: 0, bytes: 0 },
  };
  /** Bound callbacks, made once (no closure per event). */
  private readonly onReadableCb = (err?: Error): void => this.readable(err);
  private readonly onTickCb = (): void => this.tick();

  constructor(dp: DataPath, dev: PacketDevice, opts: RunnerOptions = {}) {
    this.dp = dp;
    this.dev = dev;
    this.clock = opts.clock ?? (() => performance.now());
    this.tickMs = opts.tickMs ?? 1000;
    this.maxBatches = opts.maxBatchesPerEvent ?? 64;
    this.onFatal = opts.onFatal;
    this.onTick = opts.onTick;
    const ex = dp.exports;
    this.buf = ex.memory.buffer as ArrayBuffer;
    this.batch = ex.batchMax();
    const slots = ex.slotCount();
    const offsets = new Int32Array(this.batch);
    const capacities = new Int32Array(this.batch);
    const cap = ex.inputCapacity();
    for (let i = 0; i < this.batch; i++) {
      offsets[i] = ex.inputPtr(i);
      capacities[i] = cap;
    }
    // The addon writes each packet's length straight into the module's
    // inputLengths() array: it takes any Int32Array, and N-API hands it the
    // view's data pointer adjusted by its byte offset.
    this.inSlots = { offsets, capacities, lengths: new Int32Array(this.buf, ex.inputLengths(), this.batch) };
    this.outSlots = {
      offsets: new Int32Array(this.buf, ex.outputOffsets(), slots),
      lengths: new Int32Array(this.buf, ex.outputLengths(), slots),
    };
    this.results = new Int32Array(slots);
  }

  /** Starts watching the device and the idle tick. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.dev.onReadable(this.onReadableCb);
    if (this.tickMs > 0) {
      this.timer = setInterval(this.onTickCb, this.tickMs);
      this.timer.unref();
    }
  }

  /** Stops watching and ticking (the device stays open). Idempotent. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.dev.onReadable(undefined);
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Drains the device: read a batch, process it, write the outputs; again
   * until a batch comes back short or the per-event bound is reached.
   * Returns the number of packets read. Public for tests and for callers
   * without a watch.
   */
  pump(): number {
    let total = 0;
    // Reads staged by the device (tsoStats[5]) have no readable event: read
    // on while some wait, past maxBatches too (each such call leaves fewer).
    const t = this.dev.tsoStats;
    for (let b = 0; b < this.maxBatches || (t !== undefined && t[5] > 0); b++) {
      let n: number;
      try {
        n = this.dev.readBatch(this.buf, this.inSlots, this.batch);
      } catch (e) {
        this.readError(e as NodeJS.ErrnoException);
        break;
      }
      const staged = t !== undefined && t.length > 5 && t[5] > 0;
      if (n <= 0 && !staged) break;
      if (n <= 0) continue;
      this.host["tun-read-batches"].packets++;
      total += n;
      this.write(this.dp.process(n, this.clock()));
      if (n < this.batch && !staged) break;
    }
    return total;
  }

  /** Runs the module's timeouts with no input and writes whatever it releases. */
  tick(): void {
    this.write(this.dp.process(0, this.clock()));
    this.onTick?.();
  }

  /** The host-side counters (packets, bytes). */
  hostCounters(): Readonly<HostCounterValues> {
    const t = this.dev.tsoStats;
    if (t) {
      this.host["tun-tso-packets"].packets = t[0];
      this.host["tun-tso-packets"].bytes = t[1];
      this.host["tun-tso-dropped"].packets = t[2];
      this.host["tun-tso-dropped"].bytes = t[3];
      if (t.length >= 5) this.host["tun-read-calls"].packets = t[4];
    }
    return this.host;
  }

  private readable(err?: Error): void {
    if (err) {
      this.readError(err as NodeJS.ErrnoException);
      return;
    }
    this.pump();
  }

  private readError(e: NodeJS.ErrnoException): void {
    this.host["tun-read-errors"].packets++;
    if (e.code !== undefined && FATAL_READ.has(e.code)) {
      this.stop();
      this.onFatal?.(e);
    }
  }

  /** Writes outputs 0..m straight from the module's memory; counts refusals and EAGAIN. */
  private write(m: number): void {
    if (m <= 0) return;
    const res = this.results;
    let done: number;
    try {
      done = this.dev.writeBatch(this.buf, this.outSlots, m, res);
    } catch (e) {
      // EBADF: the device is gone. Nothing of this batch was written.
      this.countUnwritten("tun-write-errors", 0, m);
      const err = e as NodeJS.ErrnoException;
      this.stop();
      this.onFatal?.(err);
      return;
    }
    const lens = this.outSlots.lengths;
    // A packet refused with EAGAIN (io_uring completes each write on its
    // own, so a full queue refuses single packets mid-batch) is a blocked write.
    for (let j = 0; j < done; j++) {
      if (res[j] < 0) {
        const c = this.host[res[j] === -EAGAIN ? "tun-write-blocked" : "tun-write-errors"];
        c.packets++;
        c.bytes += lens[j];
      }
    }
    // A TUN write blocks only when the kernel's queue toward the stack is
    // full; the packets are dropped (a retry loop would stall every other
    // event), counted like any drop.
    if (done < m) this.countUnwritten("tun-write-blocked", done, m);
  }

  private countUnwritten(name: keyof HostCounters, from: number, to: number): void {
    const c = this.host[name];
    const lens = this.outSlots.lengths;
    for (let j = from; j < to; j++) {
      c.packets++;
      c.bytes += lens[j];
    }
  }
}

// ---------------------------------------------------------------------------
// An instance: `mape ce` / `mape br` from the command line to SIGTERM.
//
//   configure (every source `mape calc` takes) → init/start the data path →
//   open (create or attach) the TUN → link up (addrgenmode none, MTU) →
//   routes (print them, or add them with --routes) → control socket →
//   one status line → run until SIGTERM/SIGINT.
//
// SIGHUP re-reads the configuration source; SIGUSR1 prints the counters to
// stderr. Anything that fails on the way up undoes what was done so far.

/** OPTION_MAPE_LOCAL and its TUNNEL_MTU sub-option (docs/abi.md §1). */
const OPTION_MAPE_LOCAL = 0xff01;
const LOCAL_TUNNEL_MTU = 3;
const LOCAL_LEGACY_IID = 2;
const DEFAULT_TUNNEL_MTU = 1500;
const IPV6_HEADER_LEN = 40;

/**
 * A local setting (OPTION_MAPE_LOCAL sub-option `code`, `width` bytes) in
 * option bytes the module accepted, or undefined when absent.
 */
function localSettingOf(bytes: Uint8Array, code: number, width: 1 | 2): number | undefined {
  const u16 = (i: number): number => (bytes[i] << 8) | bytes[i + 1];
  for (let i = 0; i + 4 <= bytes.length; ) {
    const len = u16(i + 2);
    if (u16(i) === OPTION_MAPE_LOCAL) {
      for (let j = i + 4; j + 4 <= i + 4 + len; ) {
        const sl = u16(j + 2);
        if (u16(j) === code && sl === width) return width === 2 ? u16(j + 4) : bytes[j + 4];
        j += 4 + sl;
      }
    }
    i += 4 + len;
  }
  return undefined;
}

/** The TUNNEL_MTU setting in option bytes the module accepted (its default when absent). */
export function tunnelMtuOf(bytes: Uint8Array): number {
  return localSettingOf(bytes, LOCAL_TUNNEL_MTU, 2) ?? DEFAULT_TUNNEL_MTU;
}

/** The LEGACY_IID setting in option bytes the module accepted (0 when absent). */
export function legacyIidOf(bytes: Uint8Array): boolean {
  return localSettingOf(bytes, LOCAL_LEGACY_IID, 1) === 1;
}

/** Where the configuration in force came from, for `mape stats` (rule files in detail). */
export function rulesDiagnostics(src: ConfigSource, at: Date): Record<string, unknown> {
  const r = src.rules;
  return {
    from: src.label,
    at: at.toISOString(),
    interfaceId: legacyIidOf(src.encoded.bytes) ? "draft-03" : "rfc7597",
    ...(r
      ? {
          format: r.format,
          rules: r.seen,
          installed: r.installed,
          matchedRule: r.matchedName ?? null,
          mesh: r.mesh,
          ...(r.ttl >= 0 ? { ttl: r.ttl } : {}),
          ...(r.order ? { order: r.order } : {}),
          ...(r.methods.length ? { methods: r.methods } : {}),
        }
      : {}),
  };
}

/** One route into the TUN: `ip [-6] route add <dest> dev <tun> [mtu <mtu>]`. */
export interface TunRoute {
  v6: boolean;
  dest: string;
  mtu?: number;
}

export function routeArgs(r: TunRoute, tun: string): string[] {
  return [r.v6 ? "-6" : "-4", "route", "add", r.dest, "dev", tun, ...(r.mtu ? ["mtu", String(r.mtu)] : [])];
}

function routeKey(r: TunRoute): string {
  return `${r.v6 ? 6 : 4} ${r.dest} ${r.mtu ?? ""}`;
}

/**
 * The routes the installed configuration needs. CE: the IPv4 default into
 * the TUN with a per-route MTU of the tunnel MTU − 40 (room for the IPv6
 * header), and the CE's MAP IPv6 address as a /128 (routed, never assigned:
 * an assigned address would be delivered locally). BR: each rule's IPv4
 * prefix (the CEs' shared addresses) and each BR address /128. Not the
 * rules' IPv6 prefixes: packets toward CEs leave by the operator's IPv6
 * routing, and routing those prefixes into the TUN would loop them back.
 */
export function routesFor(mode: "ce" | "br", engine: Engine, tunnelMtu: number): TunRoute[] {
  const mtu = tunnelMtu - IPV6_HEADER_LEN;
  if (mode === "ce") {
    const ex = engine.exports;
    return [
      { v6: false, dest: "default", mtu },
      { v6: true, dest: `${formatIPv6(engine.mem, ex.ceIPv6Address())}/128` },
    ];
  }
  const out: TunRoute[] = [];
  const seen = new Set<string>();
  const add = (r: TunRoute): void => {
    if (!seen.has(routeKey(r))) {
      seen.add(routeKey(r));
      out.push(r);
    }
  };
  for (const rule of engine.rules()) add({ v6: false, dest: `${rule.ipv4Prefix}/${rule.ipv4PrefixLength}`, mtu });
  for (const br of engine.brs()) add({ v6: true, dest: `${br}/128` });
  return out;
}

/**
 * What a reload compares: for a CE its BMR (IPv4 address or prefix, PSID,
 * MAP address): unchanged, the NAT sessions stay valid. For a BR the rule
 * table and BR addresses (its reassembly state is keyed by them).
 */
export function identityOf(mode: "ce" | "br", engine: Engine): string {
  if (mode === "ce") {
    const r = engine.calc();
    return `${r.ipv4Address}/${r.ipv4PrefixLength} PSID ${r.psid}/${r.psidLength}@${r.psidOffset} ${r.ceIPv6Address}`;
  }
  return JSON.stringify([engine.rules(), engine.brs()]);
}

/**
 * What a reload says it did: whether the identity changed, and whether the
 * module kept the state (startKept), each as it happened.
 */
export function reloadSummary(mode: "ce" | "br", same: boolean, kept: boolean): string {
  const what = mode === "ce" ? "BMR" : "rules";
  const state = mode === "ce" ? "sessions" : "fragment state";
  return `${what} ${same ? "unchanged" : "changed"}, ${state} ${kept ? "kept" : "reset"}`;
}

/**
 * The data-path half of a reload (SIGHUP): configures `encoded` (a bad one
 * throws and changes nothing), compares the identity, and starts the data
 * path on the new configuration asking to keep the state when the identity
 * is the same. `kept` is what the module did (startKept), not what was asked.
 */
export function reloadDataPath(mode: "ce" | "br", engine: Engine, dp: DataPath,
                               encoded: Parameters<Engine["configure"]>[0]): { same: boolean; kept: boolean } {
  const before = identityOf(mode, engine);
  engine.configure(encoded);
  const same = before === identityOf(mode, engine);
  return { same, kept: dp.start(same) };
}

/** The one-line status printed on start (and answered to "status"). */
export function statusLine(mode: "ce" | "br", engine: Engine, tun: string, tunnelMtu: number): string {
  const brs = engine.brs();
  const brText = `BR ${brs.join(", ")}`;
  if (mode === "ce") {
    const r = engine.calc();
    const v4 = r.ipv4PrefixLength < 32 ? `${r.ipv4Address}/${r.ipv4PrefixLength}` : r.ipv4Address;
    let ports: string;
    if (r.psidLength === 0) ports = "all ports";
    else {
      const shown = r.portRanges.slice(0, 3).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
      if (r.portRanges.length > 3) shown.push("…");
      ports = `PSID ${r.psid} (${r.psidLength} bits at offset ${r.psidOffset}), ${r.portCount} ports ${shown.join(" ")}`;
    }
    return `ce on ${tun}: IPv4 ${v4}, ${ports}, MAP address ${r.ceIPv6Address}, ${brText}, tunnel MTU ${tunnelMtu}`;
  }
  const n = engine.rules().length;
  return `br on ${tun}: ${n} rule${n === 1 ? "" : "s"}, ${brText}, tunnel MTU ${tunnelMtu}`;
}

export interface ServeOptions {
  mode: "ce" | "br";
  argv: string[];
  usage: string;
  defaultTun: string;
}

interface Parsed {
  tun: string;
  routes: boolean;
  control?: string;
  /** `--pcp <lan-ipv4>`: serve PCP / NAT-PMP on that address, UDP 5351 (host/pcp.ts). */
  pcp?: string;
  /** --state <file>: the NAT state image (CE). */
  state?: string;
  /** --state-interval <s>: seconds between saves (0 = only at exit). */
  stateInterval: number;
}

function parseRest(mode: string, rest: string[]): Parsed {
  const p: Parsed = { tun: "", routes: false, stateInterval: DEFAULT_STATE_INTERVAL_S };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      if (i + 1 >= rest.length) throw new UsageError(`${flag} needs a value`);
      return rest[++i];
    };
    if (flag === "--tun") {
      p.tun = value();
      if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(p.tun)) throw new UsageError(`--tun: '${p.tun}' is not an interface name (1 to 15 letters, digits, . _ - :)`);
    } else if (flag === "--routes" && eq < 0) p.routes = true;
    else if (flag === "--control") p.control = value();
    else if (flag === "--pcp" && mode === "ce") {
      p.pcp = value();
      if (!/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(p.pcp)) throw new UsageError(`--pcp: '${p.pcp}' is not an IPv4 address (the CE's LAN address)`);
    }
    else if ((flag === "--state" || flag === "--state-interval") && mode !== "ce") throw new UsageError(`${flag} is for a CE (a BR keeps no NAT state)`);
    else if (flag === "--state") {
      p.state = value();
      if (!p.state) throw new UsageError("--state needs a file name");
    } else if (flag === "--state-interval") {
      const v = value();
      const n = parseStateInterval(v);
      if (n === undefined) throw new UsageError(`--state-interval: '${v}' is not a number of seconds (0 = only at exit)`);
      p.stateInterval = n;
    } else throw new UsageError(`${mode}: unknown argument '${a}' (see 'mape ${mode} --help')`);
  }
  return p;
}

/** A one-line message for an error of TunDevice.open. */
export function tunOpenMessage(name: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case "EPERM":
    case "EACCES":
      return `cannot open TUN ${name}: not permitted: run as root (or with CAP_NET_ADMIN)`;
    case "ENOENT":
      return `cannot open TUN ${name}: no /dev/net/tun: load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)`;
    case "ENODEV":
    case "ENXIO":
      return `cannot open TUN ${name}: the kernel has no TUN driver (CONFIG_TUN): load the tun module`;
    case "EBUSY":
      return `cannot open TUN ${name}: it is busy: another process has it open (another mape instance?)`;
    case "EINVAL":
      return `cannot open TUN ${name}: an interface of that name exists and is not a TUN device (or was made with other flags)`;
    default:
      return `cannot open TUN ${name}: ${e.message}`;
  }
}

function linkExists(name: string): boolean {
  try {
    ip(null, "-o", "link", "show", "dev", name);
    return true;
  } catch {
    return false;
  }
}

function sysctlOff(path: string): boolean {
  try {
    return readFileSync(path, "utf8").trim() === "0";
  } catch {
    return false;
  }
}

/** Warnings about the host around the TUN: forwarding off, no route to the BR. */
function environmentWarnings(mode: "ce" | "br", engine: Engine, tun: string): string[] {
  const w: string[] = [];
  if (sysctlOff("/proc/sys/net/ipv4/ip_forward")) {
    w.push(`IPv4 forwarding is off: ${mode === "ce" ? "the LAN's" : "the internet's"} packets will not reach ${tun} (sysctl -w net.ipv4.ip_forward=1)`);
  }
  if (sysctlOff("/proc/sys/net/ipv6/conf/all/forwarding")) {
    w.push(`IPv6 forwarding is off: encapsulated packets from ${tun} will not be forwarded (sysctl -w net.ipv6.conf.all.forwarding=1)`);
  }
  if (mode === "ce") {
    for (const br of engine.brs()) {
      let out = "";
      try {
        out = ip(null, "-6", "route", "get", br);
      } catch {
        w.push(`no IPv6 route to the BR ${br}: add one (e.g. a default route toward the ISP)`);
        continue;
      }
      const words = out.split(/\s+/);
      if (words.some((x, i) => x === "dev" && words[i + 1] === tun)) w.push(`the IPv6 route to the BR ${br} points into ${tun}: encapsulated packets would loop`);
    }
  }
  return w;
}

/**
 * Runs an instance until SIGTERM/SIGINT; resolves with the exit status.
 * Throws (ConfigError, UsageError, Error) when it cannot come up, after
 * undoing whatever it had done.
 */
export async function serve(opts: ServeOptions): Promise<number> {
  const { mode, argv, usage } = opts;
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    return 0;
  }
  const modeName: Mode = mode;
  // A BR has no built-in default: say so before the module refuses the
  // default's end-user prefix (the router program checks the same way).
  const isSource = (a: string): boolean => ["--config", "--dhcpv6", "--uci", "--rule", "--rules"].some((f) => a === f || a.startsWith(`${f}=`));
  if (mode === "br" && !argv.some(isSource)) {
    throw new UsageError("br: give the BR's configuration (--config, --dhcpv6, --uci, or --rule with --br <own address>)");
  }
  const say = (line: string): void => void process.stdout.write(`mape ${mode}: ${line}\n`);
  const warn = (line: string): void => void process.stderr.write(`mape ${mode}: ${line}\n`);
  const engine = Engine.load();

  // --auto (CE): the rules come from the HB46PP provisioning server; the
  // first ones (saved or fetched) are waited for before the TUN comes up.
  const tunGuess = (): string => {
    const i = argv.findIndex((a) => a === "--tun" || a.startsWith("--tun="));
    return i < 0 ? opts.defaultTun : argv[i].startsWith("--tun=") ? argv[i].slice(6) : argv[i + 1] ?? opts.defaultTun;
  };
  const { auto, rest: argv1 } = mode === "ce" ? takeAutoFlags(argv, tunGuess) : { auto: undefined, rest: argv };
  let supplied: { text: Uint8Array; label: string } | undefined;
  let provisioner: Provisioner | undefined;
  let installLater: ((src: ConfigSource) => string) | undefined;
  let offLater: ((reason: string) => void) | undefined;
  /** Rules that came while the CE was still coming up (installed once it is). */
  let pending: ConfigSource | undefined;
  let source0: ConfigSource;
  if (auto) {
    let firstDone: (s: ConfigSource | undefined) => void = () => {};
    const first = new Promise<ConfigSource | undefined>((resolve) => (firstDone = resolve));
    provisioner = autoProvisioner(auto, {
      apply(text, label) {
        const src = readConfigSource(argv1, modeName, { text, label });
        const what = `${src.rules?.format ?? "rules"}, ${src.rules?.seen ?? 0} rules, BMR ${src.rules?.matchedName ?? "none"}`;
        if (!installLater) {
          if (supplied) {
            pending = src;
            supplied = { text, label };
            return `${what} (installed once the CE is up)`;
          }
          engine.configure(src.encoded);
          supplied = { text, label };
          firstDone(src);
          return what;
        }
        const done = installLater(src);
        supplied = { text, label };
        return done;
      },
      off(reason) {
        offLater?.(reason);
      },
    }, (l) => say(`provisioning: ${l}`));
    const onStop = (): void => firstDone(undefined);
    process.once("SIGTERM", onStop);
    process.once("SIGINT", onStop);
    if (!provisioner.start()) say(`provisioning: asking ${auto.domain} (TXT) for the rules${auto.dnsServers.length ? ` via ${auto.dnsServers.join(", ")}` : ""}`);
    const got = await first;
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    if (!got) {
      provisioner.stop();
      say("stopped before any rules came");
      return 0;
    }
    source0 = got;
  } else {
    source0 = readConfigSource(argv1, modeName);
  }
  let current = source0;
  let currentAt = new Date();
  const parsed = parseRest(mode, source0.rest);
  const tunName = parsed.tun || opts.defaultTun;
  if (!auto) engine.configure(source0.encoded);
  // RFC 6056 §3.3 / RFC 7597 §10: external ports (and the NAT's hash keys)
  // must not be predictable, so a live instance seeds from the OS.
  const dp = new DataPath(engine, { seed: randomBytes(4).readUInt32LE(0) });
  dp.start(false);
  const capacity = dp.inputCapacity;
  const mtuOf = (s: ConfigSource): number => {
    const t = tunnelMtuOf(s.encoded.bytes);
    return Math.min(t, capacity); // a packet larger than a slot could not be read whole
  };
  let tunnelMtu = mtuOf(source0);
  if (tunnelMtu < tunnelMtuOf(source0.encoded.bytes)) warn(`tunnel MTU lowered to ${tunnelMtu}: the module's slots hold ${capacity}-byte packets`);

  // ---- the TUN ----
  const existed = linkExists(tunName);
  let dev: TunDevice;
  // TCP segments toward the stack are coalesced into GSO packets (one skb
  // through routing, forwarding and the receiver instead of dozens; see
  // docs/benchmark.md, End to end). MAPE_TUN_COALESCE=0 turns it off. With
  // it, TSO super-packets from the kernel are cut before the module (one
  // read per 64 KiB instead of one per segment); MAPE_TUN_TSO=0 turns that
  // off, and a batch must hold one super-packet's segments.
  const coalesceTcp = process.env.MAPE_TUN_COALESCE !== "0";
  const tso = coalesceTcp && process.env.MAPE_TUN_TSO !== "0" && dp.exports.batchMax() >= tsoSegments();
  // The writes of a batch in one io_uring call (MAPE_TUN_URING=0: one writev
  // each), and its reads, up to 64 per call (MAPE_TUN_URING_READ=0, or
  // MAPE_TUN_URING=0: one readv each).
  const uring = process.env.MAPE_TUN_URING !== "0";
  const uringRead = uring && process.env.MAPE_TUN_URING_READ !== "0";
  try {
    dev = TunDevice.open(tunName, { coalesceTcp, tso, uring, uringRead });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!tso || err.syscall !== "offload") throw new Error(tunOpenMessage(tunName, err));
    warn(`TUN ${tunName}: no TSO from the kernel (${err.message}): every segment is one read`);
    try {
      dev = TunDevice.open(tunName, { coalesceTcp, uring, uringRead });
    } catch (e2) {
      throw new Error(tunOpenMessage(tunName, e2 as NodeJS.ErrnoException));
    }
  }
  const added: TunRoute[] = [];
  let control: ControlServer | undefined;
  let pcp: PcpServer | undefined;
  let runner: Runner | undefined;
  let dns: DnsProxy | undefined;
  const handlers: [NodeJS.Signals, () => void][] = [];
  const cleanup = (): void => {
    provisioner?.stop();
    for (const [sig, h] of handlers) process.off(sig, h);
    handlers.length = 0;
    runner?.stop();
    dns?.close();
    control?.close();
    pcp?.close();
    for (const r of added.splice(0).reverse()) {
      try {
        ip(null, ...routeArgs(r, tunName).map((a) => (a === "add" ? "del" : a)));
      } catch {
        // gone with the link, or removed by the operator
      }
    }
    dev.close();
  };
  try {
    // addrgenmode none before the link first comes up: no link-local
    // address, so the kernel sends less of its own traffic into the TUN
    // (it still writes MLD reports, which the module drops, counted).
    if (!existed) prepareTun(null, tunName, Math.max(DEFAULT_TUNNEL_MTU, tunnelMtu));
    else {
      try {
        ip(null, "link", "set", "dev", tunName, "addrgenmode", "none");
      } catch {
        // an attached device the operator prepared: leave it
      }
    }
    ip(null, "link", "set", "dev", tunName, "up");

    // ---- routes ----
    let routes = routesFor(mode, engine, tunnelMtu);
    const addRoutes = (list: TunRoute[]): void => {
      for (const r of list) {
        try {
          ip(null, ...routeArgs(r, tunName));
        } catch (e) {
          throw new Error(`${(e as Error).message} (a route to ${r.dest} exists already? remove it, or run without --routes and add the routes yourself)`);
        }
        added.push(r);
        say(`route added: ip ${routeArgs(r, tunName).join(" ")}`);
      }
    };
    const printRoutes = (list: TunRoute[]): void => {
      say(`add these routes (or run with --routes):`);
      for (const r of list) process.stdout.write(`  ip ${routeArgs(r, tunName).join(" ")}\n`);
    };
    if (parsed.routes) addRoutes(routes);
    else printRoutes(routes);
    for (const w of environmentWarnings(mode, engine, tunName)) warn(`warning: ${w}`);

    // ---- the loop, the control socket, signals ----
    let status = statusLine(mode, engine, tunName, tunnelMtu);
    // --dns-proxy: the LAN's DNS over IPv6 to the upstreams (host/dnsproxy.ts).
    if (mode === "ce") dns = await DnsProxy.open(engine.exports);
    if (dns) say(`DNS proxy on ${dns.address} (udp, tcp)`);
    const counters = (): Record<string, { packets: number; bytes: number }> => ({ ...dp.counters(), ...runner!.hostCounters(), ...(dns?.counters ?? {}) });
    let finish: (code: number) => void = () => {};
    const done = new Promise<number>((resolve) => (finish = resolve));
    // The port budget: one stderr line the first time a protocol's port
    // set is found full in a minute (the module notes those events).
    let exhaustSeen = dp.portExhaustion().count;
    runner = new Runner(dp, dev, {
      onFatal: (err) => {
        warn(`the TUN failed: ${err.message}`);
        finish(1);
      },
      onTick: () => {
        const e = dp.portExhaustion();
        if (e.count === exhaustSeen) return;
        exhaustSeen = e.count;
        if (e.latest) warn(`port set full: ${e.latest.protocol}, first refused or cut back for ${e.latest.host} (mape stats shows the port budget)`);
      },
    });
    control = await ControlServer.listen(parsed.control ?? controlPath(tunName), { mode, tun: tunName }, {
      stats: counters,
      status: () => status,
      extra: () => ({
        ...(mode === "ce" ? { portBudget: dp.portBudget(), portBudgetText: dp.portBudgetText() } : {}),
        configuration: rulesDiagnostics(current, currentAt),
        ...(provisioner ? { provisioning: provisioner.snapshot() } : {}),
        ...(mode === "ce" && hasPcp(dp.exports) ? { inbound: inboundPorts(dp.exports), inboundText: inboundText(dp.exports) } : {}),
      }),
    });
    if (parsed.pcp !== undefined) {
      pcp = await PcpServer.open(parsed.pcp, dp.exports as unknown as PcpExports, () => runner!.tick());
      say(`PCP / NAT-PMP on ${parsed.pcp} port 5351`);
    }

    /**
     * Installs a new configuration: with the same BMR (CE) or rules (BR)
     * the module is asked to keep the NAT sessions, else the data path
     * restarts. Throws (ConfigError) when the module refuses it; the running
     * one stays. Returns what happened, as the module did it.
     */
    const install = (src: ConfigSource): string => {
      const { same, kept } = reloadDataPath(mode, engine, dp, src.encoded);
      current = src;
      currentAt = new Date();
      tunnelMtu = mtuOf(src);
      status = statusLine(mode, engine, tunName, tunnelMtu);
      const happened = `${reloadSummary(mode, same, kept)}${same ? "" : ", data path restarted"}`;
      say(`reloaded ${src.label}: ${happened}`);
      const next = routesFor(mode, engine, tunnelMtu);
      const keys = new Set(next.map(routeKey));
      const old = new Set(routes.map(routeKey));
      if (next.length !== routes.length || next.some((r) => !old.has(routeKey(r)))) {
        if (parsed.routes) {
          for (let i = added.length - 1; i >= 0; i--) {
            const r = added[i];
            if (keys.has(routeKey(r))) continue;
            try {
              ip(null, ...routeArgs(r, tunName).map((a) => (a === "add" ? "del" : a)));
              say(`route removed: ip ${routeArgs(r, tunName).join(" ").replace(" add ", " del ")}`);
            } catch {
              // already gone
            }
            added.splice(i, 1);
          }
          const have = new Set(added.map(routeKey));
          try {
            addRoutes(next.filter((r) => !have.has(routeKey(r))));
          } catch (e) {
            warn((e as Error).message);
          }
        } else printRoutes(next);
        routes = next;
      }
      if (!same) say(status);
      if (runner && !runner.isRunning && !stopped) {
        runner.start();
        say("MAP-E back on");
      }
      return happened;
    };
    const reload = (): void => {
      if (provisioner) {
        // --auto: SIGHUP says the delegated prefix may have changed (§3.6 k): fetch again.
        provisioner.prefixChanged();
        return;
      }
      try {
        install(readConfigSource(argv1, modeName));
      } catch (e) {
        warn(`reload failed, the running configuration stays: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    let stopped = false;
    installLater = install;
    if (pending) {
      try {
        install(pending);
      } catch (e) {
        warn(`the newer rules were refused, the first ones stay: ${e instanceof Error ? e.message : String(e)}`);
      }
      pending = undefined;
    }
    offLater = (reason) => {
      runner?.stop();
      say(`${reason}: MAP-E stopped until the provisioning server serves this line again`);
    };
    const on = (sig: NodeJS.Signals, h: () => void): void => {
      process.on(sig, h);
      handlers.push([sig, h]);
    };
    on("SIGTERM", () => {
      stopped = true;
      finish(0);
    });
    on("SIGINT", () => {
      stopped = true;
      finish(0);
    });
    on("SIGHUP", reload);
    on("SIGUSR1", () => void process.stderr.write(`mape ${mode} ${tunName} counters:\n${formatCounters(counters())}`));

    // --state: the NAT state image, read before any traffic, written every
    // --state-interval seconds and at exit (host/stateimage.ts).
    const image = dp.exports as unknown as ImageExports;
    let stateTimer: ReturnType<typeof setInterval> | undefined;
    const saveImage = (atExit: boolean): void => {
      const r = saveState(image, parsed.state!, performance.now());
      if (!r.ok) warn(r.line);
      else if (atExit) say(r.line);
    };
    if (parsed.state) {
      const line = loadState(image, parsed.state, performance.now());
      if (line) say(line);
      if (parsed.stateInterval > 0) {
        stateTimer = setInterval(() => saveImage(false), parsed.stateInterval * 1000);
        stateTimer.unref();
      }
    }

    runner.start();
    say(`${status} (pid ${process.pid}, control ${control.path})`);
    const code = await done;
    if (parsed.state) {
      clearInterval(stateTimer);
      saveImage(true);
    }
    const hadRoutes = added.length > 0;
    cleanup();
    say(`stopped${hadRoutes ? ", routes removed" : ""}${existed ? "" : `, ${tunName} removed`}`);
    return code;
  } catch (e) {
    cleanup();
    throw e;
  }
}
