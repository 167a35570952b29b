// Exports of the configuration text parsers (docs/abi.md §1a): both hosts
// write their command line into the text buffer and get option bytes back,
// so each format is parsed once, here.
import { textBufferPtr, TEXT_BUFFER_SIZE, fileFlagsPtr, configFromRecords, argUsed } from "./source";
import { errorText, errorFieldLength } from "./model";
import { renderCalc } from "./calc";

/** Input area for configFromArgs (argument records), output area of calcText. */
export function textBuffer(): usize { return textBufferPtr(); }
/** Its size in bytes. */
export function textBufferSize(): i32 { return TEXT_BUFFER_SIZE; }
/** NUL-separated, double-NUL-terminated list of the flags whose value names a file. */
export function configFileFlags(): usize { return fileFlagsPtr(); }
/**
 * Parses the `len` bytes of argument records for `mode` (0 calc, 1 CE, 2 BR)
 * and writes the option bytes into the configuration buffer: their length, or
 * -1 on error (configErrorText says why).
 */
export function configFromArgs(len: i32, mode: i32): i32 { return configFromRecords(len, mode); }
/** 1 if argument i of the last configFromArgs was a configuration flag or its value. */
export function configArgUsed(i: i32): i32 { return argUsed(i); }
/** The last error (of configFromArgs, configure or calcText): "<field>: <what is wrong>", UTF-8. */
export function configErrorText(): usize { return errorText.base; }
export function configErrorTextLength(): i32 { return errorText.len; }
/** Bytes of the field at the start of configErrorText (ours; the hosts split the line with it). */
export function configErrorFieldLength(): i32 { return errorFieldLength; }
/** After a successful configure: `mape calc` output (0 human, 1 json, 2 mapcalc) in the text buffer; its length or -1. */
export function calcText(format: i32): i32 { return renderCalc(format); }
import { nameStart, nameLength } from "./model";
import { sourceLabel } from "./source";
/** Where the last configFromArgs configuration came from ("--config x.json", "built-in default" …), UTF-8. */
export function configLabel(): usize { return nameStart(sourceLabel()); }
export function configLabelLength(): i32 { return nameLength(sourceLabel()); }
