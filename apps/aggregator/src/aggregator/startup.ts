/** Start-up: a fresh store's model version 0, the durable state loaded at boot, and the open round's stored updates replayed. */
import { randomInt } from 'node:crypto'
import {
  type Accumulator,
  createRng,
  createServerOptimizer,
  DEFAULT_DIM,
  initSharedWeights,
} from '@fedrec/core/server'
import { decodeUpdate } from '@fedrec/protocol'
import createDebug from 'debug'
import { splitCatalogue } from '../catalogue.ts'
import { StartupError } from '../errors.ts'
import { createSerial } from '../serial.ts'
import type { AggregatorStore, OptimizerState, RoundRecord, StoredModel } from '../store/index.ts'
import { newClientSalt } from './client-hash.ts'
import { freshFeatureModel } from './model-features.ts'
import { SERVER_TAU } from './next-model.ts'
import type { ResolvedOptions } from './options.ts'
import { dpConflict } from './privacy-ledger.ts'
import { openRecord } from './round-records.ts'
import { type AggregatorState, iso, newAccumulator } from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')
const logModel = createDebug('fedrec:aggregator:model')

/**
 * The state of an aggregator starting on `store` (initialised first when it is new): the stored model,
 * optimizer state and open round, checked against the options, with the open round's updates counted again.
 * @throws StartupError when the store lacks its seed or salt, contradicts the options, or cannot be replayed
 */
export async function loadState(store: AggregatorStore, opts: ResolvedOptions): Promise<AggregatorState> {
  const conflict = opts.dpNoiseMultiplier === null ? null : dpConflict(opts)
  if (conflict) throw new StartupError(conflict)
  if (store.isNew) await initialise(store, opts, iso(opts.now()))

  const seed = Number(await store.meta('seed'))
  const salt = (await store.meta('client_salt')) ?? ''
  if (!Number.isInteger(seed) || salt === '')
    throw new StartupError(`store ${store.path} lacks its seed or salt`)
  const model = await loadModel(store)
  if (opts.dim !== undefined && opts.dim !== model.dim) {
    throw new StartupError(
      `store ${store.path} holds a model of dim ${model.dim}; --dim ${opts.dim} was given`,
    )
  }
  const numFeatures = model.features?.table.rows
  if (opts.featureRows !== undefined && opts.featureRows !== numFeatures) {
    throw new StartupError(
      `store ${store.path} holds ${numFeatures === undefined ? 'an id-only model (no feature table)' : `a model with ${numFeatures} feature rows`}; --feature-rows ${opts.featureRows} was given`,
    )
  }
  if (!opts.negativeIdRows && !model.features) {
    throw new StartupError(
      `store ${store.path} holds an id-only model: --negative-id-rows off needs item features (a fresh store with --item-features), since without them a negative would train nothing`,
    )
  }
  if (opts.seed !== undefined && opts.seed !== seed) {
    logModel('ignoring seed %d: the store was created with seed %d', opts.seed, seed)
  }
  const optimizer = createServerOptimizer({
    name: opts.serverOptimizer,
    // undefined → the optimizer's own default (1 for fedavg/fedavgm, 0.01 for the adaptive ones).
    learningRate: opts.serverLearningRate,
    tau: SERVER_TAU,
  })
  const optimizerState = await loadOptimizerState(store, opts)
  const round = await store.openRound()
  if (round.modelVersion !== model.version || round.round !== model.round) {
    throw new StartupError(
      `store ${store.path} is inconsistent: open round ${round.round} is for model version ${round.modelVersion}, the stored model is version ${model.version}`,
    )
  }
  if (opts.catalogue) {
    const { itemIds, features } = splitCatalogue(opts.catalogue)
    const added = await store.queueItems(itemIds, iso(opts.now()), features)
    if (added > 0)
      logModel('%d new catalogue items queued; they join the model when round %d closes', added, round.round)
  }
  return {
    store,
    opts,
    seed,
    salt,
    optimizer,
    serial: createSerial('aggregator'),
    model,
    optimizerState,
    round,
    // Replicas count from the store, and the closer rebuilds the sum from it: nothing to replay into memory.
    accumulator: store.shared ? newAccumulator(model, opts) : await replay(store, model, round, opts),
    negativesCeiling: opts.negativesPerPositive,
    secagg: undefined,
    closed: false,
  }
}

