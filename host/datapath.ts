// A typed, zero-copy driver of the module's data path (docs/abi.md §2–§3).
//
// One Uint8Array view over the module's fixed memory (the Engine's) serves
// everything: input packets are written straight into their slots at
// inputPtr(i), lengths into the Int32Array at inputLengths(), and outputs
// come back as subarray views of that same memory — valid until the next
// process() call, so copy (`slice`) what must outlive it. Memory never
// grows, so the typed views made at init() never detach.
//
//   const engine = Engine.load();
//   engine.configure(readConfigSource(argv, "ce").encoded);
//   const dp = new DataPath(engine);          // init(256 slots, default sessions)
//   dp.start();
//   dp.setInput(0, packet);
//   const n = dp.process(1, nowMs);
//   for (let j = 0; j < n; j++) send(dp.output(j));

import { Engine, type MapExports } from "./engine.js";

/** The data-path exports of docs/abi.md §2–§3. */
export interface DataPathExports extends MapExports {
  init(slotCount: number, maxSessions: number, seed: number): number;
  start(keepSessions: number): number;
  slotCount(): number;
  slotSize(): number;
  headroom(): number;
  batchMax(): number;
  inputPtr(i: number): number;
  inputCapacity(): number;
  inputLengths(): number;
  process(count: number, nowMs: number): number;
  outputOffsets(): number;
  outputLengths(): number;
  counterCount(): number;
  counterValues(): number;
  counterName(i: number): number;
  /** 1 when the last start() kept the NAT and fragment state (docs/abi.md §2). */
  startKept(): number;
  /** Largest forward step of the module clock per process() call, ms (docs/abi.md §2, Time). */
  clockMaxStep(): number;
  /** The NAPT's port budget into the text buffer (0 text, 1 JSON); its length (docs/abi.md, port budget). */
  portBudget(format: number): number;
  textBuffer(): number;
  natExhaustCount(): number;
  natExhaustProto(i: number): number;
  natExhaustHost(i: number): number;
}

const REQUIRED: readonly (keyof DataPathExports)[] = [
  "init", "start", "slotCount", "slotSize", "headroom", "batchMax", "inputPtr", "inputCapacity",
  "inputLengths", "process", "outputOffsets", "outputLengths", "counterCount", "counterValues", "counterName",
  "startKept", "clockMaxStep", "portBudget", "textBuffer", "natExhaustCount", "natExhaustProto", "natExhaustHost",
];

/** One counter: packets and bytes (u64 in the module; exact below 2^53). */
export interface CounterValue {
  packets: number;
  bytes: number;
}

export interface DataPathOptions {
  /** Slots (inputs + spare outputs); batchMax is half. Default 256. */
  slots?: number;
  /** NAT session capacity; 0 = the module's default. */
  sessions?: number;
  /** Seed of the NAT's random port choice and hash keys. Default 1. */
  seed?: number;
}

/** The port budget of the CE's NAPT as the module reports it (assembly/nat/report.ts). */
export interface PortBudget {
  protocols: Record<"tcp" | "udp" | "icmp", { ports: number; inUse: number; free: number; sessions: number }>;
  mappings: number;
  hosts: { address: string; tcpPorts: number; udpPorts: number; icmpPorts: number; sessions: number; refused: number }[];
  destinations: { address: string; sessions: number }[];
  exhaustionEvents: number;
  exhaustion: { protocol: string; agoS: number; host: string; refused: number }[];
}

export class DataPath {
  readonly engine: Engine;
  readonly exports: DataPathExports;
  /** The one byte view over the module's memory (shared with the Engine). */
  readonly mem: Uint8Array;
  private inLens!: Int32Array;
  private outOffsets!: Int32Array;
  private outLengths!: Int32Array;
  private counterView!: BigUint64Array;

  private budgetText(format: number): string {
    const n = this.exports.portBudget(format);
    const at = this.exports.textBuffer();
    return new TextDecoder().decode(this.mem.subarray(at, at + n));
  }

  /** The NAPT's port budget (JSON the module writes): per protocol, per LAN host, busiest remotes, exhaustion events. */
  portBudget(): PortBudget {
    return JSON.parse(this.budgetText(1)) as PortBudget;
  }

  /** The same as aligned text (what `mape stats` prints). */
  portBudgetText(): string {
    return this.budgetText(0);
  }

