// The cold-start table as the CLI prints it: Markdown, so the docs quote it as printed.
import type { Interval } from './bootstrap.ts'
import type { ColdMetrics, ColdStartResults } from './cold-eval.ts'

const LABELS: Record<string, string> = {
  random: 'random',
  popularity: 'popularity (bestsellers)',
  'id-only': 'federated, id-only',
  features: '**federated, item features**',
}

const COLUMNS: [keyof ColdMetrics, string][] = [
  ['hr10', 'HR@10'],
  ['recall20', 'Recall@20'],
  ['hr10AmongNew', 'HR@10 among new'],
  ['recall20AmongNew', 'Recall@20 among new'],
]

/**
 * The new products' table (each recommender on the held-out items that are new), the feature model's paired
 * gains with their 95 % intervals ("within noise" when one covers 0), the other items' HR@10 with and without
 * features, and the targets.
 * @example print(formatColdStart(results.coldStart).join('\n'))
 */
export function formatColdStart(c: ColdStartResults): string[] {
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met')
  const f = c.onNew.features!
  return [
    `new products (cold start): the latest-introduced ${(100 * c.fraction).toFixed(0)} % of the items (${c.newItems} of ${c.items}, first touched at or after ${c.cutTime}) ${c.listed ? 'listed during training (drawn as negatives)' : 'added after training'}; ${c.droppedEvents} training events dropped; ${c.newShoppers} shoppers' held-out item is new, ${c.otherShoppers} others'`,
    `| model | ${COLUMNS.map(([, l]) => l).join(' | ')} |`,
    `| --- | ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...Object.entries(c.onNew).map(
      ([name, m]) => `| ${LABELS[name] ?? name} | ${COLUMNS.map(([k]) => m[k].toFixed(4)).join(' | ')} |`,
    ),
    ...Object.entries(c.gains).map(
      ([name, g]) =>
        `| Δ features − ${LABELS[name] ?? name} [95 % CI] | ${COLUMNS.map(([k]) => interval(g[k])).join(' | ')} |`,
    ),
    `other items (held-out item not new, ${c.otherShoppers} shoppers): HR@10 id-only ${c.others.idOnly.toFixed(4)}, with features ${c.others.features.toFixed(4)}, Δ ${interval(c.others.gain)}`,
    `targets on new items: features HR@10 ${f.hr10.toFixed(4)} ≥ 2 × random ${(2 * (c.onNew.random?.hr10 ?? 0)).toFixed(4)}: ${mark(c.targets.atLeastTwiceRandom)}; ≥ popularity ${(c.onNew.popularity?.hr10 ?? 0).toFixed(4)}: ${mark(c.targets.atLeastPopularity)}; no loss on the others: ${mark(c.targets.noLossOnOthers)}`,
  ]
}

function interval(g: Interval): string {
  return `${signed(g.mean)} [${signed(g.low)}, ${signed(g.high)}]${g.low <= 0 && g.high >= 0 ? ' within noise' : ''}`
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`
