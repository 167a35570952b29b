// Exports of the MAP rule engine and provisioning (docs/abi.md §1). Every
// export takes and returns plain i32/u32 values or pointers; indexes and
// ports are checked here, so the host cannot read outside a table.
//
// The getters describe the *configured* configuration (the last configure
// that succeeded), which the data path takes on at its next start()
// (provision.ts: staging → configured → live). Before the data path runs
// the two are the same.
import { CONFIG_BUFFER_SIZE } from "../config";
import { portSetIndex, portSetRangeCount, portSetRangeFirst, portSetRangeLast, psidOfPort } from "./portset";
import { Rule, ruleMapIPv6, ruleContains6, mask32, ipv6Hi, ipv6Lo } from "./rule";
import { lpmIPv4, lpmIPv6 } from "./lpm";
import { moduleErrorText } from "../config/encode";
import { MODE_BR } from "../settings";
import { provision, configBufferPtr, lastErrorOffset, lastErrorOption, provisionLiveHeld,
  configured as domain, configuredPortSet as cePortSet, configuredSettings,
  configuredRuleAt as ruleAt, configuredBrPtr as brAddressPtr,
  configuredMapAddressPtr as ceMapAddressPtr } from "./provision";

const scratchArea: usize = memory.data(64, 16);
const ruleIPv6PrefixOffset: usize = offsetof<Rule>("prefix6Net0");


@inline function validRule(i: i32): bool { return i >= 0 && i < domain.ruleCount; }
@inline function validPort(p: i32): bool { return p >= 0 && p <= 0xffff; }

// ---- Configuration ----

/** Pointer to the configuration buffer. */
export function configBuffer(): usize { return configBufferPtr(); }
/** Its size in bytes. */
export function configBufferSize(): i32 { return CONFIG_BUFFER_SIZE; }
/** Parses, validates and installs `len` bytes of options; 0 = ok, else an error code. */
export function configure(len: i32): i32 {
  const e = provision(len);
  // The error line in the user's terms (assembly/config/encode.ts).
  if (e != 0) moduleErrorText(len, e, lastErrorOffset(), lastErrorOption());
  return e;
}
/** Byte offset of the bad field of the last failed configure. */
export function configErrorOffset(): i32 { return lastErrorOffset(); }
/** Option code the bad field belongs to (0 = none). */
export function configErrorOption(): i32 { return lastErrorOption(); }

// ---- The CE's Basic Mapping Rule results ----

export function ceIPv4(): u32 { return domain.bmr >= 0 ? domain.ceIPv4 : 0; }
export function ceIPv4PrefixLength(): i32 { return domain.bmr >= 0 ? domain.ceIPv4Len : 0; }
export function cePsid(): i32 { return domain.bmr >= 0 ? domain.cePsid : 0; }
export function cePsidLength(): i32 { return domain.bmr >= 0 ? domain.ceK : 0; }
export function cePsidOffset(): i32 { return domain.bmr >= 0 ? domain.ceA : 0; }
export function cePortCount(): i32 { return domain.bmr >= 0 ? cePortSet.count : 0; }
export function cePortRangeCount(): i32 { return domain.bmr >= 0 ? portSetRangeCount(cePortSet) : 0; }
export function cePortRangeFirst(i: i32): i32 {
  if (domain.bmr < 0 || i < 0 || i >= portSetRangeCount(cePortSet)) return -1;
  return portSetRangeFirst(cePortSet, i);
}
export function cePortRangeLast(i: i32): i32 {
  if (domain.bmr < 0 || i < 0 || i >= portSetRangeCount(cePortSet)) return -1;
  return portSetRangeLast(cePortSet, i);
}
/** Pointer to the CE's 16-byte MAP IPv6 address (all zero without a BMR). */
export function ceIPv6Address(): usize { return ceMapAddressPtr(); }
/** Index of the BMR in the rule table, -1 if none. */
export function bmrIndex(): i32 { return domain.bmr; }

// ---- The rule table ----

