// Every vector of /work/shared/vectors/map-rules.json (RFC 7597 Appendix A,
// JANOG interop, FD.io VPP, v6plus, OCN), transcribed as table rows by a
// script; each goes through configure() and every result getter.
import { W, OPT_MAPE, MODE_CE, MODE_CALC, ipv4, formatIPv4, canonIPv6, ceAddressText } from "./map_helpers";
import { ceIPv4, ceIPv4PrefixLength, cePsid, cePsidLength, cePsidOffset, cePortCount,
  cePortRangeCount, cePortRangeFirst, cePortRangeLast, bmrIndex, isOwnPort, mapIPv6,
  ceIPv6Address, scratch, brCount, brAddress } from "../../assembly/map/api";
import { formatIPv6 } from "./map_helpers";

class Vector {
  constructor(
    public name: string,
    public rule6: string, public len6: i32, public rule4: string, public len4: i32,
    public ea: i32, public offset: i32,
    public eu: string, public euLen: i32,
    public v4: string, public v4Len: i32, public psid: i32, public k: i32, public a: i32, public count: i32,
    public ce6: string, public ce6Legacy: string,
    public ranges: StaticArray<i32>) {}
}

const VECTORS: Vector[] = [
  new Vector(
    "RFC 7597 Appendix A, example 1/2",
    "2001:db8::", 40, "192.0.2.0", 24, 16, 6,
    "2001:db8:12:3400::", 56,
    "192.0.2.18", 32, 52, 8, 6, 252,
    "2001:db8:12:3400:0:c000:212:34", "2001:db8:12:3400:c0:2:1200:3400",
    [1232, 1235, 2256, 2259, 3280, 3283, 4304, 4307, 5328, 5331, 6352, 6355, 7376, 7379, 8400, 8403, 9424, 9427, 10448, 10451, 11472, 11475, 12496, 12499, 13520, 13523, 14544, 14547, 15568, 15571, 16592, 16595, 17616, 17619, 18640, 18643, 19664, 19667, 20688, 20691, 21712, 21715, 22736, 22739, 23760, 23763, 24784, 24787, 25808, 25811, 26832, 26835, 27856, 27859, 28880, 28883, 29904, 29907, 30928, 30931, 31952, 31955, 32976, 32979, 34000, 34003, 35024, 35027, 36048, 36051, 37072, 37075, 38096, 38099, 39120, 39123, 40144, 40147, 41168, 41171, 42192, 42195, 43216, 43219, 44240, 44243, 45264, 45267, 46288, 46291, 47312, 47315, 48336, 48339, 49360, 49363, 50384, 50387, 51408, 51411, 52432, 52435, 53456, 53459, 54480, 54483, 55504, 55507, 56528, 56531, 57552, 57555, 58576, 58579, 59600, 59603, 60624, 60627, 61648, 61651, 62672, 62675, 63696, 63699, 64720, 64723]),
  new Vector(
    "JANOG Softwire WG interop rule (seed), end-user prefix 2403:9200:1234::/48",
    "2403:9200::", 32, "203.86.225.0", 28, 16, 4,
    "2403:9200:1234::", 48,
    "203.86.225.1", 32, 564, 12, 4, 15,
    "2403:9200:1234::cb56:e101:234", "2403:9200:1234:0:cb:56e1:102:3400",
    [4660, 4660, 8756, 8756, 12852, 12852, 16948, 16948, 21044, 21044, 25140, 25140, 29236, 29236, 33332, 33332, 37428, 37428, 41524, 41524, 45620, 45620, 49716, 49716, 53812, 53812, 57908, 57908, 62004, 62004]),
  new Vector(
    "JANOG Softwire WG interop rule (seed), end-user prefix 2403:9200:5123::/48",
    "2403:9200::", 32, "203.86.225.0", 28, 16, 4,
    "2403:9200:5123::", 48,
    "203.86.225.5", 32, 291, 12, 4, 15,
    "2403:9200:5123::cb56:e105:123", "2403:9200:5123:0:cb:56e1:501:2300",
    [4387, 4387, 8483, 8483, 12579, 12579, 16675, 16675, 20771, 20771, 24867, 24867, 28963, 28963, 33059, 33059, 37155, 37155, 41251, 41251, 45347, 45347, 49443, 49443, 53539, 53539, 57635, 57635, 61731, 61731]),
  new Vector(
    "FD.io VPP test_map_e_udp domain (2001::/32, 192.168.0.0/16, EA 20, offset 4)",
    "2001::", 32, "192.168.0.0", 16, 20, 4,
    "2001:0:101:7000::", 52,
    "192.168.1.1", 32, 7, 4, 4, 3840,
    "2001:0:101:7000:0:c0a8:101:7", "2001:0:101:7000:c0:a801:100:700",
    [5888, 6143, 9984, 10239, 14080, 14335, 18176, 18431, 22272, 22527, 26368, 26623, 30464, 30719, 34560, 34815, 38656, 38911, 42752, 43007, 46848, 47103, 50944, 51199, 55040, 55295, 59136, 59391, 63232, 63487]),
  new Vector(
    "v6plus (JPNE) rule 240b:10::/31 -> 106.72.0.0/15; CEs in the field use the legacy interface id",
    "240b:10::", 31, "106.72.0.0", 15, 25, 4,
    "240b:11:a1b2:c300::", 56,
    "106.73.161.178", 32, 195, 8, 4, 240,
    "240b:11:a1b2:c300:0:6a49:a1b2:c3", "240b:11:a1b2:c300:6a:49a1:b200:c300",
    [7216, 7231, 11312, 11327, 15408, 15423, 19504, 19519, 23600, 23615, 27696, 27711, 31792, 31807, 35888, 35903, 39984, 39999, 44080, 44095, 48176, 48191, 52272, 52287, 56368, 56383, 60464, 60479, 64560, 64575]),
  new Vector(
    "OCN Virtual Connect rule 2400:4050::/38 -> 153.240.0.0/20; legacy interface id in the field",
    "2400:4050::", 38, "153.240.0.0", 20, 18, 6,
    "2400:4050:123:4500::", 56,
    "153.240.4.141", 32, 5, 6, 6, 1008,
    "2400:4050:123:4500:0:99f0:48d:5", "2400:4050:123:4500:99:f004:8d00:500",
    [1104, 1119, 2128, 2143, 3152, 3167, 4176, 4191, 5200, 5215, 6224, 6239, 7248, 7263, 8272, 8287, 9296, 9311, 10320, 10335, 11344, 11359, 12368, 12383, 13392, 13407, 14416, 14431, 15440, 15455, 16464, 16479, 17488, 17503, 18512, 18527, 19536, 19551, 20560, 20575, 21584, 21599, 22608, 22623, 23632, 23647, 24656, 24671, 25680, 25695, 26704, 26719, 27728, 27743, 28752, 28767, 29776, 29791, 30800, 30815, 31824, 31839, 32848, 32863, 33872, 33887, 34896, 34911, 35920, 35935, 36944, 36959, 37968, 37983, 38992, 39007, 40016, 40031, 41040, 41055, 42064, 42079, 43088, 43103, 44112, 44127, 45136, 45151, 46160, 46175, 47184, 47199, 48208, 48223, 49232, 49247, 50256, 50271, 51280, 51295, 52304, 52319, 53328, 53343, 54352, 54367, 55376, 55391, 56400, 56415, 57424, 57439, 58448, 58463, 59472, 59487, 60496, 60511, 61520, 61535, 62544, 62559, 63568, 63583, 64592, 64607]),
];

