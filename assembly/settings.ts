// Local settings: the sub-options of OPTION_MAPE_LOCAL (0xFF01, ours, never on
// the wire; docs/abi.md §1). Every setting is one i32 field of `Settings`, one
// code constant and one row of SETTING_ROWS; the parser (applySetting) is
// generic over the rows. Adding a setting is three lines:
//
//   1. export const LOCAL_FOO: i32 = 5;               (the code)
//   2. foo: i32 = 0;                                  (a field of Settings)
//   3. LOCAL_FOO, 2, 0, 600, 30, <i32>offsetof<Settings>("foo"),   (a row)
//
// and a row in the table of docs/abi.md. Values are big-endian unsigned
// integers of `width` bytes (1, 2 or 4); out of [min, max] is LOCAL_VALUE.

/** MODE values. */
export const MODE_CALC: i32 = 0;
export const MODE_CE: i32 = 1;
export const MODE_BR: i32 = 2;

/** Sub-option codes of OPTION_MAPE_LOCAL. */
export const LOCAL_MODE: i32 = 1;
export const LOCAL_LEGACY_IID: i32 = 2;
export const LOCAL_TUNNEL_MTU: i32 = 3;
export const LOCAL_HOP_LIMIT: i32 = 4;
export const LOCAL_FILTERING: i32 = 5;
export const LOCAL_MSS_CLAMP: i32 = 6;
export const LOCAL_TC_FROM_TOS: i32 = 7;
export const LOCAL_UDP_TIMEOUT: i32 = 8;
export const LOCAL_DNS_TIMEOUT: i32 = 9;
export const LOCAL_TCP_ESTABLISHED_TIMEOUT: i32 = 10;
export const LOCAL_TCP_TRANSITORY_TIMEOUT: i32 = 11;
export const LOCAL_ICMP_TIMEOUT: i32 = 12;
export const LOCAL_MAX_SESSIONS_PER_HOST: i32 = 13;
export const LOCAL_MAX_SESSIONS_PER_MAPPING: i32 = 14;
export const LOCAL_INNER_FRAGMENTATION: i32 = 15;
/** FTP ALG (datapath/ftp.ts): 1 on, 0 off. */
export const LOCAL_FTP_ALG: i32 = 24;
/** TCP port of the FTP control connections the ALG watches. */
export const LOCAL_FTP_PORT: i32 = 25;
/** CE: the PPTP ALG (TCP 1723 call IDs into the port set, GRE by call ID; datapath/pptp.ts). */
export const LOCAL_PPTP: i32 = 32;
/** BR: route PPTP GRE (version 1) by its call ID as a port (datapath/br.ts). */
export const LOCAL_BR_PPTP: i32 = 33;
/** Fair shares of a full port set (nat.ts natSetFairShare): 0 off, 1 on. */
export const LOCAL_FAIR_SHARE: i32 = 16;
/** Ports of each protocol's set kept for hosts below their share (nat.ts natSetFairShare). */
export const LOCAL_FAIR_RESERVE: i32 = 17;
/** TCP port reuse toward distinct remotes (nat.ts natSetPortReuse): 0 off, 1 on, 2 auto (on below 1024 ports). */
export const LOCAL_PORT_REUSE: i32 = 18;
/** PORT_REUSE values. */
export const PORT_REUSE_OFF: i32 = 0;
export const PORT_REUSE_ON: i32 = 1;
export const PORT_REUSE_AUTO: i32 = 2;
/** DNS proxy (assembly/dns/proxy.ts): the LAN IPv4 address it answers on, 0 = no proxy. */
export const LOCAL_DNS_PROXY_ADDRESS: i32 = 20;
/** DNS proxy: the LAN port it answers on. */
export const LOCAL_DNS_PROXY_PORT: i32 = 21;
/**
 * DNS proxy: the upstream resolvers, n × 16 bytes of IPv6 addresses (not a
 * row of the table: provision.ts reads it; it overrides OPTION_DNS_SERVERS).
 */
export const LOCAL_DNS_UPSTREAM: i32 = 22;

/**
 * The local settings in force. Fields are i32 so the table can store any of
 * them. Instances live in static memory (no allocator: the release module
 * has no imports), so the initialisers below do not run: settingsDefaults()
 * sets every field.
 */
