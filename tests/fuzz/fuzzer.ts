// The fuzz loop: batches of seeds and mutated seeds through process(), with
// every invariant checked after every batch (see fuzz.test.ts for the list).
// One loop for both sides: a Side supplies the seeds (corpus.ts for a CE,
// br-corpus.ts for a BR), learns from outputs, and says who may send what.

import { checkPacket, formatAddr, toHex } from "../host/packets.js";
import { BrCorpus } from "./br-corpus.js";
import { Corpus, type Entry, type Profile, type Seq } from "./corpus.js";
import { RawDataPath } from "./driver.js";
import { mutate, shiftFragment } from "./mutate.js";
import { brConfig } from "./profiles.js";
import { Rng } from "./rng.js";

export interface FuzzOptions {
  seed: number;
  /** Input packets to send (at least). */
  packets: number;
  /** Inputs per process() call (default batchMax()). */
  batch?: number;
  /** Every output is dissected until this many inputs have gone in... */
  checkAllUntil?: number;
  /** ...and after that, the outputs of one batch in this many. */
  checkEvery?: number;
  /** Share of inputs that are unmutated seeds. */
  cleanShare?: number;
  /**
   * Tolerate a held fragment that is counted again as a drop when it is
   * released (outcomes may exceed inputs by at most Δreleased). Only to
   * explore past that known fault; the test does not set it.
   */
  tolerateReleasedDrops?: boolean;
  /** "debug" runs the build with assertions on (slower). */
  variant?: "release" | "debug";
  /** Called with each batch's inputs (copies) and its clock, before process(): a recording for other hosts. */
  record?: (inputs: Uint8Array[], nowMs: number) => void;
}

export interface FuzzStats {
  profile: string;
  seed: number;
  inputs: number;
  mutated: number;
  batches: number;
  outputs: number;
  /** Outputs dissected, and how many of them came from unmutated inputs. */
  checked: number;
  checkedClean: number;
  /** Transport-level problems seen in outputs of mutated inputs (allowed; see fuzz.test.ts). */
  mutatedL4Problems: Map<string, number>;
  counters: Map<string, number>;
  learnedFlows: number;
  /** Outputs of known, tolerated faults (Side.known), by name. */
  known: Map<string, number>;
  ms: number;
}

export class FuzzFailure extends Error {}

/** What one side (CE or BR) brings to the loop. */
interface Side {
  /** Pools to draw clean inputs from, and mutation bases (a pool may repeat to weigh it). */
  clean: Entry[][];
  mutable: Entry[][];
  freshId(): number;
  garbageChain(r: Rng): Uint8Array;
  /** Learns from output `out` of a clean input. */
  learn(r: Rng, out: Uint8Array): void;
  /** Why this output may not leave (its sender), or undefined. Checked on every output of every batch. */
  source(out: Uint8Array): string | undefined;
  /** Known faults tolerated (counted in FuzzStats.known) instead of failing: a name for a source() message, or undefined. */
  known?(out: Uint8Array, why: string): string | undefined;
  flows(): number;
}

const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];

function ceSide(dp: RawDataPath, profile: Profile): Side {
  const corpus = new Corpus(profile, dp.ceIPv4(), dp.ceIPv6(), dp.ports(), (a, p) => dp.mapIPv6(a, p));
  const ce6 = dp.ceIPv6();
  const ce4 = u32(dp.ceIPv4(), 0);
  const plen = dp.ex.ceIPv4PrefixLength();
  const mask = plen === 0 ? 0 : plen >= 32 ? 0xffffffff : ~(0xffffffff >>> plen) >>> 0;
  const own = new Set(dp.ports());
  return {
    clean: [corpus.lan, corpus.lan, corpus.wan, corpus.learned, corpus.learned, corpus.learned, corpus.lanLearned],
    mutable: [corpus.lan, corpus.wan, corpus.learned, corpus.learned, corpus.learned, corpus.lanLearned],
    freshId: () => corpus.freshId(),
    garbageChain: (r) => corpus.garbageChain(r),
    learn(r, out) {
      if (out[0] >> 4 === 6) corpus.learn(r, out);
      else corpus.learnDelivered(r, out);
    },
    source(out) {
      if (out[0] >> 4 !== 6) return undefined;
      for (let k = 0; k < 16; k++) if (out[8 + k] !== ce6[k]) return "IPv6 output does not come from our MAP address";
      // No CE output outside its set: the inner source is our address, and a port we send from is ours.
      if (out[6] !== 4 || out.length < 60 || out[40] >> 4 !== 4) return undefined;
      const q = out.subarray(40);
      if (((u32(q, 12) & mask) >>> 0) !== ((ce4 & mask) >>> 0)) return `inner IPv4 source ${formatAddr(q.subarray(12, 16))} is not the CE's address`;
      if (plen < 32 || (u16(q, 6) & 0x1fff) !== 0) return undefined;
      const hl = (q[0] & 15) * 4;
      const l4 = q.subarray(hl);
      let port = -1;
      if ((q[9] === 6 || q[9] === 17) && l4.length >= 4) port = u16(l4, 0);
      else if (q[9] === 1 && l4.length >= 8 && l4[0] === 8) port = u16(l4, 4);
      if (port >= 0 && !own.has(port)) return `source port / echo id ${port} is outside the CE's port set`;
      return undefined;
    },
    flows: () => corpus.flows.size,
  };
}

