// Modes (calc / CE / BR), the rule cases of RFC 7597 §5.2 (prefix, full and
// shared address, explicit PSID), lw4o6 (RFC 7596), MAP-T in calc mode and
// the local settings.
import { W, OPT_MAPE, OPT_MAPT, OPT_LW, LOCAL_MODE, LOCAL_LEGACY_IID, LOCAL_TUNNEL_MTU, LOCAL_HOP_LIMIT,
  MODE_CE, MODE_BR, MODE_CALC, formatIPv4, formatIPv6, canonIPv6, ceAddressText, ipv4 } from "./map_helpers";
import { ceIPv4, ceIPv4PrefixLength, cePsid, cePsidLength, cePsidOffset, cePortCount, cePortRangeCount,
  cePortRangeFirst, cePortRangeLast, bmrIndex, ruleCount, brCount, brAddress, isOwnPort, mapIPv6,
  scratch, ruleIPv6Prefix, ruleIPv6PrefixLength, ruleIPv4Prefix, ruleIPv4PrefixLength, ruleEaLength,
  rulePsidOffset, rulePsidLength, ruleIsForwarding, portToPsid } from "../../assembly/map/api";
import * as E from "../../assembly/map/errors";
import { settings } from "../../assembly/settings";
import { cePortSet, ceIPv4Address, ceMapAddressPtr, ruleAt, activeRuleCount, brAddressPtr,
  activeBrCount, bmrRule } from "../../assembly/map/provision";

describe("modes", () => {
  it("calc: no BR and no end-user prefix is a rule table without a BMR", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).close(c);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(ruleCount()).toBe(1);
    expect<i32>(brCount()).toBe(0);
    expect<i32>(bmrIndex()).toBe(-1);
    expect<u32>(ceIPv4()).toBe(0);
    expect<i32>(cePortCount()).toBe(0);
    expect<i32>(cePortRangeCount()).toBe(0);
    expect<i32>(isOwnPort(1232)).toBe(0);
    expect<string>(formatIPv6(ruleIPv6Prefix(0))).toBe("2001:db8::");
    expect<i32>(ruleIPv6PrefixLength(0)).toBe(40);
    expect<string>(formatIPv4(ruleIPv4Prefix(0))).toBe("192.0.2.0");
    expect<i32>(ruleIPv4PrefixLength(0)).toBe(24);
    expect<i32>(ruleEaLength(0)).toBe(16);
    expect<i32>(rulePsidOffset(0)).toBe(6);
    expect<i32>(rulePsidLength(0)).toBe(8);
    expect<i32>(ruleIsForwarding(0)).toBe(1);
    expect<i32>(portToPsid(0, 1232)).toBe(0x34);
    expect<i32>(portToPsid(0, 1023)).toBe(-1);
    expect<i32>(ruleIPv6PrefixLength(1)).toBe(-1);
    expect<usize>(ruleIPv6Prefix(1)).toBe(0);
    // The BR's view still works without a BMR.
    expect<i32>(mapIPv6(0, ipv4("192.0.2.18"), 1232, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe("2001:db8:12:3400:0:c000:212:34");
  });

  it("BR: rules and its own addresses, no BMR", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(0, 16, "192.0.2.0", 24, "2001:db8::", 40).br("2001:db8:ffff::1").br("2001:db8:ffff::2").close(c);
    W.local(MODE_BR);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(settings.mode).toBe(MODE_BR);
    expect<i32>(bmrIndex()).toBe(-1);
    expect<i32>(brCount()).toBe(2);
    expect<string>(formatIPv6(brAddress(1))).toBe("2001:db8:ffff::2");
    expect<usize>(brAddress(2)).toBe(0);
    W.reset();
    const c2 = W.open(OPT_MAPE);
    W.mark().rule(0, 16, "192.0.2.0", 24, "2001:db8::", 40).close(c2);
    W.local(MODE_BR);
    expect<i32>(W.configure()).toBe(E.ERR_BR_MISSING);
  });

  it("MAP-T container in calc mode: rules and one DMR", () => {
    W.reset();
    const c = W.open(OPT_MAPT);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).dmr("64:ff9b::", 96).close(c);
    W.iaPrefix("2001:db8:12:3400::", 56);
    expect<i32>(W.configure()).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.18");
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:0:c000:212:34");
  });
});

