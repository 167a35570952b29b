// The host's packet device: a Linux TUN behind a tiny interface in the shape
// of wireguard-go's tun.Device (read a batch into slots at an offset, write a
// batch, be told when readable). Platform code stays behind it: the data path
// sees plain IP packets in slots of one buffer (the wasm memory), and nothing
// is allocated per packet. Configuration of the interface (`ip`) lives in
// host/netns.ts.
//
// The native part is native/tun.c, built by `npm run build:native` to
// native/build/Release/tun.node and loaded on first use.
import { closeSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** What native/tun.c exports. */
interface NativeTun {
  open(name: string, flags: number, path?: string): { fd: number; name: string };
  mtu(name: string): number;
  watch(fd: number, cb: (err?: Error) => void): unknown;
  unwatch(handle: unknown): void;
  setRef(handle: unknown, on: boolean): void;
  readBatch(fd: number, buf: Bytes, offsets: Int32Array, capacities: Int32Array, lengths: Int32Array, count: number, flags?: number, stats?: Float64Array): number;
  offload(fd: number, name: string): void;
  /** Drops what a BATCH_URING read left staged for fd (before closing it). */
  forget(fd: number): void;
  writeBatch(fd: number, buf: Bytes, offsets: Int32Array, lengths: Int32Array, count: number, results?: Int32Array, flags?: number): number;
  IFF_MULTI_QUEUE: number;
  IFF_VNET_HDR: number;
  /** Batch flag: the fd has IFF_VNET_HDR (a virtio_net_hdr before every packet). */
  BATCH_VNET: number;
  /** Batch flag (write): consecutive same-flow IPv4 TCP segments go as one GSO packet. */
  BATCH_COALESCE_TCP4: number;
  /** Batch flag (read): offloads negotiated (offload()): TCPv4 super-packets are cut into MSS segments, one per slot. */
  BATCH_TSO: number;
  /** Batch flag (write, with BATCH_VNET): the writes of a batch go through an io_uring, one system call for up to 64. */
  BATCH_URING: number;
  /** Most segments one super-packet yields (the TUN's gso_max_segs); a read batch should have this many slots. */
  TSO_SEGS: number;
}

/** A packet buffer: an ArrayBuffer (e.g. a wasm memory's) or a Uint8Array. */
export type Bytes = ArrayBuffer | Uint8Array;

let native: NativeTun | undefined;

/** Finds native/build/Release/tun.node from wherever this file was bundled or compiled to. */
export function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "native", "build", "Release", "tun.node");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error("cannot find native/build/Release/tun.node: run 'npm run build:native' (Linux only)");
}

function addon(): NativeTun {
  if (!native) {
    if (process.platform !== "linux") throw new Error(`TUN devices are supported on Linux only (this is ${process.platform})`);
    native = createRequire(import.meta.url)(addonPath()) as NativeTun;
  }
  return native;
}

/**
 * Packet slots in one buffer: slot i holds a packet starting at offsets[i]
 * (after any headroom) with room for capacities[i] bytes; lengths[i] is the
 * packet's length (written by readBatch, read by writeBatch). The arrays may
 * be views into the wasm memory itself.
 */
export interface Slots {
  offsets: Int32Array;
  capacities: Int32Array;
  lengths: Int32Array;
}

export interface SlotLayout {
  /** Byte offset of slot 0 in the buffer. */
  base: number;
  /** Bytes from one slot to the next. */
  stride: number;
  /** Bytes left free before each packet, so an outer header can be written in place. */
  headroom: number;
}

/** `count` equal slots: packet i at base + i*stride + headroom, capacity stride - headroom. */
export function makeSlots(count: number, layout: SlotLayout): Slots {
  const { base, stride, headroom } = layout;
  if (!(count > 0 && stride > headroom && headroom >= 0 && base >= 0)) {
    throw new RangeError(`makeSlots: bad layout (count ${count}, base ${base}, stride ${stride}, headroom ${headroom})`);
  }
  const s: Slots = { offsets: new Int32Array(count), capacities: new Int32Array(count), lengths: new Int32Array(count) };
  for (let i = 0; i < count; i++) {
    s.offsets[i] = base + i * stride + headroom;
    s.capacities[i] = stride - headroom;
  }
  return s;
}

export interface OpenOptions {
  /** IFF_MULTI_QUEUE: several fds may attach to the same device (one per queue). */
  multiQueue?: boolean;
  /** The clone device, /dev/net/tun by default (another path is for tests). */
  path?: string;
  /**
   * IFF_VNET_HDR, and on write coalesce consecutive segments of one IPv4 TCP
   * flow into one GSO super-packet (the kernel's GRO, done before the write):
   * the stack behind the TUN then routes, forwards and delivers one skb
   * instead of dozens.
   */
  coalesceTcp?: boolean;
  /**
   * With coalesceTcp: negotiate offloads (TUNSETOFFLOAD: checksum, TSO4;
   * gso_max_segs TSO_SEGS) so the kernel hands over TCPv4 super-packets of
   * up to 64 KiB in one read; readBatch cuts them into MSS segments, one per
   * slot (a batch needs at least tsoSegments slots), and finishes partial
   * checksums. Throws (the errno's code) when the kernel refuses.
   */
  tso?: boolean;
  /**
   * With coalesceTcp (default on): writeBatch submits its writes through a
   * per-thread io_uring, one system call for up to 64 writes instead of one
   * each (plain writev where the kernel has no io_uring). A write the device
   * would block then counts as refused (results[i] = -EAGAIN).
   */
  uring?: boolean;
  /**
   * With coalesceTcp (default on): readBatch submits its reads through the
   * same io_uring, up to 64 reads per system call, each straight into its
   * slot (with tso up to 32 into a staging area, copied or cut into the
   * slots; what does not fit is delivered by the next call); plain readv
   * where the kernel has no io_uring.
   */
  uringRead?: boolean;
}

