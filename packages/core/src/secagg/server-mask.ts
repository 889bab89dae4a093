// The server's round 2 (MaskedInputCollection): sums the masked inputs as they arrive (one vector in
// memory, not one per client), then fixes U3 and asks the survivors to unmask.
import { addInto } from './client-state.ts'
import { SecAggError } from './errors.ts'
import type { MaskedInputMessage, UnmaskRequest } from './messages.ts'
import { platform } from './platform.ts'
import { checkHeader, expectPhase, type ServerContext, threshold } from './server-context.ts'

/** Adds one member of U2's masked input into the running sum. */
export function addMaskedInput(ctx: ServerContext, message: MaskedInputMessage): void {
  const { s, masked } = ctx
  const { vectorLength } = s.options
  expectPhase(ctx, 'mask', 'masked-input')
  const id = checkHeader(ctx, message, 'masked-input')
  if (!s.shared!.includes(id)) throw new SecAggError('unknown_client', `client ${id} did not share its keys`)
  if (masked.has(id)) throw new SecAggError('duplicate_message', `client ${id} already sent its masked input`)
  if (!(message.masked instanceof Uint32Array) || message.masked.length !== vectorLength) {
    throw new SecAggError(
      'vector_length',
      `the masked input of ${id} must be ${vectorLength} u32, got ${message.masked?.length ?? typeof message.masked}`,
    )
  }
  addInto(s.maskedSum, message.masked, 1)
  masked.add(id)
  s.masked.push(id)
}

/** Closes round 2: U3 = who sent a masked input, the dropped = U2 \ U3; refuses fewer than t. */
export function closeMask(ctx: ServerContext): UnmaskRequest {
  const { s, masked } = ctx
  expectPhase(ctx, 'mask', 'closing masked-input')
  if (masked.size < threshold(ctx)) {
    throw new SecAggError(
      'too_few_survivors',
      `${masked.size} clients sent a masked input, the threshold is ${threshold(ctx)}`,
    )
  }
  s.request = {
    type: 'unmask-request',
    sessionId: s.options.sessionId,
    survivors: [...masked].sort((a, b) => a - b),
    dropped: s.shared!.filter((u) => !masked.has(u)),
  }
  s.phase = 'unmask'
  return platform.structuredClone(s.request)
}
