import { describe, expect, it } from 'vitest'
import { MAX_DURATION_SECONDS, parseSettingsPatch } from './settings.ts'

const refusal = (input: unknown): string => {
  try {
    parseSettingsPatch(input)
  } catch (err) {
    expect(err).toMatchObject({ name: 'AggregatorError', code: 'bad_settings' })
    return (err as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

describe('parseSettingsPatch', () => {
  it('returns the named settings, nulls included, and nothing else', () => {
    expect(parseSettingsPatch({})).toEqual({})
    expect(
      parseSettingsPatch({
        minClients: 10,
        learningRate: 0.05,
        maxUpdateNorm: null,
        normPolicy: 'reject',
        dpDelta: 1e-6,
      }),
    ).toEqual({
      minClients: 10,
      learningRate: 0.05,
      maxUpdateNorm: null,
      normPolicy: 'reject',
      dpDelta: 1e-6,
    })
    expect(parseSettingsPatch({ roundDeadlineSeconds: MAX_DURATION_SECONDS, padRatio: 0, mu: 0 })).toEqual({
      roundDeadlineSeconds: MAX_DURATION_SECONDS,
      padRatio: 0,
      mu: 0,
    })
  })

  it('refuses a body that is not an object of settings', () => {
    for (const body of [null, 3, 'minClients', [1], []])
      expect(refusal(body)).toBe('the body must be a JSON object of settings to change')
  })

  it('names an unknown setting and lists the known ones', () => {
    expect(refusal({ quorum: 2 })).toMatch(
      /^unknown setting "quorum"; known: minClients, roundDeadlineSeconds, /,
    )
  })

  it('says which setting is out of range, its rule and the value', () => {
    expect(refusal({ minClients: 0 })).toBe('minClients must be an integer ≥ 1, got 0')
    expect(refusal({ minClients: 1.5 })).toBe('minClients must be an integer ≥ 1, got 1.5')
    expect(refusal({ minClients: '3' })).toBe('minClients must be an integer ≥ 1, got "3"')
    expect(refusal({ learningRate: 0 })).toBe('learningRate must be a number > 0, got 0')
    expect(refusal({ roundDeadlineSeconds: 1e13 })).toBe(
      `roundDeadlineSeconds must be a number > 0 and ≤ ${MAX_DURATION_SECONDS}, got 10000000000000`,
    )
    expect(refusal({ maxSampleCount: 2 ** 32 })).toBe(
      'maxSampleCount must be an integer ≥ 1 and ≤ 4294967295, got 4294967296',
    )
    expect(refusal({ padRatio: -1 })).toBe('padRatio must be a number ≥ 0 and ≤ 64, got -1')
    expect(refusal({ normPolicy: 'drop' })).toBe('normPolicy must be "clip" or "reject", got "drop"')
    expect(refusal({ updateDtype: 'bf16' })).toBe('updateDtype must be "f16" or "f32", got "bf16"')
    expect(refusal({ maxUpdateNorm: -1 })).toBe('maxUpdateNorm must be a number > 0 or null, got -1')
    expect(refusal({ dpPopulation: 10.5 })).toBe('dpPopulation must be an integer > 0 or null, got 10.5')
    expect(refusal({ dpDelta: 1 })).toBe('dpDelta must be a number > 0 and < 1, got 1')
  })

  it('reports one bad setting of several, the first in RoundSettings order', () => {
    expect(refusal({ minClients: 2, batchSize: 0, mu: -1 })).toBe('mu must be a number ≥ 0, got -1')
  })
})
