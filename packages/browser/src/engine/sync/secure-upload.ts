// The secure upload: the delta leaves only masked, in a cohort of the round (see ./secagg).
import { newMeter, type ProtocolClient } from '@fedrec/protocol'
import type { ProfileStore } from '../profile.ts'
import { timed } from './report.ts'
import { secureSync } from './secagg/index.ts'
import type { Uploaded, UploadInput, UploadStrategy } from './upload.ts'

/**
 * The secure strategy. The user vector and the round are kept once the cohort completed with this input,
 * so an aborted cohort leaves this device as it was (the next sync tries again); the bytes of a cohort
 * count only once it completed.
 */
export function createSecureUpload(client: ProtocolClient, profile: ProfileStore): UploadStrategy {
  return {
    async upload({
      info,
      profile: record,
      trained,
      numFeatures,
      phases,
      meter,
    }: UploadInput): Promise<Uploaded> {
      const config = info.config.secureAggregation
      if (!config) throw new Error('the secure upload needs a round with secureAggregation')
      const own = newMeter()
      await timed(phases, 'upload', () =>
        secureSync({
          requests: client.secagg,
          info,
          config,
          clientId: record.clientId,
          deltas: trained.result.deltas,
          numFeatures,
          // Under DP-FedAvg every update weighs 1 (the server cannot reweight a masked one itself).
          sampleCount:
            info.config.clipNorm === undefined
              ? Math.min(trained.result.sampleCount, info.config.maxSampleCount)
              : 1,
          meter: own,
        }),
      )
      await timed(phases, 'store', () =>
        profile.update('the round', (p) => ({
          ...p,
          userVector: trained.userVector,
          padSeed: trained.padSeed,
          pseudoItems: trained.pseudoItems,
          lastRound: info.round,
        })),
      )
      meter.up += own.up
      meter.down += own.down
      return { samples: trained.result.sampleCount, loss: trained.result.loss }
    },
  }
}
