// The RFC 7598 provisioning parser and the installed MAP configuration.
//
// configure(len) parses the options in the configuration buffer (docs/abi.md
// §1) into *staging* tables, validates everything, and only then copies the
// staging tables over the *configured* ones, so a failed configure changes
// nothing (the previous configuration stays in force).
//
// Three copies, so the data path never runs on half of one configuration
// and half of another (a CE whose address changed while its NAT kept the
// old port set would send with another CE's ports):
//
//   staging ──configure ok──▶ configured ──start()──▶ live
//   (being parsed)            (what the MAP/calc      (what the data path
//                              getters of api.ts       reads: domain,
//                              describe)               settings, rules, lpm)
//
// Until the data path is started (provisionHoldLive(true), set by a
// successful start) configure applies at once, configured and live are the
// same; once it runs, a configure only stages and the next start() applies
// it as a whole (provisionApply). The bytes are untrusted (they may come from a DHCPv6 server or a
// user's hex): every length is checked before the field is read, and each
// error records its code, the byte offset of the bad field and the code of
// the option that field belongs to.
//
// Fixed regions (memory.data, never in the binary, never freed):
//
//   config buffer   CONFIG_BUFFER_SIZE bytes, written by the host
//   rules           MAX_RULES × RULE_BYTES, active and staging
//   BR addresses    MAX_BRS × 16, active and staging
//   Domain          counts, BMR index, CE results, end-user prefix, DMR; active and staging
//
// lw4o6 (RFC 7596, container 96): the S46_V4V6BIND becomes a one-entry rule
// (r = 32, o = 0, explicit PSID from S46_PORTPARAMS, F = 0), so the same
// getters and mapIPv6 apply. The lwB4's tunnel source address is formed from
// the bind-ipv6-prefix: RFC 7598 §4.4 says the CE uses that prefix "to identify
// the correct prefix to use for the tunnel source", and RFC 7596 §5.1 has the
// lwB4 build its /128 from it with the interface identifier of RFC 7597 §6
// (IPv4 address and PSID). So: bindprefix6-len 128 → that address as is;
// bindprefix6-len <= 64 → prefix bits, subnet id 0, interface id (RFC 7597 §6,
// or the legacy layout with LEGACY_IID); 65..127 leaves no room for an
// interface id and is PREFIX6_PLUS_EA. An OPTION_IAPREFIX next to an lw4o6
// container is accepted and not used.
import { CONFIG_BUFFER_SIZE, MAX_BRS, MAX_RULES } from "../config";
import { Settings, settings, stagingSettings, settingsDefaults, settingsCopy,
  settingRow, settingWidth, settingApply, MODE_BR, MODE_CALC, MODE_CE, LOCAL_DNS_UPSTREAM } from "../settings";
import { PortSet, portSetInit } from "./portset";
import { Rule, RULE_BYTES, ruleSet, ruleFinish, ruleEaBits, ruleIPv4FromEa,
  rulePsidFromEa, ruleInterfaceId, ruleContains6, mask64, mask32 } from "./rule";
import { lpmBuild } from "./lpm";
import * as E from "./errors";
import { LOCAL_FORWARD, forwardStage, forwardStageReset, forwardOutsideSet, forwardStagedOffset,
  forwardCommit, forwardActivate } from "../nat/pins";

// ---- Option codes (RFC 7598 §4, RFC 8415 §21.22, ours) ----
export const OPTION_IAPREFIX: i32 = 26;
export const OPTION_S46_RULE: i32 = 89;
export const OPTION_S46_BR: i32 = 90;
export const OPTION_S46_DMR: i32 = 91;
export const OPTION_S46_V4V6BIND: i32 = 92;
export const OPTION_S46_PORTPARAMS: i32 = 93;
export const OPTION_S46_CONT_MAPE: i32 = 94;
export const OPTION_S46_CONT_MAPT: i32 = 95;
export const OPTION_S46_CONT_LW: i32 = 96;
export const OPTION_MAPE_LOCAL: i32 = 0xff01;
/** RFC 3646 §3 OPTION_DNS_SERVERS: n × 16 bytes of recursive resolvers (the DNS proxy's upstreams). */
export const OPTION_DNS_SERVERS: i32 = 23;

/** PSID offset when S46_PORTPARAMS is absent (RFC 7597 §5.1, RFC 7598 §4.5). */
export const DEFAULT_PSID_OFFSET: i32 = 6;

