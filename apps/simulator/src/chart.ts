// The simulator's chart: a run's results as an SVG, so a run is compared to its baselines at a glance.
import * as echarts from 'echarts'
import type { SimulationResults } from './simulate.ts'

/**
 * The run's quality curve as an SVG: federated HR@10 and NDCG@10 by round (solid), with the centralized
 * model's values as dashed lines of the same colours and every baseline's HR@10 (co-occurrence, popularity,
 * recent popularity, random) and popularity's NDCG@10 as dotted horizontal lines, rendered server-side by
 * echarts (`ssr: true`, no DOM).
 * @example writeFileSync('r.svg', renderChart(results))
 */
export function renderChart(results: SimulationResults, { width = 900, height = 480 } = {}): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height })
  try {
    const rounds = results.federated.rounds.map((r) => r.round)
    const flat = (value: number) => rounds.map(() => round4(value))
    const { dataset: d, settings: s } = results
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: {
        text: `fedrec simulator — ${d.format}: ${d.users} shoppers, ${d.items} items`,
        subtext: `${s.mode}, ${s.clientsPerRound} clients/round, ${s.localEpochs} epochs, lr ${s.learningRate}, μ ${s.mu}, ${s.serverOptimizer}, rows ÷ ${s.rowNormalization}${s.itemRowFloorUsed ? ` (item rows ≥ ${s.itemRowFloorUsed} shoppers)` : ''}, d ${s.dim}, seed ${s.seed}`,
        left: 'center',
      },
      legend: { bottom: 0 },
      grid: { left: 60, right: 30, top: 70, bottom: 70 },
      xAxis: { type: 'category', name: 'round', nameLocation: 'middle', nameGap: 28, data: rounds },
      yAxis: { type: 'value', min: 0, max: 1, name: 'metric' },
      color: [
        '#1f77b4',
        '#ff7f0e',
        '#1f77b4',
        '#ff7f0e',
        '#7f7f7f',
        '#bcbd22',
        '#2ca02c',
        '#9467bd',
        '#d62728',
      ],
      series: [
        {
          name: 'federated HR@10',
          type: 'line',
          showSymbol: false,
          data: results.federated.rounds.map((r) => round4(r.hr10)),
        },
        {
          name: 'federated NDCG@10',
          type: 'line',
          showSymbol: false,
          data: results.federated.rounds.map((r) => round4(r.ndcg10)),
        },
        {
          name: 'centralized HR@10',
          type: 'line',
          showSymbol: false,
          lineStyle: { type: 'dashed' },
          data: flat(results.centralized.hr10),
        },
        {
          name: 'centralized NDCG@10',
          type: 'line',
          showSymbol: false,
          lineStyle: { type: 'dashed' },
          data: flat(results.centralized.ndcg10),
        },
        {
          name: 'popularity HR@10',
          type: 'line',
          showSymbol: false,
          lineStyle: { type: 'dotted' },
          data: flat(results.popularity.hr10),
        },
        {
          name: 'popularity NDCG@10',
          type: 'line',
          showSymbol: false,
          lineStyle: { type: 'dotted' },
          data: flat(results.popularity.ndcg10),
        },
        ...(
          [
            ['co-occurrence HR@10', results.cooccurrence.hr10],
            ['recent popularity HR@10', results.recentPopularity.hr10],
            ['random HR@10', results.random.hr10],
          ] as const
        ).map(([name, value]) => ({
          name,
          type: 'line',
          showSymbol: false,
          lineStyle: { type: 'dotted' },
          data: flat(value),
        })),
      ],
    })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000
