import '../register-backends.ts'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { seedCache } from '../test-model.ts'
import { Engine } from './index.ts'

// The engine driven directly in a real page (no worker), so a test can reach into the WebGL backend and lose
// its context the way a GPU reset or a tab in the background does.

const ITEMS = Array.from({ length: 64 }, (_, i) => `item-${i}`)
const DIM = 8

async function seed(dbName: string): Promise<void> {
  await seedCache(dbName, {
    itemIds: ITEMS,
    embedding: Float32Array.from({ length: ITEMS.length * DIM }, (_, i) => Math.sin(i) / 4),
    bias: Float32Array.from(ITEMS, (_, i) => (ITEMS.length - i) / 100),
    version: 3,
    userVector: Float32Array.from({ length: DIM }, (_, i) => (i % 2 ? 0.5 : -0.5)),
  })
}

const engines: Engine[] = []
afterEach(() => {
  for (const e of engines.splice(0)) e.dispose()
})

describe('engine in a real browser', () => {
  it('moves to WASM when the WebGL context is lost, and recommends the same items', async () => {
    const dbName = `e-${crypto.randomUUID()}`
    await seed(dbName)
    const engine = await Engine.create(tf, {
      endpoint: 'http://127.0.0.1:9/',
      dbName,
      backends: ['webgl', 'wasm', 'cpu'],
      retry: { retries: 0, baseDelayMs: 1 },
    })
    engines.push(engine)
    expect(await engine.ensureBackend()).toBe('webgl')
    const before = await engine.recommend(5)

    const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl
    gl.getExtension('WEBGL_lose_context')!.loseContext()
    expect(gl.isContextLost()).toBe(true)

    const after = await engine.recommend(5)
    expect(await engine.ensureBackend()).toBe('wasm')
    expect(after.map((r) => r.itemId)).toEqual(before.map((r) => r.itemId))
    for (const [i, r] of after.entries()) expect(r.score).toBeCloseTo(before[i]!.score, 4)
  })
})

describe('choosing a backend', () => {
  it('runs one choice for concurrent first calls (a widget suggestion racing a sync)', async () => {
    const chosen: string[] = []
    // The real tfjs, counting the backend switches the engine asks for.
    const counting = {
      ...tf,
      setBackend: (name: string) => {
        chosen.push(name)
        return tf.setBackend(name)
      },
    } as typeof tf
    const engine = await Engine.create(counting, {
      endpoint: 'http://127.0.0.1:9/',
      dbName: `e-${crypto.randomUUID()}`,
      backends: ['wasm', 'cpu'],
      retry: { retries: 0, baseDelayMs: 1 },
    })
    engines.push(engine)
    const both = await Promise.all([engine.ensureBackend(), engine.ensureBackend(), engine.ensureBackend()])
    expect(both).toEqual(['wasm', 'wasm', 'wasm'])
    expect(chosen).toEqual(['wasm'])
    expect(await engine.ensureBackend()).toBe('wasm')
    expect(chosen).toEqual(['wasm'])
  })
})
