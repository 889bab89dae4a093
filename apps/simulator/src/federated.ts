// In-process federated training: the run's entry, a loop of rounds over one explicit run state.
import type { SharedWeights } from '@fedrec/core/client'
import type * as TF from '@tensorflow/tfjs-core'
import { federatedRound } from './federated-round.ts'
import { createFederatedRun, finalWeights, type ModelPlan } from './federated-run.ts'
import type { SimulationOptions } from './options.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import type { SplitDataset } from './split.ts'

// http-federated.ts draws its cohorts with the same sampler.
export { sampleClients } from './sample-clients.ts'

/** What a federated run leaves: the per-round records, the final global model and each shopper's vector. */
export interface FederatedResult {
  rounds: RoundRecord[]
  /**
   * The final model as an id-only item table over every row of the split: item features composed in, and
   * the products added after training (`ModelPlan.listed`) appended.
   */
  weights: SharedWeights
  /** Undefined for a shopper who never took part: the device then scores with a zero vector (by bias). */
  userVectors: (Float32Array | undefined)[]
  shopperUpdates: number
  trainSeconds: number
}

/**
 * Federated training in one process: every sampled shopper runs core's `trainClientRound` (what the browser's
 * worker runs) on the round's global model, the deltas go through core's streaming accumulator and the
 * server optimizer exactly as in the aggregator, and after each round every evaluated shopper ranks its own
 * held-out item with its own vector against the new global model.
 * @example const fed = await runFederated(tf, split, options, { round: (r) => console.info(r.hr10) })
 */
export async function runFederated(
  tf: typeof TF,
  split: SplitDataset,
  options: SimulationOptions,
  progress: Progress = {},
  plan: ModelPlan = {},
): Promise<FederatedResult> {
  const run = createFederatedRun(split, options, plan)
  const rounds: RoundRecord[] = []
  for (let round = 0; round < options.rounds; round++) {
    const record = await federatedRound(tf, run, round, progress)
    rounds.push(record)
    progress.round?.(record)
  }
  const { vectors, shopperUpdates, trainSeconds } = run
  return { rounds, weights: finalWeights(run), userVectors: vectors, shopperUpdates, trainSeconds }
}
