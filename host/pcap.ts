// Classic pcap (libpcap "tcpdump" format, not pcapng) reader and writer.
//
// File layout (all fields in the writer's byte order, told apart by the magic):
//
//   global header, 24 bytes
//   ┌────────────┬───────┬───────┬──────────┬─────────┬──────────┬──────────┐
//   │ magic u32  │ major │ minor │ thiszone │ sigfigs │ snaplen  │ linktype │
//   │            │  u16  │  u16  │   i32    │   u32   │   u32    │   u32    │
//   └────────────┴───────┴───────┴──────────┴─────────┴──────────┴──────────┘
//   record header, 16 bytes, then incl_len bytes of data
//   ┌──────────┬───────────┬──────────┬──────────┐
//   │ ts_sec   │ ts_frac   │ incl_len │ orig_len │   ts_frac: µs, or ns with
//   └──────────┴───────────┴──────────┴──────────┘   the 0xa1b23c4d magic
//
// The file is not trusted (it may come from any capture tool, or be cut
// short): every length is checked against what is left before it is used, so
// the reader always makes progress or throws, and every error names the byte
// offset where the problem is. Records are decoded one at a time from a
// `ByteSource`, so a large capture is streamed from its file descriptor, not
// loaded whole.
//
// Records come out as plain IP packets — what the data path consumes:
// Ethernet frames lose their 14-byte header and any 802.1Q / 802.1ad tags,
// and frames that carry no IP are skipped and counted.

import { closeSync, openSync, readSync, writeFileSync } from "node:fs";

/** LINKTYPE_ETHERNET: IEEE 802.3 frames. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: raw IP, version told by the first nibble. */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_IPV4: raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** LINKTYPE_IPV6: raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Largest record accepted whatever the snaplen says (Wireshark's standard
 *  maximum; enough for offloaded super-packets and jumbo frames). */
export const MAX_RECORD_LEN = 262144;
const DEFAULT_SNAPLEN = 262144;

const ETH_HEADER_LEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q customer tag, 802.1ad service tag, and the old pre-standard QinQ tag. */
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);
const VLAN_TAG_LEN = 4;

const SUPPORTED_LINKTYPES = new Set([LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6]);

/** One packet of a capture, as an IP packet. */
export interface PcapRecord {
  /** Milliseconds since the Unix epoch, fraction included (µs exact; ns rounded
   *  to what a double holds, about 0.2 µs today). */
  timestampMs: number;
  /** Link type of the file the record came from. */
  linkType: number;
  /** The IP packet (Ethernet header and VLAN tags removed, Ethernet padding
   *  beyond the IP length removed). */
  data: Uint8Array;
  /** Length of the packet on the wire (`orig_len`), link header included. */
  originalLength: number;
}

/** The global header of a capture. */
export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}

/** Where the reader gets its bytes: positional reads, short only at the end. */
export interface ByteSource {
  /** Read up to `length` bytes at `position`; fewer only at end of data. */
  read(position: number, length: number): Uint8Array;
  close?(): void;
}

