// The `mape` command line.
import { instantiate } from "./module.js";

export async function main(argv: string[]): Promise<number> {
  const ex = instantiate().exports as { abiVersion(): number };
  console.log(`mape: module ABI ${ex.abiVersion()} (${argv.join(" ")})`);
  return 0;
}
