// The CPU side of next-item training: the fixed shapes of a client's steps and one epoch's batches in them.
import type { SequenceSamples } from './sequence.ts'
import { bucket } from './slice.ts'

/** The fixed shapes of one client's steps. */
export interface BatchPlan {
  targetCount: number
  /** K: negatives per target. */
  k: number
  /** S: the slice's rows, padded. */
  rows: number
  /** W: context rows per target, padded. */
  contextWidth: number
  /** B: targets per step. */
  perStep: number
  batches: number
  /** batches · B target slots, the last batch's tail padding. */
  slots: number
  /** B·(1 + K): the rows one step reads, positives then negatives. */
  reads: number
}

/**
 * The step shapes for `samples` on an S-row slice.
 * @example
 * planBatches(samples, 64, 256) // with K = 4: up to 64 targets a step
 */
export function planBatches(samples: SequenceSamples, rows: number, batchSize: number): BatchPlan {
  const targetCount = samples.targets.length
  const k = samples.negativesPerTarget
  let width = 1
  for (let t = 0; t < targetCount; t++)
    width = Math.max(width, samples.contextStart[t + 1]! - samples.contextStart[t]!)
  // Shapes padded to powers of two: WebGL compiles a shader per input shape, so shapes that repeat across
  // shoppers and rounds keep its program cache warm instead of compiling ~30 programs for every new size.
  const contextWidth = bucket(width, 4)
  const perStep = Math.min(Math.max(1, Math.floor(batchSize / k)), bucket(targetCount, 8))
  const batches = Math.ceil(targetCount / perStep)
  const slots = batches * perStep
  return { targetCount, k, rows, contextWidth, perStep, batches, slots, reads: perStep * (1 + k) }
}

/** One epoch's batches on the CPU: slot j is position j mod B of batch ⌊j / B⌋. Reused epoch after epoch. */
export interface BatchBuffers {
  /** Each slot's target row in the slice. */
  positives: Int32Array
  /** Slot j's K negative rows at j·K … j·K + K − 1. */
  negatives: Int32Array
  /** Slot j's context rows at j·W … j·W + W − 1 (weight 0 for padding). */
  contextRows: Int32Array
  contextWeights: Float32Array
  /** Each slot's target weight; 0 for padding. */
  targetWeights: Float32Array
  /** Per batch, the slice row of each read in [positives | negatives]; -1 for padding reads. */
  readRows: Int32Array
  /** Per batch, Σ over its (target, negative) pairs of their target's weight. */
  totalWeights: Float64Array
}

/** Zeroed buffers sized by `plan`. */
export function createBatchBuffers(plan: BatchPlan): BatchBuffers {
  const { slots, k, contextWidth, batches, reads } = plan
  return {
    positives: new Int32Array(slots),
    negatives: new Int32Array(slots * k),
    contextRows: new Int32Array(slots * contextWidth),
    contextWeights: new Float32Array(slots * contextWidth),
    targetWeights: new Float32Array(slots),
    readRows: new Int32Array(batches * reads),
    totalWeights: new Float64Array(batches),
  }
}

/** Lays the targets out in `order` (slot j: target order[j]) with their slice rows, `at(global row)`. */
export function fillBatches(
  buffers: BatchBuffers,
  plan: BatchPlan,
  samples: SequenceSamples,
  order: Int32Array,
  at: (row: number) => number,
): void {
  const { positives, negatives, contextRows, contextWeights, targetWeights, readRows, totalWeights } = buffers
  const { targetCount, k, perStep, reads, contextWidth } = plan
  positives.fill(0)
  negatives.fill(0)
  contextRows.fill(0)
  contextWeights.fill(0)
  targetWeights.fill(0)
  readRows.fill(-1)
  totalWeights.fill(0)
  for (let j = 0; j < targetCount; j++) {
    const t = order[j]!
    const b = Math.floor(j / perStep)
    const slot = j % perStep
    const base = b * reads
    const w = samples.weights[t]!
    targetWeights[j] = w
    totalWeights[b]! += w * k
    positives[j] = at(samples.targets[t]!)
    readRows[base + slot] = positives[j]!
    for (let n = 0; n < k; n++) {
      negatives[j * k + n] = at(samples.negatives[t * k + n]!)
      readRows[base + perStep + slot * k + n] = negatives[j * k + n]!
    }
    const from = samples.contextStart[t]!
    for (let c = from; c < samples.contextStart[t + 1]!; c++) {
      const at2 = j * contextWidth + (c - from)
      contextRows[at2] = at(samples.contextRows[c]!)
      contextWeights[at2] = samples.contextWeights[c]!
    }
  }
}
