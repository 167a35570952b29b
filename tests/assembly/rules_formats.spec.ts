// Rule files (config/rules.ts): HB46PP, v6plus and OCN answers into one
// S46_CONT_MAPE that configure() installs; per format a good file, bad
// ones (syntax, values, missing fields), more than 256 rules, and a
// delegated prefix no rule matches.
import { W, MODE_CE, MODE_CALC, MODE_BR, formatIPv4, ceAddressText, parseIPv6 } from "./map_helpers";
import { rulesText, rulesPrefix, rulesToConfig, rulesFormat, rulesSeen, rulesInstalled, rulesMatched,
  rulesSourceIndex, rulesLegacyIid, rulesMesh, rulesTtl, rulesTokenLength, rulesMethods, rulesOrder,
  rulesFixLen, rulesVersion, rulesErrorText, rulesErrorTextLength } from "../../assembly/config/rules_api";
import { ceIPv4, cePsid, ruleCount, brCount, bmrIndex, ruleIsForwarding, ruleIPv4Prefix } from "../../assembly/map/api";

// The text is written straight into the input area piece by piece: the stub
// runtime never frees, so one big concatenated string per test would not fit.
let tlen = 0;
function w(text: string): void {
  for (let i = 0; i < text.length; i++) store<u8>(rulesText() + <usize>(tlen + i), <u8>text.charCodeAt(i));
  tlen += text.length;
}
function put(text: string): i32 {
  tlen = 0;
  w(text);
  return tlen;
}

/** Sets the delegated prefix; returns its length. */
function prefix(v6: string, len: i32): i32 {
  memory.copy(rulesPrefix(), parseIPv6(v6), 16);
  return len;
}

function errorText(): string {
  let s = "";
  const p = rulesErrorText();
  for (let i = 0; i < rulesErrorTextLength(); i++) s += String.fromCharCode(load<u8>(p + <usize>i));
  return s;
}

/** Parses, appends IAPREFIX + LOCAL (mode, the format's interface id) and configures. */
function install(text: string, format: i32, mode: i32, v6: string, len: i32): i32 {
  put(text);
  return installWritten(format, mode, v6, len);
}
function installWritten(format: i32, mode: i32, v6: string, len: i32): i32 {
  const plen = v6.length > 0 ? prefix(v6, len) : -1;
  const n = rulesToConfig(tlen, format, mode, plen);
  if (n < 0) return n;
  W.reset();
  W.pos = n;
  if (plen >= 0 && mode != MODE_BR) W.iaPrefix(v6, len);
  W.local(mode, rulesLegacyIid());
  return W.configure();
}

const HB = "{\"enabler_name\":\"A VNE\",\"ttl\":86400," +
  "\"token\":\"640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a\"," +
  "\"order\":[\"464xlat\",\"map_e\",\"dslite\"]," +
  "\"map_e\":{\"version\":0,\"mesh\":true,\"br\":\"2001:db8:1::1\",\"rules\":[" +
  "{\"ipv6\":\"2001:db8:1:2000::/52\",\"ipv4\":\"203.0.113.0/24\",\"ea_length\":12,\"psid_offset\":4}," +
  "{\"ipv6\":\"2001:db8:1:3000::/52\",\"ipv4\":\"198.51.100.0/24\",\"ea_length\":12,\"psid_offset\":4}]}," +
  "\"dslite\":{\"aftr\":\"aftr.example.net\"},\"464xlat\":{\"nat64prefix\":\"2001:db8:6::/96\"}}";

/** A v6plus-shaped rule list of n /32 rules, 240b:<16+i>::/32 -> 106.<72+i/256>.<i%256>.0/24. */
function v6plusRules(n: i32, strings: bool): void {
  const q = strings ? "\"" : "";
  for (let i = 0; i < n; i++) {
    if (i > 0) w(",");
    w("{\"ipv6\":\"240b:"); w((16 + i).toString(16)); w("::/32\",\"ipv4\":\"106."); w((72 + i / 256).toString()); w(".");
    w((i % 256).toString()); w(".0/24\",\"psid_offset\":"); w(q); w("4"); w(q); w(",\"ea_length\":"); w(q); w("16"); w(q); w("}");
  }
}