/** Counts, the BMR and the CE's results: one active and one staging copy. */
@unmanaged
export class Domain {
  /** CE MAP IPv6 address, 16 bytes in network order (ceIPv6Address points here). */
  ceAddr0: u64 = 0;
  ceAddr1: u64 = 0;
  /** End-user prefix, host order, masked. */
  euHi: u64 = 0;
  euLo: u64 = 0;
  /** MAP-T DMR prefix, host order (calc only). */
  dmrHi: u64 = 0;
  dmrLo: u64 = 0;
  dmrLen: i32 = 0;
  euLen: i32 = 0;
  ruleCount: i32 = 0;
  brCount: i32 = 0;
  /** Index of the BMR, -1 when none (BR mode, or calc without an end-user prefix). */
  bmr: i32 = -1;
  /** The container's option code (94, 95, 96). */
  container: i32 = 0;
  /** The CE's IPv4 address or prefix, host order. */
  ceIPv4: u32 = 0;
  ceIPv4Len: i32 = 0;
  /** PSID offset a, length k and value of the CE. */
  ceA: i32 = 0;
  ceK: i32 = 0;
  cePsid: i32 = 0;
  /** Mask of the ceIPv4Len bits, and the CE's address masked by it (set at install: isOwnIPv4 is one AND). */
  ceIPv4Mask: u32 = 0;
  ceIPv4Net: u32 = 0;
}

const DOMAIN_BYTES: usize = offsetof<Domain>();

const configBuf: usize = memory.data(CONFIG_BUFFER_SIZE, 16);
const rulesActive: usize = memory.data(MAX_RULES * RULE_BYTES, 16);
const rulesStaging: usize = memory.data(MAX_RULES * RULE_BYTES, 16);
const brsActive: usize = memory.data(MAX_BRS * 16, 16);
const brsStaging: usize = memory.data(MAX_BRS * 16, 16);

const rulesConfigured: usize = memory.data(MAX_RULES * RULE_BYTES, 16);
const brsConfigured: usize = memory.data(MAX_BRS * 16, 16);

/** The configuration in force in the data path (live). */
// Static instances, not `new` (no allocator, no abort import): the field
// initialisers do not run, so bmr is set to -1 below.
export const domain: Domain = changetype<Domain>(memory.data(<i32>offsetof<Domain>(), 16));
const staging: Domain = changetype<Domain>(memory.data(<i32>offsetof<Domain>(), 16));
/** The last configuration configure accepted (what the getters of api.ts describe). */
export const configured: Domain = changetype<Domain>(memory.data(<i32>offsetof<Domain>(), 16));
/** The CE's port set (its BMR's PSID), for the NAPT (live). Zero count when there is no BMR. */
export const cePortSet: PortSet = changetype<PortSet>(memory.data(<i32>offsetof<PortSet>(), 16));
/** The port set of the configured BMR. */
export const configuredPortSet: PortSet = changetype<PortSet>(memory.data(<i32>offsetof<PortSet>(), 16));
/** The settings of the configured configuration (live ones: settings.ts `settings`). */
export const configuredSettings: Settings = changetype<Settings>(memory.data(<i32>offsetof<Settings>(), 8));
domain.bmr = -1;
staging.bmr = -1;
configured.bmr = -1;
settingsDefaults(configuredSettings);

/** True once the data path runs: configure then only stages, start() applies. */
let liveHeld = false;

// ---- Error record ----
let errCode = 0;
let errOffset = 0;
let errOption = 0;

function fail(code: i32, offset: i32, option: i32): i32 {
  errCode = code;
  errOffset = offset;
  errOption = option;
  return code;
}

// ---- Parse state (staging) ----
let sContainerOff = 0;
let sPrefixOff = -1;
let sLocalSeen = false;
let sDmrCount = 0;
let sBindCount = 0;

// DNS resolvers (the DNS proxy's upstreams): OPTION_DNS_SERVERS of the
// DHCPv6 reply, and LOCAL DNS_UPSTREAM (--dns-upstream), which overrides
// it. Each list: MAX_DNS_SERVERS × 16 bytes; staging → configured → active
// like the BR addresses.
export const MAX_DNS_SERVERS: i32 = 8;
const dns23Staging: usize = memory.data(MAX_DNS_SERVERS * 16, 16);
const dns23Configured: usize = memory.data(MAX_DNS_SERVERS * 16, 16);
const dnsLocalStaging: usize = memory.data(MAX_DNS_SERVERS * 16, 16);
const dnsUpConfigured: usize = memory.data(MAX_DNS_SERVERS * 16, 16);
const dnsUpActive: usize = memory.data(MAX_DNS_SERVERS * 16, 16);
let sDns23Count = -1;
let sDnsLocalCount = -1;
let dns23ConfiguredCount = 0;
let dnsUpConfiguredCount = 0;
let dnsUpActiveCount = 0;
// Header of the option read by optionAt().
let optCode = 0;
let optLen = 0;
// The S46_PORTPARAMS of the rule or binding being parsed.
let ppPos = -1;
let ppOffset = 0;
let ppK = 0;
let ppPsid = 0;

@inline function u8at(off: i32): i32 { return <i32>load<u8>(configBuf + <usize>off); }
@inline function u16at(off: i32): i32 { return <i32>bswap<u16>(load<u16>(configBuf + <usize>off)); }
@inline function u32at(off: i32): u32 { return bswap<u32>(load<u32>(configBuf + <usize>off)); }

