// Processes of the lab: the data paths (`mape ce` / `mape br` on the TUNs)
// and the internet servers (Debian packages, started by hand: nothing is
// installed as a service). Every process is a child of the Lab, killed at
// teardown.

import { inboundArgs, inboundForwards } from "./inbound.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync, openSync, ftruncateSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { INET1, INET2, tempDir, writeTemp, type Topology } from "./topology.js";
import { labConfig } from "./presets.js";
import { dnsProxyFlags, startIspResolver } from "./dns.js";
import { PROV_ADDR, PROV_PORT, altBr, prepareProvisioning, type Provisioning } from "./provisioning.js";

/** The project root (where package.json names mape-wasm), from wherever this file was bundled or compiled to. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && /"name":\s*"mape-wasm"/.test(readFileSync(pkg, "utf8"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find the project root (package.json of mape-wasm)");
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it is true or `ms` pass. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (check()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

interface Proc {
  name: string;
  child: ChildProcess;
  output: string;
}

/** Which `mape` runs the CEs and BRs. */
export interface DataPathHost {
  /** "node": bin/mape.js (default); "native": the router program build/router/x86_64/mape. */
  host?: "node" | "native";
  /** CE1 as the router program of this target under qemu-user (e.g. "mipsel"). */
  ceQemu?: string;
}

/** The router program of a target. */
export function routerExe(target: string): string {
  return join(repoRoot(), "build", "router", target, "mape");
}

/** The command line that runs `mape` for one of the lab's data paths. */
export function mapeCommand(opts: DataPathHost, name: string): string[] {
  if (name === "ce" && opts.ceQemu) return [`qemu-${opts.ceQemu}-static`, routerExe(opts.ceQemu)];
  if (opts.host === "native") return [routerExe("x86_64")];
  return [process.execPath, join(repoRoot(), "bin", "mape.js")];
}

export class Services {
  readonly procs: Proc[] = [];
  readonly www: string;
  /** Size of big.bin (the failover transfer), MiB. */
  bigFileMiB = 24;

  /** With `mape lab --auto`: the provisioning server the CEs take their rules from. */
  provisioning?: Provisioning;

  constructor(
    readonly t: Topology,
    readonly hosts: DataPathHost = {},
  ) {
    this.www = join(tempDir(), "www");
  }

  /**
   * `--auto`: dnsmasq (the TXT record) and the HTTPS rule server in isp,
   * and a second BR address (the one the answer later renumbers to), routed
   * to the BRs like the first.
   */
  async startProvisioning(): Promise<void> {
    const { t } = this;
    const pp = prepareProvisioning(t);
    this.start("dnsmasq (isp, 4over6.info)", t.ns.isp, "dnsmasq", pp.dnsmasq);
    this.start("provisioning server", t.ns.isp, process.execPath, pp.https);
    // The CEs' own HTTPS and DNS traffic crosses the captured ISP link: its
    // checksums must be in the packets, not left to an offload (clean captures).
    for (const [n, dev] of [[t.ns.ce, "wan0"], [t.ns.ce2, "wan0"], [t.ns.isp, "ce1"], [t.ns.isp, "ce2"]]) {
      try {
        t.lab.execSync(n, "ethtool", ["-K", dev, "tx", "off"]);
      } catch {
        // ethtool missing: the capture check may see partial checksums
      }
    }
    const alt = altBr(t.preset);
    t.lab.route(t.ns.isp, `${alt}/128`, { via: "2001:db8:b::2" });
    for (const n of [t.ns.br1, t.ns.br2]) t.lab.route(n, `${alt}/128`, { dev: "mape0" });
    const ok = await waitFor(() => {
      const ss = t.lab.execSync(t.ns.isp, "ss", ["-ltunH"]);
      return ss.includes(`[${PROV_ADDR}]:53`) && ss.includes(`[${PROV_ADDR}]:${PROV_PORT}`);
    }, 8000);
    if (!ok) throw new Error(`the provisioning server did not start: ${this.procs.slice(-2).map((p) => this.describe(p)).join("; ")}`);
    this.provisioning = pp.prov;
  }

  /** The BR configurations: with --auto both BR addresses, `first` the one they tunnel from. */
  brConfig(first?: string): object {
    const cfg = labConfig(this.t.preset, undefined, this.t.legacyIid) as Record<string, unknown>;
    if (this.provisioning) {
      const alt = altBr(this.t.preset);
      cfg.br = first === alt ? [alt, this.t.preset.br] : [this.t.preset.br, alt];
    }
    return cfg;
  }

