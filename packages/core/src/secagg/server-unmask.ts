// The server's round 3 (Unmasking): collects the survivors' shares of seeds and dropped keys, then removes
// every mask once t have answered (the reconstruction itself is in server-finish.ts).
import { SecAggError } from './errors.ts'
import type { SecAggResult, UnmaskResponse } from './messages.ts'
import { checkShareList } from './server-checks.ts'
import { checkHeader, expectPhase, type ServerContext, threshold } from './server-context.ts'
import { unmaskSum } from './server-finish.ts'

/** Adds one survivor's answer: a share of each survivor's seed and of each dropped member's s key. */
export function addUnmaskResponse(ctx: ServerContext, message: UnmaskResponse): void {
  const { s, responses } = ctx
  expectPhase(ctx, 'unmask', 'unmask-response')
  const id = checkHeader(ctx, message, 'unmask-response')
  const request = s.request!
  if (!request.survivors.includes(id))
    throw new SecAggError('unknown_client', `client ${id} is not a survivor`)
  if (responses.has(id)) throw new SecAggError('duplicate_message', `client ${id} already answered`)
  checkShareList(message.selfMaskShares, request.survivors, `seed shares from ${id}`)
  checkShareList(message.keyShares, request.dropped, `key shares from ${id}`)
  const copy: UnmaskResponse = {
    type: 'unmask-response',
    sessionId: s.options.sessionId,
    id,
    selfMaskShares: message.selfMaskShares.map(({ of, share }) => ({ of, share })),
    keyShares: message.keyShares.map(({ of, share }) => ({ of, share })),
  }
  responses.set(id, copy)
  s.responses.push(copy)
}

/** The unmasked sum, once at least t responses are in; the phase becomes 'done' only if it succeeds. */
export async function finish(ctx: ServerContext): Promise<SecAggResult> {
  const { s, responses, shareKeys } = ctx
  expectPhase(ctx, 'unmask', 'finish')
  const t = threshold(ctx)
  if (responses.size < t) {
    throw new SecAggError('too_few_survivors', `${responses.size} unmask responses, the threshold is ${t}`)
  }
  const result = await unmaskSum(s, [...responses.values()], shareKeys)
  s.phase = 'done'
  return result
}
