// `mape ce` for real, on a TUN in a network namespace:
//
//   ns lan                  ns ce                                  ns isp
//   192.168.1.2 ── veth ── 192.168.1.1                              (capture)
//   default via .1          mape0 (TUN) ← default (IPv4), MAP /128
//                           2001:db8:1::1 ── veth ─────────────── 2001:db8:1::2
//                           default (IPv6) via 2001:db8:1::2
//
// A ping from the LAN host must leave the CE as IPv4-in-IPv6 (next header
// 4) from the CE's MAP address to the BR; tshark in ns isp sees it (there
// is no BR: nothing answers, which is fine). Then `mape stats` counts it,
// SIGHUP reloads with the instance still running, and SIGTERM exits 0
// removing the TUN, its routes and the control socket. Needs root, ping and
// tshark (CI installs them); skipped, with the reason, elsewhere.
//
// The same tests run the router program (tests/router/ce-tun.test.ts): the
// host is a parameter (ServeHost), and `mape stats` is asked through every
// host given, so either host's stats reads either instance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync, type ChildProcess } from "node:child_process";
import { Lab, labUnavailable, listLinks, ip } from "../../host/netns.js";
import { skipUnlessCI } from "./prereq.js";

const MAP_ADDRESS = "2403:9200:1234::cb56:e101:234";
export const BR = "2403:9200:fff0::2";
const CE_ARGS = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48", "--tun", "mape0", "--routes"];

/** bin/mape.js of this checkout, from wherever this file was compiled to. */
export function mapeBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, "bin", "mape.js");
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error("cannot find bin/mape.js");
}

/** Collects a child's output and resolves when a line matches (or rejects on exit/timeout). */
class Output {
  text = "";
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  constructor(child: ChildProcess, also?: (s: string) => void) {
    const on = (d: string): void => {
      this.text += d;
      also?.(d);
      for (const w of [...this.waiters]) {
        const m = this.text.match(w.re);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    child.stdout?.setEncoding("utf8").on("data", on);
    child.stderr?.setEncoding("utf8").on("data", on);
  }
  wait(re: RegExp, ms: number): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const w = { re, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`no ${re} within ${ms} ms; output so far:\n${this.text}`));
        }
      }, ms).unref();
    });
  }
}

