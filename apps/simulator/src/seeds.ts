// Seeds of the simulated shoppers' devices, so a run replays exactly in-process and over HTTP.

/** A 32-bit seed from several integers (a murmur-style mix), so every shopper and round has its own stream. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h >>> 0
}

/** What a shopper's device passes `trainClientRound` for row padding (docs/privacy.md, "Row padding"). */
export interface ShopperPadding {
  padSeed?: number
  pseudoItems?: readonly number[]
  padPrior?: 'uniform'
}

/**
 * The row-padding inputs of shopper `index`'s round, the same in-process and over HTTP: the device's secret
 * padding seed and the pseudo-items it kept from its last round (both dropped with `--pad-fresh`, so they are
 * drawn anew every round), and the uniform draw with `--pad-uniform`.
 * @example trainClientRound(tf, { ...round, ...shopperPadding(options, seed, index, kept[index]) })
 */
export function shopperPadding(
  options: { padFresh?: boolean; padUniform?: boolean },
  seed: number,
  index: number,
  kept: readonly number[] | undefined,
): ShopperPadding {
  return {
    ...(options.padFresh ? {} : { padSeed: mixSeed(seed, 0x9ad, index), pseudoItems: kept ?? [] }),
    ...(options.padUniform ? { padPrior: 'uniform' as const } : {}),
  }
}
