// `--rules <file>`: the three rule formats through readConfigSource and
// `mape calc` (the module parses; these check what the host makes of it:
// the matched rule, the interface id, messages naming file and field).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Engine } from "../../host/engine.js";
import { readConfigSource } from "../../host/config/source.js";
import { ConfigError } from "../../host/config/errors.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mape-rules-"));

function mape(...argv: string[]) {
  return spawnSync(process.execPath, [`${root}bin/mape.js`, ...argv], { encoding: "utf8" });
}

/** n v6plus-style /32 rules: 240b:<16+i>::/32 -> 106.<72+i/256>.<i%256>.0/24, 16 EA bits, offset 4. */
export function manyRules(n: number): { ipv6: string; ipv4: string; ea_length: number; psid_offset: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    ipv6: `240b:${(16 + i).toString(16)}::/32`,
    ipv4: `106.${72 + Math.floor(i / 256)}.${i % 256}.0/24`,
    ea_length: 16,
    psid_offset: 4,
  }));
}

function file(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

const hb46pp = file("hb46pp.json", JSON.stringify({
  ttl: 3600,
  order: ["map_e"],
  map_e: { version: 1, mesh: true, br: "2404:9200:225:100::64", rules: manyRules(300) },
}));
const v6plus = file("v6plus.jsonp", `v6plus(${JSON.stringify({ dmr: "2404:9200:225:100::64", id: "x", ipv6_fixlen: 56, fmr: manyRules(3) })});`);
const ocn = file("ocn.json", JSON.stringify({
  basicMapRules: [{
    brIpv6Address: "2001:380:a120::9", eaBitLength: "18", ipv4Prefix: "153.240.0.0", ipv4PrefixLength: "16",
    ipv6Prefix: "2400:4050::", ipv6PrefixLength: "40", psIdOffset: "6",
  }],
}));

test("HB46PP with 300 rules: the BMR past the 256th is found and installed", () => {
  const src = readConfigSource(["--rules", hb46pp, "--prefix", "240b:13b:1234:5600::/56"], "ce");
  assert.equal(src.rules?.format, "hb46pp");
  assert.equal(src.rules?.seen, 300);
  assert.equal(src.rules?.installed, 256);
  assert.equal(src.rules?.matchedName, "map_e.rules[299]");
  assert.equal(src.rules?.ttl, 3600);
  assert.equal(src.rules?.legacyIid, false);
  const engine = Engine.load();
  engine.configure(src.encoded);
  const r = engine.calc();
  assert.equal(r.ipv4Address, "106.73.43.18");
  assert.equal(r.ceIPv6Address, "240b:13b:1234:5600:0:6a49:2b12:34");
  assert.deepEqual(engine.brs(), ["2404:9200:225:100::64"]);
});

test("mape calc --rules names the matched rule, the format and the interface id", () => {
  const out = mape("calc", "--rules", v6plus, "--prefix", "240b:11:1234:5600::/56");
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^rule format +v6plus, 3 rules$/m);
  assert.match(out.stdout, /^interface id +draft-03 layout/m);
  assert.match(out.stdout, /^rule \(BMR\) +240b:11::\/32 -> 106\.72\.1\.0\/24, EA bits 16 \(fmr\[1\], 2 of 3\)$/m);
  assert.match(out.stdout, /^CE IPv6 address +240b:11:1234:5600:6a:4801:1200:3400$/m);
  // --json keeps its keys.
  const j = mape("calc", "--rules", ocn, "--rules-format", "ocn", "--prefix", "2400:4050:12:3400::/64", "--json");
  assert.equal(j.status, 0, j.stderr);
  assert.deepEqual(Object.keys(JSON.parse(j.stdout)), ["ipv4Address", "ipv4PrefixLength", "psid", "psidLength", "psidOffset", "portRanges", "portCount", "ceIPv6Address"]);
  assert.equal(JSON.parse(j.stdout).ipv4Address, "153.240.18.52");
});

test("no rule for the prefix, a bad field, a wrong --rules-format: one line naming file and field", () => {
  let out = mape("calc", "--rules", v6plus, "--prefix", "2400:11:1234:5600::/56");
  assert.equal(out.status, 1);
  assert.equal(out.stderr, `mape: --prefix: 2400:11:1234:5600::/56 lies in none of the 3 rules' IPv6 prefixes of --rules ${v6plus} (v6plus): no rule for this line\n`);
  const bad = file("bad.json", JSON.stringify({ map_e: { br: "2404::1", rules: [{ ipv6: "240b::/32", ipv4: "106.72.0.0/24", ea_length: 80 }] } }));
  out = mape("calc", "--rules", bad, "--prefix", "240b:0:1200::/48");
  assert.equal(out.status, 1);
  assert.equal(out.stderr, `mape: --rules ${bad} map_e.rules[0].ea_length: EA-bits length above 48 (EA_LENGTH)\n`);
  out = mape("calc", "--rules", ocn, "--rules-format", "v6plus", "--prefix", "2400:4050:1234:5600::/64");
  assert.equal(out.status, 1);
  assert.equal(out.stderr, `mape: --rules ${ocn}: dmr: is required\n`);
  out = mape("calc", "--rules-format", "ocn");
  assert.equal(out.status, 1);
  assert.match(out.stderr, /^mape: --rules-format: goes with --rules\n$/);
  assert.throws(() => readConfigSource(["--rules", join(dir, "missing.json")], "calc"), (e: unknown) => e instanceof ConfigError && /--rules: cannot read .*ENOENT/.test(e.message));
});
