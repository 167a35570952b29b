// The configurations the fuzzers run with, in one place: the Node fuzz
// tests (CE and BR) and the libFuzzer targets (tests/fuzz/native, whose
// build writes these bytes into configs.h) use the same ones.

import { configFromJson } from "../../host/config/source.js";
import { readConfigSource } from "../../host/config/source.js";

/** The JANOG interop CE (15-port sets). */
export const CE_ARGS = ["--rule", "2403:9200::/32,203.86.225.0/28,16,4", "--br", "2403:9200:fff0::2", "--prefix", "2403:9200:1234::/48"];

/**
 * A BR serving four rules of different shapes, with two BR addresses:
 * shared addresses with 12-bit PSIDs (JANOG), 8-bit PSIDs (v6plus-like),
 * full addresses (PSID length 0: any protocol passes) and IPv4 prefixes
 * (ea-len shorter than the IPv4 suffix: each CE gets a /24).
 */
export const BR_JSON = {
  type: "map-e",
  mode: "br",
  rules: [
    { ipv6Prefix: "2403:9200::/32", ipv4Prefix: "203.86.225.0/28", eaLength: 16, psidOffset: 4 },
    { ipv6Prefix: "240b:10::/31", ipv4Prefix: "106.72.0.0/15", eaLength: 25, psidOffset: 4 },
    { ipv6Prefix: "2001:db8:100::/40", ipv4Prefix: "192.0.2.0/24", eaLength: 8 },
    { ipv6Prefix: "2001:db8:200::/40", ipv4Prefix: "198.18.0.0/16", eaLength: 8 },
  ],
  br: ["2403:9200:fff0::2", "2403:9200:fff0::3"],
};

export function ceConfig(): Uint8Array {
  return readConfigSource(CE_ARGS, "ce").encoded.bytes;
}

export function brConfig(): Uint8Array {
  return configFromJson(BR_JSON).encoded.bytes;
}
