import { createHash, randomBytes } from 'node:crypto'
import {
  createSecAggServer,
  type SecAggResult,
  type SecAggRoster,
  type SecAggServer,
  secAggVectorLength,
} from '@fedrec/core'
import {
  decodeMaskedInput,
  parseSecAggShares,
  parseSecAggUnmask,
  type SecAggAck,
  type SecAggConfig,
  type SecAggJoin,
  type SecAggJoinAck,
  type SecAggPhase,
  type SecAggShares,
  type SecAggState,
  type SecAggUnmask,
  type SecAggView,
} from '@fedrec/protocol'
import createDebug from 'debug'
import { hashClientId } from '../aggregator/client-hash.ts'
import { logError } from '../error-log.ts'
import type { AggregatorStore } from '../store/index.ts'
import { SecAggRefusal } from './errors.ts'
import { type CohortRecord, type MemberRecord, secAggStore } from './store.ts'

const log = createDebug('fedrec:aggregator:secagg')

/** How long after a failed close of a finished cohort (disk full…) the close is tried again. */
const RETRY_MS = 1000
/**
 * Members (public keys, hashed ids and tokens) of an ended cohort are kept this long, so a member still
 * polling hears how its cohort ended; then they go.
 */
const MEMBER_RETENTION_MS = 86_400_000

/** What the coordinator needs from the aggregator it serves. */
export interface SecAggHost {
  store: AggregatorStore
  /** The store's client-id salt (client ids are kept only as salted hashes). */
  salt: string
  config: SecAggConfig
  now: () => number
  /** Phase deadlines on a timer (default true); tests may call `checkDeadline()` instead. */
  timers: boolean
  /** The open round: what its cohort trains on and the dense layout of its vectors. */
  current(): { round: number; modelVersion: number; numItems: number; dim: number }
  /**
   * Adds the cohort's unmasked sum (of `participants` clients) to the round and closes it, running `write`
   * inside the closing transaction (the cohort's end commits with the round or not at all).
   */
  complete(sum: Uint32Array, participants: number, write: () => void): void
}

/**
 * Secure aggregation for the open round: one cohort at a time runs Bonawitz et al.'s four phases; a cohort
 * that completes closes the round with its unmasked sum; one that aborts (too few members, too few
 * survivors, a phase deadline, the round closing under it) is followed by a fresh cohort of the same round.
 *
 * Durable and resumable: every accepted message is in the store before it is acknowledged, phase changes
 * too, and a restart rebuilds the cohort's protocol state by replaying them — the members' clients, which
 * hold their secrets in memory, carry on polling as if the server had only been slow.
 */
export interface SecAggCoordinator {
  /** `GET /v1/secagg`: the cohort forming or running now. */
  state(): SecAggState
  /** AdvertiseKeys: joins the forming cohort. Durable before it returns. */
  join(body: SecAggJoin): SecAggJoinAck
  /** `GET …/me`: what this member needs for the current phase. */
  view(cohort: number, token: string | undefined): SecAggView
  /** ShareKeys. */
  shares(cohort: number, token: string | undefined, body: SecAggShares): SecAggAck
  /** MaskedInputCollection (binary body). */
  masked(cohort: number, token: string | undefined, bytes: Uint8Array): SecAggAck
  /** Unmasking; once t members answered, the sum is reconstructed and the round closed. */
  unmask(cohort: number, token: string | undefined, body: SecAggUnmask): Promise<SecAggAck>
  /** Aborts the running cohort (an operator reset of its round); a fresh one forms. */
  abortCohort(reason: string): void
  /**
   * True when the client (salted hash) is in the sum that closed `round`: what an evaluation report of a
   * secure-aggregated round is bound to. Known until its cohort's members are forgotten (a day after).
   */
  tookPart(round: number, clientHash: string): boolean
  /** Moves the cohort on if its phase deadline has passed (the timer calls it). */
  checkDeadline(): Promise<void>
  /** Stops the timer; a reconstruction in progress no longer closes the round. */
  close(): void
}

