// `mape ce --auto`: the flags, and the HB46PP client wired to the network
// (hb46pp.ts) and to the state machine (state.ts). The runner (host/runner.ts)
// gives it a sink that installs the rules and keeps the sessions when the
// BMR stays.

import { readFileSync } from "node:fs";
import { UsageError } from "../commands/usage.js";
import { inspectRules } from "../config/rules.js";
import { DEFAULT_IDENTITY, HB46PP_DOMAIN, discover, fetchRules, identityProblem, requestUrl, type ClientIdentity } from "./hb46pp.js";
import { Provisioner, type RulesSink, type Timers } from "./state.js";

export interface AutoOptions {
  domain: string;
  dnsServers: string[];
  /** PEM of extra trust anchors (--ca). */
  ca?: Buffer;
  caFile?: string;
  /** --insecure: no certificate check even when the TXT record says t=b. */
  insecure: boolean;
  stateFile?: string;
  identity: ClientIdentity;
}

/** Default place of the last good rules. */
export const DEFAULT_STATE_DIR = "/var/lib/mape";

const VALUE = ["--hb46pp-domain", "--ca", "--rules-state", "--dns-server", "--vendorid"];

/**
 * Takes the --auto flags out of argv. Returns undefined (and argv as is)
 * without --auto; throws UsageError for --auto flags without --auto.
 */
export function takeAutoFlags(argv: string[], tun: () => string): { auto?: AutoOptions; rest: string[] } {
  const rest: string[] = [];
  let auto = false;
  const o: AutoOptions = { domain: HB46PP_DOMAIN, dnsServers: [], insecure: false, identity: { ...DEFAULT_IDENTITY } };
  const seen: string[] = [];
  let stateGiven: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (flag === "--auto" && eq < 0) {
      auto = true;
      continue;
    }
    if (flag === "--insecure" && eq < 0) {
      o.insecure = true;
      seen.push(flag);
      continue;
    }
    if (!VALUE.includes(flag)) {
      rest.push(a);
      continue;
    }
    let v: string;
    if (eq > 0) v = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
      v = argv[++i];
    }
    seen.push(flag);
    if (flag === "--hb46pp-domain") {
      if (!/^[A-Za-z0-9.-]{1,253}$/.test(v)) throw new UsageError(`--hb46pp-domain: '${v}' is not a domain name`);
      o.domain = v;
    } else if (flag === "--dns-server") o.dnsServers.push(v);
    else if (flag === "--rules-state") stateGiven = v;
    else if (flag === "--vendorid") o.identity.vendorid = v;
    else if (flag === "--ca") {
      try {
        o.ca = readFileSync(v);
        o.caFile = v;
      } catch (e) {
        throw new UsageError(`--ca: cannot read ${v}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }
  if (!auto) {
    if (seen.length > 0) throw new UsageError(`${seen[0]} goes with --auto`);
    return { rest };
  }
  if (o.ca && o.insecure) throw new UsageError("--ca and --insecure: give one (--insecure checks no certificate at all)");
  const bad = identityProblem(o.identity);
  if (bad) throw new UsageError(bad);
  o.stateFile = stateGiven === "" ? undefined : stateGiven ?? `${DEFAULT_STATE_DIR}/${tun()}.rules.json`;
  return { auto: o, rest };
}

/** The provisioner for these options (real network; clock and timers may be given for tests). */
export function autoProvisioner(o: AutoOptions, sink: RulesSink, log: (line: string) => void, timers?: Timers): Provisioner {
  return new Provisioner({
    discover: () => discover({ domain: o.domain, servers: o.dnsServers }),
    fetch: (d, token) => fetchRules(requestUrl(d.url, o.identity, token), { verify: d.verify && !o.insecure, ca: o.ca }),
    inspect: (t) => inspectRules(t, "provisioning answer"),
    sink,
    stateFile: o.stateFile,
    log,
    timers,
  });
}