/** Reads `nb` (<= 16) prefix bytes at off, zero-padded, into the 16-byte scratch; returns it. */
const prefixTmp: usize = memory.data(16, 16);
function readPrefix(off: i32, nb: i32): usize {
  memory.fill(prefixTmp, 0, 16);
  memory.copy(prefixTmp, configBuf + <usize>off, <usize>nb);
  return prefixTmp;
}

/** Reads the option header at pos inside [pos, end): sets optCode, optLen; 0 or an error. */
function optionAt(pos: i32, end: i32, parent: i32): i32 {
  if (end - pos < 4) return fail(E.ERR_TRUNCATED, pos, parent);
  optCode = u16at(pos);
  optLen = u16at(pos + 2);
  if (pos + 4 + optLen > end) return fail(E.ERR_TRUNCATED, pos + 2, optCode);
  return 0;
}

/** The sub-options of S46_RULE / S46_V4V6BIND: at most one S46_PORTPARAMS (RFC 7598 §4.5). */
function parsePortParams(pos: i32, end: i32, parent: i32): i32 {
  ppPos = -1;
  ppOffset = DEFAULT_PSID_OFFSET;
  ppK = 0;
  ppPsid = 0;
  while (pos < end) {
    const e = optionAt(pos, end, parent);
    if (e) return e;
    if (optCode != OPTION_S46_PORTPARAMS) return fail(E.ERR_UNKNOWN_OPTION, pos, optCode);
    if (ppPos >= 0) return fail(E.ERR_OPTION_DUPLICATE, pos, OPTION_S46_PORTPARAMS);
    if (optLen != 4) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_PORTPARAMS);
    const d = pos + 4;
    const offset = u8at(d);
    const k = u8at(d + 1);
    const psid16 = u16at(d + 2);
    if (offset > 15) return fail(E.ERR_PORTPARAMS_OFFSET, d, OPTION_S46_PORTPARAMS);
    if (offset + k > 16) return fail(E.ERR_PSID_TOO_LONG, d + 1, OPTION_S46_PORTPARAMS);
    // The PSID is left-aligned in its 16 bits (RFC 7598 §4.5): the bits after
    // the first k must be zero. (The interface id carries it right-aligned.)
    // With k = 0 "the PSID field is to be ignored" (RFC 7598 §4.5): whatever
    // a server leaves there is accepted and dropped (PSID 0).
    if (k > 0 && (psid16 & ((1 << (16 - k)) - 1)) != 0) {
      return fail(E.ERR_PSID_VALUE, d + 2, OPTION_S46_PORTPARAMS);
    }
    ppPos = pos;
    ppOffset = offset;
    ppK = k;
    ppPsid = k == 0 ? 0 : psid16 >>> (16 - k);
    pos = d + optLen;
  }
  return 0;
}

@inline function stagingRule(i: i32): Rule {
  return changetype<Rule>(rulesStaging + <usize>(i * RULE_BYTES));
}

