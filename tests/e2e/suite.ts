// The end-to-end pcap suite: every case folder (tests/e2e/cases/<name>/, see
// files.ts) through a real `mape pcap` command line (the Node CLI in
// e2e.test.ts; the router program of every target in
// tests/router/pcap.test.ts), compared the same way:
//   - out.pcap with expected.pcap, packet by packet, byte for byte (after
//     the free fields of cases.ts: the outer flow label, and the ID of
//     fragments the CE sends, which must be in the port set);
//   - the non-zero counters of `--json` with counters.json;
//   - tshark's verdict on every output packet (checksums verified,
//     IPv4-in-IPv6 dissected, nothing malformed).
// It also checks the folders are what generate.ts makes from cases.ts now,
// so a case edited without regenerating fails here (with the Node host).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPcapFile, type PcapRecord } from "../../host/pcap.js";
import { checkPacket, dissect, internetChecksum, toHex } from "../host/packets.js";
import { tsharkPcap, tsharkProblems, requireTshark } from "../host/tshark.js";
import { allCases, type FreeFields } from "./cases.js";
import { caseFiles, casesDir, repoRoot } from "./files.js";

const root = repoRoot();
const dir = casesDir();
const folders = existsSync(dir) ? readdirSync(dir).sort() : [];
const work = mkdtempSync(join(tmpdir(), "mape-e2e-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** How to run `mape pcap` for a case: the program and its arguments before `--in … --out … --json`. */
export interface PcapHost {
  /** Test-name prefix ("" for the Node host). */
  label: string;
  /** The command line for a case folder (its config.json): [program, ...arguments]. */
  command(caseDir: string): string[];
  /** Why the host cannot run here (a skip reason; see prereq.ts), if it cannot. */
  missing?: string;
  /**
   * Run tshark over the outputs (default true). A host whose outputs are
   * byte-compared with expected.pcap (free fields aside) may leave it to the
   * Node host's run, which checks those same bytes.
   */
  tshark?: boolean;
}

/** The Node CLI: node bin/mape.js pcap --config <case>/config.json. */
export const NODE_HOST: PcapHost = {
  label: "",
  command: (d) => [process.execPath, join(root, "bin", "mape.js"), "pcap", "--config", join(d, "config.json")],
};

export function checkCaseFolders(): void {
test("the case folders are what generate.ts makes from cases.ts", () => {
  const cases = allCases();
  assert.deepEqual(folders, cases.map((c) => c.name).sort(), "run: npx tsc -p tsconfig.json && node build/ts/tests/e2e/generate.js");
  for (const c of cases) {
    for (const [file, bytes] of Object.entries(caseFiles(c))) {
      const onDisk = new Uint8Array(readFileSync(join(dir, c.name, file)));
      assert.ok(sameBytes(onDisk, bytes), `${c.name}/${file} is stale: run node build/ts/tests/e2e/generate.js`);
    }
  }
});
}

interface RunResult {
  out: PcapRecord[];
  counters: Record<string, number>;
  outPath: string;
}

function runCase(host: PcapHost, name: string): RunResult {
  const d = join(dir, name);
  const outPath = join(work, `${host.label ? `${host.label}-` : ""}${name}.pcap`);
  const [cmd, ...args] = host.command(d);
  const br = metaOf(name).mode === "br" ? ["--br-mode"] : [];
  const r = spawnSync(cmd, [...args, "--in", join(d, "in.pcap"), "--out", outPath, "--json", ...br], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `mape pcap failed: ${r.stderr}`);
  const all = (JSON.parse(r.stdout) as { counters: Record<string, number> }).counters;
  // The session gauges (sessions-*, mappings-*) are the NAT's own state,
  // asserted by the NAT's unit tests and tests/host/datapath.test.ts; the
  // rows pin the packet counters.
  const gauge = (k: string): boolean => k.startsWith("sessions-") || k.startsWith("mappings-");
  const counters = Object.fromEntries(Object.entries(all).filter(([k, v]) => !k.endsWith("-bytes") && v !== 0 && !gauge(k)));
  return { out: readPcapFile(outPath), counters, outPath };
}

/** Hex of both packets around their first difference, 16 bytes a line, differing lines marked. */
function hexDiff(want: Uint8Array, got: Uint8Array): string {
  let first = 0;
  while (first < want.length && first < got.length && want[first] === got[first]) first++;
  const lines = [`first difference at byte ${first} (lengths: expected ${want.length}, got ${got.length})`];
  const from = Math.max(0, (first & ~15) - 32);
  const to = Math.min(Math.max(want.length, got.length), from + 128);
  for (let at = from; at < to; at += 16) {
    const w = toHex(want.subarray(at, Math.min(at + 16, want.length)));
    const g = toHex(got.subarray(at, Math.min(at + 16, got.length)));
    lines.push(`${w === g ? " " : "!"} ${at.toString().padStart(5)}  expected ${w.padEnd(32)}  got ${g}`);
  }
  return lines.join("\n");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isIpip6 = (p: Uint8Array): boolean => p.length >= 60 && p[0] >> 4 === 6 && p[6] === 4;
/** An IPv6 fragment of a tunnel packet: fixed header, then a Fragment header whose next header is IPv4 (RFC 2473 §7.2). */
const isTunnelFragment = (p: Uint8Array): boolean => p.length >= 56 && p[0] >> 4 === 6 && p[6] === 44 && p[40] === 4;
const frag6Id = (p: Uint8Array): number => ((p[44] << 24) | (p[45] << 16) | (p[46] << 8) | p[47]) >>> 0;

/**
 * Applies the free fields of the output to a copy of the expected packet
 * (flow label; inner fragment ID with its header checksum). Returns the
 * copy and the free values seen.
 */
function adopt(want: Uint8Array, got: Uint8Array, free: FreeFields | undefined): { want: Uint8Array; label?: number; fragId?: number; frag6?: number } {
  if (isTunnelFragment(want) && isTunnelFragment(got)) {
    const w = want.slice();
    w[1] = (w[1] & 0xf0) | (got[1] & 0x0f);
    w[2] = got[2];
    w[3] = got[3];
    const label = ((got[1] & 0x0f) << 16) | (got[2] << 8) | got[3];
    if (!free?.ipv6FragmentId) return { want: w, label };
    w.set(got.subarray(44, 48), 44);
    return { want: w, label, frag6: frag6Id(got) };
  }
  if (!isIpip6(want) || !isIpip6(got)) return { want };
  const w = want.slice();
  w[1] = (w[1] & 0xf0) | (got[1] & 0x0f);
  w[2] = got[2];
  w[3] = got[3];
  const label = ((got[1] & 0x0f) << 16) | (got[2] << 8) | got[3];
  const frag = (p: Uint8Array): boolean => ((p[46] << 8) | p[47]) & 0x3fff ? true : false;
  if (free?.fragmentId && frag(w) && frag(got)) {
    w[44] = got[44];
    w[45] = got[45];
    const hl = (w[40] & 15) * 4;
    w[50] = 0;
    w[51] = 0;
    const c = internetChecksum(w.subarray(40, 40 + hl));
    w[50] = c >> 8;
    w[51] = c & 0xff;
    return { want: w, label, fragId: (got[44] << 8) | got[45] };
  }
  return { want: w, label };
}

/** The inner flow of an encapsulated packet, for the flow-label check: addresses, protocol, and ports (or, for a fragment, its ID). */
function flowKey(p: Uint8Array, wantOrig: Uint8Array): string {
  const d = dissect(p).inner;
  if (!d) return "";
  const ports = d.udp ? `${d.udp.srcPort}>${d.udp.dstPort}` : d.tcp ? `${d.tcp.srcPort}>${d.tcp.dstPort}` : d.icmp ? `icmp${d.icmp.id ?? ""}` : "";
  const fragment = d.fragment ? `frag${(wantOrig[44] << 8) | wantOrig[45]}` : ports;
  return `${d.src}>${d.dst}/${d.protocol}/${fragment}`;
}

type Meta = { description: string; free?: FreeFields; knownBug?: string; mode?: "br" };
const metaOf = (name: string): Meta => JSON.parse(readFileSync(join(dir, name, "case.json"), "utf8")) as Meta;

/** Registers one test per case folder for `host`. */
export function e2eSuite(host: PcapHost): void {
for (const name of folders) {
  const known = metaOf(name).knownBug;
  const opts = host.missing ? { skip: host.missing } : known ? { todo: `known data-path bug: ${known}` } : {};
  test(`e2e${host.label ? ` (${host.label})` : ""}: ${name}`, opts, () => {
    const d = join(dir, name);
    const meta = metaOf(name);
    const expected = readPcapFile(join(d, "expected.pcap"));
    const wantCounters = (JSON.parse(readFileSync(join(d, "counters.json"), "utf8")) as { counters: Record<string, number> }).counters;
    const { out, counters, outPath } = runCase(host, name);
    const problems: string[] = [];

    // Packets, in order.
    const labels = new Map<string, number>();
    const fragIds = new Map<number, number>();
    // IPv6 fragment identification: the builder's ID of a packet -> the module's, and back (one per packet, a new one per packet).
    const frag6Ids = new Map<number, number>();
    const frag6Back = new Map<number, number>();
    const n = Math.min(out.length, expected.length);
    for (let k = 0; k < n; k++) {
      const got = out[k].data;
      const a = adopt(expected[k].data, got, meta.free);
      if (!sameBytes(a.want, got)) {
        problems.push(`packet ${k} differs:\n${hexDiff(a.want, got)}\n  expected: ${summary(a.want)}\n  got:      ${summary(got)}`);
        break;
      }
      if (out[k].timestampMs !== expected[k].timestampMs) problems.push(`packet ${k}: timestamp ${out[k].timestampMs}, expected ${expected[k].timestampMs}`);
      if (a.frag6 !== undefined) {
        const builderId = frag6Id(expected[k].data);
        const seen = frag6Ids.get(builderId);
        if (seen === undefined) {
          if (frag6Back.has(a.frag6)) problems.push(`packet ${k}: IPv6 fragment identification ${a.frag6} reused for another packet (RFC 8200 §4.5)`);
          frag6Ids.set(builderId, a.frag6);
          frag6Back.set(a.frag6, builderId);
        } else if (seen !== a.frag6) {
          problems.push(`packet ${k}: IPv6 fragment identification ${a.frag6} but the packet's other fragments have ${seen}`);
        }
      }
      if (a.label !== undefined) {
        const key = isTunnelFragment(got) ? `frag6:${frag6Id(expected[k].data)}` : flowKey(got, expected[k].data);
        const seen = labels.get(key);
        if (seen === undefined) labels.set(key, a.label);
        else if (seen !== a.label) problems.push(`packet ${k}: flow label 0x${a.label.toString(16)} but earlier packets of flow ${key} had 0x${seen.toString(16)} (RFC 6437 §3)`);
      }
      if (a.fragId !== undefined) {
        const ports = meta.free!.fragmentId!.ports;
        if (!ports.includes(a.fragId)) problems.push(`packet ${k}: fragment ID ${a.fragId} is not in the port set (RFC 7597 §8.3.3)`);
        const origId = (expected[k].data[44] << 8) | expected[k].data[45];
        const seen = fragIds.get(origId);
        if (seen === undefined) fragIds.set(origId, a.fragId);
        else if (seen !== a.fragId) problems.push(`packet ${k}: fragment ID ${a.fragId} but the packet's other fragments have ${seen}`);
      }
      const own = checkPacket(got);
      if (own.length) problems.push(`packet ${k}: ${own.join("; ")}`);
    }
    if (out.length !== expected.length && problems.length === 0) {
      problems.push(`${out.length} packets out, expected ${expected.length}${out.length > n ? `; first extra: ${summary(out[n].data)}` : `; first missing: ${summary(expected[n].data)}`}`);
    }

    // Counters.
    const keys = [...new Set([...Object.keys(wantCounters), ...Object.keys(counters)])].sort();
    const diff = keys.filter((k) => (wantCounters[k] ?? 0) !== (counters[k] ?? 0)).map((k) => `${k}: expected ${wantCounters[k] ?? 0}, got ${counters[k] ?? 0}`);
    if (diff.length) problems.push(`counters differ:\n  ${diff.join("\n  ")}`);
    // Every input ends in exactly one outcome (docs/counters.md).
    const inputs = (counters["in-ipv4"] ?? 0) + (counters["in-ipv6"] ?? 0) + (counters["drop-unknown-version"] ?? 0);
    const outcomes = Object.entries(counters)
      .filter(([k]) => k === "forwarded-to-ipv6" || k === "forwarded-to-ipv4" || k === "held" || k.startsWith("drop-"))
      .reduce((a, [, v]) => a + v, 0);
    if (inputs !== outcomes) problems.push(`${inputs} inputs but ${outcomes} outcomes (forwarded + held + drops)`);

    // tshark on what came out.
    if (out.length > 0 && host.tshark !== false) {
      requireTshark();
      for (const p of tsharkPcap(outPath)) {
        const t = tsharkProblems(p);
        if (t.length) problems.push(`tshark, packet ${p.number - 1} [${p.protocols.join(":")}]: ${t.join("; ")}`);
        if (isIpip6(out[p.number - 1].data) && !p.protocols.includes("ip")) problems.push(`tshark, packet ${p.number - 1}: IPv4-in-IPv6 not dissected (${p.protocols.join(":")})`);
      }
    }

    assert.equal(problems.length, 0, `${name}: ${meta.description}\n${problems.join("\n")}`);
  });
}
}

/** One line about a packet: addresses, protocol, ports, inner packet. */
function summary(p: Uint8Array): string {
  const one = (d: ReturnType<typeof dissect>): string => {
    const l4 = d.udp ? ` udp ${d.udp.srcPort}>${d.udp.dstPort}` : d.tcp ? ` tcp ${d.tcp.srcPort}>${d.tcp.dstPort} flags 0x${d.tcp.flags.toString(16)}${d.tcp.mss ? ` mss ${d.tcp.mss}` : ""}` : d.icmp ? ` icmp ${d.icmp.type}/${d.icmp.code}` : "";
    const f = d.fragment ? ` frag id ${d.fragment.id} off ${d.fragment.offset}${d.fragment.more ? " MF" : ""}` : "";
    return `IPv${d.version} ${d.src} > ${d.dst} hl ${d.hopLimit}${f}${l4}`;
  };
  const d = dissect(p);
  return `${p.length} bytes ${one(d)}${d.inner ? ` [${one(d.inner)}]` : ""}`;
}
