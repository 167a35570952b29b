// The test oracle checked against RFC vectors and against Wireshark: every
// builder makes packets that both our dissector and tshark call well formed,
// and a wrong checksum is caught by both (so the checks can fail).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ICMP4_CODE_FRAG_NEEDED,
  PROTO_ICMPV6,
  PROTO_IPIP,
  PROTO_UDP,
  TCP_ACK,
  TCP_SYN,
  checkPacket,
  dissect,
  fragmentIpv4,
  fragmentIpv6,
  hex,
  icmp4,
  icmp4DestUnreachable,
  icmp4Echo,
  icmp4EchoReply,
  icmp4FragNeeded,
  icmp4TimeExceeded,
  icmp6DestUnreachable,
  icmp6Echo,
  icmp6EchoReply,
  icmp6PacketTooBig,
  icmp6ParamProblem,
  icmp6TimeExceeded,
  internetChecksum,
  ip4,
  ip6,
  ipip6,
  ipv4,
  ipv6,
  onesSum,
  pattern,
  reassembleIpv4,
  reassembleIpv6,
  tcp4,
  tcp6,
  udp4,
  udp6,
} from "./packets.js";
import { CHECKSUM_BAD, CHECKSUM_GOOD, requireTshark, tsharkCheck, tsharkPackets, tsharkProblems } from "./tshark.js";

const A4 = "192.0.2.10"; // CE's private side host
const B4 = "198.51.100.20"; // IPv4 server
const CE6 = "2001:db8:12:3400:0:c000:212:34"; // a MAP CE address
const BR6 = "2001:db8:ffff::1";
const ports = { srcPort: 40001, dstPort: 40002 };

const udpSmall = udp4({ src: A4, dst: B4, ...ports, payload: pattern(21) });
const tcpSyn = tcp4({ src: A4, dst: B4, ...ports, seq: 1000, flags: "S", options: { mss: 1460, sackPermitted: true, timestamps: [1, 0], wscale: 7 } });
const udpBig = udp4({ src: A4, dst: B4, ...ports, id: 0x4242, payload: pattern(3000, 7) });
const encapsulated = ipip6({ src: CE6, dst: BR6, inner: udpSmall });

// Every builder at least once, in the shapes the data path sees.
const valid: [string, Uint8Array][] = [
  ["udp4", udpSmall],
  ["udp4 with no checksum", udp4({ src: A4, dst: B4, ...ports, checksum: 0, payload: pattern(4) })],
  ["udp4 whose checksum computes to zero (sent as 0xffff)", udpChecksumZero()],
  ["tcp4 SYN with MSS, SACK, timestamps, window scale", tcpSyn],
  ["tcp4 data", tcp4({ src: A4, dst: B4, ...ports, seq: 1, ack: 2, flags: "PA", payload: pattern(100) })],
  ["tcp4 with options bit flags", tcp4({ src: A4, dst: B4, ...ports, flags: TCP_SYN | TCP_ACK, options: { mss: 1400 } })],
  ["ipv4 with options", ipv4({ src: A4, dst: B4, proto: 253, ipOptions: hex("94040000"), payload: pattern(8) })],
  ["icmp4 echo request", icmp4Echo({ src: A4, dst: B4, id: 0x1234, seq: 1, payload: pattern(56) })],
  ["icmp4 echo reply", icmp4EchoReply({ src: B4, dst: A4, id: 0x1234, seq: 1, payload: pattern(56) })],
  ["icmp4 frag needed quoting udp", icmp4FragNeeded({ src: "192.0.2.1", dst: A4, mtu: 1460, original: udpSmall })],
  ["icmp4 port unreachable quoting 28 bytes", icmp4DestUnreachable({ src: B4, dst: A4, code: 3, original: udpSmall, quoteLength: 28 })],
  ["icmp4 time exceeded quoting tcp", icmp4TimeExceeded({ src: "192.0.2.1", dst: A4, original: tcpSyn })],
  ["icmp4 time exceeded quoting a big packet (cut at 576)", icmp4TimeExceeded({ src: "192.0.2.1", dst: A4, original: udpBig })],
  ["udp6", udp6({ src: CE6, dst: BR6, ...ports, payload: pattern(33) })],
  ["tcp6", tcp6({ src: CE6, dst: BR6, ...ports, flags: "S", options: { mss: 1220 } })],
  ["icmp6 echo request", icmp6Echo({ src: CE6, dst: BR6, id: 9, seq: 3, payload: pattern(32) })],
  ["icmp6 echo reply", icmp6EchoReply({ src: BR6, dst: CE6, id: 9, seq: 3, payload: pattern(32) })],
  ["udp6 with hop-by-hop and destination options", udp6({ src: CE6, dst: BR6, ...ports, extensions: [{ type: "hopByHop" }, { type: "destination", options: hex("1e0100") }] })],
  ["ipv4-in-ipv6 udp", encapsulated],
  ["ipv4-in-ipv6 tcp", ipip6({ src: CE6, dst: BR6, hopLimit: 255, trafficClass: 0xb8, flowLabel: 0x12345, inner: tcpSyn })],
  ["ipv4-in-ipv6 icmp4 error", ipip6({ src: BR6, dst: CE6, inner: icmp4FragNeeded({ src: "192.0.2.1", dst: A4, mtu: 1400, original: udpSmall }) })],
  ["icmp6 packet too big quoting ipv4-in-ipv6", icmp6PacketTooBig({ src: "2001:db8::fe", dst: CE6, mtu: 1280, original: encapsulated })],
  ["icmp6 packet too big quoting a big ipv4-in-ipv6 (cut at 1280)", icmp6PacketTooBig({ src: "2001:db8::fe", dst: CE6, mtu: 1280, original: ipip6({ src: CE6, dst: BR6, inner: fragmentIpv4(udpBig, 1460)[0] }) })],
  ["icmp6 dest unreachable", icmp6DestUnreachable({ src: BR6, dst: CE6, code: 5, original: encapsulated })],
  ["icmp6 time exceeded", icmp6TimeExceeded({ src: BR6, dst: CE6, original: encapsulated })],
  ["icmp6 parameter problem", icmp6ParamProblem({ src: BR6, dst: CE6, code: 0, pointer: 6, original: encapsulated })],
];