/** S46_RULE (RFC 7598 §4.1): flags, ea-len, prefix4-len, ipv4-prefix, prefix6-len, ipv6-prefix, options. */
function parseRule(pos: i32, len: i32): i32 {
  const d = pos + 4;
  if (staging.ruleCount >= MAX_RULES) return fail(E.ERR_TOO_MANY_RULES, pos, OPTION_S46_RULE);
  if (len < 8) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_RULE);
  const flags = u8at(d);
  const o = u8at(d + 1);
  const r = u8at(d + 2);
  const v4 = u32at(d + 3);
  const n = u8at(d + 7);
  if (r > 32) return fail(E.ERR_PREFIX4_LENGTH, d + 2, OPTION_S46_RULE);
  if (n > 128) return fail(E.ERR_PREFIX6_LENGTH, d + 7, OPTION_S46_RULE);
  const nb = (n + 7) >> 3;
  if (8 + nb > len) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_RULE);
  if (o > 48) return fail(E.ERR_EA_LENGTH, d + 1, OPTION_S46_RULE);
  // n + o > 64 is refused (PREFIX6_PLUS_EA). RFC 7597 §6 does describe an
  // End-user IPv6 prefix (n + o bits, §5.2) longer than 64, whose bits then
  // overwrite the top of the interface identifier, but such a rule puts EA
  // bits in the lower half of the address: rule.ts keeps the EA bits in the
  // upper 64 bits (eaShift), and the later-fragment source check of BR and
  // CE (datapath/stage.ts sourceOkWithoutPort) reads the PSID from there. No
  // deployed rule set we know of (vectors in map_vectors.spec.ts) needs it.
  // A *delegated* prefix longer than 64 under a rule with n + o <= 64 is
  // accepted: computeCe overwrites the top of the interface id with it.
  if (n + o > 64) return fail(E.ERR_PREFIX6_PLUS_EA, d + 1, OPTION_S46_RULE);
  const q = o + r > 32 ? o + r - 32 : 0;
  if (q > 16) return fail(E.ERR_EA_TOO_LONG_FOR_ADDRESS, d + 1, OPTION_S46_RULE);
  const e = parsePortParams(d + 8 + nb, d + len, OPTION_S46_RULE);
  if (e) return e;
  const a = ppOffset;
  let k = 0;
  let psid = 0;
  if (o > 0) {
    // The EA bits give the PSID length q (RFC 7597 §5.2); an explicit length
    // in S46_PORTPARAMS must agree (0 there means "not given").
    if (ppK > 0 && ppK != q) return fail(E.ERR_PSID_MISMATCH, ppPos + 5, OPTION_S46_PORTPARAMS);
    k = q;
    if (a + k > 16) {
      return ppPos >= 0 ? fail(E.ERR_PSID_TOO_LONG, ppPos + 4, OPTION_S46_PORTPARAMS)
                        : fail(E.ERR_PSID_TOO_LONG, d + 1, OPTION_S46_RULE);
    }
  } else {
    // No EA bits: the rule names one CE; a PSID can only come from
    // S46_PORTPARAMS and only for a full address (r = 32): a CE with an IPv4
    // prefix (r < 32) has no PSID (RFC 7597 §5.2).
    k = ppK;
    psid = ppPsid;
    if (k > 0 && r < 32) return fail(E.ERR_PSID_MISMATCH, ppPos + 5, OPTION_S46_PORTPARAMS);
  }
  const p6 = readPrefix(d + 8, nb);
  const rule = stagingRule(staging.ruleCount);
  memory.fill(changetype<usize>(rule), 0, <usize>RULE_BYTES);
  ruleSet(rule, bswap<u64>(load<u64>(p6)), bswap<u64>(load<u64>(p6, 8)), n, v4, r, o, a, k, psid, flags & 1, 0);
  ruleFinish(rule);
  staging.ruleCount++;
  return 0;
}

/** S46_V4V6BIND (RFC 7598 §4.4): ipv4-address, bindprefix6-len, bind-ipv6-prefix, options. */
function parseBind(pos: i32, len: i32): i32 {
  const d = pos + 4;
  if (sBindCount > 0) return fail(E.ERR_BIND_COUNT, pos, OPTION_S46_V4V6BIND);
  if (len < 5) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_V4V6BIND);
  const v4 = u32at(d);
  const n = u8at(d + 4);
  if (n > 128) return fail(E.ERR_PREFIX6_LENGTH, d + 4, OPTION_S46_V4V6BIND);
  const nb = (n + 7) >> 3;
  if (5 + nb > len) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_V4V6BIND);
  if (n > 64 && n < 128) return fail(E.ERR_PREFIX6_PLUS_EA, d + 4, OPTION_S46_V4V6BIND);
  const e = parsePortParams(d + 5 + nb, d + len, OPTION_S46_V4V6BIND);
  if (e) return e;
  const p6 = readPrefix(d + 5, nb);
  const rule = stagingRule(0);
  memory.fill(changetype<usize>(rule), 0, <usize>RULE_BYTES);
  ruleSet(rule, bswap<u64>(load<u64>(p6)), bswap<u64>(load<u64>(p6, 8)), n, v4, 32, 0,
    ppOffset, ppK, ppPsid, 0, 0);
  ruleFinish(rule);
  staging.ruleCount = 1;
  sBindCount = 1;
  return 0;
}

/** S46_BR (RFC 7598 §4.2): one 16-byte address. */
function parseBr(pos: i32, len: i32): i32 {
  if (staging.brCount >= MAX_BRS) return fail(E.ERR_TOO_MANY_BRS, pos, OPTION_S46_BR);
  if (len != 16) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_BR);
  memory.copy(brsStaging + <usize>(staging.brCount * 16), configBuf + <usize>(pos + 4), 16);
  staging.brCount++;
  return 0;
}

/** S46_DMR (RFC 7598 §4.3): dmr-prefix6-len, dmr-ipv6-prefix. */
function parseDmr(pos: i32, len: i32): i32 {
  const d = pos + 4;
  if (sDmrCount > 0) return fail(E.ERR_DMR_COUNT, pos, OPTION_S46_DMR);
  if (len < 1) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_DMR);
  const n = u8at(d);
  if (n > 128) return fail(E.ERR_PREFIX6_LENGTH, d, OPTION_S46_DMR);
  const nb = (n + 7) >> 3;
  if (len != 1 + nb) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_S46_DMR);
  const p6 = readPrefix(d + 1, nb);
  staging.dmrHi = bswap<u64>(load<u64>(p6)) & mask64(n);
  staging.dmrLo = bswap<u64>(load<u64>(p6, 8)) & mask64(n - 64);
  staging.dmrLen = n;
  sDmrCount = 1;
  return 0;
}

