// Recommending on the device: the whole catalogue scored against a shopper's state on the tfjs backend.
import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'
import { type ItemFeatures, itemTable } from './item-features.ts'
import type { SharedWeights } from './weights.ts'

/** A row of the model and its score, as returned best first. */
export interface ScoredRow {
  row: number
  score: number
}

/** Scores the whole catalogue on the backend; the item table stays resident there between calls. */
export interface Scorer {
  /** The `k` rows with the highest u·e_i + b_i, best first, skipping `exclude` (e.g. what was bought). */
  topK(userVector: Float32Array, k: number, exclude?: ReadonlySet<number>): Promise<ScoredRow[]>
  /** The `k` rows whose embeddings are most cosine-similar to `row`'s, best first, without `row` itself. */
  similarRows(row: number, k: number): Promise<ScoredRow[]>
  /** Frees the backend memory; the scorer cannot be used afterwards. */
  dispose(): void
}

/** Options of {@link createScorer}. */
export interface ScorerOptions {
  /**
   * The catalogue's item features (`featureRows`), for a model with a feature table: every item is scored by
   * its id row plus its pooled features, so items never trained — and items added to the catalogue after the
   * model (rows past its `numItems`) — are scored by their features.
   */
  itemFeatures?: ItemFeatures
}

/**
 * Uploads the item table once and answers recommendation queries against it. Create a new scorer (and
 * dispose the old one) when a new model version arrives.
 * @example
 * const scorer = createScorer(tf, weights, { itemFeatures })
 * const best = await scorer.topK(userVector, 10, new Set(purchasedRows)) // [{ row, score }, ...]
 * scorer.dispose()
 */
export function createScorer(tf: typeof TF, model: SharedWeights, options: ScorerOptions = {}): Scorer {
  // Composed once on the CPU (numItems × features × d adds), so the backend keeps one table as before.
  const weights = itemTable(model, options.itemFeatures)
  const { numItems, dim } = weights
  const embedding = tf.tensor2d(weights.itemEmbedding, [numItems, dim])
  const bias = tf.tensor1d(weights.itemBias)
  // Unit-length rows for cosine similarity, made on first use: many shoppers never ask for similar items.
  let unitRows: TF.Tensor2D | undefined
  let disposed = false

  const checkAlive = () => {
    if (disposed) throw new Error('scorer used after dispose()')
  }

  /** Takes the top `k + skipped` of `scores` on the backend, then drops the skipped rows here. */
  async function best(scores: () => TF.Tensor1D, k: number, skip: (row: number) => boolean, skipped: number) {
    const want = Math.min(numItems, k + skipped)
    if (k === 0 || want === 0) return []
    const { values, indices } = tf.tidy(() => tf.topk(scores(), want))
    try {
      const [v, i] = await Promise.all([values.data(), indices.data()])
      const out: ScoredRow[] = []
      for (let j = 0; j < i.length && out.length < k; j++) {
        const row = i[j]!
        if (!skip(row)) out.push({ row, score: v[j]! })
      }
      return out
    } finally {
      values.dispose()
      indices.dispose()
    }
  }

  return {
    async topK(userVector, k, exclude) {
      checkAlive()
      checkK(k)
      if (userVector.length !== dim) {
        throw new ModelError(
          'shape_mismatch',
          `user vector has ${userVector.length} values, the model has dim ${dim}`,
        )
      }
      const scores = () =>
        tf.add(
          tf.reshape(tf.matMul(tf.tensor2d(userVector, [1, dim]), embedding, false, true), [numItems]),
          bias,
        ) as TF.Tensor1D
      return best(scores, k, (row) => exclude?.has(row) ?? false, exclude?.size ?? 0)
    },

    async similarRows(row, k) {
      checkAlive()
      checkK(k)
      if (!Number.isInteger(row) || row < 0 || row >= numItems) {
        throw new ModelError('row_out_of_range', `row ${row} is outside 0..${numItems - 1}`)
      }
      // The epsilon keeps an all-zero row (never trained) at similarity 0 instead of NaN.
      unitRows ??= tf.tidy(
        () => tf.div(embedding, tf.add(tf.norm(embedding, 'euclidean', 1, true), 1e-12)) as TF.Tensor2D,
      )
      const table = unitRows
      const scores = () =>
        tf.reshape(tf.matMul(table, tf.slice(table, [row, 0], [1, dim]), false, true), [
          numItems,
        ]) as TF.Tensor1D
      return best(scores, k, (r) => r === row, 1)
    },

    dispose() {
      if (disposed) return
      disposed = true
      embedding.dispose()
      bias.dispose()
      unitRows?.dispose()
    },
  }
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new ModelError('bad_option', `k must be an integer >= 0, got ${k}`)
}
