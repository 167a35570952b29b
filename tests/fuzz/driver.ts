// A thin driver over the raw data-path exports (docs/abi.md §2–§3), shared by
// the fuzz test and the benchmark. Deliberately independent of any host
// wrapper: the fuzzer wants to see exactly what the module exports, and the
// benchmark wants no extra work per batch.

import { instantiate, type Variant } from "../../host/module.js";
import { readConfigSource } from "../../host/config/source.js";
import { Engine } from "../../host/engine.js";
import type { DataPathExports as HostDataPathExports } from "../../host/datapath.js";

/** The exports the driver uses: the host's typed view plus the MAP functions it needs. */
export interface DataPathExports extends HostDataPathExports {
  mapIPv6(rule: number, addr: number, port: number, out: number): number;
  ruleForIPv4(addr: number): number;
  ruleCount(): number;
  ruleIPv4Prefix(i: number): number;
  ruleIPv4PrefixLength(i: number): number;
  rulePsidOffset(i: number): number;
  rulePsidLength(i: number): number;
  brCount(): number;
  brAddress(i: number): number;
  scratch(): number;
  sessionCapacity?(): number;
  natBytes?(): number;
}

export class RawDataPath {
  readonly engine: Engine;
  readonly ex: DataPathExports;
  readonly mem: Uint8Array;
  readonly lens: Int32Array;
  readonly outOffs: Int32Array;
  readonly outLens: Int32Array;
  readonly counterNames: string[];
  private readonly counterView: BigUint64Array;
  readonly slots: number;
  readonly slotSize: number;
  readonly headroom: number;
  readonly batchMax: number;
  readonly capacity: number;
  /** Start of slot 0 and end of the last slot: every output must lie inside. */
  readonly slotBase: number;
  readonly slotEnd: number;
  private readonly inPtr: Int32Array;

  /**
   * Loads a fresh module instance, configures it as a CE from command-line
   * style flags (host/config/source.ts) — or with already encoded option
   * bytes (any mode, e.g. a BR: tests/fuzz/profiles.ts) — and carves
   * `slots` slots and `sessions` NAT sessions.
   */
  constructor(config: string[] | Uint8Array, opts: { slots?: number; sessions?: number; seed?: number; variant?: Variant } = {}) {
    this.engine = new Engine(instantiate(opts.variant ?? "release"));
    this.ex = this.engine.exports as unknown as DataPathExports;
    const ex = this.ex;
    this.engine.configure(config instanceof Uint8Array ? config : readConfigSource(config, "ce").encoded);
    if (ex.init(opts.slots ?? 256, opts.sessions ?? 65536, opts.seed ?? 1) !== 0) throw new Error("init failed");
    if (ex.start(0) !== 0) throw new Error("start failed");
    this.mem = new Uint8Array(ex.memory.buffer);
    this.slots = ex.slotCount();
    this.slotSize = ex.slotSize();
    this.headroom = ex.headroom();
    this.batchMax = ex.batchMax();
    this.capacity = ex.inputCapacity();
    this.lens = new Int32Array(ex.memory.buffer, ex.inputLengths(), this.batchMax);
    this.outOffs = new Int32Array(ex.memory.buffer, ex.outputOffsets(), this.slots);
    this.outLens = new Int32Array(ex.memory.buffer, ex.outputLengths(), this.slots);
    this.slotBase = ex.inputPtr(0) - this.headroom;
    this.slotEnd = this.slotBase + this.slots * this.slotSize;
    this.inPtr = new Int32Array(this.batchMax);
    for (let i = 0; i < this.batchMax; i++) this.inPtr[i] = ex.inputPtr(i);
    const n = ex.counterCount();
    this.counterView = new BigUint64Array(ex.memory.buffer, ex.counterValues(), n * 2);
    this.counterNames = [];
    for (let i = 0; i < n; i++) {
      const p = ex.counterName(i);
      const len = new DataView(ex.memory.buffer).getUint32(p - 4, true);
      this.counterNames.push(Buffer.from(this.mem.subarray(p, p + len)).toString("utf16le"));
    }
  }

  /** Re-initialises the tables (forgets every session) and restarts. */
  reinit(slots: number, sessions: number, seed: number): void {
    if (this.ex.init(slots, sessions, seed) !== 0) throw new Error("init failed");
    if (this.ex.start(0) !== 0) throw new Error("start failed");
  }

  inputPtr(i: number): number {
    return this.inPtr[i];
  }

  /** Copies a packet into input slot i and sets its length. */
  put(i: number, p: Uint8Array): void {
    this.mem.set(p, this.inPtr[i]);
    this.lens[i] = p.length;
  }

  process(n: number, nowMs: number): number {
    return this.ex.process(n, nowMs);
  }

  /** Output j as a view (valid until the next process call). */
  output(j: number): Uint8Array {
    const o = this.outOffs[j];
    return this.mem.subarray(o, o + this.outLens[j]);
  }

  /** Byte counts of every counter, as numbers. */
  byteCounts(into?: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
    const n = this.counterNames.length;
    const out = into ?? new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(this.counterView[2 * i + 1]);
    return out;
  }

  /** Packet counts of every counter, as numbers. */
  packetCounts(into?: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
    const n = this.counterNames.length;
    const out = into ?? new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(this.counterView[2 * i]);
    return out;
  }

  counter(name: string): number {
    const i = this.counterNames.indexOf(name);
    if (i < 0) throw new Error(`no counter ${name}`);
    return Number(this.counterView[2 * i]);
  }

  /** The CE's IPv4 address as 4 bytes. */
  ceIPv4(): Uint8Array {
    const a = this.ex.ceIPv4() >>> 0;
    return Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
  }

  /** The CE's MAP IPv6 address as 16 bytes (a copy). */
  ceIPv6(): Uint8Array {
    const p = this.ex.ceIPv6Address();
    return this.mem.slice(p, p + 16);
  }

  /** Every port of the CE's port set, ascending. */
  ports(): number[] {
    const out: number[] = [];
    for (let r = 0, n = this.ex.cePortRangeCount(); r < n; r++) {
      for (let p = this.ex.cePortRangeFirst(r); p <= this.ex.cePortRangeLast(r); p++) out.push(p);
    }
    return out;
  }

  /** The MAP IPv6 address of the CE owning (addr, port) under the covering rule, or undefined. */
  mapIPv6(addr: Uint8Array, port: number): Uint8Array | undefined {
    const a = ((addr[0] << 24) | (addr[1] << 16) | (addr[2] << 8) | addr[3]) >>> 0;
    const r = this.ex.ruleForIPv4(a);
    if (r < 0) return undefined;
    const out = this.ex.scratch();
    if (this.ex.mapIPv6(r, a, port, out) !== 0) return undefined;
    return this.mem.slice(out, out + 16);
  }
}
