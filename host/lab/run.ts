// `mape lab` end to end: build the namespaces, start the servers and the data
// paths, run the tests one at a time, check the ISP-link capture with
// tshark, tear everything down (also on error and on signals: the Lab's
// handlers), and report one line per test.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { labUnavailable } from "../netns.js";
import { buildTopology, removeTemps, tempDir, type Mode, type Topology } from "./topology.js";
import { Services, routerExe } from "./services.js";
import { TESTS, type Ctx, type LabTest, type Outcome } from "./tests.js";
import { PRESETS, type Preset } from "./presets.js";

/** Debian programs the lab runs (package in the comment of each). */
export const PROGRAMS = [
  "ping", // iputils-ping
  "traceroute", // traceroute
  "curl", // curl
  "dig", // bind9-dnsutils
  "dnsmasq", // dnsmasq-base
  "vsftpd", // vsftpd
  "busybox", // busybox (httpd)
  "iperf3", // iperf3
  "turnserver", // coturn (also turnutils_natdiscovery)
  "turnutils_natdiscovery",
  "stun", // stun-client
  "stund", // stun-server
  "tcpdump", // tcpdump
  "tshark", // tshark
  "nft", // nftables
  "ethtool", // ethtool
  "ss", // iproute2
];

export interface LabOptions {
  mode?: Mode;
  preset?: Preset;
  legacyIid?: boolean;
  /** The LAN hosts keep their TX offloads on (TSO super-packets into the CEs). */
  offload?: boolean;
  /** Only these tests (names), or the quick subset. */
  only?: string[];
  quick?: boolean;
  /** iperf3 seconds per run. */
  seconds?: number;
  /** The CEs take their rules from an HB46PP server in the lab (`mape lab --auto`). */
  auto?: boolean;
  /** Progress lines (to stderr). */
  log?: (line: string) => void;
  /** "native": the router program runs both CEs and both BRs (default "node"). */
  host?: "node" | "native";
  /** CE1 as the router program of this target under qemu-user (e.g. "mipsel"). */
  ceQemu?: string;
}

export type Status = "PASS" | "FAIL" | "XFAIL" | "XPASS" | "SKIP";

export interface ReportLine {
  name: string;
  status: Status;
  required: boolean;
  detail: string;
  value?: number;
  ms: number;
}

export interface LabReport {
  preset: string;
  mode: Mode;
  ce1: { ipv4: string; ports: number; mapAddress: string };
  lines: ReportLine[];
  /** True when every required test passed. */
  ok: boolean;
  /** Set when the lab could not run at all (then lines is empty). */
  unavailable?: string;
}

/** Where `name` is on PATH, found without running it. */
function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/**
 * Why the lab cannot run here, or undefined. Programs are looked up on PATH,
 * never run: some servers (turnserver) would start listening in the
 * caller's namespace when given an unknown flag.
 */
export function labMissing(opts: Pick<LabOptions, "host" | "ceQemu"> = {}): string | undefined {
  const base = labUnavailable({ tun: true });
  if (base) return base;
  const absent = PROGRAMS.filter((p) => !onPath(p));
  if (opts.ceQemu && !onPath(`qemu-${opts.ceQemu}-static`)) absent.push(`qemu-${opts.ceQemu}-static`);
  if (absent.length) return `missing programs: ${absent.join(", ")} (Debian: ${debianPackages(absent).join(" ")})`;
  for (const target of [...(opts.host === "native" ? ["x86_64"] : []), ...(opts.ceQemu ? [opts.ceQemu] : [])]) {
    if (!existsSync(routerExe(target))) return `the router program ${routerExe(target)} is not built (npm run build)`;
  }
  return undefined;
}

const PACKAGE_OF: Record<string, string> = {
  ping: "iputils-ping", traceroute: "traceroute", curl: "curl", dig: "bind9-dnsutils", dnsmasq: "dnsmasq-base",
  vsftpd: "vsftpd", busybox: "busybox", iperf3: "iperf3", turnserver: "coturn", turnutils_natdiscovery: "coturn",
  stun: "stun-client", stund: "stun-server", tcpdump: "tcpdump", tshark: "tshark", nft: "nftables", ethtool: "ethtool", ss: "iproute2",
  "qemu-mipsel-static": "qemu-user-static", "qemu-mips-static": "qemu-user-static", "qemu-aarch64-static": "qemu-user-static",
};

