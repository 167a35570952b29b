// The OpenWrt netifd protocol handler (openwrt/files/lib/netifd/proto/mape.sh)
// run as netifd runs it — `cd /lib/netifd/proto; sh ./mape.sh mape setup
// <interface> '<config JSON>'` under busybox ash, OpenWrt's shell — with
// netifd's shell helpers replaced by recorders: /lib/functions.sh,
// /lib/functions/network.sh and /lib/netifd/netifd-proto.sh (proto_*, and
// jshn's json_*) are test doubles laid over /lib in a private mount
// namespace, and /sys/class/net is a private tmpfs in which the recorded
// proto_run_command "creates" the CE's TUN. Every call is logged; the tests
// assert the exact `mape ce` command line, routes and firewall data.
//
// `mape` on PATH is the real Node CLI behind a logging wrapper, so the IPv4
// and MAP addresses the handler sends come from the program, as on a router.
// (netifd would start `mape ce` itself; here proto_run_command only records
// it — the CE's own flags are the program's business and its tests'.)
//
// Needs root (mount namespace, overlayfs), unshare, busybox and shellcheck.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { skipUnlessCI } from "./prereq.js";
import { LOG_FN } from "./shlog.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const HANDLER = `${root}openwrt/files/lib/netifd/proto/mape.sh`;
const HOOK = `${root}openwrt/files/usr/share/mape/odhcp6c-hook.sh`;

function have(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (the handler runs in a private mount namespace)";
  for (const c of ["unshare", "busybox", "mount"]) if (!have(c)) return `${c} not installed`;
  return undefined;
}
const skip = skipUnlessCI(missing());
const skipShellcheck = skipUnlessCI(have("shellcheck") ? undefined : "shellcheck not installed");

// ---------------------------------------------------------------------------
// The test doubles

/** Logs one call: the name, then each argument in [brackets]. */

const recorded = [
  "json_init", "json_add_string", "json_add_int", "json_add_boolean", "json_add_array", "json_close_array",
  "json_add_object", "json_close_object", "json_add_null",
  "proto_config_add_string", "proto_config_add_int", "proto_config_add_boolean", "proto_config_add_array",
  "proto_init_update", "proto_add_ipv4_address", "proto_add_ipv6_address", "proto_add_ipv4_route", "proto_add_ipv6_route",
  "proto_add_ipv6_prefix", "proto_add_dns_server", "proto_add_data", "proto_close_data", "proto_add_tunnel", "proto_close_tunnel",
  "proto_send_update", "proto_notify_error", "proto_block_restart", "proto_kill_command", "proto_add_host_dependency",
  "proto_set_available", "proto_export", "proto_set_keep", "proto_setup_failed",
];

/** /lib/netifd/netifd-proto.sh: recorders, plus init_proto/add_protocol as netifd-proto.sh does them. */
const NETIFD_PROTO = `# test double of netifd-proto.sh and jshn.sh
${LOG_FN}
${recorded.map((f) => `${f}() { mape_test_log ${f} "$@"; }`).join("\n")}
json_dump() { mape_test_log json_dump; echo '{}'; }
# jshn's json_load, with node parsing the JSON netifd hands over
json_load() { eval "$(node "$MAPE_TEST_JSON2SH" "$1")"; }
json_get_var() { eval "$1=\\"\\\${_J_$2}\\""; }
json_get_vars() { for _v in "$@"; do eval "$_v=\\"\\\${_J_$_v}\\""; done; }
proto_run_command() {
	mape_test_log proto_run_command "$@"
	# stands in for the CE netifd would start: it creates its TUN
	if [ -n "$MAPE_TEST_TUN_APPEARS" ]; then
		while [ $# -gt 0 ]; do
			[ "$1" = --tun ] && mkdir -p "/sys/class/net/$2"
			shift
		done
	fi
}
init_proto() {
	proto="$1"; shift
	cmd="$1"; shift
	case "$cmd" in
		dump)
			add_protocol() {
				mape_test_log add_protocol "$1"
				no_device=0; available=0
				eval "proto_$1_init_config"
				mape_test_log flags "no_device=$no_device" "available=$available"
			}
			;;
		setup|teardown)
			interface="$1"; shift
			data="$1"; shift
			ifname="$1"; shift
			add_protocol() {
				[ "$proto" = "$1" ] || return 0
				json_load "$data"
				eval "proto_$1_$cmd \\"\\$interface\\" \\"\\$ifname\\""
			}
			;;
	esac
}
`;

const FUNCTIONS = `# test double of /lib/functions.sh (the handler uses none of it)
`;