/** Writes the vector's rule as a MAP-E container (BR 2001:db8::ffff), its prefix and settings. */
function writeVector(v: Vector, legacy: i32): void {
  W.reset();
  const c = W.open(OPT_MAPE);
  const r = W.ruleOpen(1, v.ea, v.rule4, v.len4, v.rule6, v.len6);
  W.portParams(v.offset, 0, 0).close(r);
  W.br("2001:db8::ffff").close(c);
  W.iaPrefix(v.eu, v.euLen);
  W.local(MODE_CE, legacy);
}

function checkVector(i: i32): void {
  const v = VECTORS[i];
  writeVector(v, 0);
  expect<i32>(W.configure()).toBe(0);
  expect<i32>(bmrIndex()).toBe(0);
  expect<string>(formatIPv4(ceIPv4())).toBe(v.v4);
  expect<i32>(ceIPv4PrefixLength()).toBe(v.v4Len);
  expect<i32>(cePsid()).toBe(v.psid);
  expect<i32>(cePsidLength()).toBe(v.k);
  expect<i32>(cePsidOffset()).toBe(v.a);
  expect<i32>(cePortCount()).toBe(v.count);
  const n = v.ranges.length / 2;
  expect<i32>(cePortRangeCount()).toBe(n);
  let wrong = 0;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    if (cePortRangeFirst(j) != v.ranges[2 * j] || cePortRangeLast(j) != v.ranges[2 * j + 1]) wrong++;
    sum += v.ranges[2 * j + 1] - v.ranges[2 * j] + 1;
  }
  expect<i32>(wrong).toBe(0);
  expect<i32>(sum).toBe(v.count);
  expect<string>(ceAddressText()).toBe(canonIPv6(v.ce6));
  // The BR's reverse mapping of the first and last port gives the same address.
  const out = scratch();
  expect<i32>(mapIPv6(0, ceIPv4(), v.ranges[0], out)).toBe(0);
  expect<string>(formatIPv6(out)).toBe(canonIPv6(v.ce6));
  expect<i32>(mapIPv6(0, ceIPv4(), v.ranges[2 * n - 1], out)).toBe(0);
  expect<string>(formatIPv6(out)).toBe(canonIPv6(v.ce6));
  expect<i32>(isOwnPort(v.ranges[0])).toBe(1);
  expect<i32>(isOwnPort(v.ranges[0] - 1)).toBe(0);
}