describe("rule cases (RFC 7597 §5.2)", () => {
  it("o + r < 32: the CE gets an IPv4 prefix, no PSID, the prefix in the interface id", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 4, "192.0.2.0", 24, "2001:db8::", 40).br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:50::", 44).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.80");
    expect<i32>(ceIPv4PrefixLength()).toBe(28);
    expect<i32>(cePsidLength()).toBe(0);
    expect<i32>(cePsid()).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:50::c000:250:0");
    // Any host of the /28, any port, maps to the same CE.
    expect<i32>(mapIPv6(0, ipv4("192.0.2.93"), 80, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe("2001:db8:50::c000:250:0");
  });

  it("o + r = 32: a full address, every port from 2^(16-a) up", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 8, "192.0.2.0", 24, "2001:db8::", 40).br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:12::", 48).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.18");
    expect<i32>(ceIPv4PrefixLength()).toBe(32);
    expect<i32>(cePsidLength()).toBe(0);
    expect<i32>(cePortCount()).toBe(64512);
    expect<i32>(cePortRangeCount()).toBe(1);
    expect<i32>(cePortRangeFirst(0)).toBe(1024);
    expect<i32>(cePortRangeLast(0)).toBe(65535);
    expect<string>(ceAddressText()).toBe("2001:db8:12::c000:212:0");
  });

  it("o = 0 with an explicit PSID from S46_PORTPARAMS (left-aligned there, right-aligned in the IID)", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 0, "192.0.2.1", 32, "2001:db8:0:1::", 64);
    W.portParams(6, 8, 0x3400).close(r);
    W.br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:0:1::", 64).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.1");
    expect<i32>(cePsid()).toBe(0x34);
    expect<i32>(cePsidLength()).toBe(8);
    expect<i32>(cePortCount()).toBe(252);
    expect<string>(ceAddressText()).toBe("2001:db8:0:1:0:c000:201:34");
    expect<i32>(mapIPv6(0, ipv4("192.0.2.1"), 1232, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe("2001:db8:0:1:0:c000:201:34");
    // A port of another PSID belongs to no CE of this rule.
    expect<i32>(mapIPv6(0, ipv4("192.0.2.1"), 1236, scratch())).toBe(-1);
    expect<i32>(mapIPv6(0, ipv4("192.0.2.2"), 1232, scratch())).toBe(-1);
  });

  it("PSID offset 0 and a 16-bit PSID (one port)", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 0, "192.0.2.1", 32, "2001:db8:0:1::", 64);
    W.portParams(0, 16, 0xabcd).close(r);
    W.br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:0:1::", 64).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(cePortCount()).toBe(1);
    expect<i32>(cePortRangeFirst(0)).toBe(0xabcd);
    expect<i32>(isOwnPort(0xabcd)).toBe(1);
    expect<i32>(isOwnPort(0xabcc)).toBe(0);
  });

  it("longest rule prefix wins the BMR; an end-user prefix longer than n + o keeps its bits", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "198.51.100.0", 24, "2001:db8::", 32);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40);
    W.br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:12:3400::", 60).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(bmrIndex()).toBe(1);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.18");
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:0:c000:212:34");
  });
});

/** Appendix A rule (n + o = 56) with a delegated prefix of `len` bits; CE mode. */
function appendixA(eu: string, len: i32, legacy: i32 = 0): i32 {
  W.reset();
  const c = W.open(OPT_MAPE);
  W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).br("2001:db8:ffff::1").close(c);
  W.iaPrefix(eu, len).local(MODE_CE, legacy);
  return W.configure();
}

