// Config sources → option bytes → the engine: the same results whatever the
// source, and every malformed input refused with its field named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Engine } from "../../host/engine.js";
import { ConfigError } from "../../host/config/errors.js";
import { configFromJson, readConfigSource } from "../../host/config/source.js";

/** The test's own hex fixtures → bytes (the module parses the user's hex; this only reads our fixtures). */
function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s/g, ""), "hex"));
}

// --- Fixtures: RFC 7598 options written out by hand, one field a line. ---

/** JANOG interop rule, BR 2403:9200:fff0::2, as a DHCPv6 server sends OPTION_S46_CONT_MAPE. */
const JANOG_HEX = [
  "005e 002c", //             OPTION_S46_CONT_MAPE (94), 44 bytes
  "0059 0014", //               S46_RULE (89), 20 bytes
  "00", //                        flags: F = 0 (BMR)
  "10", //                        ea-len 16
  "1c", //                        prefix4-len 28
  "cb56e100", //                  ipv4-prefix 203.86.225.0
  "20", //                        prefix6-len 32
  "24039200", //                  ipv6-prefix 2403:9200:: (4 bytes)
  "005d 0004", //                 S46_PORTPARAMS (93), 4 bytes
  "04 00 0000", //                  offset 4, PSID-len 0 (from the EA bits), PSID 0
  "005a 0010", //               S46_BR (90), 16 bytes
  "2403 9200 fff0 0000 0000 0000 0000 0002",
].join(" ");

/** lw4o6 binding 192.0.2.1, PSID 5 of 6 bits at offset 0, B4 prefix 2001:db8:1:200::/56, AFTR 2001:db8::1. */
const LW_HEX = [
  "0060 002c", //             OPTION_S46_CONT_LW (96), 44 bytes
  "005c 0014", //               S46_V4V6BIND (92), 20 bytes
  "c0000201", //                  ipv4-address 192.0.2.1
  "38", //                        bindprefix6-len 56
  "20010db8000102", //            bind-ipv6-prefix (7 bytes)
  "005d 0004", //                 S46_PORTPARAMS
  "00 06 1400", //                  offset 0, PSID-len 6, PSID 5 left-aligned (5 << 10)
  "005a 0010", //               S46_BR
  "2001 0db8 0000 0000 0000 0000 0000 0001",
].join(" ");

const JANOG_JSON = {
  type: "map-e",
  rules: [{ ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 }],
  br: "2403:9200:fff0::2",
  endUserPrefix: "2403:9200:1234::/48",
};

const LW_JSON = {
  type: "lw4o6",
  binding: { ipv4Address: "192.0.2.1", ipv6Prefix: "2001:db8:1:200::/56", psidOffset: 0, psidLength: 6, psid: 5 },
  br: "2001:db8::1",
};

const JANOG_UCI = `
config interface 'lan'
	option proto 'static'

config interface 'wan6_mape'   # the MAP-E tunnel
	option proto 'map'
	option maptype 'map-e'
	option peeraddr '2403:9200:fff0::2'
	option ipaddr '203.86.225.0'
	option ip4prefixlen '28'
	option ip6prefix '2403:9200::'
	option ip6prefixlen '32'
	option ealen '16'
	option psidlen '12'
	option offset '4'
	option tunlink 'wan6'
`;

/** What odhcp6c exports in $MAPE for the JANOG container (script.c, s46_to_env). */
const JANOG_MAPE_ENV =
  "type=map-e,ealen=16,prefix4len=28,prefix6len=32,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::,offset=4,psidlen=0,psid=0,br=2403:9200:fff0::2, ";

const JANOG_EXPECT = {
  ipv4Address: "203.86.225.1",
  ipv4PrefixLength: 32,
  psid: 564,
  psidLength: 12,
  psidOffset: 4,
  portCount: 15,
  ceIPv6Address: "2403:9200:1234::cb56:e101:234",
};