function brSide(dp: RawDataPath, r: Rng): Side {
  const corpus = new BrCorpus(dp, r);
  return {
    clean: [corpus.inet, corpus.ces, corpus.learned, corpus.learned],
    mutable: [corpus.inet, corpus.ces, corpus.learned, corpus.learned],
    freshId: () => corpus.freshId(),
    garbageChain: (r2) => corpus.garbageChain(r2),
    learn: (r2, out) => corpus.learn(r2, out),
    source(out) {
      if (out[0] >> 4 === 6) {
        const src = out.subarray(8, 24);
        if (!corpus.brs.some((b) => b.every((x, k) => x === src[k]))) return `IPv6 output from ${formatAddr(src)}, not a BR address`;
        return undefined;
      }
      // No BR output whose IPv4 source is outside the rules.
      if (dp.ex.ruleForIPv4(u32(out, 12)) < 0) return `IPv4 output from ${formatAddr(out.subarray(12, 16))}, outside every rule`;
      return undefined;
    },
    flows: () => corpus.learned.length,
  };
}

/**
 * Problems of the IP layers' framing that the CE itself must get right
 * whatever came in: header checksums (it checks them on input and updates
 * them), and lengths (total length, IPv6 payload length, header length)
 * agreeing with the bytes emitted. Content the CE forwards without judging
 * (reserved flag bit, the shape of a fragment's data, an IPv4-in-IPv4
 * protocol number, transport headers and checksums) is not asserted for
 * mutated inputs: routers and NATs pass it on, and only the receiver can
 * judge it.
 */
function ipLevel(problem: string): boolean {
  const path = problem.slice(0, problem.indexOf(":"));
  if (!/^(ipv4|ipv6|ipv6\/ipv4)$/.test(path)) return false;
  return /bad header checksum|total length|payload length|header length|shorter than|cut short|runs past the end/.test(problem);
}

function problemKind(problem: string): string {
  return problem.replace(/0x[0-9a-f]+/g, "#").replace(/\d+/g, "N");
}

/** Fuzzes a CE configured from the profile's flags. */
export function runFuzz(profile: Profile, opts: FuzzOptions): FuzzStats {
  const t0 = performance.now();
  const r = new Rng(opts.seed);
  const dp = new RawDataPath([...profile.args, "--br", profile.br], { slots: 256, sessions: 65536, seed: opts.seed, variant: opts.variant });
  return fuzzLoop(profile.name, dp, ceSide(dp, profile), r, opts, t0);
}

/** Fuzzes the BR of tests/fuzz/profiles.ts (BR_JSON). */
export function runBrFuzz(opts: FuzzOptions): FuzzStats {
  const t0 = performance.now();
  const r = new Rng(opts.seed);
  const dp = new RawDataPath(brConfig(), { slots: 256, sessions: 1024, seed: opts.seed, variant: opts.variant });
  return fuzzLoop("br", dp, brSide(dp, r), r, opts, t0);
}

