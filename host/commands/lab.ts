// `mape lab`: the whole MAP-E network in network namespaces (host/lab/),
// real clients and servers through `mape ce` and `mape br`, one report line
// per test; exit 1 when a required test fails. Where namespaces cannot be
// made (not root, no netns, missing tools), it says why and replays the
// bundled sample capture through `mape pcap` instead.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPcapFile } from "../pcap.js";
import { formatIPv4, formatIPv6 } from "../ip.js";
import { PRESETS, ceValues } from "../lab/presets.js";
import { formatReport, labMissing, runLab, selectTests, type LabOptions } from "../lab/run.js";
import { TESTS } from "../lab/tests.js";
import { repoRoot } from "../lab/services.js";
import type { Mode } from "../lab/topology.js";
import * as pcap from "./pcap.js";
import { UsageError } from "./usage.js";

export const summary = "build a MAP-E network in namespaces (LAN, CE, ISP, BR, internet) and test it with real clients";

export const usage = `usage:
  mape lab [--preset janog|rfc7597|v6plus] [--legacy-iid] [--auto] [--offload]
           [--quick | --only <test>[,<test>...]] [--seconds <n>]
           [--mode mape|kernel|nat44] [--json] [--no-fallback] [--list]
           [--host node|native] [--ce-qemu mipsel|mips|aarch64]

Builds namespaces mapetest-<pid>-lab-{lan,ce,isp,br1,br2,inet,lan2,ce2}
(IPv4-only LAN host, CE on a TUN, IPv6-only ISP core, two BRs sharing the
anycast BR address, an IPv4 internet server with two addresses, and a second
CE reached directly through the forwarding rule), runs 'mape ce' and
'mape br' in them, and tests with ping, traceroute, dig/dnsmasq, curl to
HTTP, FTP passive and active, coturn/stund STUN, CE-to-CE mesh, iperf3 TCP
and UDP both ways and a BR failover under a TCP transfer; then checks a
capture of the ISP link with tshark. Prints one line per test:
  PASS / FAIL (required), XFAIL (an expected failure of a test that is
  not required), and exits 1 when a required test failed.
Everything is torn down on exit, on error and on Ctrl-C.

Rules (--preset): janog (default: 2403:9200::/32, 203.86.225.0/28, EA 16,
offset 4, BR 2403:9200:fff0::2, 15 ports a CE), rfc7597 (2001:db8::/40,
192.0.2.0/24, EA 16, offset 6), v6plus (a v6plus-like 240-port rule).
--legacy-iid: the pre-RFC interface id layout on both CEs.
--offload: the LAN hosts keep TX checksum, TSO and GSO on (as users have
them): the CEs read TSO super-packets and cut them (native/tunio.c).
--auto: the CEs get no rule: they run 'mape ce --auto' and provision
themselves from HB46PP: dnsmasq in isp answers the 4over6.info TXT record,
a Node HTTPS server there (a lab CA made with openssl, trusted by the CEs
with --ca) serves an answer of 256 rules with a 10 s ttl. Adds the tests
auto-rules (the CE's rules came from the server, its BMR the 256th rule)
auto-follow (the answer renumbers the BR: the CE follows with its BMR kept
and traffic flows through the new BR address) and auto-sessions (a TCP
connection opened before the change still works after it).
--mode kernel|nat44 runs the same tests over plain kernel routing or kernel
NAT44 (nftables) instead of MAP-E, for comparison.
--host native: the router program (build/router/x86_64/mape, the same
module through wasm2c) runs both CEs and both BRs instead of Node.
--ce-qemu <target>: CE1 is the router program of that target under
qemu-user (qemu-<target>-static) on its TUN.
--quick: ping, dns-udp, http, stun-eim, mesh. --seconds: iperf3 time (3).
Needs root and: ping traceroute curl dig dnsmasq vsftpd busybox iperf3
turnserver stun stund tcpdump tshark nft ethtool ss. Without them (or
without root) it replays samples/janog.pcap through 'mape pcap' instead
(--no-fallback: exit 1 instead).`;

interface Args extends LabOptions {
  json: boolean;
  fallback: boolean;
  list: boolean;
}

