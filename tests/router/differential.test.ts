// Differential test: the same fuzzed packets through the Node host and the
// router program must give the same output capture, byte for byte, and the
// same counters (all of them: packets and bytes, session gauges included).
//
// The packets are the fuzzer's (tests/fuzz: valid seeds of every kind, WAN
// replies learned from the CE's own outputs, and their mutations, with the
// clock jumping past every timeout), recorded batch by batch with their
// clock as a pcap, then run through `mape pcap` of each host with the
// fuzzer's NAT seed and session capacity. Run for the x86_64 build and
// under qemu-user for the big-endian mips build (and mipsel, aarch64).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_RAW, PcapWriter } from "../../host/pcap.js";
import { runFuzz } from "../fuzz/fuzzer.js";
import type { Profile } from "../fuzz/corpus.js";
import { repoRoot } from "../e2e/files.js";
import { skipUnlessCI } from "../host/prereq.js";
import { TARGETS, command, missing } from "./router.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_7597);
const PACKETS = Number(process.env.DIFF_PACKETS ?? 30_000);
const SESSIONS = 65536;

const PROFILES: Profile[] = [
  { name: "janog", args: ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--prefix", "2403:9200:1234::/48"], br: "2403:9200:fff0::2" },
  { name: "v6plus", args: ["--rule", "240b:10::/31,106.72.0.0/15,25,4", "--prefix", "240b:11:a1b2:c300::/56", "--legacy-iid"], br: "2404:9200:225:100::64" },
];

const work = mkdtempSync(join(tmpdir(), "mape-diff-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

interface Run {
  out: Uint8Array;
  stdout: string;
}

function pcapRun(cmd: string[], input: string, name: string): Run {
  const out = join(work, `${name}.out.pcap`);
  const [prog, ...args] = cmd;
  const r = spawnSync(prog, [...args, "--in", input, "--out", out, "--json", "--seed", String(SEED), "--sessions", String(SESSIONS)], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, `${name}: mape pcap exited ${r.status}: ${r.stderr}`);
  return { out: new Uint8Array(readFileSync(out)), stdout: r.stdout };
}

for (const profile of PROFILES) {
  const argv = [...profile.args, "--br", profile.br];
  let input: string | undefined;
  let node: Run | undefined;
  const recorded = (): { input: string; node: Run } => {
    if (!input) {
      const w = new PcapWriter({ linkType: LINKTYPE_RAW });
      let records = 0;
      runFuzz(profile, {
        seed: SEED,
        packets: PACKETS,
        checkAllUntil: 0,
        checkEvery: 1 << 30,
        record: (inputs, now) => {
          for (const p of inputs) w.add({ timestampMs: now, data: p });
          records += inputs.length;
        },
      });
      assert.ok(records >= PACKETS);
      input = join(work, `${profile.name}.in.pcap`);
      writeFileSync(input, w.bytes());
      node = pcapRun([process.execPath, join(repoRoot(), "bin", "mape.js"), "pcap", ...argv], input, `${profile.name}-node`);
    }
    return { input, node: node! };
  };

  for (const t of TARGETS) {
    test(`differential (${profile.name}, ${PACKETS} fuzzed packets): Node and the router program ${t.name}`, { skip: skipUnlessCI(missing(t)) }, () => {
      const { input, node } = recorded();
      const native = pcapRun([...command(t), "pcap", ...argv], input, `${profile.name}-${t.name}`);
      assert.equal(native.stdout, node.stdout, "counters differ");
      assert.ok(node.out.length > 24, "Node wrote no packets");
      let at = 0;
      while (at < node.out.length && native.out[at] === node.out[at]) at++;
      if (at !== node.out.length || native.out.length !== node.out.length) {
        assert.fail(`output captures differ from byte ${at} (Node ${node.out.length} bytes, ${t.name} ${native.out.length} bytes)`);
      }
    });
  }
}
