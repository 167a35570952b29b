// configFromArgs / configure under random records, arguments and files:
// every input ends in a length or an error line, never a trap. Its own spec
// (a fresh instance): the framework's strings are never freed under the stub
// runtime, and the heap beside the module's fixed arena is small.
import { textBuffer, configFromArgs, configErrorTextLength, configErrorFieldLength } from "../../assembly/config/api";
import { configure } from "../../assembly/map/api";

let at = 0;

describe("hostile input never traps", () => {
  it("random records, arguments and files end in a length or an error line", () => {
    let seed: u32 = 0x5eed;
    const words: string[] = ["--config", "--uci", "--interface", "--rule", "--br", "--prefix", "--dhcpv6",
      "--dhcpv6-type", "--legacy-iid", "--tunnel-mtu", "--mss-clamp", "wan6_mape", "2403:9200::/32,203.86.225.0/28,16,4",
      "2403:9200:1234::/48", "005e0004ffff", "type=map-e,ealen=16", "{\"rules\": [", "config interface 'x'\n\toption proto 'map'\n",
      "option ealen '", "\"", "'", "\\", "\n", "=", ",", "::", "/", "0x", "map-t", "lw4o6"];
    let errors = 0;
    let ok = 0;
    let badError = 0;
    for (let round = 0; round < 3000; round++) {
      at = 0;
      seed = seed * 1103515245 + 12345;
      const n = <i32>((seed >> 16) % 8);
      for (let i = 0; i < n; i++) {
        seed = seed * 1103515245 + 12345;
        const kind = (seed >> 24) % 7 == 0 ? 2 : 1;
        const w = unchecked(words[<i32>((seed >> 8) % <u32>words.length)]);
        seed = seed * 1103515245 + 12345;
        const w2 = (seed >> 20) % 3 == 0 ? unchecked(words[<i32>((seed >> 4) % <u32>words.length)]) : "";
        // (the framework's strings are never freed under the stub runtime: keep them few and small)
        const p = textBuffer() + <usize>at;
        store<u8>(p, <u8>kind);
        let len = 0;
        for (let k = 0; k < w.length; k++) { store<u8>(p + 5 + <usize>len, <u8>w.charCodeAt(k)); len++; }
        for (let k = 0; k < w2.length; k++) { store<u8>(p + 5 + <usize>len, <u8>w2.charCodeAt(k)); len++; }
        if ((seed >> 12) % 5 == 0) { store<u8>(p + 5 + <usize>len, <u8>(seed >> 3)); len++; }
        store<u32>(p + 1, <u32>len);
        at += 5 + len;
      }
      // Sometimes a record length that lies.
      if ((seed >> 9) % 11 == 0 && at > 5) store<u32>(textBuffer() + 1, <u32>(seed >> 2));
      const r = configFromArgs(at, <i32>((seed >> 5) % 3));
      if (r < 0) {
        errors++;
        if (configErrorTextLength() == 0 || configErrorFieldLength() == 0) badError++;
      } else {
        ok++;
        if (configure(r) != 0 && configErrorTextLength() == 0) badError++;
      }
    }
    expect<i32>(badError).toBe(0);
    expect<i32>(errors).toBeGreaterThan(100);
    expect<i32>(ok).toBeGreaterThan(100);
  });
});
