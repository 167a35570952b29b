import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AddressError,
  formatIPv4,
  formatIPv6,
  parseIPv4,
  parseIPv6,
} from "../../host/ip.js";

// [input, RFC 5952 canonical form]
const IPV6: [string, string][] = [
  ["2001:db8::1", "2001:db8::1"],
  ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
  ["2001:DB8::AbCd", "2001:db8::abcd"], // §4.3 lower case
  ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // §4.2.3 first of equal runs
  ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // §4.2.2 one zero group stays
  ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // §4.2.3 longest run
  ["::", "::"],
  ["::1", "::1"],
  ["1::", "1::"],
  ["::ffff:192.0.2.1", "::ffff:192.0.2.1"], // §5 IPv4-mapped
  ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ["2403:9200:1234:0:0:cb56:e101:234", "2403:9200:1234::cb56:e101:234"],
];

test("IPv6 text round-trips to the RFC 5952 form", () => {
  for (const [input, canonical] of IPV6) {
    assert.equal(formatIPv6(parseIPv6(input)), canonical, input);
    assert.equal(formatIPv6(parseIPv6(canonical)), canonical, canonical);
  }
});

test("formatIPv6 reads at an offset (a view over wasm memory)", () => {
  const mem = new Uint8Array(40);
  mem.set(parseIPv6("2001:db8::5"), 20);
  assert.equal(formatIPv6(mem, 20), "2001:db8::5");
});

test("bad IPv6 text is refused with the reason", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["2001:db8:::1", /empty group|'::'/],
    ["1::2::3", /only once/],
    ["2001:db8", /2 groups/],
    ["1:2:3:4:5:6:7:8:9", /9 groups/],
    ["1:2:3:4::5:6:7:8", /too many groups/],
    ["2001:db8::g", /'g' is not a group/],
    ["12345::", /'12345'/],
    ["fe80::1%eth0", /zone/],
    ["::1.2.3", /dotted-quad/],
  ];
  for (const [text, why] of bad) assert.throws(() => parseIPv6(text), (e: Error) => e instanceof AddressError && why.test(e.message), text);
});

test("IPv4 text both ways, strict", () => {
  assert.equal(parseIPv4("192.0.2.18"), 0xc0000212);
  assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
  assert.equal(formatIPv4(0xcb56e101), "203.86.225.1");
  assert.equal(formatIPv4(0xffffffff | 0), "255.255.255.255");
  for (const t of ["1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.x", "", "1..2.3"]) {
    assert.throws(() => parseIPv4(t), AddressError, t);
  }
});
