// One simulated shopper's turn in a round: train on the device, then upload plainly or for secure aggregation.
import {
  clipDeltas,
  createRng,
  deltasNorm,
  initUserVector,
  type LocalTrainingResult,
  type RowEvent,
  trainClientRound,
} from '@fedrec/core/client'
import { clipRows } from '@fedrec/core/server'
import { decodeUpdate, encodeUpdate, ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import type { FederatedRun } from './federated-run.ts'
import { DEFAULTS } from './options.ts'
import type { SecureUpload } from './secure-aggregation.ts'
import { mixSeed, shopperPadding } from './seeds.ts'

/** A fixed id for the encoded uploads: only their length and content are used here. */
const CLIENT_ID = '0'.repeat(32)

/** What one round's shoppers add up to before the server step. */
export interface RoundTally {
  lossSum: number
  bytesUp: number
  clientSeconds: number
  /** Each upload's L2 norm, as sent. */
  norms: number[]
  // --secure-aggregation: the plain results stay on the "devices"; only masked vectors reach the server.
  secureUploads: SecureUpload[]
}

/** An empty tally for a new round. */
export function newRoundTally(): RoundTally {
  return { lossSum: 0, bytesUp: 0, clientSeconds: 0, norms: [], secureUploads: [] }
}

/**
 * Shopper `index` trains on the current global model (what the browser's worker runs), keeps its vector and
 * pseudo-items, and its deltas are uploaded; the tally and the run's counters are updated.
 * @example await clientTurn(tf, run, tally, 0, 17)
 */
export async function clientTurn(
  tf: typeof TF,
  run: FederatedRun,
  tally: RoundTally,
  round: number,
  index: number,
): Promise<void> {
  const { options, split, vectors, pseudo, config, dp } = run
  const { dim, seed } = options
  const user = split.users[index]!
  const rng = createRng(mixSeed(seed, round, index))
  const clientStarted = performance.now()
  // With several shops the device holds its shop's model and trains on its shop's rows (shop-local events).
  const shop = run.shopOf?.(index)
  const itemFeatures = shop ? shop.itemFeatures : run.itemFeatures
  const trained = await trainClientRound(tf, {
    weights: shop?.weights ?? run.weights,
    userVector: vectors[index] ?? initUserVector(dim, rng),
    events: shop ? shiftEvents(user.train, -shop.rowOffset) : user.train,
    config,
    rng,
    ...shopperPadding(options, seed, index, pseudo[index]),
    ...(itemFeatures ? { itemFeatures } : {}),
  })
  const { userVector, pseudoItems } = trained
  const result = shop
    ? { ...trained.result, deltas: shiftItemRows(trained.result.deltas, shop.rowOffset) }
    : trained.result
  tally.clientSeconds += (performance.now() - clientStarted) / 1000
  vectors[index] = userVector
  pseudo[index] = pseudoItems
  if (result.sampleCount > 0 && options.secureAggregation) {
    tally.secureUploads.push({ client: index, weight: dp ? 1 : result.sampleCount, deltas: result.deltas })
    tally.norms.push(deltasNorm(result.deltas))
    tally.lossSum += result.loss
  } else if (result.sampleCount > 0) {
    uploadPlain(run, tally, round, index, result)
    tally.lossSum += result.loss
  }
  run.shopperUpdates += 1
}

/** The plain upload: through the wire format, the attacker, the aggregator's bounds, into the accumulator. */
function uploadPlain(
  run: FederatedRun,
  tally: RoundTally,
  round: number,
  index: number,
  result: LocalTrainingResult,
): void {
  const { options, observer, numItems, weights, accumulator } = run
  // The bytes the browser would send; the attacker and the accumulator read them back as the aggregator
  // would, so float16 rounding counts in the accuracy.
  const body = encodeUpdate(
    {
      round,
      modelVersion: round,
      clientId: CLIENT_ID,
      idempotencyKey: CLIENT_ID,
      sampleCount: result.sampleCount,
      tensors: result.deltas,
    },
    { dtype: options.updateDtype ?? DEFAULTS.updateDtype },
  )
  tally.bytesUp += body.byteLength
  const sent = decodeUpdate(body).tensors
  if (observer)
    observer.observe(
      index,
      { numItems, tensors: sent, model: weights, itemFeatures: run.itemFeatures },
      run.split.users[index]!.trainRows,
    )
  tally.norms.push(deltasNorm(sent))
  // The aggregator's bounds, in its order: each row first, then the whole update.
  let counted: readonly TensorDelta[] = sent
  if (options.maxRowNorm !== undefined) counted = clipRows(counted, options.maxRowNorm).deltas
  if (options.maxUpdateNorm !== undefined) counted = clipDeltas(counted, options.maxUpdateNorm).deltas
  accumulator.add({ sampleCount: result.sampleCount, tensors: counted })
}

/** The events with every row moved by `offset` (a shop's rows in the union table and back). */
function shiftEvents(events: readonly RowEvent[], offset: number): RowEvent[] {
  return events.map((e) => ({ ...e, row: e.row + offset }))
}

/** The item tensors' row ids moved by `offset` (a shop's rows into the union table); feature rows stay. */
function shiftItemRows(deltas: readonly TensorDelta[], offset: number): TensorDelta[] {
  return deltas.map((d) =>
    d.name === ITEM_EMBEDDING || d.name === ITEM_BIAS ? { ...d, rowIds: d.rowIds.map((r) => r + offset) } : d,
  )
}
