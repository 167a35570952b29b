// `mape lab --auto`: an HB46PP provisioning server for the lab's CEs.
//
//   isp: lo 2001:db8:f::1  dnsmasq  TXT 4over6.info "v=v6mig-1 url=https://[2001:db8:f::1]:8443/rule.cgi t=b"
//                          node https  GET /rule.cgi → rules.json (re-read on every request)
//
// A lab CA and a server certificate for the IP address are made with
// openssl at lab start; the CEs trust the CA (--ca). The answer carries
// PROVISIONED_RULES rules; the lab's rule is the last of them, so the CE
// finds its BMR past 255 others. changeBr() rewrites the answer with a new
// BR address (and moves the BRs to it), the way an operator renumbers.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatIPv6, parseIPv6 } from "../ip.js";
import type { Preset } from "./presets.js";
import { tempDir, writeTemp, type Topology } from "./topology.js";

export const PROV_ADDR = "2001:db8:f::1";
export const PROV_PORT = 8443;
/** Rules in the lab's answer (HB46PP: 256 must be accepted). */
export const PROVISIONED_RULES = 256;
/** The answer's ttl: short, so the CE follows a change within the lab's patience. */
export const PROV_TTL = 10;

/** A BR address next to the preset's (its last byte + 1): the renumbered BR. */
export function altBr(p: Preset): string {
  const b = parseIPv6(p.br);
  b[15] = (b[15] + 1) & 0xff;
  return formatIPv6(b);
}

/** The HB46PP answer: 255 filler rules in 2001:db8:100::/40 …, then the lab's rule. */
export function provisioningAnswer(p: Preset, legacyIid: boolean, br: string, ttl: number): string {
  const rules: object[] = [];
  for (let i = 0; i < PROVISIONED_RULES - 1; i++) {
    rules.push({ ipv6: `2001:db8:${(0x100 + i).toString(16)}::/48`, ipv4: `100.64.${i}.0/24`, ea_length: 16, psid_offset: 6 });
  }
  rules.push({ ipv6: p.ipv6Prefix, ipv4: p.ipv4Prefix, ea_length: p.eaLength, psid_offset: p.psidOffset });
  return JSON.stringify({
    enabler_name: "mape lab",
    service_name: "lab MAP-E",
    ttl,
    order: ["map_e"],
    map_e: { version: legacyIid ? 0 : 1, mesh: true, br, rules },
  });
}

/** The HTTPS server (node -e; argv: key cert addr port file): answers GET /rule.cgi with the file. */
const SERVER = `
const https = require("node:https");
const fs = require("node:fs");
const [key, cert, addr, port, file] = process.argv.slice(1);
let n = 0;
https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
  const u = new URL(req.url, "https://lab");
  n++;
  console.log("GET " + u.pathname + " vendorid=" + u.searchParams.get("vendorid") + " capability=" + u.searchParams.get("capability") + " #" + n);
  if (u.pathname !== "/rule.cgi") { res.writeHead(404); res.end(); return; }
  if (!u.searchParams.get("vendorid")) { res.writeHead(403); res.end(); return; }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(fs.readFileSync(file));
}).listen(Number(port), addr);
setTimeout(() => process.exit(0), 3600000).unref();
`;

export interface Provisioning {
  ca: string;
  file: string;
  url: string;
  br: string;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

/** Makes the CA and the server certificate (SAN: the server's IPv6 address). */
export function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  const ca = join(dir, "lab-ca.pem");
  const caKey = join(dir, "lab-ca.key");
  const key = join(dir, "prov.key");
  const csr = join(dir, "prov.csr");
  const cert = join(dir, "prov.pem");
  const ext = join(dir, "prov.ext");
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey, "-out", ca, "-days", "2", "-subj", "/CN=mape lab CA"]);
  openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=mape lab provisioning"]);
  writeFileSync(ext, `subjectAltName=IP:${PROV_ADDR}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]);
  return { ca, key, cert };
}

/** What Services needs to start the two processes. */
export interface ProvisioningProcs {
  prov: Provisioning;
  dnsmasq: string[];
  https: string[];
}

/** Sets up the address, certificates and answer; returns the commands to run in isp. */
export function prepareProvisioning(t: Topology): ProvisioningProcs {
  const dir = tempDir();
  t.lab.addr(t.ns.isp, "lo", `${PROV_ADDR}/128`);
  const { ca, key, cert } = makeCertificates(dir);
  const file = writeTemp(provisioningAnswer(t.preset, t.legacyIid, t.preset.br, PROV_TTL), "rules.json");
  const url = `https://[${PROV_ADDR}]:${PROV_PORT}/rule.cgi`;
  return {
    prov: { ca, file, url, br: t.preset.br },
    dnsmasq: [
      "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces", `--listen-address=${PROV_ADDR}`,
      `--txt-record=4over6.info,v=v6mig-1 url=${url} t=b`, "--pid-file=" + join(dir, "dnsmasq-isp.pid"), "--user=root",
    ],
    https: ["-e", SERVER, key, cert, PROV_ADDR, String(PROV_PORT), file],
  };
}

/** Rewrites the answer with the renumbered BR (the CEs see it at their next fetch). */
export function publishBr(p: Provisioning, preset: Preset, legacyIid: boolean, br: string): void {
  writeFileSync(p.file, provisioningAnswer(preset, legacyIid, br, PROV_TTL));
  p.br = br;
}
