// `npm run bench -- --xdp [--seconds S] [--rounds N] [--json]`: the I/O
// ceiling of AF_XDP against TUN on the LAN side of a CE (issue 11: measure
// AF_XDP in the native program before choosing). bench/xdpio.c does the
// I/O; this driver builds it, makes two network namespaces joined by a veth
// pair, and alternates the two receivers under the same sender:
//
//   ns A  xa0 10.77.0.1 ──veth── xb0 10.77.0.2  ns B
//         xdpio tx (raw frames,                  tun: the kernel routes
//         UDP to 10.79.0.9)                           10.79.0.0/24 into the
//                                                     persistent TUN mxt0,
//                                                     xdpio tun reads it
//                                                xdp: xdpio xdp takes xb0's
//                                                     frames at XDP (AF_XDP)
//
// Only receiving is measured: no module runs, so the figures are the
// ceilings the router program's LAN side would sit under. The rounds
// alternate (tun, xdp, tun, xdp, …) so both see the same machine; the
// ratio is taken within the run.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./native.js";

export interface XdpTrial { mode: "tun" | "xdp"; offered: number; received: number; seconds: number; xdpMode: string }
export interface XdpResult {
  trials: XdpTrial[];
  /** Median received packets per second per receiver. */
  tunPps: number;
  xdpPps: number;
  /** xdpPps / tunPps, this run. */
  ratio: number;
  unavailable?: string;
}

interface Line { mode: string; packets: number; bytes: number; seconds: number; xdpMode: string }

