import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
  MAX_RECORD_LEN,
  PcapError,
  PcapReader,
  bufferSource,
  encodePcap,
  openPcap,
  parsePcap,
  readPcapFile,
  writePcapFile,
  type PcapWriteOptions,
} from "../../host/pcap.js";
import { concat, ethernet, hex, icmp6Echo, pattern, udp4, udp6 } from "./packets.js";
import { tsharkPcap } from "./tshark.js";

const v4 = udp4({ src: "192.0.2.1", dst: "198.51.100.7", srcPort: 40001, dstPort: 40002, payload: pattern(11) });
const v6 = udp6({ src: "2001:db8::1", dst: "2001:db8::2", srcPort: 40001, dstPort: 40002, payload: pattern(5) });
const echo6 = icmp6Echo({ src: "2001:db8::1", dst: "2001:db8::2", id: 7, seq: 1 });

// Hand-made fixtures, independent of the writer. Little-endian, nanosecond
// magic, raw IP; one record at 1.000000500 s holding 4 bytes, orig_len 9.
const FIXTURE_LE_NS = hex(`
  4d3cb2a1 0200 0400 00000000 00000000 ffff0000 65000000
  01000000 f4010000 04000000 09000000 45000004`);
// Big-endian, microsecond magic, link type 229; one record at 2.25 s of 2 bytes.
const FIXTURE_BE_US = hex(`
  a1b2c3d4 0002 0004 00000000 00000000 0000ffff 000000e5
  00000002 0003d090 00000002 00000002 6000`);

