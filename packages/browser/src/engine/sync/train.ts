// Local training of one round on the device's history, on whichever backend works.
import {
  createRng,
  type EventWeights,
  initUserVector,
  type RowEvent,
  trainClientRound,
} from '@fedrec/core/client'
import type { RoundInfo } from '@fedrec/protocol'
import type * as tfjs from '@tensorflow/tfjs-core'
import type { StoredProfile } from '../../db.ts'
import type { BackendGuard } from '../backend-guard.ts'
import type { LoadedModel } from '../model-cache.ts'

/** What a round of local training gives: the update's deltas and the device's state to keep. */
export interface Trained {
  result: Awaited<ReturnType<typeof trainClientRound>>['result']
  userVector: Float32Array
  padSeed: number
  pseudoItems: number[]
  backend: Awaited<ReturnType<BackendGuard['ensure']>>
}

/** What training needs of the engine. */
export interface TrainParts {
  tf: typeof tfjs
  guard: BackendGuard
  eventWeights: EventWeights | undefined
}

/**
 * Bad input fails the same way on every backend; a backend fault (lost WebGL context, a kernel error,
 * non-finite results from low precision) is worth another backend.
 */
const isInputError = (err: unknown): boolean =>
  err instanceof Error && err.name === 'ModelError' && 'code' in err && err.code !== 'non_finite'

/**
 * Trains this device's round: the same client round as the simulator's. Next-item examples of the
 * history train the touched rows of the item table; they only leave as the update, and until the aggregate
 * comes back scoring sees the global rows (the shopper's state is recomputed from the history on every
 * recommend).
 */
export async function train(
  parts: TrainParts,
  info: RoundInfo,
  model: Pick<LoadedModel, 'weights' | 'itemFeatures'>,
  profile: StoredProfile,
  events: RowEvent[],
): Promise<Trained> {
  const { weights, itemFeatures } = model
  const [seed, newPadSeed] = crypto.getRandomValues(new Uint32Array(2))
  const rng = createRng(seed!)
  // Row padding's secret seed and pseudo-items are the device's, kept in the profile from round to round.
  const padSeed = profile.padSeed ?? newPadSeed!
  const userVector =
    profile.userVector && profile.userVector.length === weights.dim
      ? profile.userVector
      : initUserVector(weights.dim, rng)
  return parts.guard.run(
    async (backend) => {
      const {
        result,
        userVector: refitted,
        pseudoItems,
      } = await trainClientRound(parts.tf, {
        weights,
        userVector,
        events,
        config: info.config,
        rng,
        padSeed,
        pseudoItems: profile.pseudoItems ?? [],
        ...(parts.eventWeights ? { eventWeights: parts.eventWeights } : {}),
        // With item features the feature rows of the touched items train too, and travel in the update.
        ...(itemFeatures ? { itemFeatures } : {}),
      })
      return { result, userVector: refitted, padSeed, pseudoItems, backend }
    },
    { isInputError },
  )
}
