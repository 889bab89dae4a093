import '../register-backends.ts'
import type { Fetch, RoundInfo } from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from '../db.ts'
import { ack as ackFor, jsonResponse, scriptedAggregator, seedCache } from '../test-model.ts'
import { Engine } from './index.ts'

// A whole sync in a real page (real IndexedDB, real tfjs on the CPU backend) against a scripted aggregator:
// the cached model is current, so only the round info and the upload go over the (fake) wire.

const ITEMS = Array.from({ length: 16 }, (_, i) => `item-${i}`)
const DIM = 4

const info = (round: number): RoundInfo => ({
  round,
  modelVersion: 3,
  numItems: ITEMS.length,
  dim: DIM,
  config: {
    mu: 0,
    localEpochs: 1,
    learningRate: 0.05,
    negativesPerPositive: 1,
    batchSize: 8,
    maxSampleCount: 100,
    deadline: '2030-01-01T00:00:00.000Z',
    minClients: 1,
  },
})

const json = jsonResponse
const aggregator = (round: number, uploads: Parameters<typeof scriptedAggregator>[1]) =>
  scriptedAggregator(info(round), uploads)
const ack = (round: number) => ackFor(round, 3)

async function seed(dbName: string): Promise<void> {
  await seedCache(dbName, {
    itemIds: ITEMS,
    embedding: Float32Array.from({ length: ITEMS.length * DIM }, (_, i) => Math.sin(i) / 4),
    bias: new Float32Array(ITEMS.length),
    version: 3,
  })
  const db = await openFedrecDB(dbName)
  for (const [i, itemId] of ['item-1', 'item-2', 'item-3', 'item-4'].entries())
    await db.add('events', { type: 'click', itemId, ts: 1_000 + i })
  db.close()
}

const engines: Engine[] = []
afterEach(() => {
  for (const e of engines.splice(0)) e.dispose()
})

async function engineFor(dbName: string, fetch: Fetch): Promise<Engine> {
  const config = {
    endpoint: 'http://agg.test/',
    dbName,
    backends: ['cpu' as const],
    retry: { retries: 0, baseDelayMs: 1 },
  }
  const engine = await Engine.create(tf, config, { fetch })
  engines.push(engine)
  return engine
}

describe('sync against a scripted aggregator', () => {
  it('resends the stored update after a cut-off upload, then stays out of the round', async () => {
    const dbName = `s-${crypto.randomUUID()}`
    await seed(dbName)
    const agg = aggregator(3, [() => new Error('the page went away'), () => ack(3)])
    const engine = await engineFor(dbName, agg.fetch)
    await expect(engine.sync()).rejects.toMatchObject({ name: 'FedrecError', code: 'network' })
    const resumed = await engine.sync()
    expect(resumed).toMatchObject({ round: 3, modelVersion: 3, uploaded: true, resumed: true })
    expect(resumed.samples).toBeGreaterThan(0)
    expect(resumed.bytesUp).toBe(agg.bodies[0]!.byteLength)
    // The same bytes (same idempotency key), not a second training.
    expect(agg.bodies[1]).toEqual(agg.bodies[0])
    const again = await engine.sync()
    expect(again).toMatchObject({ uploaded: false, samples: 0, bytesUp: 0 })
    expect(agg.bodies).toHaveLength(2)
  })

  it('trains again once when the round moved on under the upload, counting both uploads', async () => {
    const dbName = `s-${crypto.randomUUID()}`
    await seed(dbName)
    const stale = () => json(409, { error: { code: 'stale_model', message: 'retrain' } })
    const agg = aggregator(4, [stale, () => ack(4)])
    const engine = await engineFor(dbName, agg.fetch)
    const report = await engine.sync()
    expect(report).toMatchObject({ round: 4, uploaded: true })
    expect(agg.bodies).toHaveLength(2)
    expect(agg.bodies[1]).not.toEqual(agg.bodies[0])
    expect(report.bytesUp).toBe(agg.bodies[0]!.byteLength + agg.bodies[1]!.byteLength)
  })
})
