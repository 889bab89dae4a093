/** Submissions: an update's retry answered by its key, the checked update queued, and each batch written, counted and acknowledged (group commit). */
import { encodeUpdate, type ModelUpdate, parseUpdateAck, type UpdateAck } from '@fedrec/protocol'
import createDebug from 'debug'
import { logError } from '../error-log.ts'
import { StoreConflictError, type UpdateRecord } from '../store/index.ts'
import { hashClientId, logTag } from './client-hash.ts'
import { AggregatorError } from './errors.ts'
import { type AggregatorState, iso, roundTally } from './state.ts'
import { boundUpdate, checkUpdate } from './update-checks.ts'

const logUpdate = createDebug('fedrec:aggregator:update')

/**
 * Group commit: the updates accepted during one turn of the event loop are written in one transaction
 * (one fsync) at the next `setImmediate`, then counted, then acknowledged. While one batch is being
 * written the next one gathers, so the rate is not bounded by the disk's sync latency.
 */
interface Queued {
  record: UpdateRecord
  update: ModelUpdate
  ack: UpdateAck
  tag: string
  settle: { resolve: (ack: UpdateAck) => void; reject: (err: unknown) => void }
  done: Promise<UpdateAck>
}

/**
 * The open round's intake of plain updates.
 * @example const ack = await submissions.submit(bytes, decodeUpdate(bytes))
 */
export interface Submissions {
  /**
   * Checks one update and queues it, under the aggregator's lock (so a second update of its client cannot
   * pass the checks meanwhile); resolves with its ack once it is durable and counted.
   */
  submit(bytes: Uint8Array, update: ModelUpdate): Promise<UpdateAck>
  /** Writes the queued updates in one transaction, counts them, acknowledges them. Call under the lock. */
  commitQueue(): Promise<void>
}

/** The updates accepted since the last write: one batch, with its lookups by key and by client. */
interface PendingBatch {
  entries: Queued[]
  byKey: Map<string, Queued>
  clients: Set<string>
  flushScheduled: boolean
}

/** `closeOnQuorum` runs after every written batch, in the batch's section of the lock. */
export function createSubmissions(
  s: AggregatorState,
  closeOnQuorum: () => Promise<void>,
  refresh: () => Promise<unknown>,
): Submissions {
  const batch: PendingBatch = { entries: [], byKey: new Map(), clients: new Set(), flushScheduled: false }
  const commitQueue = (): Promise<void> => commitBatch(s, batch)
  const flush = (): Promise<void> =>
    s.serial('group commit', async () => {
      batch.flushScheduled = false
      if (s.closed) return
      await commitQueue()
      await closeOnQuorum()
    })
  // Scheduled from inside an upload's section, run in a section of its own once that one has ended.
  const schedule = (): void => {
    s.serial.detach(() =>
      setImmediate(() => {
        // commitBatch settles every update it takes and closeOnQuorum logs its own failure: what reaches
        // here is a bug, logged rather than left as an unhandled rejection.
        flush().catch((err: unknown) => logError('updates_flush_failed', err, { round: s.round.round }))
      }),
    )
  }
  return {
    async submit(bytes, update) {
      // The section answers with a box: returning `done` itself would make the section wait for the flush,
      // which waits for the section.
      const { done } = await s.serial('upload', async () => {
        // Replicas: the round may have moved on at another one.
        await refresh()
        return enqueue(s, batch, bytes, update, schedule)
      })
      return done
    },
    commitQueue,
  }
}

/** The answer to a key seen before (an ack, or a refusal), or undefined for a new key. */
async function answerRetry(
  s: AggregatorState,
  batch: PendingBatch,
  update: ModelUpdate,
  clientHash: string,
  tag: string,
): Promise<{ done: Promise<UpdateAck> } | undefined> {
  const prior = await s.store.findUpdate(update.idempotencyKey)
  const queued = batch.byKey.get(update.idempotencyKey)
  const discarded = prior || queued ? undefined : await s.store.findDiscarded(update.idempotencyKey)
  const priorHash = prior?.clientHash ?? queued?.record.clientHash ?? discarded?.clientHash
  if (priorHash === undefined) return undefined
  if (priorHash !== clientHash) {
    throw new AggregatorError(
      'idempotency_conflict',
      'this idempotency key was used before by another client; use a fresh random key per update',
    )
  }
  if (discarded) {
    // Not a duplicate ack (it no longer counts) and not a fresh acceptance (an automatic retry would
    // bring back exactly what the operator threw out): the client decides to contribute anew.
    logUpdate('client %s: retry of an update discarded by a reset of round %d', tag, discarded.round)
    throw new AggregatorError(
      'round_reset',
      `this update was discarded: the operator reset round ${discarded.round} after accepting it, so it no longer counts; fetch /v1/round and /v1/model, train again and send a new update under a new idempotency key`,
    )
  }
  logUpdate('client %s: retry of an accepted update, answering its ack', tag)
  if (prior) return { done: Promise.resolve({ ...parseUpdateAck(JSON.parse(prior.ack)), duplicate: true }) }
  return { done: queued!.done.then((ack) => ({ ...ack, duplicate: true })) }
}

