// One client's local training of the next-item model: wires the batches, the steps and the read-back.
import type * as TF from '@tensorflow/tfjs-core'
import { checkItemFeatures, type ItemFeatures } from './item-features.ts'
import {
  ADAM_EPSILON,
  createAdam,
  type LocalTrainingResult,
  noDeltas,
  type RowLookup,
  rowLookupFor,
  shuffle,
} from './local-training.ts'
import type { Rng } from './rng.ts'
import type { SequenceSamples } from './sequence.ts'
import { createBatchBuffers, fillBatches, planBatches } from './sequence-batches.ts'
import { checkFinite, checkOptions } from './sequence-checks.ts'
import { type EpochInputs, uploadEpochInputs } from './sequence-epoch-inputs.ts'
import { createSequenceParams, trainedValues } from './sequence-params.ts'
import { createPoolBuilder } from './sequence-pools.ts'
import { type StepContext, sequenceStep } from './sequence-step.ts'
import { cutRows, type FeatureCut } from './slice.ts'
import type { SharedWeights } from './weights.ts'

export interface SequenceTrainingOptions {
  /** The global model this round starts from; not modified. */
  weights: SharedWeights
  samples: SequenceSamples
  epochs: number
  learningRate: number
  /** (target, negative) pairs per step; targets per step = batchSize ÷ negatives per target. */
  batchSize: number
  /** Shuffles the targets every epoch. */
  rng: Rng
  /** L2 on the slice's embedding rows (and the private vector); biases are left free: they carry popularity. */
  l2?: number
  /** FedProx: mu/2 · ‖w − w_global‖² over the slice's shared parameters. Default 0. */
  mu?: number
  /** The shopper's private vector, added to every query and trained along; absent: none is kept. */
  privateVector?: Float32Array
  /** How gradients are summed onto rows; default the fastest measured on the backend (`rowLookupFor`). */
  lookup?: RowLookup
  /**
   * The catalogue's item features (`featureRows`); the model must have a feature table of the same F. Each
   * item's vector is then its id row plus its pooled features, and the slice's feature rows train along.
   * Absent: the id-only model.
   */
  itemFeatures?: ItemFeatures
  /**
   * With item features, true: a sampled negative trains the shared feature rows only, not the item's own id
   * row and bias (`SequenceStepInputs.negativesOnFeatures`), so an item's own parameters move only for
   * shoppers who touched it, and a product nobody touched keeps the score its features give it however many
   * rounds it has been listed. False (the default): the plain BPR gradient, where every round a product is
   * drawn as a negative pushes its own row and bias down. Measured both ways (docs/simulator.md, "The drift
   * of untouched rows"): true serves the shoppers of established products better and loses the lift new
   * products get over the drifted untouched ones. The aggregator turns it on for its devices with
   * `--negative-id-rows off` (round config `negativesOnFeatures`); what the zero id-row deltas of the
   * negatives reveal is in docs/privacy.md.
   */
  negativesOnFeatures?: boolean
}

/**
 * One client's local training of the next-item model on a slice of the shared item table: the rows of the
 * shopper's items (as contexts and as targets) and of the sampled negatives. Each target t is scored from
 * its context's pooled embeddings, q_t = Σ_j α_tj e_j (+ the private vector), as s_ti = q_t·e_i + b_i, and
 * BPR pushes s_t,target above s_t,negative. The item table is tied: the same row is an item's context
 * embedding and its target embedding (as in SASRec), so the update and the wire format stay those of the
 * item table and its biases.
 *
 * Per step, for B targets with contexts of at most L rows and K negatives each: the queries are one matMul of
 * a B × S pooling matrix (target t's row holds α_tj at its context rows, built on the CPU) with the slice
 * table, and its transpose carries their gradient back; targets and negatives are read with gathers, and the
 * gradient of every read — B positives, B·K negatives — is summed back onto slice rows in one pass
 * (`sumRows`: scatterND on CPU/WASM, a CPU-built row table on WebGL, which cannot scatter). Gathering the
 * B·L context rows instead cost 4× more on WASM (its gather kernel copies ≈ 1 µs a row), and dense B × S
 * scores over the whole slice were 3× slower on MovieLens histories.
 * With item features every slice item's vector is its id row plus its pooled feature rows (item-features.ts), which are
 * part of the slice: V = E + M·F for the slice's `[S, Sf]` mixing matrix M (`cutRows`), one more matMul a
 * step and its transpose for the gradient (a gather of each item's features would need a scatter back,
 * which WebGL cannot do; M is small, S × Sf for the few hundred rows of one shopper's round).
 * Adam starts fresh every round. Throws `ModelError` for bad options or a diverging run; leaves no tensors.
 * @example
 * const samples = buildSequenceSamples(history, { numItems: weights.numItems, negativesPerTarget: 4, rng })
 * const result = await trainSequence(tf, { weights, samples, epochs: 2, learningRate: 0.05, batchSize: 256, rng })
 */
