// PPTP settings (LOCAL PPTP 32, BR_PPTP 33; docs/abi.md §1): the JSON keys
// and the command-line flags reach the module's encoding, bad values are
// one line. The data path itself: tests/e2e rows pptp-* and br-pptp-*,
// tests/assembly/wire_pptp.spec.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { configFromJson, readConfigSource } from "../../host/config/source.js";

const OPTION_MAPE_LOCAL = 0xff01;
const LOCAL_PPTP = 32;
const LOCAL_BR_PPTP = 33;
const JANOG = {
  type: "map-e",
  rules: [{ ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 }],
  br: "2403:9200:fff0::2",
  endUserPrefix: "2403:9200:1234::/48",
};
const RULE = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", "2403:9200:fff0::2", "--prefix", "2403:9200:1234::/48"];

/** The sub-options of OPTION_MAPE_LOCAL in an encoded configuration. */
function localOptions(bytes: Uint8Array): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let at = 0; at + 4 <= bytes.length; ) {
    const code = (bytes[at] << 8) | bytes[at + 1];
    const len = (bytes[at + 2] << 8) | bytes[at + 3];
    if (code === OPTION_MAPE_LOCAL) {
      for (let s = at + 4; s < at + 4 + len; ) {
        const c = (bytes[s] << 8) | bytes[s + 1];
        const l = (bytes[s + 2] << 8) | bytes[s + 3];
        out.set(c, [...bytes.subarray(s + 4, s + 4 + l)]);
        s += 4 + l;
      }
    }
    at += 4 + len;
  }
  return out;
}

test("pptp / brPptp: the JSON keys set LOCAL PPTP (32) and BR_PPTP (33); absent, neither is encoded", () => {
  const off = localOptions(configFromJson({ ...JANOG, pptp: false, brPptp: true }).encoded.bytes);
  assert.deepEqual(off.get(LOCAL_PPTP), [0]);
  assert.deepEqual(off.get(LOCAL_BR_PPTP), [1]);
  const none = localOptions(configFromJson(JANOG).encoded.bytes);
  assert.equal(none.get(LOCAL_PPTP), undefined);
  assert.equal(none.get(LOCAL_BR_PPTP), undefined);
  assert.throws(() => configFromJson({ ...JANOG, pptp: 1 }), /pptp/);
  assert.throws(() => configFromJson({ ...JANOG, brPptp: "on" }), /brPptp/);
});

test("--pptp / --br-pptp on|off set the same codes; a bad value is one line", () => {
  const on = localOptions(readConfigSource([...RULE, "--pptp", "on", "--br-pptp=on"], "ce").encoded.bytes);
  assert.deepEqual(on.get(LOCAL_PPTP), [1]);
  assert.deepEqual(on.get(LOCAL_BR_PPTP), [1]);
  const off = localOptions(readConfigSource([...RULE, "--pptp=off"], "ce").encoded.bytes);
  assert.deepEqual(off.get(LOCAL_PPTP), [0]);
  assert.throws(() => readConfigSource([...RULE, "--pptp", "maybe"], "ce"), /--pptp: 'maybe' is not on or off/);
  assert.throws(() => readConfigSource([...RULE, "--br-pptp", "1"], "ce"), /--br-pptp: '1' is not on or off/);
});
