// The tables `npm run bench` prints, one per figure, each with its baseline ratio and its target.

import type { SyncPhases } from '@fedrec/browser'
import type {
  BandwidthResult,
  BrowserBenchResults,
  RecommendResult,
  StartupResult,
  TrainingResult,
} from './browser.ts'
import type { LongTasks, TrainingProfile } from './page/api.ts'
import type { RepeatVisitResult } from './repeat-visit.ts'

type Cell = string | number

/** A plain-text table: numbers right-aligned, a title above and notes below. */
export function table(title: string, headers: string[], rows: Cell[][], notes: string[] = []): string {
  const text = rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]?.length ?? 0)))
  const right = headers.map((_, i) =>
    rows.every((r) => typeof r[i] === 'number' || /^[\d.,:×÷ —-]*$/.test(String(r[i]))),
  )
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [
    '',
    title,
    line(headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...text.map(line),
    ...notes.map((n) => `  ${n}`),
  ].join('\n')
}

/** Milliseconds and other measures: no decimals for counts and from 100 up, one below. */
export const num = (n: number): string =>
  Number.isNaN(n)
    ? '—'
    : Math.abs(n) >= 100 || Number.isInteger(n)
      ? Math.round(n).toLocaleString('en')
      : n.toFixed(1)
const bytes = (n: number): string => Math.round(n).toLocaleString('en')
const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—')
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met')

const PHASES: (keyof SyncPhases)[] = [
  'roundInfo',
  'model',
  'backend',
  'history',
  'train',
  'encode',
  'upload',
  'store',
]

/** Figure 1. */
export function trainingTable(rows: readonly TrainingResult[]): string {
  if (rows.length === 0) return ''
  const cpu = (events: number) => rows.find((r) => r.backend === 'cpu' && r.events === events)
  const body = rows.map((r) => [
    r.backend,
    r.events,
    r.samples,
    r.first.ms,
    r.medianMs,
    ...PHASES.map((p) => r.medianPhases?.[p] ?? Number.NaN),
    Math.round(r.samplesPerSecond),
    ratio(r.medianMs / (cpu(r.events)?.medianMs ?? Number.NaN)),
  ])
  const notes: string[] = []
  const webgl200 = rows.find((r) => r.backend === 'webgl' && r.events === 200)
  if (webgl200)
    notes.push(
      `target: a 200-event round under 1 s on WebGL: ${num(webgl200.medianMs)} ms — ${met(webgl200.medianMs < 1000)}`,
    )
  for (const r of rows.filter((r) => r.events === 200 || rows.every((x) => x.events !== 200))) {
    if (!r.medianPhases) continue
    const [top, second] = PHASES.map((p) => [p, r.medianPhases![p]] as const).sort((a, b) => b[1] - a[1])
    notes.push(
      `${r.backend}, ${r.events} events: ${top![0]} ${pct(top![1], r.medianMs)} of the round, then ${second![0]} ${pct(second![1], r.medianMs)}`,
    )
  }
  const items = rows[0]!.catalogue.toLocaleString('en')
  return table(
    `1. On-device training: sync() alone, ${items} items; median of the rounds after the first, ms (phases: median each)`,
    ['backend', 'events', 'n_k', 'first', 'sync', ...PHASES, 'n_k/s', 'vs cpu'],
    body,
    notes,
  )
}

/** Figure 1, the training phase broken down (bench-only profile worker). */
export function profileTable(rows: readonly TrainingProfile[]): string {
  if (rows.length === 0) return ''
  return table(
    '1b. Training phase of a 200-event round: kernel launches against the cost of one bare launch',
    [
      'backend',
      'n_k',
      'steps',
      'train ms',
      'kernels',
      'kernels/step',
      'ms/launch',
      'launches × ms',
      'ms/upload',
      'most launched',
    ],
    rows.map((r) => [
      r.backend,
      r.samples,
      r.steps,
      r.wallMs,
      r.kernels,
      Math.round(r.kernels / r.steps),
      r.launchMs.toFixed(3),
      `${num(r.kernels * r.launchMs)} (${pct(r.kernels * r.launchMs, r.wallMs)})`,
      r.uploadMs.toFixed(3),
      r.topKernels
        .slice(0, 4)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
    ]),
    ['launches × ms: what the round would cost if every kernel cost as much as a bare [256, 1] add'],
  )
}

const pct = (part: number, whole: number): string => `${Math.round((100 * part) / whole)} %`

