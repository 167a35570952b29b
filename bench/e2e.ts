// End-to-end benchmark (`npm run bench -- --e2e`): in ONE lab (the same
// namespaces and veths, switched between modes with setMode), iperf3 from
// the LAN host to the internet server through
//   kernel  plain kernel IPv4 routing,
//   nat44   kernel NAT44 (nftables snat into the CE's address and a port
//           range as large as its port set),
//   mape    our CE + BR (`mape ce` / `mape br` on TUNs, IPv4-in-IPv6),
// measuring TCP throughput with one stream and with four, and the packet
// rate of 64-byte UDP payloads (iperf3 -u -l 64 -b 0: as fast as the
// client can send; the rate is what the server received). Prints a table
// and the ratios mape/kernel and mape/nat44; --json prints them as JSON.
//
// Every mode runs twice: with the LAN host's offloads on (TX checksum, TSO,
// GSO: what every user has, and what the kernel paths profit from most)
// and with them off (1500-byte segments on the LAN link, as the lab's
// captures need). The ratios are taken within one offload setting.
// --host native runs the router program (build/router/x86_64/mape) as the
// CE and the BRs instead of the Node host.
//
// Needs root and the lab's tools (host/lab/run.ts PROGRAMS); otherwise it
// says why and returns without numbers.

import { fileURLToPath } from "node:url";
import { buildTopology, removeTemps, setMode, INET1, type Mode, type Topology } from "../host/lab/topology.js";
import { join } from "node:path";
import { Services, repoRoot } from "../host/lab/services.js";
import { labMissing } from "../host/lab/run.js";
import { PRESETS } from "../host/lab/presets.js";

export interface E2eOptions {
  /** iperf3 seconds per measurement (default 4). */
  seconds?: number;
  /** Rule preset (default janog). */
  preset?: string;
  json?: boolean;
  /** Which `mape` runs the CE and the BRs (default node). */
  host?: "node" | "native";
  /**
   * Also measure the mape rows with the TUN I/O steps turned off, in the
   * same namespaces (the data paths restarted with MAPE_TUN_URING_READ=0,
   * then MAPE_TUN_URING=0, then also MAPE_TUN_TSO=0): what each step buys,
   * in one run.
   */
  steps?: boolean;
  /** Where the table goes (default console.log). */
  print?: (line: string) => void;
}

export interface E2eRow {
  mode: Mode;
  /** mape rows of --steps: which TUN I/O steps were off (e.g. "no io_uring"). */
  variant?: string;
  /** The LAN host's TX offloads (checksum, TSO, GSO) on or off. */
  offload: boolean;
  tcp1Mbps: number;
  tcp4Mbps: number;
  udp64Pps: number;
  /**
   * mape rows: how the CE's and the BR's TUN I/O went during the row (deltas
   * of their host counters): read batches, TSO super-packets cut (and their
   * bytes), super-packets dropped.
   */
  io?: Record<"ce" | "br", { readBatches: number; readCalls: number; tsoPackets: number; tsoBytes: number; tsoDropped: number }>;
  errors: string[];
}

export interface E2eResult {
  preset: string;
  seconds: number;
  host: "node" | "native";
  rows: E2eRow[];
  /**
   * Keyed by "offload-on" / "offload-off" (with --steps also
   * "<variant>, offload-on" …), then by figure.
   */
  ratios: { mapeVsKernel: Record<string, Record<string, number>>; mapeVsNat44: Record<string, Record<string, number>> };
  unavailable?: string;
}

const MODES: Mode[] = ["kernel", "nat44", "mape"];

async function iperf(t: Topology, args: string[], seconds: number): Promise<Record<string, any>> {
  const r = await t.lab.exec(t.ns.lan, "iperf3", ["-c", INET1, "-J", "-t", String(seconds), "--connect-timeout", "3000", ...args], (seconds + 20) * 1000);
  try {
    const j = JSON.parse(r.stdout);
    if (j.error) throw new Error(j.error);
    return j;
  } catch (e) {
    throw new Error(`iperf3 ${args.join(" ")}: ${e instanceof Error ? e.message : String(e)} ${r.stderr.trim().slice(0, 200)}`);
  }
}

/** The LAN host's TX offloads: checksum, TSO and GSO together. */
function setOffload(t: Topology, on: boolean): void {
  const v = on ? "on" : "off";
  t.lab.execSync(t.ns.lan, "ethtool", ["-K", "eth0", "tx", v, "tso", v, "gso", v]);
}

type IoCounters = { readBatches: number; readCalls: number; tsoPackets: number; tsoBytes: number; tsoDropped: number };

/** The TUN host counters of the `mape` serving mape0 in ns (zeros when it does not answer). */
async function ioCounters(t: Topology, ns: string): Promise<IoCounters> {
  const z = { readBatches: 0, readCalls: 0, tsoPackets: 0, tsoBytes: 0, tsoDropped: 0 };
  try {
    const r = await t.lab.exec(ns, process.execPath, [join(repoRoot(), "bin", "mape.js"), "stats", "--tun", "mape0", "--json", "--all"], 10_000);
    const c = JSON.parse(r.stdout).counters as Record<string, { packets: number; bytes: number }>;
    return {
      readBatches: c["tun-read-batches"]?.packets ?? 0,
      readCalls: c["tun-read-calls"]?.packets ?? 0,
      tsoPackets: c["tun-tso-packets"]?.packets ?? 0,
      tsoBytes: c["tun-tso-packets"]?.bytes ?? 0,
      tsoDropped: c["tun-tso-dropped"]?.packets ?? 0,
    };
  } catch {
    return z;
  }
}

