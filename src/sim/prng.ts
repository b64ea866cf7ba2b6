/**
 * A seeded pseudo-random generator (mulberry32): the simulator must give the same run for the
 * same seed on every machine, which Math.random and node:crypto cannot.
 */
export type Random = () => number

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A uniform integer from lo to hi, both included (the seed's randomInt(0, 11) is 0..10). */
export function randomInt(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1))
}