/**
 * Checks one update and adds it to the batch, written by the flush that `schedule` arms; `done` settles then.
 * Runs under the lock: from the first check to the push into the batch nothing else changes the round.
 */
async function enqueue(
  s: AggregatorState,
  batch: PendingBatch,
  bytes: Uint8Array,
  update: ModelUpdate,
  schedule: () => void,
): Promise<{ done: Promise<UpdateAck> }> {
  // Before anything else: an ack for an update written into a deleted store would be a lie.
  await s.store.checkPresent()
  const clientHash = hashClientId(s.salt, update.clientId)
  const tag = logTag(clientHash)
  const retried = await answerRetry(s, batch, update, clientHash, tag)
  if (retried) {
    // Replicas: the replica that stored it may have died before closing the round its update completed;
    // a retry here checks the quorum again (the flush of an empty batch only runs closeOnQuorum).
    if (s.store.shared && !batch.flushScheduled) {
      batch.flushScheduled = true
      schedule()
    }
    return retried
  }
  const { accumulator, round, opts } = s
  if (!accumulator) throw new AggregatorError('empty_catalogue', 'the model has no items yet')
  try {
    await checkUpdate(s, update, clientHash)
  } catch (err) {
    // Replicas: another replica may have committed this very update (the same key, sent to both at once)
    // between answerRetry's lookup and this check; then it is a retry, answered with that replica's ack.
    const late =
      s.store.shared && err instanceof AggregatorError && err.code === 'already_submitted'
        ? await answerRetry(s, batch, update, clientHash, tag)
        : undefined
    if (late) return late
    throw err
  }
  if (batch.clients.has(clientHash)) {
    throw new AggregatorError(
      'already_submitted',
      `this client already has an accepted update in round ${round.round}; wait for the next round`,
    )
  }
  const bounded = boundUpdate(opts, update)
  if (bounded.clipped) logUpdate('client %s: update norm clipped to %d', tag, bounded.norm)
  const ack: UpdateAck = {
    accepted: true,
    round: round.round,
    modelVersion: s.model.version,
    idempotencyKey: update.idempotencyKey,
    duplicate: false,
    participants: (await roundTally(s)).participants + batch.entries.length + 1,
  }
  let settle!: Queued['settle']
  const done = new Promise<UpdateAck>((resolve, reject) => {
    settle = { resolve, reject }
  })
  const entry: Queued = {
    record: {
      idempotencyKey: update.idempotencyKey,
      clientHash,
      round: round.round,
      sampleCount: update.sampleCount,
      // What is counted is what is stored, so a replay after a crash counts the same (clipped) update.
      payload: bounded.clipped ? encodeUpdate(bounded.update) : bytes,
      ack: JSON.stringify(ack),
      receivedAt: iso(opts.now()),
      norm: bounded.norm,
      clipped: bounded.clipped,
    },
    update: bounded.update,
    ack,
    tag,
    settle,
    done,
  }
  batch.entries.push(entry)
  batch.byKey.set(update.idempotencyKey, entry)
  batch.clients.add(clientHash)
  if (!batch.flushScheduled) {
    batch.flushScheduled = true
    schedule()
  }
  return { done }
}

