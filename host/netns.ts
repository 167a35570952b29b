// Network namespaces for tests and the lab: every `ip` invocation of the host
// lives here. A Lab owns the namespaces it creates (names start with its
// prefix, e.g. `mapetest-<pid>-…`) and deletes all of them on teardown(), and
// also when the process exits or is killed by SIGINT/SIGTERM/SIGHUP. Nothing
// here touches an interface outside those namespaces: veth pairs are created
// with both ends inside namespaces, never in the caller's.
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";

/** Bound on any single `ip` call (ms): a hung command fails, it never blocks a test run. */
const IP_TIMEOUT_MS = 10_000;

export interface Requirements {
  /** /dev/net/tun must exist. */
  tun?: boolean;
  /** These programs must be on PATH (e.g. "ping"). */
  programs?: string[];
}

function hasProgram(name: string): boolean {
  const r = spawnSync(name, ["-V"], { stdio: "ignore", timeout: 5000 });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT");
}

/**
 * Says why the lab cannot run here, or returns undefined when it can:
 * Linux, root, `ip` (iproute2), optionally /dev/net/tun and other programs,
 * and permission to create a network namespace (tried for real).
 */
export function labUnavailable(req: Requirements = {}): string | undefined {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "not root: network namespaces, veth and TUN need root (or CAP_NET_ADMIN + CAP_SYS_ADMIN)";
  }
  if (!hasProgram("ip")) return "no `ip` command: install iproute2";
  for (const p of req.programs ?? []) {
    if (!hasProgram(p)) return `no \`${p}\` command${p === "ping" ? ": install iputils-ping" : ""}`;
  }
  if (req.tun && !existsSync("/dev/net/tun")) {
    return "no /dev/net/tun: load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)";
  }
  const probe = `mapetest-${process.pid}-probe`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8", timeout: IP_TIMEOUT_MS });
  if (add.status !== 0) {
    return `creating a network namespace is not permitted here: ${(add.stderr || String(add.error)).trim()}`;
  }
  spawnSync("ip", ["netns", "del", probe], { stdio: "ignore", timeout: IP_TIMEOUT_MS });
  return undefined;
}

/**
 * Runs `ip [-n ns] args…` and returns its stdout; throws an Error with the
 * command line and ip's own message on failure.
 */
