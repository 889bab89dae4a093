// What the simulator CLI prints: the per-round table and the closing summary.
import { formatColdStart } from './cold-table.ts'
import type { FullMetrics } from './evaluate.ts'
import { formatRerank } from './rerank-table.ts'
import type { RoundRecord } from './round-record.ts'
import type { SimulationResults } from './simulate.ts'

/** The per-round table's header, aligned with {@link formatRound}. */
export const TABLE_HEADER = 'round  clients  samples     loss   HR@10  NDCG@10  val HR@10  seconds'

/** The header, with the attack columns when the attack runs. */
export const tableHeader = (attack: boolean): string =>
  attack ? `${TABLE_HEADER}  bytes↑  client s  attack AUC  prec@|H|  best` : TABLE_HEADER

/** One table row. @example formatRound(record) // '    1      100    41236   0.6931  0.4083   0.2288     0.3955      9.1' */
export function formatRound(r: RoundRecord): string {
  return [
    String(r.round).padStart(5),
    String(r.participants).padStart(8),
    String(r.samples).padStart(8),
    r.loss.toFixed(4).padStart(8),
    r.hr10.toFixed(4).padStart(7),
    r.ndcg10.toFixed(4).padStart(8),
    r.validation.hr10.toFixed(4).padStart(10),
    r.seconds.toFixed(1).padStart(8),
    ...(r.attack
      ? [
          Math.round(r.bytesUp ?? 0)
            .toString()
            .padStart(7),
          (r.clientSeconds ?? 0).toFixed(3).padStart(9),
          r.attack.best.auc.toFixed(4).padStart(11),
          r.attack.best.precision.toFixed(4).padStart(9),
          ` ${r.attack.best.attack}`,
        ]
      : []),
    // DP runs: ε after the round, labelled in the cell so the header stays as it is.
    ...(r.epsilon === undefined ? [] : [` ε ${r.epsilon.toFixed(3)}`]),
  ].join(' ')
}

/** The closing summary: every model and baseline side by side, the targets, warnings, timing. */
export function formatSummary(res: SimulationResults): string {
  const row = (name: string, m: FullMetrics, note = '') =>
    `${name.padEnd(22)} ${[m.hr10, m.ndcg10, m.recall20, m.mrr20].map((x) => x.toFixed(4).padStart(8)).join(' ')}${note}`
  const { ratios, targets, timing, dataset: d } = res
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met')
  return [
    `${d.format}: ${d.interactions} interactions, ${d.users} shoppers (${d.evalUsers} evaluated), ${d.items} items${Object.keys(d.skipped).length ? `; skipped ${JSON.stringify(d.skipped)}` : ''}`,
    `${'model'.padEnd(22)}    HR@10  NDCG@10 Recall@20   MRR@20`,
    row('random', res.random),
    row('popularity', res.popularity),
    row('recent popularity', res.recentPopularity),
    row('co-occurrence', res.cooccurrence, `  (central, recency ${res.cooccurrence.recency})`),
    row('centralized', res.centralized, `  (same model, epoch ${res.centralized.bestEpoch} by validation)`),
    row(
      'federated',
      res.federated,
      `  (round ${res.federated.rounds.length}; best by validation: round ${res.federated.bestByValidation.round}, HR@10 ${res.federated.bestByValidation.hr10.toFixed(4)})`,
    ),
    `federated / centralized HR@10 = ${ratios.federatedOverCentralized.toFixed(3)} (≥ 0.97: ${mark(targets.federatedAtLeast097Centralized)}); / popularity = ${ratios.federatedOverPopularity.toFixed(3)} (≥ 1.25: ${mark(targets.federatedAtLeast125Popularity)})`,
    `federated Recall@20 / popularity = ${ratios.recallOverPopularity.toFixed(3)} (≥ 1.5: ${mark(targets.recallAtLeast15Popularity)}); / co-occurrence = ${ratios.recallOverCooccurrence.toFixed(3)} (≥ 0.9: ${mark(targets.recallAtLeast09Cooccurrence)})`,
    ...res.warnings.map((w) => `WARNING: ${w}`),
    ...attackLines(res),
    ...(res.rerank ? formatRerank(res.rerank) : []),
    ...(res.coldStart ? formatColdStart(res.coldStart) : []),
    `wall time ${timing.wallSeconds.toFixed(1)} s (federated ${timing.federatedSeconds.toFixed(1)} s, centralized ${timing.centralizedSeconds.toFixed(1)} s); ${timing.shopperUpdates} shopper updates, ${timing.shopperUpdatesPerSecond.toFixed(1)} shopper-updates/s`,
  ].join('\n')
}

/** The attack summary: each attack's AUC and precision@|H| in the last round. */
function attackLines(res: SimulationResults): string[] {
  const rounds = res.federated.rounds
  const last = rounds[rounds.length - 1]
  if (!last?.attack) return []
  const { best, clients, ...each } = last.attack
  const parts = Object.entries(each).map(
    ([name, m]) => `${name} ${m.auc.toFixed(4)} / ${m.precision.toFixed(4)}`,
  )
  return [
    `attack (last round, ${clients} uploads; AUC / precision@|H|): ${parts.join(', ')}; best ${best.attack}`,
    `bytes up per client ${Math.round(last.bytesUp ?? 0)}; client time ${(last.clientSeconds ?? 0).toFixed(3)} s`,
  ]
}
