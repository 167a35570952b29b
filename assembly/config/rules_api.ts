// Exports of the rule-format parser (config/rules.ts; docs/abi.md §1b,
// docs/config.md "Rule files"). Plain i32 values and pointers only.
import { RULES_TEXT_SIZE, rulesParse, rulesTextPtr, rulesPrefixPtr, rulesFormatResult, rulesSeenCount,
  rulesInstalledCount, rulesMatchedIndex, rulesSource, rulesLegacy, rulesMeshFlag, rulesTtlValue,
  rulesTokenOff, rulesTokenLen, rulesMethodMask, rulesOrderMask, rulesFixLenValue, rulesVersionValue,
  rulesErrorPtr, rulesErrorLen } from "./rules";

/** Input area for rulesToConfig: the rule file's bytes (UTF-8). */
export function rulesText(): usize { return rulesTextPtr(); }
/** Its size in bytes. */
export function rulesTextSize(): i32 { return RULES_TEXT_SIZE; }
/** 16 bytes where the host writes the delegated prefix before rulesToConfig. */
export function rulesPrefix(): usize { return rulesPrefixPtr(); }
/**
 * Parses `len` bytes of rulesText() as `format` (0 detect, 1 hb46pp,
 * 2 v6plus, 3 ocn) for `mode` (0 calc, 1 CE, 2 BR); `prefixLen` -1 when no
 * delegated prefix is known. Writes one S46_CONT_MAPE at configBuffer() and
 * returns its length, or a negative error (text in rulesErrorText()).
 */
export function rulesToConfig(len: i32, format: i32, mode: i32, prefixLen: i32): i32 {
  return rulesParse(len, format, mode, prefixLen);
}
/** The format read (1 hb46pp, 2 v6plus, 3 ocn), 0 before a parse got that far. */
export function rulesFormat(): i32 { return rulesFormatResult(); }
/** Rules in the file. */
export function rulesSeen(): i32 { return rulesSeenCount(); }
/** Rules written into the container (at most the rule table's size). */
export function rulesInstalled(): i32 { return rulesInstalledCount(); }
/** Index in the file of the rule the delegated prefix matched (the BMR), -1 for none. */
export function rulesMatched(): i32 { return rulesMatchedIndex(); }
/** Index in the file of written rule i (the module's rule i), -1 out of range. */
export function rulesSourceIndex(i: i32): i32 { return rulesSource(i); }
/** 1 when the format means the legacy (draft-03) interface id. */
export function rulesLegacyIid(): i32 { return rulesLegacy(); }
/** 1 when the rules were written as FMRs (mesh). */
export function rulesMesh(): i32 { return rulesMeshFlag(); }
/** HB46PP ttl in seconds, -1 when absent. */
export function rulesTtl(): i32 { return rulesTtlValue(); }
/** Offset in rulesText() and length of a well-formed HB46PP token (length 0: none). */
export function rulesTokenOffset(): i32 { return rulesTokenOff(); }
export function rulesTokenLength(): i32 { return rulesTokenLen(); }
/** Methods the HB46PP answer carries (bits: 1 map_e, 2 map_t, 4 lw4o6, 8 dslite, 16 464xlat, 32 ipip). */
export function rulesMethods(): i32 { return rulesMethodMask(); }
/** The methods its order lists (same bits), -1 when it has no order. */
export function rulesOrder(): i32 { return rulesOrderMask(); }
/** v6plus ipv6_fixlen, -1 when absent. */
export function rulesFixLen(): i32 { return rulesFixLenValue(); }
/** HB46PP map_e.version (0 draft-03, 1 RFC 7597), -1 for the other formats. */
export function rulesVersion(): i32 { return rulesVersionValue(); }
/** The last error as one line "<field>: <what is wrong>" (UTF-8). */
export function rulesErrorText(): usize { return rulesErrorPtr(); }
export function rulesErrorTextLength(): i32 { return rulesErrorLen(); }

import { provisionDelaySeconds } from "../provision/timers";
/**
 * HB46PP: seconds to wait before the next attempt after `outcome` (0 ok,
 * 1 NXDOMAIN/NODATA, 2 other DNS failure, 3 no HTTP answer, 4 refused or
 * bad answer), `ttl` the answer's ttl (-1 none), `random` 0..65535 from
 * the host. -1 for an unknown outcome or a random out of range.
 */
export function provisionDelay(outcome: i32, ttl: i32, random: i32): i32 {
  return provisionDelaySeconds(outcome, ttl, random);
}
