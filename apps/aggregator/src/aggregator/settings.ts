import type { UpdateDtype } from '@fedrec/protocol'
import { AggregatorError } from './errors.ts'
import type { NormPolicy } from './norm-bound.ts'

/**
 * The settings an operator may change while the aggregator runs (`PATCH /v1/config`). A change lasts until
 * the next start, where the flags rule again: put a setting you want to keep in the flags.
 */
export interface RoundSettings {
  minClients: number
  roundDeadlineSeconds: number
  mu: number
  localEpochs: number
  learningRate: number
  negativesPerPositive: number
  batchSize: number
  maxSampleCount: number
  /** Row padding: pseudo-items per real item in every upload (0: none). */
  padRatio: number
  /** How clients encode their deltas: 'f16' (float16) or 'f32'. */
  updateDtype: UpdateDtype
  /** null: no bound (JSON has no Infinity). */
  maxUpdateNorm: number | null
  /** Per-row clipping of every update (robust aggregation); null: off. */
  maxRowNorm: number | null
  normPolicy: NormPolicy
  /** DP-FedAvg σ; null: DP off. Changes apply to the open round (its updates are re-clipped to the new S). */
  dpNoiseMultiplier: number | null
  dpClipNorm: number
  dpDelta: number
  /** Estimated shoppers for q = minClients / population; null: q = 1. */
  dpPopulation: number | null
}

type NumericKey = Exclude<
  keyof RoundSettings,
  | 'maxUpdateNorm'
  | 'maxRowNorm'
  | 'normPolicy'
  | 'updateDtype'
  | 'dpNoiseMultiplier'
  | 'dpDelta'
  | 'dpPopulation'
>

/**
 * Longest round deadline or ack retention (about ten years): a deadline is stored as an ISO date, and one past
 * the year 275,760 cannot be, so an unbounded value would make every round close fail.
 */
export const MAX_DURATION_SECONDS = 10 * 365 * 86_400

/** Each numeric setting: integer or not, and its smallest value (exclusive where it must stay positive). */
const RULES: Record<NumericKey, { integer: boolean; min: number; exclusive?: boolean; max?: number }> = {
  minClients: { integer: true, min: 1 },
  roundDeadlineSeconds: { integer: false, min: 0, exclusive: true, max: MAX_DURATION_SECONDS },
  mu: { integer: false, min: 0 },
  localEpochs: { integer: true, min: 1 },
  learningRate: { integer: false, min: 0, exclusive: true },
  negativesPerPositive: { integer: true, min: 1 },
  batchSize: { integer: true, min: 1 },
  maxSampleCount: { integer: true, min: 1, max: 0xffffffff },
  // Beyond a few pseudo-items per real one the upload grows without hiding more (docs/privacy.md).
  padRatio: { integer: false, min: 0, max: 64 },
  dpClipNorm: { integer: false, min: 0, exclusive: true },
}

/** The settings that may be null (off), with the rule of their non-null values. */
const NULLABLE: Record<'dpNoiseMultiplier' | 'dpPopulation', { integer: boolean; what: string }> = {
  dpNoiseMultiplier: { integer: false, what: 'a number > 0' },
  dpPopulation: { integer: true, what: 'an integer > 0' },
}

/**
 * Checks a settings patch from outside: an object with some of the keys of RoundSettings, each in range.
 * @throws AggregatorError `bad_settings` saying which key and why
 * @example const patch = parseSettingsPatch(await c.req.json()) // { minClients: 10 }
 */
export function parseSettingsPatch(input: unknown): Partial<RoundSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new AggregatorError('bad_settings', 'the body must be a JSON object of settings to change')
  const out: Partial<RoundSettings> = {}
  for (const [key, value] of Object.entries(input)) {
    if (key === 'normPolicy') {
      if (value !== 'clip' && value !== 'reject')
        throw new AggregatorError(
          'bad_settings',
          `normPolicy must be "clip" or "reject", got ${JSON.stringify(value)}`,
        )
      out.normPolicy = value
    } else if (key === 'updateDtype') {
      if (value !== 'f16' && value !== 'f32')
        throw new AggregatorError(
          'bad_settings',
          `updateDtype must be "f16" or "f32", got ${JSON.stringify(value)}`,
        )
      out.updateDtype = value
    } else if (key === 'maxUpdateNorm' || key === 'maxRowNorm') {
      if (value !== null && !(typeof value === 'number' && Number.isFinite(value) && value > 0))
        throw new AggregatorError(
          'bad_settings',
          `${key} must be a number > 0 or null, got ${JSON.stringify(value)}`,
        )
      out[key] = value
    } else if (key === 'dpNoiseMultiplier' || key === 'dpPopulation') {
      const rule = NULLABLE[key]
      const ok =
        value === null ||
        (typeof value === 'number' &&
          Number.isFinite(value) &&
          value > 0 &&
          (!rule.integer || Number.isSafeInteger(value)))
      if (!ok)
        throw new AggregatorError(
          'bad_settings',
          `${key} must be ${rule.what} or null, got ${JSON.stringify(value)}`,
        )
      out[key] = value as number | null
    } else if (key === 'dpDelta') {
      if (!(typeof value === 'number' && value > 0 && value < 1))
        throw new AggregatorError(
          'bad_settings',
          `dpDelta must be a number in (0, 1), got ${JSON.stringify(value)}`,
        )
      out.dpDelta = value
    } else if (key in RULES) {
      const rule = RULES[key as NumericKey]
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!rule.integer || Number.isInteger(value)) &&
        (rule.exclusive ? value > rule.min : value >= rule.min) &&
        (rule.max === undefined || value <= rule.max)
      if (!ok)
        throw new AggregatorError(
          'bad_settings',
          `${key} must be ${rule.integer ? 'an integer' : 'a number'} ${rule.exclusive ? '>' : '≥'} ${rule.min}${rule.max === undefined ? '' : ` and ≤ ${rule.max}`}, got ${JSON.stringify(value)}`,
        )
      out[key as NumericKey] = value as number
    } else {
      throw new AggregatorError(
        'bad_settings',
        `unknown setting ${JSON.stringify(key)}; known: ${[...Object.keys(RULES), 'maxUpdateNorm', 'maxRowNorm', 'normPolicy', 'updateDtype', 'dpNoiseMultiplier', 'dpDelta', 'dpPopulation'].join(', ')}`,
      )
    }
  }
  return out
}
