// The aggregator's model as the simulator holds it: fetched like the browser does, mapped to the split's rows.
import { type RowEvent, type SharedWeights, sharedWeightsFromSnapshot } from '@fedrec/core/client'
import { decodeModel, type ProtocolClient } from '@fedrec/protocol'
import createDebug from 'debug'
import { SimulationError } from './errors.ts'
import type { Progress } from './round-record.ts'
import type { SplitDataset } from './split.ts'

const log = createDebug('fedrec:simulator:http')

/** The current model in the aggregator's rows. */
export interface Model {
  version: number
  etag: string
  /** The model as `GET /v1/model` sends it: what the next patch applies to. */
  bytes: Uint8Array
  weights: SharedWeights
  /** Split row → model row (undefined: the model does not know the item yet). */
  modelRow: (number | undefined)[]
}

/**
 * Follows the aggregator's model as the browser does: only what changed since the model held (`?since=`, a
 * patch whose digest the client checks) when the aggregator has that, else whole; any trouble with the
 * patch falls back to the whole model. Warns once when the model lacks some of the data set's items.
 * @example const follow = createModelFollower(client, split, progress); const model = await follow(undefined)
 */
export function createModelFollower(
  client: ProtocolClient,
  split: SplitDataset,
  progress: Progress,
): (held: Model | undefined) => Promise<Model> {
  let warnedUnknownItems = false

  async function bytesOf(
    held: Model | undefined,
  ): Promise<{ bytes: Uint8Array; etag: string | null } | undefined> {
    const cached = held ? { modelVersion: held.version, etag: held.etag, bytes: held.bytes } : null
    if (cached) {
      const got = await client.modelSince(cached)
      if (got.kind === 'current') return undefined
      if (got.kind === 'model') {
        if (got.patched)
          log('model v%d by a patch (the model is %d bytes)', cached.modelVersion, got.bytes.length)
        return got
      }
      log('no patch from model v%d (%o); downloading the whole model', cached.modelVersion, got.reason)
    }
    const got = await client.model(cached)
    return got.kind === 'model' ? got : undefined
  }

  return async (held) => {
    const got = await bytesOf(held)
    if (!got && held) return held
    if (!got) throw new SimulationError('http', 'GET /v1/model answered 304 to no ETag')
    const snapshot = decodeModel(got.bytes)
    const rowOf = new Map(snapshot.itemIds.map((id, row) => [id, row]))
    const modelRow = split.itemIds.map((id) => rowOf.get(id))
    const known = modelRow.filter((r) => r !== undefined).length
    if (known < split.itemIds.length) {
      const message = `the aggregator's model knows ${known} of the data set's ${split.itemIds.length} items; start it with --catalogue on the file --write-catalogue writes`
      if (known === 0) throw new SimulationError('http', message)
      // Once per run, not once per model version.
      if (!warnedUnknownItems) progress.warn?.(message)
      warnedUnknownItems = true
    }
    return {
      version: snapshot.modelVersion,
      etag: got.etag ?? `"v${snapshot.modelVersion}"`,
      bytes: got.bytes,
      weights: sharedWeightsFromSnapshot(snapshot),
      modelRow,
    }
  }
}

/** A shopper's events in the model's rows; events on items the model lacks are dropped, as the browser does. */
export function toModel(m: Model, events: readonly RowEvent[]): RowEvent[] {
  return events.flatMap((e) => {
    const row = m.modelRow[e.row]
    return row === undefined ? [] : [{ type: e.type, row }]
  })
}

/** The model's tables back in split rows (items the model lacks score -1e9), so results read as in-process. */
export function remapWeights(model: Model, numItems: number): SharedWeights {
  const { dim } = model.weights
  const itemEmbedding = new Float32Array(numItems * dim)
  const itemBias = new Float32Array(numItems).fill(-1e9)
  model.modelRow.forEach((r, row) => {
    if (r === undefined) return
    itemEmbedding.set(model.weights.itemEmbedding.subarray(r * dim, (r + 1) * dim), row * dim)
    itemBias[row] = model.weights.itemBias[r]!
  })
  return { numItems, dim, itemEmbedding, itemBias }
}
