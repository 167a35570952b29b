// Every configuration error code with the offset of the bad field and the
// option it belongs to (docs/abi.md §1), and all-or-nothing installs.
import { W, OPT_MAPE, OPT_MAPT, OPT_LW, OPT_RULE, OPT_BR, OPT_DMR, OPT_BIND, OPT_PORTPARAMS,
  OPT_IAPREFIX, OPT_LOCAL, LOCAL_MODE, LOCAL_TUNNEL_MTU, LOCAL_HOP_LIMIT, MODE_CE, MODE_BR, MODE_CALC,
  formatIPv4, ceAddressText } from "./map_helpers";
import { configure, configErrorOffset, configErrorOption, ceIPv4, cePsid, ruleCount, brCount,
  bmrIndex, ruleForIPv4 } from "../../assembly/map/api";
import * as E from "../../assembly/map/errors";
import { settings } from "../../assembly/settings";

/** Runs configure on what W holds and checks code, offset (W.marked) and option. */
function expectError(code: i32, option: i32): void {
  expect<i32>(W.configure()).toBe(code);
  expect<i32>(configErrorOffset()).toBe(W.marked);
  expect<i32>(configErrorOption()).toBe(option);
}

/** A valid MAP-E container (RFC 7597 Appendix A rule, F flag) with one BR, left open. */
function mapeOpen(): i32 {
  const c = W.open(OPT_MAPE);
  W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40);
  W.br("2001:db8:ffff::1");
  return c;
}

