// Test support for the app's route tests: one in-memory aggregator per test behind the Hono app, and the
// requests and checks the route tests share.
import {
  crc32,
  decodeModel,
  type ModelSnapshot,
  newRandomId,
  parseErrorBody,
  parseStatus,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import type { Hono } from 'hono'
import { expect } from 'vitest'
import { type Aggregator, type AggregatorOptions, createAggregator } from '../aggregator/index.ts'
import { catalogueOf, makeUpdate } from '../test-support.ts'
import { type AppOptions, createApp } from './index.ts'
import { nextStore } from './test-stores.ts'

export const TOKEN = 'operator-secret'
export const DIM = 4
export const NUM_ITEMS = 5

let open: Aggregator[] = []
/** Closes `aggregator` with the others after the test. */
export function closeAfterTest(aggregator: Aggregator): void {
  open.push(aggregator)
}

/** Closes every aggregator `setup` opened: `afterEach(closeApps)` in each test file. */
export async function closeApps(): Promise<void> {
  const closing = open
  open = []
  await Promise.all(closing.map((a) => a.close()))
}

/** The aggregator every test here starts from (in memory, no deadline timer). */
export const BASE_OPTIONS: AggregatorOptions = {
  store: ':memory:',
  catalogue: catalogueOf(NUM_ITEMS),
  dim: DIM,
  seed: 7,
  minClients: 3,
  deadlineTimer: false,
  // The synthetic updates here claim n_k freely; the bound by rows has its own test (influence.test.ts).
  negativesPerPositive: 1000,
}

export async function setup(options: Partial<AggregatorOptions> = {}, appOptions: Partial<AppOptions> = {}) {
  let clock = Date.parse('2030-01-01T00:00:00.000Z')
  const aggregator = await createAggregator({
    ...BASE_OPTIONS,
    store: await nextStore(),
    now: () => clock,
    ...options,
  })
  open.push(aggregator)
  const app = createApp(aggregator, {
    corsOrigins: ['*'],
    maxBodyBytes: 1 << 20,
    operatorToken: TOKEN,
    ...appOptions,
  })
  return {
    app,
    aggregator,
    advance: (ms: number) => {
      clock += ms
    },
  }
}

export const post = (app: Hono, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  app.request('/v1/updates', {
    method: 'POST',
    body: bytes,
    headers: { 'Content-Type': UPDATE_MEDIA_TYPE, ...headers },
  })

/** The operator's status: the live view. */
export async function status(app: Hono) {
  const res = await app.request('/v1/status', { headers: { Authorization: `Bearer ${TOKEN}` } })
  expect(res.status).toBe(200)
  return parseStatus(await res.json())
}

export async function model(app: Hono): Promise<ModelSnapshot> {
  const res = await app.request('/v1/model')
  expect(res.status).toBe(200)
  return decodeModel(new Uint8Array(await res.arrayBuffer()))
}

export async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  const body = parseErrorBody(await res.json())
  expect(body.error.code).toBe(code)
  expect(body.error.message).not.toBe('')
}

/** `bytes` followed by their CRC-32, so the decoder gets past the checksum. */
export function withChecksum(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 4)
  out.set(bytes)
  new DataView(out.buffer).setUint32(bytes.length, crc32(bytes), true)
  return out
}

export const tensor = (s: ModelSnapshot, name: string) => s.tensors.find((t) => t.name === name)!.values

/** Posts an accepted update for the open round from a fresh client; returns that client's id. */
export async function participant(app: Hono, round = 0): Promise<string> {
  const clientId = newRandomId()
  const u = makeUpdate({ round, modelVersion: round, sampleCount: 1, dim: DIM, bias: [[0, [0.1]]], clientId })
  expect((await post(app, u.bytes)).status).toBe(200)
  return clientId
}
