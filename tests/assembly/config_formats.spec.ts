// The configuration text formats parsed in the module (assembly/config/):
// address text both ways, the argument records, --rule, --dhcpv6 hex and
// rule strings, UCI, the JSON file, the error line naming the user's field,
// and the calc output. (The Node tests in tests/host/config*.test.ts drive
// the same code through the CLI.)
import { parseIPv4, parseIPv6, parsePrefix4, parsePrefix6, formatIPv6, formatIPv4, addrError, parsedV4, parsedLen } from "../../assembly/config/ip";
import { Out, newOut } from "../../assembly/config/text";
import { textBuffer, textBufferSize, configFromArgs, configArgUsed, configErrorText, configErrorTextLength,
  configErrorFieldLength, calcText, configFileFlags } from "../../assembly/config/api";
import { configure, configBuffer, ceIPv4, cePsid, cePsidLength, cePsidOffset, cePortCount, ruleCount,
  brCount, bmrIndex, rulePsidLength, ruleIsForwarding } from "../../assembly/map/api";
import { settings } from "../../assembly/settings";

const scratch: usize = memory.data(64, 8);
const outRegion: usize = memory.data(512, 8);
const out: Out = newOut(outRegion, 512, memory.data(<i32>offsetof<Out>(), 8));

function bytesOf(s: string): ArrayBuffer { return String.UTF8.encode(s); }

function v6text(s: string): string {
  const b = bytesOf(s);
  if (!parseIPv6(changetype<usize>(b), b.byteLength, scratch)) return "error: " + String.UTF8.decodeUnsafe(addrError.base, addrError.len);
  out.reset();
  formatIPv6(out, scratch);
  return String.UTF8.decodeUnsafe(out.base, out.len);
}

function v6error(s: string): string {
  const b = bytesOf(s);
  if (parseIPv6(changetype<usize>(b), b.byteLength, scratch)) return "";
  return String.UTF8.decodeUnsafe(addrError.base, addrError.len);
}

// ---- argument records ----
let at = 0;
function begin(): void { at = 0; }
function rec(kind: i32, s: string): void {
  const b = bytesOf(s);
  const p = textBuffer() + <usize>at;
  store<u8>(p, <u8>kind);
  store<u32>(p + 1, <u32>b.byteLength);
  memory.copy(p + 5, changetype<usize>(b), <usize>b.byteLength);
  at += 5 + b.byteLength;
}
function arg(s: string): void { rec(1, s); }
function fileRec(s: string): void { rec(2, s); }
/** configFromArgs then configure: 0, or -1 (configFromArgs failed) or the configure code. */
function run(mode: i32): i32 {
  const n = configFromArgs(at, mode);
  if (n < 0) return -1;
  return configure(n);
}
function errorLine(): string {
  return String.UTF8.decodeUnsafe(configErrorText(), configErrorTextLength());
}
function errorField(): string {
  return String.UTF8.decodeUnsafe(configErrorText(), configErrorFieldLength());
}
function text(format: i32): string {
  const n = calcText(format);
  return n < 0 ? "error: " + errorLine() : String.UTF8.decodeUnsafe(textBuffer(), n);
}

const JANOG_RULE = "2403:9200::/32,203.86.225.0/28,16,4";
const PREFIX = "2403:9200:1234::/48";