/** Error in a capture file; `offset` is the byte offset of the bad field. */
export class PcapError extends Error {
  constructor(
    readonly source: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${source}: offset ${offset}: ${detail}`);
    this.name = "PcapError";
  }
}

/** A ByteSource over bytes already in memory. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    read(position, length) {
      return bytes.subarray(Math.min(position, bytes.length), Math.min(position + length, bytes.length));
    },
  };
}

/** A ByteSource over an open file descriptor (positional reads, no seeking). */
export function fdSource(fd: number, closeFd = false): ByteSource {
  return {
    read(position, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close() {
      if (closeFd) closeSync(fd);
    },
  };
}

/**
 * Streaming reader. Iterate it (`for (const rec of reader)`) or call `next()`
 * until it returns null. Frames without IP are counted in `skippedNonIp`.
 */
export class PcapReader implements Iterable<PcapRecord> {
  readonly header: PcapHeader;
  /** Ethernet frames skipped: ethertype is neither IPv4 nor IPv6 (ARP, LLDP…). */
  skippedNonIp = 0;
  /** Ethernet frames skipped: too short to hold the Ethernet header and tags. */
  skippedShort = 0;
  /** Records returned so far. */
  count = 0;
  private offset = GLOBAL_HEADER_LEN;
  private done = false;
  private readonly maxRecord: number;

  constructor(
    private readonly src: ByteSource,
    readonly name = "pcap",
  ) {
    const h = src.read(0, GLOBAL_HEADER_LEN);
    if (h.length < 4) throw new PcapError(name, 0, `truncated global header (${h.length} of ${GLOBAL_HEADER_LEN} bytes)`);
    const dv = view(h);
    const be = dv.getUint32(0, false);
    const le = dv.getUint32(0, true);
    let littleEndian: boolean;
    let nanosecond: boolean;
    if (be === MAGIC_MICRO || be === MAGIC_NANO) {
      littleEndian = false;
      nanosecond = be === MAGIC_NANO;
    } else if (le === MAGIC_MICRO || le === MAGIC_NANO) {
      littleEndian = true;
      nanosecond = le === MAGIC_NANO;
    } else {
      const hint = be === 0x0a0d0d0a ? " (this is pcapng, not classic pcap)" : "";
      throw new PcapError(name, 0, `bad magic 0x${be.toString(16).padStart(8, "0")}${hint}`);
    }
    if (h.length < GLOBAL_HEADER_LEN) {
      throw new PcapError(name, h.length, `truncated global header (${h.length} of ${GLOBAL_HEADER_LEN} bytes)`);
    }
    const versionMajor = dv.getUint16(4, littleEndian);
    const versionMinor = dv.getUint16(6, littleEndian);
    if (versionMajor !== 2) throw new PcapError(name, 4, `unsupported version ${versionMajor}.${versionMinor} (want 2.x)`);
    const snaplen = dv.getUint32(16, littleEndian);
    // The upper bits of the link-type field carry FCS information (pcap
    // spec, LinkType and additional information); the type is the low 16.
    const linkType = dv.getUint32(20, littleEndian) & 0xffff;
    if (!SUPPORTED_LINKTYPES.has(linkType)) {
      throw new PcapError(name, 20, `unsupported link type ${linkType} (supported: 1 Ethernet, 101 raw IP, 228 IPv4, 229 IPv6)`);
    }
    this.header = { littleEndian, nanosecond, versionMajor, versionMinor, snaplen, linkType };
    // snaplen 0 is written by some tools to mean "no limit".
    this.maxRecord = snaplen === 0 ? MAX_RECORD_LEN : Math.min(snaplen, MAX_RECORD_LEN);
  }

  /** Next IP record, or null at the end of the file. */
  next(): PcapRecord | null {
    while (!this.done) {
      const at = this.offset;
      const rh = this.src.read(at, RECORD_HEADER_LEN);
      if (rh.length === 0) {
        this.done = true;
        break;
      }
      if (rh.length < RECORD_HEADER_LEN) {
        throw new PcapError(this.name, at, `truncated record header (${rh.length} of ${RECORD_HEADER_LEN} bytes)`);
      }
      const le = this.header.littleEndian;
      const dv = view(rh);
      const sec = dv.getUint32(0, le);
      const frac = dv.getUint32(4, le);
      const inclLen = dv.getUint32(8, le);
      const origLen = dv.getUint32(12, le);
      if (inclLen > this.maxRecord) {
        const limit = inclLen > MAX_RECORD_LEN ? `maximum ${MAX_RECORD_LEN}` : `snaplen ${this.header.snaplen}`;
        throw new PcapError(this.name, at + 8, `record length ${inclLen} exceeds ${limit}`);
      }
      if (origLen < inclLen) {
        throw new PcapError(this.name, at + 12, `original length ${origLen} is less than captured length ${inclLen}`);
      }
      const data = this.src.read(at + RECORD_HEADER_LEN, inclLen);
      if (data.length < inclLen) {
        throw new PcapError(this.name, at + RECORD_HEADER_LEN, `truncated record data (${data.length} of ${inclLen} bytes)`);
      }
      this.offset = at + RECORD_HEADER_LEN + inclLen;
      // µs: sec·10⁶ + frac is an exact integer below 2⁵³, so one rounding.
      // ns: sec·10⁹ is not, so the fraction is added in milliseconds.
      const timestampMs = this.header.nanosecond ? sec * 1000 + frac / 1e6 : (sec * 1e6 + frac) / 1000;
      const ip = this.linkPayload(data);
      if (ip === null) continue;
      this.count++;
      return { timestampMs, linkType: this.header.linkType, data: ip, originalLength: origLen };
    }
    return null;
  }

  /** Byte offset of the next record header. */
  get position(): number {
    return this.offset;
  }

  close(): void {
    this.done = true;
    this.src.close?.();
  }

  *[Symbol.iterator](): Iterator<PcapRecord> {
    for (let r = this.next(); r !== null; r = this.next()) yield r;
  }

  private linkPayload(frame: Uint8Array): Uint8Array | null {
    if (this.header.linkType !== LINKTYPE_ETHERNET) return frame;
    if (frame.length < ETH_HEADER_LEN) {
      this.skippedShort++;
      return null;
    }
    let typeAt = 12;
    let type = (frame[typeAt] << 8) | frame[typeAt + 1];
    // Each tag is bounded by the frame length, so this ends.
    while (VLAN_ETHERTYPES.has(type)) {
      typeAt += VLAN_TAG_LEN;
      if (typeAt + 2 > frame.length) {
        this.skippedShort++;
        return null;
      }
      type = (frame[typeAt] << 8) | frame[typeAt + 1];
    }
    if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) {
      this.skippedNonIp++;
      return null;
    }
    return trimPadding(frame.subarray(typeAt + 2), type);
  }
}

/** Minimum Ethernet frames are padded to 60 bytes: drop bytes past the IP length. */
function trimPadding(ip: Uint8Array, ethertype: number): Uint8Array {
  let len = -1;
  if (ethertype === ETHERTYPE_IPV4 && ip.length >= 4) {
    len = (ip[2] << 8) | ip[3];
  } else if (ethertype === ETHERTYPE_IPV6 && ip.length >= 6) {
    const payload = (ip[4] << 8) | ip[5];
    // Payload length 0 is a jumbogram (RFC 2675) or TSO: keep everything.
    if (payload !== 0) len = 40 + payload;
  }
  return len > 0 && len < ip.length ? ip.subarray(0, len) : ip;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Read all records from bytes in memory. */
export function parsePcap(bytes: Uint8Array, name = "pcap"): PcapRecord[] {
  return [...new PcapReader(bufferSource(bytes), name)];
}

/** Open a capture file for streaming; close the reader when done. */
export function openPcap(path: string): PcapReader {
  const fd = openSync(path, "r");
  try {
    return new PcapReader(fdSource(fd, true), path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Read all records of a capture file (streamed, then collected). */
export function readPcapFile(path: string): PcapRecord[] {
  const r = openPcap(path);
  try {
    return [...r];
  } finally {
    r.close();
  }
}

// ── writer ──────────────────────────────────────────────────────────────

/** A record to write: the bytes are written as given (for link type 1, a
 *  whole Ethernet frame). */
export interface PcapWriteRecord {
  timestampMs: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  originalLength?: number;
}

export interface PcapWriteOptions {
  /** Default 101 (raw IP). */
  linkType?: number;
  /** Default false: big-endian (network order), which reads the same everywhere. */
  littleEndian?: boolean;
  /** Default false: microsecond timestamps (magic 0xa1b2c3d4). */
  nanosecond?: boolean;
  /** Default 262144. */
  snaplen?: number;
}

/** Encode a whole capture. Same input, same bytes. */
export function encodePcap(records: Iterable<PcapWriteRecord>, opts: PcapWriteOptions = {}): Uint8Array {
  const w = new PcapWriter(opts);
  for (const r of records) w.add(r);
  return w.bytes();
}

/** Write a whole capture to a file. */
export function writePcapFile(path: string, records: Iterable<PcapWriteRecord>, opts: PcapWriteOptions = {}): void {
  writeFileSync(path, encodePcap(records, opts));
}

/** Incremental writer collecting chunks in memory. */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly snaplen: number;
  readonly linkType: number;

  constructor(opts: PcapWriteOptions = {}) {
    this.le = opts.littleEndian ?? false;
    this.nano = opts.nanosecond ?? false;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.linkType = opts.linkType ?? LINKTYPE_RAW;
    if (!SUPPORTED_LINKTYPES.has(this.linkType)) throw new Error(`pcap writer: unsupported link type ${this.linkType}`);
    if (!Number.isInteger(this.snaplen) || this.snaplen <= 0 || this.snaplen > MAX_RECORD_LEN) {
      throw new Error(`pcap writer: snaplen ${this.snaplen} out of range 1..${MAX_RECORD_LEN}`);
    }
    const h = new Uint8Array(GLOBAL_HEADER_LEN);
    const dv = view(h);
    dv.setUint32(0, this.nano ? MAGIC_NANO : MAGIC_MICRO, this.le);
    dv.setUint16(4, 2, this.le);
    dv.setUint16(6, 4, this.le);
    // thiszone and sigfigs stay 0 (the spec says writers set them to 0).
    dv.setUint32(16, this.snaplen, this.le);
    dv.setUint32(20, this.linkType, this.le);
    this.chunks.push(h);
  }

  add(r: PcapWriteRecord): void {
    if (!Number.isFinite(r.timestampMs) || r.timestampMs < 0) throw new Error(`pcap writer: bad timestamp ${r.timestampMs}`);
    if (r.data.length > this.snaplen) throw new Error(`pcap writer: record of ${r.data.length} bytes exceeds snaplen ${this.snaplen}`);
    const orig = r.originalLength ?? r.data.length;
    if (orig < r.data.length || orig > 0xffffffff) throw new Error(`pcap writer: original length ${orig} < captured ${r.data.length}`);
    const unit = this.nano ? 1e9 : 1e6;
    // Round to the file's resolution once, on the whole value, so that a
    // carry into the seconds cannot produce frac == unit.
    const ticks = Math.round(r.timestampMs * (unit / 1000));
    const sec = Math.floor(ticks / unit);
    const frac = ticks - sec * unit;
    if (sec > 0xffffffff) throw new Error(`pcap writer: timestamp ${r.timestampMs} beyond 32-bit seconds`);
    const h = new Uint8Array(RECORD_HEADER_LEN);
    const dv = view(h);
    dv.setUint32(0, sec, this.le);
    dv.setUint32(4, frac, this.le);
    dv.setUint32(8, r.data.length, this.le);
    dv.setUint32(12, orig, this.le);
    this.chunks.push(h, Uint8Array.from(r.data));
  }

  bytes(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