/**
 * Starts (or resumes, from the store) secure aggregation on an aggregator's store.
 * @example const secagg = createSecAggCoordinator({ store, salt, config, now: Date.now, timers: true, current, complete })
 */
export function createSecAggCoordinator(host: SecAggHost): SecAggCoordinator {
  const db = secAggStore(host.store)
  const { config } = host
  const iso = (ms: number): string => new Date(ms).toISOString()
  const phaseDeadline = (): string => iso(host.now() + config.phaseTimeoutSeconds * 1000)
  const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

  let cohort!: CohortRecord
  let server!: SecAggServer
  let roster: SecAggRoster | undefined
  let unmaskRequest: { survivors: number[]; dropped: number[] } | undefined
  let finishing: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const vectorLength = (): number => {
    const { numItems, dim } = host.current()
    // With an empty catalogue nobody can join (see join); the cohort still needs a valid length.
    return numItems === 0 ? 1 : secAggVectorLength(numItems, dim)
  }
  const newServer = (c: CohortRecord): SecAggServer =>
    createSecAggServer({
      sessionId: c.sessionId,
      vectorLength: vectorLength(),
      minClients: config.minCohort,
      threshold: config.threshold,
      maxClients: config.maxCohort,
    })

  /** Opens a fresh cohort for the open round (durable first). */
  const openCohort = (): void => {
    const { round } = host.current()
    const number = (db.latestCohort()?.cohort ?? 0) + 1
    const fresh: CohortRecord = {
      cohort: number,
      round,
      // Unique per attempt, bound into every key derivation: a retried cohort never repeats a mask.
      sessionId: `r${round}-c${number}-${randomBytes(8).toString('hex')}`,
      phase: 'advertise',
      phaseDeadline: phaseDeadline(),
      openedAt: iso(host.now()),
      closedAt: null,
      abortReason: null,
      survivors: null,
    }
    db.insertCohort(fresh)
    const pruned = db.pruneMembers(iso(host.now() - MEMBER_RETENTION_MS))
    if (pruned > 0) log('forgot %d members of cohorts that ended a day ago', pruned)
    cohort = fresh
    server = newServer(fresh)
    roster = undefined
    unmaskRequest = undefined
    log('cohort %d (%s) forming for round %d', fresh.cohort, fresh.sessionId, round)
    arm()
  }

  /** Ends the running cohort as aborted and opens the next one. */
  const abort = (reason: string): void => {
    log('cohort %d aborted in phase %s: %s', cohort.cohort, cohort.phase, reason)
    db.endCohort(cohort.cohort, { phase: 'aborted', at: iso(host.now()), reason, survivors: null })
    openCohort()
  }

  /**
   * Rebuilds the protocol state of the stored cohort by replaying its messages in the order their phases
   * closed. Every close is a function of the messages before it, so the replay ends where the cohort was.
   */
  const replay = (c: CohortRecord): void => {
    cohort = c
    server = newServer(c)
    roster = undefined
    unmaskRequest = undefined
    const members = db.members(c.cohort)
    const at = (phase: SecAggPhase): boolean => ORDER.indexOf(c.phase) >= ORDER.indexOf(phase)
    for (const m of members)
      server.addAdvertisement({
        type: 'advertise-keys',
        sessionId: c.sessionId,
        id: m.id,
        cPublicKey: m.cPublicKey,
        sPublicKey: m.sPublicKey,
      })
    if (!at('share')) return
    roster = server.closeAdvertise()
    for (const { id, body } of db.messages(c.cohort, 'shares'))
      server.addShareKeys({
        ...parseSecAggShares(JSON.parse(body)),
        type: 'share-keys',
        sessionId: c.sessionId,
        id,
      })
    if (!at('mask')) return
    server.closeShare()
    for (const m of members) {
      if (!m.masked) continue
      const masked = decodeMaskedInput(m.masked, vectorLength())
      server.addMaskedInput({ type: 'masked-input', sessionId: c.sessionId, id: m.id, masked })
    }
    if (!at('unmask')) return
    unmaskRequest = server.closeMask()
    for (const { id, body } of db.messages(c.cohort, 'unmask'))
      server.addUnmaskResponse({
        ...parseSecAggUnmask(JSON.parse(body)),
        type: 'unmask-response',
        sessionId: c.sessionId,
        id,
      })
  }

  const member = (number: number, token: string | undefined): { c: CohortRecord; m: MemberRecord } => {
    const c = number === cohort.cohort ? cohort : db.cohort(number)
    if (!c) throw new SecAggRefusal('unknown_cohort', `there is no cohort ${number}`)
    const m = token === undefined ? undefined : db.memberByToken(number, hashToken(token))
    if (!m)
      throw new SecAggRefusal(
        'not_a_member',
        `send the token you joined cohort ${number} with as "Authorization: Bearer <token>"`,
      )
    return { c, m }
  }

  const running = (c: CohortRecord, phase: SecAggPhase, what: string): void => {
    if (c.cohort !== cohort.cohort || c.phase === 'done' || c.phase === 'aborted')
      throw new SecAggRefusal(
        'cohort_ended',
        `cohort ${c.cohort} has ended (${c.phase}${c.abortReason ? `: ${c.abortReason}` : ''}); join the cohort forming now`,
      )
    if (c.phase !== phase)
      throw new SecAggRefusal(
        'wrong_phase',
        `cohort ${c.cohort} is in phase ${c.phase}; ${what} are taken in phase ${phase}`,
      )
  }

  /** Runs a protocol step; the core's refusals (wrong recipients, sizes, ids) become 4xx answers. */
  const protocol = <T>(step: () => T): T => {
    try {
      return step()
    } catch (err) {
      if (err instanceof Error && err.name === 'SecAggError') {
        const code = (err as { code?: string }).code
        throw new SecAggRefusal(
          code === 'bad_phase'
            ? 'wrong_phase'
            : code === 'duplicate_message'
              ? 'already_sent'
              : 'bad_secagg_message',
          err.message,
          { cause: err },
        )
      }
      throw err
    }
  }

  /** Writes `write` and applies `step` to the protocol state as one unit: either both happen or neither. */
  const commit = (step: () => void, write: () => void): void => {
    try {
      host.store.transaction(() => {
        protocol(step)
        write()
      })
    } catch (err) {
      // The step may have changed the in-memory state although the write failed: rebuild it from the store.
      if (!(err instanceof SecAggRefusal)) replay(db.cohort(cohort.cohort) ?? cohort)
      throw err
    }
  }

  const setPhase = (phase: SecAggPhase): void => {
    const deadline = phaseDeadline()
    db.setPhase(cohort.cohort, phase, deadline)
    cohort = { ...cohort, phase, phaseDeadline: deadline }
    log('cohort %d: phase %s until %s', cohort.cohort, phase, deadline)
    arm()
  }

  /**
   * Moves the cohort to its next phase when everybody expected has answered, or when `deadline` says the
   * phase is over; aborts it when too few are left. Returns true when it moved.
   */
  const advance = (deadline: boolean): boolean => {
    const members = db.members(cohort.cohort)
    try {
      switch (cohort.phase) {
        case 'advertise': {
          const full = members.length >= config.maxCohort
          if (!full && !deadline) return false
          if (members.length === 0) {
            // Nobody came: keep waiting instead of churning through empty cohorts.
            setPhase('advertise')
            return false
          }
          if (members.length < config.minCohort) {
            abort(`only ${members.length} of the ${config.minCohort} members needed joined in time`)
            return true
          }
          host.store.transaction(() => {
            roster = server.closeAdvertise()
            setPhase('share')
          })
          return true
        }
        case 'share': {
          if (!deadline && !members.every((m) => m.shared)) return false
          host.store.transaction(() => {
            server.closeShare()
            setPhase('mask')
          })
          return true
        }
        case 'mask': {
          const u2 = members.filter((m) => m.shared)
          if (!deadline && !u2.every((m) => m.uploaded)) return false
          host.store.transaction(() => {
            unmaskRequest = server.closeMask()
            setPhase('unmask')
          })
          return true
        }
        case 'unmask': {
          if (server.canFinish) {
            void finish()
            return true
          }
          if (deadline) {
            abort(`too few members answered the unmasking request in time (need ${roster?.threshold})`)
            return true
          }
          return false
        }
        case 'done':
        case 'aborted':
          openCohort()
          return true
        default: {
          const never: never = cohort.phase
          throw new Error(`unknown phase ${String(never)}`)
        }
      }
    } catch (err) {
      if (err instanceof Error && err.name === 'SecAggError') {
        // cohort_too_small, too_few_survivors: nothing can be reconstructed from this cohort.
        replay(cohort)
        abort(`${(err as { code?: string }).code ?? 'secagg'}: ${err.message}`)
        return true
      }
      // A failed write: the store still holds the previous phase; rebuild from it and try again later.
      replay(db.cohort(cohort.cohort) ?? cohort)
      throw err
    }
  }

  /** Reconstructs the sum and closes the round with it; on failure the cohort aborts (or retries a write). */
  const finish = (): Promise<void> => {
    finishing ??= (async () => {
      const c = cohort
      let result: SecAggResult
      try {
        result = await server.finish()
      } catch (err) {
        logError('secagg_unmask_failed', err, { cohort: c.cohort, round: c.round })
        if (cohort.cohort === c.cohort) abort(`the sum could not be unmasked (${(err as Error).message})`)
        return
      }
      for (;;) {
        if (closed || cohort.cohort !== c.cohort) return
        try {
          host.complete(result.sum, result.survivors.length, () =>
            db.endCohort(c.cohort, {
              phase: 'done',
              at: iso(host.now()),
              reason: null,
              survivors: result.survivors.length,
            }),
          )
          break
        } catch (err) {
          logError('round_close_failed', err, {
            cohort: c.cohort,
            round: c.round,
            closedBy: 'secure_aggregation',
            retryInMs: RETRY_MS,
          })
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
        }
      }
      log(
        'cohort %d done: %d survivors, %d dropped after sharing; round %d closed',
        c.cohort,
        result.survivors.length,
        result.dropped.length,
        c.round,
      )
      openCohort()
    })().finally(() => {
      finishing = undefined
    })
    return finishing
  }

  /** The stored cohort is of a closed round (a deadline or the operator moved on): abort it. */
  const followRound = (): void => {
    if (cohort.round !== host.current().round && cohort.phase !== 'done' && cohort.phase !== 'aborted') {
      abort(`round ${cohort.round} closed without this cohort`)
    } else if (cohort.phase === 'done' || cohort.phase === 'aborted') {
      openCohort()
    }
  }

  const arm = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (!host.timers || closed) return
    const delay = Math.max(0, Date.parse(cohort.phaseDeadline) - host.now())
    timer = setTimeout(() => {
      coordinator.checkDeadline().catch((err: unknown) => {
        logError('secagg_deadline_failed', err, { cohort: cohort.cohort, round: cohort.round })
        timer = setTimeout(arm, RETRY_MS).unref()
      })
    }, delay)
    timer.unref()
  }

  const ack = (c: CohortRecord, duplicate: boolean): SecAggAck => ({
    accepted: true,
    cohort: c.cohort,
    phase: cohort.cohort === c.cohort ? cohort.phase : c.phase,
    duplicate,
  })

  const coordinator: SecAggCoordinator = {
    state() {
      followRound()
      const { modelVersion } = host.current()
      return {
        round: cohort.round,
        modelVersion,
        cohort: cohort.cohort,
        sessionId: cohort.sessionId,
        phase: cohort.phase,
        phaseDeadline: cohort.phaseDeadline,
        members: db.members(cohort.cohort).length,
        config,
        ...(cohort.abortReason ? { abortReason: cohort.abortReason } : {}),
      }
    },

    join(body) {
      followRound()
      const current = host.current()
      if (body.round !== current.round || body.modelVersion !== current.modelVersion)
        throw new SecAggRefusal(
          'stale_round',
          `the open round is ${current.round} on model version ${current.modelVersion}; this join is for round ${body.round}, version ${body.modelVersion}: fetch /v1/round and /v1/model and train again`,
        )
      if (current.numItems === 0)
        throw new SecAggRefusal('stale_round', 'the model has no items yet: there is nothing to train')
      const clientHash = hashClientId(host.salt, body.clientId)
      const tokenHash = hashToken(body.token)
      const target = body.cohort === cohort.cohort ? cohort : db.cohort(body.cohort)
      if (!target) throw new SecAggRefusal('unknown_cohort', `there is no cohort ${body.cohort}`)
      const prior = db.memberByClient(target.cohort, clientHash)
      if (prior) {
        if (
          prior.tokenHash === tokenHash &&
          prior.cPublicKey === body.cPublicKey &&
          prior.sPublicKey === body.sPublicKey
        )
          return { cohort: target.cohort, sessionId: target.sessionId, id: prior.id, duplicate: true }
        throw new SecAggRefusal(
          'already_joined',
          `this client already joined cohort ${target.cohort} with other keys; it takes part with those or waits for the next cohort`,
        )
      }
      if (target !== cohort || cohort.phase !== 'advertise')
        throw new SecAggRefusal(
          'cohort_not_forming',
          `cohort ${body.cohort} is not taking members (the current cohort is ${cohort.cohort}, phase ${cohort.phase}); poll GET /v1/secagg and join the next forming one`,
        )
      const members = db.members(cohort.cohort)
      if (members.some((m) => m.tokenHash === tokenHash))
        throw new SecAggRefusal(
          'already_joined',
          'this token is taken in this cohort: use a fresh random token',
        )
      if (members.some((m) => m.id === body.id))
        throw new SecAggRefusal(
          'id_taken',
          `id ${body.id} is taken in cohort ${cohort.cohort}: draw another and join again`,
        )
      const { id } = body
      commit(
        () =>
          server.addAdvertisement({
            type: 'advertise-keys',
            sessionId: cohort.sessionId,
            id,
            cPublicKey: body.cPublicKey,
            sPublicKey: body.sPublicKey,
          }),
        () =>
          db.insertMember({
            cohort: cohort.cohort,
            id,
            clientHash,
            tokenHash,
            cPublicKey: body.cPublicKey,
            sPublicKey: body.sPublicKey,
          }),
      )
      const answer = { cohort: cohort.cohort, sessionId: cohort.sessionId, id, duplicate: false }
      // The advertise phase's clock starts with its first member: a cohort waits for company that long.
      if (members.length === 0) setPhase('advertise')
      advance(false)
      return answer
    },

    view(number, token) {
      followRound()
      const { c, m } = member(number, token)
      const live = c.cohort === cohort.cohort ? cohort : c
      const view: SecAggView = {
        cohort: live.cohort,
        sessionId: live.sessionId,
        round: live.round,
        // Round r always trains on model version r.
        modelVersion: live.round,
        phase: live.phase,
        phaseDeadline: live.phaseDeadline,
        threshold: live === cohort ? (roster?.threshold ?? 0) : 0,
        id: m.id,
        shared: m.shared,
        uploaded: m.uploaded,
        unmasked: m.unmasked,
        ...(live.abortReason ? { abortReason: live.abortReason } : {}),
      }
      if (live !== cohort) return view
      if (live.phase === 'share' && roster)
        view.roster = roster.clients.map(({ id, cPublicKey, sPublicKey }) => ({ id, cPublicKey, sPublicKey }))
      if (live.phase === 'mask' && m.shared && !m.uploaded)
        view.inbox = protocol(() => server.inbox(m.id)).shares.map(({ from, iv, ciphertext }) => ({
          from,
          iv,
          ciphertext,
        }))
      if (live.phase === 'unmask' && unmaskRequest) {
        view.survivors = unmaskRequest.survivors
        view.dropped = unmaskRequest.dropped
      }
      return view
    },

    shares(number, token, body) {
      followRound()
      const { c, m } = member(number, token)
      const json = JSON.stringify(body)
      const prior = db.message(c.cohort, m.id, 'shares')
      if (prior !== undefined) {
        if (prior === json) return ack(c, true)
        throw new SecAggRefusal(
          'already_sent',
          `member ${m.id} already sent other shares to cohort ${c.cohort}`,
        )
      }
      running(c, 'share', 'shares')
      commit(
        () => server.addShareKeys({ ...body, type: 'share-keys', sessionId: c.sessionId, id: m.id }),
        () => db.insertMessage(c.cohort, m.id, 'shares', json),
      )
      const answer = ack(c, false)
      advance(false)
      return answer
    },

    masked(number, token, bytes) {
      followRound()
      const { c, m } = member(number, token)
      if (m.uploaded) {
        if (m.masked && Buffer.from(m.masked).equals(Buffer.from(bytes))) return ack(c, true)
        throw new SecAggRefusal(
          'already_sent',
          `member ${m.id} already sent a masked input to cohort ${c.cohort}`,
        )
      }
      running(c, 'mask', 'masked inputs')
      let masked: Uint32Array
      try {
        masked = decodeMaskedInput(bytes, vectorLength())
      } catch (err) {
        throw new SecAggRefusal('bad_secagg_message', (err as Error).message, { cause: err })
      }
      commit(
        () => server.addMaskedInput({ type: 'masked-input', sessionId: c.sessionId, id: m.id, masked }),
        () => db.setMasked(c.cohort, m.id, bytes),
      )
      const answer = ack(c, false)
      advance(false)
      return answer
    },

    async unmask(number, token, body) {
      followRound()
      const { c, m } = member(number, token)
      const json = JSON.stringify(body)
      const prior = db.message(c.cohort, m.id, 'unmask')
      if (prior !== undefined) {
        if (prior === json) return ack(c, true)
        throw new SecAggRefusal(
          'already_sent',
          `member ${m.id} already sent other unmask shares to cohort ${c.cohort}`,
        )
      }
      running(c, 'unmask', 'unmask shares')
      if (finishing)
        throw new SecAggRefusal('wrong_phase', `cohort ${c.cohort} has the shares it needs and is unmasking`)
      commit(
        () =>
          server.addUnmaskResponse({ ...body, type: 'unmask-response', sessionId: c.sessionId, id: m.id }),
        () => db.insertMessage(c.cohort, m.id, 'unmask', json),
      )
      const answer = ack(c, false)
      if (server.canFinish) await finish()
      return answer
    },

    abortCohort(reason) {
      if (finishing) return // its sum is being unmasked: the round closes with it
      abort(reason)
    },

    tookPart: (round, clientHash) => db.contributed(round, clientHash),

    async checkDeadline() {
      if (closed) return
      if (finishing) return finishing
      followRound()
      if (host.now() < Date.parse(cohort.phaseDeadline)) {
        arm()
        return
      }
      advance(true)
      if (finishing) await finishing
    },

    close() {
      closed = true
      if (timer) clearTimeout(timer)
    },
  }

  const stored = db.latestCohort()
  if (
    stored &&
    stored.phase !== 'done' &&
    stored.phase !== 'aborted' &&
    stored.round === host.current().round
  ) {
    replay(stored)
    log('cohort %d (%s) resumed in phase %s', stored.cohort, stored.sessionId, stored.phase)
    arm()
    if (cohort.phase === 'unmask' && server.canFinish) void finish()
  } else {
    if (stored && stored.phase !== 'done' && stored.phase !== 'aborted') {
      cohort = stored
      abort(`round ${stored.round} closed without this cohort`)
    } else openCohort()
  }
  return coordinator
}

const ORDER: readonly SecAggPhase[] = ['advertise', 'share', 'mask', 'unmask', 'done', 'aborted']
