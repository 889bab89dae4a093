import { describe, expect, it } from 'vitest'
import { createSecAggServer, type SecAggServerState } from './server.ts'
import { checkHeader, createServerContext, expectPhase, threshold } from './server-context.ts'

const KEY = 'BAAA'

function state(over: Partial<SecAggServerState> = {}): SecAggServerState {
  const fresh = createSecAggServer({ sessionId: 'r3-ab', vectorLength: 4, minClients: 3, maxClients: 10 })
  return { ...fresh.exportState(), ...over }
}

describe('createServerContext', () => {
  it('rebuilds the indexes from the arrays of a restored state, in their order', () => {
    const ctx = createServerContext(
      state({
        phase: 'mask',
        advertisements: [
          { id: 7, cPublicKey: KEY, sPublicKey: KEY },
          { id: 2, cPublicKey: KEY, sPublicKey: KEY },
        ],
        masked: [2],
      }),
    )
    expect([...ctx.adverts.keys()]).toEqual([7, 2])
    expect([...ctx.masked]).toEqual([2])
    expect(ctx.shareKeys.size).toBe(0)
    expect(ctx.responses.size).toBe(0)
  })
})

describe('expectPhase', () => {
  it('passes in the phase asked for and refuses with bad_phase in another', () => {
    const ctx = createServerContext(state({ phase: 'share' }))
    expect(() => expectPhase(ctx, 'share', 'share-keys')).not.toThrow()
    expect(() => expectPhase(ctx, 'mask', 'masked-input')).toThrow(
      expect.objectContaining({ code: 'bad_phase', message: 'masked-input is not accepted in phase share' }),
    )
  })
})

describe('checkHeader', () => {
  const ctx = createServerContext(state())

  it('returns the id of a message of this session', () => {
    expect(checkHeader(ctx, { sessionId: 'r3-ab', id: 5 }, 'share-keys')).toBe(5)
  })

  it('refuses another session and a bad id with bad_message, naming the value', () => {
    expect(() => checkHeader(ctx, { sessionId: 'r4-cd', id: 5 }, 'share-keys')).toThrow(
      expect.objectContaining({
        code: 'bad_message',
        message: 'share-keys is for session "r4-cd", not r3-ab',
      }),
    )
    expect(() => checkHeader(ctx, { sessionId: 'r3-ab', id: 0 }, 'share-keys')).toThrow(
      expect.objectContaining({ code: 'bad_message', message: 'share-keys: bad client id 0' }),
    )
  })
})

describe('threshold', () => {
  it('is the t the roster fixed', () => {
    const ctx = createServerContext(
      state({ phase: 'share', roster: { type: 'roster', sessionId: 'r3-ab', threshold: 3, clients: [] } }),
    )
    expect(threshold(ctx)).toBe(3)
  })
})