describe("end-user prefix longer than 64 bits (RFC 7597 §6)", () => {
  it("a /72, /88 and /128 delegated prefix overwrite the top of the interface id", () => {
    expect<i32>(appendixA("2001:db8:12:3400:ab00::", 72)).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.18");
    expect<i32>(cePsid()).toBe(0x34);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:ab00:c000:212:34");
    // 24 bits: the prefix reaches into the IPv4 field of the interface id.
    expect<i32>(appendixA("2001:db8:12:3400:abcd:ef00::", 88)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:abcd:ef00:212:34");
    // Bits past the prefix length are not taken from the option.
    expect<i32>(appendixA("2001:db8:12:3400:abcd:efff:ffff:ffff", 88)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:abcd:ef00:212:34");
    // A /128: the whole interface id is the prefix.
    expect<i32>(appendixA("2001:db8:12:3400::77", 128)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400::77");
  });

  it("the legacy interface id is overwritten the same way", () => {
    expect<i32>(appendixA("2001:db8:12:3400:ab00::", 72, 1)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:abc0:2:1200:3400");
    expect<i32>(appendixA("2001:db8:12:3400:ab00::", 80, 1)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:ab00:2:1200:3400");
  });

  it("a /72 with zero bits 64..71 gives the address the BR maps to (subnet id 0)", () => {
    expect<i32>(appendixA("2001:db8:12:3400::", 72)).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:0:c000:212:34");
    expect<i32>(mapIPv6(0, ipv4("192.0.2.18"), 1232, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe(ceAddressText());
    // Non-zero bits there: the BR, knowing only the rule, maps to subnet id 0.
    expect<i32>(appendixA("2001:db8:12:3400:ab00::", 72)).toBe(0);
    expect<i32>(mapIPv6(0, ipv4("192.0.2.18"), 1232, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe("2001:db8:12:3400:0:c000:212:34");
  });

  it("a rule whose n + o exceeds 64 is still refused (PREFIX6_PLUS_EA)", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 56).br("2001:db8:ffff::1").close(c);
    expect<i32>(W.configure()).toBe(E.ERR_PREFIX6_PLUS_EA);
  });
});

describe("S46_PORTPARAMS with PSID-len 0 (RFC 7598 §4.5)", () => {
  it("the PSID field is ignored: o = 0 rule, full address", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 0, "192.0.2.1", 32, "2001:db8:0:1::", 64);
    W.portParams(6, 0, 0xffff).close(r);
    W.br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:0:1::", 64).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(rulePsidLength(0)).toBe(0);
    expect<i32>(cePsidLength()).toBe(0);
    expect<i32>(cePsid()).toBe(0);
    expect<i32>(cePortCount()).toBe(64512);
    expect<string>(ceAddressText()).toBe("2001:db8:0:1:0:c000:201:0");
    expect<i32>(mapIPv6(0, ipv4("192.0.2.1"), 40000, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe("2001:db8:0:1:0:c000:201:0");
  });

  it("the PSID field is ignored: EA-bit rule (PSID from the EA bits) and an lw4o6 binding", () => {
    W.reset();
    let c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 16, "203.86.225.0", 28, "2403:9200::", 32);
    W.portParams(4, 0, 0x8001).close(r);
    W.br("2403:9200:fff0::2").close(c);
    W.iaPrefix("2403:9200:1234::", 48).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(cePsidLength()).toBe(12);
    expect<i32>(cePsid()).toBe(564);
    expect<string>(ceAddressText()).toBe("2403:9200:1234::cb56:e101:234");
    W.reset();
    c = W.open(OPT_LW);
    const b = W.bindOpen("192.0.2.1", "2001:db8:1:ab00::", 56);
    W.portParams(0, 0, 0x1234).close(b);
    W.br("2001:db8:ffff::1").close(c);
    W.local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(cePsidLength()).toBe(0);
    expect<i32>(cePsid()).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:1:ab00:0:c000:201:0");
  });
});

describe("lw4o6 (RFC 7596)", () => {
  it("S46_V4V6BIND with a /56 binding prefix: tunnel source = prefix, subnet 0, RFC 7597 §6 interface id", () => {
    W.reset();
    const c = W.open(OPT_LW);
    const b = W.bindOpen("192.0.2.1", "2001:db8:1:ab00::", 56);
    W.portParams(6, 8, 0x3400).close(b);
    W.br("2001:db8:ffff::1").close(c);
    W.local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(bmrIndex()).toBe(0);
    expect<i32>(ruleCount()).toBe(1);
    expect<i32>(ruleIsForwarding(0)).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.1");
    expect<i32>(ceIPv4PrefixLength()).toBe(32);
    expect<i32>(cePsid()).toBe(0x34);
    expect<i32>(cePsidLength()).toBe(8);
    expect<i32>(cePsidOffset()).toBe(6);
    expect<i32>(cePortCount()).toBe(252);
    expect<string>(ceAddressText()).toBe("2001:db8:1:ab00:0:c000:201:34");
    expect<i32>(mapIPv6(0, ipv4("192.0.2.1"), 1232, scratch())).toBe(0);
    expect<string>(formatIPv6(scratch())).toBe("2001:db8:1:ab00:0:c000:201:34");
  });

  it("a /128 binding is the tunnel source as is; legacy layout applies to prefixes only", () => {
    W.reset();
    const c = W.open(OPT_LW);
    const b = W.bindOpen("192.0.2.1", "2001:db8:1::77", 128);
    W.portParams(6, 8, 0x3400).close(b);
    W.br("2001:db8:ffff::1").close(c);
    W.local(MODE_CE, 1);
    expect<i32>(W.configure()).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:1::77");
    W.reset();
    const c2 = W.open(OPT_LW);
    W.close(W.bindOpen("192.0.2.1", "2001:db8:1::", 64));
    W.br("2001:db8:ffff::1").close(c2);
    W.local(MODE_CE, 1);
    expect<i32>(W.configure()).toBe(0);
    // No S46_PORTPARAMS: a full address, PSID 0, legacy layout.
    expect<i32>(cePsidLength()).toBe(0);
    expect<string>(ceAddressText()).toBe("2001:db8:1:0:c0:2:100:0");
  });

  it("a binding prefix between /65 and /127 leaves no room for the interface id", () => {
    W.reset();
    const c = W.open(OPT_LW);
    W.u16(92).u16(5 + 10).u32(ipv4("192.0.2.1")).mark().u8(80).addr6("2001:db8:1::", 10);
    W.br("2001:db8:ffff::1").close(c);
    expect<i32>(W.configure()).toBe(E.ERR_PREFIX6_PLUS_EA);
  });
});

describe("local settings", () => {
  it("defaults, then every setting set", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).close(c);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(settings.mode).toBe(MODE_CALC);
    expect<i32>(settings.legacyIid).toBe(0);
    expect<i32>(settings.tunnelMtu).toBe(1500);
    expect<i32>(settings.hopLimit).toBe(64);
    W.reset();
    const c2 = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).br("2001:db8:ffff::1").close(c2);
    W.iaPrefix("2001:db8:12:3400::", 56);
    const l = W.localOpen();
    W.setting(LOCAL_HOP_LIMIT, 1, 255).setting(LOCAL_TUNNEL_MTU, 2, 9000)
      .setting(LOCAL_LEGACY_IID, 1, 1).setting(LOCAL_MODE, 1, MODE_CE).close(l);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(settings.mode).toBe(MODE_CE);
    expect<i32>(settings.legacyIid).toBe(1);
    expect<i32>(settings.tunnelMtu).toBe(9000);
    expect<i32>(settings.hopLimit).toBe(255);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:c0:2:1200:3400");
  });
});

describe("data-path accessors", () => {
  it("port set, IPv4 address, MAP address pointer, rule records, BR pointers", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).br("2001:db8:ffff::1").close(c);
    W.iaPrefix("2001:db8:12:3400::", 56).local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(cePortSet.count).toBe(252);
    expect<i32>(cePortSet.psid).toBe(0x34);
    expect<u32>(ceIPv4Address()).toBe(0xc0000212);
    expect<string>(formatIPv6(ceMapAddressPtr())).toBe("2001:db8:12:3400:0:c000:212:34");
    expect<i32>(activeRuleCount()).toBe(1);
    expect<i32>(ruleAt(0).psidLength).toBe(8);
    expect<i32>(ruleAt(0).eaShift).toBe(8);
    expect<i32>(activeBrCount()).toBe(1);
    expect<string>(formatIPv6(brAddressPtr(0))).toBe("2001:db8:ffff::1");
    expect<i32>(bmrRule()).toBe(0);
  });
});
