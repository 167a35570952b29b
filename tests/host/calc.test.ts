// The public MAP vectors (tests/vectors/map-rules.json, a copy of
// ../shared/vectors) through the engine wrapper and through `mape calc`,
// in both interface-id layouts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Engine } from "../../host/engine.js";
import { readConfigSource } from "../../host/config/source.js";

interface Vector {
  name: string;
  rule: { ipv6Prefix: string; ipv4Prefix: string; eaLength: number; psidOffset: number };
  endUserPrefix: string;
  expect: {
    ipv4Address: string;
    ipv4PrefixLength: number;
    psid: number;
    psidLength: number;
    psidOffset: number;
    portRanges: [number, number][];
    portCount: number;
    ceIPv6Address: string;
    ceIPv6AddressLegacy: string;
  };
}

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const vectors = JSON.parse(readFileSync(`${root}tests/vectors/map-rules.json`, "utf8")) as Vector[];

function expected(v: Vector, legacy: boolean) {
  const { ceIPv6AddressLegacy, ...rest } = v.expect;
  return { ...rest, ceIPv6Address: legacy ? ceIPv6AddressLegacy : v.expect.ceIPv6Address };
}

function args(v: Vector, legacy: boolean): string[] {
  const r = v.rule;
  return [
    "--rule", `${r.ipv6Prefix},${r.ipv4Prefix},${r.eaLength},${r.psidOffset}`,
    "--prefix", v.endUserPrefix,
    ...(legacy ? ["--legacy-iid"] : []),
  ];
}

function mape(argv: string[]) {
  return spawnSync(process.execPath, [`${root}bin/mape.js`, ...argv], { encoding: "utf8" });
}

test("vectors through the engine wrapper, both interface-id layouts", () => {
  const engine = Engine.load();
  for (const v of vectors) {
    for (const legacy of [false, true]) {
      engine.configure(readConfigSource(args(v, legacy), "calc").encoded);
      assert.deepEqual(engine.calc(), expected(v, legacy), `${v.name}${legacy ? " (legacy)" : ""}`);
    }
  }
});

test("vectors through `mape calc --json`, both layouts", () => {
  for (const v of vectors) {
    for (const legacy of [false, true]) {
      const r = mape(["calc", ...args(v, legacy), "--json"]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(Object.keys(JSON.parse(r.stdout)), [
        "ipv4Address", "ipv4PrefixLength", "psid", "psidLength", "psidOffset", "portRanges", "portCount", "ceIPv6Address",
      ]);
      assert.deepEqual(JSON.parse(r.stdout), expected(v, legacy), `${v.name}${legacy ? " (legacy)" : ""}`);
    }
  }
});

test("`mape calc` with no arguments: the JANOG default", () => {
  const r = mape(["calc"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /IPv4 address\s+203\.86\.225\.1\n/);
  assert.match(r.stdout, /PSID\s+564 \(0x234\), 12 bits at offset 4\n/);
  assert.match(r.stdout, /ports\s+15 in 15 ranges\n/);
  assert.match(r.stdout, /CE IPv6 address\s+2403:9200:1234::cb56:e101:234\n/);
  assert.match(r.stdout, /BR\s+2403:9200:fff0::2\n/);
});

test("--format mapcalc prints OpenWrt mapcalc's lines (RFC 7597 example)", () => {
  const v = vectors[0];
  const r = mape(["calc", ...args(v, false), "--br", "2001:db8:ffff::1", "--format", "mapcalc"]);
  assert.equal(r.status, 0, r.stderr);
  const sets = v.expect.portRanges.map(([a, b]) => `${a}-${b} `).join("");
  assert.equal(
    r.stdout,
    [
      "RULE_1_FMR=0",
      "RULE_1_EALEN=16",
      "RULE_1_PSIDLEN=8",
      "RULE_1_OFFSET=6",
      "RULE_1_PREFIX4LEN=24",
      "RULE_1_PREFIX6LEN=40",
      "RULE_1_IPV4PREFIX=192.0.2.0",
      "RULE_1_IPV6PREFIX=2001:db8::",
      "RULE_1_IPV6PD=2001:db8:12:3400::",
      "RULE_1_PD6LEN=56",
      "RULE_1_IPV6ADDR=2001:db8:12:3400:0:c000:212:34",
      "RULE_BMR=1",
      "RULE_1_IPV4ADDR=192.0.2.18",
      "RULE_1_ADDR4LEN=32",
      `RULE_1_PORTSETS='${sets}'`,
      "RULE_1_BR=2001:db8:ffff::1",
      "RULE_COUNT=1",
      "",
    ].join("\n"),
  );
});

test("bad input: one line on stderr, non-zero exit", () => {
  const cases: [string[], RegExp, number][] = [
    [["calc", "--rule", "2001:db8::/40,192.0.2.0/24,49", "--prefix", "2001:db8:12:3400::/56"], /^mape: --rule EA bits: .*EA_LENGTH/, 1],
    [["calc", "--rule", "2001:db8::/40,192.0.2.0/24,16", "--prefix", "2001:db9::/56"], /^mape: --prefix: .*PREFIX_OUTSIDE_RULE/, 1],
    [["calc", "--rule", "2001:db8::/40,192.0.2.0/24,16"], /^mape: --prefix: /, 1],
    [["calc", "--dhcpv6", "005e0004ffff", "--prefix", "2001:db8::/56"], /^mape: --dhcpv6: .*byte 2/, 1],
    [["calc", "--bogus"], /^mape: calc: unknown argument '--bogus'/, 2],
    [["frobnicate"], /^mape: unknown command 'frobnicate'/, 2],
  ];
  for (const [argv, err, status] of cases) {
    const r = mape(argv);
    assert.equal(r.status, status, argv.join(" "));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, err);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});
