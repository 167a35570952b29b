// The NAT state image (assembly/nat/image.ts): export → empty table →
// import gives the same look-ups, external ports, TCP states, classes and
// remaining idle times (rebased to the new module clock); images that are
// truncated, bit-flipped, of another version or of another BMR are refused
// with nothing imported; an apply pass that fails half-way leaves the NAT
// empty. Sessions are made through the NAT's own per-packet calls.
import { W, MODE_CE } from "./map_helpers";
import { ip4 } from "./builders";
import { init, start } from "../../assembly/datapath/process";
import {
  natOutbound, natInbound, natFindSession, natFindMapping, natSessionExtPort, natSessionTcpState, natSessionClass,
  natSessionRemaining, natSessionFlags, natMappingIntAddr, natMappingIntPort, natCounter, natExpire, natReset,
  natSetFiltering, natSetSessionSpare, natSessionSpare, natTimeout, NAT_C_ACTIVE_SESSIONS, NAT_C_ACTIVE_MAPPINGS,
  NAT_TCP, NAT_UDP, NAT_ICMP, NAT_FILTER_EIF, NAT_CLASS_TCP_EST, NAT_CLASS_TCP_TRANS, NAT_CLASS_UDP,
  NAT_CLASS_UDP_DNS, NAT_CLASS_ICMP, NAT_SF_INBOUND,
} from "../../assembly/nat/nat";
import { TCP_SYN, TCP_ACK, TCP_FIN, TCP_ESTABLISHED, TCP_OUT_SYN, TCP_FIN_OUT } from "../../assembly/nat/tcp";
import {
  imageBuffer, imageBufferSize, imageExportBegin, imageExportChunk, imageImportBegin, imageImportChunk,
  imageImportEnd, imageErrorTextLength, imageCrc32, IMAGE_E_TRUNCATED, IMAGE_E_CHECKSUM, IMAGE_E_VERSION,
  IMAGE_E_BMR, IMAGE_E_MAGIC, IMAGE_E_LENGTH, IMAGE_E_APPLY, IMAGE_E_SEQUENCE, IMAGE_E_NOT_READY,
} from "../../assembly/nat/image";

const BR_ADDR = "2403:9200:fff0::2";
const LAN = ip4(192, 168, 1, 10);
const LAN2 = ip4(192, 168, 1, 11);
const R1 = ip4(198, 51, 100, 7);
const R2 = ip4(198, 51, 100, 8);

/** The JANOG CE with end-user prefix `prefix`. */
function writeCe(prefix: string = "2403:9200:1234::"): i32 {
  W.reset();
  const c = W.open(94);
  const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 12, 0).close(r);
  W.br(BR_ADDR).close(c);
  W.iaPrefix(prefix, 48);
  const l = W.localOpen();
  W.setting(1, 1, MODE_CE);
  W.close(l);
  return W.configure();
}

/** A fresh CE (new NAT tables, new hash key, module clock unset): what a restarted program has. */
function restartCe(prefix: string = "2403:9200:1234::", sessions: i32 = 1024): void {
  expect<i32>(writeCe(prefix)).toBe(0);
  expect<i32>(init(64, sessions, 99)).toBe(0);
  expect<i32>(start(0)).toBe(0);
}

// The image is kept here between export and import (small tables only).
const SAVED_CAP: i32 = 16384;
const saved = memory.data(SAVED_CAP, 16);
let savedLen: i32 = 0;

/** Exports at nowMs into `saved`; returns the total (checked against the chunks). */
function save(nowMs: f64): i32 {
  const total = imageExportBegin(nowMs);
  expect<i32>(total).toBeGreaterThan(67);
  savedLen = 0;
  let n = imageExportChunk();
  while (n > 0) {
    expect<i32>(savedLen + n).toBeLessThanOrEqual(SAVED_CAP);
    memory.copy(saved + savedLen, imageBuffer(), n);
    savedLen += n;
    n = imageExportChunk();
  }
  expect<i32>(n).toBe(0);
  expect<i32>(savedLen).toBe(total);
  return total;
}

