// The DNS proxy's sockets in the Node host (`mape ce --dns-proxy`). The
// protocol is the module's (assembly/dns/proxy.ts): this file only owns the
// sockets and moves bytes through dnsBuffer().
//
//   LAN  udp4 <proxy>:53 ──┐                   ┌── udp6 × dnsSocketCount() (ports the kernel picks at random)
//   LAN  tcp4 <proxy>:53 ──┼── dnsQuery ──▶    │      ──▶ upstream resolver :53
//        (≤ TCP_CLIENTS,   │   dnsAnswer ◀──   ├── tcp6, one connection per query retried over TCP
//         2-byte framing)  │   dnsPoll (timer) ┘
//
// Upstream sockets are ordinary IPv6 sockets bound to the unspecified
// address: the kernel sources them from the CE's WAN address. The MAP
// address is only a route into the TUN, never a local address, so no
// query takes a port of the port set (RFC 7597 §10).

import { createSocket, type Socket as UdpSocket, type RemoteInfo } from "node:dgram";
import { createServer, connect, type Server, type Socket } from "node:net";
import { formatIPv6 } from "./ip.js";

export interface DnsExports {
  memory: WebAssembly.Memory;
  dnsBuffer(): number;
  dnsBufferSize(): number;
  dnsSocketCount(): number;
  dnsProxyAddress(): number;
  dnsProxyPort(): number;
  dnsUpstreamCount(): number;
  dnsUpstream(i: number): number;
  dnsQuery(len: number, addr: number, port: number, conn: number): number;
  dnsAnswer(len: number, upstream: number, socket: number, entry: number): number;
  dnsPoll(): number;
  dnsClientGone(conn: number): void;
  dnsUpstreamFailed(entry: number): void;
  dnsOutKind(): number;
  dnsOutUpstream(): number;
  dnsOutSocket(): number;
  dnsOutEntry(): number;
  dnsOutClientAddr(): number;
  dnsOutClientPort(): number;
  dnsOutConn(): number;
}

/** dnsOutKind() values (assembly/dns/proxy.ts). */
const OUT_UPSTREAM_UDP = 1;
const OUT_UPSTREAM_TCP = 2;
const OUT_CLIENT_UDP = 3;
const OUT_CLIENT_TCP = 4;
/** LAN TCP clients at once; more are refused (dns-tcp-refused). */
export const TCP_CLIENTS = 16;
/** A DNS message's most bytes (TCP framing: 2-byte length). */
const MESSAGE_MAX = 65535;
/** The upstream port (RFC 1035). */
const DNS_PORT = 53;

/** Counters of the host side of the proxy (the module counts the protocol). */
export interface DnsHostCounters {
  /** LAN TCP connections refused: TCP_CLIENTS were open. */
  "dns-tcp-refused": number;
  /** Messages a socket would not send (an error of send or write). */
  "dns-send-errors": number;
  /** Upstream TCP connections that failed or closed before their answer (retried by the module). */
  "dns-upstream-tcp-failed": number;
}

export interface DnsProxyOptions {
  /** Timer of dnsPoll (retransmissions, expiry), ms. Default 250. */
  pollMs?: number;
  /** The upstreams' port (tests: a fake resolver on loopback). Default 53. */
  upstreamPort?: number;
}

/** A Buffer as a plain Uint8Array view (no copy). */
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);

/** A message with its TCP length in front (RFC 1035 §4.2.2). */
function frame(m: Uint8Array): Uint8Array {
  const o = new Uint8Array(m.length + 2);
  o[0] = m.length >> 8;
  o[1] = m.length & 255;
  o.set(m, 2);
  return o;
}

const ipv4Text = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

export class DnsProxy {
  private readonly ex: DnsExports;
  private readonly mem: Uint8Array;
  private readonly buf: number;
  private readonly size: number;
  private lanUdp?: UdpSocket;
  private lanTcp?: Server;
  private readonly upUdp: UdpSocket[] = [];
  private readonly clients: (Socket | undefined)[] = new Array(TCP_CLIENTS).fill(undefined);
  private readonly upTcp = new Set<Socket>();
  private timer?: ReturnType<typeof setInterval>;
  private upPort = DNS_PORT;
  /** The LAN address and port answered on, "a.b.c.d:port". */
  readonly address: string;
  readonly counters: Record<keyof DnsHostCounters, { packets: number; bytes: number }> = {
    "dns-tcp-refused": { packets: 0, bytes: 0 },
    "dns-send-errors": { packets: 0, bytes: 0 },
    "dns-upstream-tcp-failed": { packets: 0, bytes: 0 },
  };

