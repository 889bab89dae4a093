/**
 * The `Store` contract as one suite any backend runs: what each table group must do, checked through the
 * interface alone (no SQL), so SQLite and PostgreSQL are held to the same answers.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openRecord } from '../aggregator/round-records.ts'
import { describeFeatureContract } from './feature-contract.ts'
import type { RoundClosing, RoundRecord } from './rounds.ts'
import { StoreCorruptError } from './rows.ts'
import { SCHEMA_VERSION, STORE_FORMAT } from './sqlite/schema.ts'
import type { Store, StoreInit } from './store.ts'
import { describeTableContract } from './table-contract.ts'
import type { UpdateRecord } from './updates.ts'

export const AT = '2026-03-01T00:00:00.000Z'

/** Round 0, open for ten minutes from AT. */
export const openRound0: RoundRecord = openRecord(0, 0, Date.parse(AT), 10 * 60_000)

/** What the contract initialises every store with: three items of dimension 2, round 0 open. */
export const contractInit: StoreInit = {
  meta: { salt: 'contract-salt', quorum: '3' },
  model: {
    version: 0,
    round: 0,
    dim: 2,
    itemIds: ['i1', 'i2', 'i3'],
    itemEmbedding: new Float32Array([0.5, -0.5, 0.25, 1, -2, 0.125]),
    itemBias: new Float32Array([0, 0.125, -1]),
    createdAt: AT,
  },
  round: openRound0,
}

/** An accepted update of round 0; `norm` above 1 counts as clipped. */
export const update = (key: string, clientHash: string, norm: number, payload = [1, 2, 3]): UpdateRecord => ({
  idempotencyKey: key,
  clientHash,
  round: 0,
  sampleCount: 3,
  payload: new Uint8Array(payload),
  ack: `{"accepted":"${key}"}`,
  receivedAt: '2026-03-01T00:00:01.000Z',
  norm,
  clipped: norm > 1,
})

/** How round 0 closes in these tests. */
export const closing: RoundClosing = {
  closedAt: '2026-03-01T00:05:00.000Z',
  closedBy: 'quorum',
  participants: 2,
  samples: 6,
  updateNorm: 0.5,
  clientNormMean: 0.75,
  clientNormMax: 1,
  clipped: 0,
}

/** Every payload of `round`, in the order the store streams them. */
export async function payloads(store: Store, round: number): Promise<number[][]> {
  const out: number[][] = []
  for await (const payload of store.roundPayloads(round)) out.push(Array.from(payload))
  return out
}

