import type { SharedWeights } from '@fedrec/core'
import type { SplitDataset } from './split.ts'

/**
 * The popularity baseline as a model: zero embeddings and item bias = the number of shoppers who touched the
 * item in training. Scored with a zero user vector it ranks every shopper's items by popularity, through
 * the same scoring code as the trained models.
 * @example const pop = popularityWeights(split, 32)
 */
export function popularityWeights(split: SplitDataset, dim: number): SharedWeights {
  const numItems = split.itemIds.length
  const itemBias = new Float32Array(numItems)
  for (const user of split.users) for (const row of user.trainRows) itemBias[row]! += 1
  return { numItems, dim, itemEmbedding: new Float32Array(numItems * dim), itemBias }
}
