// The lab's tests: real clients in the LAN namespaces against real servers
// in inet, one at a time (a JANOG CE has 15 ports per protocol, and a TCP
// port stays taken for the RFC 5382 transitory timeout after its connection
// closes, so clients bind fixed local ports where they can and reuse them
// against distinct remote endpoints).

import { INET1, INET2, LAN1, switchBr, type Topology } from "./topology.js";
import { MESH_PEER, sleep, waitFor, repoRoot, type Services } from "./services.js";
import { altBr, publishBr } from "./provisioning.js";
import { writeTemp } from "./topology.js";
import { join } from "node:path";
import { FTP_TESTS } from "./ftp.js";
import { INBOUND_TESTS } from "./inbound.js";
import { RESTART_TESTS } from "./restart.js";
import { DNS_TESTS } from "./dns.js";
import { FAIR_TESTS } from "./fair.js";

export interface Outcome {
  ok: boolean;
  /** The key figure ("3/3 rtt 0.4 ms"), or why it failed. */
  detail: string;
  /** A number for --json and the benchmark (Mbit/s, ms, …). */
  value?: number;
}

export interface LabTest {
  name: string;
  /** A failing required test fails the run. */
  required: boolean;
  /** Why it may fail today (reported as XFAIL, not as a failure). */
  expectedFailure?: string;
  /** Only in some modes (default: all). */
  modes?: Topology["mode"][];
  /** Part of the quick subset (`--quick`, npm test). */
  quick?: boolean;
  /** Only with `mape lab --auto` (the CEs provisioned by HB46PP). */
  auto?: boolean;
  run(ctx: Ctx): Promise<Outcome>;
}

export interface Ctx {
  t: Topology;
  svc: Services;
  /** iperf3 seconds per run. */
  seconds: number;
}