  /** Starts a logged process in `ns`. */
  start(name: string, ns: string, cmd: string, args: string[]): Proc {
    const child = this.t.lab.spawn(ns, cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const p: Proc = { name, child, output: "" };
    const keep = (d: Buffer): void => {
      p.output = (p.output + d.toString("utf8")).slice(-8000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", (e) => keep(Buffer.from(String(e))));
    this.procs.push(p);
    return p;
  }

  /** Whether a process exited, and its last output. */
  describe(p: Proc): string {
    const st = p.child.exitCode !== null ? `exited ${p.child.exitCode}` : p.child.signalCode ? `killed ${p.child.signalCode}` : "running";
    return `${p.name} ${st}: ${p.output.trim().split("\n").slice(-3).join(" | ")}`;
  }

  /**
   * Runs `mape ce` in ce and ce2 and `mape br` in br1 and br2, each on its
   * TUN mape0 with a JSON config written for it, and waits until each has
   * attached (carrier up on the TUN). Which `mape`: this.hosts.
   */
  async startDataPaths(): Promise<void> {
    const { t } = this;
    const jobs: [string, string, "ce" | "br", string | undefined][] = [
      ["ce", t.ns.ce, "ce", t.ce1.endUserPrefix],
      ["ce2", t.ns.ce2, "ce", t.ce2.endUserPrefix],
      ["br1", t.ns.br1, "br", undefined],
      ["br2", t.ns.br2, "br", undefined],
    ];
    const started: [string, string, Proc][] = [];
    for (const [name, ns, role, prefix] of jobs) {
      const [cmd, ...pre] = mapeCommand(this.hosts, name);
      const prov = this.provisioning;
      if (prov && role === "ce") {
        // No rule given: the CE asks the line's resolver and the rule server.
        const args = [...pre, "ce", "--auto", "--dns-server", PROV_ADDR, "--ca", prov.ca, "--rules-state", join(tempDir(), `${name}.rules-state.json`),
          "--prefix", prefix!, "--tun", "mape0", ...(name === "ce" ? dnsProxyFlags() : [])];
        started.push([name, ns, this.start(`mape ${role} (${name})`, ns, cmd, args)]);
        continue;
      }
      const body = role === "br" ? this.brConfig() : labConfig(t.preset, prefix, t.legacyIid);
      // CE1: the inbound-port tests (host/lab/inbound.ts): a static forward and the PCP / NAT-PMP server.
      const inbound = name === "ce" ? inboundArgs(t) : [];
      if (name === "ce") (body as Record<string, unknown>).forwards = inboundForwards(t);
      const cfg = writeTemp(JSON.stringify(body, null, 2), `${name}.json`);
      const dns = name === "ce" ? dnsProxyFlags() : [];
      started.push([name, ns, this.start(`mape ${role} (${name})`, ns, cmd, [...pre, role, "--config", cfg, "--tun", "mape0", ...inbound, ...dns])]);
    }
    for (const [name, ns, p] of started) {
      const ok = await waitFor(() => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error("exited");
        return /LOWER_UP/.test(t.lab.execSync(ns, "ip", ["link", "show", "dev", "mape0"]));
      }, this.hosts.ceQemu ? 30_000 : 10_000);
      if (!ok || p.child.exitCode !== null) throw new Error(`the data path in ${name} did not start: ${this.describe(p)}`);
    }
  }

  /** Starts every internet server in inet and waits until they listen. */
  async startServers(): Promise<void> {
    const { t } = this;
    const inet = t.ns.inet;
    mkdirSync(this.www, { recursive: true });
    writeFileSync(join(this.www, "index.html"), "<html><body>mape lab</body></html>\n");
    sparse(join(this.www, "1m.bin"), 1 << 20);
    sparse(join(this.www, "big.bin"), this.bigFileMiB << 20);

    this.start("httpd", inet, "busybox", ["httpd", "-f", "-p", `${INET1}:80`, "-h", this.www]);
    this.start("httpd2", inet, "busybox", ["httpd", "-f", "-p", `${INET2}:80`, "-h", this.www]);
    this.start("dnsmasq", inet, "dnsmasq", [
      "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces", `--listen-address=${INET1}`,
      "--address=/lab.example/198.51.100.2", "--pid-file=" + join(tempDir(), "dnsmasq.pid"), "--user=root",
    ]);
    this.start("vsftpd", inet, "vsftpd", [this.vsftpdConf()]);
    startIspResolver(this, t);
    for (let port = 5201; port <= 5208; port++) {
      this.start(`iperf3 ${port}`, inet, "iperf3", ["-s", "-B", INET1, "-p", String(port)]);
    }
    this.start("turnserver", inet, "turnserver", [
      "-n", "-S", "-z", "--no-tls", "--no-dtls", "--no-cli", "-L", INET1, "-L", INET2, "-p", "3478",
      "--alt-listening-port", "3479", "--log-file", "stdout", "--no-software-attribute",
    ]);
    this.start("stund", inet, "stund", ["-h", INET1, "-a", INET2, "-p", "3480", "-o", "3481"]);
    this.start("rendezvous", inet, process.execPath, ["-e", RENDEZVOUS, INET1, "7000"]);
    const want = ["tcp:80", "tcp:21", "udp:53", "tcp:5201", "tcp:5208", "udp:3478", "udp:3479", "udp:3480", "udp:7000"];
    const ok = await waitFor(() => {
      const ss = t.lab.execSync(inet, "ss", ["-ltunH"]);
      return want.every((w) => {
        const [proto, port] = w.split(":");
        return ss.split("\n").some((l) => l.startsWith(proto) && new RegExp(`:${port}\\s`).test(l));
      });
    }, 8000);
    if (!ok) {
      const dead = this.procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      throw new Error(`servers did not all start: ${dead.map((p) => this.describe(p)).join("; ") || "a port is not listening"}`);
    }
  }

  private vsftpdConf(): string {
    const empty = join(tempDir(), "vsftpd-empty");
    mkdirSync(empty, { recursive: true });
    return writeTemp(
      [
        "listen=YES",
        "listen_ipv6=NO",
        `listen_address=${INET1}`,
        "background=NO",
        "anonymous_enable=YES",
        "local_enable=NO",
        "write_enable=NO",
        `anon_root=${this.www}`,
        "no_anon_password=YES",
        "pasv_enable=YES",
        "pasv_min_port=30000",
        "pasv_max_port=30009",
        "port_enable=YES",
        "connect_from_port_20=NO",
        "seccomp_sandbox=NO",
        `secure_chroot_dir=${empty}`,
        "nopriv_user=nobody",
        "allow_anon_ssl=NO",
        "ssl_enable=NO",
        "xferlog_enable=NO",
        "use_localtime=NO",
        "",
      ].join("\n"),
      "vsftpd.conf",
    );
  }
}

function sparse(file: string, size: number): void {
  const fd = openSync(file, "w");
  ftruncateSync(fd, size);
  closeSync(fd);
}

/**
 * A UDP rendezvous for the mesh test (node -e; argv: addr port): "reg NAME"
 * is answered with "you IP PORT" (the sender's mapped address) and, once
 * both a and b registered, "peer IP PORT" of the other one.
 */
export const RENDEZVOUS = `
const dgram = require("node:dgram");
const [addr, port] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
const seen = {};
s.on("message", (m, r) => {
  const [verb, name] = String(m).split(" ");
  if (verb !== "reg") return;
  seen[name] = r;
  s.send("you " + r.address + " " + r.port, r.port, r.address);
  const other = seen[name === "a" ? "b" : "a"];
  if (other) s.send("peer " + other.address + " " + other.port, r.port, r.address);
});
s.bind(Number(port), addr);
setTimeout(() => process.exit(0), 600000).unref();
`;

/**
 * A mesh peer (node -e; argv: name localPort rendezvousAddr rendezvousPort
 * timeoutMs): registers until it learns its peer's mapped address, then
 * sends "hi NAME" to the peer every 100 ms; prints one JSON line and exits
 * 0 once it has received 3 greetings from the peer and sent 5, 1 on timeout.
 */
export const MESH_PEER = `
const dgram = require("node:dgram");
const [name, lport, raddr, rport, tmo] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
let you = null, peer = null, got = 0, sent = 0, from = null;
const done = (code) => { console.log(JSON.stringify({ name, you, peer, got, sent, from })); process.exit(code); };
// Once this side has what it needs it keeps sending for a second, so the
// other side (which may be a few datagrams behind) gets its share too.
let finishing = false;
const enough = () => {
  if (got >= 3 && sent >= 5 && !finishing) { finishing = true; setTimeout(() => done(0), 1000); }
};
s.on("message", (m, r) => {
  const w = String(m).split(" ");
  if (w[0] === "you") you = w[1] + ":" + w[2];
  else if (w[0] === "peer") peer = { address: w[1], port: Number(w[2]) };
  else if (w[0] === "hi") { got++; from = r.address + ":" + r.port; }
  enough();
});
s.bind(Number(lport), () => {
  setInterval(() => {
    if (!peer) s.send("reg " + name, Number(rport), raddr);
    else { s.send("hi " + name, peer.port, peer.address); sent++; enough(); }
  }, 100);
});
setTimeout(() => done(1), Number(tmo));
`;
