// The OpenWrt HB46PP fetcher (openwrt/files/usr/share/mape/hb46pp.sh) under
// busybox ash, with the router program's `mape hb46pp discover` asking a
// DNS server in this process, uclient-fetch, sleep and `mape ce` replaced by
// recorders, and netifd's helpers by the recorders of tests/host/openwrt.test.ts'
// kind. No real waiting: the fake sleep returns at once and logs how long
// it was asked for, so the retry windows are checked on the values the
// module gave. Also `mape hb46pp discover` and `delay` on their own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../e2e/files.js";
import { skipUnlessCI } from "../host/prereq.js";
import { exePath, missing, targetNamed } from "./router.js";
import { LOG_FN } from "../host/shlog.js";

const x86 = targetNamed("x86_64");
const MAPE = exePath(x86);
const FETCHER = join(repoRoot(), "openwrt/files/usr/share/mape/hb46pp.sh");
const HANDLER = join(repoRoot(), "openwrt/files/lib/netifd/proto/mape.sh");
const HOOK = join(repoRoot(), "openwrt/files/usr/share/mape/odhcp6c-hook.sh");
const haveBusybox = spawnSync("sh", ["-c", "command -v busybox"]).status === 0;
const skip = skipUnlessCI(missing(x86) ?? (haveBusybox ? undefined : "busybox not installed"));

// ---- a DNS server answering 4over6.info as the test says ----

type DnsMode = "txt" | "nxdomain" | "nodata" | "servfail" | "silent" | "other-txt";
const TXT = "v=v6mig-1 url=https://prov.example/rule.cgi t=b";

const cat = (...parts: ArrayLike<number>[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

function dnsAnswer(q: Uint8Array, mode: DnsMode): Uint8Array | undefined {
  if (mode === "silent") return undefined;
  let at = 12;
  while (q[at] !== 0) at += q[at] + 1;
  const question = q.subarray(12, at + 5);
  const h = Buffer.alloc(12);
  h[0] = q[0];
  h[1] = q[1];
  const rcode = mode === "nxdomain" ? 3 : mode === "servfail" ? 2 : 0;
  h[2] = 0x81;
  h[3] = 0x80 | rcode;
  h.writeUInt16BE(1, 4);
  const txt = mode === "txt" ? TXT : mode === "other-txt" ? "v=spf1 -all" : undefined;
  if (!txt) return cat(h, question);
  h.writeUInt16BE(1, 6);
  // The record in two strings, as a long one would come: the client joins them.
  const a = Buffer.from(txt.slice(0, 20));
  const b = Buffer.from(txt.slice(20));
  const rdata = cat(Uint8Array.of(a.length), a, Uint8Array.of(b.length), b);
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(16, 2);
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(300, 6);
  rr.writeUInt16BE(rdata.length, 10);
  return cat(h, question, rr, rdata);
}

class Dns {
  mode: DnsMode = "txt";
  /** When set: the mode of round <the number in round file> (the fake sleep counts rounds). */
  rounds?: { modes: DnsMode[]; file: string };
  queries = 0;
  private sock: Socket;
  port = 0;
  constructor() {
    this.sock = createSocket("udp6");
  }
  async start(): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, "::1", () => r()));
    this.port = this.sock.address().port;
    this.sock.on("message", (m: Uint8Array, from) => {
      this.queries++;
      let mode = this.mode;
      if (this.rounds) {
        const n = existsSync(this.rounds.file) ? Number(readFileSync(this.rounds.file, "utf8").trim()) : 0;
        mode = this.rounds.modes[Math.min(n, this.rounds.modes.length - 1)];
      }
      const a = dnsAnswer(m, mode);
      if (a) this.sock.send(a, from.port, from.address);
    });
  }
  close(): void {
    this.sock.close();
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill("SIGKILL"), 60_000);
    c.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

// ---- the rule answers ----

const PREFIX = "2001:db8:1:2345::/64";
const rules = (v4: string, br: string, ttl: number): string =>
  JSON.stringify({ ttl, map_e: { version: 1, mesh: true, br, rules: [{ ipv6: "2001:db8:1:2000::/52", ipv4: v4, ea_length: 12, psid_offset: 4 }] } });
const A = rules("203.0.113.0/24", "2001:db8::1", 3600);
const A2 = rules("203.0.113.0/24", "2001:db8::2", 60); // same BMR, new BR, short ttl
const B = rules("198.51.100.0/24", "2001:db8::2", 60); // another BMR

// ---- the doubles ----

const RECORDED = ["proto_init_update", "proto_add_ipv4_route", "proto_add_ipv6_route", "proto_add_data", "proto_close_data", "proto_send_update",
  "json_add_string", "json_add_array", "json_close_array", "json_add_object", "json_close_object"];