function debianPackages(programs: string[]): string[] {
  return [...new Set(programs.map((p) => PACKAGE_OF[p] ?? p))];
}

export function selectTests(opts: LabOptions, mode: Mode): LabTest[] {
  return TESTS.filter((t) => (opts.only ? opts.only.includes(t.name) : opts.quick ? t.quick || (t.auto && opts.auto) : true))
    .filter((t) => !t.modes || t.modes.includes(mode))
    .filter((t) => !t.auto || (opts.auto && mode === "mape"));
}

function statusOf(test: LabTest, o: Outcome): Status {
  if (test.expectedFailure) return o.ok ? "XPASS" : "XFAIL";
  return o.ok ? "PASS" : "FAIL";
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function onSignal(sig: NodeJS.Signals): void {
  removeTemps();
  for (const s of SIGNALS) process.off(s, onSignal);
  // The Lab re-raised the signal while this listener still caught it: raise
  // it again now that nobody does (the default action ends the process).
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

export async function runLab(opts: LabOptions = {}): Promise<LabReport> {
  const mode = opts.mode ?? "mape";
  const preset = opts.preset ?? PRESETS.janog;
  const log = opts.log ?? (() => undefined);
  const missing = labMissing(opts);
  const empty = { preset: preset.name, mode, ce1: { ipv4: "", ports: 0, mapAddress: "" }, lines: [], ok: false };
  if (missing) return { ...empty, unavailable: missing };

  let t: Topology | undefined;
  const lines: ReportLine[] = [];
  try {
    log(`lab: building namespaces (${mode}, ${preset.name})`);
    t = buildTopology({ mode, preset, legacyIid: opts.legacyIid, offload: opts.offload });
    // The Lab's own handlers (registered first) tear the namespaces down and
    // re-raise the signal; this one then removes the temporary files and
    // steps aside, so the re-raised signal ends the process.
    for (const sig of SIGNALS) process.on(sig, onSignal);
    const svc = new Services(t, { host: opts.host, ceQemu: opts.ceQemu });
    await svc.startServers();
    if (mode === "mape" && opts.auto) {
      log("lab: starting the HB46PP provisioning server (dnsmasq TXT, HTTPS, 256 rules)");
      await svc.startProvisioning();
    }
    if (mode === "mape") {
      log(`lab: starting mape ce x2${opts.auto ? " (--auto: no rule given)" : ""}, mape br x2 (${opts.host === "native" ? "the router program" : "Node"}${opts.ceQemu ? `; CE1 the ${opts.ceQemu} build under qemu-user` : ""})`);
      await svc.startDataPaths();
    }
    const ctx: Ctx = { t, svc, seconds: opts.seconds ?? 3 };
    const tests = selectTests(opts, mode);
    // Capture on the ISP side of CE1 while the functional tests run (not the
    // bulk transfers: the check is about correctness, and bounded).
    const pcap = join(tempDir(), "isp-ce1.pcap");
    const cap = svc.start("tcpdump", t.ns.isp, "tcpdump", ["-i", t.ispCeLink, "-w", pcap, "-U", "-c", "20000", "-s", "0"]);
    await new Promise((r) => setTimeout(r, 500));
    let capturing = true;
    for (const test of tests) {
      if (capturing && (test.name.startsWith("iperf3") || test.name === "br-failover")) {
        cap.child.kill("SIGINT");
        capturing = false;
        await new Promise((r) => setTimeout(r, 300));
      }
      const t0 = Date.now();
      let o: Outcome;
      try {
        o = await test.run(ctx);
      } catch (e) {
        o = { ok: false, detail: e instanceof Error ? e.message.split("\n")[0] : String(e) };
      }
      const line: ReportLine = { name: test.name, status: statusOf(test, o), required: test.required, detail: o.detail + (test.expectedFailure && !o.ok ? ` (expected: ${test.expectedFailure})` : ""), value: o.value, ms: Date.now() - t0 };
      lines.push(line);
      log(formatLine(line));
    }
    if (capturing) {
      cap.child.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 300));
    }
    if (mode === "mape" && !opts.only) {
      const line = checkCapture(pcap);
      lines.push(line);
      log(formatLine(line));
    }
    const dead = svc.procs.filter((p) => p.name.startsWith("mape") && p.child.exitCode !== null);
    for (const p of dead) lines.push({ name: "datapath", status: "FAIL", required: true, detail: svc.describe(p), ms: 0 });
  } catch (e) {
    lines.push({ name: "setup", status: "FAIL", required: true, detail: e instanceof Error ? e.message.split("\n")[0] : String(e), ms: 0 });
  } finally {
    t?.lab.teardown();
    removeTemps();
    for (const sig of SIGNALS) process.off(sig, onSignal);
  }
  return {
    preset: preset.name,
    mode,
    ce1: t ? { ipv4: t.ce1.ipv4, ports: t.ce1.ports.length, mapAddress: t.ce1.mapAddress } : empty.ce1,
    lines,
    ok: lines.length > 0 && lines.every((l) => !l.required || l.status === "PASS" || l.status === "XFAIL" || l.status === "XPASS"),
  };
}