/** One pass over saved[0, len) in pieces of `piece` bytes; returns imageImportEnd's result. */
function pass(len: i32, apply: i32, nowMs: f64, piece: i32): i32 {
  const b = imageImportBegin(len, apply, nowMs);
  if (b < 0) return b;
  for (let at = 0; at < len; at += piece) {
    const n = min(piece, len - at);
    memory.copy(imageBuffer(), saved + at, n);
    const r = imageImportChunk(n);
    if (r < 0) return r;
  }
  return imageImportEnd();
}

/** Check pass then apply pass, as the hosts do; the result of the first that fails, or the count. */
function restore(len: i32, nowMs: f64, piece: i32 = 1 << 30): i32 {
  const c = pass(len, 0, nowMs, min(piece, imageBufferSize()));
  if (c < 0) return c;
  return pass(len, 1, nowMs, min(piece, imageBufferSize()));
}

function recrc(): void {
  store<u32>(saved + savedLen - 4, imageCrc32(0, saved, savedLen - 4));
}

// What each session looked like before the restart.
class Seen {
  proto: i32 = 0; intAddr: u32 = 0; intPort: i32 = 0; remAddr: u32 = 0; remPort: i32 = 0;
  ext: i32 = 0; tcp: i32 = 0; cls: i32 = 0; flags: i32 = 0; spare: i32 = 0; remaining: u64 = 0;
}
const seen: Seen[] = [];

function note(s: i32, proto: i32, intAddr: u32, intPort: i32, remAddr: u32, remPort: i32, now: u64): void {
  expect<i32>(s).toBeGreaterThan(0);
  const x = new Seen();
  x.proto = proto; x.intAddr = intAddr; x.intPort = intPort; x.remAddr = remAddr; x.remPort = remPort;
  x.ext = natSessionExtPort(s); x.tcp = natSessionTcpState(s); x.cls = natSessionClass(s);
  x.flags = natSessionFlags(s); x.spare = natSessionSpare(s); x.remaining = natSessionRemaining(s, now);
  seen.push(x);
}

/** A mixed table at module time ~`t` s: TCP established / half-closed / opening, UDP, DNS, ICMP, inbound. */
function populate(): u64 {
  seen.length = 0;
  const t0: u64 = 5000;
  // TCP: established (SYN out, SYN-ACK in, ACK out), half-closed, and one still opening.
  natOutbound(NAT_TCP, LAN, 40000, R1, 443, TCP_SYN, t0);
  let s = natOutbound(NAT_TCP, LAN, 40000, R1, 443, TCP_SYN, t0);
  const e1 = natSessionExtPort(s);
  natInbound(NAT_TCP, e1, R1, 443, TCP_SYN | TCP_ACK, t0 + 10);
  natOutbound(NAT_TCP, LAN, 40000, R1, 443, TCP_ACK, t0 + 20);
  natOutbound(NAT_TCP, LAN, 40001, R2, 80, TCP_SYN, t0 + 30);
  s = natFindSession(NAT_TCP, LAN, 40001, R2, 80);
  natInbound(NAT_TCP, natSessionExtPort(s), R2, 80, TCP_SYN | TCP_ACK, t0 + 40);
  natOutbound(NAT_TCP, LAN, 40001, R2, 80, TCP_FIN | TCP_ACK, t0 + 50);
  natOutbound(NAT_TCP, LAN2, 40002, R2, 8080, TCP_SYN, t0 + 60);
  // UDP: one mapping with two remotes (endpoint-independent), DNS, and a port kept (4660 is in the set? any).
  natOutbound(NAT_UDP, LAN, 5000, R1, 4000, 0, t0 + 70);
  natOutbound(NAT_UDP, LAN, 5000, R2, 4001, 0, t0 + 1000);
  natOutbound(NAT_UDP, LAN2, 5353, R1, 53, 0, t0 + 1100);
  natOutbound(NAT_ICMP, LAN, 77, R1, 0, 0, t0 + 1200);
  // Inbound-created (EIF): a new remote on the UDP mapping.
  natSetFiltering(NAT_FILTER_EIF);
  const ue = natSessionExtPort(natFindSession(NAT_UDP, LAN, 5000, R1, 4000));
  expect<i32>(natInbound(NAT_UDP, ue, ip4(192, 0, 2, 99), 9999, 0, t0 + 1300)).toBeGreaterThan(0);
  natSetSessionSpare(natFindSession(NAT_UDP, LAN, 5000, R1, 4000), 0xbeef);
  const now: u64 = t0 + 2000;
  note(natFindSession(NAT_TCP, LAN, 40000, R1, 443), NAT_TCP, LAN, 40000, R1, 443, now);
  note(natFindSession(NAT_TCP, LAN, 40001, R2, 80), NAT_TCP, LAN, 40001, R2, 80, now);
  note(natFindSession(NAT_TCP, LAN2, 40002, R2, 8080), NAT_TCP, LAN2, 40002, R2, 8080, now);
  note(natFindSession(NAT_UDP, LAN, 5000, R1, 4000), NAT_UDP, LAN, 5000, R1, 4000, now);
  note(natFindSession(NAT_UDP, LAN, 5000, R2, 4001), NAT_UDP, LAN, 5000, R2, 4001, now);
  note(natFindSession(NAT_UDP, LAN2, 5353, R1, 53), NAT_UDP, LAN2, 5353, R1, 53, now);
  note(natFindSession(NAT_ICMP, LAN, 77, R1, 0), NAT_ICMP, LAN, 77, R1, 0, now);
  note(natFindSession(NAT_UDP, LAN, 5000, ip4(192, 0, 2, 99), 9999), NAT_UDP, LAN, 5000, ip4(192, 0, 2, 99), 9999, now);
  return now;
}

