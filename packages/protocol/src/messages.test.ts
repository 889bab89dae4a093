import { describe, expect, it } from 'vitest'
import { ProtocolError } from './errors.ts'
import {
  isErrorBody,
  parseEvaluationReport,
  parsePublicStatus,
  parseRoundInfo,
  parseStatus,
  parseUpdateAck,
} from './messages.ts'

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

  it('checks evaluation reports: sums within the number of users, a well-formed key and client id', () => {
    const report = {
      round: 3,
      modelVersion: 3,
      clientId: 'cd'.repeat(16),
      idempotencyKey: 'ab'.repeat(16),
      users: 2,
      hits10: 1,
      ndcg10: 0.5,
    }
    expect(parseEvaluationReport(report)).toEqual(report)
    expect(() => parseEvaluationReport({ ...report, hits10: 3 })).toThrow(/must not exceed users/)
    expect(() => parseEvaluationReport({ ...report, hits10: 0.5 })).toThrow(/hits10/)
    expect(() => parseEvaluationReport({ ...report, ndcg10: Number.NaN })).toThrow(/ndcg10/)
    expect(() => parseEvaluationReport({ ...report, users: 0 })).toThrow(/users/)
    expect(() => parseEvaluationReport({ ...report, idempotencyKey: 'k' })).toThrow(/idempotencyKey/)
    // The client id binds a report to an accepted update: a report without one is not a report.
    const { clientId: _, ...unbound } = report
    expect(() => parseEvaluationReport(unbound)).toThrow(/clientId/)
    expect(() => parseEvaluationReport({ ...report, clientId: 'CD'.repeat(16) })).toThrow(/clientId/)
  })

  it("tells the public status from the operator one: the live fields are the operator's only", () => {
    const common = {
      round: 2,
      modelVersion: 2,
      numItems: 240,
      dim: 32,
      modelBytes: 4096,
      serverOptimizer: 'fedavg',
      config: round.config,
      history: [],
      evaluations: [],
    }
    const operator = { ...common, participants: 1, samples: 12, rejections: {} }
    expect(parsePublicStatus(common)).toEqual(common)
    // An operator's answer holds every public field; the public one lacks the live ones.
    expect(parsePublicStatus(operator)).toEqual(common)
    expect(parseStatus(operator)).toEqual(operator)
    expect(() => parseStatus(common)).toThrow(/participants/)
  })
})