/** /lib/functions/network.sh: the tunlink's delegated prefixes and the IPv6 uplink, from the test. */
const NETWORK = `# test double of /lib/functions/network.sh
${LOG_FN}
network_get_prefixes6() { mape_test_log network_get_prefixes6 "$@"; eval "$1=\\"\\\${MAPE_TEST_PREFIXES_$2}\\""; }
network_get_dnsserver() { mape_test_log network_get_dnsserver "$@"; eval "$1=\\"\\\${MAPE_TEST_DNS_$2}\\""; }
network_find_wan6() { mape_test_log network_find_wan6 "$@"; eval "$1=\\"\\\${MAPE_TEST_WAN6}\\""; [ -n "$MAPE_TEST_WAN6" ]; }
`;

/** JSON object → jshn-style shell assignments (_J_<key>='value'; booleans 1/0). */
const JSON2SH = `const o = JSON.parse(process.argv[2]);
for (const [k, v] of Object.entries(o)) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || v === null || typeof v === "object") continue;
  const s = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
  process.stdout.write("_J_" + k + "='" + s.replace(/'/g, "'\\\\''") + "'\\n");
}
`;

const bin = (body: string) => `#!/bin/sh\n${LOG_FN}\n${body}\n`;
const FAKE_MAPE = bin(`mape_test_log mape "$@"\nexec node "$MAPE_TEST_ROOT/bin/mape.js" "$@"`);
const FAKE_FW4 = bin(`mape_test_log fw4 "$@"\n[ -n "$MAPE_TEST_FW4_ZONE" ] || exit 1\necho "$MAPE_TEST_FW4_ZONE"`);
const FAKE_SLEEP = bin(`mape_test_log sleep "$@"`);

interface Call {
  name: string;
  args: string[];
}

interface Run {
  status: number | null;
  stderr: string;
  calls: Call[];
}

function parseLog(text: string): Call[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const sp = l.indexOf(" ");
      const name = sp < 0 ? l : l.slice(0, sp);
      const args = [...(sp < 0 ? "" : l.slice(sp)).matchAll(/ \[([^\]]*)\]/g)].map((m) => m[1]);
      return { name, args };
    });
}

interface Options {
  action?: "setup" | "teardown" | "dump";
  iface?: string;
  config?: Record<string, string | number | boolean>;
  /** MAPE_TEST_PREFIXES_<iface>: the delegated prefixes network.sh reports. */
  prefixes?: Record<string, string>;
  /** MAPE_TEST_DNS_<iface>: the resolvers network.sh reports. */
  dns?: Record<string, string>;
  wan6?: string;
  fw4Zone?: string;
  tunAppears?: boolean;
}

