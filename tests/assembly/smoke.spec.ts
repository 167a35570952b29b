import { abiVersion } from "../../assembly/index";
describe("module", () => {
  it("has an ABI version", () => {
    expect<i32>(abiVersion()).toBe(1);
    expect<i32>(memory.size()).toBe(128);
  });
});
