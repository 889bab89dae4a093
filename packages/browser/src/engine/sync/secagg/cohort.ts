// Following one secure-aggregation cohort to its end, one protocol step per phase of its view.
import type { SecAggClient } from '@fedrec/core/client'
import {
  ClientError,
  encodeMaskedInput,
  isRefusal,
  type Meter,
  type SecAggRequests,
  type SecAggShares,
  type SecAggUnmask,
  type SecAggView,
} from '@fedrec/protocol'

/** How following a cohort ended: 'done' with this input in the sum, or why it aborted. */
export type CohortOutcome = 'done' | { aborted: string }

/** One membership of one cohort. */
export interface Membership {
  requests: SecAggRequests
  client: SecAggClient
  cohort: number
  token: string
  /** The quantised plain vector; it leaves only masked. */
  vector: Uint32Array
  meter: Meter
  timeLeft: () => boolean
  pollMs: number
}

/**
 * Each protocol step runs once; a post that failed is resent with the same body (the server takes a repeat
 * as a duplicate), never recomputed. `reveal` null: the cohort had its t unmask shares without ours.
 */
interface Steps {
  shares?: SecAggShares
  masked?: Uint8Array<ArrayBuffer>
  reveal?: SecAggUnmask | null
}

/** What one look at the view asks for next: look again now, wait a poll, or the end. */
type Next = 'again' | 'wait' | CohortOutcome

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Follows one cohort to its end, polling `GET …/me` between phases: 'done' with this input in the sum, or
 * why it aborted (also when time runs out).
 */
export async function takePart(m: Membership): Promise<CohortOutcome> {
  const steps: Steps = {}
  while (m.timeLeft()) {
    let view: SecAggView
    try {
      view = await m.requests.view(m.cohort, m.token, m.meter)
    } catch (err) {
      // An aggregator restarting mid-phase resumes the cohort: keep polling while there is time.
      if (err instanceof ClientError && err.code === 'network') {
        await sleep(m.pollMs)
        continue
      }
      throw err
    }
    let next: Next
    try {
      next = await step(m, steps, view)
    } catch (err) {
      // The cohort moved on between the view and the post (e.g. it had its t unmask shares already):
      // look again.
      if (isRefusal(err, ['wrong_phase', 'cohort_ended'])) continue
      throw err
    }
    if (next === 'again') continue
    if (next !== 'wait') return next
    await sleep(m.pollMs)
  }
  return { aborted: 'timed out' }
}

/** The step the view asks of this member, if any. */
async function step(m: Membership, steps: Steps, view: SecAggView): Promise<Next> {
  switch (view.phase) {
    case 'advertise':
      return 'wait'
    case 'share':
      if (!view.shared && view.roster) {
        steps.shares ??= await shareKeys(m, view, view.roster)
        await m.requests.postShares(m.cohort, m.token, steps.shares, m.meter)
        return 'again'
      }
      return 'wait'
    case 'mask':
      if (view.shared && !view.uploaded && view.inbox) {
        const inbox = {
          type: 'share-inbox' as const,
          sessionId: view.sessionId,
          to: view.id,
          shares: view.inbox,
        }
        steps.masked ??= encodeMaskedInput((await m.client.maskInput(inbox, m.vector)).masked)
        await m.requests.postMasked(m.cohort, m.token, steps.masked, m.meter)
        return 'again'
      }
      if (!view.shared) return { aborted: 'this device was not in the cohort when it started sharing' }
      return 'wait'
    case 'unmask':
      if (view.uploaded && !view.unmasked && view.survivors && view.dropped && steps.reveal !== null) {
        steps.reveal ??= await unmask(m, view, view.survivors, view.dropped)
        try {
          await m.requests.postUnmask(m.cohort, m.token, steps.reveal, m.meter)
        } catch (err) {
          // It had the t shares it needs already: ours are not needed, the sum is being unmasked.
          if (isRefusal(err, ['wrong_phase'])) steps.reveal = null
          else throw err
        }
        return 'again'
      }
      if (!view.uploaded) return { aborted: 'the masked input of this device arrived too late' }
      return 'wait'
    case 'done':
      if (view.uploaded) return 'done'
      return { aborted: 'the cohort completed without the masked input of this device' }
    case 'aborted':
      return { aborted: view.abortReason ?? 'aborted' }
    default: {
      const never: never = view.phase
      throw new Error(`unknown phase ${String(never)}`)
    }
  }
}

async function shareKeys(
  m: Membership,
  view: SecAggView,
  roster: NonNullable<SecAggView['roster']>,
): Promise<SecAggShares> {
  const message = await m.client.shareKeys({
    type: 'roster',
    sessionId: view.sessionId,
    threshold: view.threshold,
    clients: roster,
  })
  return { seedCommitment: message.seedCommitment, shares: message.shares }
}

async function unmask(
  m: Membership,
  view: SecAggView,
  survivors: NonNullable<SecAggView['survivors']>,
  dropped: NonNullable<SecAggView['dropped']>,
): Promise<SecAggUnmask> {
  const response = await m.client.unmask({
    type: 'unmask-request',
    sessionId: view.sessionId,
    survivors,
    dropped,
  })
  return { selfMaskShares: response.selfMaskShares, keyShares: response.keyShares }
}