/** Most segments one TSO super-packet is cut into (a read batch with TSO needs this many slots). */
export function tsoSegments(): number {
  return addon().TSO_SEGS;
}

/** A Linux TUN device (IFF_TUN | IFF_NO_PI, non-blocking): IP packets in and out. */
export class TunDevice {
  /** The interface name the kernel gave (the requested one, or tunN for ""). */
  readonly name: string;
  private fdOrClosed: number;
  private watcher: unknown = undefined;
  /** Flags of the batch calls (BATCH_VNET, BATCH_COALESCE_TCP4). */
  private readonly readFlags: number;
  private readonly writeFlags: number;
  /**
   * Super-packets read with TSO: cut (packets, bytes) and dropped as
   * impossible to cut (packets, bytes), then read system calls made (read,
   * readv, or io_uring_enter for reads), added to by readBatch; [5] the
   * reads still staged after the last readBatch (set): call it again, no
   * readable event announces them.
   */
  readonly tsoStats = new Float64Array(6);

  private constructor(fd: number, name: string, readFlags = 0, writeFlags = 0) {
    this.fdOrClosed = fd;
    this.name = name;
    this.readFlags = readFlags;
    this.writeFlags = writeFlags;
  }

  /** Whether writes coalesce TCP segments into GSO packets (opened with coalesceTcp). */
  get coalescing(): boolean {
    return this.writeFlags !== 0;
  }

  /** Whether reads cut TSO super-packets (opened with tso). */
  get tso(): boolean {
    return (this.readFlags & addon().BATCH_TSO) !== 0;
  }

  /**
   * Creates the TUN `name` (or attaches to the persistent one of that name)
   * in this process's network namespace. Throws an Error whose `code` is the
   * errno name (EPERM: not root / no CAP_NET_ADMIN; ENOENT: no /dev/net/tun;
   * EBUSY: another process has the device; EINVAL: not a TUN or bad name)
   * and whose message says what to do.
   */
  static open(name: string, opts: OpenOptions = {}): TunDevice {
    const n = addon();
    const flags = (opts.multiQueue ? n.IFF_MULTI_QUEUE : 0) | (opts.coalesceTcp ? n.IFF_VNET_HDR : 0);
    const r = n.open(name, flags, opts.path);
    if (!opts.coalesceTcp) return new TunDevice(r.fd, r.name);
    let readFlags = n.BATCH_VNET | (opts.uringRead ?? true ? n.BATCH_URING : 0);
    if (opts.tso) {
      try {
        n.offload(r.fd, r.name);
      } catch (e) {
        closeSync(r.fd);
        throw e;
      }
      readFlags |= n.BATCH_TSO;
    }
    return new TunDevice(r.fd, r.name, readFlags, n.BATCH_VNET | n.BATCH_COALESCE_TCP4 | (opts.uring ?? true ? n.BATCH_URING : 0));
  }

  /** The file descriptor (non-blocking); -1 once closed. */
  get fd(): number {
    return this.fdOrClosed;
  }

  /** The interface MTU, as the kernel has it now. */
  get mtu(): number {
    return addon().mtu(this.name);
  }

  /**
   * Reads up to `count` packets (until the device has none left) into the
   * slots, in ONE native call; returns how many were read and sets
   * slots.lengths[0..n). 0 means nothing is waiting. With tso, a
   * super-packet fills one slot per segment, and no read starts with fewer
   * than tsoSegments() slots left but the first.
   */
  readBatch(buf: Bytes, slots: Slots, count = slots.offsets.length): number {
    return addon().readBatch(this.open_(), buf, slots.offsets, slots.capacities, slots.lengths, count, this.readFlags, this.tsoStats);
  }

  /**
   * Writes packets 0..count of the slots (lengths[i] bytes at offsets[i]) in
   * ONE native call. Returns how many were consumed: fewer than `count` only
   * when the device would block (retry from there). A packet the kernel
   * refuses is skipped; `results[i]`, if given, gets its bytes written or -errno.
   * When coalescing, the headers of the first segment of a merged run are
   * rewritten in place (the slots are the caller's outputs, written once);
   * every packet of the run gets the run's result.
   */
  writeBatch(buf: Bytes, slots: Pick<Slots, "offsets" | "lengths">, count: number, results?: Int32Array): number {
    return addon().writeBatch(this.open_(), buf, slots.offsets, slots.lengths, count, results, this.writeFlags);
  }

  /**
   * Calls `cb` on Node's event loop whenever packets are waiting (drain them
   * with readBatch until it returns less than the batch size). Replaces any
   * previous callback; `undefined` stops watching.
   */
  onReadable(cb: ((err?: Error) => void) | undefined): void {
    const n = addon();
    if (this.watcher !== undefined) {
      n.unwatch(this.watcher);
      this.watcher = undefined;
    }
    if (cb) this.watcher = n.watch(this.open_(), cb);
  }

  /** Whether watching keeps the process alive (like a socket's ref/unref). */
  ref(on = true): void {
    if (this.watcher !== undefined) addon().setRef(this.watcher, on);
  }

  /** Stops watching and closes the fd (a non-persistent device disappears). Idempotent. */
  close(): void {
    if (this.fdOrClosed < 0) return;
    this.onReadable(undefined);
    if (this.readFlags & addon().BATCH_URING) addon().forget(this.fdOrClosed);
    closeSync(this.fdOrClosed);
    this.fdOrClosed = -1;
  }

  private open_(): number {
    if (this.fdOrClosed < 0) throw new Error(`TUN ${this.name} is closed`);
    return this.fdOrClosed;
  }
}
