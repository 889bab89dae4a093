// The "Shops learning together" table as the CLI prints it: Markdown, so docs/simulator.md quotes it as printed.
import type { Interval } from './bootstrap.ts'
import { SHOP_MODELS, type ShopResult, type ShopsResults, type TransferGain } from './shops-run.ts'

/**
 * Per shop (large, then small): its size, every model's HR@10 / NDCG@10 / Recall@20 / MRR@20 on its own
 * shoppers and catalogue, and together minus alone (paired bootstrap 95 % interval over the shop's
 * shoppers; "within noise" when it covers 0) with features — the transfer gain — and id-only, the control.
 * @example print(formatShops(results).join('\n'))
 */
export function formatShops(r: ShopsResults): string[] {
  const { featureStrings: s } = r
  return [
    `shops learning together: ${r.featureRows} feature rows; feature strings: large shop ${s.large}, small shop ${s.small}, both ${s.shared}`,
    ...r.shops.flatMap(shopLines),
    `upload per participant, last round (bytes): ${Object.entries(r.bytesUp)
      .map(([name, b]) => `${name} ${Math.round(b)}`)
      .join('; ')}`,
  ]
}

function shopLines(shop: ShopResult): string[] {
  const c = shop.counts
  return [
    `${shop.name}: ${c.users} shoppers (${c.evalUsers} evaluated), ${c.items} items (${shop.featuredItems} with features), ${c.interactions} interactions`,
    '',
    '| model | HR@10 | NDCG@10 | Recall@20 | MRR@20 |',
    '| --- | --- | --- | --- | --- |',
    ...SHOP_MODELS.flatMap((name) => {
      const m = shop.models[name]
      return m
        ? [
            `| ${name.startsWith('together, f') ? `**${name}**` : name} | ${[m.hr10, m.ndcg10, m.recall20, m.mrr20].map((x) => x.toFixed(4)).join(' | ')} |`,
          ]
        : []
    }),
    '',
    `together − alone, with features (transfer): ${gainText(shop.gain.features)}`,
    `together − alone, id only (control): ${gainText(shop.gain.idOnly)}`,
    '',
  ]
}

function gainText(g: TransferGain | undefined): string {
  if (!g) return 'not run'
  const { better, worse } = g.hr10Changed
  return `HR@10 ${interval(g.hr10)} (${better} shoppers better, ${worse} worse); Recall@20 ${interval(g.recall20)}`
}

function interval(i: Interval): string {
  const within = i.low <= 0 && i.high >= 0 ? ' within noise' : ''
  return `${signed(i.mean)} [${signed(i.low)}, ${signed(i.high)}]${within}`
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`