@unmanaged
export class Settings {
  /** MODE_CALC, MODE_CE or MODE_BR. */
  mode: i32 = 0;
  /** 1: pre-RFC interface id `0(8) IPv4(32) PSID(16) 0(8)` (v6plus/OCN CEs); 0: RFC 7597 §6. */
  legacyIid: i32 = 0;
  /** IPv6 path MTU of the tunnel (RFC 7597 §8.3.1), 1280..9000. */
  tunnelMtu: i32 = 0;
  /** Hop limit of encapsulated packets, 1..255. */
  hopLimit: i32 = 0;
  /** RFC 4787 REQ-8 filtering: 0 endpoint-independent, 1 address-dependent, 2 address-and-port-dependent. */
  filtering: i32 = 0;
  /** TCP MSS clamp on SYNs: 0 off, 1 from the tunnel path MTU, else that value. */
  mssClamp: i32 = 0;
  /** 1: the outer traffic class copies the inner TOS (RFC 2983 uniform model); 0: zero. */
  tcFromTos: i32 = 0;
  /** Seconds: UDP mapping (RFC 4787 REQ-5, >= 120). */
  udpTimeout: i32 = 0;
  /** Seconds: UDP to port 53 (DNS alone exhausted 15-port CEs in the field). */
  dnsTimeout: i32 = 0;
  /** Seconds: TCP established (RFC 5382 REQ-5, >= 7440). */
  tcpEstablishedTimeout: i32 = 0;
  /** Seconds: TCP transitory (RFC 5382 REQ-5, >= 240). */
  tcpTransitoryTimeout: i32 = 0;
  /** Seconds: ICMP query (RFC 5508 REQ-1, >= 60). */
  icmpTimeout: i32 = 0;
  /** NAT sessions one LAN host may hold (more evicts its own oldest); 0 = no limit. */
  maxSessionsPerHost: i32 = 0;
  /** NAT sessions one mapping (internal address:port) may hold (more evicts its oldest); 0 = no limit. */
  maxSessionsPerMapping: i32 = 0;
  /**
   * A DF-clear IPv4 packet too big for the tunnel: 0 encapsulates it and
   * fragments the IPv6 tunnel packet (RFC 2473 §7.2, through RFC 7597
   * §8.3.1); 1 cuts it into IPv4 fragments first, each in its own IPv6
   * packet (a far end that checks the port of every decapsulated packet,
   * as Snabb's lwAFTR does, drops the non-first ones).
   */
  innerFragmentation: i32 = 0;
  /** 1: the FTP ALG rewrites PORT / EPRT from the LAN and 227 from LAN servers (datapath/ftp.ts); 0: off. */
  ftpAlg: i32 = 0;
  /** TCP port of FTP control connections (RFC 959: 21). */
  ftpPort: i32 = 0;
  /**
   * CE, 1 [default]: the PPTP ALG — the client's call ID on the TCP 1723
   * control connection is rewritten to a value of the port set, and GRE
   * (protocol 47, version 1) is translated by call ID (datapath/pptp.ts).
   * 0: GRE is refused as an unsupported protocol, TCP 1723 is plain TCP.
   */
  pptp: i32 = 0;
  /**
   * BR, 0 [default]: GRE is refused toward a shared address (RFC 7597 knows
   * only ports). 1: GRE version 1 toward a CE is routed by its call ID as
   * by a destination port, and GRE from a CE passes the address-only
   * source check (datapath/br.ts).
   */
  brPptp: i32 = 0;
  /** 1: a host below its share of a full port set reclaims from hosts above theirs; a host at its share is refused. */
  fairShare: i32 = 0;
  /** Free ports of a protocol below which only hosts under their share may take one. */
  fairReserve: i32 = 0;
  /** TCP external ports shared toward distinct remotes (RFC 7857 §3): PORT_REUSE_OFF / _ON / _AUTO. */
  portReuse: i32 = 0;
  /** DNS proxy: LAN IPv4 address (host order) it answers on; 0 = off. */
  dnsProxyAddress: i32 = 0;
  /** DNS proxy: LAN port, 1..65535 [53]. */
  dnsProxyPort: i32 = 0;
}

/** Columns of a row. */
const COL_CODE = 0;
const COL_WIDTH = 1;
const COL_MIN = 2;
const COL_MAX = 3;
const COL_DEFAULT = 4;
const COL_FIELD = 5;
const COLS = 6;

