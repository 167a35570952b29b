// `mape calc` output, rendered by the module so both hosts print the same
// bytes: after a successful configure in calc mode, the CE's IPv4 address,
// PSID, port set and MAP IPv6 address under its BMR, in one of three forms:
//   0 human    "source", "rule (BMR)", … rows, the key padded to 17 columns
//   1 --json   one object, keys in the documented order (docs/config.md)
//   2 mapcalc  OpenWrt mapcalc's KEY=value lines (package/network/ipv6/map,
//              mapcalc.c), in its order, so map.sh could `eval` them
import { Out, newOut } from "./text";
import { formatIPv4, formatIPv6 } from "./ip";
import { failAt, nameStart, nameLength, NAME_NONE, mHasPrefix, mPrefix, mPrefixLen, missPrefix } from "./model";
import { textBufferPtr, TEXT_BUFFER_SIZE, sourceLabel } from "./source";
import { uciTunlink } from "./openwrt";
import { rulesInModel, rulesFormatName, rulesMatchedPath, rulesSeenCount, rulesInstalledCount, rulesMatchedIndex,
  rulesTtlValue, rulesMeshFlag, rulesVersionValue, rulesLegacy } from "./rules";
import { configuredSettings } from "../map/provision";
import { bmrIndex, ruleCount, ruleIPv6Prefix, ruleIPv6PrefixLength, ruleIPv4Prefix, ruleIPv4PrefixLength,
  ruleEaLength, rulePsidOffset, rulePsidLength, ruleIsForwarding, brCount, brAddress, ceIPv4,
  ceIPv4PrefixLength, cePsid, cePsidLength, cePsidOffset, cePortCount, cePortRangeCount,
  cePortRangeFirst, cePortRangeLast, ceIPv6Address } from "../map/api";

export const CALC_HUMAN: i32 = 0;
export const CALC_JSON: i32 = 1;
export const CALC_MAPCALC: i32 = 2;

const out: Out = newOut(textBufferPtr(), TEXT_BUFFER_SIZE, memory.data(<i32>offsetof<Out>(), 8));

let rowStart = 0;
function row(key: string): Out {
  rowStart = out.len;
  return out.str(key).padTo(rowStart, 17);
}

function ruleText(i: i32): void {
  formatIPv6(out, ruleIPv6Prefix(i));
  out.byte(0x2f).i32(ruleIPv6PrefixLength(i)).str(" -> ");
  formatIPv4(out, ruleIPv4Prefix(i));
  out.byte(0x2f).i32(ruleIPv4PrefixLength(i)).str(", EA bits ").i32(ruleEaLength(i));
}

function rangeText(i: i32, dash: bool): void {
  const a = cePortRangeFirst(i);
  const b = cePortRangeLast(i);
  out.i32(a);
  if (a != b || dash) out.byte(0x2d).i32(b);
}

function human(): void {
  const label = sourceLabel();
  row("source").esc(nameStart(label), nameLength(label)).byte(0x0a);
  const bmr = bmrIndex();
  const n = ruleCount();
  if (rulesInModel) {
    // A rule file: its format, how many rules it has, the interface id it means.
    const seen = rulesSeenCount();
    row("rule format").str(rulesFormatName()).str(", ").i32(seen).str(seen == 1 ? " rule" : " rules");
    const hb = rulesVersionValue() >= 0;
    const ttl = rulesTtlValue();
    const partial = rulesInstalledCount() < seen;
    if (hb || ttl >= 0 || partial) {
      out.str(" (");
      let sep = false;
      if (hb) { out.str("map_e.version ").i32(rulesVersionValue()).str(rulesMeshFlag() ? ", mesh" : ", hub-and-spoke"); sep = true; }
      if (ttl >= 0) { if (sep) out.str(", "); out.str("ttl ").i32(ttl).str(" s"); sep = true; }
      if (partial) { if (sep) out.str(", "); out.i32(rulesInstalledCount()).str(" installed, the others reached through the BR"); }
      out.str(")");
    }
    out.byte(0x0a);
    row("interface id").str(configuredSettings.legacyIid ? "draft-03 layout 0(8) IPv4(32) PSID(16) 0(8)" : "RFC 7597 layout 0(16) IPv4(32) PSID(16)").byte(0x0a);
  }
  if (bmr >= 0) {
    row("rule (BMR)");
    ruleText(bmr);
    if (rulesInModel && rulesMatchedIndex() >= 0) {
      out.str(" (");
      rulesMatchedPath(out).str(", ").i32(rulesMatchedIndex() + 1).str(" of ").i32(rulesSeenCount()).str(")");
    } else if (n > 1) out.str(" (rule ").i32(bmr + 1).str(" of ").i32(n).str(")");
    out.byte(0x0a);
  }
  if (mHasPrefix) {
    row("end-user prefix");
    formatIPv6(out, mPrefix);
    out.byte(0x2f).i32(mPrefixLen).byte(0x0a);
  }
  const v4len = ceIPv4PrefixLength();
  if (v4len < 32) {
    row("IPv4 prefix");
    formatIPv4(out, ceIPv4());
    out.byte(0x2f).i32(v4len).byte(0x0a);
  } else {
    row("IPv4 address");
    formatIPv4(out, ceIPv4());
    out.byte(0x0a);
  }
  const k = cePsidLength();
  if (k > 0) {
    row("PSID").i32(cePsid()).str(" (0x").hex(<u32>cePsid()).str("), ").i32(k).str(" bits at offset ").i32(cePsidOffset()).byte(0x0a);
  } else {
    row("PSID").str("none (the whole address").str(v4len < 32 ? " prefix" : "").str(" is this CE's)").byte(0x0a);
  }
  const rc = cePortRangeCount();
  row("ports").i32(cePortCount()).str(" in ").i32(rc).str(rc == 1 ? " range" : " ranges").byte(0x0a);
  for (let i = 0; i < rc; i += 6) {
    row("");
    for (let j = i; j < i + 6 && j < rc; j++) {
      if (j > i) out.byte(0x20);
      rangeText(j, false);
    }
    out.byte(0x0a);
  }
  row("CE IPv6 address");
  formatIPv6(out, ceIPv6Address());
  out.byte(0x0a);
  for (let i = 0; i < brCount(); i++) {
    row("BR");
    formatIPv6(out, brAddress(i));
    out.byte(0x0a);
  }
}