async function initialise(store: AggregatorStore, opts: ResolvedOptions, now: string): Promise<void> {
  const seed = opts.seed ?? randomInt(2 ** 31)
  const dim = opts.dim ?? DEFAULT_DIM
  const { itemIds, features: strings } = splitCatalogue(opts.catalogue ?? [])
  const weights: Pick<StoredModel, 'itemEmbedding' | 'itemBias' | 'features'> =
    opts.featureRows !== undefined
      ? freshFeatureModel(itemIds, strings, opts.featureRows, dim, createRng(seed))
      : itemIds.length > 0
        ? pickItemTensors(initSharedWeights(itemIds.length, dim, createRng(seed)))
        : { itemEmbedding: new Float32Array(0), itemBias: new Float32Array(0) }
  await store.initialise({
    meta: {
      created_at: now,
      dim: String(dim),
      seed: String(seed),
      client_salt: newClientSalt(),
      server_optimizer: opts.serverOptimizer,
    },
    model: {
      version: 0,
      round: 0,
      dim,
      itemIds,
      itemEmbedding: weights.itemEmbedding,
      itemBias: weights.itemBias,
      createdAt: now,
      ...(weights.features ? { features: weights.features } : {}),
    },
    round: openRecord(0, 0, Date.parse(now), Math.round(opts.roundDeadlineSeconds * 1000)),
  })
  // Replicas started with --init at once: another one created the store first, and this one opened it.
  if (!store.isNew) return
  logModel(
    'fresh store %s: model version 0 with %d items, dim %d, seed %d, %s',
    store.path,
    itemIds.length,
    dim,
    seed,
    weights.features ? `${weights.features.table.rows} feature rows` : 'no item features',
  )
}

const pickItemTensors = ({
  itemEmbedding,
  itemBias,
}: {
  itemEmbedding: Float32Array
  itemBias: Float32Array
}) => ({
  itemEmbedding,
  itemBias,
})

async function loadModel(store: AggregatorStore): Promise<StoredModel> {
  try {
    return await store.loadModel()
  } catch (err) {
    throw new StartupError(`store ${store.path}: the model cannot be read (${(err as Error).message})`, {
      cause: err,
    })
  }
}

async function loadOptimizerState(store: AggregatorStore, opts: ResolvedOptions): Promise<OptimizerState> {
  let optimizerState = await store.loadOptimizerState()
  if ((await store.meta('server_optimizer')) !== opts.serverOptimizer) {
    // Moments of one optimizer mean nothing to another.
    if (optimizerState.size > 0)
      logModel('server optimizer is now %s: its state starts afresh', opts.serverOptimizer)
    optimizerState = new Map()
    const fresh = optimizerState
    await store.transaction(async (tx) => {
      await tx.saveOptimizerState(fresh)
      await tx.setMeta('server_optimizer', opts.serverOptimizer)
    })
  }
  return optimizerState
}

/** A fresh accumulator fed the open round's stored updates, so every acknowledged update counts exactly once. */
async function replay(
  store: AggregatorStore,
  model: StoredModel,
  round: RoundRecord,
  opts: ResolvedOptions,
): Promise<Accumulator | undefined> {
  const accumulator = newAccumulator(model, opts)
  let replayed = 0
  for await (const payload of store.roundPayloads(round.round)) {
    try {
      if (!accumulator) throw new Error('the model has no items')
      accumulator.add(decodeUpdate(payload))
    } catch (err) {
      throw new StartupError(
        `store ${store.path}: stored update ${replayed} of round ${round.round} cannot be replayed (${(err as Error).message})`,
        { cause: err },
      )
    }
    replayed += 1
  }
  if (accumulator && accumulator.participants > 0) {
    logRound('round %d: replayed %d stored updates', round.round, accumulator.participants)
  }
  return accumulator
}
