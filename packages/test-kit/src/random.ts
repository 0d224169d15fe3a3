/**
 * A seeded PRNG (mulberry32): every randomised run is reproducible from the seed it prints on
 * failure, which `Math.random` cannot give.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max], inclusive, from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

/** The base seed of a run: `E2E_SEED` from the environment to replay a failure, else a fresh one. */
export function baseSeed(): number {
  const fromEnv = process.env.E2E_SEED
  return fromEnv === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fromEnv)
}

/** How a failure names its seed, with the command line that replays it. */
export function describeSeed(seed: number): string {
  return `seed ${seed} (replay with E2E_SEED=${seed})`
}
