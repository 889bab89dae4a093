// The simulator's error classes, coded like the rest of fedrec's so a caller can branch on `code`.
import { CodedError } from '@fedrec/protocol'

/** Why a data set could not be used. */
export type DatasetErrorCode = 'unreadable' | 'malformed_line' | 'empty' | 'unknown_format'

/**
 * A data-set file that cannot be read or has a malformed line; the message names the file and the line.
 * @example
 * try { loadDataset('movielens', 'u.data') } catch (err) { if (err instanceof DatasetError) console.error(err.message) }
 */
export class DatasetError extends CodedError<DatasetErrorCode> {
  override name = 'DatasetError'
}

/** A simulation setting that cannot work (e.g. more clients per round than shoppers), or a failed HTTP exchange. */
export type SimulationErrorCode = 'bad_option' | 'http' | 'no_users'

/**
 * The simulation could not run as asked.
 * @example throw new SimulationError('bad_option', 'rounds must be >= 1, got 0')
 */
export class SimulationError extends CodedError<SimulationErrorCode> {
  override name = 'SimulationError'
}