/** Every noted session is back as it was, its remaining time counted from `now`. */
function expectRestored(now: u64): void {
  expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(<u64>seen.length);
  for (let i = 0; i < seen.length; i++) {
    const x = seen[i];
    const s = natFindSession(x.proto, x.intAddr, x.intPort, x.remAddr, x.remPort);
    expect<i32>(s).toBeGreaterThan(0);
    expect<i32>(natSessionExtPort(s)).toBe(x.ext);
    expect<i32>(natSessionTcpState(s)).toBe(x.tcp);
    expect<i32>(natSessionClass(s)).toBe(x.cls);
    expect<i32>(natSessionFlags(s)).toBe(x.flags);
    expect<i32>(natSessionSpare(s)).toBe(x.spare);
    expect<u64>(natSessionRemaining(s, now)).toBe(x.remaining);
    const m = natFindMapping(x.proto, x.ext);
    expect<u32>(natMappingIntAddr(m)).toBe(x.intAddr);
    expect<i32>(natMappingIntPort(m)).toBe(x.intPort);
  }
}

describe("state image round trip", () => {
  it("export, restart, import: same look-ups, external ports, TCP states, classes, remaining times", () => {
    restartCe();
    const now = populate();
    expect<i32>(seen[0].tcp).toBe(TCP_ESTABLISHED);
    expect<i32>(seen[0].cls).toBe(NAT_CLASS_TCP_EST);
    expect<i32>(seen[1].tcp).toBe(TCP_FIN_OUT);
    expect<i32>(seen[2].tcp).toBe(TCP_OUT_SYN);
    expect<i32>(seen[2].cls).toBe(NAT_CLASS_TCP_TRANS);
    expect<i32>(seen[5].cls).toBe(NAT_CLASS_UDP_DNS);
    expect<i32>(seen[6].cls).toBe(NAT_CLASS_ICMP);
    expect<i32>(seen[7].flags).toBe(NAT_SF_INBOUND);
    expect<u64>(seen[3].remaining).toBe(<u64>natTimeout(NAT_CLASS_UDP) * 1000 - 1930);
    save(<f64>now);
    // The new program: another hash key, its clock starting near 0 (Node's performance.now()).
    restartCe();
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    expect<i32>(restore(savedLen, 120)).toBe(seen.length);
    expectRestored(120);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(6);
    // Traffic goes on: the TCP connection stays established, the UDP flow keeps its port.
    const s = natOutbound(NAT_TCP, LAN, 40000, R1, 443, TCP_ACK, 200);
    expect<i32>(natSessionExtPort(s)).toBe(seen[0].ext);
    expect<i32>(natSessionTcpState(s)).toBe(TCP_ESTABLISHED);
    expect<i32>(natInbound(NAT_UDP, seen[3].ext, R1, 4000, 0, 300)).toBe(natFindSession(NAT_UDP, LAN, 5000, R1, 4000));
  });

  it("times out restored sessions when their remaining time is up (clock rebased, even from near 0)", () => {
    restartCe();
    const now = populate();
    save(<f64>now);
    restartCe();
    expect<i32>(restore(savedLen, 50)).toBe(seen.length);
    const dns = seen[5];
    // One ms before its deadline the DNS session lives; at the deadline it goes.
    expect<i32>(natExpire(50 + dns.remaining - 1, 64)).toBe(0);
    expect<i32>(natExpire(50 + dns.remaining, 64)).toBe(1);
    expect<i32>(natFindSession(NAT_UDP, dns.intAddr, dns.intPort, dns.remAddr, dns.remPort)).toBe(0);
  });

  it("reads pieces of any size (records cut across chunks)", () => {
    restartCe();
    const now = populate();
    save(<f64>now);
    restartCe();
    expect<i32>(restore(savedLen, 1000, 7)).toBe(seen.length);
    expectRestored(1000);
  });

  it("exports again what it imported (the same records, in the same order)", () => {
    restartCe();
    const now = populate();
    save(<f64>now);
    const first = savedLen;
    const copy = memory.data(16384, 16);
    memory.copy(copy, saved, first);
    restartCe();
    expect<i32>(restore(savedLen, 400)).toBe(seen.length);
    save(400);
    expect<i32>(savedLen).toBe(first);
    // Bytes 56..63 are the export clock, the last 4 the CRC: everything else is equal.
    expect<i32>(memory.compare(copy, saved, 56)).toBe(0);
    expect<i32>(memory.compare(copy + 64, saved + 64, first - 68)).toBe(0);
  });

  it("an empty table makes a 68-byte image that restores nothing", () => {
    restartCe();
    expect<i32>(save(1000)).toBe(68);
    restartCe();
    expect<i32>(restore(savedLen, 10)).toBe(0);
  });

  it("exports a table larger than the buffer in several chunks", () => {
    restartCe("2403:9200:1234::", 16384);
    // 15 UDP ports × 900 remotes: 13,500 sessions, 270 KB of image.
    let made = 0;
    for (let p = 0; p < 15; p++) {
      for (let r = 0; r < 900; r++) {
        if (natOutbound(NAT_UDP, LAN + <u32>(p % 3), 6000 + p, R1 + <u32>r, 7000, 0, 1000) > 0) made++;
      }
    }
    expect<i32>(made).toBe(13500);
    const total = imageExportBegin(2000);
    expect<i32>(total).toBe(64 + 16 * 15 + 20 * 13500 + 4);
    let chunks = 0, sum = 0;
    let crc: u32 = 0;
    let n = imageExportChunk();
    let last: u32 = 0;
    while (n > 0) {
      chunks++;
      sum += n;
      if (sum == total) {
        crc = imageCrc32(crc, imageBuffer(), n - 4);
        last = load<u32>(imageBuffer() + n - 4);
      } else crc = imageCrc32(crc, imageBuffer(), n);
      n = imageExportChunk();
    }
    expect<i32>(chunks).toBeGreaterThan(1);
    expect<i32>(sum).toBe(total);
    expect<u32>(last).toBe(crc);
  });
});

