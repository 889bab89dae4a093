/** Secure aggregation's cohorts, members and relayed messages (apps/aggregator/src/secagg). */
import type { SecAggPhase } from '@fedrec/protocol'

/** One cohort attempt as stored (table `secagg_cohorts`). */
export interface CohortRecord {
  cohort: number
  round: number
  sessionId: string
  phase: SecAggPhase
  phaseDeadline: string
  openedAt: string
  closedAt: string | null
  abortReason: string | null
  survivors: number | null
}

/** One member of a cohort (table `secagg_members`); `masked` is null until it uploads and after the end. */
export interface MemberRecord {
  cohort: number
  id: number
  clientHash: string
  tokenHash: string
  cPublicKey: string
  sPublicKey: string
  shared: boolean
  uploaded: boolean
  unmasked: boolean
  masked: Uint8Array | null
}

/** The secure-aggregation tables of the aggregator's store. Every method answers with a Promise. */
export interface SecAggStore {
  latestCohort(): Promise<CohortRecord | undefined>
  cohort(cohort: number): Promise<CohortRecord | undefined>
  insertCohort(c: CohortRecord): Promise<void>
  setPhase(cohort: number, phase: SecAggPhase, phaseDeadline: string): Promise<void>
  /** Final: `done` or `aborted`; drops the cohort's relayed messages and masked inputs. */
  endCohort(
    cohort: number,
    end: { phase: 'done' | 'aborted'; at: string; reason: string | null; survivors: number | null },
  ): Promise<void>
  members(cohort: number): Promise<MemberRecord[]>
  memberByToken(cohort: number, tokenHash: string): Promise<MemberRecord | undefined>
  memberByClient(cohort: number, clientHash: string): Promise<MemberRecord | undefined>
  insertMember(m: Omit<MemberRecord, 'shared' | 'uploaded' | 'unmasked' | 'masked'>): Promise<void>
  /** Stores a member's shares or unmask message (JSON) and marks it. */
  insertMessage(cohort: number, id: number, kind: 'shares' | 'unmask', body: string): Promise<void>
  message(cohort: number, id: number, kind: 'shares' | 'unmask'): Promise<string | undefined>
  /** Messages of one kind in member order. */
  messages(cohort: number, kind: 'shares' | 'unmask'): Promise<{ id: number; body: string }[]>
  setMasked(cohort: number, id: number, masked: Uint8Array): Promise<void>
  /** Forgets the members of cohorts that ended before `endedBefore` (ISO); returns how many rows went. */
  pruneMembers(endedBefore: string): Promise<number>
  /** True when this client's masked input is in the sum of the cohort that closed `round` (U3 of it). */
  contributed(round: number, clientHash: string): Promise<boolean>
}
