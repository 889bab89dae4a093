// Helpers of the replica tests (not part of the public entry): N aggregator processes on one PostgreSQL
// store, polling for states, and the single-node SQLite run the replicas are compared with.
import { writeFileSync } from 'node:fs'
import { decodeModel, ITEM_BIAS, ITEM_EMBEDDING, parseRoundInfo } from '@fedrec/protocol'
import { expect } from 'vitest'
import { createAggregator } from './aggregator/index.ts'
import { getJson, type Running, start } from './test-process.ts'
import { catalogueOf, randomUpdate } from './test-support.ts'

export const NUM_ITEMS = 40
export const DIM = 4

/** The arguments every replica (and the single-node reference) runs with, a catalogue file written at `file`. */
export function replicaArgs(file: string, minClients: number, deadlineSeconds = 600): string[] {
  writeFileSync(file, JSON.stringify(catalogueOf(NUM_ITEMS)))
  return [
    ...['--port', '0', '--catalogue', file, '--dim', String(DIM), '--seed', '3'],
    ...['--min-clients', String(minClients), '--round-deadline', String(deadlineSeconds)],
    // The synthetic updates claim n_k freely; uploads come from one address.
    ...['--client-rate', '0', '--ip-rate', '0', '--negatives', '1000'],
  ]
}

/** `count` distinct updates of round 0 (seeded: the same every run). */
export const roundUpdates = (count: number, firstSeed = 1) =>
  Array.from({ length: count }, (_, i) =>
    randomUpdate(0, 0, {
      numItems: NUM_ITEMS,
      dim: DIM,
      seed: firstSeed + i,
      sampleCount: 1 + ((i * 7) % 13),
    }),
  )

/**
 * Starts `n` replicas on the store at `url`: the first with `--init` (it creates the schema), then the
 * others on the store it made.
 */
export async function startReplicas(n: number, url: string, args: string[]): Promise<Running[]> {
  const first = await start(['--store', url, '--init', ...args])
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => start(['--store', url, ...args])))
  return [first, ...rest]
}

/** Polls `probe` until it answers something `done` accepts; a probe that throws counts as not yet. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    try {
      const value = await probe()
      if (done(value)) return value
    } catch {
      // Not answering yet (a restart, a server that is down): ask again.
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Waits until the replica at `url` serves round `round`. */
export const roundReached = (url: string, round: number) =>
  pollUntil(
    async () => parseRoundInfo(await getJson(`${url}/v1/round`)).round,
    (r) => r >= round,
  )

/** `GET /v1/model`: its ETag and bytes. */
export async function modelOf(url: string): Promise<{ etag: string | null; bytes: Uint8Array }> {
  const res = await fetch(`${url}/v1/model`)
  expect(res.status).toBe(200)
  return { etag: res.headers.get('etag'), bytes: new Uint8Array(await res.arrayBuffer()) }
}

/** The model a single aggregator on SQLite publishes after round 0 closes on `updates` (an in-process run). */
export async function singleNodeModel(updates: readonly { bytes: Uint8Array }[]): Promise<Uint8Array> {
  const reference = await createAggregator({
    negativesPerPositive: 1000,
    store: ':memory:',
    catalogue: catalogueOf(NUM_ITEMS),
    dim: DIM,
    seed: 3,
    minClients: updates.length,
    deadlineTimer: false,
  })
  try {
    for (const u of updates) await reference.submit(u.bytes)
    expect(reference.roundInfo().round).toBe(1)
    return reference.model().bytes
  } finally {
    await reference.close()
  }
}

/**
 * Expects the two encoded models equal value for value: same version and ids, every weight equal up to
 * float32 rounding (the replicas' closer sums the updates in the order the database stored them, the
 * reference in the order it received them).
 */
export function expectSameModel(actualBytes: Uint8Array, expectedBytes: Uint8Array): void {
  const actual = decodeModel(actualBytes)
  const expected = decodeModel(expectedBytes)
  expect(actual.modelVersion).toBe(expected.modelVersion)
  expect(actual.itemIds).toEqual(expected.itemIds)
  for (const name of [ITEM_EMBEDDING, ITEM_BIAS]) {
    const a = actual.tensors.find((t) => t.name === name)!.values
    const e = expected.tensors.find((t) => t.name === name)!.values
    expect(a).toHaveLength(e.length)
    for (const [i, v] of a.entries()) expect(v).toBeCloseTo(e[i]!, 6)
  }
}
