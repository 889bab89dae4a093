/**
 * The headless simulator as a library: data-set loaders, the leave-one-out split, the federated run
 * (in-process or against an aggregator over HTTP), the baselines and the chart. The CLI is `cli.ts`.
 * @example
 * const { tf, backend } = await useNodeBackend()
 * const results = await simulate(tf, backend, { ...DEFAULTS, dataset: 'movielens', path: 'u.data', endpoint: undefined })
 * @module
 */
export { renderChart } from './chart.ts'
export {
  DATASET_FORMATS,
  type DatasetFormat,
  type Interaction,
  type LoadedDataset,
  loadDataset,
  parseDataset,
} from './datasets/index.ts'
export { DatasetError, SimulationError } from './errors.ts'
export { useNodeBackend } from './node-backend.ts'
export { DEFAULTS, type SimulationOptions } from './options.ts'
export type { RoundRecord } from './round-record.ts'
export { type SimulationResults, simulate } from './simulate.ts'
export { leaveOneOut, type SplitDataset, type SplitUser } from './split.ts'