/** Runs the real handler as netifd does, in a private mount namespace with the doubles laid over /lib. */
function runHandler(o: Options): Run {
  const t = mkdtempSync(join(tmpdir(), "mape-openwrt-"));
  try {
    const up = join(t, "up");
    mkdirSync(join(up, "netifd", "proto"), { recursive: true });
    mkdirSync(join(up, "functions"), { recursive: true });
    mkdirSync(join(t, "work"));
    mkdirSync(join(t, "bin"));
    copyFileSync(HANDLER, join(up, "netifd", "proto", "mape.sh"));
    writeFileSync(join(up, "netifd", "netifd-proto.sh"), NETIFD_PROTO);
    writeFileSync(join(up, "functions.sh"), FUNCTIONS);
    writeFileSync(join(up, "functions", "network.sh"), NETWORK);
    writeFileSync(join(t, "json2sh.cjs"), JSON2SH);
    for (const [name, body] of [["mape", FAKE_MAPE], ["fw4", FAKE_FW4], ["sleep", FAKE_SLEEP]] as const) {
      writeFileSync(join(t, "bin", name), body);
      chmodSync(join(t, "bin", name), 0o755);
    }
    const log = join(t, "log");
    writeFileSync(log, "");
    const lib = realpathSync("/lib");
    const script = [
      "set -e",
      `mount -t overlay overlay -o lowerdir=${lib},upperdir=${up},workdir=${join(t, "work")} ${lib}`,
      "mount -t tmpfs none /sys/class/net",
      "cd /lib/netifd/proto",
      "set +e",
      'exec busybox sh ./mape.sh "$@"',
    ].join("\n");
    const action = o.action ?? "setup";
        // netifd's command lines: `<script> '' dump`, `<script> mape setup <interface> '<config JSON>'`.
    const args = action === "dump" ? ["", "dump"] : ["mape", action, o.iface ?? "wanmap", JSON.stringify(o.config ?? {})];
    const env: NodeJS.ProcessEnv = {
      PATH: `${join(t, "bin")}:${process.env.PATH}`,
      MAPE_TEST_LOG: log,
      MAPE_TEST_ROOT: root,
      MAPE_TEST_JSON2SH: join(t, "json2sh.cjs"),
      MAPE_TEST_WAN6: o.wan6 ?? "",
      MAPE_TEST_FW4_ZONE: o.fw4Zone ?? "",
      MAPE_TEST_TUN_APPEARS: o.tunAppears === false ? "" : "1",
    };
    for (const [k, v] of Object.entries(o.prefixes ?? {})) env[`MAPE_TEST_PREFIXES_${k}`] = v;
    for (const [k, v] of Object.entries(o.dns ?? {})) env[`MAPE_TEST_DNS_${k}`] = v;
    const r = spawnSync("unshare", ["-m", "sh", "-c", script, "sh", ...args], { encoding: "utf8", env, timeout: 60_000 });
    return { status: r.status, stderr: r.stderr, calls: parseLog(readFileSync(log, "utf8")) };
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
}

const named = (r: Run, ...names: string[]) => r.calls.filter((c) => names.includes(c.name)).map((c) => [c.name, ...c.args]);

/** The netifd update (proto_init_update … proto_send_update), json_* included, as [name, ...args] rows. */
function update(r: Run): string[][] {
  const i = r.calls.findIndex((c) => c.name === "proto_init_update");
  const j = r.calls.findIndex((c) => c.name === "proto_send_update");
  assert.ok(i >= 0 && j > i, `no complete update in ${JSON.stringify(r.calls)}\n${r.stderr}`);
  return r.calls.slice(i, j + 1).map((c) => [c.name, ...c.args]);
}

/** The update rows a CE with this TUN, zone and addresses must send. */
function expectedUpdate(cfg: string, tun: string, zone: string, v4: string, map: string, br: string): string[][] {
  return [
    ["proto_init_update", tun, "1"],
    ["proto_add_ipv4_route", "0.0.0.0", "0"],
    ["proto_add_ipv6_route", map, "128"],
    ["proto_add_data"],
    ["json_add_string", "zone", zone],
    ["json_add_string", "ipv4_address", v4],
    ["json_add_string", "map_address", map],
    ["json_add_string", "br", br],
    ["json_add_array", "firewall"],
    ["json_add_object", ""],
    ["json_add_string", "type", "nat"],
    ["json_add_string", "family", "inet"],
    ["json_add_string", "target", "ACCEPT"],
    ["json_close_object"],
    ["json_add_object", ""],
    ["json_add_string", "type", "rule"],
    ["json_add_string", "family", "inet6"],
    ["json_add_string", "proto", "all"],
    ["json_add_string", "direction", "out"],
    ["json_add_string", "src", zone],
    ["json_add_string", "dest", zone],
    ["json_add_string", "dest_ip", map],
    ["json_add_string", "target", "ACCEPT"],
    ["json_close_object"],
    ["json_add_object", ""],
    ["json_add_string", "type", "rule"],
    ["json_add_string", "family", "inet6"],
    ["json_add_string", "proto", "all"],
    ["json_add_string", "direction", "in"],
    ["json_add_string", "src", zone],
    ["json_add_string", "dest", zone],
    ["json_add_string", "src_ip", map],
    ["json_add_string", "target", "ACCEPT"],
    ["json_close_object"],
    ["json_close_array"],
    ["proto_close_data"],
    ["proto_send_update", cfg],
  ];
}

// The JANOG interop rule as UCI options of OpenWrt's map protocol.
const JANOG_UCI = {
  proto: "mape",
  maptype: "map-e",
  peeraddr: "2403:9200:fff0::2",
  ipaddr: "203.86.225.0",
  ip4prefixlen: "28",
  ip6prefix: "2403:9200::",
  ip6prefixlen: "32",
  ealen: "16",
  offset: "4",
  tunlink: "wan6",
  zone: "wan",
};
const JANOG_RULE = "type=map-e,ipv6prefix=2403:9200::,prefix6len=32,ipv4prefix=203.86.225.0,prefix4len=28,offset=4,ealen=16,br=2403:9200:fff0::2";
const JANOG_MAP = "2403:9200:1234::cb56:e101:234";

// ---------------------------------------------------------------------------

test("shellcheck: the handler and the odhcp6c hook are clean", { skip: skipShellcheck }, () => {
  for (const f of [HANDLER, HOOK]) {
    const r = spawnSync("shellcheck", [f], { encoding: "utf8" });
    assert.equal(r.status, 0, `${f}:\n${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, "");
  }
});

test("dump: proto 'mape' declares map's options and ours, no device of its own", { skip }, () => {
  const r = runHandler({ action: "dump" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(named(r, "add_protocol"), [["add_protocol", "mape"]]);
  const opts = r.calls.filter((c) => c.name === "proto_config_add_string").map((c) => c.args[0]);
  for (const o of ["maptype", "rule", "ipaddr", "ip4prefixlen", "ip6prefix", "ip6prefixlen", "peeraddr", "ealen", "psidlen",
    "psid", "offset", "legacymap", "mtu", "ttl", "tunlink", "zone", "prefix", "filtering", "mss_clamp", "tc_from_tos",
    "udp_timeout", "dns_timeout", "tcp_established_timeout", "tcp_transitory_timeout", "icmp_timeout"]) {
    assert.ok(opts.includes(o), `option ${o} not declared: ${opts.join(" ")}`);
  }
  assert.deepEqual(named(r, "flags"), [["flags", "no_device=1", "available=1"]]);
});

test("(a) UCI static JANOG rule: the exact mape ce command line, routes and firewall data", { skip }, () => {
  const r = runHandler({
    iface: "wanmap",
    config: { ...JANOG_UCI, mtu: "1460", ttl: "64", filtering: "endpoint-independent", mss_clamp: "auto", tc_from_tos: "0",
      udp_timeout: "300", dns_timeout: "30", tcp_established_timeout: "7440", tcp_transitory_timeout: "240", icmp_timeout: "60" },
    prefixes: { wan6: "2403:9200:1234::/48" },
  });
  assert.equal(r.status, 0, r.stderr);
  // The host dependency on the uplink, and its prefixes, as map.sh and mapcalc use them.
  assert.deepEqual(named(r, "proto_add_host_dependency"), [["proto_add_host_dependency", "wanmap", "::", "wan6"]]);
  assert.deepEqual(named(r, "network_get_prefixes6"), [["network_get_prefixes6", "candidates", "wan6"]]);
  // The program computed the addresses, from the same rule flags.
  assert.deepEqual(named(r, "mape"), [["mape", "calc", "--format", "mapcalc", "--dhcpv6", JANOG_RULE, "--prefix", "2403:9200:1234::/48"]]);
  assert.deepEqual(named(r, "proto_run_command"), [[
    "proto_run_command", "wanmap", "mape", "ce", "--dhcpv6", JANOG_RULE, "--prefix", "2403:9200:1234::/48", "--tun", "mape-wanmap",
    "--tunnel-mtu", "1500", "--hop-limit", "64", "--filtering", "endpoint-independent", "--mss-clamp", "auto",
    "--tc-from-tos", "off", "--udp-timeout", "300", "--dns-timeout", "30", "--tcp-established-timeout", "7440",
    "--tcp-transitory-timeout", "240", "--icmp-timeout", "60",
  ]]);
  assert.deepEqual(update(r), expectedUpdate("wanmap", "mape-wanmap", "wan", "203.86.225.1", JANOG_MAP, "2403:9200:fff0::2"));
  assert.deepEqual(named(r, "proto_notify_error", "proto_block_restart", "proto_kill_command", "sleep"), []);
  assert.match(r.stderr, /mape: wanmap: IPv4 203\.86\.225\.1, MAP address 2403:9200:1234::cb56:e101:234, BR 2403:9200:fff0::2/);
});

test("(e) option auto: the HB46PP fetcher is the proto task, with the line's resolvers, the CA and the prefixes; no rule needed", { skip }, () => {
  const r = runHandler({
    config: { proto: "mape", auto: "1", tunlink: "wan6", zone: "wan", ca: "/etc/mape/vne-ca.pem", hb46pp_domain: "4over6.example", mtu: "1460" },
    prefixes: { wan6: "2001:db8:9::/48 240b:10:1234:5600::/56" },
    dns: { wan6: "2001:db8:53::1 2001:db8:53::2" },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(named(r, "network_get_dnsserver"), [["network_get_dnsserver", "dns", "wan6"]]);
  assert.deepEqual(named(r, "proto_export"), [
    ["proto_export", "MAPE_HB46PP_DOMAIN=4over6.example"],
    ["proto_export", "MAPE_HB46PP_DNS=2001:db8:53::1 2001:db8:53::2"],
    ["proto_export", "MAPE_HB46PP_CA=/etc/mape/vne-ca.pem"],
    ["proto_export", "MAPE_HB46PP_TUNLINK=wan6"],
  ]);
  assert.deepEqual(named(r, "proto_run_command"), [[
    "proto_run_command", "wanmap", "/usr/share/mape/hb46pp.sh", "run", "wanmap", "mape-wanmap", "/etc/mape/wanmap.rules.json",
    "2001:db8:9::/48 240b:10:1234:5600::/56", "wan", "--", "--tunnel-mtu", "1500",
  ]]);
  assert.deepEqual(named(r, "mape", "proto_send_update", "proto_notify_error"), [], "no calc, no update: the fetcher sends it once it has rules");
  // A rule file the user keeps: --rules, as mape ce takes it.
  const f = runHandler({ config: { proto: "mape", rules_file: "/etc/mape/v6plus.json", rules_format: "v6plus", tunlink: "wan6" },
    prefixes: { wan6: "240b:10:1234:5600::/56" } });
  assert.deepEqual(named(f, "mape")[0]?.slice(0, 7), ["mape", "calc", "--format", "mapcalc", "--rules", "/etc/mape/v6plus.json", "--rules-format"]);
  // ca and insecure together: refused.
  const both = runHandler({ config: { proto: "mape", auto: "1", tunlink: "wan6", ca: "/x.pem", insecure: "1" }, prefixes: { wan6: "2001:db8:9::/48" } });
  assert.match(both.stderr, /options ca and insecure: give one/);
  assert.deepEqual(named(both, "proto_run_command"), []);
});

test("(a) defaults: map.sh's mtu 1280 becomes tunnel MTU 1320; no local flags that were not set", { skip }, () => {
  const r = runHandler({ config: JANOG_UCI, prefixes: { wan6: "2403:9200:1234::/48" } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(named(r, "proto_run_command"), [[
    "proto_run_command", "wanmap", "mape", "ce", "--dhcpv6", JANOG_RULE, "--prefix", "2403:9200:1234::/48", "--tun", "mape-wanmap",
    "--tunnel-mtu", "1320",
  ]]);
});

test("(b) v6plus-style rule with legacymap: legacy interface id, the PD that fits the rule is chosen", { skip }, () => {
  const r = runHandler({
    iface: "v6plus",
    config: {
      proto: "mape", peeraddr: "2404:9200:225:100::64", ipaddr: "106.72.0.0", ip4prefixlen: "15",
      ip6prefix: "240b:10::", ip6prefixlen: "31", ealen: "25", psidlen: "8", offset: "4", legacymap: "1", mtu: "1460",
      tunlink: "wan6",
    },
    // Two delegated prefixes: the first lies outside the rule; the program refuses it and takes the second.
    prefixes: { wan6: "2001:db8:77::/48 240b:11:a1b2:c300::/56" },
    fw4Zone: "wan",
  });
  assert.equal(r.status, 0, r.stderr);
  const rule = "type=map-e,ipv6prefix=240b:10::,prefix6len=31,ipv4prefix=106.72.0.0,prefix4len=15,psidlen=8,offset=4,ealen=25,br=2404:9200:225:100::64";
  assert.deepEqual(named(r, "mape"), [
    ["mape", "calc", "--format", "mapcalc", "--dhcpv6", rule, "--legacy-iid", "--prefix", "2001:db8:77::/48"],
    ["mape", "calc", "--format", "mapcalc", "--dhcpv6", rule, "--legacy-iid", "--prefix", "240b:11:a1b2:c300::/56"],
  ]);
  assert.deepEqual(named(r, "proto_run_command"), [[
    "proto_run_command", "v6plus", "mape", "ce", "--dhcpv6", rule, "--legacy-iid", "--prefix", "240b:11:a1b2:c300::/56",
    "--tun", "mape-v6plus", "--tunnel-mtu", "1500",
  ]]);
  // No zone option: the zone fw4 assigns to the interface.
  assert.deepEqual(named(r, "fw4"), [["fw4", "-q", "network", "v6plus"]]);
  assert.deepEqual(update(r), expectedUpdate("v6plus", "mape-v6plus", "wan", "106.73.161.178", "240b:11:a1b2:c300:6a:49a1:b200:c300", "2404:9200:225:100::64"));
  // The refused prefix left no message behind: the setup succeeded.
  assert.doesNotMatch(r.stderr, /2001:db8:77::/);
});

test("(c) DHCPv6: the rule odhcp6c exported, as dhcpv6.script passes it to a dynamic interface", { skip }, () => {
  // odhcp6c's s46_to_env format: psidlen=0/psid=0 (from the EA bits), a trailing ", ".
  const rule = "type=map-e,ealen=16,prefix4len=28,prefix6len=32,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::,offset=4,psidlen=0,psid=0,br=2403:9200:fff0::2, ";
  const r = runHandler({
    iface: "wan6_4",
    config: { name: "wan6_4", ifname: "@wan6", proto: "mape", type: "map-e", _prefsig: " 2403:9200:1234::/48", rule, tunlink: "wan6", zone: "wan" },
    prefixes: { wan6: "2403:9200:1234::/48" },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(named(r, "mape"), [["mape", "calc", "--format", "mapcalc", "--dhcpv6", rule, "--dhcpv6-type", "map-e", "--prefix", "2403:9200:1234::/48"]]);
  assert.deepEqual(named(r, "proto_run_command"), [[
    "proto_run_command", "wan6_4", "mape", "ce", "--dhcpv6", rule, "--dhcpv6-type", "map-e", "--prefix", "2403:9200:1234::/48",
    "--tun", "mape-wan6_4", "--tunnel-mtu", "1320",
  ]]);
  assert.deepEqual(update(r), expectedUpdate("wan6_4", "mape-wan6_4", "wan", "203.86.225.1", JANOG_MAP, "2403:9200:fff0::2"));
});

test("(c) no tunlink: the prefixes of the interface with the IPv6 default route", { skip }, () => {
  const { tunlink: _, ...noTunlink } = JANOG_UCI;
  const r = runHandler({ config: noTunlink, wan6: "wan6", prefixes: { wan6: "2403:9200:5123::/48" } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(named(r, "network_find_wan6", "network_get_prefixes6"), [
    ["network_find_wan6", "tunlink"],
    ["network_get_prefixes6", "candidates", "wan6"],
  ]);
  const rows = update(r);
  assert.deepEqual(rows.find((row) => row[0] === "json_add_string" && row[1] === "ipv4_address"), ["json_add_string", "ipv4_address", "203.86.225.5"]);
});

test("option prefix overrides the delegated prefix (and the uplink is not asked)", { skip }, () => {
  const r = runHandler({ config: { ...JANOG_UCI, prefix: "2403:9200:5123::/48" }, prefixes: { wan6: "2403:9200:1234::/48" } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(named(r, "network_get_prefixes6"), []);
  assert.equal(named(r, "proto_run_command")[0][7], "2403:9200:5123::/48");
});

test("the odhcp6c hook hands $MAPE to a dynamic proto 'mape' interface, untouched", { skip }, () => {
  const t = mkdtempSync(join(tmpdir(), "mape-hook-"));
  try {
    const log = join(t, "log");
    writeFileSync(log, "");
    const rule = "type=map-e,ealen=16,prefix4len=28,prefix6len=32,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::,offset=4,psidlen=0,psid=0,br=2403:9200:fff0::2, ";
    const script = `${LOG_FN}
${["json_init", "json_add_string", "json_close_object", "ubus"].map((f) => `${f}() { mape_test_log ${f} "$@"; }`).join("\n")}
json_dump() { echo DUMP; }
set -- eth1 "$STATE"
. "${HOOK}"
`;
    const env = { PATH: process.env.PATH, MAPE_TEST_LOG: log, INTERFACE: "wan6", MAPE: rule, ZONE: "wan",
      PREFIXES: "2403:9200:1234::/48,3600,7200 2403:9200:5678::/56,3600,7200" };
    const bound = spawnSync("busybox", ["sh", "-c", script], { encoding: "utf8", env: { ...env, STATE: "bound" } });
    assert.equal(bound.status, 0, bound.stderr);
    assert.deepEqual(parseLog(readFileSync(log, "utf8")).map((c) => [c.name, ...c.args]), [
      ["json_init"],
      ["json_add_string", "name", "wan6_4"],
      ["json_add_string", "ifname", "@wan6"],
      ["json_add_string", "proto", "mape"],
      ["json_add_string", "type", "map-e"],
      ["json_add_string", "_prefsig", " 2403:9200:1234::/48 2403:9200:5678::/56"],
      ["json_add_string", "rule", rule],
      ["json_add_string", "tunlink", "wan6"],
      ["json_add_string", "zone", "wan"],
      ["json_close_object"],
      ["ubus", "call", "network", "add_dynamic", "DUMP"],
    ]);
    writeFileSync(log, "");
    const stopped = spawnSync("busybox", ["sh", "-c", script], { encoding: "utf8", env: { ...env, STATE: "stopped" } });
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.equal(readFileSync(log, "utf8"), "");
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// (d) bad and missing options: one clear line, netifd's error code, no restart
// loop (as map.sh: proto_notify_error + proto_block_restart), and no CE started.

function assertRefused(r: Run, cfg: string, code: string, message: RegExp, block = true): void {
  assert.deepEqual(named(r, "proto_notify_error"), [["proto_notify_error", cfg, code]], r.stderr);
  assert.deepEqual(named(r, "proto_block_restart"), block ? [["proto_block_restart", cfg]] : []);
  assert.match(r.stderr, message);
  assert.deepEqual(named(r, "proto_init_update", "proto_send_update"), []);
}

test("(d) an EA length the program refuses: its one-line error, INVALID_MAP_RULE, no restart", { skip }, () => {
  const r = runHandler({ config: { ...JANOG_UCI, ealen: "49" }, prefixes: { wan6: "2403:9200:1234::/48" } });
  assertRefused(r, "wanmap", "INVALID_MAP_RULE", /^mape: wanmap: end-user prefix 2403:9200:1234::\/48: --dhcpv6 ealen: .*EA_LENGTH/m);
  assert.deepEqual(named(r, "proto_run_command"), []);
});

test("(d) a missing rule option: the program names it", { skip }, () => {
  const { ipaddr: _, ...noIpaddr } = JANOG_UCI;
  const r = runHandler({ config: noIpaddr, prefixes: { wan6: "2403:9200:1234::/48" } });
  assertRefused(r, "wanmap", "INVALID_MAP_RULE", /--dhcpv6 ipv4prefix: is required/);
  assert.deepEqual(named(r, "proto_run_command"), []);
});

test("(d) no peeraddr: a CE needs a BR, said before it is started", { skip }, () => {
  const { peeraddr: _, ...noBr } = JANOG_UCI;
  const r = runHandler({ config: noBr, prefixes: { wan6: "2403:9200:1234::/48" } });
  assertRefused(r, "wanmap", "INVALID_MAP_RULE", /^mape: wanmap: no BR address \(option peeraddr, or br= in option rule\)$/m);
  assert.deepEqual(named(r, "proto_run_command"), []);
});

test("(d) the rule fits none of the delegated prefixes: every refusal is printed", { skip }, () => {
  const r = runHandler({ config: JANOG_UCI, prefixes: { wan6: "2001:db8:1::/48 2001:db8:2::/48" } });
  assertRefused(r, "wanmap", "INVALID_MAP_RULE", /end-user prefix 2001:db8:1::\/48: --prefix: .*PREFIX_OUTSIDE_RULE[^]*end-user prefix 2001:db8:2::\/48: --prefix: .*PREFIX_OUTSIDE_RULE/);
  assert.equal(named(r, "mape").length, 2);
});

test("(d) no delegated prefix on the tunlink: NO_MATCHING_PD", { skip }, () => {
  const r = runHandler({ config: JANOG_UCI, prefixes: {} });
  assertRefused(r, "wanmap", "NO_MATCHING_PD", /^mape: wanmap: no end-user prefix: no delegated IPv6 prefix on 'wan6'/m);
  assert.deepEqual(named(r, "mape", "proto_run_command"), []);
});

test("(d) options the handler cannot map: a value that would split the rule, booleans, mtu", { skip }, () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ ipaddr: "203.86.225.0,ealen=0" }, /^mape: wanmap: option ipaddr: '203\.86\.225\.0,ealen=0' contains ',', '=' or white space$/m],
    [{ peeraddr: "2403:9200:fff0::2 type=lw4o6" }, /option peeraddr: .* contains ',', '=' or white space/],
    [{ legacymap: "maybe" }, /^mape: wanmap: option legacymap: 'maybe' is not a boolean \(0\/1\)$/m],
    [{ tc_from_tos: "2" }, /^mape: wanmap: option tc_from_tos: '2' is not a boolean \(0\/1\)$/m],
    [{ mtu: "1460b" }, /^mape: wanmap: option mtu: '1460b' is not an integer$/m],
  ];
  for (const [bad, message] of cases) {
    const r = runHandler({ config: { ...JANOG_UCI, ...bad }, prefixes: { wan6: "2403:9200:1234::/48" } });
    assertRefused(r, "wanmap", "INVALID_MAP_RULE", message);
    assert.deepEqual(named(r, "proto_run_command"), [], JSON.stringify(bad));
  }
});

test("(d) maptype map-t, and an unknown maptype: UNSUPPORTED_TYPE", { skip }, () => {
  let r = runHandler({ config: { ...JANOG_UCI, maptype: "map-t" } });
  assertRefused(r, "wanmap", "UNSUPPORTED_TYPE", /maptype map-t: the mape CE tunnels/);
  r = runHandler({ config: { ...JANOG_UCI, maptype: "4rd" } });
  assertRefused(r, "wanmap", "UNSUPPORTED_TYPE", /maptype '4rd' is not map-e or lw4o6/);
  assert.deepEqual(named(r, "mape", "proto_run_command"), []);
});

test("(d) an interface name too long for a TUN", { skip }, () => {
  const r = runHandler({ iface: "wan_mape_long", config: JANOG_UCI, prefixes: { wan6: "2403:9200:1234::/48" } });
  assertRefused(r, "wan_mape_long", "INVALID_INTERFACE_NAME", /the TUN name 'mape-wan_mape_long' is longer than 15 characters/);
});

test("(d) the CE never creates its TUN: TUN_NOT_CREATED, the CE is stopped, netifd may retry", { skip }, () => {
  const r = runHandler({ config: JANOG_UCI, prefixes: { wan6: "2403:9200:1234::/48" }, tunAppears: false });
  assert.equal(named(r, "proto_run_command").length, 1);
  assert.equal(named(r, "sleep").length, 10);
  assertRefused(r, "wanmap", "TUN_NOT_CREATED", /mape ce did not create mape-wanmap within 10 s/, false);
  assert.deepEqual(named(r, "proto_kill_command"), [["proto_kill_command", "wanmap"]]);
});

// ---------------------------------------------------------------------------
// The package Makefile, under a stub of OpenWrt's rules.mk/package.mk
// (tests/openwrt-sdk-stub: the same $(call)/$(eval) expansion of
// Build/Prepare, Build/Compile and Package/mape/install as OpenWrt's
// package.mk) with two stand-ins for the SDK's toolchain (below). Not an
// OpenWrt build: no SDK exists on these machines.

function packageMissing(): string | undefined {
  for (const f of ["native/router/main.c", "native/tunio.c", "build/router/gen/mape.c", "build/router/gen/usage.h"]) {
    try {
      readFileSync(`${root}${f}`);
    } catch {
      return `${f} missing (the router program's sources and npm run build's wasm2c output)`;
    }
  }
  return have("make") ? undefined : "make not installed";
}

/**
 * Two stand-ins for an SDK's toolchain: Debian's mipsel cross compiler with
 * MT7621's CPU flags (big/little endian and CPU, run under qemu-user), and
 * musl-gcc with the kernel's headers (OpenWrt's libc, run natively on x86_64).
 */
interface Toolchain {
  name: string;
  tools: string[];
  vars: (t: string) => string[];
  run: (exe: string) => [string, string[]];
  /** ELF class, data (1 little-endian), e_machine. */
  elf: [number, number, number];
}
const TOOLCHAINS: Toolchain[] = [
  { name: "mipsel (MT7621 flags)", tools: ["mipsel-linux-gnu-gcc", "qemu-mipsel-static"], vars: () => [], run: (exe) => ["qemu-mipsel-static", [exe]], elf: [1, 1, 8] },
  {
    name: "musl (x86_64)",
    tools: ["musl-gcc"],
    // musl-gcc searches musl's headers only: give it the kernel's (linux/, asm/), as an SDK's toolchain has them.
    vars: (t) => {
      mkdirSync(`${t}/kernel-headers`);
      for (const [n, p] of [["linux", "/usr/include/linux"], ["asm", `/usr/include/${process.arch === "x64" ? "x86_64" : process.arch}-linux-gnu/asm`], ["asm-generic", "/usr/include/asm-generic"]]) {
        spawnSync("ln", ["-s", p, `${t}/kernel-headers/${n}`]);
      }
      return ["TARGET_CC=musl-gcc", "TARGET_CFLAGS=-Os -pipe", `TARGET_CPPFLAGS=-idirafter ${t}/kernel-headers`];
    },
    run: (exe) => [exe, []],
    elf: [2, 1, 62],
  },
];

for (const tc of TOOLCHAINS) {
  const why = packageMissing() ?? tc.tools.map((c) => (have(c) ? undefined : `${c} not installed`)).find((x) => x !== undefined)
    ?? (tc.elf[2] === 62 && process.arch !== "x64" ? "not an x86_64 machine" : undefined);
  test(`package Makefile, ${tc.name}: builds /usr/sbin/mape, installs it and the handler; its calc prints the Node CLI's`, { skip: skipUnlessCI(why), timeout: 300_000 }, () => {
    const t = mkdtempSync(join(tmpdir(), "mape-pkg-"));
    try {
      const r = spawnSync("make", ["--no-print-directory", "-C", `${root}openwrt`, `TOPDIR=${root}tests/openwrt-sdk-stub`,
        `BUILD_DIR=${t}/build`, `PKG_INSTALL_ROOT=${t}/root`, `MAPE_SRC=${root.replace(/\/$/, "")}`, ...tc.vars(t), "install"], { encoding: "utf8" });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      const exe = `${t}/root/usr/sbin/mape`;
      const elf = readFileSync(exe);
      assert.deepEqual([...elf.subarray(0, 6)], [0x7f, 0x45, 0x4c, 0x46, tc.elf[0], tc.elf[1]]);
      assert.equal(elf.readUInt16LE(18), tc.elf[2]);
      assert.equal(readFileSync(`${t}/root/lib/netifd/proto/mape.sh`, "utf8"), readFileSync(HANDLER, "utf8"));
      assert.equal(readFileSync(`${t}/root/usr/share/mape/odhcp6c-hook.sh`, "utf8"), readFileSync(HOOK, "utf8"));
      // One program, one output: the package's build prints what the Node CLI prints.
      const node = spawnSync(process.execPath, [`${root}bin/mape.js`, "calc", "--format", "mapcalc"], { encoding: "utf8" });
      const [cmd, pre] = tc.run(exe);
      const native = spawnSync(cmd, [...pre, "calc", "--format", "mapcalc"], { encoding: "utf8" });
      assert.equal(node.status, 0, node.stderr);
      assert.equal(native.stderr, "");
      assert.equal(native.stdout, node.stdout);
    } finally {
      rmSync(t, { recursive: true, force: true });
    }
  });
}

test("teardown stops the CE (netifd sends it SIGTERM)", { skip }, () => {
  const r = runHandler({ action: "teardown", config: JANOG_UCI });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls.map((c) => [c.name, ...c.args]), [["proto_kill_command", "wanmap"]]);
});
