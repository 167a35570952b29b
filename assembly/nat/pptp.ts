// PPTP calls of the CE (RFC 2637): the state the control-connection ALG
// (datapath/pptp.ts) makes so that PPTP's GRE, which has a call ID but no
// port, can cross a shared address. No packet parsing here.
//
// The call ID the CE hands the server for a LAN client's call is the
// external TCP port of that client's control connection — a value of the
// CE's port set, allocated by the NAPT with the connection (nat.ts), as
// Linux's nf_nat_pptp uses the NATed source port. So:
//   - no second allocator, and no other CE sharing the address can hold it:
//     the BR (datapath/br.ts, settings.brPptp) routes inbound GRE by that
//     call ID exactly as it routes a destination port;
//   - one call per control connection (Linux has the same limit): a new
//     Outgoing-Call-Request on the same connection replaces the call.
// A call is found inbound by (server, our call ID) and outbound by
// (client, server, the server's call ID); both are unique because the ext
// port is unique per mapping, and a mapping per (client, port).
//
// Memory: one fixed table in static memory, PPTP_CALLS records of 24 bytes,
// looked up by a linear scan (a home router holds a handful of VPN calls;
// 64 × 24 bytes stay in two cache pages):
//
//    0        4        8       10       12       14    15    16            24
//   +--------+--------+-------+--------+--------+-----+-----+-------------+
//   |client  |server  |extId  |clientId|serverId|flags| -   |  last (ms)  |
//   +--------+--------+-------+--------+--------+-----+-----+-------------+
//   flags: F_USED, F_SERVER_ID (serverId learned: from Outgoing-Call-Reply,
//   or given by Incoming-Call-Reply). A call idles out after
//   PPTP_CALL_TIMEOUT_MS without GRE or control messages for it (Linux's
//   GRE stream timeout); an expired record is free for the next call.
//
// Handles are record indexes 0..PPTP_CALLS-1; -1 is "none".

/** Calls the CE holds at once. */
export const PPTP_CALLS: i32 = 64;
/** Idle timeout of a call, ms (Linux: nf_conntrack_gre stream timeout, 180 s). */
export const PPTP_CALL_TIMEOUT_MS: u64 = 180000;

const C_SIZE: usize = 24;
const C_CLIENT: usize = 0;
const C_SERVER: usize = 4;
const C_EXT_ID: usize = 8;
const C_CLIENT_ID: usize = 10;
const C_SERVER_ID: usize = 12;
const C_FLAGS: usize = 14;
const C_LAST: usize = 16;

const F_USED: u8 = 1;
const F_SERVER_ID: u8 = 2;

const CALLS: usize = memory.data(<i32>(PPTP_CALLS * <i32>C_SIZE), 8);

// @ts-ignore: decorator
@inline function rec(i: i32): usize { return CALLS + <usize>i * C_SIZE; }

/** True when record i holds a call that has not idled out at `now`. */
function live(i: i32, now: u64): bool {
  const r = rec(i);
  if ((load<u8>(r, C_FLAGS) & F_USED) == 0) return false;
  return now < load<u64>(r, C_LAST) + PPTP_CALL_TIMEOUT_MS;
}

/** Forgets every call (a new configuration: the port set may differ). */
export function pptpReset(): void {
  memory.fill(CALLS, 0, <usize>PPTP_CALLS * C_SIZE);
}

/**
 * Opens (or replaces: same server and call ID) the call of `client` whose
 * own call ID `clientId` is sent to `server` as `extId`. `serverId` is the
 * server's call ID when known (Incoming-Call-Reply), else -1 (learned from
 * the Outgoing-Call-Reply by pptpCallLearnServerId). Returns the handle,
 * or -1 when every record holds a live call.
 */
export function pptpCallOpen(client: u32, server: u32, extId: i32, clientId: i32, serverId: i32, now: u64): i32 {
  let free = -1;
  for (let i = 0; i < PPTP_CALLS; i++) {
    const r = rec(i);
    if (live(i, now)) {
      if (load<u32>(r, C_SERVER) == server && <i32>load<u16>(r, C_EXT_ID) == extId) { free = i; break; }
    } else if (free < 0) {
      free = i;
    }
  }
  if (free < 0) return -1;
  const r = rec(free);
  store<u32>(r, client, C_CLIENT);
  store<u32>(r, server, C_SERVER);
  store<u16>(r, <u16>extId, C_EXT_ID);
  store<u16>(r, <u16>clientId, C_CLIENT_ID);
  store<u16>(r, serverId < 0 ? 0 : <u16>serverId, C_SERVER_ID);
  store<u8>(r, serverId < 0 ? F_USED : F_USED | F_SERVER_ID, C_FLAGS);
  store<u64>(r, now, C_LAST);
  return free;
}

/** The live call `server` knows as `extId` (inbound GRE, the server's control messages), refreshed; -1 when none. */
export function pptpCallByExt(server: u32, extId: i32, now: u64): i32 {
  for (let i = 0; i < PPTP_CALLS; i++) {
    const r = rec(i);
    if (load<u32>(r, C_SERVER) == server && <i32>load<u16>(r, C_EXT_ID) == extId && live(i, now)) {
      store<u64>(r, now, C_LAST);
      return i;
    }
  }
  return -1;
}

/**
 * The live call of `client` to `server` whose server call ID is
 * `serverId` (outbound GRE carries the server's call ID), refreshed; -1
 * when none (also while the server has not answered the call).
 */
export function pptpCallByServerId(client: u32, server: u32, serverId: i32, now: u64): i32 {
  for (let i = 0; i < PPTP_CALLS; i++) {
    const r = rec(i);
    if (load<u32>(r, C_CLIENT) == client && load<u32>(r, C_SERVER) == server &&
        <i32>load<u16>(r, C_SERVER_ID) == serverId && (load<u8>(r, C_FLAGS) & F_SERVER_ID) != 0 && live(i, now)) {
      store<u64>(r, now, C_LAST);
      return i;
    }
  }
  return -1;
}

/** Records the server's call ID of call c (its Outgoing-Call-Reply). */
export function pptpCallLearnServerId(c: i32, serverId: i32): void {
  if (<u32>c >= <u32>PPTP_CALLS) return;
  const r = rec(c);
  store<u16>(r, <u16>serverId, C_SERVER_ID);
  store<u8>(r, load<u8>(r, C_FLAGS) | F_SERVER_ID, C_FLAGS);
}

/** Ends call c (Call-Disconnect-Notify): its GRE is refused from now on. */
export function pptpCallClose(c: i32): void {
  if (<u32>c >= <u32>PPTP_CALLS) return;
  store<u8>(rec(c), 0, C_FLAGS);
}

/** The LAN client of call c. */
export function pptpCallClient(c: i32): u32 { return <u32>c < <u32>PPTP_CALLS ? load<u32>(rec(c), C_CLIENT) : 0; }
/** The client's own call ID of call c. */
export function pptpCallClientId(c: i32): i32 { return <u32>c < <u32>PPTP_CALLS ? <i32>load<u16>(rec(c), C_CLIENT_ID) : 0; }
/** The call ID (one of our ports) the server knows call c by. */
export function pptpCallExtId(c: i32): i32 { return <u32>c < <u32>PPTP_CALLS ? <i32>load<u16>(rec(c), C_EXT_ID) : 0; }

/** Live calls at `now` (a gauge for tests and stats). */
export function pptpCallCount(now: u64): i32 {
  let n = 0;
  for (let i = 0; i < PPTP_CALLS; i++) if (live(i, now)) n++;
  return n;
}