/** A container (RFC 7598 §5): which sub-options may stand in which container. */
function parseContainer(pos: i32, len: i32, code: i32): i32 {
  let p = pos + 4;
  const end = p + len;
  while (p < end) {
    let e = optionAt(p, end, code);
    if (e) return e;
    const c = optCode;
    const l = optLen;
    if (c == OPTION_S46_RULE && code != OPTION_S46_CONT_LW) e = parseRule(p, l);
    else if (c == OPTION_S46_BR && code != OPTION_S46_CONT_MAPT) e = parseBr(p, l);
    else if (c == OPTION_S46_DMR && code == OPTION_S46_CONT_MAPT) e = parseDmr(p, l);
    else if (c == OPTION_S46_V4V6BIND && code == OPTION_S46_CONT_LW) e = parseBind(p, l);
    else e = fail(E.ERR_UNKNOWN_OPTION, p, c);
    if (e) return e;
    p += 4 + l;
  }
  return 0;
}

/** OPTION_IAPREFIX (RFC 8415 §21.22): lifetimes (8), prefix-length, prefix (16), options. */
function parseIaPrefix(pos: i32, len: i32): i32 {
  const d = pos + 4;
  if (sPrefixOff >= 0) return fail(E.ERR_OPTION_DUPLICATE, pos, OPTION_IAPREFIX);
  if (len < 25) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_IAPREFIX);
  const n = u8at(d + 8);
  if (n > 128) return fail(E.ERR_PREFIX6_LENGTH, d + 8, OPTION_IAPREFIX);
  // IAprefix-options (e.g. a status code) are walked for well-formedness only.
  let p = d + 25;
  const end = d + len;
  while (p < end) {
    const e = optionAt(p, end, OPTION_IAPREFIX);
    if (e) return e;
    p += 4 + optLen;
  }
  const p6 = readPrefix(d + 9, 16);
  staging.euHi = bswap<u64>(load<u64>(p6)) & mask64(n);
  staging.euLo = bswap<u64>(load<u64>(p6, 8)) & mask64(n - 64);
  staging.euLen = n;
  sPrefixOff = pos;
  return 0;
}

/** OPTION_MAPE_LOCAL: sub-options per the table in assembly/settings.ts. Errors name 0xFF01. */
function parseLocal(pos: i32, len: i32): i32 {
  if (sLocalSeen) return fail(E.ERR_OPTION_DUPLICATE, pos, OPTION_MAPE_LOCAL);
  sLocalSeen = true;
  let seen: u64 = 0;
  let p = pos + 4;
  const end = p + len;
  while (p < end) {
    if (end - p < 4) return fail(E.ERR_TRUNCATED, p, OPTION_MAPE_LOCAL);
    const c = u16at(p);
    const l = u16at(p + 2);
    if (p + 4 + l > end) return fail(E.ERR_TRUNCATED, p + 2, OPTION_MAPE_LOCAL);
    if (c == LOCAL_FORWARD) {
      // A static forward: repeatable, a record of its own (nat/pins.ts).
      const f = forwardStage(configBuf + <usize>(p + 4), l, p);
      if (f == 1) return fail(E.ERR_OPTION_LENGTH, p + 2, OPTION_MAPE_LOCAL);
      if (f == 2 || f == 3) return fail(E.ERR_LOCAL_VALUE, p + 4, OPTION_MAPE_LOCAL);
      if (f == 4) return fail(E.ERR_OPTION_DUPLICATE, p, OPTION_MAPE_LOCAL);
      p += 4 + l;
      continue;
    }
    if (c == LOCAL_DNS_UPSTREAM) {
      if (sDnsLocalCount >= 0) return fail(E.ERR_OPTION_DUPLICATE, p, OPTION_MAPE_LOCAL);
      if (l == 0 || l % 16 != 0 || l > MAX_DNS_SERVERS * 16) return fail(E.ERR_OPTION_LENGTH, p + 2, OPTION_MAPE_LOCAL);
      memory.copy(dnsLocalStaging, configBuf + <usize>(p + 4), <usize>l);
      sDnsLocalCount = l / 16;
      p += 4 + l;
      continue;
    }
    const row = settingRow(c);
    if (row < 0) return fail(E.ERR_UNKNOWN_OPTION, p, OPTION_MAPE_LOCAL);
    if (seen & (<u64>1 << <u64>row)) return fail(E.ERR_OPTION_DUPLICATE, p, OPTION_MAPE_LOCAL);
    seen |= <u64>1 << <u64>row;
    if (l != settingWidth(row)) return fail(E.ERR_OPTION_LENGTH, p + 2, OPTION_MAPE_LOCAL);
    if (!settingApply(stagingSettings, row, configBuf + <usize>(p + 4))) {
      return fail(E.ERR_LOCAL_VALUE, p + 4, OPTION_MAPE_LOCAL);
    }
    p += 4 + l;
  }
  return 0;
}

