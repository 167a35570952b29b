// The control channel of a running `mape ce` / `mape br`: a Unix stream
// socket that answers one request line with one JSON line and closes.
//
//   request        answer
//   "stats\n"      {"mode":"ce","tun":"mape0","pid":…,"uptimeMs":…,"counters":{name:{packets,bytes},…}}
//   "status\n"     {"mode":…,"tun":…,"pid":…,"uptimeMs":…,"status":"<the one-line status>"}
//
// Where the socket lives: a TUN name is unique only inside one network
// namespace, and a path socket is not namespaced, so the path carries the
// namespace when the instance does not run in the initial one:
// /run/mape/<tun>.sock there, /run/mape/netns-<name>/<tun>.sock in a named
// one (`ip netns add <name>`), /run/mape/netns-<inode>/<tun>.sock in any
// other. `mape stats` run in the same namespace (e.g. under the same
// `ip netns exec`) finds the same path. MAPE_RUN_DIR replaces /run/mape;
// --control <path> on both sides replaces the whole path.
//
// A socket file left by a killed instance is stale: connecting to it is
// refused (ECONNREFUSED), so it is removed and the bind retried; one that
// answers belongs to a live instance, which is an error.

import { chmodSync, mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { basename, dirname, join } from "node:path";

/** The directory control sockets live in. */
export function runDir(): string {
  return process.env.MAPE_RUN_DIR || "/run/mape";
}

function netnsId(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * This process's network namespace as a directory name: "" for the initial
 * one, its name for one made by `ip netns add` (found as `ip netns identify`
 * finds it: the file under /run/netns with the same inode), else its inode.
 */
export function netnsTag(): string {
  const self = netnsId("/proc/self/ns/net");
  if (self === undefined) return "";
  for (const dir of ["/run/netns", "/var/run/netns"]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (netnsId(join(dir, n)) === self) return `netns-${n}`;
  }
  const init = netnsId("/proc/1/ns/net");
  // Unreadable pid 1 (a container): taken as the initial namespace.
  return init === undefined || init === self ? "" : `netns-${self.split(":")[1]}`;
}

/** The default control socket path of the instance serving `tun` in this network namespace. */
export function controlPath(tun: string): string {
  const tag = netnsTag();
  return join(tag ? join(runDir(), tag) : runDir(), `${tun}.sock`);
}

/** What the server answers with. */
export interface ControlHandlers {
  stats(): unknown;
  status(): string;
  /** More keys for the stats answer (where the configuration came from, provisioning). */
  extra?(): Record<string, unknown>;
}

/** The largest request line accepted (anything longer is not ours). */
const MAX_REQUEST = 256;

export class ControlServer {
  readonly path: string;
  private readonly server: Server;
  private readonly started = Date.now();
  private readonly base: { mode: string; tun: string };
  private closed = false;

  private constructor(path: string, server: Server, base: { mode: string; tun: string }) {
    this.path = path;
    this.server = server;
    this.base = base;
  }

  /**
   * Listens on `path` (making its directory, mode 0755; the socket is made
   * 0600). Throws an Error whose message says what is wrong (another
   * instance answers there, the directory cannot be made).
   */
  static async listen(path: string, base: { mode: string; tun: string }, handlers: ControlHandlers): Promise<ControlServer> {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new Error(`cannot make ${dir} for the control socket: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (give --control <path>)`);
    }
    let ctl: ControlServer | undefined;
    const server = createServer((sock) => ctl!.serve(sock, handlers));
    ctl = new ControlServer(path, server, base);
    server.unref(); // the TUN watch keeps the process alive, not the socket
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(path, () => {
            server.off("error", reject);
            resolve();
          });
        });
        server.on("error", () => {}); // after listening: a failed accept is not fatal to the instance
        break;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== "EADDRINUSE" || attempt > 0) {
          throw new Error(`cannot listen on ${path}: ${err.code ?? err.message}`);
        }
        if (await isAlive(path)) {
          throw new Error(`another mape instance answers on ${path} (it serves ${base.tun}: stop it first)`);
        }
        unlinkSync(path); // stale: left by an instance that did not exit cleanly
      }
    }
    // Only root (the owner) may talk to it: counters are not secret, but
    // nothing outside the operator needs them.
    try {
      chmodSync(path, 0o600);
    } catch {
      // not fatal
    }
    return ctl;
  }

  /** Stops listening and removes the socket file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
    // A per-namespace directory goes too once empty (rmdir refuses otherwise).
    const dir = dirname(this.path);
    if (basename(dir).startsWith("netns-")) {
      try {
        rmdirSync(dir);
      } catch {
        // another instance's socket is still there
      }
    }
  }

  private serve(sock: Socket, handlers: ControlHandlers): void {
    let req = "";
    sock.setEncoding("utf8");
    sock.setTimeout(5000, () => sock.destroy());
    sock.on("error", () => sock.destroy());
    sock.on("data", (d: string) => {
      req += d;
      const nl = req.indexOf("\n");
      if (nl < 0 && req.length <= MAX_REQUEST) return;
      const cmd = (nl < 0 ? req : req.slice(0, nl)).trim();
      sock.removeAllListeners("data");
      const head = { ...this.base, pid: process.pid, uptimeMs: Date.now() - this.started };
      let answer: unknown;
      if (cmd === "stats") answer = { ...head, counters: handlers.stats(), ...(handlers.extra?.() ?? {}) };
      else if (cmd === "status") answer = { ...head, status: handlers.status() };
      else answer = { error: `unknown request '${cmd.slice(0, 40)}' (stats, status)` };
      sock.end(`${JSON.stringify(answer)}\n`);
    });
  }
}

/** Whether something answers on the socket path (a live instance). */
function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Sends one request to the instance at `path` and returns its JSON answer.
 * Throws an Error that says when no instance is running there.
 */
export function request(path: string, what: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let data = "";
    s.setEncoding("utf8");
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    });
    s.on("connect", () => s.write(`${what}\n`));
    s.on("data", (d: string) => (data += d));
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "ECONNREFUSED") {
        reject(new Error(`no mape instance is running there (${path}: ${e.code}); give --tun <name> or --control <path>, and run in the instance's network namespace`));
      } else if (e.code === "EACCES") {
        reject(new Error(`${path}: permission denied (run as root)`));
      } else reject(new Error(`${path}: ${e.code ?? e.message}`));
    });
    s.on("end", () => {
      try {
        const v = JSON.parse(data) as Record<string, unknown>;
        if (typeof v.error === "string") reject(new Error(v.error));
        else resolve(v);
      } catch {
        reject(new Error(`${path}: not a mape control socket (answer: ${JSON.stringify(data.slice(0, 60))})`));
      }
    });
  });
}