/** Pseudo-header and header words sum to 0xffff: 17 + 8 + 8 + dstPort. */
function udpChecksumZero(): Uint8Array {
  return udp4({ src: "0.0.0.0", dst: "0.0.0.0", srcPort: 0, dstPort: 0xffff - 33 });
}

describe("checksum arithmetic", () => {
  test("RFC 1071 §3 example sums to 0xddf2", () => {
    assert.equal(onesSum(hex("0001 f203 f4f5 f6f7")), 0xddf2);
    assert.equal(internetChecksum(hex("0001 f203 f4f5 f6f7")), 0x220d);
  });

  test("IPv4 header matches a known capture (checksum 0xb861)", () => {
    const p = ipv4({ src: "192.168.0.1", dst: "192.168.0.199", proto: PROTO_UDP, df: true, payload: new Uint8Array(0x73 - 20) });
    assert.deepEqual(p.subarray(0, 20), hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"));
  });

  test("address helpers", () => {
    assert.deepEqual(ip4("192.0.2.1"), hex("c0000201"));
    assert.deepEqual(ip6("2001:db8::1"), hex("20010db8000000000000000000000001"));
    assert.throws(() => ip4("192.0.2.256"));
  });
});

test("a missing tshark is a clear error, not a skip", () => {
  assert.throws(() => requireTshark({ PATH: "/nonexistent" }), /tshark not found on PATH: .*apt-get install -y tshark/);
  assert.doesNotThrow(() => requireTshark());
});

describe("builders make well-formed packets", () => {
  for (const [name, p] of valid) {
    test(`${name}: own dissector finds nothing wrong`, () => {
      assert.deepEqual(checkPacket(p), []);
    });
  }

  test("tshark finds nothing wrong with any of them and verifies their checksums", () => {
    const pk = tsharkPackets(valid.map(([, p]) => p));
    pk.forEach((p, i) => {
      assert.deepEqual(tsharkProblems(p), [], `${valid[i][0]}: ${JSON.stringify(p)}`);
      assert.ok(p.checksums.ip.every((s) => s === CHECKSUM_GOOD), `${valid[i][0]} ip ${p.checksums.ip}`);
      assert.ok(p.checksums.icmp.concat(p.checksums.icmpv6, p.checksums.tcp).every((s) => s === CHECKSUM_GOOD), valid[i][0]);
    });
    const byName = new Map(valid.map(([n], i) => [n, pk[i]]));
    assert.deepEqual(byName.get("ipv4-in-ipv6 udp")?.protocols.slice(0, 4), ["raw", "ipv6", "ip", "udp"]);
    assert.deepEqual(byName.get("ipv4-in-ipv6 udp")?.checksums.udp, [CHECKSUM_GOOD]);
    assert.deepEqual(byName.get("icmp6 packet too big quoting ipv4-in-ipv6")?.protocols.slice(0, 6), ["raw", "ipv6", "icmpv6", "ipv6", "ip", "udp"]);
    assert.deepEqual(byName.get("icmp4 frag needed quoting udp")?.checksums.ip, [CHECKSUM_GOOD, CHECKSUM_GOOD]);
    assert.deepEqual(byName.get("udp4 with no checksum")?.checksums.udp, [3]);
  });
});

describe("dissector reads fields back", () => {
  test("a computed UDP checksum of zero is sent as 0xffff (RFC 768)", () => {
    assert.equal(dissect(udpChecksumZero()).udp?.checksum, 0xffff);
  });

  test("udp4", () => {
    const d = dissect(udp4({ src: A4, dst: B4, ttl: 17, tos: 0x10, id: 99, df: true, ...ports, payload: pattern(5) }));
    assert.equal(d.src, A4);
    assert.equal(d.dst, B4);
    assert.equal(d.hopLimit, 17);
    assert.deepEqual([d.ipv4?.tos, d.ipv4?.id, d.ipv4?.df, d.ipv4?.mf], [0x10, 99, true, false]);
    assert.deepEqual([d.udp?.srcPort, d.udp?.dstPort, d.udp?.length], [40001, 40002, 13]);
    assert.deepEqual(d.payload, pattern(5));
  });

  test("tcp options", () => {
    const t = dissect(tcpSyn).tcp;
    assert.deepEqual([t?.flags, t?.mss, t?.wscale, t?.sackPermitted, t?.timestamps, t?.seq], [TCP_SYN, 1460, 7, true, [1, 0], 1000]);
  });

  test("ipv4-in-ipv6", () => {
    const d = dissect(ipip6({ src: CE6, dst: BR6, hopLimit: 9, trafficClass: 0xb8, flowLabel: 0xabcde, inner: udpSmall }));
    assert.deepEqual([d.version, d.src, d.dst, d.protocol, d.hopLimit], [6, CE6, BR6, PROTO_IPIP, 9]);
    assert.deepEqual([d.ipv6?.trafficClass, d.ipv6?.flowLabel], [0xb8, 0xabcde]);
    assert.equal(d.inner?.src, A4);
    assert.equal(d.inner?.udp?.dstPort, 40002);
  });

  test("ICMP errors: MTU and quoted packet", () => {
    const fn = dissect(icmp4FragNeeded({ src: "192.0.2.1", dst: A4, mtu: 1400, original: tcpSyn }));
    assert.deepEqual([fn.icmp?.type, fn.icmp?.code, fn.icmp?.mtu], [3, ICMP4_CODE_FRAG_NEEDED, 1400]);
    assert.equal(fn.icmp?.quoted?.tcp?.srcPort, 40001);
    const ptb = dissect(icmp6PacketTooBig({ src: BR6, dst: CE6, mtu: 1280, original: encapsulated }));
    assert.deepEqual([ptb.protocol, ptb.icmp?.type, ptb.icmp?.mtu], [PROTO_ICMPV6, 2, 1280]);
    assert.equal(ptb.icmp?.quoted?.inner?.udp?.srcPort, 40001);
    const cut = dissect(icmp4TimeExceeded({ src: "192.0.2.1", dst: A4, original: udpBig }));
    assert.equal(cut.payload.length, 576 - 28);
    assert.deepEqual(cut.problems, []);
  });

  test("extension headers are listed in order", () => {
    const d = dissect(udp6({ src: CE6, dst: BR6, ...ports, extensions: [{ type: "hopByHop" }, { type: "routing", routingType: 4, segmentsLeft: 0, data: new Uint8Array(20) }, { type: "destination" }] }));
    assert.deepEqual(d.ipv6?.extensions, [0, 43, 60]);
    assert.equal(d.udp?.dstPort, 40002);
    assert.deepEqual(d.problems, []);
  });
});

describe("fragmentation", () => {
  test("IPv4: fragments fit the MTU, carry multiples of 8, reassemble to the original", () => {
    const frags = fragmentIpv4(udpBig, 1000);
    assert.equal(frags.length, 4);
    for (const f of frags) {
      assert.ok(f.length <= 1000);
      assert.deepEqual(checkPacket(f), []);
    }
    assert.deepEqual(
      frags.map((f) => dissect(f).fragment),
      [0, 976, 1952, 2928].map((offset, i) => ({ offset, more: i < 3, id: 0x4242 })),
    );
    assert.deepEqual(reassembleIpv4(frags.slice().reverse()), udpBig);
    assert.throws(() => reassembleIpv4([frags[0], frags[2], frags[3]]), /gap/);
    assert.throws(() => fragmentIpv4(udp4({ src: A4, dst: B4, ...ports, df: true, payload: pattern(2000) }), 1500), /DF/);
  });

  test("IPv4: options without the copy flag stay in the first fragment", () => {
    // Record Route (7, not copied) and Router Alert (148, copied).
    const p = ipv4({ src: A4, dst: B4, proto: PROTO_UDP, ipOptions: hex("07070400000000 01 94040000"), payload: udp4({ src: A4, dst: B4, ...ports, payload: pattern(200) }).subarray(20) });
    const [first, second] = fragmentIpv4(p, 120);
    assert.deepEqual(dissect(first).ipv4?.options, hex("07070400000000 01 94040000"));
    assert.deepEqual(dissect(second).ipv4?.options, hex("94040000"));
    assert.deepEqual(reassembleIpv4(fragmentIpv4(p, 120)), p);
  });

  test("IPv6: fragments of an IPv4-in-IPv6 packet fit, keep hop-by-hop unfragmentable, reassemble", () => {
    const big = ipip6({ src: BR6, dst: CE6, extensions: [{ type: "hopByHop" }], inner: udpBig });
    const frags = fragmentIpv6(big, 1280, 0xdeadbeef);
    assert.equal(frags.length, 3);
    for (const f of frags) {
      assert.ok(f.length <= 1280);
      assert.deepEqual(checkPacket(f), []);
      const d = dissect(f);
      assert.deepEqual(d.ipv6?.extensions, [0, 44]);
      assert.equal(d.fragment?.id, 0xdeadbeef);
    }
    assert.equal(dissect(frags[0]).protocol, PROTO_IPIP);
    assert.deepEqual(reassembleIpv6(frags.slice().reverse()), big);
  });

  test("IPv6: destination options before a routing header are unfragmentable, after it fragmentable", () => {
    const p = udp6({
      src: CE6,
      dst: BR6,
      ...ports,
      payload: pattern(2000),
      extensions: [{ type: "hopByHop" }, { type: "destination" }, { type: "routing", routingType: 4, data: new Uint8Array(20) }, { type: "destination" }],
    });
    const frags = fragmentIpv6(p, 1280, 1);
    assert.deepEqual(dissect(frags[0]).ipv6?.extensions, [0, 60, 43, 44, 60]);
    assert.deepEqual(dissect(frags[1]).ipv6?.extensions, [0, 60, 43, 44]);
    assert.deepEqual(reassembleIpv6(frags), p);
    assert.deepEqual(checkPacket(reassembleIpv6(frags)), []);
  });

  test("tshark reassembles both and verifies the UDP checksum of the whole datagram", () => {
    const f4 = fragmentIpv4(udpBig, 1500);
    const f6 = fragmentIpv6(ipip6({ src: BR6, dst: CE6, inner: udpBig }), 1280, 7);
    const f6of4 = fragmentIpv4(udpBig, 1460).map((inner) => ipip6({ src: CE6, dst: BR6, inner }));
    const pk = tsharkPackets([...f4, ...f6, ...f6of4]);
    assert.deepEqual(pk.flatMap(tsharkProblems), []);
    const last4 = pk[f4.length - 1];
    const last6 = pk[f4.length + f6.length - 1];
    assert.deepEqual(last4.checksums.udp, [CHECKSUM_GOOD]);
    assert.deepEqual(last6.checksums.udp, [CHECKSUM_GOOD]);
    assert.deepEqual(last6.protocols.slice(0, 5), ["raw", "ipv6", "ipv6.fraghdr", "ip", "udp"]);
    assert.deepEqual(pk[pk.length - 1].checksums.udp, [CHECKSUM_GOOD]);
  });
});

describe("corrupted packets are caught by both checkers", () => {
  const bad: [string, Uint8Array, RegExp, (p: ReturnType<typeof tsharkPackets>[number]) => boolean][] = [
    ["ipv4 header checksum", udp4({ src: A4, dst: B4, ...ports, ipChecksum: 0x1234 }), /^ipv4: bad header checksum 0x1234/, (p) => p.checksums.ip[0] === CHECKSUM_BAD],
    ["udp4 checksum", udp4({ src: A4, dst: B4, ...ports, checksum: 0x1234 }), /^ipv4\/udp: bad checksum/, (p) => p.checksums.udp[0] === CHECKSUM_BAD],
    ["tcp4 checksum", tcp4({ src: A4, dst: B4, ...ports, checksum: 0x1234 }), /^ipv4\/tcp: bad checksum/, (p) => p.checksums.tcp[0] === CHECKSUM_BAD],
    ["icmp4 checksum", icmp4Echo({ src: A4, dst: B4, checksum: 0x1234 }), /^ipv4\/icmp: bad checksum/, (p) => p.checksums.icmp[0] === CHECKSUM_BAD],
    ["icmp6 checksum", icmp6Echo({ src: CE6, dst: BR6, checksum: 0x1234 }), /^ipv6\/icmpv6: bad checksum/, (p) => p.checksums.icmpv6[0] === CHECKSUM_BAD],
    ["tcp6 checksum", tcp6({ src: CE6, dst: BR6, ...ports, checksum: 0x1234 }), /^ipv6\/tcp: bad checksum/, (p) => p.checksums.tcp[0] === CHECKSUM_BAD],
    ["inner ipv4 header of ipv4-in-ipv6", ipip6({ src: CE6, dst: BR6, inner: udp4({ src: A4, dst: B4, ...ports, ipChecksum: 0x1234 }) }), /^ipv6\/ipv4: bad header checksum/, (p) => p.checksums.ip[0] === CHECKSUM_BAD],
    ["inner udp of ipv4-in-ipv6", ipip6({ src: CE6, dst: BR6, inner: udp4({ src: A4, dst: B4, ...ports, checksum: 0x1234 }) }), /^ipv6\/ipv4\/udp: bad checksum/, (p) => p.checksums.udp[0] === CHECKSUM_BAD],
    [
      "quoted ipv4 header in an icmp4 error",
      icmp4FragNeeded({ src: "192.0.2.1", dst: A4, mtu: 1400, original: udp4({ src: A4, dst: B4, ...ports, ipChecksum: 0x1234 }) }),
      /^ipv4\/icmp\/quoted\/ipv4: bad header checksum/,
      (p) => p.checksums.ip[1] === CHECKSUM_BAD,
    ],
    [
      "quoted udp in an icmp6 error",
      icmp6PacketTooBig({ src: BR6, dst: CE6, mtu: 1280, original: ipip6({ src: CE6, dst: BR6, inner: udp4({ src: A4, dst: B4, ...ports, checksum: 0x1234 }) }) }),
      /^ipv6\/icmpv6\/quoted\/ipv6\/ipv4\/udp: bad checksum/,
      (p) => p.checksums.udp[0] === CHECKSUM_BAD,
    ],
    ["udp6 zero checksum", udp6({ src: CE6, dst: BR6, ...ports, checksum: 0 }), /^ipv6\/udp: zero checksum over IPv6/, (p) => p.checksums.udp[0] !== CHECKSUM_GOOD],
  ];

  for (const [name, p, re] of bad) {
    test(`own dissector: ${name}`, () => {
      const problems = checkPacket(p);
      assert.equal(problems.length, 1, problems.join("; "));
      assert.match(problems[0], re);
    });
  }

  test("tshark: every one is reported", () => {
    const pk = tsharkPackets(bad.map(([, p]) => p));
    pk.forEach((p, i) => {
      const [name, , , judged] = bad[i];
      assert.ok(judged(p), `${name}: ${JSON.stringify(p.checksums)}`);
      assert.notDeepEqual(tsharkProblems(p), [], name);
    });
    assert.equal(tsharkCheck(bad.map(([, p]) => p)).length >= bad.length, true);
  });

  test("lengths that disagree are reported", () => {
    assert.match(checkPacket(udp4({ src: A4, dst: B4, ...ports, totalLength: 100 })).join(), /total length 100 but packet has 28 bytes/);
    assert.match(checkPacket(udp4({ src: A4, dst: B4, ...ports, length: 9 })).join(), /udp: length 9 but IP gives 8/);
    assert.match(checkPacket(udp6({ src: CE6, dst: BR6, ...ports, payloadLength: 4 })).join(), /payload length 4/);
    assert.match(checkPacket(ipv6({ src: CE6, dst: BR6, nextHeader: PROTO_UDP, payload: pattern(3) })).join(), /udp: 3 bytes, shorter than the header/);
    assert.match(checkPacket(fragmentIpv4(udpBig, 1000)[0].subarray(0, 900)).join(), /total length/);
    assert.match(checkPacket(new Uint8Array([0x50])).join(), /IP version 5/);
  });
});