/** Figure 2. */
export function responsivenessTable(results: BrowserBenchResults): string {
  const rows: Cell[][] = []
  const add = (call: string, backend: string, calls: number, lt: LongTasks) =>
    rows.push([call, backend, calls, lt.count, lt.totalMs, lt.maxMs])
  const byBackend = <T extends { backend: string }>(xs: readonly T[]) =>
    [...new Set(xs.map((x) => x.backend))].map((b) => [b, xs.filter((x) => x.backend === b)] as const)
  for (const [backend, xs] of byBackend(results.training)) {
    add('track()', backend, xs.length, sum(xs.map((x) => x.track.longTasks)))
    add(
      'sync()',
      backend,
      xs.length * (1 + (xs[0]?.rounds.length ?? 0)),
      sum(xs.flatMap((x) => [x.first, ...x.rounds].map((s) => s.longTasks))),
    )
  }
  for (const [backend, xs] of byBackend(results.recommend))
    add(
      'recommend()',
      backend,
      xs.reduce((n, x) => n + x.latenciesMs.length, 0),
      sum(xs.map((x) => x.longTasks)),
    )
  for (const [backend, xs] of byBackend(results.startup))
    add(
      'createRecommender() → recommend()',
      backend,
      2 * xs.length,
      sum(xs.flatMap((x) => [x.cold.longTasks, x.warm.longTasks])),
    )
  if (rows.length === 0) return ''
  const total = rows.reduce((n, r) => n + Number(r[3]), 0)
  return table(
    '2. Page responsiveness: long tasks (> 50 ms) on the main thread during each call (PerformanceObserver)',
    ['call', 'backend', 'calls', 'long tasks', 'total ms', 'longest ms'],
    rows,
    [`target: none — ${total} long tasks: ${met(total === 0)}`],
  )
}

function sum(xs: readonly LongTasks[]): LongTasks {
  return xs.reduce(
    (a, b) => ({
      count: a.count + b.count,
      totalMs: a.totalMs + b.totalMs,
      maxMs: Math.max(a.maxMs, b.maxMs),
    }),
    { count: 0, totalMs: 0, maxMs: 0 },
  )
}

/** Figure 3. */
export function recommendTable(rows: readonly RecommendResult[]): string {
  if (rows.length === 0) return ''
  const smallest = Math.min(...rows.map((r) => r.catalogue))
  const base = (backend: string) => rows.find((r) => r.backend === backend && r.catalogue === smallest)
  const body = rows.map((r) => [
    r.backend,
    r.catalogue.toLocaleString('en'),
    r.medianMs,
    r.p90Ms,
    r.plainJsMedianMs,
    ratio(r.medianMs / r.plainJsMedianMs),
    ratio(r.medianMs / (base(r.backend)?.medianMs ?? Number.NaN)),
  ])
  const notes: string[] = []
  const largest = Math.max(...rows.map((r) => r.catalogue))
  const webgl = rows.find((r) => r.backend === 'webgl' && r.catalogue === largest)
  if (webgl && largest >= 50_000)
    notes.push(
      `target: under 50 ms at ${largest.toLocaleString('en')} items on WebGL: ${num(webgl.medianMs)} ms — ${met(webgl.medianMs < 50)}`,
    )
  notes.push('plain JS: the same u·e_i + b_i and top 10 in a loop on the page main thread (the baseline)')
  return table(
    '3. Recommending: recommend({ k: 10 }) as the page sees it, ms',
    [
      'backend',
      'items',
      'median',
      'p90',
      'plain JS',
      '÷ plain JS',
      `÷ ${smallest.toLocaleString('en')} items`,
    ],
    body,
    notes,
  )
}

/** Figure 4. */
export function bandwidthTable(rows: readonly BandwidthResult[]): string {
  if (rows.length === 0) return ''
  const body = rows.map((r) => [
    r.catalogue.toLocaleString('en'),
    r.events,
    bytes(r.denseModelBytes),
    bytes(r.changed.bytesUp),
    `1/${Math.round(r.denseModelBytes / r.changed.bytesUp)}`,
    bytes(r.first.bytesDown),
    bytes(r.changed.bytesDown),
    ratio(r.changed.modelBytes / r.denseModelBytes),
    bytes(r.unchanged.bytesDown),
    bytes(r.unchanged.modelBytes),
  ])
  const notes: string[] = []
  const target = rows.find((r) => r.events === 200 && r.catalogue === 50_000)
  if (target)
    notes.push(
      `target: upload ≤ 1/50 of the dense model (200 events, 50,000 items): 1/${Math.round(target.denseModelBytes / target.changed.bytesUp)} — ${met(target.changed.bytesUp * 50 <= target.denseModelBytes)}`,
    )
  const unchangedZero = rows.every((r) => r.unchanged.modelBytes === 0)
  const changedSmaller = rows.every((r) => r.changed.modelBytes < r.denseModelBytes)
  notes.push(`target: no model bytes on an unchanged model — ${met(unchangedZero)}`)
  notes.push(`target: less than the dense model on a changed one — ${met(changedSmaller)}`)
  notes.push('down: round info + model (or patch) + ack bodies; model: GET /v1/model bodies alone')
  return table(
    '4. Bandwidth per round, bytes (up: the update; down: what the sync received)',
    [
      'items',
      'events',
      'dense model',
      'up',
      'up ÷ dense',
      'down, first',
      'down, changed',
      'model ÷ dense',
      'down, unchanged',
      'model, unchanged',
    ],
    body,
    notes,
  )
}