const engine = Engine.load();
const dir = mkdtempSync(join(tmpdir(), "mape-config-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function calcOf(argv: string[]) {
  const src = readConfigSource(argv, "calc");
  engine.configure(src.encoded);
  return { ...engine.calc(), rules: engine.rules(), brs: engine.brs(), bmr: engine.bmrIndex() };
}

/** Asserts the config is refused, the message naming `field` (and matching `what`). */
function refused(f: () => unknown, field: string, what: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, what);
    assert.ok(e.message.startsWith(`${field}: `), e.message);
    return true;
  }, `${field} ${what}`);
}

test("JSON encodes to exactly the hand-written JANOG container", () => {
  const enc = configFromJson(JANOG_JSON).encoded;
  const hand = hexBytes(JANOG_HEX);
  assert.deepEqual(enc.bytes.subarray(0, hand.length), hand);
});

test("JANOG: hand-built bytes, JSON, UCI, --rule and $MAPE give the same results", () => {
  const json = file("janog.json", JSON.stringify(JANOG_JSON));
  const uci = file("network", JANOG_UCI);
  const prefix = ["--prefix", "2403:9200:1234::/48"];
  const results = [
    calcOf(["--dhcpv6", JANOG_HEX, ...prefix]),
    calcOf(["--config", json]),
    calcOf(["--uci", uci, "--interface", "wan6_mape", ...prefix]),
    calcOf(["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", "2403:9200:fff0::2", ...prefix]),
    calcOf(["--dhcpv6", JANOG_MAPE_ENV, ...prefix]),
    calcOf([]), // the built-in default is this rule
  ];
  for (const r of results) {
    for (const [k, v] of Object.entries(JANOG_EXPECT)) assert.deepEqual(r[k as keyof typeof r], v, k);
    assert.deepEqual(r.brs, ["2403:9200:fff0::2"]);
    assert.equal(r.bmr, 0);
    assert.deepEqual(r.portRanges, results[0].portRanges);
  }
});

test("payload-only hex (no container header) is wrapped, offsets stay the user's", () => {
  const payload = JANOG_HEX.slice("005e 002c ".length);
  const r = calcOf(["--dhcpv6", payload, "--prefix", "2403:9200:1234::/48"]);
  assert.equal(r.ceIPv6Address, JANOG_EXPECT.ceIPv6Address);
  // ea-len 49 at byte 5 of the payload
  const bad = payload.replace(/^0059 0014 00 10/, "0059 0014 00 31");
  refused(() => calcOf(["--dhcpv6", bad, "--prefix", "2403:9200:1234::/48"]), "--dhcpv6", /EA_LENGTH.*byte 5, in S46_RULE/);
});

test("lw4o6: hand-built binding and JSON give the same results", () => {
  const json = file("lw.json", JSON.stringify(LW_JSON));
  const enc = configFromJson(LW_JSON).encoded;
  assert.deepEqual(enc.bytes.subarray(0, 48), hexBytes(LW_HEX));
  const a = calcOf(["--dhcpv6", LW_HEX]);
  const b = calcOf(["--config", json]);
  assert.deepEqual(a, b);
  assert.equal(a.ipv4Address, "192.0.2.1");
  assert.equal(a.psid, 5);
  assert.equal(a.psidLength, 6);
  assert.equal(a.psidOffset, 0);
  assert.equal(a.portCount, 1024);
  assert.deepEqual(a.portRanges, [[5120, 6143]]);
  assert.deepEqual(a.brs, ["2001:db8::1"]);
});

/** The OPTION_MAPE_LOCAL sub-options of encoded bytes: code → value. */
function localOf(bytes: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  for (let at = 0; at + 4 <= bytes.length; ) {
    const code = (bytes[at] << 8) | bytes[at + 1];
    const len = (bytes[at + 2] << 8) | bytes[at + 3];
    if (code === 0xff01) {
      for (let s = at + 4; s < at + 4 + len; ) {
        const l = (bytes[s + 2] << 8) | bytes[s + 3];
        let v = 0;
        for (let k = 0; k < l; k++) v = v * 256 + bytes[s + 4 + k];
        out.set((bytes[s] << 8) | bytes[s + 1], v);
        s += 4 + l;
      }
    }
    at += 4 + len;
  }
  return out;
}

