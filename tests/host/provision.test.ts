// The HB46PP client's retry and refetch state machine (host/provision/state.ts)
// on a fake clock and fake timers: no real waiting. Also the TXT record and
// request URL of host/provision/hb46pp.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Provisioner, HOUR, MINUTE, type Timers } from "../../host/provision/state.js";
import { DiscoveryError, FetchError, parseTxt, requestUrl, DEFAULT_IDENTITY, identityProblem, type Discovery } from "../../host/provision/hb46pp.js";
import { inspectRules } from "../../host/config/rules.js";

/** Timers that run when the test moves the clock. */
class FakeClock implements Timers {
  t = Date.UTC(2026, 0, 1);
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.t;
  set(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clear(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** The delay of the one pending timer (the machine keeps at most one). */
  next(): number {
    assert.equal(this.pending.size, 1, "one timer pending");
    return [...this.pending.values()][0].at - this.t;
  }
  /** Moves to the next timer, runs it, lets the attempt's promises settle. */
  async fire(): Promise<void> {
    const [id, p] = [...this.pending.entries()].sort((a, b) => a[1].at - b[1].at)[0];
    this.pending.delete(id);
    this.t = p.at;
    p.fn();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }
}

const RULES = (br: string, ttl?: number): Uint8Array =>
  new Uint8Array(Buffer.from(JSON.stringify({
    ...(ttl === undefined ? {} : { ttl }),
    token: "640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a",
    map_e: { version: 1, mesh: true, br, rules: [{ ipv6: "2001:db8:1:2000::/52", ipv4: "203.0.113.0/24", ea_length: 12, psid_offset: 4 }] },
  })));

const SERVER: Discovery = { url: "https://prov.example/rule.cgi", verify: true, record: "v=v6mig-1 url=https://prov.example/rule.cgi t=b" };

interface World {
  clock: FakeClock;
  p: Provisioner;
  applied: string[];
  offs: string[];
  logs: string[];
  tokens: (string | undefined)[];
  discover: () => Promise<Discovery>;
  fetch: () => Promise<{ body: Uint8Array; url: string }>;
}

function world(stateFile?: string, random = 0.5): World {
  const w = { clock: new FakeClock(), applied: [], offs: [], logs: [], tokens: [] } as unknown as World;
  w.discover = async () => SERVER;
  w.fetch = async () => ({ body: RULES("2001:db8::1", 3600), url: SERVER.url });
  w.p = new Provisioner({
    discover: () => w.discover(),
    fetch: (_d, token) => {
      w.tokens.push(token);
      return w.fetch();
    },
    inspect: (t) => inspectRules(t),
    sink: {
      apply: (text, label) => {
        const br = (JSON.parse(Buffer.from(text).toString()) as { map_e: { br: string } }).map_e.br;
        w.applied.push(`${label} ${br}`);
        return `BR ${br}`;
      },
      off: (why) => void w.offs.push(why),
    },
    now: w.clock.now,
    timers: w.clock,
    random: () => random,
    stateFile,
    log: (l) => void w.logs.push(l),
  });
  return w;
}

test("success: rules applied, refetched at ttl, unchanged rules not applied again, the token sent back", async () => {
  const w = world();
  w.p.start();
  assert.equal(w.clock.next(), 0);
  await w.clock.fire();
  assert.deepEqual(w.applied, ["https://prov.example/rule.cgi 2001:db8::1"]);
  assert.equal(w.clock.next(), 3600 * 1000);
  assert.equal(w.p.snapshot().state, "waiting");
  assert.equal(w.p.snapshot().nextInS, 3600);
  await w.clock.fire();
  assert.equal(w.applied.length, 1, "same answer: nothing re-applied");
  assert.deepEqual(w.tokens, [undefined, "640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a"]);
  // The server's JSON changes (new BR, short ttl): applied, next fetch at the new ttl.
  w.fetch = async () => ({ body: RULES("2001:db8::2", 120), url: SERVER.url });
  await w.clock.fire();
  assert.deepEqual(w.applied.at(-1), "https://prov.example/rule.cgi 2001:db8::2");
  assert.equal(w.clock.next(), 120 * 1000);
});

test("no ttl: 20–24 h; a ttl above 604800 s is taken as 604800; below 10 s as 10", async () => {
  let w = world(undefined, 0);
  w.fetch = async () => ({ body: RULES("2001:db8::1"), url: SERVER.url });
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 20 * HOUR);
  w = world(undefined, 0.999999);
  w.fetch = async () => ({ body: RULES("2001:db8::1"), url: SERVER.url });
  w.p.start();
  await w.clock.fire();
  assert.ok(w.clock.next() < 24 * HOUR && w.clock.next() > 23.9 * HOUR);
  w = world();
  w.fetch = async () => ({ body: RULES("2001:db8::1", 10_000_000), url: SERVER.url });
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 604800 * 1000);
  assert.ok(w.logs.some((l) => /above the 604800 s/.test(l)));
  w = world();
  w.fetch = async () => ({ body: RULES("2001:db8::1", 0), url: SERVER.url });
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 10 * 1000);
});