async function sh(ctx: Ctx, ns: string, cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const r = await ctx.t.lab.exec(ns, cmd, args, timeoutMs);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const firstLine = (s: string): string => s.trim().split("\n").filter(Boolean).slice(-1)[0]?.slice(0, 100) ?? "";

function iperfFigure(json: string, udp: boolean): { mbps: number; detail: string; lost?: number; error?: string } {
  const j = JSON.parse(json) as {
    error?: string;
    end?: { sum_received?: { bits_per_second: number }; sum_sent?: { bits_per_second: number }; sum?: { bits_per_second: number; lost_percent: number; packets: number; lost_packets: number } };
  };
  if (j.error) return { mbps: 0, detail: j.error, error: j.error };
  if (udp) {
    const s = j.end?.sum;
    const mbps = (s?.bits_per_second ?? 0) / 1e6;
    return { mbps, lost: s?.lost_percent ?? 100, detail: `${mbps.toFixed(1)} Mbit/s offered, ${(s?.lost_percent ?? 100).toFixed(1)}% lost (${s?.lost_packets}/${s?.packets})` };
  }
  const mbps = (j.end?.sum_received?.bits_per_second ?? 0) / 1e6;
  return { mbps, detail: `${mbps.toFixed(0)} Mbit/s` };
}

function iperfTest(name: string, port: number, extra: string[], udp: boolean, quick = false): LabTest {
  return {
    name,
    required: true,
    quick,
    async run(ctx) {
      const args = ["-c", INET1, "-p", String(port), "-t", String(ctx.seconds), "-J", "--connect-timeout", "3000", ...extra];
      const r = await sh(ctx, ctx.t.ns.lan, "iperf3", args, (ctx.seconds + 15) * 1000);
      let f;
      try {
        f = iperfFigure(r.out, udp);
      } catch {
        return { ok: false, detail: `iperf3 exit ${r.code}: ${firstLine(r.err || r.out)}` };
      }
      if (f.error) return { ok: false, detail: f.error };
      const ok = udp ? f.mbps > 0 && (f.lost ?? 100) < 20 : f.mbps > 0;
      return { ok, detail: f.detail, value: f.mbps };
    },
  };
}

export const TESTS: LabTest[] = [
  {
    name: "auto-rules",
    required: true,
    auto: true,
    quick: true,
    async run(ctx) {
      // The CE came up with no rule given: its configuration is the provisioning server's answer.
      const r = await sh(ctx, ctx.t.ns.ce, process.execPath, [join(repoRoot(), "bin", "mape.js"), "stats", "--tun", "mape0", "--json"], 10_000);
      if (r.code !== 0) return { ok: false, detail: `mape stats: ${firstLine(r.err)}` };
      const j = JSON.parse(r.out) as { configuration?: Record<string, unknown>; provisioning?: Record<string, unknown> };
      const c = j.configuration ?? {};
      const p = j.provisioning ?? {};
      const url = ctx.svc.provisioning?.url ?? "";
      const ok = c.from === url && c.format === "hb46pp" && c.rules === 256 && c.matchedRule === "map_e.rules[255]" && p.state === "waiting";
      return { ok, detail: `rules from ${String(c.from)}, ${String(c.format)} ${String(c.rules)} rules, BMR ${String(c.matchedRule)}, ${String(c.interfaceId)} interface id, ${String(p.state)}, next fetch in ${String(p.nextInS)} s` };
    },
  },
  {
    name: "ping",
    required: true,
    quick: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "ping", ["-n", "-c", "3", "-i", "0.2", "-W", "2", INET1], 10_000);
      const rx = /(\d+) packets transmitted, (\d+) received/.exec(r.out);
      const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.out);
      const ok = r.code === 0 && rx !== null && rx[2] === rx[1];
      return { ok, detail: rx ? `${rx[2]}/${rx[1]}${rtt ? ` rtt ${Number(rtt[1]).toFixed(2)} ms` : ""}` : firstLine(r.out + r.err), value: rtt ? Number(rtt[1]) : undefined };
    },
  },
  {
    name: "traceroute",
    required: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "traceroute", ["-n", "-I", "-q", "1", "-w", "1", "-m", "8", INET1], 20_000);
      const hops = r.out.split("\n").filter((l) => /^\s*\d+\s/.test(l));
      const last = hops[hops.length - 1] ?? "";
      const ok = last.includes(INET1);
      const path = hops.map((h) => h.trim().split(/\s+/)[1]).join(" ");
      return { ok, detail: `${hops.length} hops: ${path}`, value: hops.length };
    },
  },
  {
    name: "dns-udp",
    required: true,
    quick: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "dig", ["+time=2", "+tries=2", "+short", `@${INET1}`, "www.lab.example", "A"], 10_000);
      const ok = r.out.trim() === INET2;
      return { ok, detail: ok ? `www.lab.example A ${INET2}` : firstLine(r.out + r.err) || `exit ${r.code}` };
    },
  },
  {
    name: "dns-tcp",
    required: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "dig", ["+tcp", "+time=3", "+tries=1", "+short", `@${INET1}`, "www.lab.example", "A"], 10_000);
      const ok = r.out.trim() === INET2;
      return { ok, detail: ok ? `www.lab.example A ${INET2} over TCP` : firstLine(r.out + r.err) || `exit ${r.code}` };
    },
  },
  {
    name: "http",
    required: true,
    quick: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "curl", [
        "-sS", "--max-time", "15", "--connect-timeout", "4", "--local-port", "40000", "-o", "/dev/null",
        "-w", "%{http_code} %{size_download} %{speed_download}", `http://${INET1}/1m.bin`,
      ], 20_000);
      const [code, size, speed] = r.out.trim().split(" ");
      const ok = code === "200" && Number(size) === 1 << 20;
      return { ok, detail: ok ? `GET 1 MiB 200, ${((Number(speed) * 8) / 1e6).toFixed(0)} Mbit/s` : `${r.out.trim()} ${firstLine(r.err)}`.trim() };
    },
  },
  {
    name: "ftp-passive",
    required: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "curl", [
        "-sS", "--max-time", "15", "--connect-timeout", "4", "--ftp-pasv", "--disable-epsv", "-o", "/dev/null",
        "-w", "%{response_code} %{size_download}", `ftp://${INET1}/1m.bin`,
      ], 20_000);
      const [code, size] = r.out.trim().split(" ");
      const ok = r.code === 0 && Number(size) === 1 << 20;
      return { ok, detail: ok ? `PASV RETR 1 MiB (${code})` : `${r.out.trim()} ${firstLine(r.err)}`.trim() };
    },
  },
  ...FTP_TESTS,
  {
    name: "stun-eim",
    required: true,
    quick: true,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "turnutils_natdiscovery", ["-m", "-f", INET1], 30_000);
      const text = r.out + r.err;
      const mapping = /NAT with (Endpoint Independent|Address Dependent|Address and Port Dependent|Address-Port Dependent)[^\n]*Mapping/i.exec(text)?.[0]
        ?? /(Endpoint Independent|Address Dependent|Address and Port Dependent)[^\n]*[Mm]apping[^\n]*/.exec(text)?.[0];
      const filtering = /(Endpoint Independent|Address Dependent|Address and Port Dependent)[^\n]*[Ff]iltering/.exec(text)?.[0];
      const ok = mapping !== undefined && /Endpoint Independent/i.test(mapping);
      return { ok, detail: mapping ? `${mapping.replace(/^NAT with /, "")}${filtering ? `; ${filtering}` : ""}` : `no mapping verdict (exit ${r.code}): ${firstLine(text)}` };
    },
  },
  {
    name: "stun-rfc3489",
    required: false,
    async run(ctx) {
      const r = await sh(ctx, ctx.t.ns.lan, "stun", [`${INET1}:3480`], 30_000);
      const text = r.out + r.err;
      const verdict = /Primary: ([^\n]*)/.exec(text)?.[1]?.trim();
      const ok = verdict !== undefined && /Independent Mapping/i.test(verdict);
      return { ok, detail: verdict ?? `no verdict (exit ${r.code}): ${firstLine(text)}` };
    },
  },
  {
    name: "mesh",
    required: true,
    quick: true,
    async run(ctx) {
      const { t } = ctx;
      const direct = meshCounter(t);
      const a = ctx.t.lab.exec(t.ns.lan, process.execPath, ["-e", MESH_PEER, "a", "7001", INET1, "7000", "8000"], 12_000);
      const b = ctx.t.lab.exec(t.ns.lan2, process.execPath, ["-e", MESH_PEER, "b", "7001", INET1, "7000", "8000"], 12_000);
      const [ra, rb] = await Promise.all([a, b]);
      const parse = (s: string): { you?: string; got?: number; from?: string } => {
        try {
          return JSON.parse(s.trim().split("\n").slice(-1)[0]);
        } catch {
          return {};
        }
      };
      const ja = parse(ra.stdout);
      const jb = parse(rb.stdout);
      const pkts = direct.read();
      direct.remove();
      const ok = ra.code === 0 && rb.code === 0 && (t.mode !== "mape" || pkts > 0);
      return {
        ok,
        detail: `${ja.you ?? "?"} <-> ${jb.you ?? "?"}: ${ja.got ?? 0}+${jb.got ?? 0} datagrams${t.mode === "mape" ? `, ${pkts} direct CE-CE IPv6 packets in isp` : ""}`,
        value: pkts,
      };
    },
  },
  iperfTest("iperf3-tcp-up", 5201, ["--cport", "41001"], false),
  iperfTest("iperf3-tcp-down", 5202, ["--cport", "41001", "-R"], false),
  iperfTest("iperf3-udp-up", 5203, ["--cport", "41002", "-u", "-b", "50M"], true),
  iperfTest("iperf3-udp-down", 5204, ["--cport", "41002", "-u", "-b", "50M", "-R"], true),
  {
    name: "br-failover",
    required: true,
    async run(ctx) {
      const { t } = ctx;
      const size = ctx.svc.bigFileMiB << 20;
      const before = rxPackets(t, t.ns.br2, "isp0") + rxPackets(t, t.ns.br2, "inet0");
      // The transfer must still be in flight at the switch: curl's rate limit
      // only holds if the LAN host's receive buffer cannot take the whole
      // file (tcp_rmem max is 32 MiB, and with the TUN's TCP coalescing the
      // segments arrive as large skbs that fill it efficiently).
      const rmem = t.lab.execSync(t.ns.lan, "sysctl", ["-n", "net.ipv4.tcp_rmem"]).trim().split(/\s+/).join(" ");
      t.lab.sysctl(t.ns.lan, "net.ipv4.tcp_rmem", "4096 131072 2097152");
      const dl = ctx.t.lab.exec(t.ns.lan, "curl", [
        "-sS", "--max-time", "40", "--connect-timeout", "4", "--local-port", "40000", "--limit-rate", "4M", "-o", "/dev/null",
        "-w", "%{http_code} %{size_download}", `http://${INET2}/big.bin`,
      ], 45_000);
      await sleep(2000);
      const t0 = Date.now();
      switchBr(t, 2);
      const r = await dl;
      t.lab.sysctl(t.ns.lan, "net.ipv4.tcp_rmem", rmem);
      const carried = rxPackets(t, t.ns.br2, "isp0") + rxPackets(t, t.ns.br2, "inet0") - before;
      const [code, got] = r.stdout.trim().split(" ");
      const ok = r.code === 0 && code === "200" && Number(got) === size && carried > 10;
      return {
        ok,
        detail: ok
          ? `${size >> 20} MiB over one TCP connection, BR1 -> BR2 mid-transfer, BR2 carried ${carried} packets in ${((Date.now() - t0) / 1000).toFixed(1)} s`
          : `curl exit ${r.code} ${r.stdout.trim()} ${firstLine(r.stderr)}, BR2 carried ${carried} packets`,
        value: carried,
      };
    },
  },
  {
    name: "auto-follow",
    required: true,
    auto: true,
    quick: true,
    async run(ctx) {
      const { t, svc } = ctx;
      const prov = svc.provisioning!;
      const ce = svc.procs.find((p) => p.name === "mape ce (ce)");
      if (!ce) return { ok: false, detail: "no mape ce (ce) process" };
      const reloadsBefore = (ce.output.match(/reloaded https:/g) ?? []).length;
      // A TCP connection through the CE that lives across the change.
      svc.start("echo server", t.ns.inet, process.execPath, ["-e", ECHO_SERVER, INET1, "7100"]);
      await waitFor(() => t.lab.execSync(t.ns.inet, "ss", ["-ltnH"]).includes(`${INET1}:7100`), 5000);
      const client = svc.start("echo client", t.ns.lan, process.execPath, ["-e", ECHO_CLIENT, INET1, "7100", "40000"]);
      sessionClient = client;
      await sleep(1500);
      // The operator renumbers the BR: the BRs tunnel from the new address, the answer names it.
      const alt = altBr(t.preset);
      for (const name of ["br1", "br2"]) {
        writeTemp(JSON.stringify(svc.brConfig(alt), null, 2), `${name}.json`);
        svc.procs.find((p) => p.name === `mape br (${name})`)?.child.kill("SIGHUP");
      }
      publishBr(prov, t.preset, t.legacyIid, alt);
      // The CE follows at its next fetch (the answer's ttl is 10 s).
      const followed = await waitFor(() => (ce.output.match(/reloaded https:/g) ?? []).length > reloadsBefore, 25_000);
      const line = ce.output.split("\n").filter((l) => l.includes("reloaded https:")).slice(-1)[0] ?? "";
      if (!followed) return { ok: false, detail: `the CE did not reload within 25 s: ${firstLine(ce.output)}` };
      const st = await sh(ctx, t.ns.ce, process.execPath, [join(repoRoot(), "bin", "mape.js"), "stats", "--tun", "mape0"], 10_000);
      const http = await sh(ctx, t.ns.lan, "curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", `http://${INET1}/index.html`], 15_000);
      const kept = /BMR unchanged, sessions kept/.test(line);
      const ok = kept && http.out.trim() === "200";
      return { ok, detail: `${line.replace(/^mape ce: /, "").slice(0, 110)}; http via ${alt}: ${http.out.trim() || firstLine(http.err)}${st.code === 0 ? "" : "; stats failed"}` };
    },
  },
  {
    name: "auto-sessions",
    required: true,
    auto: true,
    quick: true,
    async run() {
      // The TCP connection opened before the renumbering: still the same one after it.
      const c = sessionClient;
      if (!c) return { ok: false, detail: "auto-follow did not run" };
      await waitFor(() => c.child.exitCode !== null, 45_000);
      let r: { echoes: number; before: number; after: number; error: string | null };
      try {
        r = JSON.parse(c.output.trim().split("\n").slice(-1)[0]) as typeof r;
      } catch {
        return { ok: false, detail: `echo client: ${c.output.trim().slice(0, 100)}` };
      }
      const ok = r.error === null && r.after > 0;
      return { ok, detail: `one TCP connection across the change: ${r.before} echoes before, ${r.after} in its last 10 s${r.error ? `, ${r.error}` : ""}` };
    },
  },
  ...INBOUND_TESTS,
  ...RESTART_TESTS,
  ...DNS_TESTS,
  ...FAIR_TESTS,
];

