// @ts-check
// The dashboard's charts: one ECharts instance per `[data-chart]` element, options rebuilt from each status.
// ECharts is passed in: the global that the page's classic script defines (dist/echarts.min.js from the
// aggregator's own node_modules), so the browser needs no bundler and no CDN.
/** @typedef {import('./data.js').DashboardStatus} DashboardStatus */
/** @typedef {import('echarts').EChartsOption} Option */

/** Chart names, as in index.html's `data-chart` attributes. */
export const CHART_NAMES = /** @type {const} */ ([
  'rounds',
  'participants',
  'samples',
  'norms',
  'quality',
  'privacy',
])
/** @typedef {(typeof CHART_NAMES)[number]} ChartName */

const COLORS = ['#2f6f4f', '#c0713a', '#4a6fa5', '#8c5a9e', '#b0413e']
const AXIS_LABEL = { color: '#5b6470' }
const SPLIT_LINE = { lineStyle: { color: '#e6e8eb' } }

/**
 * Options every chart shares. Tooltips render in the canvas (`richText`): HTML tooltips carry inline
 * `style` attributes, which the page's Content-Security-Policy refuses.
 * @type {Option}
 */
const BASE = {
  color: COLORS,
  animationDuration: 300,
  animationDurationUpdate: 300,
  aria: { enabled: true },
  textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", sans-serif' },
  grid: { left: 12, right: 16, top: 36, bottom: 8 },
  tooltip: { trigger: 'axis', renderMode: 'richText' },
}

/**
 * @param {string} text what an empty chart says
 * @param {boolean} show
 * @returns {Option['title']}
 */
const emptyNote = (text, show) => ({
  show,
  text,
  left: 'center',
  top: 'middle',
  textStyle: { color: '#8a929c', fontSize: 13, fontWeight: 'normal' },
})

/** @param {string} name */
const valueAxis = (name) => ({
  type: /** @type {const} */ ('value'),
  name,
  nameTextStyle: AXIS_LABEL,
  axisLabel: AXIS_LABEL,
  splitLine: SPLIT_LINE,
})

/** @param {string[]} rounds */
const roundAxis = (rounds) => ({
  type: /** @type {const} */ ('category'),
  name: 'round',
  nameLocation: /** @type {const} */ ('middle'),
  nameGap: 26,
  data: rounds,
  axisLabel: AXIS_LABEL,
})

/**
 * The option of each chart for one status. Per-round charts list closed rounds oldest first (the status
 * keeps the last 1,000); HR@10/NDCG@10 are per model version, as clients reported them.
 * @param {DashboardStatus} s
 * @returns {Record<ChartName, Option>}
 */
