// The namespace helpers: what a Lab creates, it removes; veth pairs carry
// traffic between two namespaces; and the exit handlers clean up after a
// process that dies without calling teardown().
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Lab, ip, labUnavailable, listLinks, listNamespaces } from "../../host/netns.js";
import { skipUnlessCI } from "./prereq.js";

const SELF = fileURLToPath(import.meta.url);

function defineTests(): void {
  const skip = skipUnlessCI(labUnavailable({ programs: ["ping"] }));

  test("Lab: teardown deletes every namespace it created (and is idempotent)", { skip, timeout: 30_000 }, () => {
    const lab = new Lab();
    let names: string[] = [];
    try {
      names = [lab.netns("a"), lab.netns("b")];
      lab.veth(names[0], "va", names[1], "vb");
      lab.tuntap(names[0], "mtun0");
      for (const n of names) assert.ok(n.startsWith(`mapetest-${process.pid}-`), n);
      const listed = listNamespaces();
      for (const n of names) assert.ok(listed.includes(n), `${n} in ${listed.join(",")}`);
      assert.deepEqual(lab.created, names);
      // veth ends were created in place: none in our own namespace.
      const ours = listLinks(null);
      assert.ok(!ours.includes("va") && !ours.includes("vb"), "no veth end in our namespace");
      assert.ok(listLinks(names[0]).includes("va") && listLinks(names[0]).includes("mtun0"));
      assert.ok(listLinks(names[1]).includes("vb"));
    } finally {
      lab.teardown();
      lab.teardown();
    }
    const after = listNamespaces();
    for (const n of names) assert.ok(!after.includes(n), `${n} left behind`);
    assert.deepEqual(lab.created, []);
  });

  test("Lab: veth connectivity between two namespaces (IPv4 and IPv6 ping, routed hop)", { skip, timeout: 60_000 }, async () => {
    const lab = new Lab();
    try {
      const a = lab.netns("a");
      const r = lab.netns("r");
      const b = lab.netns("b");
      lab.veth(a, "eth0", r, "ra");
      lab.veth(r, "rb", b, "eth0");
      lab.addr(a, "eth0", "192.0.2.1/24");
      lab.addr(r, "ra", "192.0.2.2/24");
      lab.addr(r, "rb", "198.51.100.2/24");
      lab.addr(b, "eth0", "198.51.100.1/24");
      lab.addr(a, "eth0", "2001:db8:a::1/64");
      lab.addr(r, "ra", "2001:db8:a::2/64");
      lab.addr(r, "rb", "2001:db8:b::2/64");
      lab.addr(b, "eth0", "2001:db8:b::1/64");
      lab.forwarding(r);
      lab.route(a, "default", { via: "192.0.2.2" });
      lab.route(b, "default", { via: "198.51.100.2" });
      lab.route(a, "default", { via: "2001:db8:a::2" });
      lab.route(b, "default", { via: "2001:db8:b::2" });
      assert.equal(lab.execSync(r, "sysctl", ["-n", "net.ipv4.ip_forward"]).trim(), "1");

      const direct = await lab.exec(a, "ping", ["-c", "2", "-w", "5", "-i", "0.2", "192.0.2.2"]);
      assert.equal(direct.code, 0, direct.stdout + direct.stderr);
      const routed4 = await lab.exec(a, "ping", ["-c", "2", "-w", "5", "-i", "0.2", "198.51.100.1"]);
      assert.equal(routed4.code, 0, routed4.stdout + routed4.stderr);
      assert.match(routed4.stdout, /ttl=63/, "one routed hop");
      const routed6 = await lab.exec(a, "ping", ["-6", "-c", "2", "-w", "5", "-i", "0.2", "2001:db8:b::1"]);
      assert.equal(routed6.code, 0, routed6.stdout + routed6.stderr);
    } finally {
      lab.teardown();
    }
  });

  test("Lab: a failing ip command says which command and why", { skip, timeout: 30_000 }, () => {
    const lab = new Lab();
    try {
      const a = lab.netns("a");
      assert.throws(() => lab.addr(a, "nosuchdev", "192.0.2.1/24"), /ip -n mapetest-.* addr add 192\.0\.2\.1\/24 dev nosuchdev: .*nosuchdev/);
      assert.throws(() => ip(null, "netns", "add", a), /ip netns add .*: .*exists/);
    } finally {
      lab.teardown();
    }
  });

  test("Lab: namespaces are deleted when the process exits or is killed", { skip, timeout: 30_000 }, () => {
    for (const how of ["exit", "SIGTERM", "SIGINT"]) {
      const r = spawnSync(process.execPath, [SELF], {
        env: { ...process.env, MAPE_NETNS_CHILD: how, NODE_TEST_CONTEXT: undefined },
        encoding: "utf8",
        timeout: 20_000,
      });
      const name = r.stdout.trim();
      assert.match(name, /^mapetest-\d+-0-x$/, `child (${how}) printed ${JSON.stringify(r.stdout)}; stderr ${r.stderr}`);
      assert.ok(!listNamespaces().includes(name), `${name} left behind after ${how}`);
      if (how !== "exit") assert.equal(r.signal, how, "the signal's default action still ends the process");
    }
  });

  test("labUnavailable: says nothing is missing here, or why", () => {
    const why = labUnavailable({ tun: true, programs: ["ip"] });
    assert.ok(why === undefined || why.length > 10);
    assert.match(labUnavailable({ programs: ["no-such-program-mapetest"] }) ?? "not root", /no `no-such-program-mapetest` command|not root|Linux/);
  });
}

/** Child mode: make a namespace, print its name, then exit or wait for a signal without tearing down. */
function runChild(how: string): void {
  const lab = new Lab();
  const name = lab.netns("x");
  process.stdout.write(name + "\n");
  if (how === "exit") return; // the 'exit' handler cleans up
  setTimeout(() => process.exit(4), 10_000); // bounded; keeps the loop alive until the signal
  process.kill(process.pid, how as NodeJS.Signals);
}

if (process.env.MAPE_NETNS_CHILD) runChild(process.env.MAPE_NETNS_CHILD);
else defineTests();
