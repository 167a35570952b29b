// The module's one text buffer (docs/abi.md §1a): the host writes the
// argument records of configFromArgs, or a rule file for rulesToConfig,
// here; calcText renders its output here. One region, so a 256 KiB input
// area is not paid for twice in the fixed memory.
import { TEXT_BUFFER_SIZE } from "../config";

const textRegion: usize = memory.data(TEXT_BUFFER_SIZE, 16);

/** Start of the text buffer. */
export function textBufferPtr(): usize { return textRegion; }
