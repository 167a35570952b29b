// The PCP / NAT-PMP socket of `mape ce --pcp <lan-ipv4>`: UDP port 5351 on
// the CE's LAN address (RFC 6887 §8 and RFC 6886 §3 share it). The protocol
// is the module's (assembly/nat/pcp.ts): each datagram goes into the PCP
// buffer, pcpRequest answers in place, the reply goes back to the sender.
// The host only owns the socket. The native router program does the same in
// native/router/pcp.c.

import { createSocket, type Socket } from "node:dgram";
import type { DataPathExports } from "./datapath.js";

/** The module exports this file uses (docs/abi.md, "Inbound ports"). */
export interface PcpExports {
  memory: WebAssembly.Memory;
  pcpBufferPtr(): number;
  pcpBufferSize(): number;
  pcpRequest(len: number, src: number): number;
  inboundJson(): number;
  inboundText(): number;
  textBuffer(): number;
}

export const PCP_PORT = 5351;

/** a.b.c.d → host-order u32 (what pcpRequest takes). */
export function ipv4Number(a: string): number {
  const p = a.split(".").map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** One request from LAN address `src` → the reply bytes (a copy), or null when none is due. */
export function pcpAnswer(ex: PcpExports, request: Uint8Array, src: string): Uint8Array | null {
  const size = ex.pcpBufferSize();
  const len = Math.min(request.length, size);
  new Uint8Array(ex.memory.buffer, ex.pcpBufferPtr(), size).set(request.subarray(0, len));
  const n = ex.pcpRequest(len, ipv4Number(src));
  if (n <= 0) return null;
  return new Uint8Array(ex.memory.buffer, ex.pcpBufferPtr(), n).slice();
}

/** A pinned mapping as `mape stats` shows it (assembly/nat/pcp.ts inboundJson). */
export interface InboundMapping {
  kind: "static" | "pcp" | "nat-pmp";
  protocol: "tcp" | "udp";
  external: number;
  internal: string;
  /** Seconds of lifetime left; null for a static forward. */
  remaining: number | null;
  sessions: number;
}
export interface InboundPorts {
  epoch: number;
  address: string | null;
  mappings: InboundMapping[];
}

/** The inbound ports (static forwards, PCP / NAT-PMP mappings) from the module. */
export function inboundPorts(ex: PcpExports): InboundPorts {
  const n = ex.inboundJson();
  const text = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ex.textBuffer(), n));
  return JSON.parse(text) as InboundPorts;
}

/** The inbound ports as the lines `mape stats` prints (the module renders them for both hosts). */
export function inboundText(ex: PcpExports): string {
  const n = ex.inboundText();
  return new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ex.textBuffer(), n));
}

/** Whether the module has the exports (an older module: no inbound ports). */
export function hasPcp(ex: Partial<DataPathExports> & Partial<PcpExports>): ex is DataPathExports & PcpExports {
  return typeof ex.pcpRequest === "function" && typeof ex.inboundJson === "function";
}

export class PcpServer {
  private constructor(private readonly sock: Socket) {}

  /**
   * Binds UDP lanAddr:5351 (or `port`). `beforeEach` runs before every
   * request (the runner's tick: the module clock is then the request's
   * time, so lifetimes are exact).
   */
  static open(lanAddr: string, ex: PcpExports, beforeEach: () => void, port = PCP_PORT): Promise<PcpServer> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: "udp4", reuseAddr: true });
      const fail = (e: Error): void => reject(new Error(`--pcp ${lanAddr}: cannot bind UDP port ${port}: ${e.message}`));
      sock.once("error", fail);
      sock.on("message", (msg, rinfo) => {
        beforeEach();
        const reply = pcpAnswer(ex, new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo.address);
        if (reply) sock.send(reply, rinfo.port, rinfo.address);
      });
      sock.bind(port, lanAddr, () => {
        sock.off("error", fail);
        sock.on("error", () => {}); // a send error (host gone) is not fatal
        resolve(new PcpServer(sock));
      });
    });
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // closed already
    }
  }
}
