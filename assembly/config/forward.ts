// Static forwards in the configuration sources (docs/config.md, "Inbound
// ports"): one text syntax everywhere —
//
//   <tcp|udp>:<external port>=<LAN IPv4>[:<LAN port>]     e.g. tcp:4390=192.168.1.10:80
//
// (the LAN port defaults to the external one) — from `--forward` (repeatable),
// the JSON config's "forwards" (an array of these strings) and UCI's
// `list forward '…'` in the map interface's section. Each becomes one LOCAL
// FORWARD (28) sub-option (nat/pins.ts draws it); configure() refuses an
// external port outside the CE's port set with the entry's name and the set's
// ranges (encode.ts moduleMessage, FORWARD_PORT).
import { spanFind, spanIs, spanDecimal } from "./text";
import { parseIPv4, parsedV4, addrError } from "./ip";
import { failAt, names, nameBegin, nameEnd, nameStart, nameLength } from "./model";
import { FORWARD_MAX } from "../nat/pins";

const R_SIZE: usize = 16;
const R_PROTO: usize = 0;
const R_EXT: usize = 2;
const R_ADDR: usize = 4;
const R_PORT: usize = 8;
const R_NAME: usize = 12;
const rows: usize = memory.data(FORWARD_MAX * <i32>R_SIZE, 8);
let count = 0;

@inline function row(i: i32): usize { return rows + <usize>i * R_SIZE; }

/** Forgets the forwards of the last configuration (modelReset). */
export function forwardModelReset(): void { count = 0; }
export function forwardModelCount(): i32 { return count; }
export function forwardModelProto(i: i32): i32 { return <i32>load<u8>(row(i), R_PROTO); }
export function forwardModelExt(i: i32): i32 { return <i32>load<u16>(row(i), R_EXT); }
export function forwardModelAddr(i: i32): u32 { return load<u32>(row(i), R_ADDR); }
export function forwardModelPort(i: i32): i32 { return <i32>load<u16>(row(i), R_PORT); }
export function forwardModelName(i: i32): i32 { return load<i32>(row(i), R_NAME); }

/**
 * Parses one forward `<tcp|udp>:<ext>=<ipv4>[:<port>]` (n bytes at p) into
 * the model; `field` names where it came from ("--forward", "forwards[2]").
 * The entry's own name is `<field> '<text>'`. 0, or -1 with the error set.
 */
export function forwardText(p: usize, n: i32, field: i32): i32 {
  const b = nameBegin();
  names.esc(nameStart(field), nameLength(field)).str(" ").quoted(p, n);
  const name = nameEnd(b);
  const colon = spanFind(p, n, 0x3a);
  const eq = spanFind(p, n, 0x3d);
  if (colon < 0 || eq < colon) return syntax(name);
  let proto = 0;
  if (spanIs(p, colon, "tcp")) proto = 6;
  else if (spanIs(p, colon, "udp")) proto = 17;
  else {
    failAt(name).quoted(p, colon).str(" is not tcp or udp");
    return -1;
  }
  const ext = spanDecimal(p + <usize>(colon + 1), eq - colon - 1, 65535);
  if (ext <= 0) {
    failAt(name).str("the external port ").quoted(p + <usize>(colon + 1), eq - colon - 1).str(" is not a port from 1 to 65535");
    return -1;
  }
  const hp = p + <usize>(eq + 1);
  const hn = n - eq - 1;
  const c2 = spanFind(hp, hn, 0x3a);
  const an = c2 < 0 ? hn : c2;
  if (!parseIPv4(hp, an)) {
    failAt(name).str("the LAN address ").out(addrError);
    return -1;
  }
  const addr = parsedV4;
  let port: i64 = ext;
  if (c2 >= 0) {
    port = spanDecimal(hp + <usize>(c2 + 1), hn - c2 - 1, 65535);
    if (port <= 0) {
      failAt(name).str("the LAN port ").quoted(hp + <usize>(c2 + 1), hn - c2 - 1).str(" is not a port from 1 to 65535");
      return -1;
    }
  }
  for (let i = 0; i < count; i++) {
    if (forwardModelProto(i) != proto) continue;
    if (forwardModelExt(i) == <i32>ext) {
      failAt(name).str("the external port is forwarded already (").esc(nameStart(forwardModelName(i)), nameLength(forwardModelName(i))).str(")");
      return -1;
    }
    if (forwardModelAddr(i) == addr && forwardModelPort(i) == <i32>port) {
      failAt(name).str("this LAN endpoint is forwarded already, one external port each (")
        .esc(nameStart(forwardModelName(i)), nameLength(forwardModelName(i))).str(")");
      return -1;
    }
  }
  if (count >= FORWARD_MAX) {
    failAt(name).str("more than ").i32(FORWARD_MAX).str(" forwards");
    return -1;
  }
  const r = row(count++);
  store<u8>(r, <u8>proto, R_PROTO);
  store<u16>(r, <u16>ext, R_EXT);
  store<u32>(r, addr, R_ADDR);
  store<u16>(r, <u16>port, R_PORT);
  store<i32>(r, name, R_NAME);
  return 0;
}

function syntax(name: i32): i32 {
  failAt(name).str("is not <tcp|udp>:<external port>=<LAN IPv4>[:<LAN port>]");
  return -1;
}