describe("address text", () => {
  it("IPv6 round-trips to the RFC 5952 form", () => {
    const cases: string[] = [
      "2001:db8::1", "2001:db8::1",
      "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1",
      "2001:DB8::AbCd", "2001:db8::abcd",
      "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1",
      "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1",
      "2001:0:0:1:0:0:0:1", "2001:0:0:1::1",
      "::", "::",
      "::1", "::1",
      "1::", "1::",
      "::ffff:192.0.2.1", "::ffff:192.0.2.1",
      "64:ff9b::192.0.2.33", "64:ff9b::c000:221",
      "2403:9200:1234:0:0:cb56:e101:234", "2403:9200:1234::cb56:e101:234",
    ];
    for (let i = 0; i < cases.length; i += 2) {
      expect<string>(v6text(cases[i])).toBe(cases[i + 1], cases[i]);
      expect<string>(v6text(cases[i + 1])).toBe(cases[i + 1], cases[i + 1]);
    }
  });

  it("bad IPv6 text says why", () => {
    const cases: string[] = [
      "", "(empty)",
      "2001:db8:::1", "empty group",
      "1::2::3", "only once",
      "2001:db8", "2 groups instead of 8",
      "1:2:3:4:5:6:7:8:9", "9 groups",
      "1:2:3:4::5:6:7:8", "too many groups",
      "2001:db8::g", "'g' is not a group",
      "12345::", "'12345'",
      "fe80::1%eth0", "zone",
      "::1.2.3", "dotted-quad",
    ];
    for (let i = 0; i < cases.length; i += 2) {
      const e = v6error(cases[i]);
      expect<bool>(e.includes(cases[i + 1])).toBe(true, cases[i] + " -> " + e);
    }
  });

  it("IPv4 and prefixes, strict", () => {
    const good = bytesOf("192.0.2.18");
    expect<bool>(parseIPv4(changetype<usize>(good), good.byteLength)).toBe(true);
    expect<u32>(parsedV4).toBe(0xc0000212);
    const bad: string[] = ["1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.x", "", "1..2.3"];
    for (let i = 0; i < bad.length; i++) {
      const b = bytesOf(bad[i]);
      expect<bool>(parseIPv4(changetype<usize>(b), b.byteLength)).toBe(false, bad[i]);
    }
    const p4 = bytesOf("192.0.2.1/24");
    expect<bool>(parsePrefix4(changetype<usize>(p4), p4.byteLength)).toBe(false);
    expect<bool>(String.UTF8.decodeUnsafe(addrError.base, addrError.len).includes("did you mean 192.0.2.0/24")).toBe(true);
    const p6 = bytesOf("240b:11::/31");
    expect<bool>(parsePrefix6(changetype<usize>(p6), p6.byteLength, scratch)).toBe(false);
    expect<bool>(String.UTF8.decodeUnsafe(addrError.base, addrError.len).includes("did you mean 240b:10::/31")).toBe(true);
    const ok6 = bytesOf("240b:10::/31");
    expect<bool>(parsePrefix6(changetype<usize>(ok6), ok6.byteLength, scratch)).toBe(true);
    expect<i32>(parsedLen).toBe(31);
    out.reset();
    formatIPv4(out, 0xcb56e101);
    expect<string>(String.UTF8.decodeUnsafe(out.base, out.len)).toBe("203.86.225.1");
  });
});