test("NXDOMAIN: provisioning off (rules in force turned off), retry in 1–3 h", async () => {
  for (const [random, ms] of [[0, 1 * HOUR], [0.5, 2 * HOUR]] as const) {
    const w = world(undefined, random);
    w.p.start();
    await w.clock.fire();
    assert.equal(w.applied.length, 1);
    // Then the record goes away.
    w.discover = async () => {
      throw new DiscoveryError("absent", "TXT 4over6.info: NXDOMAIN");
    };
    await w.clock.fire();
    assert.deepEqual(w.offs, ["provisioning off: TXT 4over6.info: NXDOMAIN"]);
    assert.equal(w.p.snapshot().state, "off");
    assert.equal(w.clock.next(), ms);
    // Still absent: not turned off twice.
    await w.clock.fire();
    assert.equal(w.offs.length, 1);
  }
});

test("other DNS failures: 1–10 min; no HTTP answer: 10–30 min; 403/404 and refused answers: 10–30 min", async () => {
  let w = world(undefined, 0);
  w.discover = async () => {
    throw new DiscoveryError("failed", "TXT 4over6.info: ETIMEOUT");
  };
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 1 * MINUTE);
  assert.equal(w.p.snapshot().lastError, "discovery failed: TXT 4over6.info: ETIMEOUT");
  w = world(undefined, 0.999999);
  w.discover = async () => {
    throw new DiscoveryError("failed", "TXT 4over6.info: ESERVFAIL");
  };
  w.p.start();
  await w.clock.fire();
  assert.ok(w.clock.next() >= 9.9 * MINUTE && w.clock.next() < 10 * MINUTE);

  w = world(undefined, 0);
  w.fetch = async () => {
    throw new FetchError("no-answer", "prov.example: ECONNREFUSED");
  };
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 10 * MINUTE);
  assert.equal(w.applied.length, 0);

  w = world(undefined, 0.5);
  w.fetch = async () => {
    throw new FetchError("not-served", "prov.example: 403 (this line is not served)", 403);
  };
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 20 * MINUTE);

  // An answer the module refuses (order []: not served) keeps what is in force.
  w = world(undefined, 0);
  w.p.start();
  await w.clock.fire();
  w.fetch = async () => ({ body: new Uint8Array(Buffer.from('{"order":[],"ttl":60}')), url: SERVER.url });
  await w.clock.fire();
  assert.equal(w.applied.length, 1);
  assert.equal(w.offs.length, 0);
  assert.match(w.p.snapshot().lastError ?? "", /order: empty/);
  assert.equal(w.clock.next(), 10 * MINUTE);
});

test("a delegated prefix change fetches at once; a stale attempt's answer is dropped", async () => {
  const w = world();
  w.p.start();
  await w.clock.fire();
  assert.equal(w.clock.next(), 3600 * 1000);
  w.p.prefixChanged();
  assert.equal(w.clock.next(), 0);
  await w.clock.fire();
  assert.equal(w.tokens.length, 2);
  w.p.stop();
  assert.equal(w.p.snapshot().state, "stopped");
});

