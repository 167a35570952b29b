// `mape lab` — what `npm start` runs — on the built-in JANOG rule: every
// required line passes (ping, traceroute, DNS over UDP and TCP, HTTP, FTP
// passive, STUN mapping behaviour, CE-to-CE mesh, iperf3 both ways, BR
// failover under a running TCP transfer, tshark on the ISP-link capture),
// and nothing of the lab is left behind. Skipped with the reason where the
// lab cannot run (not root, no netns, missing tools).
import { test } from "node:test";
import assert from "node:assert/strict";
import { listNamespaces } from "../../host/netns.js";
import { formatReport, labMissing, runLab } from "../../host/lab/run.js";
import { describePacket } from "../../host/commands/lab.js";
import { ipip6, udp4 } from "./packets.js";
import { skipUnlessCI } from "./prereq.js";

const skip = skipUnlessCI(labMissing());

test("mape lab: required tests pass on the JANOG rule, and teardown leaves nothing", { skip, timeout: 300_000 }, async () => {
  const report = await runLab({ seconds: 2 });
  const text = formatReport(report);
  const names = report.lines.map((l) => l.name);
  for (const n of ["ping", "traceroute", "dns-udp", "dns-tcp", "http", "ftp-passive", "stun-eim", "mesh",
    "iperf3-tcp-up", "iperf3-tcp-down", "iperf3-udp-up", "iperf3-udp-down", "br-failover", "capture", "dns-proxy", "fair-share-udp", "fair-share-syn"]) assert.ok(names.includes(n), `${n} missing:\n${text}`);
  for (const l of report.lines) if (l.required) assert.equal(l.status, "PASS", `${l.name}: ${l.detail}\n${text}`);
  assert.ok(report.ok, text);
  assert.equal(report.ce1.ports, 15);
  assert.deepEqual(listNamespaces().filter((n) => n.startsWith(`mapetest-${process.pid}-lab`)), []);
});

test("mape lab --auto: the CEs provision themselves from HB46PP (TXT + HTTPS, 256 rules), follow a changed answer and keep their sessions", { skip, timeout: 300_000 }, async () => {
  const report = await runLab({ quick: true, auto: true });
  const text = formatReport(report);
  const names = report.lines.map((l) => l.name);
  for (const n of ["auto-rules", "auto-follow", "auto-sessions"]) assert.ok(names.includes(n), `${n} missing:\n${text}`);
  for (const l of report.lines) if (l.required) assert.equal(l.status, "PASS", `${l.name}: ${l.detail}\n${text}`);
  assert.ok(report.ok, text);
  assert.deepEqual(listNamespaces().filter((n) => n.startsWith(`mapetest-${process.pid}-lab`)), []);
});

test("mape lab's fallback narration describes IPv4 and IPv4-in-IPv6 packets", () => {
  const inner = udp4({ src: "192.0.2.1", dst: "198.51.100.1", srcPort: 4660, dstPort: 53 });
  assert.equal(describePacket(inner), "192.0.2.1:4660 > 198.51.100.1:53 UDP");
  assert.equal(
    describePacket(ipip6({ src: "2001:db8::1", dst: "2001:db8::2", inner })),
    "[2001:db8::1 > 2001:db8::2] 192.0.2.1:4660 > 198.51.100.1:53 UDP",
  );
});
