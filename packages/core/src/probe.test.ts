import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { it, expect } from 'vitest'

it('probe', async () => {
  console.log('backends', Object.keys((tf.engine() as any).registryFactory))
  const ok = await tf.setBackend('wasm')
  console.log('setBackend wasm', ok, tf.getBackend())
  await tf.ready()
  const a = tf.variable(tf.randomNormal([4, 3]))
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(x, a)))(tf.ones([2, 4]))
  console.log(g.arraySync())
  expect(setWasmPaths).toBeDefined()
})
