import { describe, expect, it } from 'vitest'
import { ProtocolError } from './errors.ts'
import { parseRoundInfo } from './messages.ts'
import {
  decodeMaskedInput,
  encodeMaskedInput,
  parseSecAggConfig,
  parseSecAggJoin,
  parseSecAggShares,
  parseSecAggUnmask,
  SECAGG_MAX_COHORT,
} from './secagg-messages.ts'

const join = {
  round: 2,
  modelVersion: 2,
  cohort: 5,
  clientId: 'a'.repeat(32),
  id: 77,
  token: 'b'.repeat(32),
  cPublicKey: 'BA'.repeat(40),
  sPublicKey: 'BB'.repeat(40),
}

describe('secure aggregation messages', () => {
  it('round-trips a masked vector as little-endian uint32 and refuses any other size', () => {
    const v = Uint32Array.of(0, 1, 0xffffffff, 0x01020304)
    const bytes = encodeMaskedInput(v)
    expect([...bytes.slice(12)]).toEqual([4, 3, 2, 1])
    expect(decodeMaskedInput(bytes, 4)).toEqual(v)
    expect(() => decodeMaskedInput(bytes, 5)).toThrow(ProtocolError)
    expect(() => decodeMaskedInput(bytes.slice(1), 4)).toThrow(/4 uint32 elements/)
  })

  it('bounds what a client may send: ids, key sizes, list lengths, base64url only', () => {
    expect(parseSecAggJoin(join)).toEqual(join)
    expect(() => parseSecAggJoin({ ...join, id: 0 })).toThrow(/id/)
    expect(() => parseSecAggJoin({ ...join, id: 65_536 })).toThrow(ProtocolError)
    expect(() => parseSecAggJoin({ ...join, cPublicKey: 'A'.repeat(257) })).toThrow(/cPublicKey/)
    expect(() => parseSecAggJoin({ ...join, sPublicKey: 'not base64url!' })).toThrow(/sPublicKey/)
    expect(() => parseSecAggJoin({ ...join, token: 'short' })).toThrow(/token/)
    const share = { to: 3, iv: 'A'.repeat(16), ciphertext: 'B'.repeat(110) }
    expect(parseSecAggShares({ seedCommitment: 'C'.repeat(43), shares: [share] }).shares).toHaveLength(1)
    const many = Array.from({ length: SECAGG_MAX_COHORT + 1 }, () => share)
    expect(() => parseSecAggShares({ seedCommitment: 'C'.repeat(43), shares: many })).toThrow(/shares/)
    expect(() =>
      parseSecAggShares({ seedCommitment: 'C', shares: [{ ...share, ciphertext: 'x'.repeat(513) }] }),
    ).toThrow(/ciphertext/)
    expect(() => parseSecAggUnmask({ selfMaskShares: [{ of: 1, share: 'A' }] })).toThrow(/keyShares/)
  })

  it('checks the config block: cohort bounds and threshold fit together; a round config may carry it', () => {
    const config = { minCohort: 5, maxCohort: 10, threshold: 3, phaseTimeoutSeconds: 30 }
    expect(parseSecAggConfig(config)).toEqual(config)
    expect(() => parseSecAggConfig({ ...config, maxCohort: 4 })).toThrow(
      /minCohort must not exceed maxCohort/,
    )
    expect(() => parseSecAggConfig({ ...config, threshold: 6 })).toThrow(
      /threshold must not exceed minCohort/,
    )
    expect(() => parseSecAggConfig({ ...config, minCohort: 2 })).toThrow(/minCohort/)
    expect(() => parseSecAggConfig({ ...config, maxCohort: 256 })).toThrow(/maxCohort/)
    const info = {
      round: 1,
      modelVersion: 1,
      numItems: 3,
      dim: 2,
      config: {
        mu: 0,
        localEpochs: 1,
        learningRate: 0.1,
        negativesPerPositive: 1,
        batchSize: 8,
        maxSampleCount: 10,
        deadline: '2030-01-01T00:00:00.000Z',
        minClients: 1,
        secureAggregation: config,
      },
    }
    expect(parseRoundInfo(info).config.secureAggregation).toEqual(config)
    const { secureAggregation: _, ...plain } = info.config
    expect(parseRoundInfo({ ...info, config: plain }).config.secureAggregation).toBeUndefined()
  })
})
