// The HB46PP client's state machine (v6mig-prov v1.0 §3.6), with the
// clock, the timer and the randomness injected so tests run it without
// waiting, and the last good rules kept on disk (§3.5).
//
//   start ──▶ [saved rules? apply them] ──▶ discover (TXT)
//   discover: NXDOMAIN / NODATA ─▶ off (stop MAP-E), retry in 1–3 h      (c.2)
//             other failure     ─▶ retry in 1–10 min                     (c.3)
//   fetch:    no HTTP answer    ─▶ retry in 10–30 min                    (f.2)
//             403/404, bad answer, rules the module refuses ─▶ 10–30 min (h.2)
//   rules:    same as in force  ─▶ nothing to do                         (i.1)
//             changed           ─▶ apply, save                           (j)
//   then wait ttl (at most 604800 s; none: 20–24 h), or until the delegated
//   prefix changes (prefixChanged()), and start over                     (k)
//
// Failures keep the rules in force (and on disk) except NXDOMAIN/NODATA,
// where §3.6 c.2 turns the method off.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { DiscoveryError, FetchError, type Discovery, type Fetched } from "./hb46pp.js";
import { provisionDelay, type Outcome } from "../config/rules.js";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** §3.6 retry windows, [min, max] ms (the module computes the waits: assembly/provision/timers.ts; these name them for tests and messages). */
export const RETRY = {
  absent: [1 * HOUR, 3 * HOUR],
  dnsFailed: [1 * MINUTE, 10 * MINUTE],
  noAnswer: [10 * MINUTE, 30 * MINUTE],
  error: [10 * MINUTE, 30 * MINUTE],
  noTtl: [20 * HOUR, 24 * HOUR],
} as const;
/** §3.4: ttl at most 7 days. */
export const MAX_TTL_S = 604800;
/** A ttl below this is taken as this (a server must not make us fetch in a loop). */
export const MIN_TTL_S = 10;