// code               width  min    max    default    field of Settings
const SETTING_ROWS: StaticArray<i32> = [
  LOCAL_MODE,         1,     0,     2,     MODE_CALC, <i32>offsetof<Settings>("mode"),
  LOCAL_LEGACY_IID,   1,     0,     1,     0,         <i32>offsetof<Settings>("legacyIid"),
  LOCAL_TUNNEL_MTU,   2,     1280,  9000,  1500,      <i32>offsetof<Settings>("tunnelMtu"),
  LOCAL_HOP_LIMIT,    1,     1,     255,   64,        <i32>offsetof<Settings>("hopLimit"),
  LOCAL_FILTERING,    1,     0,     2,     1,         <i32>offsetof<Settings>("filtering"),
  LOCAL_MSS_CLAMP,    2,     0,     65535, 1,         <i32>offsetof<Settings>("mssClamp"),
  LOCAL_TC_FROM_TOS,  1,     0,     1,     1,         <i32>offsetof<Settings>("tcFromTos"),
  LOCAL_UDP_TIMEOUT,  4,     120,   86400, 300,       <i32>offsetof<Settings>("udpTimeout"),
  LOCAL_DNS_TIMEOUT,  4,     1,     86400, 30,        <i32>offsetof<Settings>("dnsTimeout"),
  LOCAL_TCP_ESTABLISHED_TIMEOUT, 4, 7440, 604800, 7440, <i32>offsetof<Settings>("tcpEstablishedTimeout"),
  LOCAL_TCP_TRANSITORY_TIMEOUT,  4, 240,  86400, 240,  <i32>offsetof<Settings>("tcpTransitoryTimeout"),
  LOCAL_ICMP_TIMEOUT, 4,     60,    86400, 60,        <i32>offsetof<Settings>("icmpTimeout"),
  LOCAL_MAX_SESSIONS_PER_HOST,    4, 0, 4194304, 16384, <i32>offsetof<Settings>("maxSessionsPerHost"),
  LOCAL_MAX_SESSIONS_PER_MAPPING, 4, 0, 4194304, 4096,  <i32>offsetof<Settings>("maxSessionsPerMapping"),
  LOCAL_INNER_FRAGMENTATION, 1, 0,  1,     0,         <i32>offsetof<Settings>("innerFragmentation"),
  LOCAL_FTP_ALG,      1,     0,     1,     1,         <i32>offsetof<Settings>("ftpAlg"),
  LOCAL_FTP_PORT,     2,     1,     65535, 21,        <i32>offsetof<Settings>("ftpPort"),
  LOCAL_PPTP,         1,     0,     1,     1,         <i32>offsetof<Settings>("pptp"),
  LOCAL_BR_PPTP,      1,     0,     1,     0,         <i32>offsetof<Settings>("brPptp"),
  LOCAL_FAIR_SHARE,   1,     0,     1,     1,         <i32>offsetof<Settings>("fairShare"),
  LOCAL_FAIR_RESERVE, 2,     0,     4096,  2,         <i32>offsetof<Settings>("fairReserve"),
  LOCAL_PORT_REUSE,   1,     0,     2,     2,         <i32>offsetof<Settings>("portReuse"),
  LOCAL_DNS_PROXY_ADDRESS,   4, 0,  -1,    0,         <i32>offsetof<Settings>("dnsProxyAddress"),
  LOCAL_DNS_PROXY_PORT,      2, 1,  65535, 53,        <i32>offsetof<Settings>("dnsProxyPort"),
];

const ROW_COUNT = SETTING_ROWS.length / COLS;

/** The settings in force (the data path reads these). */
export const settings: Settings = changetype<Settings>(memory.data(<i32>offsetof<Settings>(), 8));
/** The settings being parsed; copied into `settings` when a configuration installs. */
export const stagingSettings: Settings = changetype<Settings>(memory.data(<i32>offsetof<Settings>(), 8));

/** Puts every setting of `s` at its default. */
export function settingsDefaults(s: Settings): void {
  for (let r = 0; r < ROW_COUNT; r++) {
    const row = r * COLS;
    store<i32>(changetype<usize>(s) + <usize>unchecked(SETTING_ROWS[row + COL_FIELD]),
      unchecked(SETTING_ROWS[row + COL_DEFAULT]));
  }
}

/** Copies every setting of `from` into `to`. */
export function settingsCopy(to: Settings, from: Settings): void {
  memory.copy(changetype<usize>(to), changetype<usize>(from), offsetof<Settings>());
}

/** Row number of a code, -1 when the code is unknown. */
export function settingRow(code: i32): i32 {
  for (let r = 0; r < ROW_COUNT; r++) {
    if (unchecked(SETTING_ROWS[r * COLS + COL_CODE]) == code) return r;
  }
  return -1;
}

/** Width in bytes of the value of row r. */
export function settingWidth(r: i32): i32 {
  return unchecked(SETTING_ROWS[r * COLS + COL_WIDTH]);
}

/** Number of rows (settings), for duplicate tracking. */
export function settingCount(): i32 {
  return ROW_COUNT;
}

/**
 * Reads the big-endian value of row r at `ptr` (the caller has checked the
 * sub-option length equals settingWidth(r)) and stores it into `s`.
 * Returns false when the value is out of the row's range.
 */
export function settingApply(s: Settings, r: i32, ptr: usize): bool {
  const row = r * COLS;
  const width = unchecked(SETTING_ROWS[row + COL_WIDTH]);
  let v: u32 = 0;
  for (let i = 0; i < width; i++) v = (v << 8) | <u32>load<u8>(ptr + <usize>i);
  const min = <u32>unchecked(SETTING_ROWS[row + COL_MIN]);
  const max = <u32>unchecked(SETTING_ROWS[row + COL_MAX]);
  if (v < min || v > max) return false;
  store<i32>(changetype<usize>(s) + <usize>unchecked(SETTING_ROWS[row + COL_FIELD]), <i32>v);
  return true;
}

settingsDefaults(settings);
settingsDefaults(stagingSettings);
