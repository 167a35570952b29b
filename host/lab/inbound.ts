// Lab tests of inbound ports (docs: README, "Inbound ports"): a static
// forward reached from the internet, and NAT-PMP with Debian's natpmpc from
// the LAN host — the mapped port must be one of CE1's set, and a connection
// from inet to CE1's address and that port must reach a listener on the LAN
// host (the BR routes it to CE1 by port). CE1 runs with the forward below
// and `--pcp 192.168.1.1` (services.ts startDataPaths); both hosts.

import { join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { INET1, LAN1, tempDir, type Topology } from "./topology.js";
import { waitFor } from "./services.js";
import type { Ctx, LabTest } from "./tests.js";

/** CE1's LAN address: the PCP / NAT-PMP server's. */
export const CE1_LAN = "192.168.1.1";
/** The LAN port of the static forward, and of the NAT-PMP test's listener. */
const FORWARD_LAN_PORT = 8080;
const NATPMP_LAN_PORT = 8081;

/** The static forward's external port: the last port of CE1's set (tests bind the first ones). */
const forwardPort = (t: Topology): number => t.ce1.ports[t.ce1.ports.length - 1];

/** CE1's JSON "forwards". */
export function inboundForwards(t: Topology): string[] {
  return [`tcp:${forwardPort(t)}=${LAN1}:${FORWARD_LAN_PORT}`];
}
/** CE1's host flags. */
export function inboundArgs(_t: Topology): string[] {
  return ["--pcp", CE1_LAN];
}

const firstLine = (s: string): string => s.trim().split("\n").filter(Boolean).slice(-1)[0]?.slice(0, 100) ?? "";

/** A busybox httpd on LAN1:port in the LAN namespace; stop() ends it. */
async function lanListener(ctx: Ctx, port: number): Promise<{ stop(): void }> {
  const www = join(tempDir(), `inbound-${port}`);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, "index.html"), `inbound ${port}\n`);
  const child = ctx.t.lab.spawn(ctx.t.ns.lan, "busybox", ["httpd", "-f", "-p", `${LAN1}:${port}`, "-h", www], { stdio: "ignore" });
  await waitFor(() => /LISTEN/.test(ctx.t.lab.execSync(ctx.t.ns.lan, "ss", ["-ltn", `sport = :${port}`])), 5_000);
  return { stop: () => void child.kill("SIGTERM") };
}

/** curl from inet to CE1's address and `port`: the body, or the error. */
async function fromInternet(ctx: Ctx, port: number): Promise<{ ok: boolean; text: string }> {
  const r = await ctx.t.lab.exec(ctx.t.ns.inet, "curl", ["-sS", "--max-time", "8", "--connect-timeout", "4", `http://${ctx.t.ce1.ipv4}:${port}/index.html`], 12_000);
  return { ok: r.code === 0, text: r.code === 0 ? r.stdout.trim() : firstLine(r.stderr) || `exit ${r.code}` };
}

export const INBOUND_TESTS: LabTest[] = [
  {
    name: "inbound-forward",
    required: true,
    modes: ["mape"],
    async run(ctx) {
      const l = await lanListener(ctx, FORWARD_LAN_PORT);
      try {
        const port = forwardPort(ctx.t);
        const r = await fromInternet(ctx, port);
        const ok = r.ok && r.text === `inbound ${FORWARD_LAN_PORT}`;
        return { ok, detail: ok ? `${INET1} → ${ctx.t.ce1.ipv4}:${port} → ${LAN1}:${FORWARD_LAN_PORT} (static forward)` : r.text };
      } finally {
        l.stop();
      }
    },
  },
  {
    name: "inbound-natpmp",
    required: true,
    modes: ["mape"],
    async run(ctx) {
      const { t } = ctx;
      // natpmpc (libnatpmp): ask for public port 8081, which a shared address does not own.
      const nat = (args: string[]) => t.lab.exec(t.ns.lan, "natpmpc", ["-g", CE1_LAN, ...args], 15_000);
      const addr = await nat([]);
      const pub = /Public IP address : ([\d.]+)/.exec(addr.stdout)?.[1];
      if (pub !== t.ce1.ipv4) return { ok: false, detail: `natpmpc: public address ${pub ?? "none"}: ${firstLine(addr.stdout + addr.stderr)}` };
      const r = await nat(["-a", String(NATPMP_LAN_PORT), String(NATPMP_LAN_PORT), "tcp", "600"]);
      const mapped = Number(/Mapped public port (\d+) protocol TCP to local port (\d+)/.exec(r.stdout)?.[1] ?? 0);
      if (!mapped) return { ok: false, detail: `natpmpc: ${firstLine(r.stdout + r.stderr)}` };
      if (!t.ce1.ports.includes(mapped)) return { ok: false, detail: `natpmpc got port ${mapped}, not one of CE1's set` };
      const u = await nat(["-a", "0", String(NATPMP_LAN_PORT), "udp", "600"]);
      const umapped = Number(/Mapped public port (\d+) protocol UDP/.exec(u.stdout)?.[1] ?? 0);
      const l = await lanListener(ctx, NATPMP_LAN_PORT);
      try {
        const c = await fromInternet(ctx, mapped);
        const del = await nat(["-a", String(mapped), String(NATPMP_LAN_PORT), "tcp", "0"]);
        await nat(["-a", String(umapped), String(NATPMP_LAN_PORT), "udp", "0"]);
        const after = await fromInternet(ctx, mapped);
        const ok = c.ok && c.text === `inbound ${NATPMP_LAN_PORT}` && t.ce1.ports.includes(umapped) && del.code === 0 && !after.ok;
        return {
          ok,
          detail: ok
            ? `natpmpc: tcp 8081 → public ${mapped} (in the set), udp → ${umapped}; ${INET1} reached ${LAN1}:${NATPMP_LAN_PORT}; deleted, then refused`
            : `tcp ${mapped} udp ${umapped}: ${c.text}${after.ok ? "; still open after delete" : ""}`,
          value: mapped,
        };
      } finally {
        l.stop();
      }
    },
  },
];
