// The router program (build/router/<target>/mape) for the tests: where each
// target's binary is, how to run it here (the non-x86 ones under
// qemu-user-static), and how to hand it a case's configuration.
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { readConfigSource } from "../../host/config/source.js";
import type { Mode } from "../../host/config/options.js";
import { repoRoot } from "../e2e/files.js";

export interface Target {
  name: string;
  /** qemu-user binary for a foreign architecture; undefined: runs natively. */
  qemu?: string;
}

export const TARGETS: readonly Target[] = [
  { name: "x86_64" },
  { name: "mipsel", qemu: "qemu-mipsel-static" },
  { name: "mips", qemu: "qemu-mips-static" },
  { name: "aarch64", qemu: "qemu-aarch64-static" },
];

export function targetNamed(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no router target ${name}`);
  return t;
}

export function exePath(t: Target): string {
  return join(repoRoot(), "build", "router", t.name, "mape");
}

const has = new Map<string, boolean>();
function haveCommand(cmd: string): boolean {
  if (!has.has(cmd)) has.set(cmd, spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0);
  return has.get(cmd)!;
}

/** Why the target cannot run here (for skipUnlessCI), or undefined. */
export function missing(t: Target): string | undefined {
  if (process.arch !== "x64") return `the router tests run the x86_64 build natively and the others under qemu-user on x86_64 (this is ${process.arch})`;
  if (!existsSync(exePath(t))) return `${exePath(t)} is not built: run npm run build`;
  if (t.qemu && !haveCommand(t.qemu)) return `no ${t.qemu}: install qemu-user-static`;
  return undefined;
}

/** [program, ...args] that runs the target's mape here. */
export function command(t: Target): string[] {
  return t.qemu ? [t.qemu, exePath(t)] : [exePath(t)];
}

let configArgs: boolean | undefined;
/**
 * Whether the module parses configuration itself (CONFIG-ABI's
 * configFromArgs): then the router program takes the same flags as Node.
 */
export function moduleParsesConfig(): boolean {
  if (configArgs === undefined) {
    const m = new WebAssembly.Module(new Uint8Array(readFileSync(join(repoRoot(), "build", "mape.wasm"))));
    configArgs = WebAssembly.Module.exports(m).some((e) => e.name === "configFromArgs");
  }
  return configArgs;
}

/**
 * The configuration arguments for the router program: the Node flags as
 * they are when the module parses them; with a module that cannot yet, the
 * option bytes the Node host encodes for those flags, as --dhcpv6 <hex>.
 */
export function configArgv(argv: string[], mode: Mode): string[] {
  if (moduleParsesConfig()) return argv;
  const src = readConfigSource(argv, mode);
  return ["--dhcpv6", Buffer.from(src.encoded.bytes).toString("hex"), ...src.rest];
}