function checkLegacy(i: i32): void {
  const v = VECTORS[i];
  writeVector(v, 1);
  expect<i32>(W.configure()).toBe(0);
  expect<string>(ceAddressText()).toBe(canonIPv6(v.ce6Legacy));
  const out = scratch();
  expect<i32>(mapIPv6(0, ceIPv4(), v.ranges[0], out)).toBe(0);
  expect<string>(formatIPv6(out)).toBe(canonIPv6(v.ce6Legacy));
}

describe("map-rules.json vectors", () => {
  it("RFC 7597 Appendix A, example 1/2", () => { checkVector(0); });
  it("RFC 7597 Appendix A, example 1/2 (legacy interface id)", () => { checkLegacy(0); });
  it("JANOG Softwire WG interop rule (seed), end-user prefix 2403:9200:1234::/48", () => { checkVector(1); });
  it("JANOG Softwire WG interop rule (seed), end-user prefix 2403:9200:1234::/48 (legacy interface id)", () => { checkLegacy(1); });
  it("JANOG Softwire WG interop rule (seed), end-user prefix 2403:9200:5123::/48", () => { checkVector(2); });
  it("JANOG Softwire WG interop rule (seed), end-user prefix 2403:9200:5123::/48 (legacy interface id)", () => { checkLegacy(2); });
  it("FD.io VPP test_map_e_udp domain (2001::/32, 192.168.0.0/16, EA 20, offset 4)", () => { checkVector(3); });
  it("FD.io VPP test_map_e_udp domain (2001::/32, 192.168.0.0/16, EA 20, offset 4) (legacy interface id)", () => { checkLegacy(3); });
  it("v6plus (JPNE) rule 240b:10::/31 -> 106.72.0.0/15; CEs in the field use the legacy interface id", () => { checkVector(4); });
  it("v6plus (JPNE) rule 240b:10::/31 -> 106.72.0.0/15; CEs in the field use the legacy interface id (legacy interface id)", () => { checkLegacy(4); });
  it("OCN Virtual Connect rule 2400:4050::/38 -> 153.240.0.0/20; legacy interface id in the field", () => { checkVector(5); });
  it("OCN Virtual Connect rule 2400:4050::/38 -> 153.240.0.0/20; legacy interface id in the field (legacy interface id)", () => { checkLegacy(5); });
  it("covers every vector of the file", () => {
    expect<i32>(VECTORS.length).toBe(6);
  });
});

describe("JANOG interop rule", () => {
  it("installs with BR 2403:9200:fff0::2 and PSID 0x234 right-aligned in the interface id", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
    W.portParams(4, 0, 0).close(r);
    W.br("2403:9200:fff0::2").close(c);
    W.iaPrefix("2403:9200:1234::", 48);
    W.local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(brCount()).toBe(1);
    expect<string>(formatIPv6(brAddress(0))).toBe("2403:9200:fff0::2");
    expect<string>(formatIPv4(ceIPv4())).toBe("203.86.225.1");
    expect<i32>(cePsid()).toBe(0x234);
    expect<i32>(cePsidLength()).toBe(12);
    expect<i32>(cePortCount()).toBe(15);
    expect<string>(ceAddressText()).toBe("2403:9200:1234::cb56:e101:234");
  });

  it("an explicit S46_PORTPARAMS PSID length that agrees with the EA bits is accepted", () => {
    W.reset();
    const c = W.open(OPT_MAPE);
    const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
    // PSID length 12, PSID value left-aligned (ignored: the EA bits carry it).
    W.portParams(4, 12, 0x2340).close(r);
    W.br("2403:9200:fff0::2").close(c);
    W.iaPrefix("2403:9200:1234::", 48);
    W.local(MODE_CE);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(cePsid()).toBe(0x234);
  });
});
