// `mape lab --host native`: the whole lab (tests/host/lab.test.ts's
// required lines) with the router program as both CEs and both BRs; and
// `--ce-qemu mipsel`: CE1 as the mipsel build under qemu-user on its TUN
// (qemu-user passes the TUN ioctls, epoll, signalfd and the control
// socket through), the quick set of tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { listNamespaces } from "../../host/netns.js";
import { formatReport, labMissing, runLab } from "../../host/lab/run.js";
import { skipUnlessCI } from "../host/prereq.js";

const REQUIRED = ["ping", "traceroute", "dns-udp", "dns-tcp", "http", "ftp-passive", "stun-eim", "mesh",
  "iperf3-tcp-up", "iperf3-tcp-down", "iperf3-udp-up", "iperf3-udp-down", "br-failover", "capture", "dns-proxy", "fair-share-udp", "fair-share-syn"];

test("mape lab --host native: required tests pass with the router program as CEs and BRs", { skip: skipUnlessCI(labMissing({ host: "native" })), timeout: 400_000 }, async () => {
  const report = await runLab({ seconds: 2, host: "native" });
  const text = formatReport(report);
  const names = report.lines.map((l) => l.name);
  for (const n of REQUIRED) assert.ok(names.includes(n), `${n} missing:\n${text}`);
  for (const l of report.lines) if (l.required) assert.equal(l.status, "PASS", `${l.name}: ${l.detail}\n${text}`);
  assert.ok(report.ok, text);
  assert.deepEqual(listNamespaces().filter((n) => n.startsWith(`mapetest-${process.pid}-lab`)), []);
});

test("mape lab --host native --ce-qemu mipsel --quick: CE1 is the mipsel build under qemu-user", { skip: skipUnlessCI(labMissing({ host: "native", ceQemu: "mipsel" })), timeout: 300_000 }, async () => {
  const report = await runLab({ quick: true, host: "native", ceQemu: "mipsel" });
  const text = formatReport(report);
  assert.ok(report.lines.length >= 5, text);
  for (const l of report.lines) if (l.required) assert.equal(l.status, "PASS", `${l.name}: ${l.detail}\n${text}`);
  assert.ok(report.ok, text);
});