describe("state image refusals: one error, nothing imported", () => {
  it("refuses a truncated image (one byte short, or no header)", () => {
    restartCe();
    save(<f64>populate());
    restartCe();
    expect<i32>(restore(savedLen - 1, 10)).toBe(IMAGE_E_TRUNCATED);
    expect<i32>(imageErrorTextLength()).toBeGreaterThan(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    expect<i32>(restore(40, 10)).toBe(IMAGE_E_TRUNCATED);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });

  it("refuses an image with trailing bytes", () => {
    restartCe();
    save(<f64>populate());
    restartCe();
    store<u8>(saved + savedLen, 0);
    expect<i32>(restore(savedLen + 1, 10)).toBe(IMAGE_E_LENGTH);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });

  it("refuses a bit flip anywhere in the records or the trailer", () => {
    restartCe();
    save(<f64>populate());
    restartCe();
    for (let at = 64; at < savedLen; at += 13) {
      store<u8>(saved + at, load<u8>(saved + at) ^ 0x10);
      expect<i32>(restore(savedLen, 10)).toBe(IMAGE_E_CHECKSUM);
      expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
      store<u8>(saved + at, load<u8>(saved + at) ^ 0x10);
    }
    expect<i32>(restore(savedLen, 10)).toBe(seen.length);
  });

  it("refuses another format version and a file that is no image", () => {
    restartCe();
    save(<f64>populate());
    restartCe();
    store<u16>(saved + 8, 2);
    recrc();
    expect<i32>(restore(savedLen, 10)).toBe(IMAGE_E_VERSION);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    store<u8>(saved, 0x7b); // "{"
    expect<i32>(restore(savedLen, 10)).toBe(IMAGE_E_MAGIC);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });

  it("refuses an image of another BMR (another end-user prefix: another PSID)", () => {
    restartCe();
    save(<f64>populate());
    restartCe("2403:9200:1235::");
    expect<i32>(restore(savedLen, 10)).toBe(IMAGE_E_BMR);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });

  it("leaves the NAT empty when the apply pass fails half-way (a duplicate mapping with a good CRC)", () => {
    restartCe();
    save(<f64>populate());
    restartCe();
    // The first mapping record and its session written again over the last mapping (ICMP, 1 session):
    // same size, a valid image to the check pass, a duplicate to the NAT.
    expect<u8>(load<u8>(saved + savedLen - 4 - 36)).toBe(0x4d);
    // Find the first mapping with exactly one session.
    let at = 64;
    while (load<u32>(saved + at + 12) != 1) at += 16 + 20 * <i32>load<u32>(saved + at + 12);
    memory.copy(saved + savedLen - 4 - 36, saved + at, 36);
    recrc();
    expect<i32>(pass(savedLen, 0, 10, 1 << 20)).toBe(<i32>seen.length);
    expect<i32>(pass(savedLen, 1, 10, 1 << 20)).toBe(IMAGE_E_APPLY);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_MAPPINGS)).toBe(0);
  });

  it("keeps the order: no apply pass without a good check pass; an abandoned apply pass empties the NAT", () => {
    restartCe();
    save(<f64>populate());
    restartCe();
    expect<i32>(imageImportBegin(savedLen, 1, 10)).toBe(IMAGE_E_SEQUENCE);
    expect<i32>(pass(savedLen, 0, 10, 1 << 20)).toBe(<i32>seen.length);
    expect<i32>(imageImportBegin(savedLen, 1, 10)).toBe(0);
    memory.copy(imageBuffer(), saved, savedLen - 30);
    expect<i32>(imageImportChunk(savedLen - 30)).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBeGreaterThan(0);
    // The host gives up (a read error): the next Begin empties what the pass had made.
    expect<i32>(imageImportBegin(savedLen, 0, 10)).toBe(0);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
    expect<i32>(imageImportEnd()).toBe(IMAGE_E_TRUNCATED);
    // …and so does an End that comes short.
    expect<i32>(pass(savedLen, 0, 10, 1 << 20)).toBe(<i32>seen.length);
    expect<i32>(imageImportBegin(savedLen, 1, 10)).toBe(0);
    memory.copy(imageBuffer(), saved, savedLen - 30);
    expect<i32>(imageImportChunk(savedLen - 30)).toBe(0);
    expect<i32>(imageImportEnd()).toBe(IMAGE_E_TRUNCATED);
    expect<u64>(natCounter(NAT_C_ACTIVE_SESSIONS)).toBe(0);
  });

  it("refuses to run without a CE", () => {
    natReset();
    W.reset();
    const c = W.open(94);
    const r = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
    W.portParams(4, 12, 0).close(r);
    W.br(BR_ADDR).close(c);
    const l = W.localOpen();
    W.setting(1, 1, 2); // BR
    W.close(l);
    expect<i32>(W.configure()).toBe(0);
    expect<i32>(init(64, 1024, 1)).toBe(0);
    expect<i32>(start(0)).toBe(0);
    expect<i32>(imageExportBegin(1)).toBe(IMAGE_E_NOT_READY);
    expect<i32>(imageImportBegin(100, 0, 1)).toBe(IMAGE_E_NOT_READY);
  });
});
