/**
 * The one seeded PRNG of a run (sfc32: small, fast, 128-bit state that fits in a checkpoint). Everything random in
 * training derives its seed from it, so a run is reproduced from its config's seed alone.
 */
export class SeededRandom {
  private state: [number, number, number, number];

  constructor(seed: number | readonly [number, number, number, number]) {
    if (typeof seed === 'number') {
      this.state = [0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0];
      // Discard the first outputs: sfc32 needs a few rounds to mix a low-entropy seed.
      for (let i = 0; i < 15; i++) this.nextUint32();
    } else {
      this.state = [...seed] as [number, number, number, number];
    }
  }

  nextUint32(): number {
    let [a, b, c, d] = this.state;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.state = [a, b, c, d];
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A 31-bit seed for a component (a data source, an initialiser) that takes its own seed. */
  seed(): number {
    return this.nextUint32() >>> 1;
  }

  getState(): [number, number, number, number] {
    return [...this.state] as [number, number, number, number];
  }
}

/** A seed for (run seed, purpose, index) that does not depend on how many numbers were drawn before. */
export function deriveSeed(seed: number, purpose: string, index = 0): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (const ch of `${purpose}:${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return new SeededRandom(h).seed();
}
