// `mape ce --state <file>`: the NAT state image on disk (the format and all
// its checks are the module's, assembly/nat/image.ts; this file only moves
// bytes between the module's image buffer and a file).
//
//   save:  imageExportBegin(now) → chunks → <file>.tmp (fsync) → rename over <file>
//          (atomic: a reader, or a crash, sees the old image or the new one, never half)
//   load:  read <file> whole → check pass → apply pass (each chunk by chunk
//          through the image buffer) → one line for the log
//
// A missing file is a first start: nothing is said. An unreadable file, or
// an image the module refuses, gives one line and the CE starts empty.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The module's state-image exports (docs/abi.md §4). */
export interface ImageExports {
  memory: WebAssembly.Memory;
  imageBuffer(): number;
  imageBufferSize(): number;
  imageVersion(): number;
  imageErrorText(): number;
  imageErrorTextLength(): number;
  imageExportBegin(nowMs: number): number;
  imageExportChunk(): number;
  imageImportBegin(size: number, apply: number, nowMs: number): number;
  imageImportChunk(len: number): number;
  imageImportEnd(): number;
}

/** The module's error code and its one-line text. */
export class ImageError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function errorText(ex: ImageExports, code: number): ImageError {
  const mem = new Uint8Array(ex.memory.buffer, ex.imageErrorText(), ex.imageErrorTextLength());
  return new ImageError(code, Buffer.from(mem).toString("latin1") || `error ${code}`);
}

/** The image of the NAT state now (throws ImageError when there is no CE). */
export function exportImage(ex: ImageExports, nowMs: number): Uint8Array {
  const total = ex.imageExportBegin(nowMs);
  if (total < 0) throw errorText(ex, total);
  const out = new Uint8Array(total);
  let at = 0;
  for (;;) {
    const n = ex.imageExportChunk();
    if (n < 0) throw errorText(ex, n);
    if (n === 0) break;
    if (at + n > total) throw new ImageError(0, `the module wrote more than the ${total} bytes it announced`);
    out.set(new Uint8Array(ex.memory.buffer, ex.imageBuffer(), n), at);
    at += n;
  }
  if (at !== total) throw new ImageError(0, `the module wrote ${at} of the ${total} bytes it announced`);
  return out;
}

/** One pass (0 check, 1 apply) of `bytes` through the module; its result. */
function importPass(ex: ImageExports, bytes: Uint8Array, apply: number, nowMs: number): number {
  const b = ex.imageImportBegin(bytes.length, apply, nowMs);
  if (b < 0) return b;
  const cap = ex.imageBufferSize();
  const view = new Uint8Array(ex.memory.buffer, ex.imageBuffer(), cap);
  for (let at = 0; at < bytes.length; at += cap) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + cap));
    view.set(piece);
    const r = ex.imageImportChunk(piece.length);
    if (r < 0) return r;
  }
  return ex.imageImportEnd();
}

/**
 * Imports an image: the check pass, then (only when it passed) the apply
 * pass. Returns the number of sessions restored; throws ImageError with
 * the module's one-line reason when it refuses (the NAT is then empty of
 * anything from the image: the check pass changes nothing, a failed apply
 * pass leaves it empty).
 */
export function importImage(ex: ImageExports, bytes: Uint8Array, nowMs: number): number {
  const c = importPass(ex, bytes, 0, nowMs);
  if (c < 0) throw errorText(ex, c);
  const r = importPass(ex, bytes, 1, nowMs);
  if (r < 0) throw errorText(ex, r);
  return r;
}

/**
 * Writes `bytes` to `path` atomically: a temporary file beside it, fsync,
 * rename over the old one. On any error the old file stays as it was and
 * the temporary file is removed; the error is thrown.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w", 0o600);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never made
    }
    throw e;
  }
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.message.includes(err.code) ? "" : ` (${err.message})`}` : err.message ?? String(e);
}

/** The outcome of saveState: what to log (undefined = nothing worth a line). */
export interface SaveResult {
  ok: boolean;
  sessions: number;
  bytes: number;
  line: string;
}

/** Saves the NAT state to `path`; never throws (a failure is a line to log; the old file stays). */
export function saveState(ex: ImageExports, path: string, nowMs: number): SaveResult {
  let image: Uint8Array;
  try {
    image = exportImage(ex, nowMs);
  } catch (e) {
    return { ok: false, sessions: 0, bytes: 0, line: `state not saved to ${path}: ${reason(e)}` };
  }
  const sessions = image.length >= 52 ? new DataView(image.buffer, image.byteOffset).getUint32(48, true) : 0;
  try {
    writeFileAtomic(path, image);
  } catch (e) {
    return { ok: false, sessions, bytes: image.length, line: `state not saved to ${path}: ${reason(e)}` };
  }
  return { ok: true, sessions, bytes: image.length, line: `saved ${sessions} session${sessions === 1 ? "" : "s"} to ${path}` };
}

/**
 * Loads the state image at `path` into the NAT (call after configure and
 * start, before traffic). Returns the one line to log, or undefined when
 * the file does not exist (a first start: nothing to say).
 */
export function loadState(ex: ImageExports, path: string, nowMs: number): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return `state ${path} not read, starting empty: ${reason(e)}`;
  }
  try {
    const n = importImage(ex, bytes, nowMs);
    return `restored ${n} session${n === 1 ? "" : "s"} from ${path}`;
  } catch (e) {
    return `state ${path} refused, starting empty: ${(e as Error).message}`;
  }
}

/** Parses --state-interval: whole seconds ≥ 0 (0 = only at exit). Default 60. */
export function parseStateInterval(v: string): number | undefined {
  if (!/^\d{1,7}$/.test(v)) return undefined;
  return Number(v);
}

export const DEFAULT_STATE_INTERVAL_S = 60;