/** A timer the machine can set and clear (setTimeout in production, a fake in tests). */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear(h) {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

/** What the machine asks the CE to do with rules. */
export interface RulesSink {
  /**
   * Install these rules (the answer's bytes). Throws (a ConfigError) when
   * the module refuses them; returns a short description of what changed.
   */
  apply(text: Uint8Array, label: string): string;
  /** Turn MAP-E off (§3.6 c.2). */
  off(reason: string): void;
}

export interface ProvisionerOptions {
  discover(): Promise<Discovery>;
  fetch(d: Discovery, token?: string): Promise<Fetched>;
  /** The ttl (s, -1 none) and token the module read from an answer (it parses: see config/rules.ts). */
  inspect(text: Uint8Array): { ttl: number; token?: string };
  sink: RulesSink;
  /** Wall-clock ms (Date.now). */
  now?: () => number;
  timers?: Timers;
  /** [0, 1) (Math.random). */
  random?: () => number;
  /** Where the last good rules are kept (none: not kept). */
  stateFile?: string;
  log?: (line: string) => void;
}

/** What `mape stats` shows of the provisioning. */
export interface ProvisionerStatus {
  state: "starting" | "discovering" | "fetching" | "waiting" | "off" | "stopped";
  /** Where the rules in force came from ("https://…", "state file …"), when they came, and their ttl. */
  rulesFrom?: string;
  rulesAt?: string;
  ttl?: number;
  /** The server found by the TXT record. */
  server?: string;
  verify?: boolean;
  /** The next attempt, as an ISO time and seconds from now. */
  nextAt?: string;
  nextInS?: number;
  /** What the last attempt found, when it failed. */
  lastError?: string;
  lastAttemptAt?: string;
  attempts: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The state file's content (JSON). */
interface Saved {
  savedAt: string;
  from: string;
  rules: string;
}

export class Provisioner {
  private readonly o: ProvisionerOptions;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;
  private timer: unknown;
  private nextAt = 0;
  private running = false;
  /** Bumped on every (re)start: an attempt that finds it changed drops its result. */
  private generation = 0;
  private current?: Uint8Array;
  private token?: string;
  readonly status: ProvisionerStatus = { state: "starting", attempts: 0 };

  constructor(o: ProvisionerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
    this.random = o.random ?? Math.random;
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** The rules kept on disk, if any (parsed only as far as the file goes: the module checks the rules). */
  loadSaved(): { text: Uint8Array; label: string } | undefined {
    const f = this.o.stateFile;
    if (!f) return undefined;
    let s: Saved;
    try {
      s = JSON.parse(readFileSync(f, "utf8")) as Saved;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") this.log(`state file ${f} unreadable (${code ?? (e as Error).message}): not used`);
      return undefined;
    }
    if (typeof s?.rules !== "string" || typeof s.savedAt !== "string") {
      this.log(`state file ${f} is not a saved rule set: not used`);
      return undefined;
    }
    return { text: new Uint8Array(Buffer.from(s.rules, "utf8")), label: `state file ${f} (saved ${s.savedAt} from ${s.from})` };
  }

  /** Writes the rules atomically (a temporary file renamed over the old one). */
  private save(text: Uint8Array, from: string): void {
    const f = this.o.stateFile;
    if (!f) return;
    const saved: Saved = { savedAt: this.iso(this.now()), from, rules: Buffer.from(text).toString("utf8") };
    const tmp = `${f}.tmp-${process.pid}`;
    try {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
      renameSync(tmp, f);
    } catch (e) {
      this.log(`cannot save the rules to ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  /**
   * Starts: applies the saved rules (if any and the module takes them),
   * then runs the first attempt at once. Returns whether saved rules are in force.
   */
  start(): boolean {
    this.running = true;
    let fromDisk = false;
    const saved = this.loadSaved();
    if (saved) {
      try {
        const what = this.o.sink.apply(saved.text, saved.label);
        this.current = saved.text;
        this.token = this.o.inspect(saved.text).token;
        this.status.rulesFrom = saved.label;
        this.status.rulesAt = this.iso(this.now());
        fromDisk = true;
        this.log(`rules from ${saved.label}: ${what}; fetching fresh ones`);
      } catch (e) {
        this.log(`saved rules refused (${(e as Error).message}): not used`);
      }
    }
    this.schedule(0);
    return fromDisk;
  }

  stop(): void {
    this.running = false;
    this.generation++;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.status.state = "stopped";
  }

  /** §3.6 k: the CE's IPv6 address (delegated prefix) changed: start over now. */
  prefixChanged(): void {
    if (!this.running) return;
    this.log("delegated prefix changed: fetching the rules again");
    this.generation++;
    this.schedule(0);
  }

  /** The status with the time to the next attempt. */
  snapshot(): ProvisionerStatus {
    const s = { ...this.status };
    if (this.timer !== undefined) {
      s.nextAt = this.iso(this.nextAt);
      s.nextInS = Math.max(0, Math.round((this.nextAt - this.now()) / 1000));
    }
    return s;
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.nextAt = this.now() + ms;
    const gen = this.generation;
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      void this.attempt(gen);
    }, ms);
  }

  /** The module's wait after this outcome, in ms. */
  private delay(outcome: Outcome, ttl = -1): number {
    return provisionDelay(outcome, ttl, this.random()) * 1000;
  }

  private retry(outcome: Outcome, why: string, state: ProvisionerStatus["state"] = "waiting"): void {
    const ms = this.delay(outcome);
    this.status.state = state;
    this.status.lastError = why;
    this.schedule(ms);
    this.log(`${why}; next attempt in ${Math.round(ms / 1000)} s`);
  }

  /** One pass of §3.6 a)–k). */
  private async attempt(gen: number): Promise<void> {
    if (!this.running || gen !== this.generation) return;
    this.status.attempts++;
    this.status.lastAttemptAt = this.iso(this.now());
    this.status.state = "discovering";
    let d: Discovery;
    try {
      d = await this.o.discover();
    } catch (e) {
      if (!this.running || gen !== this.generation) return;
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof DiscoveryError && e.kind === "absent") {
        // c.2: no provisioning here: MAP-E off.
        if (this.current !== undefined) this.o.sink.off(`provisioning off: ${msg}`);
        this.current = undefined;
        this.status.rulesFrom = undefined;
        this.retry("absent", `provisioning off: ${msg}`, "off");
      } else this.retry("dnsFailed", `discovery failed: ${msg}`);
      return;
    }
    if (!this.running || gen !== this.generation) return;
    this.status.server = d.url;
    this.status.verify = d.verify;
    this.status.state = "fetching";
    let got: Fetched;
    try {
      got = await this.o.fetch(d, this.token);
    } catch (e) {
      if (!this.running || gen !== this.generation) return;
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof FetchError && e.kind === "no-answer") this.retry("noAnswer", `no answer from the provisioning server: ${msg}`);
      else this.retry("refused", `the provisioning server refused: ${msg}`);
      return;
    }
    if (!this.running || gen !== this.generation) return;
    const label = got.url.replace(/\?.*$/, "");
    let ttl: number;
    try {
      // g/h: the answer is parsed where the rules are (the sink); unchanged rules are not re-applied.
      const same = this.current !== undefined && sameBytes(this.current, got.body);
      const info = this.o.inspect(got.body);
      ttl = info.ttl;
      if (!same) {
        const what = this.o.sink.apply(got.body, label);
        this.current = got.body;
        this.save(got.body, label);
        this.log(`rules from ${label}: ${what}`);
      }
      if (info.token) this.token = info.token;
    } catch (e) {
      this.retry("refused", `the provisioning answer was refused: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.status.rulesFrom = label;
    this.status.rulesAt = this.iso(this.now());
    this.status.lastError = undefined;
    this.status.state = "waiting";
    if (ttl > MAX_TTL_S) this.log(`ttl ${ttl} s is above the 604800 s HB46PP allows: ${MAX_TTL_S} s taken`);
    const wait = this.delay("ok", ttl);
    this.status.ttl = ttl;
    this.schedule(wait);
  }
}
