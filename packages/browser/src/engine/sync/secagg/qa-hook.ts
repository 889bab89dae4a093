// The e2e suite's window on secure aggregation: a worker-local record of the plain contribution, never sent.
import type { TensorDelta } from '@fedrec/protocol'

/**
 * QA hook for the e2e suite (e2e/scenarios/secagg.spec.ts): when a test has planted an array at
 * `globalThis.__fedrecSecAggQa` in the worker, each plain contribution is pushed there, so the test can
 * check the published model against a plain aggregation and look for the plain delta on the wire. It stays
 * in this worker's memory, is never sent, and without the planted array nothing is kept.
 */
export function recordForQa(
  round: number,
  sampleCount: number,
  deltas: readonly TensorDelta[],
  vector: Uint32Array,
): void {
  const slot: unknown = (globalThis as { __fedrecSecAggQa?: unknown }).__fedrecSecAggQa
  if (!Array.isArray(slot)) return
  slot.push({
    round,
    sampleCount,
    deltas: deltas.map((d) => ({ name: d.name, cols: d.cols, rowIds: [...d.rowIds], values: [...d.values] })),
    vector: [...vector],
  })
}
