// The streaming FedAvg accumulator: a thin facade over its state object and one file per job.
import { addUpdate } from './accumulator-add.ts'
import { addSum } from './accumulator-add-sum.ts'
import { meanDeltas } from './accumulator-result.ts'
import { createAccumulatorState, resetState, type TensorSums } from './accumulator-state.ts'
import type { Accumulator, AccumulatorOptions } from './accumulator-types.ts'

export type { TensorSums } from './accumulator-state.ts'

// Lets the tests check that the buffers are allocated once, without widening the public interface.
const internals = new WeakMap<Accumulator, ReadonlyMap<string, TensorSums>>()

/** @internal The accumulator's own buffers, for tests that assert memory does not grow. */
export function accumulatorBuffers(acc: Accumulator): ReadonlyMap<string, TensorSums> | undefined {
  return internals.get(acc)
}

/**
 * Creates a streaming FedAvg accumulator for the given tensor shapes.
 * @example
 * const acc = createAccumulator({ tensors: [{ name: 'item_embedding', rows: 5000, cols: 32 }] })
 * for (const update of round) acc.add(update)
 * const meanDelta = acc.result()
 */
export function createAccumulator(options: AccumulatorOptions): Accumulator {
  const state = createAccumulatorState(options)
  const accumulator: Accumulator = {
    add: (update) => addUpdate(state, update),
    addSum: (sum) => addSum(state, sum),
    get participants() {
      return state.participants
    },
    get samples() {
      return state.samples
    },
    get clipped() {
      return state.clipped
    },
    result: () => meanDeltas(state),
    reset: () => resetState(state),
  }
  internals.set(accumulator, state.sums)
  return accumulator
}
