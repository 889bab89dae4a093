// The benchmark page: the library through its public entry and nothing else on the page (no widget, no
// shop), so a sync is measured alone. Driven by e2e/bench/browser.ts through `window.bench`.
import {
  createRecommender,
  type Recommendation,
  type Recommender,
  type RecommenderOptions,
  type SyncReport,
  type TrackEvent,
} from '@fedrec/browser'
import { decodeModel, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import type { BenchApi, LongTasks, Measured, ProfileRequest, StartupTiming, TrainingProfile } from './api.ts'

// Long tasks (> 50 ms on this page's main thread), from the first tick: every call below counts those that
// overlap it.
const entries: PerformanceEntry[] = []
const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()))
observer.observe({ type: 'longtask', buffered: true })

function longTasksBetween(start: number, end: number): LongTasks {
  entries.push(...observer.takeRecords())
  const hits = entries.filter((e) => e.startTime < end && e.startTime + e.duration > start)
  return {
    count: hits.length,
    totalMs: hits.reduce((sum, e) => sum + e.duration, 0),
    maxMs: hits.reduce((max, e) => Math.max(max, e.duration), 0),
  }
}

/** Runs `work`, with its wall time and the long tasks that overlapped it. */
async function measured<T>(work: () => Promise<T>): Promise<Measured<T>> {
  const start = performance.now()
  const value = await work()
  const end = performance.now()
  // A long task is reported once it has ended; one more turn lets the last one land.
  await new Promise((r) => setTimeout(r, 20))
  return { value, ms: end - start, longTasks: longTasksBetween(start, end) }
}

let rec: Recommender | null = null
const current = (): Recommender => {
  if (!rec) throw new Error('bench: call startup() first')
  return rec
}

/** Plain-JS scoring on the main thread, the baseline of `recommend()`: the decoded model and a unit vector. */
let plain: { embedding: Float32Array; bias: Float32Array; dim: number; rows: number } | null = null

function plainTopK(user: Float32Array, k: number): number[] {
  const { embedding, bias, dim, rows } = plain!
  const best: { row: number; score: number }[] = []
  for (let r = 0; r < rows; r++) {
    let s = bias[r]!
    const o = r * dim
    for (let j = 0; j < dim; j++) s += user[j]! * embedding[o + j]!
    if (best.length < k || s > best[best.length - 1]!.score) {
      let i = best.length < k ? best.length : k - 1
      best[i] = { row: r, score: s }
      while (i > 0 && best[i - 1]!.score < s) {
        ;[best[i - 1], best[i]] = [best[i]!, best[i - 1]!]
        i--
      }
    }
  }
  return best.map((b) => b.row)
}

const api: BenchApi = {
  async create(options: RecommenderOptions): Promise<number> {
    rec?.close()
    const start = performance.now()
    rec = await createRecommender(options)
    return performance.now() - start
  },
  async startup(options: RecommenderOptions): Promise<StartupTiming> {
    rec?.close()
    const start = performance.now()
    rec = await createRecommender(options)
    const created = performance.now()
    const first = await rec.recommend({ k: 10 })
    const end = performance.now()
    await new Promise((r) => setTimeout(r, 20))
    return {
      createMs: created - start,
      firstRecommendationMs: end - start,
      items: first.length,
      backend: await rec.backend(),
      longTasks: longTasksBetween(start, end),
    }
  },
  track: (events: TrackEvent[]) =>
    measured(async () => {
      for (const e of events) await current().track(e)
    }),
  sync: (): Promise<Measured<SyncReport>> => measured(() => current().sync()),
  recommend: (k: number): Promise<Measured<Recommendation[]>> => measured(() => current().recommend({ k })),
  async plainScoring(endpoint: string, k: number, repeats: number): Promise<number[]> {
    const res = await fetch(new URL('v1/model', endpoint), { cache: 'no-store' })
    const model = decodeModel(new Uint8Array(await res.arrayBuffer()))
    const tensor = (name: string) => {
      const t = model.tensors.find((x) => x.name === name)
      if (!t) throw new Error(`bench: the model has no ${name}`)
      return t
    }
    const e = tensor(ITEM_EMBEDDING)
    plain = { embedding: e.values, bias: tensor(ITEM_BIAS).values, dim: e.cols, rows: e.rows }
    const user = new Float32Array(e.cols).fill(1 / Math.sqrt(e.cols))
    const times: number[] = []
    for (let i = 0; i < repeats; i++) {
      const start = performance.now()
      plainTopK(user, k)
      times.push(performance.now() - start)
    }
    return times
  },
  profileTraining(request: ProfileRequest): Promise<TrainingProfile> {
    const worker = new Worker(new URL('./profile-worker.ts', import.meta.url), { type: 'module' })
    return new Promise<TrainingProfile>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<{ ok: boolean; profile?: TrainingProfile; error?: string }>) =>
        event.data.ok && event.data.profile
          ? resolve(event.data.profile)
          : reject(new Error(event.data.error))
      worker.onerror = (event) => reject(new Error(`profile worker: ${event.message}`))
      worker.postMessage(request)
    }).finally(() => worker.terminate())
  },
  close() {
    rec?.close()
    rec = null
  },
}

window.bench = api
