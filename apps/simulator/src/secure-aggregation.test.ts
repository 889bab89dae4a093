import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPORTED_ATTACKS } from './attack-observer.ts'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { simulate } from './simulate.ts'
import { tasteGroupsFile } from './test-data.ts'

const { tf, backend } = await useNodeBackend()
const path = tasteGroupsFile({ users: 48, groups: 4, itemsPerGroup: 12, perUser: 8, seed: 3 })

// The same shoppers with item metadata beside them (as in simulate-items.test.ts), in a directory of their
// own so the other runs here stay id-only: category k(i mod 3), a brand per taste group.
const featuredPath = tasteGroupsFile({ users: 48, groups: 4, itemsPerGroup: 12, perUser: 8, seed: 3 })
const itemLines = Array.from({ length: 48 }, (_, n) => {
  const [g, i] = [Math.floor(n / 12), n % 12]
  return `g${g}-i${i},shop.k${i % 3},brand${g},${1 + n},`
})
writeFileSync(
  join(dirname(featuredPath), 'items.csv'),
  `item,category,brand,price,title\n${itemLines.join('\n')}\n`,
)

const options: SimulationOptions = {
  ...DEFAULTS,
  dataset: 'generic',
  path,
  rounds: 4,
  clientsPerRound: 'all',
  centralEpochs: 1,
  dim: 8,
  endpoint: undefined,
}

// A guard against a hang, not a speed target: ~100 s alone on a quiet 2-core machine, and it once hit a
// 180 s guard with other test files running beside it.
const HANG_GUARD_MS = 600_000

describe('simulate with --secure-aggregation', () => {
  it(
    'learns as well as plain aggregation (equal up to quantisation) and reports the protocol costs',
    async () => {
      const plain = await simulate(tf, backend, options)
      const secure = await simulate(tf, backend, { ...options, secureAggregation: true })
      for (const [i, r] of secure.federated.rounds.entries()) {
        const p = plain.federated.rounds[i]!
        expect(r.participants).toBe(p.participants)
        expect(r.samples).toBe(p.samples)
        expect(r.updateNorm).not.toBeNull()
        // Fixed point at 1/256 per client (stochastic rounding) moves the aggregate by far less than a round's own step.
        expect(Math.abs(r.updateNorm! - p.updateNorm!)).toBeLessThan(1e-3 * p.updateNorm!)
        expect(r.secureAggregation).toMatchObject({ cohorts: 1, aborted: 0, aggregated: 48, clipped: 0 })
        // The dense masked vector (4 bytes × (1 + 48·(2+8))) plus keys and 47 encrypted shares.
        expect(r.bytesUp).toBeGreaterThan(4 * (1 + 48 * 10))
      }
      expect(Math.abs(secure.federated.hr10 - plain.federated.hr10)).toBeLessThan(0.05)
    },
    HANG_GUARD_MS,
  )

  it(
    'with --item-features on: the masks carry the feature table, and the rounds equal the plain ones up to quantisation',
    async () => {
      const featured = {
        ...options,
        path: featuredPath,
        rounds: 2,
        itemFeatures: 'on' as const,
        featureRows: 64,
      }
      const plain = await simulate(tf, backend, featured)
      const secure = await simulate(tf, backend, { ...featured, secureAggregation: true })
      for (const [i, r] of secure.federated.rounds.entries()) {
        const p = plain.federated.rounds[i]!
        expect(r.participants).toBe(p.participants)
        // The norm of the applied update spans the feature table too: left out, it would not match.
        expect(Math.abs(r.updateNorm! - p.updateNorm!)).toBeLessThan(1e-3 * p.updateNorm!)
        expect(r.secureAggregation).toMatchObject({ aborted: 0, aggregated: 48, clipped: 0 })
      }
    },
    HANG_GUARD_MS,
  )

  it(
    'loses only the updates of shoppers who drop out before uploading',
    async () => {
      const secure = await simulate(tf, backend, {
        ...options,
        rounds: 2,
        secureAggregation: true,
        secaggDropout: 0.2,
      })
      for (const r of secure.federated.rounds) {
        const s = r.secureAggregation!
        expect(s.droppedBeforeUpload + s.droppedBeforeUnmask).toBeGreaterThan(0)
        expect(s.aggregated).toBe(48 - s.droppedBeforeUpload)
        expect(r.participants).toBe(s.aggregated)
      }
    },
    HANG_GUARD_MS,
  )

  it(
    'padding + secure aggregation: every attack on the uploads is at chance, while plain uploads leak',
    async () => {
      const plain = await simulate(tf, backend, { ...options, rounds: 3, attack: true })
      const plainBest = Math.max(...plain.federated.rounds.map((r) => r.attack!.best.auc))
      expect(plainBest).toBeGreaterThan(0.75)

      const defended = await simulate(tf, backend, {
        ...options,
        rounds: 3,
        attack: true,
        padRatio: 1,
        secureAggregation: true,
      })
      for (const attack of REPORTED_ATTACKS) {
        const aucs = defended.federated.rounds.map((r) => r.attack![attack].auc)
        const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length
        expect(Math.abs(mean - 0.5), `${attack}: mean AUC ${mean}`).toBeLessThan(0.05)
      }
    },
    HANG_GUARD_MS,
  )
})
