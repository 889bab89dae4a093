// After each HTTP round: every evaluated shopper ranks its held-out item locally and reports only its sums.
import { type SequenceSettings, sequenceQuery } from '@fedrec/core/client'
import {
  newRandomId,
  type ProtocolClient,
  parseEvaluationReport,
  RejectedError,
  type RoundInfo,
} from '@fedrec/protocol'
import createDebug from 'debug'
import { contextOf, evaluateOne, type MetricSums, scoreRow } from './evaluate.ts'
import { type Model, toModel } from './http-model.ts'
import type { Progress } from './round-record.ts'
import type { SplitDataset } from './split.ts'

const log = createDebug('fedrec:simulator:http')

/** Evaluation reports are posted this many at a time: many shoppers, one loopback server. */
const REPORT_CONCURRENCY = 16

/** Each shopper's own evaluation on the model, in model rows; the per-shopper sums are what it reports. */
export function evaluateHere(
  split: SplitDataset,
  model: Model,
  vectors: (Float32Array | undefined)[],
  settings: SequenceSettings,
) {
  const test: MetricSums = { users: 0, hits10: 0, ndcg10: 0 }
  const validation: MetricSums = { users: 0, hits10: 0, ndcg10: 0 }
  const perUser: { index: number; hits10: number; ndcg10: number }[] = []
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    // An item the model does not know scores -Infinity: it cannot be recommended.
    const scorer = (which: 'test' | 'validation') => {
      const query = sequenceQuery(model.weights, toModel(model, contextOf(user, which)), {
        settings,
        ...(vectors[index] ? { privateVector: vectors[index] } : {}),
      })
      return (row: number) => {
        const r = model.modelRow[row]
        return r === undefined ? Number.NEGATIVE_INFINITY : scoreRow(model.weights, query, r)
      }
    }
    const t = evaluateOne(scorer('test'), user.test!, user.negatives)
    const v = evaluateOne(scorer('validation'), user.validation!, user.negatives)
    test.users += 1
    test.hits10 += t.hit
    test.ndcg10 += t.ndcg
    validation.users += 1
    validation.hits10 += v.hit
    validation.ndcg10 += v.ndcg
    perUser.push({ index, hits10: t.hit, ndcg10: t.ndcg })
  }
  return { test, validation, perUser }
}

/** Posts one report per participating shopper; returns true when the aggregator has no such endpoint (404). */
export async function postEvaluations(
  client: ProtocolClient,
  info: RoundInfo,
  modelVersion: number,
  perUser: { clientId: string; hits10: number; ndcg10: number }[],
  progress: Progress,
): Promise<boolean> {
  let missing = false
  for (let start = 0; start < perUser.length && !missing; start += REPORT_CONCURRENCY) {
    await Promise.all(
      perUser.slice(start, start + REPORT_CONCURRENCY).map(async (u) => {
        const report = parseEvaluationReport({
          round: info.round,
          modelVersion,
          clientId: u.clientId,
          idempotencyKey: newRandomId(),
          users: 1,
          hits10: u.hits10,
          ndcg10: u.ndcg10,
        })
        try {
          await client.postEvaluation(report)
        } catch (err) {
          // An aggregator without the endpoint: warned about once, the local sums are kept either way.
          if (err instanceof RejectedError && err.status === 404) {
            missing = true
            return
          }
          throw err
        }
      }),
    )
  }
  if (missing)
    progress.warn?.(
      'the aggregator has no POST /v1/evaluations (404); federated metrics are summed locally only',
    )
  log('posted %d evaluation reports for model v%d', perUser.length, modelVersion)
  return missing
}
