// The secure-aggregation coordinator's state: one explicit object shared by its parts (cohort machine,
// replay, member requests), plus the small pure helpers they all use.
import { createHash } from 'node:crypto'
import {
  createSecAggServer,
  type SecAggRoster,
  type SecAggServer,
  secAggVectorLength,
  type UnmaskRequest,
} from '@fedrec/core/server'
import type { SecAggConfig } from '@fedrec/protocol'
import type { Serial } from '../serial.ts'
import type { AggregatorStore, StoreTransaction } from '../store/index.ts'
import type { CohortRecord, SecAggStore } from './store.ts'

/** How long after a failed close of a finished cohort (disk full…) the close is tried again. */
export const RETRY_MS = 1000
/**
 * Members (public keys, hashed ids and tokens) of an ended cohort are kept this long, so a member still
 * polling hears how its cohort ended; then they go.
 */
export const MEMBER_RETENTION_MS = 86_400_000

/** What the coordinator needs from the aggregator it serves. */
export interface SecAggHost {
  store: AggregatorStore
  /**
   * The aggregator's lock: every coordinator request and timer runs in a section of it, so a cohort's phase
   * moves and the round closes one step at a time.
   */
  serial: Serial
  /** The store's client-id salt (client ids are kept only as salted hashes). */
  salt: string
  config: SecAggConfig
  now: () => number
  /** Phase deadlines on a timer (default true); tests may call `checkDeadline()` instead. */
  timers: boolean
  /**
   * The open round: what its cohort trains on and the dense layout of its vectors (`numFeatures`: the rows
   * of the model's feature table, absent for an id-only model).
   */
  current(): { round: number; modelVersion: number; numItems: number; dim: number; numFeatures?: number }
  /**
   * Adds the cohort's unmasked sum (of `participants` clients) to the round and closes it, running `write`
   * inside the closing transaction (the cohort's end commits with the round or not at all).
   */
  complete(
    sum: Uint32Array,
    participants: number,
    write: (tx: StoreTransaction) => Promise<void>,
  ): Promise<void>
}

/**
 * Everything the coordinator remembers between requests. Only `cohort`'s record and its members are
 * durable; `server`, `roster` and `unmaskRequest` are rebuilt from them by replay.
 */
export interface CoordinatorState {
  readonly host: SecAggHost
  readonly db: SecAggStore
  /** The cohort forming or running now (or the one that just ended, until the next opens). */
  cohort: CohortRecord
  /** The core's protocol state of `cohort`. */
  server: SecAggServer
  /** Set once the advertise phase closed. */
  roster: SecAggRoster | undefined
  /** Set once the mask phase closed: who survived, who dropped. */
  unmaskRequest: UnmaskRequest | undefined
  /** The reconstruction and round close in progress, if any. */
  finishing: Promise<void> | undefined
  /** The phase-deadline timer. */
  timer: NodeJS.Timeout | undefined
  /** Set by `close()`: no timers, and a reconstruction no longer closes the round. */
  closed: boolean
  /** What the phase timer calls when the deadline passes (the coordinator's `checkDeadline`). */
  onDeadline: () => Promise<void>
}

export const iso = (ms: number): string => new Date(ms).toISOString()

/** The deadline of a phase starting now. */
export const phaseDeadline = (host: SecAggHost): string =>
  iso(host.now() + host.config.phaseTimeoutSeconds * 1000)

/** Tokens are stored only as hashes. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

/** True once the cohort is over, whichever way it ended. */
export const ended = (c: CohortRecord): boolean => c.phase === 'done' || c.phase === 'aborted'

/** The length of the open round's secure-aggregation vectors. */
export const vectorLength = (host: SecAggHost): number => {
  const { numItems, dim, numFeatures } = host.current()
  // With an empty catalogue nobody can join (see join); the cohort still needs a valid length.
  return numItems === 0 ? 1 : secAggVectorLength(numItems, dim, numFeatures)
}

/** A fresh protocol state for the cohort `c`. */
export const newServer = (host: SecAggHost, c: CohortRecord): SecAggServer =>
  createSecAggServer({
    sessionId: c.sessionId,
    vectorLength: vectorLength(host),
    minClients: host.config.minCohort,
    threshold: host.config.threshold,
    maxClients: host.config.maxCohort,
  })

/** The state of a coordinator whose cohort is `cohort`, before any of its messages is replayed. */
export const createState = (
  host: SecAggHost,
  db: SecAggStore,
  cohort: CohortRecord,
  onDeadline: () => Promise<void>,
): CoordinatorState => ({
  host,
  db,
  cohort,
  server: newServer(host, cohort),
  roster: undefined,
  unmaskRequest: undefined,
  finishing: undefined,
  timer: undefined,
  closed: false,
  onDeadline,
})
