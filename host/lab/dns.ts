// The DNS proxy in the lab (issue: "Fifteen ports are enough"): the first
// CE runs `--dns-proxy 192.168.1.1 --dns-upstream <ISP resolver>`, the ISP
// runs an IPv6 resolver (dnsmasq answering every name), and three LAN
// hosts (three source addresses in the lan namespace) make 300 lookups of
// distinct names through the proxy. All must be answered and the CE's NAT
// must make no session for them: DNS takes no port of the 15-port set.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, type Topology } from "./topology.js";
import { repoRoot, sleep, waitFor, type Services } from "./services.js";
import type { Ctx, LabTest, Outcome } from "./tests.js";

/** The ISP's IPv6 resolver (on isp's loopback, routed: the CE's default route goes to isp). */
export const ISP_RESOLVER = "2001:db8:53::53";
/** The first CE's LAN address: the proxy answers there. */
export const DNS_PROXY_ADDR = "192.168.1.1";
/** What the ISP resolver answers for every name. */
const ANSWER = "198.51.100.2";
/** The extra LAN hosts (source addresses beside LAN1 in the lan namespace). */
const HOSTS = ["192.168.1.2", "192.168.1.3", "192.168.1.4"];
const PER_HOST = 100;

/** The flags of the first CE (services.ts adds them to its command line). */
export function dnsProxyFlags(): string[] {
  return ["--dns-proxy", DNS_PROXY_ADDR, "--dns-upstream", ISP_RESOLVER];
}

/** Starts the ISP's IPv6 resolver (services.ts startServers). */
export function startIspResolver(svc: Services, t: Topology): void {
  t.lab.addr(t.ns.isp, "lo", `${ISP_RESOLVER}/128`);
  // The proxy's queries and the resolver's answers cross the captured ISP
  // link: their checksums must be in the packets, not left to an offload
  // (the capture check verifies every checksum).
  for (const [n, dev] of [[t.ns.ce, "wan0"], [t.ns.isp, "ce1"]]) {
    try {
      t.lab.execSync(n, "ethtool", ["-K", dev, "tx", "off"]);
    } catch {
      // ethtool missing: the capture check may see partial checksums
    }
  }
  svc.start("dnsmasq (isp, IPv6 resolver)", t.ns.isp, "dnsmasq", [
    "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces", `--listen-address=${ISP_RESOLVER}`,
    `--address=/#/${ANSWER}`, "--pid-file=" + join(tempDir(), "dnsmasq-isp6.pid"), "--user=root", "--dns-forward-max=1000",
  ]);
}

async function ceCounters(ctx: Ctx): Promise<Record<string, { packets: number }> | string> {
  const r = await ctx.t.lab.exec(ctx.t.ns.ce, process.execPath, [join(repoRoot(), "bin", "mape.js"), "stats", "--tun", "mape0", "--json"], 10_000);
  if (r.code !== 0) return `mape stats: ${r.stderr.trim().split("\n")[0]}`;
  return (JSON.parse(r.stdout) as { counters: Record<string, { packets: number }> }).counters;
}

const n = (c: Record<string, { packets: number }>, k: string): number => c[k]?.packets ?? 0;

export const DNS_TESTS: LabTest[] = [
  {
    name: "dns-proxy",
    required: true,
    modes: ["mape"],
    async run(ctx): Promise<Outcome> {
      const { t } = ctx;
      for (const a of HOSTS.slice(1)) {
        try {
          t.lab.execSync(t.ns.lan, "ip", ["addr", "add", `${a}/24`, "dev", "eth0"]);
        } catch {
          // there from an earlier run
        }
      }
      await waitFor(() => !/tentative/.test(t.lab.execSync(t.ns.lan, "ip", ["-4", "addr", "show", "dev", "eth0"])), 2000);
      const before = await ceCounters(ctx);
      if (typeof before === "string") return { ok: false, detail: before };
      const started = performance.now();
      const runs = HOSTS.map((src, h) => {
        const names = Array.from({ length: PER_HOST }, (_, i) => `h${h}-n${i}.proxy.lab.example A`).join("\n") + "\n";
        const file = join(tempDir(), `dns-names-${h}.txt`);
        writeFileSync(file, names);
        return t.lab.exec(t.ns.lan, "dig", ["-b", src, `@${DNS_PROXY_ADDR}`, "+short", "+time=2", "+tries=2", "-f", file], 30_000);
      });
      const results = await Promise.all(runs);
      const ms = performance.now() - started;
      const answered = results.reduce((s, r) => s + r.stdout.split("\n").filter((l) => l.trim() === ANSWER).length, 0);
      const tcp = await t.lab.exec(t.ns.lan, "dig", ["+tcp", "+short", "+time=3", "+tries=1", `@${DNS_PROXY_ADDR}`, "tcp.proxy.lab.example", "A"], 10_000);
      await sleep(100);
      const after = await ceCounters(ctx);
      if (typeof after === "string") return { ok: false, detail: after };
      const sessions = n(after, "sessions-created") - n(before, "sessions-created");
      const relayed = n(after, "dns-answers") - n(before, "dns-answers");
      const tcpOk = tcp.stdout.trim() === ANSWER;
      const total = HOSTS.length * PER_HOST;
      const ok = answered === total && sessions === 0 && tcpOk && ms <= 10_000;
      return {
        ok,
        value: answered,
        detail: `${answered}/${total} lookups from ${HOSTS.length} hosts answered in ${(ms / 1000).toFixed(1)} s, TCP ${tcpOk ? "answered" : "failed"}; ` +
          `${relayed} answers relayed, ${sessions} NAT sessions made, sessions-active ${n(after, "sessions-active")}`,
      };
    },
  },
];
