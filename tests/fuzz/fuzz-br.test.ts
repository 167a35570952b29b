// Fuzzing the BR data path (structure-aware, tests/fuzz/br-corpus.ts):
// a BR serving four rules of different shapes (tests/fuzz/profiles.ts),
// seeds that pass its checks — from the internet to CE endpoints, from CEs
// to the BR (hairpins, fragments both ways, extension-header chains, ICMP
// errors both ways), ICMPv6 errors quoting the tunnel packets the BR really
// sent — and the mutations of tests/fuzz/mutate.ts, including one field at
// a boundary value with checksums fixed. The same loop as the CE fuzz
// (fuzzer.ts); checked after every batch:
//   - process() does not trap, memory does not grow;
//   - one outcome per input, in packets and in bytes;
//   - every output inside one slot, IP version 4 or 6, IPv6 outputs from a
//     BR address, IPv4 outputs from a source inside one of the rules;
//   - outputs well-formed (sampled, the independent dissector): clean
//     inputs' outputs without any problem, mutated inputs' without IP-level
//     problems.
// FUZZ_SEED / FUZZ_BR_PACKETS override the seed and the volume.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runBrFuzz, type FuzzStats } from "./fuzzer.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_7597);
const PACKETS = Number(process.env.FUZZ_BR_PACKETS ?? 200_000);

let stats: FuzzStats | undefined;

test(`fuzz: ${PACKETS} packets through a four-rule BR (seed 0x${SEED.toString(16)})`, () => {
  const s = runBrFuzz({ seed: SEED, packets: PACKETS });
  stats = s;
  const c = (n: string): number => s.counters.get(n) ?? 0;
  console.log(
    `fuzz br: seed 0x${s.seed.toString(16)}, ${s.inputs} inputs (${s.mutated} mutated) in ${s.batches} batches, ` +
      `${s.outputs} outputs, ${s.checked} dissected (${s.checkedClean} of clean inputs), ${(s.ms / 1000).toFixed(1)} s`,
  );
  console.log(`  counters: ${[...s.counters].map(([k, v]) => `${k} ${v}`).join(", ")}`);
  if (s.known.size) console.log(`  known faults tolerated: ${[...s.known].map(([k, v]) => `${v}× ${k}`).join(", ")}`);
  // The seeds must keep reaching the deep paths, or the fuzz proves little.
  for (const n of ["forwarded-to-ipv6", "forwarded-to-ipv4", "hairpin", "held", "released", "reassembled", "icmp-generated",
    "fragments-out", "ptb-received", "drop-security-ipv6-src", "drop-br-port-outside", "drop-ipv4-ttl-expired"]) {
    assert.ok(c(n) > 0, `no input reached '${n}'`);
  }
});

test("fuzz br: no IPv4 output from outside the rules, also for relayed ICMPv6 errors", () => {
  assert.ok(stats, "the BR fuzz ran");
  assert.equal(stats.known.get("br-relays-forged-icmpv6-error") ?? 0, 0);
});