function tmp(): { dir: string; file: (n: string) => string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "mape-pcap-"));
  return { dir, file: (n) => join(dir, n), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A valid file with one given global-header tweak or record tail: written, then cut or patched. */
function fileWith(opts: PcapWriteOptions, records: Uint8Array[]): Uint8Array {
  return encodePcap(
    records.map((data, i) => ({ timestampMs: 1000 * i, data })),
    opts,
  );
}

describe("pcap writer and reader", () => {
  test("round trip: records read back equal, timestamps with fractions", () => {
    const recs = [
      { timestampMs: 1_700_000_000_123.456, data: v4, originalLength: v4.length },
      { timestampMs: 1_700_000_001_000, data: v6, originalLength: v6.length + 100 },
      { timestampMs: 0, data: new Uint8Array(0), originalLength: 0 },
    ];
    const got = parsePcap(encodePcap(recs));
    assert.deepEqual(
      got,
      recs.map((r) => ({ ...r, linkType: LINKTYPE_RAW })),
    );
  });

  test("output is deterministic and starts with the big-endian µs raw-IP header", () => {
    const recs = [{ timestampMs: 5.5, data: v4 }];
    const a = encodePcap(recs);
    assert.deepEqual(a, encodePcap(recs));
    assert.deepEqual(a.subarray(0, 24), hex("a1b2c3d4 0002 0004 00000000 00000000 00040000 00000065"));
    // 5.5 ms = 0 s + 5500 µs.
    assert.deepEqual(a.subarray(24, 40), hex(`00000000 0000157c ${len32(v4.length)} ${len32(v4.length)}`));
  });

  test("timestamps round to the file resolution with carry into seconds", () => {
    const [r] = parsePcap(encodePcap([{ timestampMs: 1999.9999, data: v4 }]));
    assert.equal(r.timestampMs, 2000);
    const [n] = parsePcap(encodePcap([{ timestampMs: 1999.9999994, data: v4 }], { nanosecond: true }));
    assert.ok(Math.abs(n.timestampMs - 1999.999999) < 1e-9, String(n.timestampMs));
  });

  test("hand-made little-endian nanosecond fixture", () => {
    const r = new PcapReader(bufferSource(FIXTURE_LE_NS));
    assert.deepEqual(r.header, { littleEndian: true, nanosecond: true, versionMajor: 2, versionMinor: 4, snaplen: 65535, linkType: LINKTYPE_RAW });
    assert.deepEqual([...r], [{ timestampMs: 1000.0005, linkType: LINKTYPE_RAW, data: hex("45000004"), originalLength: 9 }]);
  });

  test("hand-made big-endian microsecond fixture, link type 229", () => {
    assert.deepEqual(parsePcap(FIXTURE_BE_US), [{ timestampMs: 2250, linkType: LINKTYPE_IPV6, data: hex("6000"), originalLength: 2 }]);
  });

  for (const littleEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      for (const [linkType, data] of [
        [LINKTYPE_RAW, [v4, v6]],
        [LINKTYPE_IPV4, [v4]],
        [LINKTYPE_IPV6, [v6, echo6]],
      ] as const) {
        test(`link type ${linkType}, ${littleEndian ? "little" : "big"}-endian, ${nanosecond ? "ns" : "µs"}`, () => {
          const recs = data.map((d, i) => ({ timestampMs: 1_600_000_000_000 + i + 0.25, data: d }));
          const bytes = encodePcap(recs, { linkType, littleEndian, nanosecond });
          const r = new PcapReader(bufferSource(bytes));
          assert.equal(r.header.littleEndian, littleEndian);
          assert.equal(r.header.nanosecond, nanosecond);
          assert.deepEqual(
            [...r],
            recs.map((x) => ({ ...x, linkType, originalLength: x.data.length })),
          );
        });
      }
    }
  }

  test("Ethernet: header and 802.1Q / QinQ tags stripped, padding trimmed, non-IP skipped and counted", () => {
    const frames = [
      ethernet({ payload: v4 }),
      ethernet({ payload: v6, vlans: [100] }),
      ethernet({ payload: v4, vlans: [10, 20] }),
      ethernet({ etherType: 0x0806, payload: pattern(28) }), // ARP
      ethernet({ etherType: 0x88cc, payload: pattern(30) }), // LLDP
      pattern(10), // runt: shorter than an Ethernet header
      ethernet({ payload: echo6, pad: false }),
    ];
    for (const littleEndian of [false, true]) {
      const bytes = encodePcap(
        frames.map((data, i) => ({ timestampMs: i, data })),
        { linkType: LINKTYPE_ETHERNET, littleEndian },
      );
      const r = new PcapReader(bufferSource(bytes));
      const got = [...r];
      assert.deepEqual(
        got.map((x) => x.data),
        [v4, v6, v4, echo6],
      );
      assert.deepEqual(
        got.map((x) => [x.timestampMs, x.linkType, x.originalLength]),
        [
          [0, 1, frames[0].length],
          [1, 1, frames[1].length],
          [2, 1, frames[2].length],
          [6, 1, frames[6].length],
        ],
      );
      assert.equal(r.skippedNonIp, 2);
      assert.equal(r.skippedShort, 1);
      assert.equal(r.count, 4);
    }
  });

  test("streams a file through its descriptor", () => {
    const t = tmp();
    try {
      const path = t.file("many.pcap");
      const recs = Array.from({ length: 2000 }, (_, i) => ({ timestampMs: i * 0.5, data: i % 2 ? v4 : v6 }));
      writePcapFile(path, recs);
      const r = openPcap(path);
      const first = r.next();
      assert.deepEqual(first?.data, v6);
      assert.equal(r.position, 24 + 16 + v6.length);
      let n = 1;
      for (const rec of r) {
        assert.equal(rec.timestampMs, n * 0.5);
        n++;
      }
      r.close();
      assert.equal(n, 2000);
      assert.equal(readPcapFile(path).length, 2000);
    } finally {
      t.done();
    }
  });

  test("tshark reads what the writer writes, in every variant", () => {
    const t = tmp();
    try {
      for (const littleEndian of [false, true]) {
        for (const nanosecond of [false, true]) {
          const path = t.file(`x-${littleEndian}-${nanosecond}.pcap`);
          writePcapFile(
            path,
            [v4, v6].map((data, i) => ({ timestampMs: i, data })),
            { littleEndian, nanosecond },
          );
          const pk = tsharkPcap(path);
          assert.deepEqual(
            pk.map((p) => p.protocols.slice(0, 3)),
            [
              ["raw", "ip", "udp"],
              ["raw", "ipv6", "udp"],
            ],
          );
        }
      }
      const eth = t.file("eth.pcap");
      writePcapFile(eth, [{ timestampMs: 0, data: ethernet({ payload: v6, vlans: [5] }) }], { linkType: LINKTYPE_ETHERNET });
      assert.deepEqual(tsharkPcap(eth)[0].protocols.slice(0, 4), ["eth", "ethertype", "vlan", "ethertype"]);
    } finally {
      t.done();
    }
  });
});

