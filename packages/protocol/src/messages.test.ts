import { describe, expect, it } from 'vitest'
import { ProtocolError } from './errors.ts'
import { isErrorBody, parseRoundInfo, parseUpdateAck } from './messages.ts'

const round = {
  round: 2,
  modelVersion: 2,
  numItems: 240,
  dim: 32,
  config: {
    mu: 0,
    localEpochs: 2,
    learningRate: 0.05,
    negativesPerPositive: 4,
    batchSize: 256,
    maxSampleCount: 100000,
    deadline: '2026-11-24T23:00:00.000Z',
    minClients: 3,
  },
}

describe('JSON messages', () => {
  it('accepts a well-formed round info', () => {
    expect(parseRoundInfo(round)).toEqual(round)
  })

  it('names the field that is wrong', () => {
    expect(() => parseRoundInfo({ ...round, config: { ...round.config, learningRate: -1 } })).toThrow(
      /config\.learningRate/,
    )
    expect(() => parseRoundInfo('nope')).toThrow(ProtocolError)
  })

  it('checks acks and error bodies', () => {
    const ack = {
      accepted: true,
      round: 1,
      modelVersion: 1,
      idempotencyKey: 'k',
      duplicate: false,
      participants: 1,
    }
    expect(parseUpdateAck(ack)).toEqual(ack)
    expect(() => parseUpdateAck({ ...ack, accepted: false })).toThrow(ProtocolError)
    expect(isErrorBody({ error: { code: 'stale_model', message: 'm' } })).toBe(true)
    expect(isErrorBody({ error: 'x' })).toBe(false)
  })
})
