// `mape pcap`: runs a capture through the data path, offline. IPv4 packets
// are LAN-side input (internet-side with --br-mode), IPv6 packets WAN-side;
// each record's timestamp is the module's clock, so timeouts play out in
// capture time. Every emitted packet is written, in order, as raw IP (link
// type 101) with the timestamp of the input that caused it; a counter
// summary follows on stdout.
//
// Batching must not change results: consecutive records with the same
// timestamp go in one process() call (up to batchMax); a new timestamp
// starts a new call, so the clock each packet sees is its own and every
// output's cause has that timestamp.

import { writeFileSync } from "node:fs";
import { Engine } from "../engine.js";
import { DataPath } from "../datapath.js";
import { readConfigSource } from "../config/source.js";
import { LINKTYPE_RAW, PcapError, PcapWriter, openPcap, type PcapReader } from "../pcap.js";
import { UsageError } from "./usage.js";

export const summary = "run a pcap through the CE (or BR) data path and write what comes out";

export const usage = `usage:
  mape pcap (--config <file.json> | --dhcpv6 <hex> | --uci <file> --interface <name>
             | --rule <v6>/<n>,<v4>/<n>,<ea>[,<offset>] --br <ipv6>)
            [--prefix <end-user-ipv6-prefix>/<len>] [--legacy-iid]
            --in <in.pcap> --out <out.pcap> [--json] [--br-mode]
            [--sessions <n>] [--seed <n>]

Reads a classic pcap (link types 1 Ethernet, 101 raw IP, 228 IPv4, 229 IPv6):
IPv4 packets enter from the LAN (--br-mode: from the IPv4 internet), IPv6
packets from the IPv6 network; the record timestamps drive every timeout.
Writes every packet the data path emits, in order, to --out as raw IP
(link type 101), each with the timestamp of the packet that caused it.
Prints the non-zero counters (docs/counters.md), one per line:
  <name> <packets> packets <bytes> bytes
--json prints {"counters": {"<name>": packets, "<name>-bytes": bytes, ...}}.
--seed fixes the NAT's random port choice (default 1: runs are repeatable).`;

interface Args {
  input?: string;
  output?: string;
  json: boolean;
  br: boolean;
  sessions: number;
  seed: number;
}

function parseArgs(argv: string[]): Args | undefined {
  const a: Args = { json: false, br: false, sessions: 0, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) throw new UsageError(`pcap: ${flag} needs a value`);
      return argv[++i];
    };
    const integer = (max: number): number => {
      const v = value();
      if (!/^[0-9]+$/.test(v) || Number(v) > max) throw new UsageError(`pcap: ${flag}: '${v}' is not an integer from 0 to ${max}`);
      return Number(v);
    };
    switch (flag) {
      case "--in": a.input = value(); break;
      case "--out": a.output = value(); break;
      case "--json": a.json = true; break;
      case "--br-mode": a.br = true; break;
      case "--sessions": a.sessions = integer(1 << 24); break;
      case "--seed": a.seed = integer(0xffffffff); break;
      case "--help": case "-h": return undefined;
      default: throw new UsageError(`pcap: unknown argument '${arg}' (see 'mape pcap --help')`);
    }
  }
  if (a.input === undefined) throw new UsageError("pcap: --in <file.pcap> is required");
  if (a.output === undefined) throw new UsageError("pcap: --out <file.pcap> is required");
  return a;
}

/** Runs the records of `reader` through `dp`; returns the output capture. */
export function runCapture(dp: DataPath, reader: Iterable<{ timestampMs: number; data: Uint8Array }>): PcapWriter {
  const out = new PcapWriter({ linkType: LINKTYPE_RAW });
  const max = dp.batchMax;
  let n = 0;
  let ts = 0;
  const flush = (): void => {
    const m = dp.process(n, ts);
    for (let j = 0; j < m; j++) out.add({ timestampMs: ts, data: dp.output(j) });
    n = 0;
  };
  for (const rec of reader) {
    if (n > 0 && (rec.timestampMs !== ts || n === max)) flush();
    // The module clock moves at most clockMaxStep per call: walk a gap in
    // the capture as a ticking host would, so timeouts play out exactly.
    if (n === 0) dp.tickTo(rec.timestampMs);
    ts = rec.timestampMs;
    dp.setInput(n++, rec.data);
  }
  if (n > 0) flush();
  return out;
}

export function run(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    return 0;
  }
  const br = argv.includes("--br-mode");
  const source = readConfigSource(argv, br ? "br" : "ce");
  const args = parseArgs(source.rest);
  if (!args) {
    console.log(usage);
    return 0;
  }
  const engine = Engine.load();
  engine.configure(source.encoded);
  const dp = new DataPath(engine, { sessions: args.sessions, seed: args.seed });
  dp.start();

  let reader: PcapReader | undefined;
  let out: PcapWriter;
  try {
    reader = openPcap(args.input!);
    out = runCapture(dp, reader);
  } catch (e) {
    if (e instanceof PcapError || (e as NodeJS.ErrnoException).code !== undefined) {
      throw new Error(`pcap: --in: ${pcapMessage(e, args.input!)}`);
    }
    throw e;
  } finally {
    reader?.close();
  }
  writeFileSync(args.output!, out.bytes());

  const counters = dp.counters();
  if (args.json) {
    const o: Record<string, number> = {};
    for (const [name, v] of Object.entries(counters)) {
      if (v.packets === 0 && v.bytes === 0) continue;
      o[name] = v.packets;
      o[`${name}-bytes`] = v.bytes;
    }
    process.stdout.write(`${JSON.stringify({ counters: o })}\n`);
  } else {
    const rows = Object.entries(counters).filter(([, v]) => v.packets !== 0 || v.bytes !== 0);
    const w = Math.max(0, ...rows.map(([k]) => k.length));
    const pw = Math.max(0, ...rows.map(([, v]) => String(v.packets).length));
    for (const [name, v] of rows) process.stdout.write(`${name.padEnd(w)} ${String(v.packets).padStart(pw)} packets ${v.bytes} bytes\n`);
  }
  return 0;
}

function pcapMessage(e: unknown, file: string): string {
  if (e instanceof PcapError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err.code) return `cannot read ${file}: ${err.code}`;
  return `${file}: ${err.message ?? String(e)}`;
}
