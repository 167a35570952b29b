import { PortSet, portSetInit, portSetPort, portSetIndex, portSetHas, psidOfPort,
  portSetRangeCount, portSetRangeFirst, portSetRangeLast } from "../../assembly/map/portset";

const s = new PortSet();

describe("port set (RFC 7597 §5.1)", () => {
  it("RFC 7597 Appendix A example: a=6, k=8, PSID 0x34", () => {
    portSetInit(s, 6, 8, 0x34);
    expect<i32>(s.count).toBe(252);
    expect<i32>(portSetRangeCount(s)).toBe(63);
    expect<i32>(portSetRangeFirst(s, 0)).toBe(1232);
    expect<i32>(portSetRangeLast(s, 0)).toBe(1235);
    expect<i32>(portSetRangeFirst(s, 62)).toBe(64720);
    expect<i32>(portSetRangeLast(s, 62)).toBe(64723);
  });

  it("JANOG rule: a=4, k=12, PSID 564 has 15 single-port ranges", () => {
    portSetInit(s, 4, 12, 564);
    expect<i32>(s.count).toBe(15);
    expect<i32>(portSetPort(s, 0)).toBe(4660);
    expect<i32>(portSetPort(s, 14)).toBe(62004);
  });

  it("index and port are inverse over the whole set, and nothing else is in it", () => {
    portSetInit(s, 4, 8, 195);
    // Count disagreements instead of asserting per port: with the stub
    // runtime every expect() allocates and memory is fixed.
    let inSet = 0;
    let wrong = 0;
    for (let p = 0; p < 65536; p++) {
      const i = portSetIndex(s, p);
      if (i >= 0) {
        inSet++;
        if (portSetPort(s, i) != p || psidOfPort(4, 8, p) != 195) wrong++;
      } else if (psidOfPort(4, 8, p) == 195) {
        wrong++;
      }
    }
    expect<i32>(wrong).toBe(0);
    expect<i32>(inSet).toBe(240);
  });

  it("k = 0 is one range above 2^(16-a)", () => {
    portSetInit(s, 6, 0, 0);
    expect<i32>(portSetRangeCount(s)).toBe(1);
    expect<i32>(portSetRangeFirst(s, 0)).toBe(1024);
    expect<i32>(portSetRangeLast(s, 0)).toBe(65535);
    expect<i32>(s.count).toBe(64512);
  });

  it("a = 0 includes port 0 and has no excluded ports", () => {
    portSetInit(s, 0, 4, 3);
    expect<i32>(s.count).toBe(4096);
    expect<i32>(portSetPort(s, 0)).toBe(3 << 12);
    expect<i32>(psidOfPort(0, 4, 0x3fff)).toBe(3);
  });

  it("portSetHas is portSetIndex >= 0 for every port, PSID and offset shape", () => {
    // (a, k, PSID): the RFC example, k = 0, a = 0, a whole-16-bit PSID,
    // the zeroed set of a CE without a BMR; ports past 16 bits too.
    const shapes: StaticArray<i32> = [6, 8, 0x34, 6, 0, 0, 0, 4, 3, 0, 16, 0xBEEF, 4, 12, 564, 0, 0, 0, 15, 1, 1];
    let wrong = 0;
    for (let c = 0; c < shapes.length; c += 3) {
      portSetInit(s, shapes[c], shapes[c + 1], shapes[c + 2]);
      for (let p = -2; p < 65536 + 70000; p++) {
        if (portSetHas(s, p) != (portSetIndex(s, p) >= 0)) wrong++;
      }
    }
    memory.fill(changetype<usize>(s), 0, offsetof<PortSet>());
    for (let p = 0; p < 65536; p++) {
      if (portSetHas(s, p) != (portSetIndex(s, p) >= 0)) wrong++;
    }
    expect<i32>(wrong).toBe(0);
  });
});
