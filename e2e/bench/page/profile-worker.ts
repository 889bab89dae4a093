// Bench-only: where the training time of one client round goes on a backend. Counts the tfjs kernels a round
// launches (tf.profile), and times, in the same worker, a bare kernel launch and a small upload, so the
// driver can say whether launches, uploads or arithmetic dominate. Not part of the library.
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-webgl'
import {
  type BackendName,
  createRng,
  initUserVector,
  type RowEvent,
  selectBackend,
  sharedWeightsFromSnapshot,
  trainClientRound,
} from '@fedrec/core/client'
import { decodeModel, parseRoundInfo } from '@fedrec/protocol'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'
import * as tf from '@tensorflow/tfjs-core'
import type { ProfileRequest, TrainingProfile } from './api.ts'

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
})

async function profile(request: ProfileRequest): Promise<TrainingProfile> {
  await selectBackend(tf, [request.backend as BackendName])
  const info = parseRoundInfo(await (await fetch(new URL('v1/round', request.endpoint))).json())
  const res = await fetch(new URL('v1/model', request.endpoint))
  const snapshot = decodeModel(new Uint8Array(await res.arrayBuffer()))
  const weights = sharedWeightsFromSnapshot(snapshot)
  const ids = new Map<string, number>()
  for (const [row, id] of snapshot.itemIds.entries()) ids.set(id, row)
  const events: RowEvent[] = request.events.flatMap((e) => {
    const row = ids.get(e.itemId)
    return row === undefined ? [] : [{ type: e.type, row }]
  })
  const round = () =>
    trainClientRound(tf, {
      weights,
      userVector: initUserVector(weights.dim, createRng(1)),
      events,
      config: info.config,
      rng: createRng(2),
    })
  await round() // shaders compiled, wasm warmed
  const walls: number[] = []
  let steps = 0
  let samples = 0
  for (let i = 0; i < 3; i++) {
    const start = performance.now()
    const { result } = await round()
    walls.push(performance.now() - start)
    steps = result.steps
    samples = result.sampleCount
  }
  const profiled = await tf.profile(async () => {
    await round()
    return []
  })
  const kinds = new Map<string, number>()
  for (const k of profiled.kernels) kinds.set(k.name, (kinds.get(k.name) ?? 0) + 1)

  // A bare launch: an elementwise op on a [256, 1] tensor, chained so nothing is skipped.
  const launches = 400
  const x = tf.zeros([256, 1])
  let y = tf.add(x, 1)
  await y.data()
  let start = performance.now()
  for (let i = 0; i < launches; i++) {
    const next = tf.add(y, 1)
    y.dispose()
    y = next
  }
  await y.data()
  const launchMs = (performance.now() - start) / launches
  // An upload of a batch's index array (256 int32), used by one launch: the upload is the difference.
  start = performance.now()
  for (let i = 0; i < launches; i++) {
    const t = tf.tensor1d(new Int32Array(256).fill(i), 'int32')
    const next = tf.add(y, tf.cast(tf.slice(t, 0, 1), 'float32'))
    y.dispose()
    y = next
    t.dispose()
  }
  await y.data()
  const uploadMs = (performance.now() - start) / launches - 3 * launchMs
  tf.dispose([x, y])
  const wallMs = walls.sort((a, b) => a - b)[1]!
  return {
    backend: tf.getBackend(),
    samples,
    steps,
    wallMs,
    kernels: profiled.kernels.length,
    topKernels: [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 8),
    launchMs,
    uploadMs,
  }
}

self.onmessage = async (event: MessageEvent<ProfileRequest>) => {
  try {
    self.postMessage({ ok: true, profile: await profile(event.data) })
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) })
  }
}
