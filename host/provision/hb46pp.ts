// HB46PP (v6 Promotion Council "IPv4 over IPv6 provisioning", v6mig-prov
// v1.0) on the wire: the DNS TXT discovery (§3.1) and the HTTP(S) request
// (§3.3). The answer's JSON is the module's to parse (config/rules.ts); the
// retry and refetch logic is in state.ts.
//
//   TXT 4over6.info   "v=v6mig-1 url=https://vne.example.jp/rule.cgi t=b"
//   GET <url>?vendorid=<OUI>-<name>&product=<name>&version=<d_d_d>&capability=map_e,hubspoke,mesh[&token=…]
//   200 JSON · 307 Location: next server · 403 / 404 not served (unknown source) · other: error
//
// The query goes over IPv6 to the line's resolver (a node:dns Resolver
// with explicit servers), the request over IPv6 (§3.3: MUST).

import { Resolver } from "node:dns/promises";
import { isIPv6 } from "node:net";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

/** §3.1: the domain whose TXT record names the provisioning server. */
export const HB46PP_DOMAIN = "4over6.info";

/** What we send as capability: what this CE does with an HB46PP answer (MAP-E, both modes). */
export const CAPABILITIES = ["map_e", "hubspoke", "mesh"] as const;

/** The identity sent (§3.3). The vendor id is the operator's to give; the default is locally administered, nobody's OUI. */
export interface ClientIdentity {
  /** "<OUI, 6 hex digits>-<up to 24 of [0-9a-zA-Z_]>" */
  vendorid: string;
  /** up to 32 of [0-9a-zA-Z_-] */
  product: string;
  /** up to 32 of [0-9_] */
  version: string;
}

export const DEFAULT_IDENTITY: ClientIdentity = { vendorid: "020000-mape_wasm", product: "mape-wasm", version: "0_1_0" };

/** Checks the identity fields against §3.3's shapes; returns a message or undefined. */
export function identityProblem(id: ClientIdentity): string | undefined {
  if (!/^[0-9a-fA-F]{6}(-[0-9a-zA-Z_]{1,24})?$/.test(id.vendorid)) return `--vendorid: '${id.vendorid}' is not <OUI: 6 hex digits>[-<up to 24 of 0-9 a-z A-Z _>]`;
  if (!/^[0-9a-zA-Z_-]{1,32}$/.test(id.product)) return `product '${id.product}' is not 1 to 32 of 0-9 a-z A-Z - _`;
  if (!/^[0-9_]{1,32}$/.test(id.version)) return `version '${id.version}' is not 1 to 32 of 0-9 _`;
  return undefined;
}

/** A parsed TXT record. */
export interface Discovery {
  url: string;
  /** t=b: verify the server's certificate; t=a: do not. */
  verify: boolean;
  /** The record as received. */
  record: string;
}

