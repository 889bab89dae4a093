// The checks around one client's next-item training: its options before, the finiteness of its result after.
import { ModelError } from './errors.ts'
import type { LocalTrainingResult } from './local-training.ts'
import type { SequenceTrainingOptions } from './train-sequence.ts'
import { firstNonFinite } from './weights.ts'

/** Throws `ModelError('bad_option')` naming the first bad option and its value. */
export function checkOptions(o: SequenceTrainingOptions, l2: number, mu: number): void {
  const fail = (what: string, value: unknown) => {
    throw new ModelError('bad_option', `trainSequence: ${what}, got ${String(value)}`)
  }
  if (!Number.isInteger(o.epochs) || o.epochs < 1) fail('epochs must be an integer >= 1', o.epochs)
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    fail('batchSize must be an integer >= 1', o.batchSize)
  if (!(Number.isFinite(o.learningRate) && o.learningRate > 0))
    fail('learningRate must be > 0', o.learningRate)
  if (!(Number.isFinite(l2) && l2 >= 0)) fail('l2 must be finite and >= 0', l2)
  if (!(Number.isFinite(mu) && mu >= 0)) fail('mu must be finite and >= 0', mu)
  if (o.privateVector && o.privateVector.length !== o.weights.dim)
    fail(`privateVector must have dim = ${o.weights.dim} values`, o.privateVector.length)
  if (o.privateVector && firstNonFinite(o.privateVector) >= 0) fail('privateVector must be finite', 'NaN')
  const { samples } = o
  if (samples.negatives.length !== samples.targets.length * samples.negativesPerTarget)
    fail('samples need negativesPerTarget negatives per target', samples.negatives.length)
  for (const w of samples.weights) if (!(Number.isFinite(w) && w >= 0)) fail('target weights must be >= 0', w)
}

/** Throws `ModelError('non_finite')` when the loss or any trained value diverged. */
export function checkFinite(result: LocalTrainingResult): void {
  if (!Number.isFinite(result.loss)) {
    throw new ModelError(
      'non_finite',
      `local training diverged: loss is ${result.loss}; try a smaller learningRate`,
    )
  }
  for (const [name, values] of [
    ['private vector', result.userVector],
    ...result.deltas.map((d) => [d.name, d.values] as const),
  ] as const) {
    const bad = firstNonFinite(values)
    if (bad >= 0)
      throw new ModelError('non_finite', `local training diverged: ${name}[${bad}] is ${values[bad]}`)
  }
}