const NETIFD = `${LOG_FN}\n${RECORDED.map((f) => `${f}() { mape_test_log ${f} "$@"; }`).join("\n")}\n`;

const bin = (body: string): string => `#!/bin/sh\n${LOG_FN}\n${body}\n`;
/** `mape`: `ce` is a stand-in that logs its signals and "creates" its TUN; the rest is the router program. */
const FAKE_MAPE = bin(`if [ "$1" = ce ]; then
  mape_test_log mape "$@"
  trap 'mape_test_log ce-signal HUP' HUP
  trap 'mape_test_log ce-signal TERM; exit 0' TERM
  while [ $# -gt 0 ]; do [ "$1" = --tun ] && mkdir -p "$MAPE_SYS_NET/$2"; shift; done
  i=0; while [ $i -lt 600 ]; do /bin/sleep 0.1 & wait $!; i=$((i+1)); done
  exit 0
fi
[ "$1" = hb46pp ] && mape_test_log mape "$@"
exec "$MAPE_TEST_NATIVE" "$@"`);
/** uclient-fetch: answer n from $MAPE_TEST_FETCH/<n> (its exit status in <n>.rc). */
const FAKE_FETCH = bin(`mape_test_log uclient-fetch "$@"
n=$(cat "$MAPE_TEST_FETCH/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$MAPE_TEST_FETCH/n"
rc=$(cat "$MAPE_TEST_FETCH/$n.rc" 2>/dev/null || echo 0)
out=""; while [ $# -gt 0 ]; do [ "$1" = -O ] && out="$2"; shift; done
if [ "$rc" = 0 ]; then cp "$MAPE_TEST_FETCH/$n" "$out"; else cat "$MAPE_TEST_FETCH/$n.err" >&2 2>/dev/null; fi
exit $rc`);
/** sleep: logged, no wait; a wait between rounds (10 s or more) moves the DNS server to the next round's answer. */
const FAKE_SLEEP = bin(`mape_test_log sleep "$@"
if [ "$1" -ge 10 ] 2>/dev/null; then n=$(cat "$MAPE_TEST_ROUND" 2>/dev/null || echo 0); echo $((n+1)) > "$MAPE_TEST_ROUND"; else /bin/sleep 0.02; fi
# A new delegated prefix during the first wait: odhcp6c's hook runs as dhcpv6.script would run it.
if [ -n "$MAPE_TEST_NEW_PREFIXES" ] && [ "$n" = 0 ] && [ "$1" -ge 10 ] 2>/dev/null; then
  INTERFACE=wan6 PREFIXES="$MAPE_TEST_NEW_PREFIXES" busybox sh -c '. "$0"' "$MAPE_TEST_HOOK" wan6 updated
  /bin/sleep 5
fi`);

interface Round {
  dns: DnsMode;
  /** The answer uclient-fetch gives (a body), or its exit status and message. */
  fetch?: string | { rc: number; err: string };
}

interface Result {
  code: number | null;
  stderr: string;
  log: string[][];
  rulesFile: string;
  rules?: string;
  status?: Record<string, unknown>;
}

