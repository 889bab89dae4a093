// tfjs in Node without tfjs-node (it downloads a binary and cannot be installed here): the WASM backend,
// whose Node build loads the .wasm shipped inside its npm package, with the CPU backend as the fallback.
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { type BackendName, selectBackend } from '@fedrec/core/client'
import * as tf from '@tensorflow/tfjs-core'

/**
 * Chooses the first working backend of `order` and returns tf with its name.
 * @example const { tf, backend } = await useNodeBackend(['wasm', 'cpu'])
 */
export async function useNodeBackend(order: readonly BackendName[] = ['wasm', 'cpu']) {
  const backend = await selectBackend(tf, order)
  return { tf, backend }
}
