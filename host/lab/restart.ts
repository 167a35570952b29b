// The lab's restart test (issue 9, "State that survives a restart"): a TCP
// connection carrying a stream and a UDP flow cross the CE while it is
// stopped (SIGTERM: it saves its NAT state with --state) and started again
// (it restores it): both go on, and the server sees each on ONE external
// port from before to after. Whichever host runs the lab's data paths runs
// this CE (`mape lab --host native` too).
//
// The client's local ports lie outside the CE's port set, so a CE that
// forgot its state would draw new random external ports: the TCP connection
// would die (the server answers an unknown port with RST) and the UDP flow
// would show a second port (only a 1-in-set-size chance to hit the same).

import { join } from "node:path";
import { INET1 } from "./topology.js";
import { sleep, waitFor } from "./services.js";
import { tempDir } from "./topology.js";
import type { LabTest } from "./tests.js";

const PORT = 7300;

/** Echoes, on TCP and UDP port argv[2] of argv[1], each message's source as "addr:port\n". */
const PEER_SERVER = `
const net = require("node:net"), dgram = require("node:dgram");
const [addr, port] = process.argv.slice(1);
net.createServer((s) => {
  s.on("data", () => s.write(s.remoteAddress + ":" + s.remotePort + "\\n"));
  s.on("error", () => {});
}).listen(Number(port), addr);
const u = dgram.createSocket("udp4");
u.on("message", (m, r) => u.send(r.address + ":" + r.port + "\\n", r.port, r.address));
u.bind(Number(port), addr);
setTimeout(() => process.exit(0), 120000).unref();
`;

/**
 * A TCP connection and a UDP socket from fixed local ports (argv: addr port
 * tcpLocal udpLocal ms), a message on each every 200 ms; prints what the
 * server saw: {tcp: {seen, n, late}, udp: {…}, error} (late: replies in
 * the last 5 s).
 */
const PEER_CLIENT = `
const net = require("node:net"), dgram = require("node:dgram");
const [addr, port, tl, ul, ms] = process.argv.slice(1).map((x, i) => (i ? Number(x) : x));
const t0 = Date.now();
const r = { tcp: { seen: [], n: 0, late: 0 }, udp: { seen: [], n: 0, late: 0 }, error: null };
const got = (k, text) => {
  for (const l of text.split("\\n").filter(Boolean)) {
    if (!r[k].seen.includes(l)) r[k].seen.push(l);
    r[k].n++;
    if (Date.now() - t0 > ms - 5000) r[k].late++;
  }
};
const s = net.connect({ host: addr, port, localPort: tl });
s.setEncoding("utf8");
s.on("data", (d) => got("tcp", d));
s.on("error", (e) => { r.error = r.error || "tcp " + (e.code || e.message); });
s.on("close", () => { if (Date.now() - t0 < ms) r.error = r.error || "tcp closed"; });
const u = dgram.createSocket("udp4");
u.on("message", (m) => got("udp", String(m)));
u.on("error", () => {});
u.bind(ul);
const iv = setInterval(() => {
  if (!s.destroyed) s.write("x");
  u.send("x", port, addr, () => {});
}, 200);
setTimeout(() => { clearInterval(iv); console.log(JSON.stringify(r)); process.exit(0); }, ms);
`;

/** A local port ≥ `from` that is not in the CE's port set (so a fresh CE would not keep it). */
function outsideSet(set: readonly number[], from: number): number {
  let p = from;
  while (set.includes(p)) p++;
  return p;
}

export const RESTART_TESTS: LabTest[] = [
  {
    name: "ce-restart",
    required: true,
    modes: ["mape"],
    async run(ctx) {
      const { t, svc } = ctx;
      const name = "mape ce (ce)";
      const old = svc.procs.find((p) => p.name === name && p.child.exitCode === null && p.child.signalCode === null);
      if (!old) return { ok: false, detail: "no running mape ce (ce)" };
      // The CE's own command line (ip netns exec <ns> <cmd> <args…>), plus --state.
      const [cmd, ...args0] = old.child.spawnargs.slice(4);
      const file = join(tempDir(), "ce.state");
      const args = [...args0.filter((a, i, all) => a !== "--state" && all[i - 1] !== "--state"), "--state", file, "--state-interval", "0"];
      const stop = async (p: typeof old): Promise<boolean> => {
        p.child.kill("SIGTERM");
        return waitFor(() => p.child.exitCode !== null || p.child.signalCode !== null, 15_000);
      };
      const up = async (): Promise<typeof old> => {
        const p = svc.start(name, t.ns.ce, cmd, args);
        const ok = await waitFor(() => p.child.exitCode === null && /control \S+\)/.test(p.output), 20_000);
        if (!ok) throw new Error(`the CE did not come back: ${svc.describe(p)}`);
        return p;
      };
      const forget = (p: typeof old): void => void svc.procs.splice(svc.procs.indexOf(p), 1);
      // 1. The CE again, now with --state (it had none): it starts empty.
      if (!(await stop(old))) return { ok: false, detail: `the CE did not stop: ${svc.describe(old)}` };
      forget(old);
      const first = await up();

      // 2. The flows, from local ports outside the set.
      svc.start("peer server", t.ns.inet, process.execPath, ["-e", PEER_SERVER, INET1, String(PORT)]);
      await waitFor(() => t.lab.execSync(t.ns.inet, "ss", ["-ltnH"]).includes(`${INET1}:${PORT}`), 5000);
      const tl = outsideSet(t.ce1.ports, 40300);
      const ul = outsideSet(t.ce1.ports, tl + 1);
      const client = svc.start("peer client", t.ns.lan, process.execPath, ["-e", PEER_CLIENT, INET1, String(PORT), String(tl), String(ul), "16000"]);
      await sleep(4000);

      // 3. Restart: SIGTERM (the image is written), start with the same file.
      const t0 = Date.now();
      if (!(await stop(first))) return { ok: false, detail: `the CE did not stop: ${svc.describe(first)}` };
      const saved = /saved (\d+) sessions? to /.exec(first.output);
      forget(first);
      const second = await up();
      const gap = Date.now() - t0;
      const restored = /restored (\d+) sessions? from /.exec(second.output);
      const refused = /state .*(?:refused|not read).*/.exec(second.output);

      // 4. What the server saw, before and after.
      await waitFor(() => client.child.exitCode !== null, 30_000);
      let r: { tcp: { seen: string[]; n: number; late: number }; udp: { seen: string[]; n: number; late: number }; error: string | null };
      try {
        r = JSON.parse(client.output.trim().split("\n").slice(-1)[0]) as typeof r;
      } catch {
        return { ok: false, detail: `peer client: ${client.output.trim().slice(0, 100)}` };
      }
      const ok = r.error === null && saved !== null && restored !== null && Number(restored[1]) >= 2 &&
        r.tcp.seen.length === 1 && r.udp.seen.length === 1 && r.tcp.late > 0 && r.udp.late > 0;
      const ports = `TCP via ${r.tcp.seen.join(" then ") || "nothing"}, UDP via ${r.udp.seen.join(" then ") || "nothing"}`;
      return {
        ok,
        detail: `${saved ? `saved ${saved[1]}` : "nothing saved"}, ${restored ? `restored ${restored[1]}` : refused ? refused[0] : "nothing restored"} sessions across a ${(gap / 1000).toFixed(1)} s restart; ${ports}; ` +
          `${r.tcp.n}/${r.udp.n} replies, ${r.tcp.late}/${r.udp.late} in the last 5 s${r.error ? `; ${r.error}` : ""}`,
        value: gap,
      };
    },
  },
];
