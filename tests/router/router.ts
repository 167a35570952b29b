// The router program (build/router/<target>/mape) for the tests: where each
// target's binary is, how to run it here (the non-x86 ones under
// qemu-user-static). It takes the Node CLI's flags: the module parses them.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
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
