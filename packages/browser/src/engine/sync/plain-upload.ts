// The plain upload: the encoded update is stored first, so a sync cut off by a navigation resends it.
import {
  encodeUpdate,
  isRefusal,
  type Meter,
  newRandomId,
  type ProtocolClient,
  RETRAIN_CODES,
} from '@fedrec/protocol'
import type { PendingUpload } from '../../db.ts'
import { FedrecError } from '../../errors.ts'
import type { ProfileStore } from '../profile.ts'
import { type SyncPhases, timed } from './report.ts'
import type { Uploaded, UploadInput, UploadStrategy } from './upload.ts'

/** The plain strategy, and `deliver` for the round's resume of an update left by an interrupted sync. */
export interface PlainUpload extends UploadStrategy {
  /**
   * Sends a stored update until its ack, then records the round as contributed. A repeat of an update the
   * aggregator already took (same idempotency key) is answered with its first ack, so resending is safe.
   */
  deliver(pending: PendingUpload, phases: SyncPhases, meter: Meter): Promise<Uploaded>
}

export function createPlainUpload(client: ProtocolClient, profile: ProfileStore): PlainUpload {
  /** The stored update is done with (acked, refused or stale): drop it, recording the round when given. */
  const settle = (change: { lastRound?: number }) =>
    profile.update('the round', ({ pendingUpload: _done, ...rest }) => ({ ...rest, ...change }))

  async function deliver(pending: PendingUpload, phases: SyncPhases, meter: Meter): Promise<Uploaded> {
    try {
      await timed(phases, 'upload', () => client.postUpdate(pending.bytes, meter))
    } catch (err) {
      // The round moved on (or the operator discarded it) while we trained: the stored update is no use.
      if (isRefusal(err, RETRAIN_CODES)) await settle({})
      if (isRefusal(err, ['already_submitted'])) {
        await settle({ lastRound: pending.round })
        throw new FedrecError(
          'already_submitted',
          `this device already contributed to round ${pending.round}`,
        )
      }
      throw err
    }
    await timed(phases, 'store', () => settle({ lastRound: pending.round }))
    return { samples: pending.samples, loss: pending.loss }
  }

  return {
    deliver,
    async upload({ info, profile: record, trained, phases, meter }: UploadInput): Promise<Uploaded> {
      const update = await timed(phases, 'encode', () =>
        encodeUpdate(
          {
            round: info.round,
            modelVersion: info.modelVersion,
            clientId: record.clientId,
            idempotencyKey: newRandomId(),
            sampleCount: Math.min(trained.result.sampleCount, info.config.maxSampleCount),
            tensors: trained.result.deltas,
          },
          // As the round says; absent, the aggregator predates float16 uploads and reads only float32.
          { dtype: info.config.updateDtype ?? 'f32' },
        ),
      )
      const pending: PendingUpload = {
        round: info.round,
        modelVersion: info.modelVersion,
        bytes: update,
        samples: trained.result.sampleCount,
        loss: trained.result.loss,
      }
      await timed(phases, 'store', () =>
        profile.update('the user vector', (p) => ({
          ...p,
          userVector: trained.userVector,
          padSeed: trained.padSeed,
          pseudoItems: trained.pseudoItems,
          pendingUpload: pending,
        })),
      )
      return deliver(pending, phases, meter)
    },
  }
}
