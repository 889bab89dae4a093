// Test support only (not exported): the backends a Node test runs tfjs on.
// The WASM backend's Node build finds its own .wasm next to its JavaScript, so no setWasmPaths is needed.
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import * as tf from '@tensorflow/tfjs-core'
import { type BackendName, selectBackend } from './backend.ts'

/** Switches tfjs to WASM (CPU if WASM cannot start) and returns tf with the chosen name. */
export async function useNodeBackend(order: readonly BackendName[] = ['wasm', 'cpu']) {
  const name = await selectBackend(tf, order)
  return { tf, name }
}
