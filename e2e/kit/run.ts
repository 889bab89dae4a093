// Runs the rounds of a QA scenario and records them in the JSON summary `npm run qa` collects.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestInfo } from '@playwright/test'
import { rankHeldOut } from './evaluate.ts'
import type { QaAggregator } from './qa-aggregator.ts'
import type { Shopper, SyncOutcome } from './shopper.ts'

/** One shopper's part in one round. */
export interface ShopperRound {
  name: string
  backend: string | null
  uploaded: boolean
  round: number | null
  samples: number
  loss: number | null
  ms: number | null
  bytesUp: number
  bytesDown: number
  /** `[code] message` when the sync failed. */
  error?: string
  /** Rank of the held-out item after this round's sync (0 best), when the profile has one. */
  heldOutRank?: number
}

/** One federated round as the JSON summary reports it. */
export interface RoundRecord {
  /** The aggregator round the shoppers trained for. */
  round: number
  /** The model version they trained on. */
  modelVersion: number
  /** The version published when the round closed (null if it did not close during the run). */
  publishedVersion: number | null
  /** Updates the aggregator accepted in this round. */
  participants: number | null
  closedBy: 'quorum' | 'deadline' | null
  /** Mean HR@10 / NDCG@10 of the held-out items (1 vs 99 negatives) after this round's syncs. */
  hr10: number | null
  ndcg10: number | null
  /** Shoppers with a held-out item ranked. */
  evaluated: number
  bytesUp: number
  bytesDown: number
  syncMsMean: number | null
  syncMsMax: number | null
  /** From the first sync starting to the round closing. */
  wallMs: number
  shoppers: ShopperRound[]
}

/** The JSON summary of one scenario run. */
export interface RunSummary {
  scenario: string
  startedAt: string
  finishedAt: string | null
  shoppers: number
  /** Backend each shopper trained on last. */
  backends: Record<string, string>
  rounds: RoundRecord[]
  /** Scenario-specific measurements (e.g. retry gaps, the rejection a straggler got). */
  measured: Record<string, unknown>
  aggregator: { modelVersion: number; rejections: Record<string, number> } | null
}

export interface RoundOptions {
  /** Item ids to rank held-out items among (the aggregator's catalogue). */
  itemIds: readonly string[]
  /** Wait for the round to close (default true). */
  waitForClose?: boolean
  seed?: number
}

/**
 * One round: every shopper syncs at once, the round closes (quorum or deadline), each held-out item is
 * ranked. Failures are recorded, not thrown: a scenario asserts what it expects.
 * @example const record = await runRound(agg, shoppers, { itemIds }); expect(record.participants).toBe(6)
 */
export async function runRound(
  agg: QaAggregator,
  shoppers: readonly Shopper[],
  options: RoundOptions,
): Promise<RoundRecord> {
  const started = Date.now()
  const outcomes = await Promise.all(shoppers.map((s) => s.trySync()))
  const trained = outcomes.flatMap((o) => (o.ok && o.report.uploaded ? [o.report] : []))
  const first = trained[0] ?? outcomes.flatMap((o) => (o.ok ? [o.report] : []))[0]
  const round = first?.round ?? (await agg.status()).round
  const modelVersion = first?.modelVersion ?? (await agg.status()).modelVersion
  let summary = null
  if (options.waitForClose ?? true) {
    const status = await agg.waitForModelVersion(modelVersion + 1).catch((err: unknown) => {
      // Say which shoppers did not contribute: the usual reason a round does not close on quorum.
      const failed = outcomes.flatMap((o, i) => (o.ok ? [] : [`${shoppers[i]!.name}: ${JSON.stringify(o)}`]))
      const why = failed.length ? `; failed syncs: ${failed.join('; ')}` : '; every sync succeeded'
      throw new Error(`round ${round} did not close: ${(err as Error).message}${why}`, { cause: err })
    })
    summary = status.history.find((h) => h.round === round) ?? null
  }
  const wallMs = Date.now() - started
  const ranks = await Promise.all(
    shoppers.map((s) =>
      s.page.isClosed() ? null : rankHeldOut(s, options.itemIds, { seed: options.seed ?? round }),
    ),
  )
  const rows = shoppers.map((s, i) => shopperRound(s, outcomes[i]!, ranks[i]?.rank))
  const evaluated = ranks.filter((r) => r !== null)
  const ms = rows.flatMap((r) => (r.ms === null ? [] : [r.ms]))
  return {
    round,
    modelVersion,
    publishedVersion: summary ? summary.modelVersion + 1 : null,
    participants: summary?.participants ?? null,
    closedBy: summary?.closedBy ?? null,
    hr10: evaluated.length ? mean(evaluated.map((r) => (r.hit10 ? 1 : 0))) : null,
    ndcg10: evaluated.length ? mean(evaluated.map((r) => r.ndcg10)) : null,
    evaluated: evaluated.length,
    bytesUp: sum(rows.map((r) => r.bytesUp)),
    bytesDown: sum(rows.map((r) => r.bytesDown)),
    syncMsMean: ms.length ? Math.round(mean(ms)) : null,
    syncMsMax: ms.length ? Math.round(Math.max(...ms)) : null,
    wallMs,
    shoppers: rows,
  }
}

