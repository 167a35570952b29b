// IPv4 / IPv6 address text, both ways, for the host's own use: formatting
// what the module reports (engine, lab, stats) and the test packet builders.
// Configuration text (addresses and prefixes in rules, flags, files) is
// parsed by the module (assembly/config/ip.ts), not here.
//
// Parsing is strict; errors are AddressError with a sentence saying what is
// wrong.
//
// Formatting follows RFC 5952 §4 (lower case, no leading zeros, the longest
// run of two or more zero groups shortened to "::", the first on a tie) and
// §5 (IPv4-mapped addresses in dotted quad), which is what inet_ntop prints,
// so our output compares equal to OpenWrt's mapcalc.

/** Bad address or prefix text. */
export class AddressError extends Error {
  override name = "AddressError";
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEXGROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses dotted-quad IPv4 text ("192.0.2.1") to an unsigned 32-bit number. */
export function parseIPv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) throw new AddressError(`'${text}' is not an IPv4 address (need four dotted numbers)`);
  let v = 0;
  for (const p of parts) {
    // Leading zeros are refused: inet_aton reads them as octal, inet_pton refuses them.
    if (!DECIMAL.test(p) || Number(p) > 255) {
      throw new AddressError(`'${text}' is not an IPv4 address ('${p}' is not a number from 0 to 255)`);
    }
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

/** Formats an unsigned 32-bit number as dotted-quad IPv4 text. */
export function formatIPv4(addr: number): string {
  const a = addr >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Parses IPv6 text (RFC 4291 §2.2, including "::" and a dotted-quad tail) to 16 bytes. */
export function parseIPv6(text: string): Uint8Array {
  const bad = (why: string): never => {
    throw new AddressError(`'${text}' is not an IPv6 address (${why})`);
  };
  if (text.length === 0) bad("empty");
  if (text.includes("%")) bad("zone ids are not accepted");
  const halves = text.split("::");
  if (halves.length > 2) bad("'::' may appear only once");
  const groups = (s: string, allowV4Tail: boolean): number[] => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    parts.forEach((p, i) => {
      if (allowV4Tail && i === parts.length - 1 && p.includes(".")) {
        let v4 = 0;
        try {
          v4 = parseIPv4(p);
        } catch {
          bad(`'${p}' is not a dotted-quad IPv4 tail`);
        }
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (!HEXGROUP.test(p)) {
        bad(p === "" ? "empty group" : `'${p}' is not a group of 1 to 4 hex digits`);
      } else {
        out.push(parseInt(p, 16));
      }
    });
    return out;
  };
  let all: number[];
  if (halves.length === 2) {
    const head = groups(halves[0], false);
    const tail = groups(halves[1], true);
    if (head.length + tail.length > 7) bad("too many groups around '::'");
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    all = groups(text, true);
    if (all.length !== 8) bad(`${all.length} groups instead of 8`);
  }
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >>> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return bytes;
}

/**
 * Formats 16 bytes (from `bytes` at `at`, so a view over wasm memory works
 * without a copy) as RFC 5952 text.
 */
export function formatIPv6(bytes: Uint8Array, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1]);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(((g[6] << 16) | g[7]) >>> 0)}`;
  }
  // §4.2.3: the longest run of zero groups, the first on a tie; §4.2.2: not a single group.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}
