// One cohort's server context: the exported state, the indexes built from it and the checks every phase
// shares, used by the per-phase files (server-advertise.ts, server-share.ts, server-mask.ts, server-unmask.ts).
//
// Invariant: each add validates the whole message before it touches `s` or an index, so a refused message
// leaves the context as it was; an index and its array in `s` change together, in the same step.
import { SecAggError } from './errors.ts'
import type { RosterEntry, ShareKeysMessage, UnmaskResponse } from './messages.ts'
import { isClientId } from './params.ts'
import type { SecAggServerPhase, SecAggServerState } from './server.ts'

/** The state of one cohort and its lookups by client id; `s` alone is what `exportState()` returns. */
export interface ServerContext {
  readonly s: SecAggServerState
  /** `s.advertisements` by id, in arrival order. */
  readonly adverts: Map<number, RosterEntry>
  /** `s.shareKeys` by sender id. */
  readonly shareKeys: Map<number, ShareKeysMessage>
  /** `s.masked`: ids whose masked input is in the sum. */
  readonly masked: Set<number>
  /** `s.responses` by id. */
  readonly responses: Map<number, UnmaskResponse>
}

/** The context over `s`, its indexes rebuilt from the arrays in `s` (a fresh or a restored state). */
export function createServerContext(s: SecAggServerState): ServerContext {
  return {
    s,
    adverts: new Map(s.advertisements.map((a) => [a.id, a])),
    shareKeys: new Map(s.shareKeys.map((m) => [m.id, m])),
    masked: new Set(s.masked),
    responses: new Map(s.responses.map((r) => [r.id, r])),
  }
}

/** Refuses `what` with `bad_phase` unless the cohort is in `phase`. */
export function expectPhase(ctx: ServerContext, phase: SecAggServerPhase, what: string): void {
  const { s } = ctx
  if (s.phase !== phase) throw new SecAggError('bad_phase', `${what} is not accepted in phase ${s.phase}`)
}

/** The sender id of `message`, checked to be a client id of this session. */
export function checkHeader(
  ctx: ServerContext,
  message: { sessionId: unknown; id: unknown },
  what: string,
): number {
  const { sessionId } = ctx.s.options
  if (message.sessionId !== sessionId) {
    throw new SecAggError(
      'bad_message',
      `${what} is for session ${JSON.stringify(message.sessionId)}, not ${sessionId}`,
    )
  }
  if (!isClientId(message.id))
    throw new SecAggError('bad_message', `${what}: bad client id ${String(message.id)}`)
  return message.id
}

/** t, fixed when round 0 closes (so only from phase share on). */
export function threshold(ctx: ServerContext): number {
  return ctx.s.roster!.threshold
}
