// The lab's network: eight namespaces joined by veth pairs, all created by
// one Lab (host/netns.ts), so all of them go at teardown.
//
//   lan  (IPv4 only) 192.168.1.2 ── ce  (MAP-E CE on TUN mape0) ──┐
//   lan2 (IPv4 only) 192.168.2.2 ── ce2 (second CE: the mesh)   ──┤ isp (IPv6-only core)
//                                                                 ├── br1 (BR, anycast BR address) ──┐
//                                                                 └── br2 (BR, same address)      ──┴─ inet (IPv4 servers
//                                                                                                          198.51.100.1, .2)
// The BR address is an anycast route in isp (to br1; failover moves it to
// br2), as is the return route for the rule's IPv4 prefix in inet.
//
// Modes, so the benchmark compares like with like on the same wires:
//   mape    CEs and BRs run `mape ce` / `mape br` on TUNs; isp carries IPv6 only.
//   kernel  plain IPv4 routing end to end (isp also carries IPv4): the baseline.
//   nat44   kernel routing plus nftables NAT44 on the CEs into their MAP IPv4
//           address and a port range of the same size as their port set.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab } from "../netns.js";
import { PRESETS, ceValues, type CeValues, type Preset } from "./presets.js";

export type Mode = "mape" | "kernel" | "nat44";

export const INET1 = "198.51.100.1";
export const INET2 = "198.51.100.2";
export const LAN1 = "192.168.1.2";
export const LAN2 = "192.168.2.2";

export interface Topology {
  lab: Lab;
  mode: Mode;
  preset: Preset;
  legacyIid: boolean;
  ns: { lan: string; ce: string; isp: string; br1: string; br2: string; inet: string; lan2: string; ce2: string };
  ce1: CeValues;
  ce2: CeValues;
  /** isp's interface toward ce (the capture point of the tshark check). */
  ispCeLink: string;
}

export interface BuildOptions {
  mode: Mode;
  preset?: Preset;
  legacyIid?: boolean;
  prefix?: string;
  /**
   * Also give the ISP links and BRs IPv4 (kernel-mode routes), so setMode()
   * can switch the same namespaces between mape, kernel and nat44: the
   * benchmark. (The lab proper keeps the ISP core IPv6-only.)
   */
  dual?: boolean;
  /**
   * Leave the LAN hosts' TX offloads (checksum, TSO, GSO) on, as a user has
   * them: the CEs get TSO super-packets (`mape lab --offload`). By default
   * they are off, so captures show complete checksums.
   */
  offload?: boolean;
}

/** Builds the namespaces, links, addresses and routes (no data path processes yet). */
export function buildTopology(opts: BuildOptions): Topology {
  const preset = opts.preset ?? PRESETS.janog;
  const legacyIid = opts.legacyIid ?? preset.legacyIid;
  const ce1 = ceValues(preset, preset.ce1Prefix, legacyIid);
  const ce2 = ceValues(preset, preset.ce2Prefix, legacyIid);
  const lab = new Lab(opts.prefix ?? `mapetest-${process.pid}-lab`);
  try {
    const ns = {
      lan: lab.netns("lan"),
      ce: lab.netns("ce"),
      isp: lab.netns("isp"),
      br1: lab.netns("br1"),
      br2: lab.netns("br2"),
      inet: lab.netns("inet"),
      lan2: lab.netns("lan2"),
      ce2: lab.netns("ce2"),
    };
    const t: Topology = { lab, mode: opts.mode, preset, legacyIid, ns, ce1, ce2, ispCeLink: "ce1" };
    wire(t, opts.dual ?? false, opts.offload ?? false);
    return t;
  } catch (e) {
    lab.teardown();
    throw e;
  }
}

function noRpFilter(lab: Lab, ns: string): void {
  lab.sysctl(ns, "net.ipv4.conf.all.rp_filter", 0);
  lab.sysctl(ns, "net.ipv4.conf.default.rp_filter", 0);
}