/** The echo client auto-follow starts and auto-sessions reads. */
let sessionClient: ReturnType<Services["start"]> | undefined;

/** A TCP echo server (node -e; argv: addr port). */
const ECHO_SERVER = `
const net = require("node:net");
const [addr, port] = process.argv.slice(1);
net.createServer((s) => { s.on("data", (d) => s.write(d)); s.on("error", () => {}); }).listen(Number(port), addr);
setTimeout(() => process.exit(0), 120000).unref();
`;

/**
 * A TCP echo client (node -e; argv: addr port ms): one connection, a line
 * every 250 ms; prints {echoes, before (first 2 s), after (last 10 s), error}.
 */
const ECHO_CLIENT = `
const net = require("node:net");
const [addr, port, ms] = process.argv.slice(1);
const t0 = Date.now();
let echoes = 0, before = 0, after = 0, error = null;
const s = net.connect(Number(port), addr);
s.on("data", (d) => {
  const n = String(d).split("\\n").filter(Boolean).length;
  echoes += n;
  const t = Date.now() - t0;
  if (t < 2000) before += n;
  if (t > Number(ms) - 10000) after += n;
});
s.on("error", (e) => { error = e.code || e.message; });
s.on("close", () => { if (!error && Date.now() - t0 < Number(ms)) error = "closed"; });
const iv = setInterval(() => { if (!s.destroyed) s.write("x\\n"); }, 250);
setTimeout(() => { clearInterval(iv); console.log(JSON.stringify({ echoes, before, after, error })); process.exit(0); }, Number(ms));
`;