function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no exit within ${ms} ms`)), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

/** tshark is required where the lab runs (CI installs it); `tshark -V` would start a capture, so ask --version. */
function tsharkMissing(): string | undefined {
  const r = spawnSync("tshark", ["--version"], { stdio: "ignore", timeout: 10_000 });
  return r.status === 0 ? undefined : "no `tshark` command: install tshark";
}

/** A `mape` to run ce/br/stats with. */
export interface ServeHost {
  /** Test-name suffix ("" for the Node host). */
  label: string;
  /** The command line that runs `mape` (then the subcommand and its flags). */
  cmd: string[];
  /** Every host whose `mape stats` must read this instance (this one first). */
  statsCmds: string[][];
  /** Why this host cannot run here, if it cannot. */
  missing?: string;
}

export const NODE_SERVE: ServeHost = {
  label: "",
  cmd: [process.execPath, mapeBin()],
  statsCmds: [[process.execPath, mapeBin()]],
};


/**
 * The namespaces of the TUN tests: a LAN host (192.168.1.2) behind the CE
 * (lan0 192.168.1.1, wan0 2001:db8:1::1, default route to the ISP) and the
 * ISP end of the CE's uplink (2001:db8:1::2). Forwarding is on in the CE.
 */
export function ceNamespaces(lab: Lab): { lan: string; ce: string; isp: string } {
  const lan = lab.netns("lan");
  const ce = lab.netns("ce");
  const isp = lab.netns("isp");
  lab.veth(lan, "eth0", ce, "lan0");
  lab.veth(ce, "wan0", isp, "eth0");
  lab.addr(lan, "eth0", "192.168.1.2/24");
  lab.route(lan, "default", { via: "192.168.1.1" });
  lab.addr(ce, "lan0", "192.168.1.1/24");
  lab.addr(ce, "wan0", "2001:db8:1::1/64");
  lab.route(ce, "default", { via: "2001:db8:1::2" });
  lab.addr(isp, "eth0", "2001:db8:1::2/64");
  lab.forwarding(ce);
  return { lan, ce, isp };
}

export function ceTunTests(host: ServeHost): void {
const skip = skipUnlessCI(host.missing ?? labUnavailable({ tun: true, programs: ["ping"] }) ?? tsharkMissing());
const suffix = host.label ? ` (${host.label})` : "";
const args = CE_ARGS;

test(`mape ce on a TUN: encapsulates a LAN ping toward the BR, stats, SIGHUP, SIGTERM${suffix}`, { skip, timeout: 90_000 }, async () => {
  const lab = new Lab();
  const runDir = mkdtempSync(join(tmpdir(), "mape-run-"));
  const pcapDir = mkdtempSync(join(tmpdir(), "mape-cap-"));
  try {
    const { lan, ce, isp } = ceNamespaces(lab);

    const env = ["env", `MAPE_RUN_DIR=${runDir}`];
    const child = lab.spawn(ce, env[0], [...env.slice(1), ...host.cmd, "ce", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const out = new Output(child);
    const started = await out.wait(/control (\S+)\)/, 20_000);
    const sock = started[1];
    assert.equal(sock, join(runDir, `netns-${ce}`, "mape0.sock"), "the socket path names the namespace");
    assert.match(out.text, /route added: ip -4 route add default dev mape0 mtu 1460/);
    assert.match(out.text, new RegExp(`route added: ip -6 route add ${MAP_ADDRESS}/128 dev mape0`));
    assert.match(out.text, new RegExp(`ce on mape0: IPv4 203\\.86\\.225\\.\\d+, PSID \\d+ .*MAP address ${MAP_ADDRESS}, BR ${BR}`));
    assert.match(ip(ce, "-4", "route", "show", "default"), /dev mape0 .*mtu 1460/);
    assert.match(ip(ce, "-6", "route", "show", `${MAP_ADDRESS}/128`), /dev mape0/);
    assert.doesNotMatch(ip(ce, "-6", "addr", "show", "dev", "mape0"), /inet6/, "addrgenmode none: no link-local address");

    // Capture in ns isp: IPv6 packets carrying IPv4 (next header 4), bounded by count and time.
    const pcap = join(pcapDir, "isp.pcap");
    const cap = lab.spawn(isp, "tshark", ["-n", "-i", "eth0", "-f", "ip6 proto 4", "-c", "2", "-a", "duration:20", "-w", pcap], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const capOut = new Output(cap);
    await capOut.wait(/Capturing on/, 15_000);
    // Four echo requests for two captured: tshark says "Capturing on" a
    // moment before its capture is live, so the first may pass unseen.
    const ping = await lab.exec(lan, "ping", ["-n", "-c", "4", "-i", "0.3", "-W", "1", "203.0.113.1"], 20_000);
    assert.notEqual(ping.code, null, "ping finished");
    const capDone = await exited(cap, 25_000);
    assert.equal(capDone.code, 0, capOut.text);
    const fields = await lab.exec(isp, "tshark", ["-n", "-r", pcap, "-T", "fields", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ipv6.nxt", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type"]);
    const rows = fields.stdout.trim().split("\n").map((l) => l.split("\t"));
    assert.equal(rows.length, 2, fields.stdout + fields.stderr);
    for (const r of rows) {
      assert.equal(r[0], MAP_ADDRESS);
      assert.equal(r[1], BR);
      assert.equal(r[2], "4");
      assert.match(r[3], /^203\.86\.225\.\d+$/, "the inner source is the CE's shared address");
      assert.equal(r[4], "203.0.113.1");
      assert.equal(r[5], "8", "an echo request");
    }

    // mape stats in the same namespace finds the instance by TUN name (each host's stats).
    for (const statsCmd of host.statsCmds) {
    const statsArgs = [...env.slice(1), ...statsCmd, "stats", "--tun", "mape0"];
    const js = await lab.exec(ce, env[0], [...statsArgs, "--json"], 20_000);
    assert.equal(js.code, 0, js.stderr);
    const answer = JSON.parse(js.stdout) as { mode: string; tun: string; counters: Record<string, { packets: number; bytes: number }> };
    assert.equal(answer.mode, "ce");
    assert.equal(answer.tun, "mape0");
    assert.ok(answer.counters["in-ipv4"].packets >= 2, JSON.stringify(answer.counters["in-ipv4"]));
    assert.ok(answer.counters["forwarded-to-ipv6"].packets >= 2);
    assert.equal(answer.counters["tun-write-errors"].packets, 0);
    // The port budget (the module's report, the same from either host): the ping's ICMP session.
    const budget = (answer as unknown as { portBudget: { protocols: Record<string, { ports: number; sessions: number }> } }).portBudget;
    assert.equal(budget.protocols.icmp.ports, 15);
    assert.ok(budget.protocols.icmp.sessions >= 1, JSON.stringify(budget));
    const human = await lab.exec(ce, env[0], statsArgs, 20_000);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /\n {2}port set +ports +in use +free +sessions\n {2}tcp +15 /);
    assert.match(human.stdout, /^ce on mape0 \(pid \d+/);
    assert.match(human.stdout, /\n {2}inbound ports {3}0 \(epoch \d+ s\)\n/, "the inbound ports, as the module renders them");
    assert.match(human.stdout, /\n {2}in-ipv4 +\d+ +\d+\n/);
    assert.doesNotMatch(human.stdout, / 0 +0\n/, "zero counters are left out");
    }
    const statsArgs = [...env.slice(1), ...host.statsCmds[0], "stats", "--tun", "mape0"];

    // SIGUSR1 prints the counters; SIGHUP reloads the same BMR (sessions kept) and keeps running.
    child.kill("SIGUSR1");
    await out.wait(/mape0 counters:\n(?: .*\n)*? {2}in-ipv4/, 10_000);
    child.kill("SIGHUP");
    await out.wait(/reloaded --rule: BMR unchanged, sessions kept/, 10_000);
    const again = await lab.exec(ce, env[0], [...statsArgs, "--json"], 20_000);
    assert.equal(again.code, 0, again.stderr);

    // A second instance on the same TUN: busy, one line, exit 1, the first unharmed.
    const second = await lab.exec(ce, env[0], [...env.slice(1), ...host.cmd, "ce", ...args], 20_000);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^mape: cannot open TUN mape0: it is busy/);
    assert.equal(second.stderr.trim().split("\n").length, 1, second.stderr);

    // SIGTERM: exit 0, routes, TUN and socket gone.
    child.kill("SIGTERM");
    const end = await exited(child, 15_000);
    assert.deepEqual(end, { code: 0, signal: null }, out.text);
    assert.match(out.text, /stopped, routes removed, mape0 removed/);
    assert.ok(!listLinks(ce).includes("mape0"), "the TUN is gone");
    assert.equal(ip(ce, "-4", "route", "show", "default").trim(), "");
    assert.ok(!existsSync(sock), "the control socket is gone");
    assert.deepEqual(readdirSync(runDir), [], "and its namespace directory");
  } finally {
    lab.teardown();
    rmSync(runDir, { recursive: true, force: true });
    rmSync(pcapDir, { recursive: true, force: true });
  }
});

test(`mape ce --rules <file>: stats show where the rules came from and the BMR; SIGHUP re-reads the file (same BMR: sessions kept; new BMR: reset, said)${suffix}`, { skip, timeout: 90_000 }, async () => {
  const lab = new Lab();
  const runDir = mkdtempSync(join(tmpdir(), "mape-run-"));
  const dir = mkdtempSync(join(tmpdir(), "mape-rules-"));
  try {
    const lan = lab.netns("lan");
    const ce = lab.netns("ce");
    lab.veth(lan, "eth0", ce, "lan0");
    lab.addr(lan, "eth0", "192.168.1.2/24");
    lab.route(lan, "default", { via: "192.168.1.1" });
    lab.addr(ce, "lan0", "192.168.1.1/24");
    lab.forwarding(ce);
    const hb = (v4: string, br: string): string => JSON.stringify({ ttl: 3600, map_e: { version: 1, mesh: true, br,
      rules: [{ ipv6: "2001:db8:ff00::/40", ipv4: "198.18.0.0/24", ea_length: 16, psid_offset: 4 },
        { ipv6: "2403:9200::/32", ipv4: v4, ea_length: 16, psid_offset: 4 }] } });
    const file = join(dir, "rules.json");
    writeFileSync(file, hb("203.86.225.0/28", BR));
    const env = ["env", `MAPE_RUN_DIR=${runDir}`];
    const child = lab.spawn(ce, env[0], [...env.slice(1), ...host.cmd, "ce", "--rules", file, "--prefix", "2403:9200:1234::/48", "--tun", "mape0", "--routes"],
      { stdio: ["ignore", "pipe", "pipe"] });
    const out = new Output(child);
    await out.wait(/control (\S+)\)/, 20_000);
    assert.match(out.text, new RegExp(`MAP address ${MAP_ADDRESS}, BR ${BR}`));
    const stats = async (): Promise<{ configuration: Record<string, unknown>; counters: Record<string, { packets: number }> }> => {
      const js = await lab.exec(ce, env[0], [...env.slice(1), ...host.statsCmds[0], "stats", "--tun", "mape0", "--json"], 20_000);
      assert.equal(js.code, 0, js.stderr);
      return JSON.parse(js.stdout) as { configuration: Record<string, unknown>; counters: Record<string, { packets: number }> };
    };
    const c = (await stats()).configuration;
    assert.equal(c.from, `--rules ${file}`);
    assert.equal(c.format, "hb46pp");
    assert.equal(c.rules, 2);
    assert.equal(c.matchedRule, "map_e.rules[1]");
    assert.equal(c.interfaceId, "rfc7597");
    assert.equal(c.ttl, 3600);
    assert.match(String(c.at), /^\d{4}-\d\d-\d\dT/);
    // Each host's stats prints them in its text form too.
    const human = await lab.exec(ce, env[0], [...env.slice(1), ...host.statsCmds[0], "stats", "--tun", "mape0"], 20_000);
    assert.match(human.stdout, /matched rule +map_e\.rules\[1\]/);
    // A session through the NAT (the ping's), then a new BR with the same BMR: kept.
    await lab.exec(lan, "ping", ["-n", "-c", "1", "-W", "1", "203.0.113.1"], 20_000);
    const before = (await stats()).counters;
    writeFileSync(file, hb("203.86.225.0/28", "2403:9200:fff0::9"));
    child.kill("SIGHUP");
    await out.wait(new RegExp(`reloaded --rules ${file.replace(/[.]/g, "\\.")}: BMR unchanged, sessions kept`), 10_000);
    // Another IPv4 prefix: a new BMR, the sessions reset and the line says so.
    writeFileSync(file, hb("203.86.226.0/28", "2403:9200:fff0::9"));
    child.kill("SIGHUP");
    await out.wait(/BMR changed, sessions reset, data path restarted/, 10_000);
    await out.wait(/ce on mape0: IPv4 203\.86\.226\.\d+/, 10_000);
    // A file the module refuses: the running rules stay, one line.
    writeFileSync(file, "{\"map_e\": {\"rules\": []}}");
    child.kill("SIGHUP");
    await out.wait(/reload failed, the running configuration stays: /, 10_000);
    assert.ok(before["in-ipv4"].packets >= 1, JSON.stringify(before["in-ipv4"]));
    child.kill("SIGTERM");
    const end = await exited(child, 15_000);
    assert.deepEqual(end, { code: 0, signal: null }, out.text);
  } finally {
    lab.teardown();
    rmSync(runDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`mape ce / br: clear one-line errors${suffix}`, { skip, timeout: 60_000 }, async () => {
  const lab = new Lab();
  const runDir = mkdtempSync(join(tmpdir(), "mape-run-"));
  try {
    const ns = lab.netns("err");
    const run = (a: string[]) => lab.exec(ns, "env", [`MAPE_RUN_DIR=${runDir}`, ...host.cmd, ...a], 20_000);
    // Bad configuration: exit 1, the field named, nothing created.
    const bad = await run(["ce", "--rule", "2403:9200::/32,203.86.225.0/28,99,4", "--br", BR, "--prefix", "2403:9200:1234::/48"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^mape: .*EA/);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.ok(!listLinks(ns).includes("mape0"));
    // A BR needs its configuration.
    const none = await run(["br"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^mape: br: give the BR's configuration/);
    // An interface of that name that is not a TUN.
    lab.veth(ns, "mape0", ns, "peer0");
    const notTun = await run(["ce", "--tun", "mape0"]);
    assert.equal(notTun.code, 1);
    assert.match(notTun.stderr, /^mape: cannot open TUN mape0: an interface of that name exists and is not a TUN/);
    // No instance to ask.
    const stats = await run(["stats", "--tun", "nothing0"]);
    assert.equal(stats.code, 1);
    assert.match(stats.stderr, /^mape: no mape instance is running there/);
  } finally {
    lab.teardown();
    rmSync(runDir, { recursive: true, force: true });
  }
});
}