export function ruleCount(): i32 { return domain.ruleCount; }
/** Pointer to the 16-byte IPv6 prefix of rule i (0 when i is out of range). */
export function ruleIPv6Prefix(i: i32): usize {
  return validRule(i) ? changetype<usize>(ruleAt(i)) + ruleIPv6PrefixOffset : 0;
}
export function ruleIPv6PrefixLength(i: i32): i32 { return validRule(i) ? ruleAt(i).prefix6Len : -1; }
export function ruleIPv4Prefix(i: i32): u32 { return validRule(i) ? ruleAt(i).prefix4 : 0; }
export function ruleIPv4PrefixLength(i: i32): i32 { return validRule(i) ? ruleAt(i).prefix4Len : -1; }
export function ruleEaLength(i: i32): i32 { return validRule(i) ? ruleAt(i).eaLen : -1; }
export function rulePsidOffset(i: i32): i32 { return validRule(i) ? ruleAt(i).psidOffset : -1; }
export function rulePsidLength(i: i32): i32 { return validRule(i) ? ruleAt(i).psidLength : -1; }
export function ruleIsForwarding(i: i32): i32 { return validRule(i) ? ruleAt(i).forwarding : 0; }
export function brCount(): i32 { return domain.brCount; }
/** Pointer to the 16 bytes of BR address i (0 when i is out of range). */
export function brAddress(i: i32): usize { return i >= 0 && i < domain.brCount ? brAddressPtr(i) : 0; }

// ---- MAP functions ----

/** 1 if the port is in the CE's port set. */
export function isOwnPort(port: i32): i32 {
  if (domain.bmr < 0 || !validPort(port)) return 0;
  return portSetIndex(cePortSet, port) >= 0 ? 1 : 0;
}

/** PSID of a port under a rule; -1 below 2^(16-a), for a bad rule index or port. */
export function portToPsid(rule: i32, port: i32): i32 {
  if (!validRule(rule) || !validPort(port)) return -1;
  const r = ruleAt(rule);
  return psidOfPort(r.psidOffset, r.psidLength, port);
}

// While a configuration is staged (the data path runs on the previous one)
// the lpm index is the live one: the look-ups then scan the configured
// rules (same answer as the index: longest prefix, lowest index on ties).
@inline function takesPart(r: Rule): bool {
  return configuredSettings.mode == MODE_BR || r.forwarding != 0;
}

/** Longest-prefix match of an IPv4 address (FMRs; every rule in BR mode), -1 if none. */
export function ruleForIPv4(addr: u32): i32 {
  if (!provisionLiveHeld()) return lpmIPv4(addr);
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < domain.ruleCount; i++) {
    const r = ruleAt(i);
    if (takesPart(r) && r.prefix4Len > bestLen && (addr & mask32(r.prefix4Len)) == r.prefix4) {
      best = i;
      bestLen = r.prefix4Len;
    }
  }
  return best;
}

/** Longest-prefix match of the IPv6 address at ptr (FMRs; every rule in BR mode), -1 if none. */
export function ruleForIPv6(ptr: usize): i32 {
  if (!provisionLiveHeld()) return lpmIPv6(ptr);
  const hi = ipv6Hi(ptr);
  const lo = ipv6Lo(ptr);
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < domain.ruleCount; i++) {
    const r = ruleAt(i);
    if (takesPart(r) && r.prefix6Len > bestLen && ruleContains6(r, hi, lo, 128)) {
      best = i;
      bestLen = r.prefix6Len;
    }
  }
  return best;
}

/** The MAP IPv6 address of the CE owning (addr, port) under the rule, to out; 0 ok, -1 none. */
export function mapIPv6(rule: i32, addr: u32, port: i32, out: usize): i32 {
  if (!validRule(rule) || !validPort(port)) return -1;
  return ruleMapIPv6(ruleAt(rule), addr, port, out) ? 0 : -1;
}

/** A 64-byte scratch area the host may use for arguments. */
export function scratch(): usize { return scratchArea; }