// (Was a unit test of the TypeScript UCI reader; the reader is the module's
// now, so the same behaviour is checked through the configuration it makes.)
test("UCI: sections, quoting, comments, lists; options map as map.sh does", () => {
  const prefix = ["--prefix", "2403:9200:1234::/48"];
  const quoted = file("quoted", [
    "package network",
    "config interface \"a b\"  # a comment",
    "\toption proto map",
    "\toption peeraddr \"2403:9200:fff0::2\"",
    "\toption ipaddr '203.86.'225.0",
    "\toption ip4prefixlen 2\\8",
    "\toption ip6prefix '2403:9200::'",
    "\toption ip6prefixlen \"3\\2\"",
    "\toption ealen '1''6'",
    "\toption offset '4'",
    "",
  ].join("\n"));
  const q = calcOf(["--uci", quoted, "--interface", "a b", ...prefix]);
  for (const [k, v] of Object.entries(JANOG_EXPECT)) assert.deepEqual(q[k as keyof typeof q], v, k);
  // map.sh's default mtu 1280 + the IPv6 header; psidlen 12 as given
  const uci = file("network-janog", JANOG_UCI);
  const src = readConfigSource(["--uci", uci, "--interface", "wan6_mape", ...prefix], "calc");
  assert.equal(localOf(src.encoded.bytes).get(3), 1320);
  const r = calcOf(["--uci", uci, "--interface", "wan6_mape", ...prefix]);
  assert.equal(r.rules[0].psidLength, 12);
  // tunlink is mapcalc's PD6IFACE
  const mapcalc = spawnSync(process.execPath, [new URL("../../../../bin/mape.js", import.meta.url).pathname, "calc",
    "--uci", uci, "--interface", "wan6_mape", ...prefix, "--format", "mapcalc"], { encoding: "utf8" });
  assert.match(mapcalc.stdout, /^RULE_1_PD6IFACE=wan6$/m);
  // legacymap: pre-RFC interface id, and mapcalc's default PSID offset 4
  const legacy = calcOf(["--uci", file("legacy", JANOG_UCI.replace("\toption offset '4'\n", "\toption legacymap '1'\n")), "--interface", "wan6_mape", ...prefix]);
  assert.equal(legacy.psidOffset, 4);
  assert.equal(legacy.ceIPv6Address, "2403:9200:1234:0:cb:56e1:102:3400");
  // list values join with spaces: two rule strings, two rules
  const two = file("two-rules", [
    "config interface 'm'",
    "\toption proto 'map'",
    "\tlist rule 'type=map-e,ealen=16,prefix4len=28,prefix6len=32,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::,offset=4,br=2403:9200:fff0::2'",
    "\tlist rule 'fmr,type=map-e,ealen=8,prefix4len=24,prefix6len=40,ipv4prefix=192.0.2.0,ipv6prefix=2001:db8::,br=2403:9200:fff0::2'",
    "",
  ].join("\n"));
  const t = calcOf(["--uci", two, "--interface", "m", ...prefix]);
  assert.equal(t.rules.length, 2);
  assert.equal(t.rules[1].forwarding, true);
  assert.deepEqual(t.brs, ["2403:9200:fff0::2"]); // repeated BRs kept once
});

// --- Malformed input of every kind: refused, the field named. ---