  /** Exhaustion events noted so far, and the latest (for the log line). */
  portExhaustion(): { count: number; latest?: { protocol: string; host: string } } {
    const ex = this.exports;
    const count = ex.natExhaustCount();
    if (count === 0) return { count };
    const p = ex.natExhaustProto(0);
    const h = ex.natExhaustHost(0) >>> 0;
    return { count, latest: { protocol: p === 6 ? "tcp" : p === 17 ? "udp" : "icmp", host: `${h >>> 24}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}` } };
  }

  /**
   * The counters, current: counterValues() also copies the NAT's session
   * gauges into the array (docs/abi.md §3), so it is called on every read.
   */
  private get values(): BigUint64Array {
    this.exports.counterValues();
    return this.counterView;
  }
  private names: string[] = [];
  private inputs: number[] = [];
  private capacity = 0;
  private _batchMax = 0;
  private outputsN = 0;
  private lastNow = NaN;

  /** Wraps an Engine (configured or not) and runs init() with `opts`. */
  constructor(engine: Engine, opts: DataPathOptions = {}) {
    const ex = engine.exports as Partial<DataPathExports>;
    const lacking = REQUIRED.filter((k) => typeof ex[k] !== "function");
    if (lacking.length) {
      throw new Error(`the wasm module lacks ${lacking.slice(0, 3).join(", ")}${lacking.length > 3 ? ", …" : ""}: rebuild it with 'npm run build:wasm'`);
    }
    this.engine = engine;
    this.exports = ex as DataPathExports;
    this.mem = engine.mem;
    this.init(opts.slots ?? 256, opts.sessions ?? 0, opts.seed ?? 1);
  }

  /** Carves slots and NAT tables (forgets every session and zeroes the counters). */
  init(slots: number, sessions: number, seed: number): void {
    const ex = this.exports;
    if (ex.init(slots, sessions, seed >>> 0) !== 0) {
      throw new Error(`data path init(${slots} slots, ${sessions} sessions) does not fit the module's memory`);
    }
    const buf = ex.memory.buffer;
    this._batchMax = ex.batchMax();
    this.capacity = ex.inputCapacity();
    this.inLens = new Int32Array(buf, ex.inputLengths(), this._batchMax);
    const slotsN = ex.slotCount();
    this.outOffsets = new Int32Array(buf, ex.outputOffsets(), slotsN);
    this.outLengths = new Int32Array(buf, ex.outputLengths(), slotsN);
    this.inputs = [];
    for (let i = 0; i < this._batchMax; i++) this.inputs.push(ex.inputPtr(i));
    const n = ex.counterCount();
    this.counterView = new BigUint64Array(buf, ex.counterValues(), n * 2);
    if (this.names.length !== n) {
      this.names = [];
      for (let i = 0; i < n; i++) this.names.push(this.readName(ex.counterName(i)));
    }
    this.outputsN = 0;
    this.lastNow = NaN;
  }

  /**
   * Applies the configuration installed on the Engine (CE or BR mode): until
   * then the data path runs on the previous one. `keepSessions` asks to keep
   * the NAT and fragment state; the module keeps it only while it is valid
   * (a CE's IPv4 address and port set unchanged). Returns whether it did.
   */
  start(keepSessions = false): boolean {
    if (this.exports.start(keepSessions ? 1 : 0) !== 0) {
      throw new Error("data path start failed: configure a CE (with its end-user prefix) or a BR first");
    }
    return this.exports.startKept() === 1;
  }

  /** Largest forward step of the module clock per process() call (ms). */
  get clockMaxStep(): number {
    return this.exports.clockMaxStep();
  }

  /**
   * Brings the module clock to `nowMs` in steps of clockMaxStep (process(0)
   * calls), as a host that ticks would: for replays and tests whose clock
   * jumps (the module takes at most one step per call). Gaps above
   * `maxGapMs` are not walked. The previous call's outputs become invalid.
   */
  tickTo(nowMs: number, maxGapMs = 86_400_000): void {
    const step = this.clockMaxStep;
    if (!Number.isFinite(this.lastNow) || !Number.isFinite(nowMs) || nowMs - this.lastNow > maxGapMs) return;
    for (let t = this.lastNow + step; t < nowMs; t += step) this.process(0, t);
  }

  /** Most inputs one process() call takes. */
  get batchMax(): number {
    return this._batchMax;
  }

