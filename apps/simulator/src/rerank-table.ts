// The re-ranking table as the CLI prints it: a Markdown table, so the docs quote it as printed.
import type { Interval } from './bootstrap.ts'
import type { RerankResults, RerankTable } from './rerank-eval.ts'

const LABELS: Record<string, string> = {
  random: 'shop order: random (shuffled)',
  popularity: 'shop order: popularity (bestsellers first)',
  'co-occurrence': 're-ranked: co-occurrence (central)',
  centralized: 're-ranked: centralized, same model',
  federated: 're-ranked: **federated**',
}

/**
 * The held-out item's NDCG@10, MRR and HR@10 in its category list per order, with each order's gain over
 * the popularity order (paired bootstrap 95 % interval over shoppers; "within noise" when it covers 0):
 * over every shopper with a usable list, then over those whose held-out item someone else bought or viewed
 * in training.
 * @example print(formatRerank(results.rerank).join('\n'))
 */
export function formatRerank(r: RerankResults): string[] {
  const { skipped } = r
  return [
    `re-ranking a category list (${r.listRule}; lists of ≥ ${r.minListSize} items; list size median ${r.listSize.median}, mean ${r.listSize.mean.toFixed(1)}; skipped: ${skipped.noMetadata} no metadata, ${skipped.noCategory} no category, ${skipped.smallLists} lists too small)`,
    `all ${r.shoppers} shoppers:`,
    ...tableLines(r),
    `the ${r.warm.shoppers} shoppers whose held-out item someone else touched in training:`,
    ...tableLines(r.warm),
  ]
}

function tableLines(t: RerankTable): string[] {
  const gain = (g: Interval | undefined) =>
    g === undefined
      ? '—'
      : `${signed(g.mean)} [${signed(g.low)}, ${signed(g.high)}]${g.low <= 0 && g.high >= 0 ? ' within noise' : ''}`
  return [
    '| order | NDCG@10 | MRR | HR@10 | ΔNDCG@10 vs popularity [95 % CI] | ΔMRR vs popularity [95 % CI] |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(t.orders).map(([name, m]) => {
      const g = t.gainOverPopularity[name]
      return `| ${LABELS[name] ?? name} | ${m.ndcg10.toFixed(4)} | ${m.mrr.toFixed(4)} | ${m.hr10.toFixed(4)} | ${gain(g?.ndcg10)} | ${gain(g?.mrr)} |`
    }),
  ]
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`
