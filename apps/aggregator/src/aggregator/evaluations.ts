/** Federated evaluation: a report on a recent model version, counted once per participating client and version. */
import type { EvaluationReport } from '@fedrec/protocol'
import createDebug from 'debug'
import { StoreConflictError } from '../store/index.ts'
import { hashClientId } from './client-hash.ts'
import { AggregatorError } from './errors.ts'
import { type AggregatorState, iso } from './state.ts'

const logModel = createDebug('fedrec:aggregator:model')

/**
 * Evaluation reports are taken for the current model version and this many before it: a client may
 * evaluate the model it downloaded after the round moved on, but a report on a long-gone model says
 * nothing about the current one.
 */
export const EVALUATION_WINDOW = 10

/**
 * Counts one report (idempotent by its key): the checks and the write behind `Aggregator.evaluate`, under
 * the aggregator's lock (two reports of one client cannot both pass "already evaluated?").
 * @throws AggregatorError `evaluation_users_too_large`, `unknown_model_version`, `evaluation_too_old`,
 * `bad_evaluation_round`, `idempotency_conflict`, `not_a_participant`, `already_evaluated`
 */
export async function evaluate(
  s: AggregatorState,
  report: EvaluationReport,
): Promise<{ accepted: true; modelVersion: number; duplicate: boolean }> {
  const { store, opts, model, round } = s
  if (report.users > opts.maxEvaluationUsers) {
    throw new AggregatorError(
      'evaluation_users_too_large',
      `the report claims ${report.users} users; this aggregator takes at most ${opts.maxEvaluationUsers} per report (--max-evaluation-users): send one report per evaluated shopper`,
    )
  }
  if (report.modelVersion > model.version) {
    throw new AggregatorError(
      'unknown_model_version',
      `model version ${report.modelVersion} has not been published; the current one is ${model.version}: evaluate the model from /v1/model`,
    )
  }
  if (report.modelVersion < model.version - EVALUATION_WINDOW) {
    throw new AggregatorError(
      'evaluation_too_old',
      `model version ${report.modelVersion} is no longer evaluated (the current one is ${model.version}, reports are taken for the last ${EVALUATION_WINDOW + 1}); fetch /v1/model and evaluate that`,
    )
  }
  if (report.round < report.modelVersion || report.round > round.round) {
    throw new AggregatorError(
      'bad_evaluation_round',
      `round ${report.round} cannot have evaluated model version ${report.modelVersion} (version v is published when round v opens; the current round is ${round.round})`,
    )
  }
  await store.checkPresent()
  const clientHash = hashClientId(s.salt, report.clientId)
  const retried = await answerRetry(s, report, clientHash)
  if (retried) return retried
  // Anyone can post a report; only a client that trained with the others may say how good the model is.
  if (!(await tookPart(s, clientHash, report.modelVersion))) {
    throw new AggregatorError(
      'not_a_participant',
      `this client has no accepted update in round ${report.modelVersion - 1} or ${report.modelVersion} (the rounds that published and trained on model version ${report.modelVersion}): only clients that took part may report; send the client id of your accepted upload, after its ack`,
    )
  }
  const alreadyEvaluated = () =>
    new AggregatorError(
      'already_evaluated',
      `this client has already reported on model version ${report.modelVersion}: one report per client and version (a retry must reuse its idempotency key)`,
    )
  if (await store.hasClientEvaluated(report.modelVersion, clientHash)) {
    // Replicas: another replica may have stored this very report since the lookup above.
    const late = store.shared ? await answerRetry(s, report, clientHash) : undefined
    if (late) return late
    throw alreadyEvaluated()
  }
  try {
    await store.insertEvaluation({ ...report, clientHash, receivedAt: iso(opts.now()) })
  } catch (err) {
    // Replicas: another replica stored this report, or another of this client for this version, first.
    if (!(err instanceof StoreConflictError)) throw err
    const late = await answerRetry(s, report, clientHash)
    if (late) return late
    throw alreadyEvaluated()
  }
  logModel('evaluation report for model version %d: %d users', report.modelVersion, report.users)
  return { accepted: true, modelVersion: report.modelVersion, duplicate: false }
}

/** The answer to a report key seen before, or undefined for a new key. */
async function answerRetry(
  s: AggregatorState,
  report: EvaluationReport,
  clientHash: string,
): Promise<{ accepted: true; modelVersion: number; duplicate: true } | undefined> {
  const prior = await s.store.findEvaluation(report.idempotencyKey)
  if (!prior) return undefined
  if (prior.clientHash !== clientHash)
    throw new AggregatorError(
      'idempotency_conflict',
      'this idempotency key was used before by another report; use a fresh random key per report',
    )
  return { accepted: true, modelVersion: prior.modelVersion, duplicate: true }
}

/**
 * A client took part in model version v when an update of it was accepted in round v − 1 (which published
 * v) or round v (which trains on v): plainly, or in the sum of a secure-aggregation cohort.
 */
async function tookPart(s: AggregatorState, clientHash: string, modelVersion: number): Promise<boolean> {
  for (const r of [modelVersion - 1, modelVersion]) {
    if (r < 0) continue
    if (await s.store.hasClientSubmitted(r, clientHash)) return true
    if ((await s.secagg?.tookPart(r, clientHash)) === true) return true
  }
  return false
}
