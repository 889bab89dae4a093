/** The published model as clients download it: encoded once per version, or as a patch from an older version. */
import { encodeModel } from '@fedrec/protocol'
import { AggregatorError } from './errors.ts'
import { createModelPatches, snapshotOf } from './model-patches.ts'
import type { AggregatorState } from './state.ts'

/**
 * `GET /v1/model`, whole or as a patch.
 * @example const { version, bytes } = createModelView(s).model()
 */
export interface ModelView {
  /** The current model, encoded once per version. */
  model(): { version: number; bytes: Uint8Array }
  /** A patch from `since` to the current model, or undefined when the whole model is the answer. */
  modelPatch(since: number): Promise<{ version: number; bytes: Uint8Array } | undefined>
}

export function createModelView(s: AggregatorState): ModelView {
  let encoded: { version: number; bytes: Uint8Array } | undefined
  const patches = createModelPatches(s.store)
  const model = (): { version: number; bytes: Uint8Array } => {
    const m = s.model
    if (encoded?.version !== m.version) {
      // Format 2 with each item's feature rows and the feature tensors when the model has item features.
      const bytes = encodeModel(snapshotOf(m))
      encoded = { version: m.version, bytes }
    }
    return encoded
  }
  return {
    model,
    async modelPatch(since) {
      const m = s.model
      if (!Number.isSafeInteger(since) || since < 0 || since > m.version) {
        throw new AggregatorError(
          'bad_since',
          `since must be a model version from 0 to the current one (${m.version}), got ${since}: pass the version of the model you hold, or fetch /v1/model without since`,
        )
      }
      const bytes = await patches.since(since, m, model())
      return bytes ? { version: m.version, bytes } : undefined
    },
  }
}