/** OPTION_DNS_SERVERS (RFC 3646 §3): 16 × n bytes; more than MAX_DNS_SERVERS keep the first ones. */
function parseDnsServers(pos: i32, len: i32): i32 {
  if (sDns23Count >= 0) return fail(E.ERR_OPTION_DUPLICATE, pos, OPTION_DNS_SERVERS);
  if (len == 0 || len % 16 != 0) return fail(E.ERR_OPTION_LENGTH, pos + 2, OPTION_DNS_SERVERS);
  const n = min(len / 16, MAX_DNS_SERVERS);
  memory.copy(dns23Staging, configBuf + <usize>(pos + 4), <usize>(n * 16));
  sDns23Count = n;
  return 0;
}

/**
 * The BMR: the rule whose IPv6 prefix contains the end-user prefix, longest
 * first (RFC 7597 §5: the CE selects the rule by longest match on its
 * delegated prefix). Every rule takes part, F flag or not.
 */
function selectBmr(): i32 {
  const hi = staging.euHi;
  const lo = staging.euLo;
  const len = staging.euLen;
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < staging.ruleCount; i++) {
    const rule = stagingRule(i);
    if (rule.prefix6Len > bestLen && ruleContains6(rule, hi, lo, len)) {
      best = i;
      bestLen = rule.prefix6Len;
    }
  }
  const d = sPrefixOff + 4;
  if (best < 0) {
    // A rule the prefix would fall into if it were long enough: say so.
    for (let i = 0; i < staging.ruleCount; i++) {
      const rule = stagingRule(i);
      if (rule.prefix6Len > len &&
          (rule.prefix6Hi & mask64(len)) == hi && (rule.prefix6Lo & mask64(len - 64)) == lo) {
        return fail(E.ERR_PREFIX_LENGTH, d + 8, OPTION_IAPREFIX);
      }
    }
    return fail(E.ERR_PREFIX_OUTSIDE_RULE, d + 9, OPTION_IAPREFIX);
  }
  const bmr = stagingRule(best);
  if (len < bmr.prefix6Len + bmr.eaLen) return fail(E.ERR_PREFIX_LENGTH, d + 8, OPTION_IAPREFIX);
  staging.bmr = best;
  return 0;
}

/** The CE's IPv4 address, PSID and MAP IPv6 address from the BMR (RFC 7597 §5.2, §6). */
function computeCe(): void {
  const rule = stagingRule(staging.bmr);
  let hi: u64;
  let lo: u64;
  let ipv4: u32;
  let psid: i32;
  if (staging.container == OPTION_S46_CONT_LW) {
    ipv4 = rule.prefix4;
    psid = rule.psid;
    if (rule.prefix6Len == 128) {
      hi = rule.prefix6Hi;
      lo = rule.prefix6Lo;
    } else {
      hi = rule.prefix6Hi;
      lo = ruleInterfaceId(rule, ipv4, psid);
    }
  } else {
    const ea = ruleEaBits(rule, staging.euHi);
    ipv4 = ruleIPv4FromEa(rule, ea);
    psid = rulePsidFromEa(rule, ea);
    // End-user prefix, subnet id 0, interface id (RFC 7597 §5.2, §6). The
    // whole delegated prefix is kept (masked to its length), so the address
    // lies inside it; its bits beyond n + o are the subnet id, which the BR
    // (ruleMapIPv6) takes as 0, so they must be delegated as 0 for the two
    // to agree (docs/abi.md §1). A delegated prefix longer than 64 bits:
    // "the most significant parts of the interface identifier are
    // overwritten by the prefix" (RFC 7597 §6): its bits 64..len-1 replace
    // the top of the interface id, the rest of the interface id stays.
    hi = staging.euHi;
    lo = staging.euLo | (ruleInterfaceId(rule, ipv4, psid) & ~mask64(staging.euLen - 64));
  }
  staging.ceIPv4 = ipv4;
  staging.ceIPv4Len = rule.ceIPv4Len;
  staging.ceIPv4Mask = mask32(rule.ceIPv4Len);
  staging.ceIPv4Net = ipv4 & staging.ceIPv4Mask;
  staging.ceA = rule.psidOffset;
  staging.ceK = rule.psidLength;
  staging.cePsid = psid;
  store<u64>(changetype<usize>(staging) + offsetof<Domain>("ceAddr0"), bswap<u64>(hi));
  store<u64>(changetype<usize>(staging) + offsetof<Domain>("ceAddr1"), bswap<u64>(lo));
}