const ioDelta = (a: IoCounters, b: IoCounters): IoCounters => ({
  readBatches: b.readBatches - a.readBatches,
  readCalls: b.readCalls - a.readCalls,
  tsoPackets: b.tsoPackets - a.tsoPackets,
  tsoBytes: b.tsoBytes - a.tsoBytes,
  tsoDropped: b.tsoDropped - a.tsoDropped,
});

async function measure(t: Topology, mode: Mode, offload: boolean, seconds: number, basePort: number): Promise<E2eRow> {
  setMode(t, mode);
  setOffload(t, offload);
  const row: E2eRow = { mode, offload, tcp1Mbps: 0, tcp4Mbps: 0, udp64Pps: 0, errors: [] };
  const before = mode === "mape" ? { ce: await ioCounters(t, t.ns.ce), br: await ioCounters(t, t.ns.br1) } : undefined;
  // Fixed client ports, distinct server ports: a 15-port CE reuses one
  // mapping per client port instead of leaving a port in TCP time-wait.
  try {
    const j = await iperf(t, ["-p", String(basePort), "--cport", "41001"], seconds);
    row.tcp1Mbps = j.end.sum_received.bits_per_second / 1e6;
  } catch (e) {
    row.errors.push((e as Error).message);
  }
  try {
    const j = await iperf(t, ["-p", String(basePort + 1), "--cport", "41001", "-P", "4"], seconds);
    row.tcp4Mbps = j.end.sum_received.bits_per_second / 1e6;
  } catch (e) {
    row.errors.push((e as Error).message);
  }
  try {
    const j = await iperf(t, ["-p", String(basePort + 2), "--cport", "41010", "-u", "-l", "64", "-b", "0"], seconds);
    const s = j.end.sum;
    row.udp64Pps = (s.packets - s.lost_packets) / s.seconds;
  } catch (e) {
    row.errors.push((e as Error).message);
  }
  if (before) row.io = { ce: ioDelta(before.ce, await ioCounters(t, t.ns.ce)), br: ioDelta(before.br, await ioCounters(t, t.ns.br1)) };
  return row;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

/** The TUN I/O steps --steps turns off, one more each time (env of the data paths). */
const STEPS: { name: string; env: Record<string, string> }[] = [
  { name: "no io_uring reads", env: { MAPE_TUN_URING_READ: "0" } },
  { name: "no io_uring", env: { MAPE_TUN_URING: "0" } },
  { name: "no io_uring, no TSO", env: { MAPE_TUN_URING: "0", MAPE_TUN_TSO: "0" } },
];

const STEP_ENV = ["MAPE_TUN_URING", "MAPE_TUN_URING_READ", "MAPE_TUN_TSO"];

/** Stops the CEs and BRs, and starts them again with `env` (the other step variables unset). */
async function restartDataPaths(svc: Services, env: Record<string, string>): Promise<void> {
  const mine = svc.procs.filter((p) => p.name.startsWith("mape ") && p.child.exitCode === null && p.child.signalCode === null);
  await Promise.all(
    mine.map(
      (p) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            p.child.kill("SIGKILL");
          }, 5000);
          p.child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          p.child.kill("SIGTERM");
        }),
    ),
  );
  for (const k of STEP_ENV) delete process.env[k];
  Object.assign(process.env, env);
  try {
    await svc.startDataPaths();
  } finally {
    for (const k of STEP_ENV) delete process.env[k];
  }
}