function fuzzLoop(name: string, dp: RawDataPath, side: Side, r: Rng, opts: FuzzOptions, t0: number): FuzzStats {
  const memBytes = dp.ex.memory.buffer.byteLength;
  const batch = Math.min(opts.batch ?? dp.batchMax, dp.batchMax);
  const cap = dp.capacity;
  const checkAllUntil = opts.checkAllUntil ?? 20000;
  const checkEvery = opts.checkEvery ?? 64;
  const cleanShare = opts.cleanShare ?? 0.3;
  const names = dp.counterNames;
  const idx = (n: string): number => {
    const i = names.indexOf(n);
    if (i < 0) throw new Error(`no counter ${n}`);
    return i;
  };
  const C = {
    in4: idx("in-ipv4"), in6: idx("in-ipv6"), fwd6: idx("forwarded-to-ipv6"), fwd4: idx("forwarded-to-ipv4"),
    held: idx("held"), unknown: idx("drop-unknown-version"),
  };
  const drops = names.map((n, i) => (n.startsWith("drop-") ? i : -1)).filter((i) => i >= 0);

  const stats: FuzzStats = {
    profile: name, seed: opts.seed, inputs: 0, mutated: 0, batches: 0, outputs: 0, checked: 0, checkedClean: 0,
    mutatedL4Problems: new Map(), counters: new Map(), learnedFlows: 0, known: new Map(), ms: 0,
  };
  let before = dp.packetCounts();
  let after = new Float64Array(names.length);
  let beforeB = dp.byteCounts();
  let afterB = new Float64Array(names.length);
  const clean = new Uint8Array(batch);
  const inHex: string[] = new Array(batch);
  let now = 1_000_000;
  const pending: { p: Uint8Array; clean: boolean }[] = [];

  const fail = (msg: string, extra = ""): never => {
    throw new FuzzFailure(`[${name} seed ${opts.seed} batch ${stats.batches} now ${now}] ${msg}${extra ? `\n${extra}` : ""}`);
  };

  /** Picks what goes in next: a clean item (maybe several packets) or one mutated packet (or a mangled fragment set). */
  const refill = (): void => {
    if (r.chance(cleanShare)) {
      let pool = r.pick(side.clean);
      if (pool.length === 0) pool = side.clean[0];
      const e = r.pick(pool);
      const seq: Seq = e.fresh ? e.fresh(side.freshId()) : e.base;
      for (const p of seq) pending.push({ p, clean: true });
      return;
    }
    let pool = r.pick(side.mutable);
    if (pool.length === 0) pool = side.mutable[0];
    const e = r.pick(pool);
    if (e.base.length > 1 && r.chance(0.3)) {
      // A mangled fragment set: drop, duplicate, reorder, overlap.
      const seq = e.base.map((p) => p.slice());
      for (let k = r.range(1, 3); k > 0; k--) {
        const i = r.int(seq.length);
        switch (r.int(4)) {
          case 0: seq.splice(i, 1); break;
          case 1: seq.splice(i, 0, seq[i].slice()); break;
          case 2: { const j = r.int(seq.length); [seq[i], seq[j]] = [seq[j], seq[i]]; break; }
          default: shiftFragment(r, seq[i], seq[i].length); break;
        }
        if (seq.length === 0) break;
      }
      for (const p of seq) pending.push({ p, clean: false });
      return;
    }
    if (r.chance(0.05)) {
      pending.push({ p: side.garbageChain(r), clean: false });
      return;
    }
    pending.push({ p: r.pick(e.base), clean: false });
  };

  while (stats.inputs < opts.packets) {
    // ---- fill the batch ----
    for (let i = 0; i < batch; i++) {
      while (pending.length === 0) refill();
      const item = pending.shift()!;
      const ptr = dp.inputPtr(i);
      dp.mem.set(item.p.length > cap ? item.p.subarray(0, cap) : item.p, ptr);
      let len = Math.min(item.p.length, cap);
      if (!item.clean) {
        len = mutate(r, dp.mem.subarray(ptr, ptr + cap), len, cap);
        stats.mutated++;
      }
      dp.lens[i] = len;
      clean[i] = item.clean ? 1 : 0;
    }
    const checkAll = stats.inputs < checkAllUntil || stats.batches % checkEvery === 0;
    // Keep the inputs for the failure message of a sampled batch only (it costs).
    if (checkAll) for (let i = 0; i < batch; i++) inHex[i] = toHex(dp.mem.subarray(dp.inputPtr(i), dp.inputPtr(i) + dp.lens[i]));

    // ---- the clock: mostly small steps, now and then past every timeout ----
    now += r.int(40);
    if (r.chance(0.01)) now += 11_000; // IPv4 fragment flows and held fragments (10 s)
    if (r.chance(0.005)) now += 61_000; // IPv6 reassembly (60 s)
    if (r.chance(0.0005)) now += 310_000; // UDP mappings (300 s)

    if (opts.record) {
      const inputs: Uint8Array[] = [];
      for (let i = 0; i < batch; i++) inputs.push(dp.mem.slice(dp.inputPtr(i), dp.inputPtr(i) + dp.lens[i]));
      opts.record(inputs, now);
    }

    // ---- process ----
    let n: number;
    try {
      n = dp.process(batch, now);
    } catch (e) {
      return fail(`process() threw ${(e as Error).message}`, checkAll ? inHex.join("\n") : "");
    }
    stats.batches++;
    stats.inputs += batch;
    stats.outputs += n;
    if (dp.ex.memory.buffer.byteLength !== memBytes) fail(`memory grew to ${dp.ex.memory.buffer.byteLength}`);
    if (n < 0 || n > dp.slots) fail(`process returned ${n} outputs`);

    // ---- every input counted exactly once, in packets and in bytes ----
    let inBytes = 0;
    for (let i = 0; i < batch; i++) inBytes += Math.max(0, Math.min(dp.lens[i], cap));
    dp.packetCounts(after);
    dp.byteCounts(afterB);
    {
      const b = (i: number): number => afterB[i] - beforeB[i];
      let outB = b(C.fwd6) + b(C.fwd4) + b(C.held);
      for (const i of drops) outB += b(i);
      const inB = b(C.in4) + b(C.in6) + b(C.unknown);
      if (inB !== inBytes || (outB !== inBytes && !opts.tolerateReleasedDrops)) {
        fail(`bytes: received ${inB}, outcomes ${outB}, inputs ${inBytes}`, checkAll ? inHex.join("\n") : "");
      }
      [beforeB, afterB] = [afterB, beforeB];
    }
    const d = (i: number): number => after[i] - before[i];
    const received = d(C.in4) + d(C.in6);
    if (received + d(C.unknown) !== batch) fail(`in-ipv4 ${d(C.in4)} + in-ipv6 ${d(C.in6)} + drop-unknown-version ${d(C.unknown)} != ${batch} inputs`);
    let dropped = 0;
    for (const i of drops) dropped += d(i);
    const outcomes = d(C.fwd6) + d(C.fwd4) + d(C.held) + dropped;
    const slack = opts.tolerateReleasedDrops ? d(idx("released")) : 0;
    if (outcomes < batch || outcomes > batch + slack) {
      const moved = names.map((nm, i) => (d(i) ? `${nm} +${d(i)}` : "")).filter(Boolean).join(", ");
      fail(`outcomes ${outcomes} (forwarded ${d(C.fwd6)}+${d(C.fwd4)}, held ${d(C.held)}, drops ${dropped}) != ${batch} inputs: ${moved}`, checkAll ? inHex.join("\n") : "");
    }
    [before, after] = [after, before];

    // ---- outputs: inside the slots, sane lengths; attributed to inputs ----
    let prevIn = 0;
    for (let j = 0; j < n; j++) {
      const off = dp.outOffs[j];
      const len = dp.outLens[j];
      if (len <= 0 || len > dp.slotSize) fail(`output ${j} has length ${len}`);
      if (off < dp.slotBase || off + len > dp.slotEnd) fail(`output ${j} at ${off}+${len} lies outside the slots [${dp.slotBase}, ${dp.slotEnd})`);
      const slot = Math.floor((off - dp.slotBase) / dp.slotSize);
      if (Math.floor((off + len - 1 - dp.slotBase) / dp.slotSize) !== slot) fail(`output ${j} at ${off}+${len} crosses a slot boundary`);
      const v = dp.mem[off] >> 4;
      if (v !== 4 && v !== 6) fail(`output ${j} is IP version ${v}`);
      if (v === 6 && len < 40) fail(`IPv6 output ${j} of ${len} bytes`);
      if (v === 4 && len < 20) fail(`IPv4 output ${j} of ${len} bytes`);
      {
        const why = side.source(dp.output(j));
        if (why !== undefined) {
          const k = side.known?.(dp.output(j), why);
          if (k === undefined) fail(`output ${j}: ${why}`, `output ${toHex(dp.output(j).subarray(0, 80))}`);
          else stats.known.set(k, (stats.known.get(k) ?? 0) + 1);
        }
      }
      // Which inputs can this output come from? An output in input slot i
      // is input i's; one in a spare slot lies between its neighbours.
      let isClean: boolean;
      let from: number;
      if (slot < batch) {
        isClean = clean[slot] === 1;
        from = slot;
        prevIn = slot;
      } else {
        let next = batch - 1;
        for (let k = j + 1; k < n; k++) {
          const s = Math.floor((dp.outOffs[k] - dp.slotBase) / dp.slotSize);
          if (s < batch) { next = s; break; }
        }
        isClean = true;
        for (let i = prevIn; i <= next; i++) if (!clean[i]) isClean = false;
        from = prevIn;
      }
      const out = dp.output(j);
      if (isClean) side.learn(r, out);
      if (!checkAll) continue;
      const problems = checkPacket(out);
      stats.checked++;
      if (isClean) {
        stats.checkedClean++;
        if (problems.length) fail(`output ${j} of a clean input (slot ${from}) is malformed: ${problems.join("; ")}`, `output ${toHex(out)}\ninput ${inHex[from]}`);
      } else {
        const ip = problems.filter(ipLevel);
        if (ip.length) fail(`output ${j} (of a mutated input near slot ${from}) has IP-level problems: ${ip.join("; ")}`, `output ${toHex(out)}\ninput ${inHex[from]}`);
        for (const p of problems) {
          const k = problemKind(p);
          stats.mutatedL4Problems.set(k, (stats.mutatedL4Problems.get(k) ?? 0) + 1);
        }
      }
    }
  }
  for (let i = 0; i < names.length; i++) if (before[i]) stats.counters.set(names[i], before[i]);
  stats.learnedFlows = side.flows();
  stats.ms = performance.now() - t0;
  return stats;
}