test("last good rules: saved atomically, used at start until a fetch succeeds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mape-prov-"));
  const file = join(dir, "sub", "rules.json");
  let w = world(file);
  assert.equal(w.p.start(), false);
  await w.clock.fire();
  assert.ok(existsSync(file));
  assert.ok(!existsSync(`${file}.tmp-${process.pid}`));
  const saved = JSON.parse(readFileSync(file, "utf8")) as { rules: string; from: string };
  assert.equal(saved.from, "https://prov.example/rule.cgi");
  // A restart with the server unreachable: the saved rules are in force.
  w = world(file, 0);
  w.fetch = async () => {
    throw new FetchError("no-answer", "prov.example: ETIMEDOUT");
  };
  assert.equal(w.p.start(), true);
  assert.equal(w.applied.length, 1);
  assert.match(w.applied[0], /^state file .* 2001:db8::1$/);
  await w.clock.fire();
  assert.equal(w.applied.length, 1);
  assert.equal(w.clock.next(), 10 * MINUTE);
  // A damaged state file is not used.
  writeFileSync(file, "{not json");
  w = world(file);
  assert.equal(w.p.start(), false);
  assert.ok(w.logs.some((l) => /unreadable/.test(l)));
});

test("TXT record and request URL (v6mig-prov §3.1, §3.3)", () => {
  assert.deepEqual(parseTxt(["v=v6mig-1 url=https://vne.example.jp/rule.cgi t=b"]), {
    url: "https://vne.example.jp/rule.cgi", verify: true, record: "v=v6mig-1 url=https://vne.example.jp/rule.cgi t=b",
  });
  assert.equal(parseTxt(["spf1", "v=v6mig-1 url=http://[2001:db8::1]/r t=a"]).verify, false);
  assert.throws(() => parseTxt(["v=spf1 -all"]), (e: unknown) => e instanceof DiscoveryError && e.kind === "absent");
  assert.throws(() => parseTxt(["v=v6mig-1 url=ftp://x t=a"]), (e: unknown) => e instanceof DiscoveryError && e.kind === "failed");
  assert.throws(() => parseTxt(["v=v6mig-1 url=https://x/ t=c"]), /t is 'c'/);
  assert.equal(
    requestUrl("https://vne.example.jp/rule.cgi", DEFAULT_IDENTITY, "ab".repeat(32)),
    `https://vne.example.jp/rule.cgi?vendorid=020000-mape_wasm&product=mape-wasm&version=0_1_0&capability=map_e,hubspoke,mesh&token=${"ab".repeat(32)}`,
  );
  assert.equal(requestUrl("https://x/r?a=1", DEFAULT_IDENTITY, "bad token"), "https://x/r?a=1&vendorid=020000-mape_wasm&product=mape-wasm&version=0_1_0&capability=map_e,hubspoke,mesh");
  assert.equal(identityProblem(DEFAULT_IDENTITY), undefined);
  assert.match(identityProblem({ ...DEFAULT_IDENTITY, vendorid: "acme" }) ?? "", /--vendorid/);
});

test("the waits are the module's (provisionDelay): each window's ends, ttl clamped", async () => {
  const { provisionDelay } = await import("../../host/config/rules.js");
  assert.equal(provisionDelay("ok", 3600, 0.5), 3600);
  assert.equal(provisionDelay("ok", 0, 0.5), 10);
  assert.equal(provisionDelay("ok", 10_000_000, 0.5), 604800);
  const ends = (o: Parameters<typeof provisionDelay>[0]): [number, number] => [provisionDelay(o, -1, 0), provisionDelay(o, -1, 0.999999)];
  assert.deepEqual(ends("ok"), [20 * 3600, 24 * 3600 - 1]);
  assert.deepEqual(ends("absent"), [3600, 3 * 3600 - 1]);
  assert.deepEqual(ends("dnsFailed"), [60, 600 - 1]);
  assert.deepEqual(ends("noAnswer"), [600, 1800 - 1]);
  assert.deepEqual(ends("refused"), [600, 1800 - 1]);
});