/** Writes the batch in one transaction, counts it, acknowledges it. Runs under the lock. */
async function commitBatch(s: AggregatorState, batch: PendingBatch): Promise<void> {
  if (batch.entries.length === 0) return
  const entries = batch.entries
  batch.entries = []
  batch.byKey.clear()
  batch.clients.clear()
  let written: Queued[]
  try {
    // Durable first, counted second: a crash in between is healed by the replay at start.
    if (s.store.shared) written = await writeShared(s, entries)
    else {
      await s.store.transaction(async (tx) => {
        for (const q of entries) await tx.insertUpdate(q.record)
      })
      written = entries
    }
  } catch (err) {
    logError('updates_write_failed', err, { round: s.round.round, updates: entries.length })
    for (const q of entries) q.settle.reject(err)
    return
  }
  const counted: Queued[] = []
  for (const q of written) {
    if (s.store.shared) {
      // Replicas: the store counts (the closer rebuilds the sum from it), not this process's accumulator.
      counted.push(q)
      continue
    }
    try {
      s.accumulator!.add(q.update)
    } catch (err) {
      // checkUpdateFits passed, so this is not expected; never keep an update that was not counted.
      await s.store.deleteUpdate(q.record.idempotencyKey)
      q.settle.reject(err)
      continue
    }
    logUpdate(
      'client %s: update accepted for round %d (%d samples, %d/%d participants)',
      q.tag,
      q.record.round,
      q.record.sampleCount,
      q.ack.participants,
      s.opts.minClients,
    )
    counted.push(q)
  }
  // The acks go out once the section that wrote them has ended (the next section of the lock), so that a
  // client that hears its ack sees what followed from it: the round its update completed is closed by then.
  if (counted.length > 0) {
    s.serial.detach(() => {
      // The section only resolves promises: it cannot reject.
      void s.serial('acknowledge', async () => {
        for (const q of counted) q.settle.resolve(q.ack)
      })
    })
  }
}

/**
 * Replicas: the batch written in one transaction holding its round's row FOR SHARE, so that no close (which
 * takes it FOR UPDATE) runs between the check that the round is open and the commit. An update whose round
 * another replica closed meanwhile is refused with `round_closed`. A key or client another replica stored
 * first (a unique constraint: StoreConflictError) ends the transaction: the batch is then written one update
 * at a time, and each refused one answered as its retry would be. Resolves with the updates written.
 */
async function writeShared(s: AggregatorState, entries: Queued[]): Promise<Queued[]> {
  try {
    return await insertLocked(s, entries)
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err
  }
  const written: Queued[] = []
  for (const q of entries) {
    try {
      written.push(...(await insertLocked(s, [q])))
    } catch (err) {
      if (err instanceof StoreConflictError) await answerConflict(s, q)
      else {
        logError('updates_write_failed', err, { round: q.record.round, updates: 1 })
        q.settle.reject(err)
      }
    }
  }
  return written
}

async function insertLocked(s: AggregatorState, entries: Queued[]): Promise<Queued[]> {
  const closed: Queued[] = []
  const written = await s.store.transaction(async (tx) => {
    const open = new Map<number, boolean>()
    const inserted: Queued[] = []
    for (const q of entries) {
      const { round } = q.record
      let isOpen = open.get(round)
      if (isOpen === undefined) {
        isOpen = (await tx.lockOpenRound(round, 'share')) !== undefined
        open.set(round, isOpen)
      }
      if (!isOpen) {
        closed.push(q)
        continue
      }
      await tx.insertUpdate(q.record)
      inserted.push(q)
    }
    return inserted
  })
  for (const q of closed)
    q.settle.reject(
      new AggregatorError(
        'round_closed',
        `round ${q.record.round} closed (at another replica) while this update was being written: fetch /v1/round and /v1/model, retrain, and send a new update`,
      ),
    )
  return written
}

/** An update another replica's write beat: its key's ack when the same client sent it, else the refusal its retry would get. */
async function answerConflict(s: AggregatorState, q: Queued): Promise<void> {
  try {
    const prior = await s.store.findUpdate(q.record.idempotencyKey)
    if (prior === undefined)
      throw new AggregatorError(
        'already_submitted',
        `this client already has an accepted update in round ${q.record.round}; wait for the next round`,
      )
    if (prior.clientHash !== q.record.clientHash)
      throw new AggregatorError(
        'idempotency_conflict',
        'this idempotency key was used before by another client; use a fresh random key per update',
      )
    logUpdate('client %s: the same update was stored by another replica, answering its ack', q.tag)
    q.settle.resolve({ ...parseUpdateAck(JSON.parse(prior.ack)), duplicate: true })
  } catch (err) {
    q.settle.reject(err)
  }
}