function shopperRound(s: Shopper, outcome: SyncOutcome, heldOutRank: number | undefined): ShopperRound {
  const rank = heldOutRank === undefined ? {} : { heldOutRank }
  if (!outcome.ok) {
    return {
      name: s.name,
      backend: null,
      uploaded: false,
      round: null,
      samples: 0,
      loss: null,
      ms: null,
      bytesUp: 0,
      bytesDown: 0,
      error: `[${outcome.error.code}] ${outcome.error.message}`,
      ...rank,
    }
  }
  const r = outcome.report
  return {
    name: s.name,
    backend: r.backend,
    uploaded: r.uploaded,
    round: r.round,
    samples: r.samples,
    loss: Number.isFinite(r.loss) ? r.loss : null,
    ms: Math.round(r.ms),
    bytesUp: r.bytesUp,
    bytesDown: r.bytesDown,
    ...rank,
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const mean = (xs: number[]): number => sum(xs) / xs.length

/** Collects a scenario's summary and writes it where `npm run qa` picks it up. */
export interface RunRecorder {
  readonly summary: RunSummary
  round(record: RoundRecord): void
  measure(key: string, value: unknown): void
  /** Attaches the summary to the test (HTML report) and writes it to FEDREC_QA_SUMMARY_DIR if set. */
  finish(
    agg: QaAggregator | null,
    shoppers: readonly Shopper[],
    testInfo: TestInfo,
    dir?: string,
  ): Promise<void>
}

export function createRunRecorder(scenario: string): RunRecorder {
  const summary: RunSummary = {
    scenario,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    shoppers: 0,
    backends: {},
    rounds: [],
    measured: {},
    aggregator: null,
  }
  return {
    summary,
    round: (record) => summary.rounds.push(record),
    measure: (key, value) => {
      summary.measured[key] = value
    },
    async finish(agg, shoppers, testInfo, dir) {
      summary.finishedAt = new Date().toISOString()
      summary.shoppers = Math.max(summary.shoppers, shoppers.length)
      for (const s of shoppers) {
        const last = s.reports.at(-1)
        if (last) summary.backends[s.name] = last.backend
      }
      if (agg) {
        const status = await agg.status().catch(() => null)
        if (status) summary.aggregator = { modelVersion: status.modelVersion, rejections: status.rejections }
      }
      const json = JSON.stringify(summary, null, 2)
      await testInfo.attach('qa-summary.json', { body: json, contentType: 'application/json' })
      if (dir) {
        mkdirSync(dir, { recursive: true })
        const file = `${scenario}${testInfo.repeatEachIndex ? `-${testInfo.repeatEachIndex}` : ''}.json`
        writeFileSync(join(dir, file), json)
      }
    },
  }
}