/** Cross-option requirements, once everything is parsed (docs/abi.md §1). */
function validate(): i32 {
  const c = staging.container;
  const mode = stagingSettings.mode;
  if (c == 0) return fail(E.ERR_CONTAINER_MISSING, 0, 0);
  if (c == OPTION_S46_CONT_MAPT && mode != MODE_CALC) return fail(E.ERR_MODE_UNSUPPORTED, sContainerOff, c);
  if (c != OPTION_S46_CONT_LW && staging.ruleCount == 0) return fail(E.ERR_RULE_MISSING, sContainerOff, c);
  if (c == OPTION_S46_CONT_LW && sBindCount == 0) return fail(E.ERR_RULE_MISSING, sContainerOff, c);
  if (c == OPTION_S46_CONT_MAPT && sDmrCount != 1) return fail(E.ERR_DMR_COUNT, sContainerOff, c);
  if (c != OPTION_S46_CONT_MAPT && staging.brCount == 0 && mode != MODE_CALC) {
    return fail(E.ERR_BR_MISSING, sContainerOff, c);
  }
  if (mode == MODE_BR && sPrefixOff >= 0) return fail(E.ERR_PREFIX_UNEXPECTED, sPrefixOff, OPTION_IAPREFIX);
  if (mode == MODE_CE && c == OPTION_S46_CONT_MAPE && sPrefixOff < 0) return fail(E.ERR_PREFIX_MISSING, 0, 0);
  // Rules take the interface id layout of the settings (per-rule later).
  for (let i = 0; i < staging.ruleCount; i++) stagingRule(i).legacyIid = stagingSettings.legacyIid;
  staging.bmr = -1;
  if (mode != MODE_BR) {
    if (c == OPTION_S46_CONT_LW) {
      staging.bmr = 0;
    } else if (sPrefixOff >= 0) {
      const e = selectBmr();
      if (e) return e;
    }
  }
  if (staging.bmr >= 0) computeCe();
  // Static forwards open ports of our own set only (the BR routes the others elsewhere).
  if (mode == MODE_CE && staging.bmr >= 0) {
    const f = forwardOutsideSet(staging.ceA, staging.ceK, staging.cePsid);
    if (f >= 0) return fail(E.ERR_FORWARD_PORT, forwardStagedOffset(f) + 5, OPTION_MAPE_LOCAL);
  }
  return 0;
}

/** Copies staging over configured. Cannot fail. */
function commit(): void {
  memory.copy(rulesConfigured, rulesStaging, <usize>(staging.ruleCount * RULE_BYTES));
  memory.copy(brsConfigured, brsStaging, <usize>(staging.brCount * 16));
  memory.copy(changetype<usize>(configured), changetype<usize>(staging), DOMAIN_BYTES);
  settingsCopy(configuredSettings, stagingSettings);
  forwardCommit();
  dns23ConfiguredCount = max(sDns23Count, 0);
  memory.copy(dns23Configured, dns23Staging, <usize>(dns23ConfiguredCount * 16));
  if (sDnsLocalCount >= 0) {
    dnsUpConfiguredCount = sDnsLocalCount;
    memory.copy(dnsUpConfigured, dnsLocalStaging, <usize>(sDnsLocalCount * 16));
  } else {
    dnsUpConfiguredCount = dns23ConfiguredCount;
    memory.copy(dnsUpConfigured, dns23Staging, <usize>(dns23ConfiguredCount * 16));
  }
  if (configured.bmr >= 0) {
    portSetInit(configuredPortSet, configured.ceA, configured.ceK, configured.cePsid);
  } else {
    memory.fill(changetype<usize>(configuredPortSet), 0, offsetof<PortSet>());
  }
}

/**
 * Makes the configured configuration the live one, all of it at once:
 * rules, BR addresses, the CE's results and port set, the settings, and the
 * lookup indexes. Cannot fail. start() calls it (and configure, while the
 * data path is not running).
 */
export function provisionApply(): void {
  memory.copy(rulesActive, rulesConfigured, <usize>(configured.ruleCount * RULE_BYTES));
  memory.copy(brsActive, brsConfigured, <usize>(configured.brCount * 16));
  memory.copy(changetype<usize>(domain), changetype<usize>(configured), DOMAIN_BYTES);
  settingsCopy(settings, configuredSettings);
  dnsUpActiveCount = dnsUpConfiguredCount;
  memory.copy(dnsUpActive, dnsUpConfigured, <usize>(dnsUpConfiguredCount * 16));
  memory.copy(changetype<usize>(cePortSet), changetype<usize>(configuredPortSet), offsetof<PortSet>());
  forwardActivate();
  // The BR serves every rule; a CE forwards directly only by FMRs (F flag,
  // RFC 7598 §4.1) and sends the rest to the BR.
  lpmBuild(rulesActive, RULE_BYTES, domain.ruleCount, settings.mode == MODE_BR);
}

/** Whether configure only stages (the data path runs) or applies at once. */
export function provisionHoldLive(on: bool): void { liveHeld = on; }
/** True while a configure only stages (between a start and the next init). */
export function provisionLiveHeld(): bool { return liveHeld; }