function sh(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

function must(cmd: string, ...args: string[]): string {
  const r = sh(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(" ")}: ${r.err.trim()}`);
  return r.out;
}

/** Builds build/bench/xdpio (gcc, libxdp + libbpf from Debian). */
export function buildXdpio(root = repoRoot()): string {
  const out = join(root, "build", "bench");
  mkdirSync(out, { recursive: true });
  const src = join(root, "bench", "xdpio.c");
  const bin = join(out, "xdpio");
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    const r = sh("gcc", ["-O2", "-Wall", "-o", bin, src, "-lxdp", "-lbpf"]);
    if (!r.ok) throw new Error(`gcc bench/xdpio.c (Debian packages libxdp-dev, libbpf-dev): ${r.err.trim().split("\n").slice(-3).join(" ")}`);
  }
  return bin;
}

/** What is missing to run the bench here, or undefined. */
export function xdpMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces, AF_XDP)";
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun";
  if (!sh("ip", ["-V"]).ok) return "no ip (iproute2)";
  if (!sh("gcc", ["--version"]).ok) return "no gcc";
  if (!existsSync("/usr/include/xdp/xsk.h")) return "no libxdp-dev (xdp/xsk.h)";
  return undefined;
}

/** Runs `ip netns exec ns bin args`; resolves with its JSON line. */
function runIn(ns: string, bin: string, args: string[], timeoutMs: number): Promise<Line> {
  return new Promise((resolve, reject) => {
    const p = spawn("ip", ["netns", "exec", ns, bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    p.stderr.on("data", (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`xdpio ${args[0]}: ${err.trim().split("\n").filter((l) => !/^lib(bpf|xdp):/.test(l)).pop() ?? `exit ${code}`}`));
        return;
      }
      resolve(JSON.parse(line) as Line);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The namespaces, veth pair and TUN; returns the receiving veth's MAC. */
function topology(a: string, b: string): string {
  must("ip", "netns", "add", a);
  must("ip", "netns", "add", b);
  must("ip", "link", "add", "xa0", "netns", a, "type", "veth", "peer", "name", "xb0", "netns", b);
  must("ip", "-n", a, "addr", "add", "10.77.0.1/24", "dev", "xa0");
  must("ip", "-n", b, "addr", "add", "10.77.0.2/24", "dev", "xb0");
  for (const [ns, dev] of [[a, "xa0"], [b, "xb0"], [a, "lo"], [b, "lo"]]) must("ip", "-n", ns, "link", "set", dev, "up");
  must("ip", "netns", "exec", b, "ip", "tuntap", "add", "dev", "mxt0", "mode", "tun");
  must("ip", "-n", b, "link", "set", "mxt0", "up");
  must("ip", "-n", b, "route", "add", "10.79.0.0/24", "dev", "mxt0");
  must("ip", "netns", "exec", b, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.xb0.rp_filter=0");
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(must("ip", "-n", b, "link", "show", "xb0"));
  if (!mac) throw new Error("no MAC on xb0");
  return mac[1];
}

export async function runXdpBench(opts: { seconds?: number; rounds?: number } = {}): Promise<XdpResult> {
  const missing = xdpMissing();
  if (missing) return { trials: [], tunPps: 0, xdpPps: 0, ratio: 0, unavailable: missing };
  const seconds = opts.seconds ?? 3;
  const rounds = opts.rounds ?? 2;
  if (!(seconds > 0 && seconds <= 30) || !(rounds >= 1 && rounds <= 10)) throw new Error("--seconds 0..30, --rounds 1..10");
  const bin = buildXdpio();
  const a = `mxa-${process.pid}`;
  const b = `mxb-${process.pid}`;
  const trials: XdpTrial[] = [];
  try {
    const mac = topology(a, b);
    for (let r = 0; r < rounds; r++) {
      for (const mode of ["tun", "xdp"] as const) {
        // The receiver runs past both ends of the sender's window; AF_XDP
        // needs its program attached first.
        const rx = runIn(b, bin, [mode, mode === "tun" ? "mxt0" : "xb0", String(seconds + 2)], (seconds + 10) * 1000);
        await sleep(1000);
        const tx = await runIn(a, bin, ["tx", "xa0", mac, "10.77.0.1", "10.79.0.9", String(seconds)], (seconds + 10) * 1000);
        const got = await rx;
        trials.push({ mode, offered: tx.packets / tx.seconds, received: got.packets / tx.seconds, seconds: tx.seconds, xdpMode: got.xdpMode });
      }
    }
  } finally {
    sh("ip", ["netns", "del", a]);
    sh("ip", ["netns", "del", b]);
  }
  const tunPps = median(trials.filter((t) => t.mode === "tun").map((t) => t.received));
  const xdpPps = median(trials.filter((t) => t.mode === "xdp").map((t) => t.received));
  return { trials, tunPps, xdpPps, ratio: tunPps > 0 ? xdpPps / tunPps : 0 };
}

export function formatXdp(r: XdpResult): string[] {
  if (r.unavailable) return [`AF_XDP against TUN: not run (${r.unavailable})`];
  const m = (x: number): string => `${(x / 1e6).toFixed(3)} Mpps`;
  const lines = ["AF_XDP against TUN, receive side of the CE's LAN, 64-byte UDP frames (no module: the I/O ceiling)"];
  for (const t of r.trials) {
    lines.push(`  ${t.mode.padEnd(4)} offered ${m(t.offered)}  received ${m(t.received)}  (${(100 * t.received / Math.max(t.offered, 1)).toFixed(0)} %)${t.mode === "xdp" ? `  ${t.xdpMode} mode, copy` : "  one read() a packet"}`);
  }
  lines.push(`  median received: TUN ${m(r.tunPps)}, AF_XDP ${m(r.xdpPps)}: AF_XDP / TUN ${r.ratio.toFixed(2)} × (this run)`);
  return lines;
}

export async function xdpMain(argv: string[]): Promise<void> {
  const at = (f: string): number | undefined => (argv.includes(f) ? Number(argv[argv.indexOf(f) + 1]) : undefined);
  try {
    const r = await runXdpBench({ seconds: at("--seconds"), rounds: at("--rounds") });
    if (argv.includes("--json")) console.log(JSON.stringify(r));
    else for (const l of formatXdp(r)) console.log(l);
    process.exitCode = r.unavailable && process.env.CI === "true" ? 1 : 0;
  } catch (e) {
    console.error(`bench --xdp: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
