// The settings an operator may change at run time, and the checks a `PATCH /v1/config` body must pass.
import { UPDATE_DTYPES, type UpdateDtype } from '@fedrec/protocol'
import * as v from 'valibot'
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

/**
 * Longest round deadline or ack retention (about ten years): a deadline is stored as an ISO date, and one past
 * the year 275,760 cannot be, so an unbounded value would make every round close fail.
 */
export const MAX_DURATION_SECONDS = 10 * 365 * 86_400

/** The error message of one setting: its rule, and the value that broke it. */
const rule =
  (key: string, what: string) =>
  (issue: { input: unknown }): string =>
    `${key} must be ${what}, got ${JSON.stringify(issue.input)}`

/** An integer setting ≥ `min` (and ≤ `max`). */
function integerSetting(key: string, min: number, max?: number) {
  const m = rule(key, `an integer ≥ ${min}${max === undefined ? '' : ` and ≤ ${max}`}`)
  return v.pipe(v.number(m), v.integer(m), v.minValue(min, m), v.maxValue(max ?? Number.MAX_VALUE, m))
}

/** A finite number setting ≥ `min`, or > `min` when `exclusive` (and ≤ `max`, or < `below`). */
function numberSetting(
  key: string,
  min: number,
  { exclusive = false, max, below }: { exclusive?: boolean; max?: number; below?: number } = {},
) {
  const upper = max !== undefined ? ` and ≤ ${max}` : below !== undefined ? ` and < ${below}` : ''
  const m = rule(key, `a number ${exclusive ? '>' : '≥'} ${min}${upper}`)
  return v.pipe(
    v.number(m),
    v.finite(m),
    exclusive ? v.gtValue(min, m) : v.minValue(min, m),
    below === undefined ? v.maxValue(max ?? Number.MAX_VALUE, m) : v.ltValue(below, m),
  )
}

/** A setting that is off when null: otherwise a number > 0 (an integer when `integer`). */
function nullableSetting(key: string, integer: boolean) {
  const m = rule(key, `${integer ? 'an integer' : 'a number'} > 0 or null`)
  const value = integer
    ? v.pipe(v.number(m), v.safeInteger(m), v.gtValue(0, m))
    : v.pipe(v.number(m), v.finite(m), v.gtValue(0, m))
  return v.nullable(value)
}

/** Each setting with its rule, all optional: a patch names only what it changes. */
const SettingsPatchEntries = {
  minClients: v.optional(integerSetting('minClients', 1)),
  roundDeadlineSeconds: v.optional(
    numberSetting('roundDeadlineSeconds', 0, { exclusive: true, max: MAX_DURATION_SECONDS }),
  ),
  mu: v.optional(numberSetting('mu', 0)),
  localEpochs: v.optional(integerSetting('localEpochs', 1)),
  learningRate: v.optional(numberSetting('learningRate', 0, { exclusive: true })),
  negativesPerPositive: v.optional(integerSetting('negativesPerPositive', 1)),
  batchSize: v.optional(integerSetting('batchSize', 1)),
  maxSampleCount: v.optional(integerSetting('maxSampleCount', 1, 0xffffffff)),
  // Beyond a few pseudo-items per real one the upload grows without hiding more (docs/privacy.md).
  padRatio: v.optional(numberSetting('padRatio', 0, { max: 64 })),
  updateDtype: v.optional(v.picklist(UPDATE_DTYPES, rule('updateDtype', '"f16" or "f32"'))),
  maxUpdateNorm: v.optional(nullableSetting('maxUpdateNorm', false)),
  maxRowNorm: v.optional(nullableSetting('maxRowNorm', false)),
  normPolicy: v.optional(v.picklist(['clip', 'reject'], rule('normPolicy', '"clip" or "reject"'))),
  dpNoiseMultiplier: v.optional(nullableSetting('dpNoiseMultiplier', false)),
  dpClipNorm: v.optional(numberSetting('dpClipNorm', 0, { exclusive: true })),
  dpDelta: v.optional(numberSetting('dpDelta', 0, { exclusive: true, below: 1 })),
  dpPopulation: v.optional(nullableSetting('dpPopulation', true)),
} satisfies { [K in keyof RoundSettings]-?: v.OptionalSchema<v.GenericSchema<RoundSettings[K]>, undefined> }

const SettingsPatchSchema = v.pipe(
  // Arrays are objects to valibot's object schemas: a JSON array must not pass as an empty patch.
  v.custom<Record<string, unknown>>(
    (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
    'the body must be a JSON object of settings to change',
  ),
  v.strictObject(
    SettingsPatchEntries,
    (issue) =>
      `unknown setting ${JSON.stringify(issue.input)}; known: ${Object.keys(SettingsPatchEntries).join(', ')}`,
  ),
)

/**
 * Checks a settings patch from outside: an object with some of the keys of RoundSettings, each in range.
 * @throws AggregatorError `bad_settings` saying which key and why
 * @example const patch = parseSettingsPatch(await c.req.json()) // { minClients: 10 }
 */
export function parseSettingsPatch(input: unknown): Partial<RoundSettings> {
  const result = v.safeParse(SettingsPatchSchema, input, { abortEarly: true })
  if (!result.success) throw new AggregatorError('bad_settings', result.issues[0].message)
  return result.output
}
