// MAP rules the lab can run with (`mape lab --preset …`), and what each CE of
// the lab gets under them. The CE values (IPv4 address, ports, MAP IPv6
// address) come from the wasm engine itself (as `mape calc` prints them), so
// the lab's routes always agree with the data path's arithmetic.

import { Engine } from "../engine.js";
import { readConfigSource } from "../config/source.js";

export interface Preset {
  name: string;
  title: string;
  ipv6Prefix: string;
  ipv4Prefix: string;
  eaLength: number;
  psidOffset: number;
  br: string;
  /** End-user prefixes of CE1 and CE2 (both in the rule's domain). */
  ce1Prefix: string;
  ce2Prefix: string;
  legacyIid: boolean;
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  janog: {
    name: "janog",
    title: "JANOG interop rule, 15 ports a CE",
    ipv6Prefix: "2403:9200::/32",
    ipv4Prefix: "203.86.225.0/28",
    eaLength: 16,
    psidOffset: 4,
    br: "2403:9200:fff0::2",
    ce1Prefix: "2403:9200:1234::/48",
    ce2Prefix: "2403:9200:5123::/48",
    legacyIid: false,
  },
  rfc7597: {
    name: "rfc7597",
    title: "RFC 7597 Appendix A example, 252 ports a CE",
    ipv6Prefix: "2001:db8::/40",
    ipv4Prefix: "192.0.2.0/24",
    eaLength: 16,
    psidOffset: 6,
    br: "2001:db8:ffff::1",
    ce1Prefix: "2001:db8:12:3400::/56",
    ce2Prefix: "2001:db8:56:7800::/56",
    legacyIid: false,
  },
  v6plus: {
    name: "v6plus",
    title: "v6plus-like rule, 240 ports a CE",
    ipv6Prefix: "240b:10::/31",
    ipv4Prefix: "106.72.0.0/15",
    eaLength: 25,
    psidOffset: 4,
    br: "2404:9200:225:100::64",
    ce1Prefix: "240b:11:a1b2:c300::/56",
    ce2Prefix: "240b:11:5678:9a00::/56",
    legacyIid: false,
  },
};

export interface CeValues {
  endUserPrefix: string;
  ipv4: string;
  psid: number;
  ports: number[];
  mapAddress: string;
}

/** What the engine computes for a CE with `prefix` under the preset's rule. */
export function ceValues(p: Preset, prefix: string, legacyIid: boolean): CeValues {
  const rule = `${p.ipv6Prefix},${p.ipv4Prefix},${p.eaLength},${p.psidOffset}`;
  const argv = ["--rule", rule, "--br", p.br, "--prefix", prefix];
  if (legacyIid) argv.push("--legacy-iid");
  const engine = Engine.load();
  engine.configure(readConfigSource(argv, "calc").encoded);
  const r = engine.calc();
  const ports: number[] = [];
  for (const [a, b] of r.portRanges) for (let x = a; x <= b; x++) ports.push(x);
  return { endUserPrefix: prefix, ipv4: r.ipv4Address, psid: r.psid, ports, mapAddress: r.ceIPv6Address };
}

/**
 * The JSON configuration (docs/config.md) the lab gives `mape ce` / `mape br`:
 * the rule as a forwarding rule too (so CE to CE traffic goes direct: the
 * mesh test), short DNS timeouts (a 15-port CE must not sit on a port for a
 * DNS answer that came), everything else default.
 */
export function labConfig(p: Preset, prefix: string | undefined, legacyIid: boolean): object {
  const cfg: Record<string, unknown> = {
    type: "map-e",
    rules: [{ ipv6Prefix: p.ipv6Prefix, ipv4Prefix: p.ipv4Prefix, eaLength: p.eaLength, psidOffset: p.psidOffset, forwarding: true }],
    br: p.br,
    timeouts: { dns: 2 },
  };
  if (prefix) cfg.endUserPrefix = prefix;
  if (legacyIid) cfg.legacyIid = true;
  return cfg;
}