describe("configFromArgs", () => {
  it("the built-in default, and which arguments were used", () => {
    begin();
    arg("--json");
    arg("--tun");
    arg("mape0");
    expect<i32>(run(0)).toBe(0);
    expect<i32>(ceIPv4()).toBe(<i32>0xcb56e101);
    expect<i32>(cePsid()).toBe(564);
    expect<i32>(configArgUsed(0) + configArgUsed(1) + configArgUsed(2)).toBe(0);
    expect<i32>(configArgUsed(99)).toBe(0);
  });

  it("--rule, --br (repeated), --prefix, --legacy-iid and local flags", () => {
    begin();
    arg("--rule"); arg(JANOG_RULE);
    arg("--br=2403:9200:fff0::2"); arg("--br"); arg("2403:9200:fff0::3");
    arg("--prefix"); arg(PREFIX);
    arg("--legacy-iid");
    arg("--hop-limit"); arg("33");
    arg("--udp-timeout=600");
    expect<i32>(run(1)).toBe(0);
    for (let i = 0; i < 11; i++) expect<i32>(configArgUsed(i)).toBe(1, i.toString());
    expect<i32>(brCount()).toBe(2);
    expect<i32>(settings.legacyIid).toBe(1);
    expect<i32>(settings.hopLimit).toBe(33);
    expect<i32>(settings.udpTimeout).toBe(600);
    expect<i32>(settings.mode).toBe(1);
  });

  it("--dhcpv6 hex: whole options and payload only; offsets are the user's", () => {
    begin();
    arg("--dhcpv6");
    arg("0059 0014 00 31 1c cb56e100 20 24039200 005d 0004 04 00 0000");
    arg("--prefix"); arg(PREFIX);
    expect<i32>(run(0)).toBe(12); // EA_LENGTH
    expect<string>(errorLine()).toBe("--dhcpv6: EA-bits length above 48 (EA_LENGTH) [byte 5, in S46_RULE (89)]");
    expect<string>(errorField()).toBe("--dhcpv6");
    begin();
    arg("--dhcpv6");
    arg("0x005e 00 zz");
    expect<i32>(run(0)).toBe(-1);
    expect<string>(errorLine()).toBe("--dhcpv6: 'z' is not a hex digit");
    begin();
    arg("--dhcpv6");
    arg("005e 002");
    expect<i32>(run(0)).toBe(-1);
    expect<string>(errorLine()).toBe("--dhcpv6: odd number of hex digits (7)");
  });

  it("OpenWrt rule strings: several rules, fmr, repeated BRs once", () => {
    begin();
    arg("--dhcpv6");
    arg("type=map-e,ealen=16,prefix4len=28,prefix6len=32,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::,offset=4,psidlen=0,psid=0,br=2403:9200:fff0::2, fmr,ealen=8,prefix4len=24,prefix6len=40,ipv4prefix=192.0.2.0,ipv6prefix=2001:db8::,br=2403:9200:fff0::2,");
    arg("--prefix"); arg(PREFIX);
    expect<i32>(run(0)).toBe(0);
    expect<i32>(ruleCount()).toBe(2);
    expect<i32>(ruleIsForwarding(1)).toBe(1);
    expect<i32>(brCount()).toBe(1);
    expect<i32>(bmrIndex()).toBe(0);
    begin();
    arg("--dhcpv6");
    arg("ealen=16,prefix4len=28,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::,offset=4 ealen=49,prefix4len=28,ipv4prefix=203.86.225.0,ipv6prefix=2403:9200::/32");
    arg("--prefix"); arg(PREFIX);
    expect<i32>(run(0)).toBe(-1);
    expect<string>(errorLine()).toBe("--dhcpv6 rule 1 prefix6len: the IPv6 prefix length is required");
  });

  it("UCI: the map interface, defaults as mapcalc, lines in names", () => {
    begin();
    arg("--uci"); arg("/etc/config/network");
    fileRec("config interface 'wan'\n\toption proto 'dhcp'\n\nconfig interface 'mape'\n\toption proto 'map'\n\toption peeraddr '2403:9200:fff0::2'\n\toption ipaddr '203.86.225.0'\n\toption ip4prefixlen '28'\n\toption ip6prefix '2403:9200::'\n\toption ip6prefixlen '32'\n\toption offset '4'\n\toption psidlen '10'\n");
    arg("--interface"); arg("mape");
    arg("--prefix"); arg(PREFIX);
    // ealen from the prefix length (48 - 32), as mapcalc: 16; psidlen 10 disagrees with 12.
    expect<i32>(run(0)).toBe(24); // PSID_MISMATCH
    expect<string>(errorLine()).toBe("/etc/config/network:12 option psidlen: the PSID length disagrees with the one the rule's EA bits give (PSID_MISMATCH)");
    expect<i32>(configArgUsed(1)).toBe(1);
  });

  it("the JSON file: paths in names, strict types", () => {
    begin();
    arg("--config"); arg("c.json");
    fileRec('{"rules": [{"ipv6Prefix": "2403:9200::/32", "ipv4Prefix": "203.86.225.0/28", "eaLength": 16, "psidOffset": 4}, {"ipv6Prefix": "2001:db8::/40", "ipv4Prefix": "192.0.2.0/24", "eaLength": 49}], "br": ["2403:9200:fff0::2"], "endUserPrefix": "2403:9200:1234::/48"}');
    expect<i32>(run(0)).toBe(12);
    expect<string>(errorLine()).toBe("rules[1].eaLength: EA-bits length above 48 (EA_LENGTH)");
    begin();
    arg("--config=c.json");
    fileRec('{"rules": [], "tunnelMtu": "1500"}');
    expect<i32>(run(0)).toBe(-1);
    expect<string>(errorLine()).toBe("tunnelMtu: must be an integer from 0 to 65535, not string \"1500\"");
    begin();
    arg("--config"); arg("c.json");
    fileRec('{"type": "map-e", "type": "lw4o6"}');
    expect<i32>(run(0)).toBe(-1);
    expect<string>(errorLine()).toBe("type: is given more than once");
    begin();
    arg("--config"); arg("c.json");
    fileRec('{"br": "2403:9200:fff0::2",\n}');
    expect<i32>(run(0)).toBe(-1);
    expect<string>(errorLine()).toBe("c.json: not valid JSON (trailing comma before '}' at line 2 column 1)");
  });

  it("malformed records and command lines: an error line, never a trap", () => {
    begin();
    store<u8>(textBuffer(), 1);
    store<u32>(textBuffer() + 1, 1000);
    expect<i32>(configFromArgs(5, 0)).toBe(-1);
    expect<bool>(errorLine().includes("runs past the end")).toBe(true);
    begin();
    fileRec("x");
    expect<i32>(configFromArgs(at, 0)).toBe(-1);
    expect<bool>(errorLine().includes("before any argument")).toBe(true);
    expect<i32>(configFromArgs(-1, 0)).toBe(-1);
    expect<i32>(configFromArgs(textBufferSize() + 1, 0)).toBe(-1);
    begin();
    arg("--config"); arg("missing.json");
    expect<i32>(configFromArgs(at, 0)).toBe(-1);
    expect<string>(errorField()).toBe("--config");
    // configFileFlags lists the flags whose values are files.
    expect<string>(String.UTF8.decodeUnsafe(configFileFlags(), 24)).toBe("--config\0--uci\0--rules\0\0");
  });

  it("bytes the host wrote itself are named \"options\" with their offset", () => {
    store<u32>(configBuffer(), 0x0400_5e00); // 005e 0004 …: a container running past the end
    store<u16>(configBuffer() + 4, 0xffff);
    expect<i32>(configure(6)).toBe(1);
    expect<string>(errorLine()).toBe("options: an option or field runs past the end of what encloses it (TRUNCATED) [byte 6, in S46_CONT_MAPE (94)]".replace("byte 6", "byte 2"));
  });
});