/** Runs `hb46pp.sh run` for these rounds (one DNS mode each, changed between rounds by the fake sleep). */
async function fetcher(dns: Dns, rounds: Round[], saved?: string, env: Record<string, string> = {}, prefixes = `2001:db8:9::/48 ${PREFIX}`): Promise<Result> {
  const t = mkdtempSync(join(tmpdir(), "mape-hb46pp-"));
  try {
    mkdirSync(join(t, "bin"));
    mkdirSync(join(t, "fetch"));
    mkdirSync(join(t, "net"));
    const files: [string, string][] = [["mape", FAKE_MAPE], ["uclient-fetch", FAKE_FETCH], ["sleep", FAKE_SLEEP]];
    for (const [n, body] of files) {
      writeFileSync(join(t, "bin", n), body);
      chmodSync(join(t, "bin", n), 0o755);
    }
    let k = 0;
    for (const r of rounds) {
      if (r.fetch === undefined) continue;
      k++;
      if (typeof r.fetch === "string") writeFileSync(join(t, "fetch", String(k)), r.fetch);
      else {
        writeFileSync(join(t, "fetch", `${k}.rc`), String(r.fetch.rc));
        writeFileSync(join(t, "fetch", `${k}.err`), r.fetch.err);
      }
    }
    const rulesFile = join(t, "etc", "wanmap.rules.json");
    if (saved) {
      mkdirSync(join(t, "etc"));
      writeFileSync(rulesFile, saved);
    }
    const log = join(t, "log");
    writeFileSync(log, "");
    writeFileSync(join(t, "netifd-proto.sh"), NETIFD);
    // The driver: the handler (for mape_send_update) and the fetcher as libraries, then one run.
    writeFileSync(join(t, "driver.sh"), `INCLUDE_ONLY=1\n. "${join(t, "netifd-proto.sh")}"\n. "${HANDLER}"\n. "${FETCHER}"\nhb46pp_run "$@"\n`);
    // The DNS answer of each round: the fake sleep (between rounds) moves to the next.
    const roundFile = join(t, "round");
    dns.rounds = { modes: rounds.map((x) => x.dns), file: roundFile };
    const r = await run("busybox", ["sh", join(t, "driver.sh"), "wanmap", "mape-wanmap", rulesFile, prefixes, "wan", "--", "--tunnel-mtu", "1320"], {
      PATH: `${join(t, "bin")}:${process.env.PATH}`,
      MAPE_TEST_LOG: log,
      MAPE_TEST_NATIVE: MAPE,
      MAPE_TEST_FETCH: join(t, "fetch"),
      MAPE_TEST_ROUND: roundFile,
      MAPE_TEST_HOOK: HOOK,
      MAPE_RUN_DIR: join(t, "run"),
      MAPE_SYS_NET: join(t, "net"),
      MAPE_TUN_WAIT_SECONDS: "500",
      MAPE_HB46PP_ROUNDS: String(rounds.length),
      MAPE_HB46PP_DNS: `[::1]:${dns.port}`,
      MAPE_HB46PP_CA: "/etc/mape/lab-ca.pem",
      ...env,
    });
    dns.rounds = undefined;
    const calls = readFileSync(log, "utf8").split("\n").filter((l) => l !== "").map((l) => {
      const sp = l.indexOf(" ");
      return [sp < 0 ? l : l.slice(0, sp), ...[...(sp < 0 ? "" : l.slice(sp)).matchAll(/ \[([^\]]*)\]/g)].map((m) => m[1])];
    });
    const runDir = join(t, "run");
    const leftover = existsSync(runDir) ? readdirSync(runDir).filter((f) => f.endsWith(".pid")) : [];
    assert.deepEqual(leftover, [], "the fetcher removes its pid file when it ends");
    const status = existsSync(`${rulesFile}.status`) ? (JSON.parse(readFileSync(`${rulesFile}.status`, "utf8")) as Record<string, unknown>) : undefined;
    return { code: r.code, stderr: r.stderr, log: calls, rulesFile, rules: existsSync(rulesFile) ? readFileSync(rulesFile, "utf8") : undefined, status };
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
}

/** The waits the fetcher announced (the last round's is announced, not slept: the test stops there). */
const sleeps = (r: Result): number[] => {
  const said = [...r.stderr.matchAll(/next attempt in (\d+) s/g)].map((m) => Number(m[1]));
  const slept = r.log.filter((c) => c[0] === "sleep" && Number(c[1]) >= 10).map((c) => Number(c[1]));
  assert.deepEqual(slept, said.slice(0, -1), "each announced wait is the one slept");
  return said;
};
const of = (r: Result, name: string): string[][] => r.log.filter((c) => c[0] === name);

let dns: Dns;
test.before(async () => {
  dns = new Dns();
  await dns.start();
});
test.after(() => dns?.close());

