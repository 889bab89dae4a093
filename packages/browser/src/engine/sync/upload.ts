// The one interface of the two ways an update leaves the device: plain, or masked in a secure cohort.
import type { Meter, RoundInfo } from '@fedrec/protocol'
import type { StoredProfile } from '../../db.ts'
import type { SyncPhases } from './report.ts'
import type { Trained } from './train.ts'

/** What an upload strategy is given: the round, the device's profile and what training gave. */
export interface UploadInput {
  info: RoundInfo
  profile: StoredProfile
  trained: Trained
  /** Rows of the feature table of the model trained on; absent for an id-only model (the secagg layout). */
  numFeatures?: number
  phases: SyncPhases
  /** The bytes of this sync so far; the strategy adds what it sent and received once it succeeded. */
  meter: Meter
}

/** What the report says of an acknowledged contribution. */
export interface Uploaded {
  samples: number
  loss: number
}

/**
 * Sends a trained update and records the round as contributed. A refusal whose reason is in
 * `RETRAIN_CODES` (the round moved on) is thrown as the RejectedError it is: the round decides whether to
 * train again.
 */
export interface UploadStrategy {
  upload(input: UploadInput): Promise<Uploaded>
}
