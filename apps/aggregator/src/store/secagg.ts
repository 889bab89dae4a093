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

/** The secure-aggregation tables of the aggregator's store. Every method is synchronous. */
export interface SecAggStore {
  latestCohort(): CohortRecord | undefined
  cohort(cohort: number): CohortRecord | undefined
  insertCohort(c: CohortRecord): void
  setPhase(cohort: number, phase: SecAggPhase, phaseDeadline: string): void
  /** Final: `done` or `aborted`; drops the cohort's relayed messages and masked inputs. */
  endCohort(
    cohort: number,
    end: { phase: 'done' | 'aborted'; at: string; reason: string | null; survivors: number | null },
  ): void
  members(cohort: number): MemberRecord[]
  memberByToken(cohort: number, tokenHash: string): MemberRecord | undefined
  memberByClient(cohort: number, clientHash: string): MemberRecord | undefined
  insertMember(m: Omit<MemberRecord, 'shared' | 'uploaded' | 'unmasked' | 'masked'>): void
  /** Stores a member's shares or unmask message (JSON) and marks it. */
  insertMessage(cohort: number, id: number, kind: 'shares' | 'unmask', body: string): void
  message(cohort: number, id: number, kind: 'shares' | 'unmask'): string | undefined
  /** Messages of one kind in member order. */
  messages(cohort: number, kind: 'shares' | 'unmask'): { id: number; body: string }[]
  setMasked(cohort: number, id: number, masked: Uint8Array): void
  /** Forgets the members of cohorts that ended before `endedBefore` (ISO); returns how many rows went. */
  pruneMembers(endedBefore: string): number
  /** True when this client's masked input is in the sum of the cohort that closed `round` (U3 of it). */
  contributed(round: number, clientHash: string): boolean
}