function wire(t: Topology, dual: boolean, offload: boolean): void {
  const { lab, ns, mode, preset } = t;
  const kernel = mode !== "mape" || dual;
  for (const n of Object.values(ns)) noRpFilter(lab, n);
  for (const n of [ns.ce, ns.ce2, ns.isp, ns.br1, ns.br2]) lab.forwarding(n);

  // LAN sides: IPv4 only.
  lab.veth(ns.lan, "eth0", ns.ce, "lan0");
  lab.addr(ns.lan, "eth0", `${LAN1}/24`);
  lab.addr(ns.ce, "lan0", "192.168.1.1/24");
  lab.route(ns.lan, "default", { via: "192.168.1.1" });
  lab.veth(ns.lan2, "eth0", ns.ce2, "lan0");
  lab.addr(ns.lan2, "eth0", `${LAN2}/24`);
  lab.addr(ns.ce2, "lan0", "192.168.2.1/24");
  lab.route(ns.lan2, "default", { via: "192.168.2.1" });
  // End hosts compute their own checksums: clean captures (TOOLCHAIN.md).
  for (const n of [ns.lan, ns.lan2]) {
    try {
      lab.execSync(n, "ethtool", offload ? ["-K", "eth0", "tx", "on", "tso", "on", "gso", "on"] : ["-K", "eth0", "tx", "off"]);
    } catch {
      // ethtool missing: captures may show partial checksums on the LAN only
    }
  }

  // ISP core: IPv6 (and IPv4 in the kernel modes).
  const links: [string, string, string, number][] = [
    [ns.ce, "wan0", "ce1", 1],
    [ns.ce2, "wan0", "ce2", 2],
    [ns.br1, "isp0", "br1", 11],
    [ns.br2, "isp0", "br2", 12],
  ];
  for (const [n, dev, ispDev, k] of links) {
    lab.veth(n, dev, ns.isp, ispDev);
    lab.addr(n, dev, `2001:db8:${k.toString(16)}::2/64`);
    lab.addr(ns.isp, ispDev, `2001:db8:${k.toString(16)}::1/64`);
    lab.route(n, "default", { via: `2001:db8:${k.toString(16)}::1` });
    if (kernel) {
      lab.addr(n, dev, `10.0.${k}.2/24`);
      lab.addr(ns.isp, ispDev, `10.0.${k}.1/24`);
    }
  }
  // BR to the IPv4 internet, two links (one per BR).
  lab.veth(ns.br1, "inet0", ns.inet, "br1");
  lab.addr(ns.br1, "inet0", "198.18.1.1/24");
  lab.addr(ns.inet, "br1", "198.18.1.2/24");
  lab.veth(ns.br2, "inet0", ns.inet, "br2");
  lab.addr(ns.br2, "inet0", "198.18.2.1/24");
  lab.addr(ns.inet, "br2", "198.18.2.2/24");
  lab.addr(ns.inet, "lo", `${INET1}/32`);
  lab.addr(ns.inet, "lo", `${INET2}/32`);
  lab.route(ns.inet, preset.ipv4Prefix, { via: "198.18.1.1" });
  lab.route(ns.isp, `${preset.br}/128`, { via: "2001:db8:b::2" });

  if (mode === "mape") {
    for (const [n, ce] of [[ns.ce, t.ce1], [ns.ce2, t.ce2]] as const) {
      lab.tuntap(n, "mape0");
      lab.up(n, "mape0");
      // IPv4 into the tunnel with room for the IPv6 header; the MAP address
      // routed (not assigned) to the TUN (TOOLCHAIN.md).
      lab.route(n, "default", { dev: "mape0", mtu: 1460 });
      lab.route(n, `${ce.mapAddress}/128`, { dev: "mape0" });
    }
    lab.route(ns.isp, t.ce1.endUserPrefix, { via: "2001:db8:1::2" });
    lab.route(ns.isp, t.ce2.endUserPrefix, { via: "2001:db8:2::2" });
    for (const n of [ns.br1, ns.br2]) {
      lab.tuntap(n, "mape0");
      lab.up(n, "mape0");
      lab.route(n, `${preset.br}/128`, { dev: "mape0" });
      lab.route(n, preset.ipv4Prefix, { dev: "mape0", mtu: 1460 });
    }
    lab.route(ns.br1, "default", { via: "198.18.1.2" });
    lab.route(ns.br2, "default", { via: "198.18.2.2" });
  }
  if (kernel) {
    // Kernel baselines: IPv4 over the same wires.
    if (mode !== "mape") {
      lab.route(ns.ce, "default", { via: "10.0.1.1" });
      lab.route(ns.ce2, "default", { via: "10.0.2.1" });
    }
    lab.route(ns.isp, "192.168.1.0/24", { via: "10.0.1.2" });
    lab.route(ns.isp, "192.168.2.0/24", { via: "10.0.2.2" });
    lab.route(ns.isp, `${t.ce1.ipv4}/32`, { via: "10.0.1.2" });
    lab.route(ns.isp, `${t.ce2.ipv4}/32`, { via: "10.0.2.2" });
    lab.route(ns.isp, "default", { via: "10.0.11.2" });
    for (const [n, k, inetVia] of [[ns.br1, 11, "198.18.1.2"], [ns.br2, 12, "198.18.2.2"]] as const) {
      lab.route(n, "192.168.0.0/16", { via: `10.0.${k}.1` });
      if (mode !== "mape") {
        lab.route(n, preset.ipv4Prefix, { via: `10.0.${k}.1` });
        lab.route(n, "default", { via: inetVia });
      }
    }
    lab.route(ns.inet, "192.168.0.0/16", { via: "198.18.1.1" });
    if (mode === "nat44") {
      nat44(t, ns.ce, "wan0", t.ce1);
      nat44(t, ns.ce2, "wan0", t.ce2);
    }
  }
}

