import './register-backends.ts'
import { encodeModel, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from './db.ts'
import { Engine } from './engine.ts'

// The engine driven directly in a real page (no worker), so a test can reach into the WebGL backend and lose
// its context the way a GPU reset or a tab in the background does.

const ITEMS = Array.from({ length: 64 }, (_, i) => `item-${i}`)
const DIM = 8

async function seed(dbName: string): Promise<void> {
  const embedding = Float32Array.from({ length: ITEMS.length * DIM }, (_, i) => Math.sin(i) / 4)
  const bias = Float32Array.from(ITEMS, (_, i) => (ITEMS.length - i) / 100)
  const bytes = encodeModel({
    modelVersion: 3,
    round: 3,
    itemIds: ITEMS,
    tensors: [
      { name: ITEM_EMBEDDING, rows: ITEMS.length, cols: DIM, values: embedding },
      { name: ITEM_BIAS, rows: ITEMS.length, cols: 1, values: bias },
    ],
  })
  const db = await openFedrecDB(dbName)
  await db.put('model', { key: 'current', modelVersion: 3, etag: '"v3"', bytes: bytes.slice().buffer })
  await db.put('profile', {
    key: 'self',
    clientId: '0123456789abcdef0123456789abcdef',
    userVector: Float32Array.from({ length: DIM }, (_, i) => (i % 2 ? 0.5 : -0.5)),
    lastRound: null,
  })
  db.close()
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
