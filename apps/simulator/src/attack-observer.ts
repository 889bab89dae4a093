// Turns the attacks into the privacy figures the simulator reports each round, including one that links a
// client's rounds.
import { ABSENT, ATTACKS, type ObservedUpload, scoreFeatureRows, scoreUpload } from './attack.ts'
import { type AttackMetrics, attackMetrics } from './attack-metrics.ts'

/**
 * Every attack the simulator reports: the single-upload ones, and `linked` — the bias attack summed over
 * every upload of the same client so far (the aggregator sees a stable client id, so it can link rounds; a
 * pseudo-item drawn anew each round is then outvoted by the real items present every round).
 */
export const REPORTED_ATTACKS = [...ATTACKS, 'linked'] as const
export type ReportedAttack = (typeof REPORTED_ATTACKS)[number]

/**
 * The per-round means over the observed clients, per attack, and the attack with the highest mean AUC;
 * `features` (the feature-row attack) only when the uploads carried item-feature rows.
 */
export type AttackReport = Record<ReportedAttack, AttackMetrics> & {
  features?: AttackMetrics
  best: AttackMetrics & { attack: ReportedAttack | 'features' }
  clients: number
}

/**
 * The honest-but-curious aggregator of the benchmark: fed every client's upload (what the aggregator
 * receives) together with the history it came from (for scoring only), it runs every attack and averages
 * precision@|H| and AUC per round.
 * @example
 * const observer = createAttackObserver()
 * observer.observe(shopperIndex, { numItems, tensors: result.deltas }, user.trainRows)
 * const report = observer.endRound() // { rows: { precision, auc }, bias: …, best: { attack: 'bias', … } }
 */
export function createAttackObserver() {
  const linked = new Map<number, Float32Array>()
  let sums = emptySums()
  let features = { precision: 0, auc: 0 }
  let featureClients = 0
  let clients = 0
  return {
    observe(client: number, observed: ObservedUpload, history: ReadonlySet<number>): void {
      for (const attack of ATTACKS) add(sums[attack], attackMetrics(scoreUpload(observed, attack), history))
      const byFeatures = scoreFeatureRows(observed)
      if (byFeatures) {
        add(features, attackMetrics(byFeatures, history))
        featureClients++
      }
      const { numItems } = observed
      const bias = scoreUpload(observed, 'bias')
      // Grown when the catalogue grew since this client's last upload (over HTTP, new items join the model).
      const before = linked.get(client) ?? new Float32Array(0)
      const total = new Float32Array(numItems).fill(ABSENT)
      total.set(before.subarray(0, numItems))
      for (let row = 0; row < numItems; row++) {
        const b = bias[row]!
        if (b !== ABSENT) total[row] = total[row] === ABSENT ? b : total[row]! + b
      }
      linked.set(client, total)
      add(sums.linked, attackMetrics(total, history))
      clients++
    },
    /** The means since the previous call (undefined when no upload was observed); starts the next round. */
    endRound(): AttackReport | undefined {
      if (clients === 0) return undefined
      const means = Object.fromEntries(
        REPORTED_ATTACKS.map((a) => [
          a,
          { precision: sums[a].precision / clients, auc: sums[a].auc / clients },
        ]),
      ) as Record<ReportedAttack, AttackMetrics>
      const byFeatures =
        featureClients === 0
          ? undefined
          : { precision: features.precision / featureClients, auc: features.auc / featureClients }
      const best = REPORTED_ATTACKS.reduce((a, b) => (means[b].auc > means[a].auc ? b : a))
      const report: AttackReport = {
        ...means,
        ...(byFeatures ? { features: byFeatures } : {}),
        best:
          byFeatures && byFeatures.auc > means[best].auc
            ? { attack: 'features', ...byFeatures }
            : { attack: best, ...means[best] },
        clients,
      }
      sums = emptySums()
      features = { precision: 0, auc: 0 }
      featureClients = 0
      clients = 0
      return report
    },
  }
}

function emptySums(): Record<ReportedAttack, AttackMetrics> {
  return Object.fromEntries(REPORTED_ATTACKS.map((a) => [a, { precision: 0, auc: 0 }])) as Record<
    ReportedAttack,
    AttackMetrics
  >
}

function add(sum: AttackMetrics, m: AttackMetrics): void {
  sum.precision += m.precision
  sum.auc += m.auc
}
