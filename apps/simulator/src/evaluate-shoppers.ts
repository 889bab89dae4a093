// Every evaluated shopper ranks its held-out items on its own device state, after each federated round.
import type { SequenceSettings, SharedWeights } from '@fedrec/core/client'
import { evaluateAll, type HeldOut, means, scoreRow, shopperQuery } from './evaluate.ts'
import type { SplitDataset, SplitUser } from './split.ts'

/**
 * Every evaluated shopper ranks its held-out items with its own state on the device: the pooled embeddings
 * of what it had touched before (and its private vector where one is kept, zero before its first round).
 * @example const { test, validation } = evaluateShoppers(split, weights, vectors, sequenceSettingsOf(config))
 */
export function evaluateShoppers(
  split: SplitDataset,
  weights: SharedWeights,
  vectors: (Float32Array | undefined)[],
  settings: SequenceSettings,
) {
  const scoreFor = (user: SplitUser, index: number, which: HeldOut) => {
    const query = shopperQuery(weights, user, which, settings, vectors[index])
    return (row: number) => scoreRow(weights, query, row)
  }
  return {
    test: means(evaluateAll(split, scoreFor, 'test')),
    validation: means(evaluateAll(split, scoreFor, 'validation')),
  }
}
