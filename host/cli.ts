// The `mape` command line: one table of subcommands, each a module under
// host/commands/ exporting run(argv), a one-line summary and its usage text.
// Errors end as one line on stderr, "mape: …": exit 1 for a configuration
// the host or module refused, 2 for a bad command line.

import { ConfigError } from "./config/errors.js";
import * as calc from "./commands/calc.js";
import * as pcap from "./commands/pcap.js";
import * as ce from "./commands/ce.js";
import * as br from "./commands/br.js";
import * as stats from "./commands/stats.js";
import * as lab from "./commands/lab.js";
import { UsageError } from "./commands/usage.js";

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): number | Promise<number>;
}

/** Every subcommand. Add new ones here (pcap, ce, br, lab, stats …). */
export const COMMANDS: Readonly<Record<string, Command>> = {
  calc,
  pcap,
  ce,
  br,
  stats,
  lab,
};

function help(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    "usage: mape <command> [options]",
    "",
    "commands:",
    ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n].summary}`),
    "",
    "'mape <command> --help' shows a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const which = name === "help" ? rest[0] : undefined;
    if (which !== undefined && COMMANDS[which]) console.log(COMMANDS[which].usage);
    else console.log(help());
    return name === undefined ? 2 : 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    console.error(`mape: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`mape: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError) {
      console.error(`mape: ${e.message}`);
      return 2;
    }
    // Anything else is a bug or an environment problem (no wasm file): still one line.
    console.error(`mape: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.MAPE_DEBUG && e instanceof Error) console.error(e.stack);
    return 1;
  }
}
