// `mape ce --dns-proxy` of the router program (native/router/dns.c) and of
// the Node host (host/dnsproxy.ts), in network namespaces:
//
//   ns lan 192.168.1.2 ── 192.168.1.1 ns ce (mape ce --dns-proxy 192.168.1.1
//                                      --dns-upstream 2001:db8:1::2) 2001:db8:1::1 ── 2001:db8:1::2 ns isp
//                                                                            (a fake resolver, UDP and TCP)
//
// dig in lan asks the proxy over UDP and TCP; the resolver answers every
// name with 198.51.100.7, and names under big. with TC over UDP (so the
// proxy must ask again over TCP). The resolver logs the source of each
// query: the CE's WAN address, never the MAP address; the CE's NAT made
// no session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab, labUnavailable } from "../../host/netns.js";
import { skipUnlessCI } from "../host/prereq.js";
import { ceNamespaces, mapeBin } from "../host/ce-tun.js";
import { targetNamed, command, missing } from "./router.js";

const x86 = targetNamed("x86_64");

/** The fake resolver (node -e): UDP and TCP on [::]:53; prints "udp <src>" / "tcp <src>" per query. */
const RESOLVER = `
const dgram = require("node:dgram"), net = require("node:net");
function answer(q, tc) {
  let o = 12;
  while (q[o] !== 0) o += q[o] + 1;
  const qEnd = o + 5;
  const name = q.subarray(13, 16).toString();
  const head = Buffer.from(q.subarray(0, qEnd));
  head.writeUInt16BE(tc ? 0x8380 : 0x8180, 2);
  head.writeUInt16BE(tc ? 0 : 1, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  if (tc) return head;
  return Buffer.concat([head, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 7])]);
}
const u = dgram.createSocket("udp6");
u.on("message", (m, r) => {
  console.log("udp " + r.address);
  u.send(answer(m, m.subarray(13, 16).toString() === "big"), r.port, r.address);
});
u.bind(53, "::");
net.createServer((c) => {
  let p = Buffer.alloc(0);
  c.on("data", (d) => {
    p = Buffer.concat([p, d]);
    if (p.length < 2 || p.length < 2 + p.readUInt16BE(0)) return;
    console.log("tcp " + c.remoteAddress);
    const a = answer(p.subarray(2, 2 + p.readUInt16BE(0)), false);
    const l = Buffer.alloc(2);
    l.writeUInt16BE(a.length);
    c.end(Buffer.concat([l, a]));
  });
  c.on("error", () => {});
}).listen(53, "::", () => console.log("listening"));
`;

const HOSTS: { label: string; cmd: string[]; missing?: string }[] = [
  { label: "router x86_64", cmd: command(x86), missing: missing(x86) },
  { label: "Node", cmd: [process.execPath, mapeBin()] },
];

for (const host of HOSTS) {
  const skip = skipUnlessCI(host.missing ?? labUnavailable({ tun: true, programs: ["dig"] }));
  test(`mape ce --dns-proxy answers the LAN over UDP and TCP through an IPv6 resolver, no NAT session (${host.label})`, { skip, timeout: 60_000 }, async () => {
    const lab = new Lab();
    const runDir = mkdtempSync(join(tmpdir(), "mape-run-"));
    try {
      const { lan, ce, isp } = ceNamespaces(lab);

      const resolver = lab.spawn(isp, process.execPath, ["-e", RESOLVER], { stdio: ["ignore", "pipe", "pipe"] });
      let seen = "";
      resolver.stdout?.setEncoding("utf8").on("data", (d: string) => (seen += d));
      const env = ["env", `MAPE_RUN_DIR=${runDir}`];
      const child = lab.spawn(ce, env[0], [...env.slice(1), ...host.cmd, "ce", "--tun", "mape0", "--routes",
        "--dns-proxy", "192.168.1.1", "--dns-upstream", "2001:db8:1::2"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
      child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
      for (let i = 0; i < 200 && !(/control \S+\)/.test(out) && seen.includes("listening")); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /DNS proxy on 192\.168\.1\.1:53 \(udp, tcp\)/, out);

      const udp = await lab.exec(lan, "dig", ["+short", "+time=2", "+tries=2", "@192.168.1.1", "www.lab.example", "A"], 15_000);
      assert.equal(udp.stdout.trim(), "198.51.100.7", udp.stdout + udp.stderr + out);
      const tcp = await lab.exec(lan, "dig", ["+tcp", "+short", "+time=2", "+tries=1", "@192.168.1.1", "tcp.lab.example", "A"], 15_000);
      assert.equal(tcp.stdout.trim(), "198.51.100.7", tcp.stdout + tcp.stderr);
      // A truncated UDP answer upstream: the proxy asks again over TCP; the client gets the whole answer over UDP.
      const big = await lab.exec(lan, "dig", ["+short", "+time=2", "+tries=1", "+ignore", "@192.168.1.1", "big.lab.example", "A"], 15_000);
      assert.equal(big.stdout.trim(), "198.51.100.7", big.stdout + big.stderr);

      const sources = seen.split("\n").filter((l) => /^(udp|tcp) /.test(l));
      assert.ok(sources.length >= 4, seen);
      for (const l of sources) assert.match(l, /^(udp|tcp) 2001:db8:1::1$/, "queries come from the WAN address, not the MAP address");
      assert.ok(sources.includes("tcp 2001:db8:1::1"));

      const js = await lab.exec(ce, env[0], [...env.slice(1), ...host.cmd, "stats", "--tun", "mape0", "--json"], 20_000);
      assert.equal(js.code, 0, js.stderr);
      const c = (JSON.parse(js.stdout) as { counters: Record<string, { packets: number }> }).counters;
      assert.equal(c["dns-queries"].packets, 3);
      assert.equal(c["dns-answers"].packets, 3);
      assert.equal(c["dns-tcp-retries"].packets, 1);
      assert.equal(c["sessions-created"].packets, 0, "no NAT session for DNS");
      child.kill("SIGTERM");
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
      assert.equal(child.exitCode, 0, out);
      resolver.kill("SIGTERM");
    } finally {
      lab.teardown();
      rmSync(runDir, { recursive: true, force: true });
    }
  });
}
