// One manual for both hosts: the router program of every target answers the
// same command lines as the Node CLI with the same stdout, stderr and exit
// status — `mape calc` in every format and source, and the one-line errors
// of bad configurations and bad command lines (calc, pcap, stats).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../e2e/files.js";
import { skipUnlessCI } from "../host/prereq.js";
import { TARGETS, command, missing } from "./router.js";

const root = repoRoot();
const work = mkdtempSync(join(tmpdir(), "mape-cli-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const uci = join(work, "network");
writeFileSync(
  uci,
  ["config interface 'wan6'", "\toption proto 'dhcpv6'", "", "config interface 'mape'", "\toption proto 'map'", "\toption maptype 'map-e'",
    "\toption peeraddr '2001:db8:ffff::1'", "\toption ipaddr '192.0.2.0'", "\toption ip4prefixlen '24'", "\toption ip6prefix '2001:db8::'",
    "\toption ip6prefixlen '40'", "\toption ealen '16'", "\toption psidlen '8'", "\toption offset '6'", "\toption tunlink 'wan6'", ""].join("\n"),
);

const CASES: string[][] = [
  ["calc"],
  ["calc", "--json"],
  ["calc", "--format", "mapcalc"],
  ["calc", "--format=json", "--legacy-iid"],
  ["calc", "--rule", "2001:db8::/40,192.0.2.0/24,16", "--prefix", "2001:db8:12:3400::/56", "--br", "2001:db8:ffff::1"],
  ["calc", "--config", join(root, "examples", "v6plus.json"), "--format", "mapcalc"],
  ["calc", "--config", join(root, "examples", "lw4o6.json")],
  ["calc", "--config", join(root, "examples", "map-t.json"), "--json"],
  ["calc", "--config", join(root, "examples", "rfc7597-fmr.json")],
  ["calc", "--uci", uci, "--interface", "mape", "--prefix", "2001:db8:12:3400::/56", "--format", "mapcalc"],
  ["calc", "--uci", uci, "--interface", "nothere"],
  ["calc", "--uci", join(work, "missing"), "--interface", "mape"],
  ["calc", "--config", join(work, "missing.json")],
  ["calc", "--rule", "2001:db8::/40,192.0.2.0/24,49", "--prefix", "2001:db8:12:3400::/56"],
  ["calc", "--rule", "2001:db8::/40,192.0.2.0/24,16", "--prefix", "2001:db9::/56"],
  ["calc", "--rule", "2001:db8::/40,192.0.2.0/24,16"],
  ["calc", "--dhcpv6", "005e0004ffff", "--prefix", "2001:db8::/56"],
  ["calc", "--bogus"],
  ["calc", "--format", "xml"],
  ["calc", "--tunnel-mtu", "100"],
  ["pcap", "--in", join(work, "missing.pcap"), "--out", join(work, "o.pcap")],
  ["pcap", "--in", uci, "--out", join(work, "o.pcap")],
  ["pcap", "--out", join(work, "o.pcap")],
  ["pcap", "--in", uci],
  ["pcap", "--in", uci, "--out", join(work, "o.pcap"), "--seed", "x"],
  ["pcap", "--in", uci, "--out", join(work, "o.pcap"), "--frob"],
  ["stats", "--control", join(work, "nothing.sock")],
  ["stats", "--bogus"],
];

function run(cmd: string[], argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const [prog, ...args] = cmd;
  const r = spawnSync(prog, [...args, ...argv], { encoding: "utf8", env: { ...process.env, MAPE_RUN_DIR: work } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const node = [process.execPath, join(root, "bin", "mape.js")];
for (const t of TARGETS) {
  test(`the router program ${t.name} answers as the Node CLI: calc, errors`, { skip: skipUnlessCI(missing(t)) }, () => {
    for (const argv of CASES) {
      const want = run(node, argv);
      const got = run(command(t), argv);
      assert.deepEqual(got, want, `mape ${argv.join(" ")}`);
    }
    // The router program has no `lab`: its list of commands says so.
    const unknown = run(command(t), ["frobnicate"]);
    assert.deepEqual(unknown, { status: 2, stdout: "", stderr: "mape: unknown command 'frobnicate' (commands: calc, pcap, ce, br, stats)\n" });
  });
}
