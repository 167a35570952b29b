// Seed streams for the libFuzzer targets (tests/fuzz/native, written by
// native/seed.ts into tests/fuzz/corpus/): the structure-aware corpora of
// the Node fuzzers, each seed as the batches that make it meaningful —
// a CE flow's first packet and the replies learned from what the CE sent
// (one input, since every libFuzzer input starts from fresh tables); a BR
// seed alone or after the packet whose output it quotes.

import { BrCorpus } from "./br-corpus.js";
import { Corpus, type Entry, type Seq } from "./corpus.js";
import { RawDataPath } from "./driver.js";
import { brConfig, CE_ARGS } from "./profiles.js";
import { Rng } from "./rng.js";

export interface Batch { packets: Uint8Array[]; stepMs: number }

const seqOf = (e: Entry, id: number): Seq => (e.fresh ? e.fresh(id) : e.base);

/** Runs packets through process() (in batches of batchMax) and returns the outputs (copies). */
function run(dp: RawDataPath, packets: Uint8Array[], now: number): Uint8Array[] {
  const outs: Uint8Array[] = [];
  for (let i = 0; i < packets.length; i += dp.batchMax) {
    const chunk = packets.slice(i, i + dp.batchMax);
    chunk.forEach((p, k) => dp.put(k, p.length > dp.capacity ? p.subarray(0, dp.capacity) : p));
    const n = dp.process(chunk.length, now);
    for (let j = 0; j < n; j++) outs.push(dp.output(j).slice());
  }
  return outs;
}

export function ceSeedStreams(seed = 7597): Batch[][] {
  const r = new Rng(seed);
  const dp = new RawDataPath(CE_ARGS, { slots: 64, sessions: 4096, seed: 1 });
  const corpus = new Corpus({ name: "janog", args: CE_ARGS, br: CE_ARGS[CE_ARGS.indexOf("--br") + 1] }, dp.ceIPv4(), dp.ceIPv6(), dp.ports(), (a, p) => dp.mapIPv6(a, p));
  const streams: Batch[][] = [];
  let now = 1e6;
  for (const e of corpus.lan) {
    const first = seqOf(e, corpus.freshId());
    const mark = corpus.learned.length;
    for (const o of run(dp, first, (now += 10))) if (o[0] >> 4 === 6) corpus.learn(r, o);
    const replies = corpus.learned.slice(mark, mark + 6).map((x) => seqOf(x, corpus.freshId())).flat();
    streams.push([{ packets: first, stepMs: 20 }, ...(replies.length ? [{ packets: replies, stepMs: r.pick([0, 20, 11000, 61000]) }] : [])]);
  }
  for (const e of corpus.wan) streams.push([{ packets: seqOf(e, corpus.freshId()), stepMs: 0 }]);
  return streams;
}

export function brSeedStreams(seed = 7597): Batch[][] {
  const r = new Rng(seed);
  const dp = new RawDataPath(brConfig(), { slots: 64, sessions: 1024, seed: 1 });
  const corpus = new BrCorpus(dp, r);
  const streams: Batch[][] = [];
  let now = 1e6;
  for (const e of [...corpus.inet, ...corpus.ces]) {
    const first = seqOf(e, corpus.freshId());
    const mark = corpus.learned.length;
    for (const o of run(dp, first, (now += 10))) for (let k = 0; k < 4; k++) corpus.learn(r, o);
    const after = corpus.learned.slice(mark, mark + 4).map((x) => seqOf(x, corpus.freshId())).flat();
    streams.push([{ packets: first, stepMs: r.pick([0, 20, 11000]) }, ...(after.length ? [{ packets: after, stepMs: 0 }] : [])]);
  }
  for (let i = 0; i < 8; i++) streams.push([{ packets: [corpus.garbageChain(r)], stepMs: 0 }]);
  return streams;
}