/**
 * tshark over the ISP-link capture: every checksum it can verify is good
 * (IPv4 header, and TCP/UDP/ICMP of the inner packets), and the IPv4-in-IPv6
 * packets dissect as such.
 */
export function checkCapture(pcap: string): ReportLine {
  const t0 = Date.now();
  const r = spawnSync("tshark", [
    "-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
    "-T", "fields", "-E", "separator=,", "-e", "ipv6.nxt", "-e", "ip.proto", "-e", "ip.checksum.status", "-e", "tcp.checksum.status",
    "-e", "udp.checksum.status", "-e", "icmp.checksum.status", "-e", "_ws.expert.severity",
  ], { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) return { name: "capture", status: "FAIL", required: true, detail: `tshark: ${(r.stderr || String(r.error)).trim().split("\n")[0]}`, ms: Date.now() - t0 };
  let frames = 0;
  let ipip = 0;
  let bad = 0;
  let good = 0;
  for (const l of r.stdout.split("\n")) {
    if (!l) continue;
    frames++;
    const [nxt, proto, ...sts] = l.split(",");
    if (nxt.split(";")[0] === "4" && proto !== "") ipip++;
    for (const s of sts.slice(0, 4)) {
      for (const v of s.split(";")) {
        if (v === "0") bad++;
        else if (v === "1") good++;
      }
    }
  }
  const ok = ipip > 0 && bad === 0;
  return { name: "capture", status: ok ? "PASS" : "FAIL", required: true, detail: `${frames} frames on isp<->ce, ${ipip} IPv4-in-IPv6, ${good} checksums good, ${bad} bad`, value: bad, ms: Date.now() - t0 };
}

export function formatLine(l: ReportLine): string {
  const tag = l.status + (l.required || l.status === "PASS" || l.status === "SKIP" ? "" : "");
  return `${tag.padEnd(6)}${l.name.padEnd(17)}${l.detail}${!l.required && l.status === "FAIL" ? "  (not required)" : ""}`;
}

export function formatReport(r: LabReport): string {
  const out: string[] = [];
  out.push(`mape lab: ${r.mode === "mape" ? "MAP-E" : r.mode}, rule ${r.preset}${r.ce1.ipv4 ? ` (CE1 ${r.ce1.ipv4}, ${r.ce1.ports} ports, ${r.ce1.mapAddress})` : ""}`);
  for (const l of r.lines) out.push(formatLine(l));
  const failed = r.lines.filter((l) => l.required && l.status === "FAIL").length;
  const passed = r.lines.filter((l) => l.status === "PASS").length;
  out.push(`${r.ok ? "ok" : "FAILED"}: ${passed} passed, ${failed} required failed, ${r.lines.filter((l) => l.status === "XFAIL").length} expected failures`);
  return out.join("\n");
}