function json(): void {
  out.str("{\n  \"ipv4Address\": \"");
  formatIPv4(out, ceIPv4());
  out.str("\",\n  \"ipv4PrefixLength\": ").i32(ceIPv4PrefixLength());
  out.str(",\n  \"psid\": ").i32(cePsid());
  out.str(",\n  \"psidLength\": ").i32(cePsidLength());
  out.str(",\n  \"psidOffset\": ").i32(cePsidOffset());
  out.str(",\n  \"portRanges\": [");
  const rc = cePortRangeCount();
  for (let i = 0; i < rc; i++) {
    if (i > 0) out.byte(0x2c);
    out.byte(0x5b).i32(cePortRangeFirst(i)).byte(0x2c).i32(cePortRangeLast(i)).byte(0x5d);
  }
  out.str("],\n  \"portCount\": ").i32(cePortCount());
  out.str(",\n  \"ceIPv6Address\": \"");
  formatIPv6(out, ceIPv6Address());
  out.str("\"\n}\n");
}

function kv(n: i32, key: string): Out {
  return out.str("RULE_").i32(n).byte(0x5f).str(key).byte(0x3d);
}

function mapcalc(): void {
  const bmr = bmrIndex();
  const nr = ruleCount();
  for (let i = 0; i < nr; i++) {
    const n = i + 1;
    kv(n, "FMR").i32(ruleIsForwarding(i)).byte(0x0a);
    kv(n, "EALEN").i32(ruleEaLength(i)).byte(0x0a);
    kv(n, "PSIDLEN").i32(rulePsidLength(i)).byte(0x0a);
    kv(n, "OFFSET").i32(rulePsidOffset(i)).byte(0x0a);
    kv(n, "PREFIX4LEN").i32(ruleIPv4PrefixLength(i)).byte(0x0a);
    kv(n, "PREFIX6LEN").i32(ruleIPv6PrefixLength(i)).byte(0x0a);
    kv(n, "IPV4PREFIX");
    formatIPv4(out, ruleIPv4Prefix(i));
    out.byte(0x0a);
    kv(n, "IPV6PREFIX");
    formatIPv6(out, ruleIPv6Prefix(i));
    out.byte(0x0a);
    if (i == bmr) {
      if (mHasPrefix) {
        kv(n, "IPV6PD");
        formatIPv6(out, mPrefix);
        out.byte(0x0a);
        kv(n, "PD6LEN").i32(mPrefixLen).byte(0x0a);
      }
      const t = uciTunlink();
      if (t != NAME_NONE) kv(n, "PD6IFACE").esc(nameStart(t), nameLength(t)).byte(0x0a);
      kv(n, "IPV6ADDR");
      formatIPv6(out, ceIPv6Address());
      out.byte(0x0a);
      out.str("RULE_BMR=").i32(n).byte(0x0a);
      kv(n, "IPV4ADDR");
      formatIPv4(out, ceIPv4());
      out.byte(0x0a);
      kv(n, "ADDR4LEN").i32(ceIPv4PrefixLength()).byte(0x0a);
      if (cePsidLength() > 0) {
        kv(n, "PORTSETS").byte(0x27);
        for (let r = 0; r < cePortRangeCount(); r++) {
          rangeText(r, true);
          out.byte(0x20);
        }
        out.byte(0x27).byte(0x0a);
      }
    }
    if (brCount() > 0) {
      kv(n, "BR");
      formatIPv6(out, brAddress(0));
      out.byte(0x0a);
    }
  }
  out.str("RULE_COUNT=").i32(nr).byte(0x0a);
}

/** Renders the calc output into the text buffer: its length, or -1 (configErrorText set). */
export function renderCalc(format: i32): i32 {
  if (bmrIndex() < 0) {
    failAt(missPrefix).str("a CE's address and ports need its end-user prefix (give --prefix <ipv6-prefix>/<len>)");
    return -1;
  }
  if (format < 0 || format > 2) {
    failAt(NAME_NONE).str("calc format ").i32(format).str(" is not 0 (human), 1 (json) or 2 (mapcalc)");
    return -1;
  }
  out.reset();
  if (format == CALC_JSON) json();
  else if (format == CALC_MAPCALC) mapcalc();
  else human();
  if (out.len >= TEXT_BUFFER_SIZE) {
    failAt(NAME_NONE).str("the calc output is longer than the ").i32(TEXT_BUFFER_SIZE).str("-byte text buffer");
    return -1;
  }
  return out.len;
}