export function chartOptions(s) {
  const rounds = s.history.map((r) => String(r.round))
  const none = s.history.length === 0
  return {
    rounds: {
      title: emptyNote('No round closed yet', none),
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      // Ticks at least a second apart, labels that would overlap dropped: rounds of a busy aggregator (or a
      // test) close within the same second.
      xAxis: {
        type: 'time',
        minInterval: 1000,
        splitNumber: 4,
        axisLabel: { ...AXIS_LABEL, hideOverlap: true },
        ...timeExtent(s.history.map((r) => Date.parse(r.closedAt))),
      },
      yAxis: { ...valueAxis('round'), minInterval: 1 },
      series: [
        {
          id: 'rounds',
          name: 'round closed',
          type: 'line',
          step: 'end',
          showSymbol: true,
          symbolSize: 6,
          data: s.history.map((r) => [Date.parse(r.closedAt), r.round]),
        },
      ],
    },
    participants: {
      title: emptyNote('No round closed yet', none),
      xAxis: roundAxis(rounds),
      yAxis: { ...valueAxis('updates'), minInterval: 1 },
      series: [
        {
          id: 'participants',
          name: 'participants',
          type: 'bar',
          barMaxWidth: 28,
          data: s.history.map((r) => r.participants),
          markLine: {
            silent: true,
            symbol: 'none',
            label: { formatter: `quorum ${s.config.minClients}`, position: 'insideEndTop', color: '#5b6470' },
            lineStyle: { color: '#b0413e', type: 'dashed' },
            data: [{ yAxis: s.config.minClients }],
          },
        },
      ],
    },
    samples: {
      title: emptyNote('No round closed yet', none),
      xAxis: roundAxis(rounds),
      yAxis: valueAxis('samples'),
      series: [
        {
          id: 'samples',
          name: 'samples',
          type: 'bar',
          barMaxWidth: 28,
          itemStyle: { color: COLORS[1] },
          data: s.history.map((r) => r.samples),
        },
      ],
    },
    norms: {
      title: emptyNote('No round closed yet', none),
      legend: { top: 0, left: 'center', textStyle: AXIS_LABEL },
      xAxis: roundAxis(rounds),
      yAxis: valueAxis(''),
      series: [
        { id: 'step', name: 'server step', type: 'line', data: s.history.map((r) => r.updateNorm) },
        {
          id: 'client-mean',
          name: 'client mean',
          type: 'line',
          data: s.history.map((r) => r.clientUpdateNorm.mean),
        },
        {
          id: 'client-max',
          name: 'client max',
          type: 'line',
          lineStyle: { type: 'dashed' },
          data: s.history.map((r) => r.clientUpdateNorm.max),
        },
      ],
    },
    quality: {
      title: emptyNote('No client has reported an evaluation yet', s.evaluations.length === 0),
      legend: { top: 0, left: 'center', textStyle: AXIS_LABEL },
      xAxis: {
        type: 'category',
        name: 'model version',
        nameLocation: 'middle',
        nameGap: 26,
        data: s.evaluations.map((e) => `v${e.modelVersion}`),
        axisLabel: AXIS_LABEL,
      },
      yAxis: { ...valueAxis(''), min: 0, max: 1 },
      series: [
        { id: 'hr10', name: 'HR@10', type: 'line', data: s.evaluations.map((e) => e.hr10) },
        { id: 'ndcg10', name: 'NDCG@10', type: 'line', data: s.evaluations.map((e) => e.ndcg10) },
      ],
    },
    privacy: {
      title: emptyNote(
        'No round closed with differential privacy',
        !s.history.some((r) => r.epsilon !== undefined),
      ),
      xAxis: roundAxis(rounds),
      yAxis: { ...valueAxis(`ε at δ ${s.privacy?.delta.toExponential(0) ?? ''}`), min: 0 },
      series: [
        {
          id: 'epsilon',
          name: 'ε spent',
          type: 'line',
          step: 'end',
          itemStyle: { color: COLORS[3] },
          // null for a round without DP: a gap in the line, not a fake 0.
          data: s.history.map((r) => (r.epsilon === undefined ? null : r.epsilon)),
        },
      ],
    },
  }
}

/**
 * The time axis's ends: the first and last round close with a margin. Left to itself ECharts rounds a time
 * extent out to "nice" day boundaries, so minutes of rounds were drawn across two days as a vertical line.
 * @param {number[]} times milliseconds since the epoch
 * @returns {{ min?: number, max?: number }}
 */
export function timeExtent(times) {
  if (times.length === 0) return {}
  const first = Math.min(...times)
  const last = Math.max(...times)
  // A twentieth of the span on each side, at least 30 s, so one round (or rounds within a second) still
  // sits inside the plot rather than on its edge.
  const margin = Math.max(30_000, (last - first) / 20)
  return { min: first - margin, max: last + margin }
}

/**
 * Creates the charts inside `root` and returns how to redraw them.
 * @param {typeof import('echarts')} lib ECharts
 * @param {ParentNode} root
 * @returns {{ update(status: DashboardStatus): void, resize(): void }}
 * @example const charts = createCharts(echarts, document); charts.update(status)
 */
export function createCharts(lib, root) {
  /** @type {Array<[ChartName, import('echarts').EChartsType]>} */
  const charts = CHART_NAMES.map((name) => {
    const el = root.querySelector(`[data-chart="${name}"]`)
    if (!(el instanceof HTMLElement)) throw new Error(`the page has no [data-chart="${name}"] element`)
    const chart = lib.init(el, null, { renderer: 'canvas' })
    chart.setOption(BASE)
    return [name, chart]
  })
  return {
    update(status) {
      const options = chartOptions(status)
      // Merge (not replace) so ECharts animates from the previous state; the series keep their ids.
      for (const [name, chart] of charts) chart.setOption(options[name])
    },
    resize() {
      for (const [, chart] of charts) chart.resize()
    },
  }
}