test("shellcheck: the HB46PP fetcher is clean", { skip: skipUnlessCI(spawnSync("sh", ["-c", "command -v shellcheck"]).status === 0 ? undefined : "shellcheck not installed") }, () => {
  const r = spawnSync("shellcheck", [FETCHER, HANDLER], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("mape hb46pp discover: the TXT record in two strings; NXDOMAIN and NODATA exit 3; SERVFAIL and no answer exit 4", { skip, timeout: 60_000 }, async () => {
  const ask = () => run(MAPE, ["hb46pp", "discover", "--dns-server", `[::1]:${dns.port}`]);
  dns.mode = "txt";
  let r = await ask();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `url=https://prov.example/rule.cgi\nverify=1\nrecord=${TXT}\n`);
  dns.mode = "nxdomain";
  r = await ask();
  assert.equal(r.code, 3);
  assert.equal(r.stderr, "mape: TXT 4over6.info: NXDOMAIN\n");
  dns.mode = "nodata";
  r = await ask();
  assert.equal(r.code, 3);
  assert.equal(r.stderr, "mape: TXT 4over6.info: NODATA\n");
  dns.mode = "other-txt";
  r = await ask();
  assert.equal(r.code, 3);
  assert.equal(r.stderr, "mape: TXT 4over6.info: no v=v6mig-1 TXT record\n");
  dns.mode = "servfail";
  r = await ask();
  assert.equal(r.code, 4);
  assert.equal(r.stderr, "mape: TXT 4over6.info: SERVFAIL\n");
  dns.mode = "silent";
  r = await ask();
  assert.equal(r.code, 4);
  assert.match(r.stderr, /^mape: TXT 4over6.info: \[::1\]:\d+: no answer within 6000 ms\n$/);
  r = await run(MAPE, ["hb46pp", "discover", "--dns-server", "not-an-address"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^mape: --dns-server: 'not-an-address' is not an address/);
});

test("mape hb46pp delay: the module's windows (ttl clamped to 10..604800 s)", { skip }, () => {
  const d = (...a: string[]): number => {
    const r = spawnSync(MAPE, ["hb46pp", "delay", ...a], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  assert.equal(d("ok", "--ttl", "3600"), 3600);
  assert.equal(d("ok", "--ttl", "1"), 10);
  assert.equal(d("ok", "--ttl", "9999999"), 604800);
  for (let i = 0; i < 5; i++) {
    const noTtl = d("ok");
    assert.ok(noTtl >= 20 * 3600 && noTtl < 24 * 3600, String(noTtl));
    const absent = d("absent");
    assert.ok(absent >= 3600 && absent < 3 * 3600, String(absent));
    const dnsFailed = d("dns-failed");
    assert.ok(dnsFailed >= 60 && dnsFailed < 600, String(dnsFailed));
    for (const o of ["no-answer", "refused"]) {
      const v = d(o);
      assert.ok(v >= 600 && v < 1800, `${o} ${v}`);
    }
  }
  const bad = spawnSync(MAPE, ["hb46pp", "delay", "later"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^mape: hb46pp delay: 'later' is not an outcome/);
});

test("the fetcher: rules fetched and the CE started; same BMR → SIGHUP only; new BMR → SIGHUP and a new netifd update; no answer kept; NXDOMAIN stops the CE", { skip, timeout: 120_000 }, async () => {
  const r = await fetcher(dns, [
    { dns: "txt", fetch: A },
    { dns: "txt", fetch: A2 },
    { dns: "txt", fetch: B },
    { dns: "txt", fetch: { rc: 4, err: "Connection error: Connection refused" } },
    { dns: "nxdomain" },
  ]);
  assert.equal(r.code, 0, r.stderr);
  // The request: over IPv6, the CA, our identity and capabilities.
  const f = of(r, "uclient-fetch");
  assert.equal(f.length, 4);
  assert.deepEqual(f[0].slice(1, 6), ["-6", "-q", "-T", "15", "--ca-certificate=/etc/mape/lab-ca.pem"]);
  assert.equal(f[0].at(-1), "https://prov.example/rule.cgi?vendorid=020000-mape_wasm&product=mape-wasm&version=0_1_0&capability=map_e,hubspoke,mesh");
  // The CE: started once, on the rules file, with the prefix the rules accept (not the first candidate).
  const ce = of(r, "mape").filter((c) => c[1] === "ce");
  assert.deepEqual(ce, [["mape", "ce", "--rules", r.rulesFile, "--prefix", PREFIX, "--tun", "mape-wanmap", "--tunnel-mtu", "1320"]]);
  // Signals: HUP for A2 (same BMR), HUP for B (new BMR), TERM at NXDOMAIN.
  assert.deepEqual(of(r, "ce-signal").map((c) => c[1]), ["HUP", "HUP", "TERM"]);
  assert.match(r.stderr, /BMR unchanged: the CE reloads them \(its sessions kept\)/);
  assert.match(r.stderr, /BMR changed: the CE reloads them \(its sessions reset\) and netifd gets the new MAP address/);
  // netifd updates: the first rules, then B's new MAP address.
  const maps = of(r, "json_add_string").filter((c) => c[1] === "map_address").map((c) => c[2]);
  assert.equal(maps.length, 2);
  assert.notEqual(maps[0], maps[1]);
  const v4 = of(r, "json_add_string").filter((c) => c[1] === "ipv4_address").map((c) => c[2]);
  assert.match(v4[0], /^203\.0\.113\.\d+$/);
  assert.match(v4[1], /^198\.51\.100\.\d+$/);
  assert.deepEqual(of(r, "proto_send_update"), [["proto_send_update", "wanmap"], ["proto_send_update", "wanmap"]]);
  // Waits: ttl 3600, ttl 60, ttl 60, no answer 10–30 min, NXDOMAIN 1–3 h.
  const w = sleeps(r);
  assert.deepEqual(w.slice(0, 3), [3600, 60, 60]);
  assert.ok(w[3] >= 600 && w[3] < 1800, String(w[3]));
  assert.ok(w[4] >= 3600 && w[4] < 10800, String(w[4]));
  // The last good rules stay on disk; the status says off, and what came last.
  assert.equal(r.rules, B);
  assert.equal(r.status?.state, "off");
  assert.equal(r.status?.attempts, 5);
  assert.equal(r.status?.server, "https://prov.example/rule.cgi");
  assert.match(String(r.status?.lastError), /NXDOMAIN/);
  assert.match(r.stderr, /MAP-E stopped until the provisioning server serves this line again/);
});

test("the fetcher: saved rules start the CE before any fetch; a DNS failure retries in 1–10 min; a 403 in 10–30 min; a refused answer is not installed", { skip, timeout: 120_000 }, async () => {
  const r = await fetcher(dns, [
    { dns: "servfail" },
    { dns: "txt", fetch: { rc: 8, err: "HTTP error 403" } },
    { dns: "txt", fetch: JSON.stringify({ map_e: { br: "2001:db8::1", rules: [{ ipv6: "2001:db8:1:2000::/52", ipv4: "203.0.113.0/24", ea_length: 80 }] } }) },
  ], A);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /using the saved rules .*wanmap\.rules\.json until a fetch succeeds/);
  assert.equal(of(r, "mape").filter((c) => c[1] === "ce").length, 1);
  assert.deepEqual(of(r, "proto_send_update").length, 1);
  assert.deepEqual(of(r, "ce-signal").map((c) => c[1]), ["TERM"], "no reload: nothing new was installed");
  const w = sleeps(r);
  assert.ok(w[0] >= 60 && w[0] < 600, String(w[0]));
  assert.ok(w[1] >= 600 && w[1] < 1800, String(w[1]));
  assert.ok(w[2] >= 600 && w[2] < 1800, String(w[2]));
  assert.match(r.stderr, /SERVFAIL/);
  assert.match(r.stderr, /the provisioning server refused: https:\/\/prov\.example\/rule\.cgi: HTTP error 403/);
  assert.match(r.stderr, /ea_length: EA-bits length above 48/);
  assert.equal(r.rules, A, "the saved rules stay");
  assert.equal(r.status?.state, "waiting");
});

test("the fetcher: insecure (or t=a) fetches with --no-check-certificate and no CA", { skip, timeout: 60_000 }, async () => {
  const r = await fetcher(dns, [{ dns: "txt", fetch: A }], undefined, { MAPE_HB46PP_INSECURE: "1", MAPE_HB46PP_VENDORID: "0012ab-lab" });
  assert.equal(r.code, 0, r.stderr);
  const f = of(r, "uclient-fetch")[0];
  assert.ok(f.includes("--no-check-certificate"), f.join(" "));
  assert.ok(!f.some((a) => a.startsWith("--ca-certificate")), f.join(" "));
  assert.match(f.at(-1)!, /\?vendorid=0012ab-lab&/);
});

test("a new delegated prefix (the odhcp6c hook, during a wait): the fetcher fetches at once and restarts the CE on the new prefix", { skip, timeout: 120_000 }, async () => {
  const NEW = "2001:db8:1:2346::/64";
  const r = await fetcher(dns, [{ dns: "txt", fetch: A }, { dns: "txt", fetch: A }], undefined,
    { MAPE_HB46PP_TUNLINK: "wan6", MAPE_TEST_NEW_PREFIXES: `${NEW},3600,7200` }, PREFIX);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`delegated prefix changed \\(${PREFIX} -> ${NEW}\\): fetching the rules again`));
  const ce = of(r, "mape").filter((c) => c[1] === "ce").map((c) => c[5]);
  assert.deepEqual(ce, [PREFIX, NEW], "the CE ran on the old prefix, then on the new one");
  assert.deepEqual(of(r, "ce-signal").map((c) => c[1]), ["TERM", "TERM"]);
  assert.equal(of(r, "uclient-fetch").length, 2, "fetched again at once");
  const maps = of(r, "json_add_string").filter((c) => c[1] === "map_address").map((c) => c[2]);
  assert.equal(maps.length, 2);
  assert.match(maps[1], /^2001:db8:1:2346:/, "netifd got the new MAP address");
});

test("the router program's mape ce --auto: one line saying where the fetch is done, exit 2", { skip }, () => {
  const r = spawnSync(MAPE, ["ce", "--auto", "--prefix", "2403:9200:1234::/48"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^mape: --auto: the router program fetches no rules itself .*option auto '1'.*--rules <file>\n$/);
});