describe("configuration errors", () => {
  it("1 TRUNCATED: option header cut short, option body past the end", () => {
    W.reset().mark().u16(OPT_MAPE).u8(0);
    expectError(E.ERR_TRUNCATED, 0);
    W.reset();
    W.u16(OPT_MAPE).mark().u16(100).u32(0);
    expectError(E.ERR_TRUNCATED, OPT_MAPE);
    // A sub-option running past its container.
    W.reset();
    const c = W.open(OPT_MAPE);
    W.u16(OPT_BR).mark().u16(16).u32(0);
    W.close(c).u32(0).u32(0).u32(0);
    expectError(E.ERR_TRUNCATED, OPT_BR);
  });

  it("2 OPTION_LENGTH: an S46_BR of 15 bytes, an S46_RULE shorter than its prefix", () => {
    W.reset();
    let c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40);
    W.u16(OPT_BR).mark().u16(15);
    for (let i = 0; i < 15; i++) W.u8(0);
    W.close(c);
    expectError(E.ERR_OPTION_LENGTH, OPT_BR);
    W.reset();
    c = W.open(OPT_MAPE);
    // prefix6-len 40 needs 5 bytes; give 2.
    W.u16(OPT_RULE).mark().u16(10).u8(0).u8(16).u8(24).u32(0xc0000200).u8(40).u8(0x20).u8(0x01);
    W.close(c);
    expectError(E.ERR_OPTION_LENGTH, OPT_RULE);
  });

  it("3 UNKNOWN_OPTION: a stray top-level option, an S46_DMR inside MAP-E", () => {
    W.reset();
    W.close(mapeOpen());
    // (23, OPTION_DNS_SERVERS, is known now: the DNS proxy's resolvers.)
    W.mark().u16(24).u16(0);
    expectError(E.ERR_UNKNOWN_OPTION, 24);
    W.reset();
    const c = mapeOpen();
    W.mark().dmr("64:ff9b::", 96).close(c);
    expectError(E.ERR_UNKNOWN_OPTION, OPT_DMR);
  });

  it("4 CONTAINER_MISSING", () => {
    W.reset().local(MODE_CALC);
    W.marked = 0;
    expectError(E.ERR_CONTAINER_MISSING, 0);
  });

  it("5 CONTAINER_DUPLICATE", () => {
    W.reset();
    W.close(mapeOpen());
    W.mark().close(mapeOpen());
    expectError(E.ERR_CONTAINER_DUPLICATE, OPT_MAPE);
  });

  it("6 RULE_MISSING: MAP-E without S46_RULE, lw4o6 without S46_V4V6BIND", () => {
    W.reset().mark();
    let c = W.open(OPT_MAPE);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_RULE_MISSING, OPT_MAPE);
    W.reset().mark();
    c = W.open(OPT_LW);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_RULE_MISSING, OPT_LW);
  });

  it("7 BR_MISSING in CE mode (calc accepts it)", () => {
    W.reset().mark();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).close(c);
    W.iaPrefix("2001:db8:12:3400::", 56).local(MODE_CE);
    expectError(E.ERR_BR_MISSING, OPT_MAPE);
  });

  it("8 DMR_COUNT: MAP-T without S46_DMR, with two", () => {
    W.reset().mark();
    let c = W.open(OPT_MAPT);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).close(c);
    expectError(E.ERR_DMR_COUNT, OPT_MAPT);
    W.reset();
    c = W.open(OPT_MAPT);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).dmr("64:ff9b::", 96);
    W.mark().dmr("64:ff9b::", 96).close(c);
    expectError(E.ERR_DMR_COUNT, OPT_DMR);
  });

  it("9 BIND_COUNT", () => {
    W.reset();
    const c = W.open(OPT_LW);
    W.close(W.bindOpen("192.0.2.1", "2001:db8:1::", 56));
    W.mark();
    W.close(W.bindOpen("192.0.2.2", "2001:db8:2::", 56));
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_BIND_COUNT, OPT_BIND);
  });

  it("10 PREFIX4_LENGTH", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.u16(OPT_RULE).u16(13).u8(1).u8(16).mark().u8(33).u32(0xc0000200).u8(40).addr6("2001:db8::", 5);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PREFIX4_LENGTH, OPT_RULE);
  });

  it("11 PREFIX6_LENGTH: S46_RULE and OPTION_IAPREFIX", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.u16(OPT_RULE).u16(8 + 17).u8(1).u8(16).u8(24).u32(0xc0000200).mark().u8(129).addr6("2001:db8::").u8(0);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PREFIX6_LENGTH, OPT_RULE);
    W.reset();
    W.close(mapeOpen());
    W.u16(OPT_IAPREFIX).u16(25).u32(0).u32(0).mark().u8(129).addr6("2001:db8::");
    expectError(E.ERR_PREFIX6_LENGTH, OPT_IAPREFIX);
  });

  it("12 EA_LENGTH", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.u16(OPT_RULE).u16(10).u8(1).mark().u8(49).u8(0).u32(0).u8(16).addr6("2001:db8::", 2);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_EA_LENGTH, OPT_RULE);
  });

  it("13 EA_TOO_LONG_FOR_ADDRESS: r = 24, o = 41 gives a 17-bit PSID", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.u16(OPT_RULE).u16(10).u8(1).mark().u8(41).u8(24).u32(0xc0000200).u8(16).addr6("2001:db8::", 2);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_EA_TOO_LONG_FOR_ADDRESS, OPT_RULE);
  });

  it("14 PSID_TOO_LONG: in S46_PORTPARAMS, and from EA bits with the default offset", () => {
    W.reset();
    let c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 0, "192.0.2.1", 32, "2001:db8:0:1::", 64);
    W.u16(OPT_PORTPARAMS).u16(4).u8(6).mark().u8(11).u16(0).close(r);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PSID_TOO_LONG, OPT_PORTPARAMS);
    // r = 24, o = 20: q = 12, a = 6 by default: 18 bits.
    W.reset();
    c = W.open(OPT_MAPE);
    W.u16(OPT_RULE).u16(13).u8(1).mark().u8(20).u8(24).u32(0xc0000200).u8(40).addr6("2001:db8::", 5);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PSID_TOO_LONG, OPT_RULE);
  });

  it("15 PORTPARAMS_OFFSET", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 16, "192.0.2.0", 24, "2001:db8::", 40);
    W.u16(OPT_PORTPARAMS).u16(4).mark().u8(16).u8(0).u16(0).close(r);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PORTPARAMS_OFFSET, OPT_PORTPARAMS);
  });

  it("16 PREFIX_MISSING in CE mode", () => {
    W.reset();
    W.close(mapeOpen()).local(MODE_CE);
    W.marked = 0;
    expectError(E.ERR_PREFIX_MISSING, 0);
  });

  it("17 PREFIX_OUTSIDE_RULE", () => {
    W.reset();
    W.close(mapeOpen());
    const s = W.open(OPT_IAPREFIX);
    W.u32(0).u32(0).u8(56).mark().addr6("2001:db9:12:3400::").close(s);
    expectError(E.ERR_PREFIX_OUTSIDE_RULE, OPT_IAPREFIX);
  });

  it("18 PREFIX_LENGTH: shorter than prefix6-len + ea-len, shorter than the rule prefix", () => {
    W.reset();
    W.close(mapeOpen());
    let s = W.open(OPT_IAPREFIX);
    W.u32(0).u32(0).mark().u8(48).addr6("2001:db8:12::").close(s);
    expectError(E.ERR_PREFIX_LENGTH, OPT_IAPREFIX);
    W.reset();
    W.close(mapeOpen());
    s = W.open(OPT_IAPREFIX);
    W.u32(0).u32(0).mark().u8(32).addr6("2001:db8::").close(s);
    expectError(E.ERR_PREFIX_LENGTH, OPT_IAPREFIX);
  });

  it("19 PREFIX6_PLUS_EA: n = 56, o = 16", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.u16(OPT_RULE).u16(15).u8(1).mark().u8(16).u8(24).u32(0xc0000200).u8(56).addr6("2001:db8::", 7);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PREFIX6_PLUS_EA, OPT_RULE);
  });

  it("20 TOO_MANY_RULES: 257 rules", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    for (let i = 0; i < 256; i++) W.rule(1, 8, "10.0.0.0", 24, "2001:db8::", 48);
    W.mark().rule(1, 8, "10.0.0.0", 24, "2001:db8::", 48);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_TOO_MANY_RULES, OPT_RULE);
  });

  it("21 TOO_MANY_BRS: 9 BR addresses", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40);
    for (let i = 0; i < 8; i++) W.br("2001:db8:ffff::1");
    W.mark().br("2001:db8:ffff::2").close(c);
    expectError(E.ERR_TOO_MANY_BRS, OPT_BR);
  });

  it("22 LOCAL_VALUE: TUNNEL_MTU 1279, HOP_LIMIT 0, MODE 3", () => {
    W.reset();
    W.close(mapeOpen());
    let l = W.localOpen();
    W.u16(LOCAL_TUNNEL_MTU).u16(2).mark().u16(1279).close(l);
    expectError(E.ERR_LOCAL_VALUE, OPT_LOCAL);
    W.reset();
    W.close(mapeOpen());
    l = W.localOpen();
    W.u16(LOCAL_HOP_LIMIT).u16(1).mark().u8(0).close(l);
    expectError(E.ERR_LOCAL_VALUE, OPT_LOCAL);
    W.reset();
    W.close(mapeOpen());
    l = W.localOpen();
    W.u16(LOCAL_MODE).u16(1).mark().u8(3).close(l);
    expectError(E.ERR_LOCAL_VALUE, OPT_LOCAL);
  });

  it("23 MODE_UNSUPPORTED: MAP-T outside calc mode", () => {
    W.reset().mark();
    const c = W.open(OPT_MAPT);
    W.rule(1, 16, "192.0.2.0", 24, "2001:db8::", 40).dmr("64:ff9b::", 96).close(c);
    W.iaPrefix("2001:db8:12:3400::", 56).local(MODE_CE);
    expectError(E.ERR_MODE_UNSUPPORTED, OPT_MAPT);
  });

  it("24 PSID_MISMATCH: PSID length 8 in S46_PORTPARAMS, 12 from the EA bits (JANOG rule)", () => {
    W.reset();
    let c = W.open(OPT_MAPE);
    let r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
    W.u16(OPT_PORTPARAMS).u16(4).u8(4).mark().u8(8).u16(0).close(r);
    W.br("2403:9200:fff0::2").close(c);
    expectError(E.ERR_PSID_MISMATCH, OPT_PORTPARAMS);
    // A PSID for a CE that gets an IPv4 prefix (o = 0, r < 32).
    W.reset();
    c = W.open(OPT_MAPE);
    r = W.ruleOpen(0, 0, "192.0.2.0", 28, "2001:db8:0:1::", 64);
    W.u16(OPT_PORTPARAMS).u16(4).u8(6).mark().u8(8).u16(0x3400).close(r);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PSID_MISMATCH, OPT_PORTPARAMS);
  });

  it("25 PSID_VALUE: a right-aligned PSID in S46_PORTPARAMS (the JANOG interop bug)", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 0, "192.0.2.1", 32, "2001:db8:0:1::", 64);
    W.u16(OPT_PORTPARAMS).u16(4).u8(6).u8(8).mark().u16(0x0034).close(r);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_PSID_VALUE, OPT_PORTPARAMS);
    // One bit past a 15-bit PSID; with PSID-len 0 the same field is ignored
    // (RFC 7598 §4.5; provision_modes.spec.ts).
    W.reset();
    const c2 = W.open(OPT_MAPE);
    const r2 = W.ruleOpen(1, 0, "192.0.2.1", 32, "2001:db8:0:1::", 64);
    W.u16(OPT_PORTPARAMS).u16(4).u8(0).u8(15).mark().u16(0x0001).close(r2);
    W.br("2001:db8:ffff::1").close(c2);
    expectError(E.ERR_PSID_VALUE, OPT_PORTPARAMS);
  });

  it("26 PREFIX_UNEXPECTED: an end-user prefix in BR mode", () => {
    W.reset();
    W.close(mapeOpen());
    W.mark().iaPrefix("2001:db8:12:3400::", 56).local(MODE_BR);
    expectError(E.ERR_PREFIX_UNEXPECTED, OPT_IAPREFIX);
  });

  it("27 OPTION_DUPLICATE: two IAPREFIX, two MODE settings, two S46_PORTPARAMS", () => {
    W.reset();
    W.close(mapeOpen());
    W.iaPrefix("2001:db8:12:3400::", 56);
    W.mark().iaPrefix("2001:db8:12:3400::", 56);
    expectError(E.ERR_OPTION_DUPLICATE, OPT_IAPREFIX);
    W.reset();
    W.close(mapeOpen());
    const l = W.localOpen();
    W.setting(LOCAL_MODE, 1, 0).mark().setting(LOCAL_MODE, 1, 0).close(l);
    expectError(E.ERR_OPTION_DUPLICATE, OPT_LOCAL);
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(1, 16, "192.0.2.0", 24, "2001:db8::", 40);
    W.portParams(6, 0, 0).mark().portParams(6, 0, 0).close(r);
    W.br("2001:db8:ffff::1").close(c);
    expectError(E.ERR_OPTION_DUPLICATE, OPT_PORTPARAMS);
  });

  it("28 CONFIG_LENGTH: a length outside the buffer", () => {
    expect<i32>(configure(-1)).toBe(E.ERR_CONFIG_LENGTH);
    expect<i32>(configure(16385)).toBe(E.ERR_CONFIG_LENGTH);
  });

  it("unknown local setting and a local setting of the wrong width", () => {
    W.reset();
    W.close(mapeOpen());
    let l = W.localOpen();
    W.mark().u16(999).u16(1).u8(0).close(l);
    expectError(E.ERR_UNKNOWN_OPTION, OPT_LOCAL);
    W.reset();
    W.close(mapeOpen());
    l = W.localOpen();
    W.u16(LOCAL_TUNNEL_MTU).mark().u16(1).u8(5).close(l);
    expectError(E.ERR_OPTION_LENGTH, OPT_LOCAL);
  });
});