/**
 * Switches a `dual` topology between modes in place: the CEs' IPv4 default
 * route (into the TUN, or kernel routing), the BRs' route for the rule's
 * IPv4 prefix, and the NAT44 tables. The data paths keep running; traffic
 * reaches them only in mape mode.
 */
export function setMode(t: Topology, mode: Mode): void {
  const { lab, ns, preset } = t;
  const x = (n: string, ...args: string[]): string => lab.execSync(n, "ip", args);
  for (const [n, k] of [[ns.ce, 1], [ns.ce2, 2]] as const) {
    if (mode === "mape") x(n, "-4", "route", "replace", "default", "dev", "mape0", "mtu", "1460");
    else x(n, "-4", "route", "replace", "default", "via", `10.0.${k}.1`);
    try {
      lab.execSync(n, "nft", ["delete", "table", "ip", "lab"]);
    } catch {
      // no NAT44 table
    }
  }
  for (const [n, k] of [[ns.br1, 11], [ns.br2, 12]] as const) {
    if (mode === "mape") x(n, "-4", "route", "replace", preset.ipv4Prefix, "dev", "mape0", "mtu", "1460");
    else x(n, "-4", "route", "replace", preset.ipv4Prefix, "via", `10.0.${k}.1`);
  }
  if (mode === "nat44") {
    nat44(t, ns.ce, "wan0", t.ce1);
    nat44(t, ns.ce2, "wan0", t.ce2);
  }
  t.mode = mode;
}

/** nftables NAT44 on a CE: its LAN into its MAP address, a port range as large as its port set. */
function nat44(t: Topology, ns: string, wan: string, ce: CeValues): void {
  const first = ce.ports[0];
  const last = first + ce.ports.length - 1;
  const script = [
    "table ip lab {",
    "  chain post {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname "${wan}" meta l4proto { tcp, udp } snat to ${ce.ipv4}:${first}-${last}`,
    `    oifname "${wan}" snat to ${ce.ipv4}`,
    "  }",
    "}",
  ].join("\n");
  t.lab.execSync(ns, "nft", ["-f", writeTemp(script, `nat44-${ns}.nft`)]);
}

/**
 * Moves the anycast BR (IPv6 route in isp) and the return route of the
 * rule's IPv4 prefix (in inet) to BR `which`: the failover test.
 */
export function switchBr(t: Topology, which: 1 | 2): void {
  const { lab, ns, preset } = t;
  const k = which === 1 ? "b" : "c";
  lab.execSync(ns.isp, "ip", ["-6", "route", "replace", `${preset.br}/128`, "via", `2001:db8:${k}::2`]);
  lab.execSync(ns.inet, "ip", ["-4", "route", "replace", preset.ipv4Prefix, "via", `198.18.${which}.1`]);
  if (t.mode !== "mape") {
    lab.execSync(ns.isp, "ip", ["-4", "route", "replace", "default", "via", `10.0.${which === 1 ? 11 : 12}.2`]);
    lab.execSync(ns.inet, "ip", ["-4", "route", "replace", "192.168.0.0/16", "via", `198.18.${which}.1`]);
  }
}

const temps: string[] = [];

/** A file under a per-process temporary directory (removed by removeTemps()). */
export function writeTemp(text: string, name = `f${temps.length}`): string {
  if (temps.length === 0) temps.push(mkdtempSync(join(tmpdir(), "mape-lab-")));
  const file = join(temps[0], name);
  writeFileSync(file, text);
  return file;
}

/** The lab's temporary directory (created on first use). */
export function tempDir(): string {
  if (temps.length === 0) temps.push(mkdtempSync(join(tmpdir(), "mape-lab-")));
  return temps[0];
}

export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}