  private constructor(ex: DnsExports) {
    this.ex = ex;
    this.mem = new Uint8Array(ex.memory.buffer);
    this.buf = ex.dnsBuffer();
    this.size = ex.dnsBufferSize();
    this.address = `${ipv4Text(ex.dnsProxyAddress() >>> 0)}:${ex.dnsProxyPort()}`;
  }

  /**
   * Opens the sockets of the proxy the configuration in force asks for
   * (dnsProxyAddress() != 0); undefined when it asks for none. Throws a
   * one-line Error when there is no upstream or a socket cannot be opened.
   */
  static async open(exports: unknown, opts: DnsProxyOptions = {}): Promise<DnsProxy | undefined> {
    const ex = exports as DnsExports;
    if (typeof ex.dnsQuery !== "function") throw new Error("the wasm module has no DNS proxy: rebuild it with 'npm run build:wasm'");
    if ((ex.dnsProxyAddress() >>> 0) === 0) return undefined;
    if (ex.dnsUpstreamCount() === 0) {
      throw new Error("--dns-proxy: no upstream resolver: give --dns-upstream <ipv6> (or a DHCPv6 reply with OPTION_DNS_SERVERS, 23)");
    }
    const p = new DnsProxy(ex);
    p.upPort = opts.upstreamPort ?? DNS_PORT;
    try {
      await p.listen();
    } catch (e) {
      p.close();
      throw new Error(`--dns-proxy: cannot answer on ${p.address}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    p.timer = setInterval(() => p.poll(), opts.pollMs ?? 250);
    p.timer.unref();
    return p;
  }

  private async listen(): Promise<void> {
    const ex = this.ex;
    const host = ipv4Text(ex.dnsProxyAddress() >>> 0);
    const port = ex.dnsProxyPort();
    const lan = createSocket({ type: "udp4" });
    this.lanUdp = lan;
    lan.on("message", (msg, r) => this.fromLanUdp(msg, r));
    lan.on("error", () => void 0);
    await new Promise<void>((resolve, reject) => {
      lan.once("error", reject);
      lan.bind(port, host, () => { lan.off("error", reject); resolve(); });
    });
    for (let i = 0; i < ex.dnsSocketCount(); i++) {
      const s = createSocket({ type: "udp6" });
      s.on("message", (msg, r) => this.fromUpstreamUdp(i, msg, r));
      s.on("error", () => void 0);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(0, "::", () => { s.off("error", reject); resolve(); });
      });
      this.upUdp.push(s);
    }
    const srv = createServer((c) => this.acceptLan(c));
    this.lanTcp = srv;
    srv.on("error", () => void 0);
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(port, host, () => { srv.off("error", reject); resolve(); });
    });
  }

  /** Stops the timer and closes every socket (outstanding queries stay in the module and expire). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lanUdp?.close();
    this.lanUdp = undefined;
    for (const s of this.upUdp.splice(0)) s.close();
    this.lanTcp?.close();
    this.lanTcp = undefined;
    for (let k = 0; k < this.clients.length; k++) this.clients[k]?.destroy();
    for (const s of this.upTcp) s.destroy();
    this.upTcp.clear();
  }

  /** Retransmissions and expiry (the module's clock). */
  poll(): void {
    for (let n = this.ex.dnsPoll(); n > 0; n = this.ex.dnsPoll()) this.send(n, undefined);
  }

  /** The upstream index of a source address, -1 when it is none of them (the module drops it, counted). */
  private upstreamOf(address: string, port: number): number {
    if (port !== this.upPort) return -1;
    const ex = this.ex;
    for (let i = 0; i < ex.dnsUpstreamCount(); i++) if (formatIPv6(this.mem, ex.dnsUpstream(i)) === address) return i;
    return -1;
  }

  private upstreamText(i: number): string {
    return formatIPv6(this.mem, this.ex.dnsUpstream(i));
  }

  /** Copies a message's head into the module buffer; its whole length. */
  private put(msg: Uint8Array): number {
    const n = Math.min(msg.length, this.size);
    this.mem.set(msg.subarray(0, n), this.buf);
    return msg.length;
  }

  /** The n bytes to send: the buffer's head, then the rest of `msg` as it came. */
  private bytes(n: number, msg: Uint8Array | undefined): Uint8Array {
    const out = new Uint8Array(n <= this.size || !msg ? Math.min(n, this.size) : n);
    out.set(this.mem.subarray(this.buf, this.buf + Math.min(n, this.size)));
    if (out.length > this.size && msg) out.set(msg.subarray(this.size, n), this.size);
    return out;
  }

  private fromLanUdp(msg: Buffer, r: RemoteInfo): void {
    if (r.family !== "IPv4" || msg.length > MESSAGE_MAX) return;
    const a = r.address.split(".").map(Number);
    const addr = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
    const n = this.ex.dnsQuery(this.put(u8(msg)), addr, r.port, -1);
    if (n > 0) this.send(n, u8(msg));
  }

  private fromUpstreamUdp(socket: number, msg: Buffer, r: RemoteInfo): void {
    const n = this.ex.dnsAnswer(this.put(u8(msg)), this.upstreamOf(r.address, r.port), socket, -1);
    if (n > 0) this.send(n, u8(msg));
  }

  private acceptLan(c: Socket): void {
    const k = this.clients.indexOf(undefined);
    if (k < 0) {
      this.counters["dns-tcp-refused"].packets++;
      c.destroy();
      return;
    }
    this.clients[k] = c;
    let pending: Buffer = Buffer.alloc(0);
    c.on("data", (d: Buffer) => {
      pending = pending.length ? Buffer.concat([u8(pending), u8(d)]) : d;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const n = this.ex.dnsQuery(this.put(u8(msg)), 0, 0, k);
        if (n > 0) this.send(n, u8(msg));
      }
    });
    c.on("error", () => void 0);
    c.on("close", () => {
      if (this.clients[k] === c) {
        this.clients[k] = undefined;
        this.ex.dnsClientGone(k);
      }
    });
  }

  /** One TCP connection to an upstream for the query of `entry` (framed), read its one answer. */
  private upstreamTcp(upstream: number, entry: number, query: Uint8Array): void {
    const s = connect({ host: this.upstreamText(upstream), port: this.upPort });
    this.upTcp.add(s);
    let answered = false;
    let pending: Buffer = Buffer.alloc(0);
    s.setTimeout(10_000, () => s.destroy());
    s.on("connect", () => {
      s.write(frame(query));
    });
    s.on("data", (d: Buffer) => {
      pending = pending.length ? Buffer.concat([u8(pending), u8(d)]) : d;
      if (pending.length < 2) return;
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) return;
      answered = true;
      const msg = pending.subarray(2, 2 + len);
      s.destroy();
      const n = this.ex.dnsAnswer(this.put(u8(msg)), upstream, -1, entry);
      if (n > 0) this.send(n, u8(msg));
    });
    s.on("error", () => void 0);
    s.on("close", () => {
      this.upTcp.delete(s);
      if (!answered) {
        this.counters["dns-upstream-tcp-failed"].packets++;
        this.ex.dnsUpstreamFailed(entry);
      }
    });
  }

  /** Sends the n bytes the module left in its buffer where dnsOutKind() says. */
  private send(n: number, msg: Uint8Array | undefined): void {
    const ex = this.ex;
    const kind = ex.dnsOutKind();
    const out = this.bytes(n, msg);
    const failed = (e?: Error | null): void => {
      if (e) {
        this.counters["dns-send-errors"].packets++;
        this.counters["dns-send-errors"].bytes += out.length;
      }
    };
    if (kind === OUT_UPSTREAM_UDP) {
      const s = this.upUdp[ex.dnsOutSocket()];
      if (s) s.send(out, this.upPort, this.upstreamText(ex.dnsOutUpstream()), failed);
    } else if (kind === OUT_UPSTREAM_TCP) {
      this.upstreamTcp(ex.dnsOutUpstream(), ex.dnsOutEntry(), out);
    } else if (kind === OUT_CLIENT_UDP) {
      this.lanUdp?.send(out, ex.dnsOutClientPort(), ipv4Text(ex.dnsOutClientAddr() >>> 0), failed);
    } else if (kind === OUT_CLIENT_TCP) {
      const c = this.clients[ex.dnsOutConn()];
      if (!c) return;
      c.write(frame(out), failed);
    }
  }
}