describe("pcap reader rejects bad input with the offset", () => {
  const good = fileWith({}, [v4, v6]);
  const recordAt = 24;
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /offset 0: truncated global header \(0 of 24/],
    ["wrong magic", concat(hex("deadbeef"), good.subarray(4)), /offset 0: bad magic 0xdeadbeef/],
    ["pcapng", concat(hex("0a0d0d0a"), good.subarray(4)), /offset 0: bad magic .*pcapng/],
    ["truncated global header", good.subarray(0, 10), /offset 10: truncated global header \(10 of 24/],
    ["unsupported version", concat(good.subarray(0, 4), hex("0001 0000"), good.subarray(8)), /offset 4: unsupported version 1\.0/],
    ["unsupported link type", encodeWithLinkType(113), /offset 20: unsupported link type 113/],
    ["truncated record header", good.subarray(0, recordAt + 7), /offset 24: truncated record header \(7 of 16/],
    ["truncated record data", good.subarray(0, recordAt + 16 + 5), /offset 40: truncated record data \(5 of 39/],
    ["record longer than snaplen", withRecordLength(fileWith({ snaplen: 30 }, [pattern(30)]), recordAt, 31), /offset 32: record length 31 exceeds snaplen 30/],
    ["absurd record length", withRecordLength(good, recordAt, 0x7fffffff), /offset 32: record length 2147483647 exceeds maximum 262144/],
    ["original length below captured", withOrigLength(good, recordAt, 3), /offset 36: original length 3 is less than captured length 39/],
    ["second record truncated", good.subarray(0, good.length - 1), new RegExp(`offset ${recordAt + 16 + v4.length + 16}: truncated record data`)],
  ];
  for (const [name, bytes, re] of cases) {
    test(name, () => {
      assert.throws(() => parsePcap(bytes, "bad.pcap"), (e: unknown) => {
        assert.ok(e instanceof PcapError, `not a PcapError: ${String(e)}`);
        assert.match(e.message, /^bad\.pcap: /);
        assert.match(e.message, re);
        return true;
      });
    });
  }

  test("a file that fails opens with the path in the message and is closed", () => {
    const t = tmp();
    try {
      const path = t.file("bad.pcap");
      writeFileSync(path, hex("01020304"));
      assert.throws(() => readPcapFile(path), new RegExp(`${path.replace(/[.]/g, "\\.")}: offset 0: bad magic`));
    } finally {
      t.done();
    }
  });

  test("zero-length records make progress", () => {
    const bytes = fileWith({}, Array.from({ length: 100 }, () => new Uint8Array(0)));
    assert.equal(parsePcap(bytes).length, 100);
  });

  test("snaplen 0 means no limit below the maximum", () => {
    const bytes = fileWith({}, [pattern(1000)]);
    bytes.set(hex("00000000"), 16);
    assert.equal(parsePcap(bytes)[0].data.length, 1000);
    assert.equal(MAX_RECORD_LEN, 262144);
  });

  test("writer refuses what it cannot encode", () => {
    assert.throws(() => encodePcap([{ timestampMs: -1, data: v4 }]), /bad timestamp/);
    assert.throws(() => encodePcap([{ timestampMs: 0, data: pattern(100) }], { snaplen: 50 }), /exceeds snaplen 50/);
    assert.throws(() => encodePcap([], { linkType: 113 }), /unsupported link type 113/);
  });
});

function len32(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function encodeWithLinkType(lt: number): Uint8Array {
  const b = fileWith({}, [v4]);
  b.set(hex(len32(lt)), 20);
  return b;
}

function withRecordLength(file: Uint8Array, at: number, len: number): Uint8Array {
  const b = file.slice();
  b.set(hex(len32(len)), at + 8);
  return b;
}

function withOrigLength(file: Uint8Array, at: number, len: number): Uint8Array {
  const b = file.slice();
  b.set(hex(len32(len)), at + 12);
  return b;
}
