// tshark as a second, independent judge of packets: our own dissector
// (packets.ts) and Wireshark's must both call every emitted packet well
// formed. tshark is required: CI installs it (.ci/run), and a missing tshark
// is an error, never a silent skip — a skipped check looks like a pass.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_RAW, writePcapFile } from "../../host/pcap.js";

/** Wireshark's checksum status values (epan/proto.h, proto_checksum_*). */
export const CHECKSUM_BAD = 0;
export const CHECKSUM_GOOD = 1;
export const CHECKSUM_UNVERIFIED = 2;
export const CHECKSUM_NOT_PRESENT = 3;
export const CHECKSUM_ILLEGAL = 4;

/** Expert severities as tshark prints them (epan/proto.h PI_*). */
const SEVERITY_NAMES: Record<number, string> = {
  0x00100000: "comment",
  0x00200000: "chat",
  0x00400000: "note",
  0x00600000: "warn",
  0x00800000: "error",
};

export type ChecksumLayer = "ip" | "udp" | "tcp" | "icmp" | "icmpv6";
const LAYERS: ChecksumLayer[] = ["ip", "udp", "tcp", "icmp", "icmpv6"];

export interface TsharkPacket {
  /** Frame number, from 1. */
  number: number;
  /** Protocol stack, outermost first: ["raw", "ipv6", "ip", "udp", "data"]. */
  protocols: string[];
  /**
   * Checksum statuses per layer, in the order the dissector met them (an
   * IPv4-in-IPv6 ICMP error quoting a UDP packet has two "ip" entries): 1 good,
   * 0 bad, 2 unverified, 3 not present (UDP over IPv4 with checksum 0).
   */
  checksums: Record<ChecksumLayer, number[]>;
  /** Every expert item: severity name and message. */
  expert: { severity: string; message: string }[];
  /** Messages of expert items with severity "error" (bad checksums, malformed…). */
  errors: string[];
  /** tshark raised "Malformed Packet". */
  malformed: boolean;
}

const FIELDS = [
  "frame.number",
  "frame.protocols",
  ...LAYERS.map((l) => `${l}.checksum.status`),
  "_ws.expert.severity",
  "_ws.expert.message",
  "_ws.malformed",
];

/** Preferences that make Wireshark verify checksums it skips by default. */
const PREFS = [
  "ip.check_checksum:TRUE",
  "tcp.check_checksum:TRUE",
  "udp.check_checksum:TRUE",
  // ICMP and ICMPv6 checksums are always verified (no preference).
  // Reassemble fragments so the UDP/TCP checksum of a fragmented datagram is checked.
  "ip.defragment:TRUE",
  "ipv6.defragment:TRUE",
  // Sequence analysis adds notes about our synthetic streams ("previous segment not captured").
  "tcp.analyze_sequence_numbers:FALSE",
];

let tsharkChecked = false;

/** Throws a clear error if tshark cannot be run (with `env`, checks that environment, uncached). */
export function requireTshark(env?: NodeJS.ProcessEnv): void {
  if (tsharkChecked && env === undefined) return;
  try {
    execFileSync("tshark", ["--version"], { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "not found on PATH" : String(e);
    throw new Error(
      `tshark ${why}: packet checks need it. Install it with ` +
        `'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections && ` +
        `apt-get install -y tshark' (.ci/run does this).`,
    );
  }
  if (env === undefined) tsharkChecked = true;
}

export interface TsharkOptions {
  /** Protocols not to dissect (`--disable-protocol`), e.g. "dns" when test
   *  payloads on port 53 are not DNS. */
  disable?: string[];
}

/** Dissect every packet of a pcap file with checksum verification on. */
export function tsharkPcap(path: string, opts: TsharkOptions = {}): TsharkPacket[] {
  requireTshark();
  const args = ["-n", "-r", path, "-T", "json"];
  for (const p of PREFS) args.push("-o", p);
  for (const d of opts.disable ?? []) args.push("--disable-protocol", d);
  for (const f of FIELDS) args.push("-e", f);
  let out: string;
  try {
    out = execFileSync("tshark", args, { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message: string };
    throw new Error(`tshark failed on ${path}: ${String(err.stderr ?? err.message).trim()}`);
  }
  const frames = JSON.parse(out) as { _source: { layers: Record<string, string[]> } }[];
  return frames.map((f) => toPacket(f._source.layers));
}

function toPacket(l: Record<string, string[]>): TsharkPacket {
  const nums = (k: string): number[] => (l[k] ?? []).flatMap((v) => v.split(",")).map(Number);
  const checksums = Object.fromEntries(LAYERS.map((k) => [k, nums(`${k}.checksum.status`)])) as Record<ChecksumLayer, number[]>;
  const sev = nums("_ws.expert.severity");
  const msg = l["_ws.expert.message"] ?? [];
  const expert = msg.map((m, i) => ({ severity: SEVERITY_NAMES[sev[i]] ?? String(sev[i]), message: m }));
  return {
    number: Number(l["frame.number"]?.[0] ?? 0),
    protocols: (l["frame.protocols"]?.[0] ?? "").split(":").filter((s) => s !== ""),
    checksums,
    expert,
    errors: expert.filter((e) => e.severity === "error").map((e) => e.message),
    malformed: l["_ws.malformed"] !== undefined,
  };
}

/** Write raw IP packets to a temporary pcap (link type 101) and dissect them. */
export function tsharkPackets(packets: Uint8Array[], opts: TsharkOptions = {}): TsharkPacket[] {
  const dir = mkdtempSync(join(tmpdir(), "mape-tshark-"));
  try {
    const path = join(dir, "packets.pcap");
    writePcapFile(
      path,
      packets.map((data, i) => ({ timestampMs: i, data })),
      { linkType: LINKTYPE_RAW },
    );
    return tsharkPcap(path, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What tshark finds wrong with a packet: bad or illegal checksums, expert
 * errors, malformed. Empty means tshark judges it well formed.
 * Unverified and not-present statuses are not problems (a quoted packet cut
 * short cannot be verified; UDP over IPv4 may carry no checksum).
 */
export function tsharkProblems(p: TsharkPacket): string[] {
  const out: string[] = [];
  for (const layer of LAYERS) {
    p.checksums[layer].forEach((s, i) => {
      if (s === CHECKSUM_BAD || s === CHECKSUM_ILLEGAL) out.push(`${layer}[${i}] checksum ${s === CHECKSUM_BAD ? "bad" : "illegal"}`);
    });
  }
  for (const e of p.errors) out.push(`expert error: ${e}`);
  if (p.malformed) out.push("malformed packet");
  return out;
}

/** Problems per packet, as "#n: …" lines; empty when all are well formed. */
export function tsharkCheck(packets: Uint8Array[], opts: TsharkOptions = {}): string[] {
  return tsharkPackets(packets, opts).flatMap((p) => tsharkProblems(p).map((m) => `#${p.number} [${p.protocols.join(":")}]: ${m}`));
}