  /** Bytes an input packet may have. */
  get inputCapacity(): number {
    return this.capacity;
  }

  /** A writable view of input slot i (inputCapacity bytes): read a packet straight into it, then setLength. */
  inputView(i: number): Uint8Array {
    const p = this.inputs[i];
    if (p === undefined) throw new RangeError(`input ${i} out of 0..${this._batchMax - 1}`);
    return this.mem.subarray(p, p + this.capacity);
  }

  /** Sets the length of input i (after writing into inputView(i)). */
  setLength(i: number, len: number): void {
    this.inLens[i] = len;
  }

  /**
   * Copies `packet` into input slot i and sets its length. A packet longer
   * than inputCapacity is cut to it (the module then drops it as truncated
   * or of bad length); returns the length written.
   */
  setInput(i: number, packet: Uint8Array): number {
    const p = this.inputs[i];
    if (p === undefined) throw new RangeError(`input ${i} out of 0..${this._batchMax - 1}`);
    const n = Math.min(packet.length, this.capacity);
    this.mem.set(n === packet.length ? packet : packet.subarray(0, n), p);
    this.inLens[i] = n;
    return n;
  }

  /** Processes inputs 0..count−1 at module time `nowMs`; returns the number of outputs. */
  process(count: number, nowMs: number): number {
    if (count > this._batchMax) throw new RangeError(`batch of ${count} above batchMax ${this._batchMax}`);
    this.outputsN = this.exports.process(count, nowMs);
    this.lastNow = nowMs;
    return this.outputsN;
  }

  /** Number of outputs of the last process() call. */
  get outputCount(): number {
    return this.outputsN;
  }

  /** Output j of the last process() call: a view into the module's memory (valid until the next call). */
  output(j: number): Uint8Array {
    if (j < 0 || j >= this.outputsN) throw new RangeError(`output ${j} out of 0..${this.outputsN - 1}`);
    const off = this.outOffsets[j] >>> 0;
    return this.mem.subarray(off, off + this.outLengths[j]);
  }

  /** Every output of the last process() call, as views. */
  outputs(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let j = 0; j < this.outputsN; j++) out.push(this.output(j));
    return out;
  }

  /**
   * Convenience for tests and tools: runs `packets` in batches of up to
   * batchMax at `nowMs` and returns copies of every output, in order. The
   * module clock is first brought to `nowMs` (tickTo), so a jump in `nowMs`
   * plays out as the ticking host's would.
   */
  run(packets: readonly Uint8Array[], nowMs: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.tickTo(nowMs);
    let at = 0;
    do {
      const n = Math.min(this._batchMax, packets.length - at);
      for (let i = 0; i < n; i++) this.setInput(i, packets[at + i]);
      const m = this.process(n, nowMs);
      for (let j = 0; j < m; j++) out.push(this.output(j).slice());
      at += n;
    } while (at < packets.length);
    return out;
  }

  /** Counter names, in the module's order. */
  counterNames(): readonly string[] {
    return this.names;
  }

  /** Every counter by name (zeros included). */
  counters(): Record<string, CounterValue> {
    const out: Record<string, CounterValue> = {};
    const v = this.values;
    this.names.forEach((name, i) => {
      out[name] = { packets: Number(v[2 * i]), bytes: Number(v[2 * i + 1]) };
    });
    return out;
  }

  /** Every counter by name, exact (u64 as bigint). */
  countersExact(): Record<string, { packets: bigint; bytes: bigint }> {
    const out: Record<string, { packets: bigint; bytes: bigint }> = {};
    const v = this.values;
    this.names.forEach((name, i) => {
      out[name] = { packets: v[2 * i], bytes: v[2 * i + 1] };
    });
    return out;
  }

  /** The packets count of each non-zero counter, in the module's order. */
  nonZero(): Record<string, number> {
    const out: Record<string, number> = {};
    const v = this.values;
    this.names.forEach((name, i) => {
      if (v[2 * i] !== 0n) out[name] = Number(v[2 * i]);
    });
    return out;
  }

  /** A UTF-16 string of the module: its byte length is the u32 at ptr − 4. */
  private readName(ptr: number): string {
    const dv = new DataView(this.mem.buffer);
    const bytes = dv.getUint32(ptr - 4, true);
    let s = "";
    for (let k = 0; k < bytes; k += 2) s += String.fromCharCode(dv.getUint16(ptr + k, true));
    return s;
  }
}