function jsonWith(patch: (j: any) => void): string {
  const j = structuredClone(JANOG_JSON) as any;
  patch(j);
  return file(`bad-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(j));
}

test("malformed JSON configs name the JSON field", () => {
  const cases: [(j: any) => void, string, RegExp][] = [
    [(j) => (j.rules[0].eaLength = 49), "rules[0].eaLength", /EA_LENGTH/],
    [(j) => (j.rules[0].eaLength = "16"), "rules[0].eaLength", /integer/],
    [(j) => (j.rules[0].psidOffset = 5), "rules[0].psidOffset", /PSID_TOO_LONG/], // 5 + 12 > 16
    [(j) => delete j.rules[0].psidOffset, "rules[0].eaLength", /PSID_TOO_LONG/], // default 6 + 12 > 16
    [(j) => (j.rules[0].psidOffset = 16), "rules[0].psidOffset", /PORTPARAMS_OFFSET/],
    [(j) => (j.rules[0].psidLength = 8), "rules[0].psidLength", /PSID_MISMATCH/],
    [(j) => Object.assign(j.rules[0], { psidLength: 12, psid: 4096 }), "rules[0].psid", /does not fit/],
    [(j) => (j.rules[0].psid = 1), "rules[0].psid", /needs psidLength/],
    [(j) => (j.rules[0].eaLength = 30), "rules[0].eaLength", /EA_TOO_LONG_FOR_ADDRESS/], // 30 - (32 - 28) > 16
    [(j) => (j.rules[0].eaLength = 40), "rules[0].eaLength", /PREFIX6_PLUS_EA/],
    [(j) => (j.rules[0].ipv6Prefix = "2403:9200::/33x"), "rules[0].ipv6Prefix", /not an IPv6 prefix/],
    [(j) => (j.rules[0].ipv6Prefix = "2403:92g0::/32"), "rules[0].ipv6Prefix", /not a group/],
    [(j) => delete j.rules[0].ipv4Prefix, "rules[0].ipv4Prefix", /required/],
    [(j) => (j.rules[0].extra = 1), "rules[0].extra", /unknown field/],
    [(j) => (j.rules = {}), "rules", /array/],
    [(j) => (j.type = "map-x"), "type", /one of/],
    [(j) => (j.endUserPrefix = "2001:db8::/48"), "endUserPrefix", /PREFIX_OUTSIDE_RULE/],
    [(j) => (j.endUserPrefix = "2403:9200::/40"), "endUserPrefix", /PREFIX_LENGTH/],
    [(j) => (j.br = ["2403:9200:fff0::2", "nope"]), "br[1]", /not an IPv6 address/],
    [(j) => (j.br = Array.from({ length: 9 }, (_, i) => `2001:db8::${i + 1}`)), "br[8]", /TOO_MANY_BRS/],
    [(j) => (j.tunnelMtu = 100), "tunnelMtu", /LOCAL_VALUE/],
    [(j) => (j.hopLimit = 0), "hopLimit", /LOCAL_VALUE/],
    [(j) => (j.legacyIid = "yes"), "legacyIid", /true or false/],
  ];
  for (const [patch, field, what] of cases) {
    const f = jsonWith(patch);
    refused(() => calcOf(["--config", f]), field, what);
  }
  const notJson = file("x.json", "{ rules: [] }");
  refused(() => calcOf(["--config", notJson]), notJson, /not valid JSON/);
});

test("missing parts: BR in CE mode, rules, end-user prefix", () => {
  const noBr = jsonWith((j) => delete j.br);
  refused(() => engine.configure(readConfigSource(["--config", noBr], "ce").encoded), "br", /BR_MISSING/);
  const noRules = jsonWith((j) => (j.rules = []));
  refused(() => calcOf(["--config", noRules]), "rules", /RULE_MISSING/);
  const noPrefix = jsonWith((j) => delete j.endUserPrefix);
  refused(() => engine.configure(readConfigSource(["--config", noPrefix], "ce").encoded), "endUserPrefix", /PREFIX_MISSING/);
  refused(() => engine.configure(readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28,16,4"], "ce").encoded), "--br", /BR_MISSING/);
});

test("malformed hex names the byte offset in the user's hex", () => {
  const prefix = ["--prefix", "2403:9200:1234::/48"];
  refused(() => calcOf(["--dhcpv6", "005e0004ffff", ...prefix]), "--dhcpv6", /TRUNCATED.*byte 2/);
  refused(() => calcOf(["--dhcpv6", JANOG_HEX.replace("0059 0014", "0059 0003"), ...prefix]), "--dhcpv6", /OPTION_LENGTH.*byte 6, in S46_RULE/);
  refused(() => calcOf(["--dhcpv6", JANOG_HEX.replace("1c cb56e100", "21 cb56e100"), ...prefix]), "--dhcpv6", /PREFIX4_LENGTH.*byte 10/);
  refused(() => calcOf(["--dhcpv6", JANOG_HEX.replace("005a 0010", "005a 000f"), ...prefix]), "--dhcpv6", /byte/);
  refused(() => calcOf(["--dhcpv6", "005e 00 2", ...prefix]), "--dhcpv6", /odd number/);
  refused(() => calcOf(["--dhcpv6", "005e zz", ...prefix]), "--dhcpv6", /'z' is not a hex digit/);
  refused(() => engine.configure(new Uint8Array(0)), "options", /CONTAINER_MISSING/);
  refused(() => calcOf(["--dhcpv6", "001a0000", ...prefix]), "--dhcpv6", /OPTION_DUPLICATE.*byte 0/);
  refused(() => calcOf(["--dhcpv6", JANOG_HEX + JANOG_HEX, ...prefix]), "--dhcpv6", /CONTAINER_DUPLICATE.*byte 48/);
});

test("malformed UCI and rule strings name the option and line", () => {
  const prefix = ["--prefix", "2403:9200:1234::/48"];
  const f = join(dir, "network");
  const uci = (text: string, iface = "wan6_mape") => {
    writeFileSync(f, text);
    return calcOf(["--uci", f, "--interface", iface, ...prefix]);
  };
  refused(() => uci(JANOG_UCI.replace("ealen '16'", "ealen '49'")), `${f}:13 option ealen`, /EA_LENGTH/);
  refused(() => uci(JANOG_UCI.replace("ealen '16'", "ealen 'x'")), `${f}:13 option ealen`, /not an integer/);
  refused(() => uci(JANOG_UCI.replace("psidlen '12'", "psidlen '10'")), `${f}:14 option psidlen`, /PSID_MISMATCH/);
  refused(() => uci(JANOG_UCI.replace("ipaddr '203.86.225.0'", "ipaddr '203.86.225'")), `${f}:9 option ipaddr`, /not an IPv4 address/);
  refused(() => uci(JANOG_UCI, "wan"), "--interface", /no interface 'wan'.*wan6_mape/);
  refused(() => uci(JANOG_UCI, "lan"), `${f}:3 option proto`, /not 'map'/);
  refused(() => uci(JANOG_UCI.replace("option proto 'static'", "option proto 'static")), `${f}:3`, /unterminated/);
  refused(() => calcOf(["--dhcpv6", JANOG_MAPE_ENV.replace("ealen=16", "ealen=49"), ...prefix]), "--dhcpv6 ealen", /EA_LENGTH/);
  refused(() => calcOf(["--dhcpv6", JANOG_MAPE_ENV.replace("ealen=16", "eabits=16"), ...prefix]), "--dhcpv6", /unknown rule key 'eabits'/);
});

test("command-line sources: one at a time, values required", () => {
  refused(() => readConfigSource(["--rule", "a", "--config", "b"], "calc"), "--rule", /cannot be combined with --config/);
  refused(() => readConfigSource(["--uci", "x"], "calc"), "--uci", /--interface/);
  refused(() => readConfigSource(["--prefix"], "calc"), "--prefix", /needs a value/);
  refused(() => readConfigSource(["--prefix", "2403:9200:1234::1/48"], "calc"), "--prefix", /bits set past/);
  refused(() => readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28"], "calc"), "--rule", /is not <ipv6-prefix>/);
  refused(() => readConfigSource(["--rule", "2403:9200::/32,203.86.225.0/28,x"], "calc"), "--rule EA bits", /integer/);
  refused(() => readConfigSource(["--config", join(dir, "none.json")], "calc"), "--config", /cannot read/);
  assert.deepEqual(readConfigSource(["--json", "--prefix", "2403:9200:1234::/48"], "calc").rest, ["--json"]);
});

test("every examples/*.json configures", async () => {
  const { readdirSync } = await import("node:fs");
  const examples = new URL("../../../../examples/", import.meta.url);
  const files = readdirSync(examples).filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 4);
  for (const f of files) {
    const r = calcOf(["--config", new URL(f, examples).pathname]);
    assert.ok(r.bmr >= 0, f);
    assert.ok(r.portCount > 0, f);
  }
});

// Issue 7 item 14: bytes from the user's files and arguments were echoed raw
// into the one-line error: a newline split it, an escape sequence reached the
// terminal. The module escapes control characters as \xNN.
test("control characters from UCI files and --rule values are escaped in the error line", () => {
  const bin = new URL("../../../../bin/mape.js", import.meta.url).pathname;
  const mape = (...argv: string[]) => spawnSync(process.execPath, [bin, "calc", ...argv], { encoding: "utf8" });
  const uci = file("network-ctl", JANOG_UCI);
  const cases: [string[], RegExp][] = [
    [["--rule", "2403:9200::/32,203.86.225.0/28,1\n6\x1b[31m", "--prefix", "2403:9200:1234::/48"], /^mape: --rule EA bits: '1\\x0a6\\x1b\[31m' is not an integer/],
    [["--rule", "2403:9200::/32\x07,203.86.225.0/28,16"], /^mape: --rule IPv6 prefix: '2403:9200::\/32\\x07' is not an IPv6 prefix/],
    [["--uci", file("network-ctl2", JANOG_UCI.replace("ealen '16'", "ealen '4\x1b[2J\r9'")), "--interface", "wan6_mape", "--prefix", "2403:9200:1234::/48"], /option ealen: '4\\x1b\[2J\\x0d9' is not an integer/],
    [["--uci", uci, "--interface", "wan6\x1b_mape\x7f"], /^mape: --interface: no interface 'wan6\\x1b_mape\\x7f' in /],
    [["--dhcpv6", "type=map-e,ealen=16,\x1b]0;pwned\x07=1"], /unknown rule key '\\x1b\]0;pwned\\x07'/],
  ];
  for (const [argv, want] of cases) {
    const r = mape(...argv);
    assert.equal(r.status, 1, JSON.stringify(argv) + r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, JSON.stringify(r.stderr));
    assert.doesNotMatch(r.stderr.trimEnd(), /[\x00-\x1f\x7f]/, JSON.stringify(r.stderr));
    assert.match(r.stderr, want);
  }
});

test("local-settings flags become OPTION_MAPE_LOCAL sub-options; the module checks their ranges", () => {
  const src = readConfigSource(["--tunnel-mtu", "1400", "--hop-limit=32", "--filtering", "endpoint-independent",
    "--mss-clamp", "off", "--tc-from-tos", "off", "--udp-timeout", "600", "--dns-timeout", "20",
    "--tcp-established-timeout", "86400", "--tcp-transitory-timeout", "300", "--icmp-timeout", "90", "--json"], "ce");
  const l = localOf(src.encoded.bytes);
  assert.deepEqual([...l.entries()].sort((a, b) => a[0] - b[0]), [
    [1, 1], [3, 1400], [4, 32], [5, 0], [6, 0], [7, 0], [8, 600], [9, 20], [10, 86400], [11, 300], [12, 90],
  ]);
  assert.deepEqual(src.rest, ["--json"]);
  // The flags override the JSON file's settings.
  const json = file("mtu.json", JSON.stringify({ ...JANOG_JSON, tunnelMtu: 1500, mssClamp: 1300 }));
  const over = localOf(readConfigSource(["--config", json, "--tunnel-mtu", "1280", "--mss-clamp", "auto"], "calc").encoded.bytes);
  assert.equal(over.get(3), 1280);
  assert.equal(over.get(6), 1);
  refused(() => readConfigSource(["--tunnel-mtu", "100"], "ce"), "--tunnel-mtu", /LOCAL_VALUE/);
  refused(() => readConfigSource(["--tunnel-mtu", "x"], "ce"), "--tunnel-mtu", /'x' is not an integer from 1280 to 9000/);
  refused(() => readConfigSource(["--udp-timeout", "60"], "ce"), "--udp-timeout", /LOCAL_VALUE/);
  refused(() => readConfigSource(["--filtering", "full-cone"], "ce"), "--filtering", /is not endpoint-independent/);
  refused(() => readConfigSource(["--mss-clamp", "100"], "ce"), "--mss-clamp", /off, auto or an MSS/);
  refused(() => readConfigSource(["--tc-from-tos", "yes"], "ce"), "--tc-from-tos", /on or off/);
  refused(() => readConfigSource(["--hop-limit"], "ce"), "--hop-limit", /needs a value/);
  refused(() => readConfigSource(["--hop-limit", "1", "--hop-limit", "2"], "ce"), "--hop-limit", /more than once/);
});
