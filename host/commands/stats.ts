// `mape stats`: the counters of a running `mape ce` / `mape br`, asked over
// its control socket (host/control.ts). Non-zero counters, aligned, in the
// module's order (docs/counters.md says what each means), or all of them as
// JSON with --json.

import { controlPath, request } from "../control.js";
import { UsageError } from "./usage.js";

export const summary = "print the counters of a running ce or br instance";

export const usage = `usage:
  mape stats [--tun <name>] [--control <path>] [--json] [--all]

Asks the instance serving the TUN <name> (default mape0) in this network
namespace over its control socket (/run/mape/<tun>.sock; MAPE_RUN_DIR moves
/run/mape) and prints its non-zero counters: name, packets, bytes.
--all prints the zero ones too; --json prints the whole answer as JSON
({"mode", "tun", "pid", "uptimeMs", "counters": {name: {packets, bytes}},
"configuration": {from, at, interfaceId, format, rules, installed, matchedRule,
ttl …}, and with --auto "provisioning": {state, server, rulesAt, nextAt,
nextInS, lastError, attempts …}). The text form prints the same above the
counters.
A CE also reports its port budget ("portBudget" in --json; the module
writes it, so both hosts print the same): per protocol the ports of the set
in use and free and the sessions, per LAN host its ports, sessions and
refusals, the busiest remote addresses, and when the set was found full;
and its inbound ports ("inbound" in --json): static forwards and PCP /
NAT-PMP mappings, each with its LAN address, lifetime left and sessions.
A running instance also prints its counters to stderr on SIGUSR1.`;

export type Counters = Record<string, { packets: number; bytes: number }>;

/** Counters as aligned lines "name  packets  bytes" (non-zero only unless `all`). */
export function formatCounters(c: Counters, all = false): string {
  const rows = Object.entries(c).filter(([, v]) => all || v.packets !== 0 || v.bytes !== 0);
  if (rows.length === 0) return "  (all counters are zero)\n";
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const w1 = Math.max("packets".length, ...rows.map(([, v]) => String(v.packets).length));
  const w2 = Math.max("bytes".length, ...rows.map(([, v]) => String(v.bytes).length));
  const line = (a: string, b: string, c2: string): string => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c2.padStart(w2)}`;
  return `${[line("", "packets", "bytes"), ...rows.map(([k, v]) => line(k, String(v.packets), String(v.bytes)))].join("\n")}\n`;
}

/** Where the configuration came from and the provisioning state, as "  key  value" lines. */
export function formatDiagnostics(answer: Record<string, unknown>): string {
  const out: string[] = [];
  const row = (k: string, v: unknown): void => {
    if (v !== undefined && v !== null) out.push(`  ${k.padEnd(16)}${Array.isArray(v) ? v.join(", ") : String(v)}`);
  };
  const c = answer.configuration as Record<string, unknown> | undefined;
  if (c) {
    row("rules from", c.from);
    row("rules since", c.at);
    if (c.format) row("rule format", `${c.format}, ${c.rules} rules${c.installed !== c.rules ? ` (${c.installed} installed)` : ""}${c.mesh ? ", mesh" : ""}`);
    row("matched rule", c.matchedRule);
    row("interface id", c.interfaceId === "draft-03" ? "draft-03 (legacy)" : "RFC 7597");
    row("ttl", c.ttl === undefined ? undefined : `${c.ttl} s`);
  }
  const p = answer.provisioning as Record<string, unknown> | undefined;
  if (p) {
    row("provisioning", p.state);
    row("server", p.server === undefined ? undefined : `${p.server}${p.verify ? "" : " (certificate not checked)"}`);
    row("fetched", p.rulesAt);
    row("next fetch", p.nextAt === undefined ? undefined : `${p.nextAt} (in ${p.nextInS} s)`);
    row("last error", p.lastError);
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

export async function run(argv: string[]): Promise<number> {
  let tun = "mape0";
  let path: string | undefined;
  let json = false;
  let all = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
      return argv[++i];
    };
    if (flag === "--tun") tun = value();
    else if (flag === "--control") path = value();
    else if (a === "--json") json = true;
    else if (a === "--all") all = true;
    else if (a === "--help" || a === "-h") {
      console.log(usage);
      return 0;
    } else throw new UsageError(`stats: unknown argument '${a}' (see 'mape stats --help')`);
  }
  const answer = await request(path ?? controlPath(tun), "stats");
  if (json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  const counters = (answer.counters ?? {}) as Counters;
  process.stdout.write(`${answer.mode} on ${answer.tun} (pid ${answer.pid}, up ${Math.round(Number(answer.uptimeMs) / 1000)} s)\n`);
  process.stdout.write(formatDiagnostics(answer));
  // Texts the instance's module rendered: the same from either host.
  if (typeof answer.inboundText === "string") process.stdout.write(answer.inboundText);
  if (typeof answer.portBudgetText === "string") process.stdout.write(answer.portBudgetText);
  process.stdout.write(formatCounters(counters, all));
  return 0;
}