/**
 * Defines the contract's tests for one backend. `open` must give a new, empty store (`isNew`); the suite
 * initialises it with `contractInit` and closes it after the test.
 * @example describeStoreContract('SQLite', async () => openStore(':memory:'))
 */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  const opened: Store[] = []
  const fresh = async (): Promise<Store> => {
    const store = await open()
    opened.push(store)
    expect(store.isNew).toBe(true)
    await store.initialise(contractInit)
    return store
  }
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
  })

  describe(`${name} store: meta and model`, () => {
    it('is initialised with its format, schema version, settings and model, checksum verified', async () => {
      const store = await fresh()
      expect(await store.meta('format')).toBe(STORE_FORMAT)
      expect(await store.meta('schema_version')).toBe(String(SCHEMA_VERSION))
      expect(await store.meta('salt')).toBe('contract-salt')
      expect(await store.meta('missing')).toBeUndefined()
      await store.setMeta('quorum', '5')
      expect(await store.meta('quorum')).toBe('5')
      const model = await store.loadModel()
      expect(model).toMatchObject({
        version: 0,
        round: 0,
        dim: 2,
        itemIds: ['i1', 'i2', 'i3'],
        createdAt: AT,
      })
      expect(Array.from(model.itemEmbedding)).toEqual([0.5, -0.5, 0.25, 1, -2, 0.125])
      expect(Array.from(model.itemBias)).toEqual([0, 0.125, -1])
    })

    it('replaces the model, appending new items to the catalogue, and refuses one that is not finite', async () => {
      const store = await fresh()
      const next = {
        ...contractInit.model,
        version: 1,
        round: 1,
        itemIds: ['i1', 'i2', 'i3', 'i4'],
        itemEmbedding: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
        itemBias: new Float32Array([0.5, 0.25, 0, -0.5]),
      }
      await store.saveModel(next)
      const loaded = await store.loadModel()
      expect(loaded).toMatchObject({ version: 1, round: 1, itemIds: ['i1', 'i2', 'i3', 'i4'] })
      expect(Array.from(loaded.itemBias)).toEqual([0.5, 0.25, 0, -0.5])
      const broken = { ...next, version: 2, itemBias: new Float32Array([0, Number.NaN, 0, 0]) }
      await expect(store.saveModel(broken)).rejects.toThrow(
        'model.item_bias: value NaN at index 1 is not finite',
      )
      expect((await store.loadModel()).version).toBe(1)
    })

    it('keeps the rows each version changed, oldest first, until pruned', async () => {
      const store = await fresh()
      await store.insertModelChanges({ version: 1, baseItems: 3, rows: new Uint32Array([0, 2]) })
      await store.insertModelChanges({ version: 2, baseItems: 3, rows: new Uint32Array([1, 3, 70000]) })
      const changes = await store.modelChanges(0)
      expect(changes.map((c) => [c.version, c.baseItems, Array.from(c.rows)])).toEqual([
        [1, 3, [0, 2]],
        [2, 3, [1, 3, 70000]],
      ])
      expect((await store.modelChanges(1)).map((c) => c.version)).toEqual([2])
      expect(await store.pruneModelChanges(1)).toBe(1)
      expect((await store.modelChanges(0)).map((c) => c.version)).toEqual([2])
    })

    it('keeps the optimizer moments per tensor and slot, replacing them all on save', async () => {
      const store = await fresh()
      expect((await store.loadOptimizerState()).size).toBe(0)
      await store.saveOptimizerState(
        new Map([
          ['item_embedding', { m: new Float32Array([1, 2]), v: new Float32Array([3, 4]) }],
          ['item_bias', { m: new Float32Array([0.5]) }],
        ]),
      )
      await store.saveOptimizerState(
        new Map([['item_bias', { m: new Float32Array([0.25]), v: new Float32Array([2]) }]]),
      )
      const state = await store.loadOptimizerState()
      expect([...state.keys()]).toEqual(['item_bias'])
      expect(Array.from(state.get('item_bias')?.m ?? [])).toEqual([0.25])
      expect(Array.from(state.get('item_bias')?.v ?? [])).toEqual([2])
    })
  })

  describe(`${name} store: rounds`, () => {
    it('has exactly one open round, which closes once, with its DP parameters for the accountant', async () => {
      const store = await fresh()
      expect(await store.openRound()).toEqual(openRound0)
      await store.setDeadline(0, '2026-03-01T00:20:00.000Z')
      expect((await store.openRound()).deadline).toBe('2026-03-01T00:20:00.000Z')
      const dp = { noiseMultiplier: 1.1, sampleRate: 0.01, clipNorm: 1 }
      await store.closeRound(0, { ...closing, dp })
      await expect(store.closeRound(0, closing)).rejects.toThrow(StoreCorruptError)
      await expect(store.openRound()).rejects.toThrow('expected one open round, found 0')
      await store.insertRound({ ...openRound0, round: 1, modelVersion: 1, openedAt: closing.closedAt })
      await store.closeRound(1, { ...closing, closedAt: '2026-03-01T00:09:00.000Z', participants: 3 })
      expect(await store.privacyRounds()).toEqual([
        { round: 0, participants: 2, dp },
        { round: 1, participants: 3, dp: null },
      ])
      expect(await store.history(10)).toMatchObject([
        { round: 0, closedBy: 'quorum', samples: 6, clientNormMean: 0.75, clipped: 0 },
        { round: 1, participants: 3 },
      ])
      expect((await store.history(1)).map((r) => r.round)).toEqual([1])
    })

    it('resets the open round: its updates go, their keys stay as discarded, the reset is counted', async () => {
      const store = await fresh()
      await store.insertUpdate(update('k1', 'c1', 0.5))
      await store.insertUpdate(update('k2', 'c2', 2))
      expect(await store.roundNorms(0)).toEqual({ mean: 1.25, max: 2, clipped: 1 })
      expect(await store.roundTally(0)).toEqual({ participants: 2, samples: 6 })
      expect(await store.lockOpenRound(0, 'share')).toEqual(openRound0)
      const at = '2026-03-01T00:03:00.000Z'
      expect(await store.resetRound(0, { at, deadline: '2026-03-01T00:13:00.000Z' })).toBe(2)
      expect(await store.findUpdate('k1')).toBeUndefined()
      expect(await store.findDiscarded('k2')).toEqual({ clientHash: 'c2', round: 0 })
      expect(await store.findDiscarded('k3')).toBeUndefined()
      expect(await store.hasClientSubmitted(0, 'c1')).toBe(false)
      expect(await store.openRound()).toMatchObject({ openedAt: at, resets: 1, discarded: 2 })
      expect(await store.roundNorms(0)).toEqual({ mean: 0, max: 0, clipped: 0 })
      expect(await store.roundTally(0)).toEqual({ participants: 0, samples: 0 })
      await store.closeRound(0, closing)
      expect(await store.transaction((tx) => tx.lockOpenRound(0, 'update'))).toBeUndefined()
      await expect(store.resetRound(0, { at, deadline: at })).rejects.toThrow('round 0 is not open')
    })
  })

  describe(`${name} store: updates`, () => {
    it('finds an accepted update by key and by client, and forgets a deleted one', async () => {
      const store = await fresh()
      const accepted = update('k1', 'c1', 1.5)
      await store.insertUpdate(accepted)
      const found = await store.findUpdate('k1')
      expect(found).toEqual({ ...accepted, payload: expect.any(Uint8Array) })
      expect(Array.from(found?.payload ?? [])).toEqual([1, 2, 3])
      expect(await store.hasClientSubmitted(0, 'c1')).toBe(true)
      expect(await store.hasClientSubmitted(0, 'c2')).toBe(false)
      await expect(store.insertUpdate(update('k2', 'c1', 0.5))).rejects.toThrow()
      await store.deleteUpdate('k1')
      expect(await store.findUpdate('k1')).toBeUndefined()
    })

    it('streams a round’s payloads in acceptance order, then drops them and keeps the acks', async () => {
      const store = await fresh()
      // More than one fetch's worth, with keys whose sort order is not their acceptance order.
      const keys = Array.from({ length: 40 }, (_, i) => `key-${(i * 7) % 40}`)
      for (const [i, key] of keys.entries()) await store.insertUpdate(update(key, `c${i}`, 0.5, [i, 255 - i]))
      expect(await payloads(store, 0)).toEqual(keys.map((_, i) => [i, 255 - i]))
      // Stopping early leaves the store usable.
      for await (const first of store.roundPayloads(0)) {
        expect(Array.from(first)).toEqual([0, 255])
        break
      }
      await store.dropPayloads(0)
      expect(await payloads(store, 0)).toEqual([])
      expect(await store.findUpdate('key-7')).toMatchObject({ payload: null, ack: '{"accepted":"key-7"}' })
    })

    it('prunes the acks and discarded keys of rounds closed before a time, and says how many went', async () => {
      const store = await fresh()
      await store.insertUpdate(update('k1', 'c1', 0.5))
      await store.resetRound(0, { at: AT, deadline: closing.closedAt })
      await store.insertUpdate(update('k2', 'c1', 0.5))
      await store.insertUpdate(update('k3', 'c2', 0.5))
      expect(await store.pruneUpdates('2026-03-02T00:00:00.000Z')).toBe(0)
      await store.closeRound(0, closing)
      expect(await store.pruneUpdates(closing.closedAt)).toBe(0)
      expect(await store.pruneUpdates('2026-03-01T00:05:00.001Z')).toBe(3)
      expect(await store.findUpdate('k2')).toBeUndefined()
      expect(await store.findDiscarded('k1')).toBeUndefined()
    })
  })

  describe(`${name} store: transactions`, () => {
    it('commits the writes of every group together', async () => {
      const store = await fresh()
      const result = await store.transaction(async (tx) => {
        await tx.insertUpdate(update('k1', 'c1', 0.5))
        await tx.closeRound(0, closing)
        await tx.insertRound({ ...openRound0, round: 1, modelVersion: 1 })
        return tx.openRound()
      })
      expect(result.round).toBe(1)
      expect((await store.openRound()).round).toBe(1)
      expect(await store.findUpdate('k1')).toMatchObject({ round: 0 })
    })

    it('rolls back every group’s writes when fn rejects, and rejects with the same error', async () => {
      const store = await fresh()
      const failure = new Error('the close failed')
      await expect(
        store.transaction(async (tx) => {
          await tx.setDeadline(0, '2026-03-01T01:00:00.000Z')
          await tx.insertUpdate(update('k1', 'c1', 0.5))
          await tx.secAgg.insertCohort({
            cohort: 1,
            round: 0,
            sessionId: 's1',
            phase: 'advertise',
            phaseDeadline: AT,
            openedAt: AT,
            closedAt: null,
            abortReason: null,
            survivors: null,
          })
          throw failure
        }),
      ).rejects.toBe(failure)
      expect((await store.openRound()).deadline).toBe(openRound0.deadline)
      expect(await store.findUpdate('k1')).toBeUndefined()
      expect(await store.secAgg.latestCohort()).toBeUndefined()
    })
  })

  describeTableContract(name, fresh)
  describeFeatureContract(name, fresh)
}