function parseArgs(argv: string[]): Args | undefined {
  const a: Args = { json: false, fallback: true, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) throw new UsageError(`lab: ${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case "--help":
      case "-h":
        console.log(usage);
        return undefined;
      case "--preset": {
        const v = value();
        if (!Object.hasOwn(PRESETS, v)) throw new UsageError(`lab: --preset '${v}' is not one of ${Object.keys(PRESETS).join(", ")}`);
        a.preset = PRESETS[v];
        break;
      }
      case "--legacy-iid":
        a.legacyIid = true;
        break;
      case "--offload":
        a.offload = true;
        break;
      case "--auto":
        a.auto = true;
        break;
      case "--quick":
        a.quick = true;
        break;
      case "--only": {
        const names = value().split(",").filter(Boolean);
        for (const n of names) if (!TESTS.some((t) => t.name === n)) throw new UsageError(`lab: --only: no test '${n}' (tests: ${TESTS.map((t) => t.name).join(", ")})`);
        a.only = names;
        break;
      }
      case "--seconds": {
        const v = value();
        if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 60) throw new UsageError(`lab: --seconds '${v}' is not an integer from 1 to 60`);
        a.seconds = Number(v);
        break;
      }
      case "--mode": {
        const v = value();
        if (v !== "mape" && v !== "kernel" && v !== "nat44") throw new UsageError(`lab: --mode '${v}' is not mape, kernel or nat44`);
        a.mode = v as Mode;
        break;
      }
      case "--json":
        a.json = true;
        break;
      case "--no-fallback":
        a.fallback = false;
        break;
      case "--list":
        a.list = true;
        break;
      case "--host": {
        const v = value();
        if (v !== "node" && v !== "native") throw new UsageError(`lab: --host '${v}' is not node or native`);
        a.host = v;
        break;
      }
      case "--ce-qemu": {
        const v = value();
        if (v !== "mipsel" && v !== "mips" && v !== "aarch64") throw new UsageError(`lab: --ce-qemu '${v}' is not mipsel, mips or aarch64`);
        a.ceQemu = v;
        break;
      }
      default:
        throw new UsageError(`lab: unknown argument '${arg}' (see 'mape lab --help')`);
    }
  }
  // The router program fetches no rules itself (OpenWrt's hb46pp.sh does, with uclient-fetch; tests/router/hb46pp.test.ts).
  if (a.auto && a.host === "native") throw new UsageError("lab: --auto runs the Node host's HB46PP client; the router program takes --rules (on OpenWrt hb46pp.sh fetches them): drop --host native");
  return a;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (!a) return 0;
  if (a.list) {
    for (const t of selectTests(a, a.mode ?? "mape")) {
      console.log(`${t.name.padEnd(17)}${t.required ? "required" : "optional"}${t.expectedFailure ? ` (may fail: ${t.expectedFailure})` : ""}${t.quick ? ", quick" : ""}`);
    }
    return 0;
  }
  const missing = labMissing(a);
  if (missing) {
    console.error(`mape lab: cannot build the lab here: ${missing}`);
    if (!a.fallback) return 1;
    return replaySample();
  }
  if (!a.json) {
    const p = a.preset ?? PRESETS.janog;
    const ce = ceValues(p, p.ce1Prefix, a.legacyIid ?? p.legacyIid);
    console.log(`mape lab: ${a.mode && a.mode !== "mape" ? a.mode : "MAP-E"}, rule ${p.name} (${p.title}; CE1 ${ce.ipv4}, ${ce.ports.length} ports, ${ce.mapAddress})`);
  }
  // Test lines to stdout as they finish; progress notes to stderr.
  const report = await runLab({ ...a, log: a.json ? undefined : (l) => (l.startsWith("lab:") ? console.error(l) : console.log(l)) });
  if (a.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report).split("\n").slice(-1)[0]);
  return report.ok ? 0 : 1;
}

/** One line about an IP packet: addresses, protocol, ports or echo id, IPv4-in-IPv6 unwrapped. */
export function describePacket(p: Uint8Array): string {
  const v = p[0] >> 4;
  if (v === 6 && p.length >= 40) {
    const src = formatIPv6(p.subarray(8, 24));
    const dst = formatIPv6(p.subarray(24, 40));
    if (p[6] === 4) return `[${src} > ${dst}] ${describePacket(p.subarray(40))}`;
    return `${src} > ${dst} next header ${p[6]}`;
  }
  if (v === 4 && p.length >= 20) {
    const hl = (p[0] & 15) * 4;
    const src = formatIPv4(((p[12] << 24) | (p[13] << 16) | (p[14] << 8) | p[15]) >>> 0);
    const dst = formatIPv4(((p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19]) >>> 0);
    const l4 = p.subarray(hl);
    const port = (o: number): number => (l4[o] << 8) | l4[o + 1];
    if (p[9] === 17 || p[9] === 6) return `${src}:${port(0)} > ${dst}:${port(2)} ${p[9] === 17 ? "UDP" : "TCP"}`;
    if (p[9] === 1) return `${src} > ${dst} ICMP type ${l4[0]} id ${port(4)}`;
    return `${src} > ${dst} proto ${p[9]}`;
  }
  return `${p.length} bytes, not IP`;
}

/** The fallback: samples/janog.pcap through `mape pcap` with the built-in JANOG rule, narrated. */
async function replaySample(): Promise<number> {
  const sample = join(repoRoot(), "samples", "janog.pcap");
  if (!existsSync(sample)) {
    console.error(`mape lab: and the sample capture ${sample} is missing`);
    return 1;
  }
  console.log(`Replaying ${sample} through 'mape pcap' (built-in JANOG rule) instead:`);
  const dir = mkdtempSync(join(tmpdir(), "mape-sample-"));
  try {
    const out = join(dir, "out.pcap");
    console.log("counters:");
    const code = await pcap.run(["--in", sample, "--out", out]);
    if (code !== 0) return code;
    const ins = readPcapFile(sample);
    const outs = readPcapFile(out);
    console.log("packets (in -> out, matched by timestamp):");
    for (const r of ins) {
      const caused = outs.filter((o) => o.timestampMs === r.timestampMs);
      console.log(`  in   ${describePacket(r.data)}`);
      for (const o of caused) console.log(`  out  ${describePacket(o.data)}`);
      if (caused.length === 0) console.log("  out  (nothing: dropped or held, see counters)");
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