describe("HB46PP (v6mig-prov §3.4)", () => {
  it("reads ttl, token, order, mesh, version and the rules; the BMR is the delegated prefix's rule", () => {
    expect<i32>(install(HB, 0, MODE_CE, "2001:db8:1:3450::", 64)).toBe(0);
    expect<i32>(rulesFormat()).toBe(1);
    expect<i32>(rulesTtl()).toBe(86400);
    expect<i32>(rulesTokenLength()).toBe(64);
    expect<i32>(rulesMesh()).toBe(1);
    expect<i32>(rulesVersion()).toBe(0);
    expect<i32>(rulesLegacyIid()).toBe(1);
    expect<i32>(rulesMethods()).toBe(1 | 8 | 16);
    expect<i32>(rulesOrder()).toBe(1 | 8 | 16);
    expect<i32>(rulesSeen()).toBe(2);
    expect<i32>(rulesMatched()).toBe(1);
    expect<i32>(ruleCount()).toBe(2);
    expect<i32>(bmrIndex()).toBe(1);
    expect<i32>(ruleIsForwarding(0)).toBe(1);
    expect<i32>(brCount()).toBe(1);
    // 12 EA bits under a /24: 8 address bits (0x45 = 69), 4 PSID bits (0).
    expect<string>(formatIPv4(ceIPv4())).toBe("198.51.100.69");
    expect<i32>(cePsid()).toBe(0);
    // version 0: draft-03 interface id 0(8) IPv4(32) PSID(16) 0(8).
    expect<string>(ceAddressText()).toBe("2001:db8:1:3450:c6:3364:4500:0");
  });

  it("version 1 is the RFC 7597 interface id; mesh false (hub-and-spoke) sets no F flag", () => {
    const t = "{\"ttl\":60,\"map_e\":{\"version\":1,\"mesh\":0,\"br\":\"2001:db8:1::1\",\"rules\":[" +
      "{\"ipv6\":\"2001:db8:1:2000::/52\",\"ipv4\":\"203.0.113.0/24\",\"ea_length\":12,\"psid_offset\":4}]}}";
    expect<i32>(install(t, 0, MODE_CE, "2001:db8:1:2450::", 64)).toBe(0);
    expect<i32>(rulesLegacyIid()).toBe(0);
    expect<i32>(rulesOrder()).toBe(-1);
    expect<i32>(ruleIsForwarding(0)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:1:2450:0:cb00:7145:0");
  });

  it("order [] and an answer without map_e are 'not served'", () => {
    expect<i32>(install("{\"order\":[],\"ttl\":3600}", 0, MODE_CE, "2001:db8:1:2450::", 64)).toBe(-5);
    expect<string>(errorText()).toBe("order: empty: the server offers this line no method (not served)");
    expect<i32>(install("{\"order\":[\"dslite\"],\"dslite\":{\"aftr\":\"a.example\"}}", 0, MODE_CE, "2001:db8:1:2450::", 64)).toBe(-5);
    expect<string>(errorText()).toBe("map_e: the server offers no MAP-E (it offers dslite)");
  });

  it("malformed: bad JSON, a bad prefix, a missing field, a wrong type", () => {
    expect<i32>(install("{\"map_e\":{\"br\":\"2001:db8::1\",\"rules\":[}", 0, MODE_CE, "2001:db8::", 64)).toBe(-1);
    expect<string>(errorText()).toBe("not valid JSON at byte 38: not a JSON value");
    expect<i32>(install("{\"map_e\":{\"br\":\"2001:db8::1\",\"rules\":[{\"ipv6\":\"2001:db8::/129\",\"ipv4\":\"192.0.2.0/24\",\"ea_length\":8}]}}",
      0, MODE_CE, "2001:db8::", 64)).toBe(-3);
    expect<string>(errorText()).toBe("map_e.rules[0].ipv6: \"2001:db8::/129\" is not an IPv6 prefix <address>/<0..128>");
    expect<i32>(install("{\"map_e\":{\"br\":\"2001:db8::1\",\"rules\":[{\"ipv6\":\"2001:db8::/32\",\"ipv4\":\"192.0.2.0/24\"}]}}",
      0, MODE_CE, "2001:db8::", 64)).toBe(-4);
    expect<string>(errorText()).toBe("map_e.rules[0].ea_length: is required");
    expect<i32>(install("{\"map_e\":{\"br\":\"2001:db8::1\",\"rules\":[{\"ipv6\":\"2001:db8::/32\",\"ipv4\":\"192.0.2.0/24\",\"ea_length\":\"8\"}]}}",
      0, MODE_CE, "2001:db8::", 64)).toBe(-3);
    expect<string>(errorText()).toBe("map_e.rules[0].ea_length: must be an integer from 0 to 255, not \"8\"");
    expect<i32>(install("{\"map_e\":{\"rules\":[]}}", 0, MODE_CE, "2001:db8::", 64)).toBe(-4);
    expect<string>(errorText()).toBe("map_e.br: is required");
    expect<i32>(install("[1,2]", 0, MODE_CE, "2001:db8::", 64)).toBe(-2);
    expect<i32>(install("{\"a\":1}", 0, MODE_CE, "2001:db8::", 64)).toBe(-2);
    expect<i32>(install("{\"ttl\":1} x", 0, MODE_CE, "2001:db8::", 64)).toBe(-1);
  });

  it("256 rules (v6mig-prov: 256 MUST be accepted) with the BMR the last one", () => {
    put("{\"map_e\":{\"version\":1,\"br\":\"2404:9200:225:100::64\",\"rules\":[");
    v6plusRules(256, false);
    w("]}}");
    expect<i32>(installWritten(1, MODE_CE, "240b:10f:1234:5600::", 56)).toBe(0);
    expect<i32>(rulesSeen()).toBe(256);
    expect<i32>(rulesInstalled()).toBe(256);
    expect<i32>(rulesMatched()).toBe(255);
    expect<i32>(bmrIndex()).toBe(255);
    expect<string>(formatIPv4(ceIPv4())).toBe("106.72.255.18");
  });

  it("a delegated prefix in no rule: matched -1 and configure says PREFIX_OUTSIDE_RULE", () => {
    expect<i32>(install(HB, 0, MODE_CE, "2001:db8:9:3450::", 64)).toBe(17);
    expect<i32>(rulesMatched()).toBe(-1);
  });
});

describe("JPNE v6plus", () => {
  it("JSONP-wrapped, numbers as strings; 300 rules: the BMR (rule 290) is kept among 256 written", () => {
    put("v6plus({\"dmr\":\"2404:9200:225:100::64\",\"id\":\"953389bacb479f3df35b112aa0d12d22\",\"ipv6_fixlen\":56,\"fmr\":[");
    v6plusRules(300, true);
    w("]});");
    expect<i32>(installWritten(0, MODE_CE, "240b:132:1234:5600::", 56)).toBe(0);
    expect<i32>(rulesFormat()).toBe(2);
    expect<i32>(rulesFixLen()).toBe(56);
    expect<i32>(rulesSeen()).toBe(300);
    expect<i32>(rulesInstalled()).toBe(256);
    expect<i32>(rulesMatched()).toBe(290);
    expect<i32>(ruleCount()).toBe(256);
    expect<i32>(bmrIndex()).toBe(255);
    expect<i32>(rulesSourceIndex(255)).toBe(290);
    expect<i32>(rulesSourceIndex(254)).toBe(254);
    expect<i32>(rulesLegacyIid()).toBe(1);
    expect<i32>(ruleIsForwarding(3)).toBe(1);
    expect<string>(formatIPv4(ceIPv4())).toBe("106.73.34.18");
    expect<i32>(cePsid()).toBe(0x34);
    expect<string>(ceAddressText()).toBe("240b:132:1234:5600:6a:4922:1200:3400");
  });

  it("a BR needs every rule: 300 are refused there, 256 are taken", () => {
    put("{\"dmr\":\"2404:9200:225:100::64\",\"fmr\":[");
    v6plusRules(300, false);
    w("]}");
    expect<i32>(installWritten(0, MODE_BR, "", 0)).toBe(-6);
    expect<string>(errorText()).toBe("fmr: 300 rules, a BR's rule table holds 256");
    put("{\"dmr\":\"2404:9200:225:100::64\",\"fmr\":[");
    v6plusRules(256, false);
    w("]}");
    expect<i32>(installWritten(2, MODE_BR, "", 0)).toBe(0);
    expect<i32>(ruleCount()).toBe(256);
  });

  it("malformed: no dmr, a bad IPv4 prefix, an unclosed JSONP", () => {
    put("{\"fmr\":[");
    v6plusRules(1, false);
    w("]}");
    expect<i32>(installWritten(2, MODE_CE, "240b:10::", 56)).toBe(-4);
    expect<string>(errorText()).toBe("dmr: is required");
    expect<i32>(install("{\"dmr\":\"2404::1\",\"fmr\":[{\"ipv6\":\"240b:10::/32\",\"ipv4\":\"106.72.0.256/24\",\"ea_length\":16}]}", 0, MODE_CE, "240b:10::", 56)).toBe(-3);
    expect<string>(errorText()).toBe("fmr[0].ipv4: \"106.72.0.256/24\" is not an IPv4 prefix <a.b.c.d>/<0..32>");
    expect<i32>(install("v6plus({\"dmr\":\"2404::1\",\"fmr\":[]}", 0, MODE_CE, "240b:10::", 56)).toBe(-1);
  });

  it("no rule for the prefix", () => {
    put("{\"dmr\":\"2404:9200:225:100::64\",\"fmr\":[");
    v6plusRules(4, false);
    w("]}");
    expect<i32>(installWritten(0, MODE_CE, "240a:10::", 56)).toBe(17);
    expect<i32>(rulesMatched()).toBe(-1);
  });
});

const R0 = "{\"brIpv6Address\":\"2001:380:a120::9\",\"eaBitLength\":\"18\",\"ipv4Prefix\":\"153.240.0.0\",\"ipv4PrefixLength\":\"16\"," +
  "\"ipv6Prefix\":\"2400:4050::\",\"ipv6PrefixLength\":\"40\",\"psIdOffset\":\"6\"}";
const R1 = "{\"brIpv6Address\":\"2001:380:a220::9\",\"eaBitLength\":18,\"ipv4Prefix\":\"153.241.0.0\",\"ipv4PrefixLength\":16," +
  "\"ipv6Prefix\":\"2400:4051::\",\"ipv6PrefixLength\":40,\"psIdOffset\":6,\"hostName\":\"x\"}";

describe("OCN basicMapRules", () => {
  it("per-rule BRs: the CE tunnels to its BMR's BR", () => {
    expect<i32>(install("{\"basicMapRules\":[" + R0 + "," + R1 + "]}", 0, MODE_CE, "2400:4051:12:3400::", 64)).toBe(0);
    expect<i32>(rulesFormat()).toBe(3);
    expect<i32>(rulesMatched()).toBe(1);
    expect<i32>(brCount()).toBe(1);
    expect<string>(formatIPv4(ruleIPv4Prefix(1))).toBe("153.241.0.0");
    // 18 EA bits: 16 address bits 0x1234, 2 PSID bits (0).
    expect<string>(formatIPv4(ceIPv4())).toBe("153.241.18.52");
    expect<i32>(rulesLegacyIid()).toBe(1);
  });

  it("a BR takes every distinct BR address", () => {
    expect<i32>(install("{\"basicMapRules\":[" + R0 + "," + R1 + "]}", 3, MODE_BR, "", 0)).toBe(0);
    expect<i32>(brCount()).toBe(2);
  });

  it("malformed and no match", () => {
    expect<i32>(install("{\"basicMapRules\":[{\"ipv6Prefix\":\"2400:4050::\",\"ipv4Prefix\":\"153.240.0.0\",\"ipv4PrefixLength\":16,\"eaBitLength\":18}]}",
      0, MODE_CE, "2400:4050:12:3400::", 64)).toBe(-4);
    expect<string>(errorText()).toBe("basicMapRules[0].ipv6PrefixLength: is required");
    expect<i32>(install("{\"basicMapRules\":[" + R0 + "]}", 0, MODE_CE, "2400:4052:12:3400::", 64)).toBe(17);
    expect<i32>(install("{\"basicMapRules\":{}}", 0, MODE_CE, "2400:4052:12:3400::", 64)).toBe(-3);
    expect<string>(errorText()).toBe("basicMapRules: must be an array of rules, not an object");
  });

  it("calc without a prefix: no BMR, every rule written", () => {
    expect<i32>(install("{\"basicMapRules\":[" + R0 + "," + R1 + "]}", 0, MODE_CALC, "", 0)).toBe(0);
    expect<i32>(bmrIndex()).toBe(-1);
    expect<i32>(ruleCount()).toBe(2);
  });
});