describe("all or nothing", () => {
  it("a failed configure leaves the previous configuration in force", () => {
    W.reset();
    W.close(mapeOpen());
    W.iaPrefix("2001:db8:12:3400::", 56);
    const l = W.localOpen();
    W.setting(LOCAL_MODE, 1, MODE_CE).setting(LOCAL_TUNNEL_MTU, 2, 1460).close(l);
    expect<i32>(W.configure()).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.18");
    expect<i32>(settings.tunnelMtu).toBe(1460);

    // A new configuration that is valid up to its last option: more rules,
    // another BR, another mode and MTU, then a bad S46_PORTPARAMS.
    W.reset();
    const c = W.open(OPT_MAPE);
    W.rule(1, 8, "10.0.0.0", 24, "2001:db8::", 48);
    W.rule(1, 8, "10.0.1.0", 24, "2001:db9::", 48);
    W.br("2001:db8:ffff::2").br("2001:db8:ffff::3");
    const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
    W.portParams(4, 8, 0).close(r).close(c);
    const l2 = W.localOpen();
    W.setting(LOCAL_MODE, 1, MODE_BR).setting(LOCAL_TUNNEL_MTU, 2, 1280).close(l2);
    expect<i32>(W.configure()).toBe(E.ERR_PSID_MISMATCH);

    expect<i32>(ruleCount()).toBe(1);
    expect<i32>(brCount()).toBe(1);
    expect<i32>(bmrIndex()).toBe(0);
    expect<string>(formatIPv4(ceIPv4())).toBe("192.0.2.18");
    expect<i32>(cePsid()).toBe(0x34);
    expect<string>(ceAddressText()).toBe("2001:db8:12:3400:0:c000:212:34");
    expect<i32>(settings.tunnelMtu).toBe(1460);
    expect<i32>(settings.mode).toBe(MODE_CE);
    expect<i32>(ruleForIPv4(0xc0000212)).toBe(0);
    expect<i32>(ruleForIPv4(0x0a000001)).toBe(-1);
  });
});
