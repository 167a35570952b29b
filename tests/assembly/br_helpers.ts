// Test helpers for the BR specs (not a spec): a BR configured through the
// same provisioning path as the host uses (RFC 7598 option bytes), a batch
// runner over the data-path exports, and small readers for the outputs.
//
// The domain: the JANOG interop rule (2403:9200::/32, 203.86.225.0/28,
// ea-len 16, a = 4: k = 12) and a second rule (2001:db8::/40,
// 192.0.2.0/24, ea-len 16, a = 6: k = 8), BR addresses 2403:9200:fff0::2
// and 2403:9200:fff0::3.
import { W, OPT_MAPE, LOCAL_MODE, LOCAL_LEGACY_IID, LOCAL_TUNNEL_MTU, MODE_BR, parseIPv6,
  formatIPv6 } from "./map_helpers";
import { init, start, process, inputPtr, inputLengths, outputOffsets, outputLengths } from "../../assembly/datapath/process";
import { counterPackets, D_FIRST, D_END, D2_FIRST, D2_END, D3_FIRST, D3_END, C_IN_IPV4, C_IN_IPV6, C_FWD_TO_IPV4, C_FWD_TO_IPV6,
  C_HELD, D_UNKNOWN_VERSION } from "../../assembly/datapath/counters";
import { setIpv4Fragment, setIpv4TotalLength, ipv4FillChecksum, ipv4HeaderLength, ipv4TotalLength,
  setIpv4TtlUpdate, ipv4Ttl } from "../../assembly/wire/ipv4";
import { IPV6_HEADER_LEN } from "../../assembly/wire/ipv6";
import { LOCAL_INNER_FRAGMENTATION } from "../../assembly/settings";

export const BR1 = "2403:9200:fff0::2";
export const BR2 = "2403:9200:fff0::3";
/** JANOG CE: 203.86.225.1, PSID 0x234 (ports 4660, 8756, …). */
export const CE_A_RFC = "2403:9200:1234::cb56:e101:234";
export const CE_A_LEGACY = "2403:9200:1234:0:cb:56e1:102:3400";
/** Second rule's CE: 192.0.2.18, PSID 0x34 (ports 1232..1235, 2256.., …). */
export const CE_B_RFC = "2001:db8:12:3400:0:c000:212:34";

/** Writes and installs the BR configuration; starts the data path. Returns configure's result. */
export function setupBr(legacy: i32 = 0, tunnelMtu: i32 = 0, innerFragmentation: i32 = 0): i32 {
  W.reset();
  const c = W.open(OPT_MAPE);
  const r1 = W.ruleOpen(0, 16, "203.86.225.0", 28, "2403:9200::", 32);
  W.portParams(4, 0, 0).close(r1);
  const r2 = W.ruleOpen(0, 16, "192.0.2.0", 24, "2001:db8::", 40);
  W.portParams(6, 0, 0).close(r2);
  W.br(BR1).br(BR2).close(c);
  const l = W.localOpen();
  W.setting(LOCAL_MODE, 1, MODE_BR);
  if (legacy) W.setting(LOCAL_LEGACY_IID, 1, 1);
  if (tunnelMtu) W.setting(LOCAL_TUNNEL_MTU, 2, tunnelMtu);
  if (innerFragmentation) W.setting(LOCAL_INNER_FRAGMENTATION, 1, 1);
  W.close(l);
  const e = W.configure();
  if (e != 0) return e;
  if (init(16, 1024, 1) != 0) return -1;
  return start(0);
}

/** Copies IPv6 text into a 16-byte buffer (parseIPv6's buffer is shared). */
export function addr6(dst: usize, text: string): usize {
  memory.copy(dst, parseIPv6(text), 16);
  return dst;
}

/** Where input i is written. */
export function input(i: i32): usize { return inputPtr(i); }

/** Sets the length of input i. */
export function setLen(i: i32, len: i32): void {
  store<i32>(inputLengths() + (<usize>i << 2), len);
}

let outCount = 0;

/** Processes `n` inputs at time `t` ms; returns the number of outputs. */
export function run(n: i32, t: f64 = 1000): i32 {
  outCount = process(n, t);
  return outCount;
}

export function outPtr(j: i32): usize { return <usize>load<i32>(outputOffsets() + (<usize>j << 2)); }
export function outLen(j: i32): i32 { return load<i32>(outputLengths() + (<usize>j << 2)); }

/** IPv6 source / destination of output j as text. */
export function outSrc6(j: i32): string { return formatIPv6(outPtr(j) + 8); }
export function outDst6(j: i32): string { return formatIPv6(outPtr(j) + 24); }
/** The version nibble of output j. */
export function outVersion(j: i32): i32 { return <i32>(load<u8>(outPtr(j)) >> 4); }

export function packets(c: i32): i32 { return <i32>counterPackets(c); }

/** Inputs minus outcomes: 0 when every input left with exactly one outcome. */
export function unbalanced(): i32 {
  let outcomes: u64 = counterPackets(C_FWD_TO_IPV4) + counterPackets(C_FWD_TO_IPV6) + counterPackets(C_HELD);
  for (let c = D_FIRST; c < D_END; c++) outcomes += counterPackets(c);
  for (let c = D2_FIRST; c < D2_END; c++) outcomes += counterPackets(c);
  for (let c = D3_FIRST; c < D3_END; c++) outcomes += counterPackets(c);
  // An input of an unknown IP version is counted only as its drop.
  const inputs = counterPackets(C_IN_IPV4) + counterPackets(C_IN_IPV6) + counterPackets(D_UNKNOWN_VERSION);
  return <i32>(inputs - outcomes);
}

/**
 * Writes into `dst` the IPv4 fragment of the whole packet at `whole`
 * holding data bytes [off, off + n) (off a multiple of 8), DF clear, MF
 * unless it is the last. Returns its length.
 */
export function fragmentOf(dst: usize, whole: usize, off: i32, n: i32): i32 {
  const hl = ipv4HeaderLength(whole);
  const dataLen = ipv4TotalLength(whole) - hl;
  memory.copy(dst, whole, <usize>hl);
  memory.copy(dst + <usize>hl, whole + <usize>(hl + off), <usize>n);
  setIpv4TotalLength(dst, hl + n);
  setIpv4Fragment(dst, false, off + n < dataLen, off);
  ipv4FillChecksum(dst);
  return hl + n;
}

/** Clears DF of the IPv4 packet at p (fixing the header checksum). */
export function clearDf(p: usize): void {
  setIpv4Fragment(p, false, false, 0);
  ipv4FillChecksum(p);
}

/** The packet at p as a router forwards it: TTL − 1 (incremental checksum). */
export function decTtl(p: usize): void {
  setIpv4TtlUpdate(p, ipv4Ttl(p) - 1);
}

/** Sets the TTL of the packet at p (fixing the header checksum). */
export function setTtl(p: usize, ttl: i32): void {
  setIpv4TtlUpdate(p, ttl);
}

export const V6 = IPV6_HEADER_LEN;