function rxPackets(t: Topology, ns: string, dev: string): number {
  const j = JSON.parse(t.lab.execSync(ns, "ip", ["-j", "-s", "link", "show", "dev", dev])) as { stats64: { rx: { packets: number } } }[];
  return j[0].stats64.rx.packets;
}

/** An nftables counter in isp on IPv6 packets from CE1's MAP address straight to CE2's. */
function meshCounter(t: Topology): { read(): number; remove(): void } {
  if (t.mode !== "mape") return { read: () => 0, remove: () => undefined };
  const { lab, ns } = t;
  lab.execSync(ns.isp, "nft", ["add", "table", "ip6", "labmesh"]);
  lab.execSync(ns.isp, "nft", ["add", "chain", "ip6", "labmesh", "count", "{ type filter hook forward priority 0; policy accept; }"]);
  lab.execSync(ns.isp, "nft", ["add", "rule", "ip6", "labmesh", "count", "ip6", "saddr", t.ce1.mapAddress, "ip6", "daddr", t.ce2.mapAddress, "counter"]);
  return {
    read(): number {
      const out = lab.execSync(ns.isp, "nft", ["list", "table", "ip6", "labmesh"]);
      return Number(/counter packets (\d+)/.exec(out)?.[1] ?? 0);
    },
    remove(): void {
      lab.execSync(ns.isp, "nft", ["delete", "table", "ip6", "labmesh"]);
    },
  };
}

export { LAN1 };