export async function runE2eBench(opts: E2eOptions = {}): Promise<E2eResult> {
  const seconds = opts.seconds ?? 4;
  const presetName = opts.preset ?? "janog";
  const print = opts.print ?? ((l: string) => console.log(l));
  const host = opts.host ?? "node";
  const result: E2eResult = { preset: presetName, seconds, host, rows: [], ratios: { mapeVsKernel: {}, mapeVsNat44: {} } };
  const missing = labMissing();
  if (missing) {
    result.unavailable = missing;
    if (opts.json) print(JSON.stringify(result, null, 2));
    else print(`bench --e2e: skipped: ${missing}`);
    return result;
  }
  const preset = PRESETS[presetName];
  if (!preset) throw new Error(`bench --e2e: no preset '${presetName}' (${Object.keys(PRESETS).join(", ")})`);
  const t = buildTopology({ mode: "mape", preset, dual: true, prefix: `mapetest-${process.pid}-bench` });
  try {
    const svc = new Services(t, { host });
    await svc.startServers();
    await svc.startDataPaths();
    // iperf3 servers listen on 5201..5208: three per mode would need nine,
    // so modes share them in turn (one test at a time per server).
    let port = 5201;
    for (const offload of [true, false]) {
      for (const mode of MODES) {
        result.rows.push(await measure(t, mode, offload, seconds, port));
        port = port + 3 > 5206 ? 5201 : port + 3;
      }
    }
    if (opts.steps) {
      for (const v of STEPS) {
        await restartDataPaths(svc, v.env);
        for (const offload of [true, false]) {
          const row = await measure(t, "mape", offload, seconds, port);
          row.variant = v.name;
          result.rows.push(row);
          port = port + 3 > 5206 ? 5201 : port + 3;
        }
      }
      await restartDataPaths(svc, {});
    }
  } finally {
    t.lab.teardown();
    removeTemps();
  }
  for (const variant of [undefined, ...(opts.steps ? STEPS.map((s) => s.name) : [])]) {
    for (const offload of [true, false]) {
      const key = `${variant ? `${variant}, ` : ""}${offload ? "offload-on" : "offload-off"}`;
      const by = (m: Mode, v?: string): E2eRow => result.rows.find((r) => r.mode === m && r.offload === offload && r.variant === v)!;
      result.ratios.mapeVsKernel[key] = {};
      result.ratios.mapeVsNat44[key] = {};
      for (const k of ["tcp1Mbps", "tcp4Mbps", "udp64Pps"] as const) {
        result.ratios.mapeVsKernel[key][k] = ratio(by("mape", variant)[k], by("kernel")[k]);
        result.ratios.mapeVsNat44[key][k] = ratio(by("mape", variant)[k], by("nat44")[k]);
      }
    }
  }
  if (opts.json) print(JSON.stringify(result, null, 2));
  else for (const l of formatE2e(result)) print(l);
  return result;
}

export function formatE2e(r: E2eResult): string[] {
  const off = (o: boolean): string => (o ? "offload on" : "offload off");
  const label = (row: E2eRow): string => `${row.mode}${row.variant ? ` (${row.variant})` : ""}, ${off(row.offload)}`;
  const keys = Object.keys(r.ratios.mapeVsNat44);
  const w = Math.max(22, ...r.rows.map((x) => label(x).length + 2), ...keys.map((k) => k.length + 14));
  const out = [
    `end-to-end (lab, rule ${r.preset}, ${r.seconds} s each, ${r.host} host; LAN host -> internet server through the CE and the BR)`,
    `${"path".padEnd(w)}${"TCP x1 Mbit/s".padStart(15)}${"TCP x4 Mbit/s".padStart(15)}${"UDP 64 B pkt/s".padStart(16)}`,
  ];
  for (const row of r.rows) {
    out.push(`${label(row).padEnd(w)}${row.tcp1Mbps.toFixed(0).padStart(15)}${row.tcp4Mbps.toFixed(0).padStart(15)}${Math.round(row.udp64Pps).toString().padStart(16)}`);
  }
  const f = (x: number | undefined): string => (x === undefined ? "-" : x.toFixed(3));
  for (const key of keys) {
    for (const [name, all] of [["mape/kernel", r.ratios.mapeVsKernel], ["mape/nat44", r.ratios.mapeVsNat44]] as const) {
      const rr = all[key] ?? {};
      out.push(`${`${name}, ${key.replace("offload-", "offload ")}`.padEnd(w)}${f(rr.tcp1Mbps).padStart(15)}${f(rr.tcp4Mbps).padStart(15)}${f(rr.udp64Pps).padStart(16)}`);
    }
  }
  for (const row of r.rows) {
    if (!row.io) continue;
    const io = (x: IoCounters, who: string): string =>
      `${who} ${x.readBatches} read batches, ${x.readCalls} read calls, ${x.tsoPackets} TSO super-packets cut (${(x.tsoBytes / 1e6).toFixed(1)} MB)${x.tsoDropped ? `, ${x.tsoDropped} dropped` : ""}`;
    out.push(`  ${label(row)}: ${io(row.io.ce, "CE")}; ${io(row.io.br, "BR")}`);
  }
  for (const row of r.rows) for (const e of row.errors) out.push(`  ${label(row)}: ${e}`);
  return out;
}

/**
 * The options of `npm run bench -- --e2e …` / `node build/ts/bench/e2e.js …`:
 * [--json] [--steps] [--seconds n] [--preset name] [--host node|native]. Throws on a
 * bad --host.
 */
export function e2eOptions(argv: string[]): E2eOptions {
  const at = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const host = at("--host");
  if (host !== undefined && host !== "node" && host !== "native") throw new Error(`--host is node or native, not '${host}'`);
  return { json: argv.includes("--json"), ...(argv.includes("--steps") ? { steps: true } : {}), seconds: at("--seconds") ? Number(at("--seconds")) : undefined, preset: at("--preset"), host };
}

/** Runs the bench from a command line; the exit status says whether every figure was measured. */
export async function e2eMain(argv: string[]): Promise<void> {
  try {
    const r = await runE2eBench(e2eOptions(argv));
    process.exitCode = r.unavailable ? 0 : r.rows.some((x) => x.errors.length) ? 1 : 0;
  } catch (e) {
    console.error(`bench --e2e: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await e2eMain(process.argv.slice(2));