export function ip(ns: string | null, ...args: string[]): string {
  const argv = ns ? ["-n", ns, ...args] : args;
  try {
    return execFileSync("ip", argv, { encoding: "utf8", timeout: IP_TIMEOUT_MS, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${argv.join(" ")}: ${(err.stderr || err.message).trim()}`);
  }
}

/** Names of all network namespaces (`ip netns list`, first word of each line). */
export function listNamespaces(): string[] {
  return ip(null, "netns", "list")
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n.length > 0);
}

/** Interface names in a namespace. */
export function listLinks(ns: string | null): string[] {
  return ip(ns, "-o", "link", "show")
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

export interface RouteOptions {
  dev?: string;
  via?: string;
  src?: string;
  /** Per-route MTU (e.g. 1460 for IPv4 routed into a MAP-E tunnel). */
  mtu?: number;
}

/**
 * Adds a route in `ns` (null: the caller's namespace); `dest` may be
 * `default`, and the family is taken from `dest`/`via`.
 */
export function addRoute(ns: string | null, dest: string, opts: RouteOptions): void {
  const v6 = dest.includes(":") || (opts.via?.includes(":") ?? false);
  const args = [v6 ? "-6" : "-4", "route", "add", dest];
  if (opts.via) args.push("via", opts.via);
  if (opts.dev) args.push("dev", opts.dev);
  if (opts.src) args.push("src", opts.src);
  if (opts.mtu) args.push("mtu", String(opts.mtu));
  ip(ns, ...args);
}

/** Brings a link up (optionally setting its MTU first). */
export function linkUp(ns: string | null, dev: string, mtu?: number): void {
  if (mtu !== undefined) ip(ns, "link", "set", dev, "mtu", String(mtu));
  ip(ns, "link", "set", dev, "up");
}

/**
 * Prepares a TUN for the data path before it comes up: no IPv6 link-local
 * address (addrgenmode none, so the kernel sends less of its own traffic
 * into the device) and the given link MTU.
 */
export function prepareTun(ns: string | null, dev: string, mtu = 1500): void {
  ip(ns, "link", "set", dev, "addrgenmode", "none");
  ip(ns, "link", "set", dev, "mtu", String(mtu));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Every live Lab, for the exit/signal handlers.
const live = new Set<Lab>();
let handlersInstalled = false;

function onExit(): void {
  for (const lab of [...live]) lab.teardown();
}

function onSignal(sig: NodeJS.Signals): void {
  onExit();
  removeHandlers();
  process.kill(process.pid, sig); // the default action, now that we are clean
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", onExit);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
}

function removeHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off("exit", onExit);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(s, onSignal);
}

/**
 * A set of namespaces created for one test or lab run. Names are
 * `${prefix}-${short}`; the prefix defaults to `mapetest-<pid>-<n>` so
 * concurrent runs never collide.
 */
export class Lab {
  private static seq = 0;
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(prefix = `mapetest-${process.pid}-${Lab.seq++}`) {
    this.prefix = prefix;
  }

  /** Names of the namespaces this lab created and has not deleted. */
  get created(): readonly string[] {
    return this.namespaces;
  }

  /**
   * Creates namespace `${prefix}-${short}` with `lo` up and returns its full
   * name. IPv6 duplicate address detection is off in it (unless `dad`), so
   * link-local and global addresses work the moment a link is up: a lab has
   * no duplicates, and DAD would only delay the first neighbour discovery.
   */
  netns(short: string, opts: { dad?: boolean } = {}): string {
    const name = `${this.prefix}-${short}`;
    installHandlers();
    live.add(this);
    ip(null, "netns", "add", name);
    this.namespaces.push(name);
    ip(name, "link", "set", "lo", "up");
    if (!opts.dad) {
      this.execSync(name, "sysctl", ["-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]);
    }
    return name;
  }

  /**
   * A veth pair with one end in each namespace (created in place: no end
   * ever appears in the caller's namespace). Both ends are brought up.
   */
  veth(nsA: string, devA: string, nsB: string, devB: string): void {
    ip(nsA, "link", "add", devA, "type", "veth", "peer", "name", devB, "netns", nsB);
    ip(nsA, "link", "set", devA, "up");
    ip(nsB, "link", "set", devB, "up");
  }

  /** Adds an address (`192.0.2.1/24`, `2001:db8::1/64`); IPv6 without DAD so it is usable at once. */
  addr(ns: string, dev: string, cidr: string): void {
    ip(ns, "addr", "add", cidr, "dev", dev, ...(cidr.includes(":") ? ["nodad"] : []));
  }

  /** Adds a route; `dest` may be `default`, and the family is taken from `dest`/`via`. */
  route(ns: string, dest: string, opts: RouteOptions): void {
    addRoute(ns, dest, opts);
  }

  /** Brings a link up (optionally setting its MTU first). */
  up(ns: string, dev: string, mtu?: number): void {
    linkUp(ns, dev, mtu);
  }

  /** Sets a sysctl inside the namespace, e.g. ("net.ipv4.ip_forward", "1"). */
  sysctl(ns: string, key: string, value: string | number): void {
    this.execSync(ns, "sysctl", ["-q", "-w", `${key}=${value}`]);
  }

  /** Turns on IPv4 and IPv6 forwarding in the namespace. */
  forwarding(ns: string): void {
    this.sysctl(ns, "net.ipv4.ip_forward", 1);
    this.sysctl(ns, "net.ipv6.conf.all.forwarding", 1);
  }

  /**
   * Creates a persistent TUN in the namespace (`ip tuntap add … mode tun`)
   * and prepares it for a data path (prepareTun). It stays down until up().
   */
  tuntap(ns: string, dev: string, mtu = 1500): void {
    ip(ns, "tuntap", "add", "dev", dev, "mode", "tun");
    prepareTun(ns, dev, mtu);
  }

  /** Runs a command inside the namespace and waits for it (bounded by timeoutMs). */
  exec(ns: string, cmd: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    const child = this.spawn(ns, cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Runs a command inside the namespace synchronously; throws with its stderr on failure. */
  execSync(ns: string, cmd: string, args: string[], timeoutMs = IP_TIMEOUT_MS): string {
    try {
      return execFileSync("ip", ["netns", "exec", ns, cmd, ...args], {
        encoding: "utf8",
        timeout: timeoutMs,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`ip netns exec ${ns} ${cmd} ${args.join(" ")}: ${(err.stderr || err.message).trim()}`);
    }
  }

  /** Starts a long-running command inside the namespace; it is killed at teardown. */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], opts);
    this.children.add(child);
    child.on("exit", () => this.children.delete(child));
    return child;
  }

  /**
   * Deletes every namespace this lab created (their veths and TUNs go with
   * them), after killing the processes still inside them. Safe to call more
   * than once; never throws.
   */
  teardown(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    }
    this.children.clear();
    for (const ns of this.namespaces.splice(0)) {
      // Processes left in the namespace (started by children of ours) would
      // keep it alive after its name is gone: kill them first.
      const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: IP_TIMEOUT_MS });
      for (const pid of (pids.stdout ?? "").split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      spawnSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: IP_TIMEOUT_MS });
    }
    live.delete(this);
    if (live.size === 0) removeHandlers();
  }
}
