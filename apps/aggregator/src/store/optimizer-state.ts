/** The server optimizer's moments, kept so FedAvgM/FedAdam/FedYogi/FedAdagrad resume after a restart. */

/** Server optimizer moments per tensor name, as `applyRound` keeps them. */
export type OptimizerState = Map<string, { m?: Float32Array; v?: Float32Array }>

/** The optimizer moments of the current model. */
export interface OptimizerStateStore {
  loadOptimizerState(): Promise<OptimizerState>
  /** Replaces every stored moment with `state`. */
  saveOptimizerState(state: OptimizerState): Promise<void>
}
