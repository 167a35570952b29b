// `mape ce --state <file>` for real, on a TUN in a network namespace, for
// either host (tests/host/state-tun.test.ts: Node; tests/router/
// state-tun.test.ts: the router program): sessions made by LAN traffic are
// saved at SIGTERM, restored by the next instance (the same number, as
// `mape stats` counts them), saved periodically with --state-interval; a
// corrupt image is refused in one line and the CE starts empty; a BR
// refuses the flag. Needs root and ping (CI has them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab, labUnavailable } from "../../host/netns.js";
import { skipUnlessCI } from "./prereq.js";
import { ceNamespaces, type ServeHost } from "./ce-tun.js";

const BR = "2403:9200:fff0::2";
const CE_ARGS = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--prefix", "2403:9200:1234::/48", "--tun", "mape0", "--routes"];

/** A UDP datagram from the LAN host's port `sport` (node -e, in the namespace). */
const UDP_SEND = `const s=require("node:dgram").createSocket("udp4");s.bind(Number(process.argv[2]),()=>s.send("x",7000,"203.0.113.1",()=>s.close()));`;

export function stateTunTests(host: ServeHost): void {
  const skip = skipUnlessCI(host.missing ?? labUnavailable({ tun: true, programs: ["ping"] }));
  const suffix = host.label ? ` (${host.label})` : "";

  test(`mape ce --state: saved at SIGTERM, restored at start, refused when corrupt${suffix}`, { skip, timeout: 120_000 }, async () => {
    const lab = new Lab();
    const runDir = mkdtempSync(join(tmpdir(), "mape-run-"));
    const stateDir = mkdtempSync(join(tmpdir(), "mape-state-"));
    const file = join(stateDir, "ce.state");
    try {
      const { lan, ce } = ceNamespaces(lab);
      const env = [`MAPE_RUN_DIR=${runDir}`];

      /** Runs the CE until `stop` says; returns its whole output and exit code. */
      const instance = (extra: string[]) => {
        const child = lab.spawn(ce, "env", [...env, ...host.cmd, "ce", ...CE_ARGS, "--state", file, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
        let text = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (text += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (text += d));
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        const until = async (re: RegExp, ms: number): Promise<void> => {
          for (let t = 0; t < ms && !re.test(text); t += 100) {
            if (child.exitCode !== null) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.match(text, re);
        };
        return { child, exited, until, out: () => text };
      };
      const sessions = async (): Promise<number> => {
        const r = await lab.exec(ce, "env", [...env, ...host.statsCmds[0], "stats", "--tun", "mape0", "--json"], 20_000);
        assert.equal(r.code, 0, r.stderr);
        return (JSON.parse(r.stdout) as { counters: Record<string, { packets: number }> }).counters["sessions-active"].packets;
      };

      // First start: no file, nothing said about it.
      const a = instance(["--state-interval", "0"]);
      await a.until(/control \S+\)/, 20_000);
      assert.doesNotMatch(a.out(), /restored|refused|not read/);
      // LAN traffic: an ICMP session (ping) and three UDP sessions.
      await lab.exec(lan, "ping", ["-n", "-c", "2", "-i", "0.3", "-W", "1", "203.0.113.1"], 20_000);
      for (const p of [50001, 50002, 50003]) await lab.exec(lan, process.execPath, ["-e", UDP_SEND, String(p)], 10_000);
      const before = await sessions();
      assert.equal(before, 4);
      a.child.kill("SIGTERM");
      assert.equal(await a.exited, 0, a.out());
      assert.match(a.out(), new RegExp(`saved 4 sessions to ${file}`));
      assert.equal(readFileSync(file).length, 64 + 4 * 16 + 4 * 20 + 4);
      assert.deepEqual(readdirSync(stateDir), ["ce.state"], "no temporary file left");

      // Second start: the same sessions are back; a periodic save (1 s) rewrites the file while it runs.
      const b = instance(["--state-interval", "1"]);
      await b.until(new RegExp(`restored 4 sessions from ${file}`), 20_000);
      assert.equal(await sessions(), 4);
      rmSync(file);
      await b.until(/control \S+\)/, 20_000);
      for (let t = 0; t < 15_000 && !existsSync(file); t += 100) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(file), "the periodic save wrote the file again");
      b.child.kill("SIGTERM");
      assert.equal(await b.exited, 0, b.out());

      // A corrupt image: one line, the CE starts empty (and runs).
      const bytes = new Uint8Array(readFileSync(file));
      bytes[80] ^= 0x40;
      writeFileSync(file, bytes);
      const c = instance(["--state-interval", "0"]);
      await c.until(/control \S+\)/, 20_000);
      const lines = c.out().split("\n").filter((l) => /state .* refused/.test(l));
      assert.equal(lines.length, 1, c.out());
      assert.match(lines[0], /^mape ce: state .* refused, starting empty: checksum mismatch/);
      assert.equal(await sessions(), 0);
      c.child.kill("SIGTERM");
      assert.equal(await c.exited, 0, c.out());

      // A BR keeps no NAT state: the flag is a usage error.
      const br = await lab.exec(ce, "env", [...env, ...host.cmd, "br", "--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", BR, "--state", file], 20_000);
      assert.equal(br.code, 2);
      assert.match(br.stderr, /--state is for a CE/);
      // Bad values: one line, exit 2, the same in both hosts.
      const iv = await lab.exec(ce, "env", [...env, ...host.cmd, "ce", ...CE_ARGS, "--state", file, "--state-interval", "soon"], 20_000);
      assert.equal(iv.code, 2);
      assert.equal(iv.stderr.trim(), "mape: --state-interval: 'soon' is not a number of seconds (0 = only at exit)");
      const empty = await lab.exec(ce, "env", [...env, ...host.cmd, "ce", ...CE_ARGS, "--state", ""], 20_000);
      assert.equal(empty.code, 2);
      assert.equal(empty.stderr.trim(), "mape: --state needs a file name");
    } finally {
      lab.teardown();
      rmSync(runDir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
}