export async function trainSequence(
  tf: typeof TF,
  options: SequenceTrainingOptions,
): Promise<LocalTrainingResult> {
  const { weights, samples, epochs, learningRate, batchSize, rng, privateVector } = options
  const { l2 = 0, mu = 0 } = options
  checkOptions(options, l2, mu)
  checkItemFeatures(weights, options.itemFeatures)
  const { dim } = weights
  const keptVector = privateVector ? privateVector.slice() : new Float32Array(dim)
  if (samples.count === 0 || samples.targets.length === 0) {
    return { userVector: keptVector, deltas: noDeltas(dim), sampleCount: 0, loss: 0, steps: 0 }
  }
  const cut = cutRows(weights, touchedRows(samples), options.itemFeatures)
  const plan = planBatches(samples, cut.paddedRows, batchSize)
  const lookup = options.lookup ?? rowLookupFor(tf.getBackend())
  const owned: TF.Tensor[] = []
  const own = <T extends TF.Tensor>(t: T): T => {
    owned.push(t)
    return t
  }
  try {
    const model = createSequenceParams(tf, { cut, dim, privateVector, own })
    const adam = createAdam(tf, model.params, learningRate, ADAM_EPSILON, own)
    const { rows } = plan
    const global =
      mu > 0
        ? {
            globalEmbedding: own(tf.tensor2d(cut.embedding, [rows, dim])),
            globalBias: own(tf.tensor2d(cut.bias, [rows, 1])),
          }
        : undefined
    const buffers = createBatchBuffers(plan)
    const poolsOf = createPoolBuilder(tf, plan, buffers)
    const context: StepContext = {
      model,
      plan,
      adam,
      poolsOf,
      lookup,
      l2,
      mu,
      global,
      features:
        cut.features &&
        featureInputs(
          tf,
          cut.features,
          { dim, mu, negativesOnFeatures: options.negativesOnFeatures === true },
          own,
        ),
    }
    const at = (row: number) => cut.local.get(row)!
    const order = Int32Array.from({ length: plan.targetCount }, (_, i) => i)
    const lastLosses: TF.Scalar[] = []
    let lastWeight = 0
    let steps = 0
    let inputs: EpochInputs | undefined
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, rng)
      const isLast = epoch === epochs - 1
      if (!inputs || plan.batches > 1) {
        if (inputs) tf.dispose(Object.values(inputs))
        fillBatches(buffers, plan, samples, order, at)
        inputs = uploadEpochInputs(tf, { plan, buffers, poolsOf, lookup, own })
      }
      for (let b = 0; b < plan.batches; b++) {
        const totalWeight = buffers.totalWeights[b]!
        const lossSum = sequenceStep(tf, context, inputs, b, totalWeight)
        steps++
        if (isLast) {
          lastLosses.push(own(lossSum))
          lastWeight += totalWeight
        } else {
          lossSum.dispose()
        }
      }
    }
    const lossTotal = own(tf.addN(lastLosses))
    const [p, l] = await Promise.all([model.params.data(), lossTotal.data()])
    const result: LocalTrainingResult = {
      ...trainedValues(p as Float32Array, model, cut, keptVector),
      sampleCount: samples.count,
      loss: lastWeight > 0 ? l[0]! / lastWeight : 0,
      steps,
    }
    checkFinite(result)
    return result
  } finally {
    tf.dispose(owned)
  }
}

/**
 * The mixing matrices of the slice's feature rows (and their global values for FedProx), kept by `own`, with
 * the rule for negatives.
 */
function featureInputs(
  tf: typeof TF,
  cut: FeatureCut,
  { dim, mu, negativesOnFeatures }: { dim: number; mu: number; negativesOnFeatures: boolean },
  own: <T extends TF.Tensor>(t: T) => T,
): NonNullable<StepContext['features']> {
  const s = cut.mix.length / cut.paddedRows
  const sf = cut.paddedRows
  return {
    mix: own(tf.tensor2d(cut.mix, [s, sf])),
    mixT: own(tf.tensor2d(cut.mixT, [sf, s])),
    global:
      mu > 0
        ? {
            globalEmbedding: own(tf.tensor2d(cut.embedding, [sf, dim])),
            globalBias: own(tf.tensor2d(cut.bias, [sf, 1])),
          }
        : undefined,
    negativesOnFeatures,
  }
}

/** Every global row the samples read: targets, negatives and contexts. */
function touchedRows(samples: SequenceSamples): Set<number> {
  const touched = new Set<number>()
  for (const rows of [samples.targets, samples.negatives, samples.contextRows])
    for (const r of rows) touched.add(r)
  return touched
}
