// The re-ranking table as the CLI prints it: a Markdown table, so the docs quote it as printed.
import type { Interval } from './bootstrap.ts'
import type { RerankResults } from './rerank-eval.ts'

const LABELS: Record<string, string> = {
  random: 'shop order: random (shuffled)',
  popularity: 'shop order: popularity (bestsellers first)',
  'co-occurrence': 're-ranked: co-occurrence (central)',
  centralized: 're-ranked: centralized, same model',
  federated: 're-ranked: **federated**',
}

/**
 * The held-out item's NDCG@10, MRR and HR@10 in its category list per order, with each order's gain over
 * the popularity order (paired bootstrap 95 % interval over shoppers; "within noise" when it covers 0).
 * @example print(formatRerank(results.rerank).join('\n'))
 */
export function formatRerank(r: RerankResults): string[] {
  const gain = (g: Interval | undefined) =>
    g === undefined
      ? '—'
      : `${signed(g.mean)} [${signed(g.low)}, ${signed(g.high)}]${g.low <= 0 && g.high >= 0 ? ' within noise' : ''}`
  const rows = Object.entries(r.orders).map(([name, m]) => {
    const g = r.gainOverPopularity[name]
    return `| ${LABELS[name] ?? name} | ${m.ndcg10.toFixed(4)} | ${m.mrr.toFixed(4)} | ${m.hr10.toFixed(4)} | ${gain(g?.ndcg10)} | ${gain(g?.mrr)} |`
  })
  const { skipped } = r
  return [
    `re-ranking a category list (${r.listRule}; lists of ≥ ${r.minListSize} items; ${r.shoppers} shoppers; list size median ${r.listSize.median}, mean ${r.listSize.mean.toFixed(1)}; skipped: ${skipped.noMetadata} no metadata, ${skipped.noCategory} no category, ${skipped.smallLists} lists too small)`,
    '| order | NDCG@10 | MRR | HR@10 | ΔNDCG@10 vs popularity [95 % CI] | ΔMRR vs popularity [95 % CI] |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ]
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`