describe("calcText", () => {
  it("json and mapcalc of the RFC 7597 Appendix A example", () => {
    begin();
    arg("--rule"); arg("2001:db8::/40,192.0.2.0/24,16");
    arg("--prefix"); arg("2001:db8:12:3400::/56");
    arg("--br"); arg("2001:db8:ffff::1");
    expect<i32>(run(0)).toBe(0);
    expect<i32>(cePsidLength()).toBe(8);
    expect<i32>(cePsidOffset()).toBe(6);
    expect<i32>(cePortCount()).toBe(252);
    const j = text(1);
    expect<bool>(j.startsWith("{\n  \"ipv4Address\": \"192.0.2.18\",\n  \"ipv4PrefixLength\": 32,\n  \"psid\": 52,")).toBe(true, j);
    expect<bool>(j.endsWith("\"portCount\": 252,\n  \"ceIPv6Address\": \"2001:db8:12:3400:0:c000:212:34\"\n}\n")).toBe(true, j);
    const m = text(2);
    expect<bool>(m.startsWith("RULE_1_FMR=0\nRULE_1_EALEN=16\nRULE_1_PSIDLEN=8\nRULE_1_OFFSET=6\n")).toBe(true, m);
    expect<bool>(m.includes("RULE_1_PORTSETS='1232-1235 2256-2259 ")).toBe(true);
    expect<bool>(m.endsWith("RULE_1_BR=2001:db8:ffff::1\nRULE_COUNT=1\n")).toBe(true);
    expect<i32>(calcText(7)).toBe(-1);
  });

  it("without an end-user prefix: the error names where to give it", () => {
    begin();
    arg("--rule"); arg("2001:db8::/40,192.0.2.0/24,16");
    expect<i32>(run(0)).toBe(0);
    expect<i32>(calcText(0)).toBe(-1);
    expect<string>(errorLine()).toBe("--prefix: a CE's address and ports need its end-user prefix (give --prefix <ipv6-prefix>/<len>)");
  });
});

const small: Out = newOut(memory.data(4, 8), 4, memory.data(<i32>offsetof<Out>(), 8));
function written(o: Out): string { return String.UTF8.decodeUnsafe(o.base, o.len); }

describe("Out numbers", () => {
  it("decimal and hex digits, the most significant first, at the edges of their types", () => {
    expect<string>(written(out.reset().u32(0).byte(0x20).u32(9).byte(0x20).u32(10).byte(0x20).u32(4294967295))).toBe("0 9 10 4294967295");
    expect<string>(written(out.reset().u32(1000000000).byte(0x20).u32(999999999))).toBe("1000000000 999999999");
    expect<string>(written(out.reset().u64(0).byte(0x20).u64(10000000000000000000).byte(0x20).u64(18446744073709551615))).toBe("0 10000000000000000000 18446744073709551615");
    expect<string>(written(out.reset().i32(-2147483648).byte(0x20).i32(-1).byte(0x20).i32(2147483647))).toBe("-2147483648 -1 2147483647");
    expect<string>(written(out.reset().hex(0).byte(0x20).hex(15).byte(0x20).hex(16).byte(0x20).hex(0x0abc).byte(0x20).hex(0xffffffff).byte(0x20).hex(0x80000000))).toBe("0 f 10 abc ffffffff 80000000");
  });

  it("a full writer keeps the leading digits and stops", () => {
    expect<string>(written(small.reset().u32(123456))).toBe("1234");
    expect<string>(written(small.reset().u64(9876543210))).toBe("9876");
    expect<string>(written(small.reset().hex(0xdeadbeef))).toBe("dead");
    expect<string>(written(small.reset().byte(0x78).u32(42))).toBe("x42");
  });
});