/** Why discovery did not give a server. */
export class DiscoveryError extends Error {
  override name = "DiscoveryError";
  /** "absent": NXDOMAIN / NODATA / no v=v6mig-1 record (§3.6 c.2); "failed": anything else (c.3). */
  readonly kind: "absent" | "failed";
  constructor(kind: "absent" | "failed", message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Parses the TXT record strings (each record's chunks already joined) into
 * the one v6mig-1 record. Several v6mig-1 records (§3.1 says one) take the
 * first and say nothing; a record with an unknown version is not ours.
 */
export function parseTxt(records: string[]): Discovery {
  for (const record of records) {
    const fields = new Map<string, string>();
    for (const word of record.trim().split(/\s+/)) {
      const eq = word.indexOf("=");
      if (eq > 0) fields.set(word.slice(0, eq), word.slice(eq + 1));
    }
    if (fields.get("v") !== "v6mig-1") continue;
    const url = fields.get("url");
    const t = fields.get("t");
    if (!url) throw new DiscoveryError("failed", `TXT '${record}': no url=`);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new DiscoveryError("failed", `TXT '${record}': url '${url}' is not a URL`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new DiscoveryError("failed", `TXT '${record}': url '${url}' is not http or https`);
    if (t !== "a" && t !== "b") throw new DiscoveryError("failed", `TXT '${record}': t is '${t ?? ""}', not a or b`);
    return { url, verify: t === "b" && u.protocol === "https:", record };
  }
  throw new DiscoveryError("absent", records.length === 0 ? "no TXT record" : `no v=v6mig-1 TXT record (got ${records.map((r) => JSON.stringify(r)).join(", ")})`);
}

export interface DiscoverOptions {
  domain?: string;
  /** Resolver addresses (IPv6; "[addr]:port" or "addr"). None: the system's IPv6 resolvers. */
  servers?: string[];
  timeoutMs?: number;
}

/** The DNS servers to ask: the given ones, else the system's IPv6 ones (§3.3 wants IPv6 throughout). */
export function resolverServers(given: string[] | undefined, system: string[]): string[] {
  if (given && given.length > 0) return given;
  const v6 = system.filter((s) => isIPv6(s.replace(/^\[|\](:\d+)?$/g, "")));
  return v6.length > 0 ? v6 : system;
}

/** §3.1: asks for the TXT record of the domain. Throws DiscoveryError. */
export async function discover(opts: DiscoverOptions = {}): Promise<Discovery> {
  const domain = opts.domain ?? HB46PP_DOMAIN;
  const r = new Resolver({ timeout: opts.timeoutMs ?? 5000, tries: 2 });
  r.setServers(resolverServers(opts.servers, r.getServers()));
  let answer: string[][];
  try {
    answer = await r.resolveTxt(domain);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTFOUND" || code === "ENODATA") throw new DiscoveryError("absent", `TXT ${domain}: ${code === "ENOTFOUND" ? "NXDOMAIN" : "NODATA"}`);
    throw new DiscoveryError("failed", `TXT ${domain}: ${code ?? (e as Error).message}`);
  }
  return parseTxt(answer.map((chunks) => chunks.join("")));
}

/** The request URL with §3.3's parameters (the server ignores ones it does not know). */
export function requestUrl(base: string, id: ClientIdentity, token?: string): string {
  const u = new URL(base);
  u.searchParams.set("vendorid", id.vendorid);
  u.searchParams.set("product", id.product);
  u.searchParams.set("version", id.version);
  // Commas as the spec writes them (URLSearchParams would send %2C).
  let s = `${u.toString()}&capability=${CAPABILITIES.join(",")}`;
  if (token && /^[0-9a-f]{64}$/.test(token)) s += `&token=${token}`;
  return s;
}

/** Why a fetch gave no rules. */
export class FetchError extends Error {
  override name = "FetchError";
  /** "no-answer": no HTTP answer (§3.6 f.2); "not-served": 403/404; "error": another status or a bad answer (h.2). */
  readonly kind: "no-answer" | "not-served" | "error";
  readonly status?: number;
  constructor(kind: "no-answer" | "not-served" | "error", message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

export interface FetchOptions {
  /** Verify the certificate (t=b and not --insecure). */
  verify: boolean;
  /** Extra trust anchors (PEM), e.g. the VNE's own CA (§3.2 c). */
  ca?: string | Buffer;
  timeoutMs?: number;
  /** Largest answer accepted. */
  maxBytes?: number;
  /** Redirects (307) followed at most. */
  maxRedirects?: number;
}

/** The answer of a successful fetch. */
export interface Fetched {
  body: Uint8Array;
  /** The URL that answered 200 (after redirects). */
  url: string;
}

function getOnce(url: string, opts: FetchOptions): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const secure = u.protocol === "https:";
    const req = (secure ? httpsRequest : httpRequest)(
      u,
      {
        method: "GET",
        family: 6, // §3.3: over IPv6
        timeout: opts.timeoutMs ?? 15000,
        headers: { accept: "application/json" },
        ...(secure ? { rejectUnauthorized: opts.verify, ca: opts.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        const max = opts.maxBytes ?? 256 * 1024;
        res.on("data", (c: Buffer) => {
          n += c.length;
          if (n > max) {
            req.destroy(new FetchError("error", `${u.host}: answer longer than ${max} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => resolve({ res, body: Buffer.concat(chunks as unknown as Uint8Array[]) }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new FetchError("no-answer", `${u.host}: no answer within ${opts.timeoutMs ?? 15000} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** §3.3: GET the rules. Throws FetchError. */
export async function fetchRules(url: string, opts: FetchOptions): Promise<Fetched> {
  let at = url;
  for (let hop = 0; ; hop++) {
    let got: { res: IncomingMessage; body: Buffer };
    try {
      got = await getOnce(at, opts);
    } catch (e) {
      if (e instanceof FetchError) throw e;
      const err = e as NodeJS.ErrnoException;
      const tls = typeof err.code === "string" && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS/.test(err.code);
      // A refused certificate is an answer of sorts, but not one to take rules from: an error (h.2).
      throw new FetchError(tls ? "error" : "no-answer", `${new URL(at).host}: ${err.code ?? err.message}${tls ? " (certificate not trusted: give --ca <file>, or --insecure)" : ""}`);
    }
    const status = got.res.statusCode ?? 0;
    if (status === 200) return { body: new Uint8Array(got.body), url: at };
    if (status === 307) {
      const loc = got.res.headers.location;
      if (!loc) throw new FetchError("error", `${new URL(at).host}: 307 without Location`, status);
      if (hop >= (opts.maxRedirects ?? 3)) throw new FetchError("error", `${new URL(at).host}: more than ${opts.maxRedirects ?? 3} redirects`, status);
      at = new URL(loc, at).toString();
      continue;
    }
    if (status === 403 || status === 404) throw new FetchError("not-served", `${new URL(at).host}: ${status} (this line is not served)`, status);
    throw new FetchError("error", `${new URL(at).host}: HTTP ${status}`, status);
  }
}