/** Figure 5, from apps/aggregator/bench/load.ts --json. */
export function aggregatorTable(json: unknown): string {
  const r = json as {
    updateBytes: number
    items: number
    oneCore: boolean
    healthzPerSecond: number
    updatesPerSecond: number
    updatesOverHealthz: number
    idleRssMiB: number
    failures: number
    checkpoints: {
      clients: number
      updatesPerSecond: number
      p50Ms: number
      p99Ms: number
      rssMiB: number
      peakRssMiB: number
    }[]
  }
  return table(
    `5. Aggregator: ${bytes(r.updateBytes)}-byte updates into a ${r.items.toLocaleString('en')}-item model, server ${r.oneCore ? 'on one core' : 'on every core'}`,
    ['clients in the round', 'updates/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'peak RSS MiB'],
    r.checkpoints.map((c) => [
      c.clients.toLocaleString('en'),
      c.updatesPerSecond,
      c.p50Ms,
      c.p99Ms,
      c.rssMiB,
      c.peakRssMiB,
    ]),
    [
      `baseline: GET /healthz with the same client loop: ${num(r.healthzPerSecond)} req/s; updates/s ÷ healthz req/s = ${r.updatesOverHealthz.toFixed(3)}`,
      `idle RSS ${num(r.idleRssMiB)} MiB; non-200 answers: ${r.failures}`,
    ],
  )
}

/** Figure 6, from the simulator's --out JSON: every model and baseline on one data set. */
export function simulatorTable(json: unknown, rounds: number, name: string): string {
  interface Row {
    hr10: number
    ndcg10: number
    recall20: number
    mrr20: number
  }
  const r = json as Record<
    'federated' | 'centralized' | 'random' | 'popularity' | 'recentPopularity' | 'cooccurrence',
    Row
  > & {
    ratios: Record<string, number>
    warnings: string[]
    timing: { shopperUpdatesPerSecond: number; shopperUpdates: number; wallSeconds: number }
  }
  const f = (x: number) => x.toFixed(3)
  const row = (label: string, m: Row) => [label, f(m.hr10), f(m.ndcg10), f(m.recall20), f(m.mrr20)]
  return table(
    `6. Simulator: ${name}, ${rounds} federated rounds (leave-one-out; HR/NDCG against 99 sampled negatives, Recall/MRR over the whole catalogue)`,
    ['model', 'HR@10', 'NDCG@10', 'Recall@20', 'MRR@20'],
    [
      row('random', r.random),
      row('popularity', r.popularity),
      row('recent popularity', r.recentPopularity),
      row('co-occurrence (central)', r.cooccurrence),
      row('centralized (same model)', r.centralized),
      row(`federated, round ${rounds}`, r.federated),
    ],
    [
      `federated ÷ centralized HR@10 = ${f(r.ratios.federatedOverCentralized ?? 0)} (target ≥ 0.97); ÷ popularity = ${f(r.ratios.federatedOverPopularity ?? 0)} (≥ 1.25); Recall@20 ÷ popularity = ${f(r.ratios.recallOverPopularity ?? 0)} (≥ 1.5), ÷ co-occurrence = ${f(r.ratios.recallOverCooccurrence ?? 0)} (≥ 0.9)`,
      ...r.warnings.map((w) => `WARNING: ${w}`),
      `${num(r.timing.shopperUpdatesPerSecond)} shopper-rounds/s (${r.timing.shopperUpdates} updates; wall ${num(r.timing.wallSeconds)} s)`,
    ],
  )
}

/** Figure 7. */
export function startupTable(rows: readonly StartupResult[]): string {
  if (rows.length === 0) return ''
  return table(
    '7. Startup: createRecommender() to the first recommend() result, ms',
    ['backend', 'items', 'cold', 'warm', 'warm ÷ cold', 'create, cold', 'create, warm'],
    rows.map((r) => [
      r.backend,
      r.catalogue.toLocaleString('en'),
      r.cold.firstRecommendationMs,
      r.warm.firstRecommendationMs,
      ratio(r.warm.firstRecommendationMs / r.cold.firstRecommendationMs),
      r.cold.createMs,
      r.warm.createMs,
    ]),
    ['cold: a fresh profile, the model downloaded; warm: the page reloaded, the model read from IndexedDB'],
  )
}

export function repeatVisitTable(result: RepeatVisitResult): string {
  return table(
    '8. Repeat page view of the demo shop: the for-you widget, ms after DOMContentLoaded',
    ['visit', 'last list (IndexedDB)', 'fresh list (worker + tfjs)', 'fresh ÷ last', 'long tasks', 'longest'],
    [
      ...result.visits.map((v, i) => [
        String(i + 1),
        v.lastListMs,
        v.freshListMs,
        ratio(v.freshListMs / v.lastListMs),
        String(v.longTasks),
        v.longestTaskMs,
      ]),
      [
        'median',
        result.median.lastListMs,
        result.median.freshListMs,
        ratio(result.median.freshListMs / result.median.lastListMs),
        String(result.longTasks),
        '',
      ],
    ],
    [
      "last list: the shopper's previous personal list, shown before the worker and tfjs have started; fresh list: the recommender's own, which replaces it (the baseline: what a repeat view waited for before)",
    ],
  )
}