/** Parses, validates and installs the `len` bytes of the configuration buffer. 0 or an error code. */
export function provision(len: i32): i32 {
  errCode = 0;
  errOffset = 0;
  errOption = 0;
  if (len < 0 || len > CONFIG_BUFFER_SIZE) return fail(E.ERR_CONFIG_LENGTH, 0, 0);
  memory.fill(changetype<usize>(staging), 0, DOMAIN_BYTES);
  staging.bmr = -1;
  settingsDefaults(stagingSettings);
  sContainerOff = 0;
  sPrefixOff = -1;
  sLocalSeen = false;
  forwardStageReset();
  sDmrCount = 0;
  sBindCount = 0;
  sDns23Count = -1;
  sDnsLocalCount = -1;
  let pos = 0;
  while (pos < len) {
    let e = optionAt(pos, len, 0);
    if (e) return e;
    const c = optCode;
    const l = optLen;
    if (c == OPTION_S46_CONT_MAPE || c == OPTION_S46_CONT_MAPT || c == OPTION_S46_CONT_LW) {
      if (staging.container != 0) return fail(E.ERR_CONTAINER_DUPLICATE, pos, c);
      staging.container = c;
      sContainerOff = pos;
      e = parseContainer(pos, l, c);
    } else if (c == OPTION_IAPREFIX) {
      e = parseIaPrefix(pos, l);
    } else if (c == OPTION_MAPE_LOCAL) {
      e = parseLocal(pos, l);
    } else if (c == OPTION_DNS_SERVERS) {
      e = parseDnsServers(pos, l);
    } else {
      e = fail(E.ERR_UNKNOWN_OPTION, pos, c);
    }
    if (e) return e;
    pos += 4 + l;
  }
  const e = validate();
  if (e) return e;
  commit();
  if (!liveHeld) provisionApply();
  return 0;
}

// ---- Accessors for the host exports and the data path ----

/** Pointer to the configuration buffer. */
export function configBufferPtr(): usize { return configBuf; }
/** Error code, offset and option of the last configure (0 after success). */
export function lastErrorCode(): i32 { return errCode; }
export function lastErrorOffset(): i32 { return errOffset; }
export function lastErrorOption(): i32 { return errOption; }

/** Number of installed rules. */
@inline export function activeRuleCount(): i32 { return domain.ruleCount; }
/** Installed rule i (0 <= i < activeRuleCount()); no check. */
@inline export function ruleAt(i: i32): Rule {
  return changetype<Rule>(rulesActive + <usize>(i * RULE_BYTES));
}
/** Number of installed BR addresses. */
@inline export function activeBrCount(): i32 { return domain.brCount; }
/** Pointer to the 16 bytes of BR address i; no check. */
@inline export function brAddressPtr(i: i32): usize { return brsActive + <usize>(i * 16); }
/** Index of the BMR, -1 when none. */
@inline export function bmrRule(): i32 { return domain.bmr; }
/** The CE's IPv4 address (host order). */
@inline export function ceIPv4Address(): u32 { return domain.ceIPv4; }
/** Pointer to the CE's 16-byte MAP IPv6 address (the tunnel source of a CE / lwB4). */
@inline export function ceMapAddressPtr(): usize {
  return changetype<usize>(domain) + offsetof<Domain>("ceAddr0");
}
/** The local settings in force. */
@inline export function activeSettings(): Settings { return settings; }

// ---- The configured configuration (api.ts getters; start() applies it) ----

/** Configured rule i (0 <= i < configured.ruleCount); no check. */
@inline export function configuredRuleAt(i: i32): Rule {
  return changetype<Rule>(rulesConfigured + <usize>(i * RULE_BYTES));
}
/** Pointer to the 16 bytes of configured BR address i; no check. */
@inline export function configuredBrPtr(i: i32): usize { return brsConfigured + <usize>(i * 16); }
/** Pointer to the configured CE's 16-byte MAP IPv6 address. */
@inline export function configuredMapAddressPtr(): usize {
  return changetype<usize>(configured) + offsetof<Domain>("ceAddr0");
}
/** 1 when the installed mode is CE, BR or calc (convenience for the data path). */
@inline export function isBrMode(): bool { return settings.mode == MODE_BR; }
@inline export function isCeMode(): bool { return settings.mode == MODE_CE; }

// ---- DNS resolvers (the DNS proxy, assembly/dns/proxy.ts) ----

/** Resolvers of the configured OPTION_DNS_SERVERS (0 when it had none). */
export function dns23Count(): i32 { return dns23ConfiguredCount; }
/** Pointer to the 16 bytes of configured OPTION_DNS_SERVERS address i; no check. */
export function dns23Ptr(i: i32): usize { return dns23Configured + <usize>(i * 16); }
/** Upstream resolvers in force: LOCAL DNS_UPSTREAM, else OPTION_DNS_SERVERS. */
@inline export function dnsUpstreamCountActive(): i32 { return dnsUpActiveCount; }
/** Pointer to the 16 bytes of upstream resolver i in force; no check. */
@inline export function dnsUpstreamPtrActive(i: i32): usize { return dnsUpActive + <usize>(i * 16); }
