// The component, transpiled once into a temporary directory; each instance()
// is a fresh instance. Shared with the component fuzz test.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export function root(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

export interface Counter { name: string; packets: bigint; bytes: bigint }
export interface Limits { slotCount: number; batchMax: number; inputCapacity: number; sessionCapacity: number; batchBytes: number }
export interface Datapath {
  configure(options: Uint8Array): void;
  init(slots: number, sessions: number, seed: number): void;
  start(keepSessions: boolean): void;
  limits(): Limits;
  processBatch(packets: Uint8Array[], nowMs: number): Uint8Array[];
  counters(): Counter[];
  ceInfo(): {
    ipv4: number; ipv4PrefixLength: number; psid: number; psidLength: number; psidOffset: number;
    portCount: number; mapAddress: Uint8Array;
  } | undefined;
}

/** The component's bytes: build/mape.component.wasm, or built in memory when missing. */
export async function componentBytes(): Promise<Uint8Array> {
  const script = await import(pathToFileURL(join(root(), "scripts", "component.mjs")).href);
  const path = join(root(), "build", "mape.component.wasm");
  return existsSync(path) ? new Uint8Array(readFileSync(path)) : (await script.buildComponent()).component;
}

const work = mkdtempSync(join(tmpdir(), "mape-component-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
let entry: Promise<string> | undefined;
let instances = 0;

async function transpiled(): Promise<string> {
  const script = await import(pathToFileURL(join(root(), "scripts", "component.mjs")).href);
  return script.transpileTo(await componentBytes(), join(work, "component"));
}

/** A fresh instance of the component (a new module URL instantiates the core module anew). */
export async function instance(): Promise<Datapath> {
  entry ??= transpiled();
  const url = `${pathToFileURL(await entry).href}?instance=${++instances}`;
  const mod = await import(url);
  return mod.datapath as Datapath;
}

/** The payload of a ComponentError (a `result` error), or undefined for anything else (a trap). */
export function errorPayload(e: unknown): unknown {
  return e !== null && typeof e === "object" && "payload" in e ? (e as { payload: unknown }).payload : undefined;
}
