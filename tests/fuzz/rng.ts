// A small deterministic PRNG (sfc32, Chris Doty-Humphrey's Small Fast
// Counting generator): the same seed gives the same packets on every
// machine, so a failure is a reproduction.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** A uniform u32. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  byte(): number {
    return this.u32() & 0xff;
  }

  /** A byte biased toward boundary values (0, 0xff, 0x7f, 0x80, 1). */
  interestingByte(): number {
    return this.chance(0.5) ? this.pick([0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x45, 0x60]) : this.byte();
  }

  /** A u16 biased toward boundary values. */
  interesting16(): number {
    return this.chance(0.6) ? this.pick([0, 1, 7, 8, 19, 20, 21, 39, 40, 41, 576, 1280, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff]) : this.u32() & 0xffff;
  }
}
