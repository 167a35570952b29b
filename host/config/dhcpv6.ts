// RFC 7598 option bytes given as hex → the configure() buffer.
//
// Two shapes are accepted, told apart by the first option code:
//   * whole options, header included: "005e 0020 0059 …" — an S46 container
//     (94 MAP-E, 95 MAP-T, 96 lw4o6) as a DHCPv6 server sends it; several
//     options may follow one another;
//   * a container's payload only: "0059 …" / "005c …" — what a DHCPv6
//     client stores (odhcp6c keeps the payload, and hexlifies option payloads
//     without their header in its OPTION_<code>= variables). The host adds the
//     container header: lw4o6 when the payload starts with S46_V4V6BIND (92),
//     else the type given (MAP-E by default).
// The host does not parse further: the module is the one parser. Offsets in
// its errors are mapped back to the user's hex.
//
// Note: OpenWrt's odhcp6c does not export hex in MAPE / MAPT / LW4O6 but
// mapcalc rule strings (see openwrt.ts); source.ts accepts those too.

import { fail } from "./errors.js";
import { CONTAINER_OF, OPTION, OptionWriter, writeIaPrefix, writeLocal, type EncodedConfig, type LocalSettings, type MapType, type Named } from "./options.js";
import type { Prefix6 } from "../ip.js";

/** Hex text → bytes. Spaces, colons, dashes and a leading 0x are ignored. */
export function parseHex(text: string, field: string): Uint8Array {
  let t = text.trim().replace(/^0x/i, "");
  t = t.replace(/[\s:.-]/g, "");
  const bad = /[^0-9a-fA-F]/.exec(t);
  if (bad) fail(field, `'${bad[0]}' is not a hex digit`);
  if (t.length === 0) fail(field, "no bytes");
  if (t.length % 2) fail(field, `odd number of hex digits (${t.length})`);
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const CONTAINERS: readonly number[] = [OPTION.S46_CONT_MAPE, OPTION.S46_CONT_MAPT, OPTION.S46_CONT_LW];
const PAYLOAD_FIRST: readonly number[] = [OPTION.S46_RULE, OPTION.S46_BR, OPTION.S46_DMR, OPTION.S46_V4V6BIND];

export interface HexInput {
  hex: string;
  field: string;
  /** Container type for payload-only hex (default: lw4o6 if it starts with a binding, else map-e). */
  type?: MapType;
  endUserPrefix?: Named<Prefix6>;
  local: LocalSettings;
}

/** Builds the configure() buffer from hex: IAPREFIX and local settings, then the user's bytes. */
export function encodeHex(input: HexInput): EncodedConfig {
  const user = parseHex(input.hex, input.field);
  const first = user.length >= 2 ? (user[0] << 8) | user[1] : -1;
  const w = new OptionWriter();
  // Our options go first and the user's bytes last, so that a length in the
  // user's hex that runs too far runs off the end of the buffer (TRUNCATED at
  // the user's byte) instead of into options the user never wrote.
  if (input.endUserPrefix) writeIaPrefix(w, input.endUserPrefix);
  writeLocal(w, input.local);
  if (!CONTAINERS.includes(first) && PAYLOAD_FIRST.includes(first)) {
    const type = input.type ?? (first === OPTION.S46_V4V6BIND ? "lw4o6" : "map-e");
    if (user.length > 0xffff) fail(input.field, "payload longer than 65535 bytes");
    const at = w.length;
    w.u16(CONTAINER_OF[type]);
    w.u16(user.length);
    w.spans.push({ start: at, end: at + 4, name: `${input.field} (the ${type} container header added around the payload)` });
  }
  const start = w.length;
  w.bytes(user);
  w.spans.push({ start, end: w.length, name: input.field, userOffset: 0 });
  return {
    bytes: w.result(),
    spans: w.spans,
    binary: true,
    endUserPrefix: input.endUserPrefix?.value,
    missing: { rules: input.field, br: input.field, dmr: input.field, endUserPrefix: "--prefix", binding: input.field },
  };
}
