// Fair shares of the 15-port set in the lab (issue: "Fifteen ports are
// enough"): one LAN host (its own source address in the lan namespace)
// opens new flows as fast as it can and keeps them alive; another then
// makes DNS lookups and HTTP fetches through the same CE. The second must
// get every one of them: a host below its share takes ports back from the
// host above it (nat.ts, fair shares), transitory TCP first. Two floods:
// UDP from 60 sockets, and SYNs that never complete (to an address in the
// internet namespace that nobody holds, so no RST comes back). The figures
// (what the flooder held, what the victim got, sessions reclaimed) are in
// the detail line. These run last: the flooder's sessions stay until their
// timeouts.

import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { INET1, INET2, tempDir } from "./topology.js";
import { repoRoot, sleep, waitFor } from "./services.js";
import type { Ctx, LabTest, Outcome } from "./tests.js";

const FLOODER = "192.168.1.5";
const VICTIM = "192.168.1.6";
/** Nobody has it: SYNs to it stay unanswered (the inet namespace's ARP fails). */
const BLACKHOLE = "198.51.100.250";
const SOCKETS = 60;
const FLOOD_SECONDS = 12;

/** The flooder: python3, SOCKETS sockets from FLOODER, kept sending (UDP) or connecting (SYN) until the end. */
const FLOOD_PY = `
import socket, sys, time
kind, src, dst, n, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
socks = []
end = time.time() + secs
for i in range(n):
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        socks.append(s)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        s.connect_ex((dst, 80))
        socks.append(s)
while time.time() < end:
    if kind == "udp":
        for s in socks:
            try:
                s.sendto(b"flood", (dst, 9))
            except OSError:
                pass
    time.sleep(0.05)
print(len(socks))
`;

interface Budget {
  hosts?: ({ address: string; refused?: number } & Record<string, number | string | undefined>)[];
}

async function stats(ctx: Ctx): Promise<{ counters: Record<string, { packets: number }>; budget: Budget } | string> {
  const r = await ctx.t.lab.exec(ctx.t.ns.ce, process.execPath, [join(repoRoot(), "bin", "mape.js"), "stats", "--tun", "mape0", "--json"], 10_000);
  if (r.code !== 0) return `mape stats: ${r.stderr.trim().split("\n")[0]}`;
  const j = JSON.parse(r.stdout) as { counters: Record<string, { packets: number }>; portBudget?: Budget };
  return { counters: j.counters, budget: j.portBudget ?? {} };
}

const n = (c: Record<string, { packets: number }>, k: string): number => c[k]?.packets ?? 0;

/** Ports of protocol `proto` the port budget gives host `addr`. */
function portsOf(b: Budget, addr: string, proto: string): number {
  const h = (b.hosts ?? []).find((x) => x.address === addr);
  const v = h?.[`${proto}Ports`];
  return typeof v === "number" ? v : 0;
}

function addAddresses(ctx: Ctx): void {
  for (const a of [FLOODER, VICTIM]) {
    try {
      ctx.t.lab.execSync(ctx.t.ns.lan, "ip", ["addr", "add", `${a}/24`, "dev", "eth0"]);
    } catch {
      // there from an earlier run
    }
  }
}

async function floodTest(ctx: Ctx, kind: "udp" | "syn"): Promise<Outcome> {
  const { t } = ctx;
  addAddresses(ctx);
  await waitFor(() => !/tentative/.test(t.lab.execSync(t.ns.lan, "ip", ["-4", "addr", "show", "dev", "eth0"])), 2000);
  const script = join(tempDir(), "flood.py");
  writeFileSync(script, FLOOD_PY);
  const before = await stats(ctx);
  if (typeof before === "string") return { ok: false, detail: before };
  const flood = t.lab.exec(t.ns.lan, "python3", [script, kind === "udp" ? "udp" : "syn", FLOODER, kind === "udp" ? INET1 : BLACKHOLE, String(SOCKETS), String(FLOOD_SECONDS)], (FLOOD_SECONDS + 10) * 1000);
  await sleep(2000);
  const mid = await stats(ctx);
  if (typeof mid === "string") return { ok: false, detail: mid };
  const proto = kind === "udp" ? "udp" : "tcp";
  const flooderHeld = portsOf(mid.budget, FLOODER, proto);
  // The victim, while the flood goes on: DNS lookups (each a new UDP
  // mapping) and HTTP fetches (each a new TCP connection), one at a time.
  let dnsOk = 0;
  let httpOk = 0;
  const tries = 5;
  for (let i = 0; i < tries; i++) {
    const d = await t.lab.exec(t.ns.lan, "dig", ["-b", VICTIM, "+time=2", "+tries=1", "+short", `@${INET1}`, "www.lab.example", "A"], 10_000);
    if (d.stdout.trim() === INET2) dnsOk++;
    const h = await t.lab.exec(t.ns.lan, "curl", ["-sS", "--interface", VICTIM, "--max-time", "8", "--connect-timeout", "4", "-o", "/dev/null", "-w", "%{http_code}", `http://${INET1}/`], 12_000);
    if (h.stdout.trim() === "200" || h.stdout.trim() === "404") httpOk++;
  }
  const after = await stats(ctx);
  await flood;
  if (typeof after === "string") return { ok: false, detail: after };
  const reclaimed = n(after.counters, "share-reclaimed") - n(before.counters, "share-reclaimed");
  const refused = n(after.counters, "share-refused") - n(before.counters, "share-refused");
  const reused = n(after.counters, "share-port-reused") - n(before.counters, "share-port-reused");
  const victimHeld = portsOf(after.budget, VICTIM, proto);
  const flooderAfter = portsOf(after.budget, FLOODER, proto);
  const ok = dnsOk === tries && httpOk === tries && flooderHeld > 0;
  return {
    ok,
    value: dnsOk + httpOk,
    detail: `${kind === "udp" ? "UDP" : "SYN"} flood from ${SOCKETS} sockets: the flooder held ${flooderHeld} ${proto} ports, then ${flooderAfter}; ` +
      `the victim got ${dnsOk}/${tries} DNS lookups and ${httpOk}/${tries} HTTP fetches (${victimHeld} ${proto} ports); ` +
      `${reclaimed} sessions reclaimed, ${refused} refused at their share, ${reused} TCP ports reused`,
  };
}

export const FAIR_TESTS: LabTest[] = [
  { name: "fair-share-udp", required: true, modes: ["mape"], run: (ctx) => floodTest(ctx, "udp") },
  { name: "fair-share-syn", required: true, modes: ["mape"], run: (ctx) => floodTest(ctx, "syn") },
];
