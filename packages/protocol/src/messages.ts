// The protocol's JSON bodies (secure aggregation's are in secagg-messages.ts), as schemas and as checked
// parsers for bodies that arrive as `unknown`.
import * as v from 'valibot'
import { UPDATE_DTYPES } from './constants.ts'
import { ProtocolError } from './errors.ts'
import { SecAggConfigSchema } from './secagg-messages.ts'

const count = v.pipe(v.number(), v.integer(), v.minValue(0))
const positive = v.pipe(v.number(), v.finite(), v.minValue(0))

/** Settings the aggregator hands every client for one round of local training. */
export const RoundConfigSchema = v.object({
  /** FedProx μ; 0 is plain FedAvg. */
  mu: positive,
  localEpochs: v.pipe(v.number(), v.integer(), v.minValue(1)),
  learningRate: v.pipe(v.number(), v.finite(), v.gtValue(0)),
  negativesPerPositive: v.pipe(v.number(), v.integer(), v.minValue(1)),
  batchSize: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Largest n_k the aggregator accepts from one client. */
  maxSampleCount: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** The round closes at this instant (ISO 8601) unless quorum closes it first. */
  deadline: v.pipe(v.string(), v.isoTimestamp()),
  /** Updates needed to close the round before its deadline. */
  minClients: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** L2 on the trained embedding rows (absent: the client library's default). */
  l2: v.optional(positive),
  /** The shopper's state: the last `contextLength` items, each step back in time worth `recency`. */
  contextLength: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
  recency: v.optional(v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(1))),
  /** Keep and train a private per-device vector added to the shopper's state (absent: false). */
  privateVector: v.optional(v.boolean()),
  /** At most this many next-item examples per client round, drawn at random (absent: the library's default). */
  maxTargets: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /**
   * With item features, true: a sampled negative trains the shared feature rows only, not its own id row and
   * bias (absent: false, the plain gradient; the aggregator's `--negative-id-rows off`).
   */
  negativesOnFeatures: v.optional(v.boolean()),
  /** Row padding: pseudo-items per real item in every upload (absent or 0: none; docs/privacy.md). */
  padRatio: v.optional(positive),
  /** DP-FedAvg (present only when the aggregator runs it): clip the update's L2 norm to this before upload. */
  clipNorm: v.optional(v.pipe(v.number(), v.finite(), v.gtValue(0))),
  /** Present when the round is secure-aggregated: clients join a cohort instead of posting `/v1/updates`. */
  secureAggregation: v.optional(SecAggConfigSchema),
  /**
   * How clients encode their deltas (`encodeUpdate`'s `dtype`): 'f16' halves the upload. Absent (an
   * aggregator that predates float16 uploads): 'f32', the only format such an aggregator reads.
   */
  updateDtype: v.optional(v.picklist(UPDATE_DTYPES)),
})
export type RoundConfig = v.InferOutput<typeof RoundConfigSchema>

/** `GET /v1/round`. */
export const RoundInfoSchema = v.object({
  round: count,
  modelVersion: count,
  numItems: count,
  dim: v.pipe(v.number(), v.integer(), v.minValue(1)),
  config: RoundConfigSchema,
})
export type RoundInfo = v.InferOutput<typeof RoundInfoSchema>

/** `POST /v1/updates` answer once the update is durable. */
export const UpdateAckSchema = v.object({
  accepted: v.literal(true),
  round: count,
  modelVersion: count,
  idempotencyKey: v.string(),
  /** True when this key had been accepted before: the update was counted once, earlier. */
  duplicate: v.boolean(),
  /** Updates accepted so far in this round, this one included. */
  participants: count,
})
export type UpdateAck = v.InferOutput<typeof UpdateAckSchema>

/** Every error answer of the aggregator. */
export const ErrorBodySchema = v.object({
  error: v.object({ code: v.string(), message: v.string() }),
})
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>

const randomId = v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/))

/**
 * `POST /v1/evaluations`: one client's federated-evaluation sums for the global model it downloaded. The
 * client ranks its own held-out item locally; only these sums leave the device, never the item or its rank.
 * Only a client that took part may report: `clientId` must be the client id of an update the aggregator
 * accepted in the round that trained on `modelVersion` or in the one that published it, and each client
 * reports at most once per model version.
 * @example { round: 3, modelVersion: 3, clientId, idempotencyKey, users: 1, hits10: 1, ndcg10: 0.63 }
 */
export const EvaluationReportSchema = v.pipe(
  v.object({
    round: count,
    modelVersion: count,
    /**
     * The installation's id, as in its update uploads (32 hex digits). It is what binds the report to an
     * accepted update: a report from a client without one is refused (`not_a_participant`).
     */
    clientId: randomId,
    /** A fresh random id per report: a retried report is counted once. */
    idempotencyKey: randomId,
    /** Held-out items ranked (1 for one shopper; more when a client reports for several profiles). */
    users: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)),
    /** How many of them ranked in the top 10 (a count: a fraction is not a hit). */
    hits10: v.pipe(v.number(), v.integer(), v.minValue(0)),
    /** Sum of NDCG@10 over them. */
    ndcg10: v.pipe(v.number(), v.finite(), v.minValue(0)),
  }),
  v.check((r) => r.hits10 <= r.users && r.ndcg10 <= r.users, 'hits10 and ndcg10 must not exceed users'),
)
export type EvaluationReport = v.InferOutput<typeof EvaluationReportSchema>

/** `POST /v1/evaluations` answer once the report is durable; a retried key gets `duplicate: true`. */
export const EvaluationAckSchema = v.object({
  accepted: v.literal(true),
  modelVersion: count,
  duplicate: v.boolean(),
})
export type EvaluationAck = v.InferOutput<typeof EvaluationAckSchema>

/** Federated evaluation of one model version: the mean of what clients reported. */
export const EvaluationSummarySchema = v.object({
  modelVersion: count,
  users: count,
  hr10: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1)),
  ndcg10: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1)),
})
export type EvaluationSummary = v.InferOutput<typeof EvaluationSummarySchema>

/** One closed round, as `GET /v1/status` lists it. */
export const RoundSummarySchema = v.object({
  round: count,
  modelVersion: count,
  participants: count,
  samples: count,
  openedAt: v.string(),
  closedAt: v.string(),
  closedBy: v.picklist(['quorum', 'deadline']),
  /** L2 norm of the aggregated pseudo-gradient applied by the server optimizer. */
  updateNorm: v.pipe(v.number(), v.finite()),
  /** L2 norms of the accepted client updates of this round (after clipping, if clipping is on). */
  clientUpdateNorm: v.object({ mean: v.pipe(v.number(), v.finite()), max: v.pipe(v.number(), v.finite()) }),
  /** Accepted updates of this round whose norm the aggregator clipped to its bound (`--max-update-norm`). */
  clipped: v.optional(count),
  /** Operator resets of this round (`POST /v1/round/reset`); each discarded its accepted updates. */
  resets: v.optional(count),
  /** DP: ε spent after this round at the current δ (absent: the round released its model without DP). */
  epsilon: v.optional(v.pipe(v.number(), v.minValue(0))),
  /** Accepted updates those resets discarded (not in `participants`). */
  discarded: v.optional(count),
})
export type RoundSummary = v.InferOutput<typeof RoundSummarySchema>

/**
 * The aggregator's differential-privacy account (`GET /v1/status`). ε covers the rounds closed with DP;
 * `unprotectedRounds` counts the rounds that published a model from updates without it, for which no ε holds.
 * @example { mechanism: 'gaussian', noiseMultiplier: 1, clipNorm: 0.5, delta: 1e-5, sampleRate: 1, epsilon: 4.2, rounds: 10, unprotectedRounds: 0 }
 */
export const PrivacySchema = v.object({
  /** 'gaussian': DP-FedAvg is on for the open round; 'none': it is off. */
  mechanism: v.picklist(['gaussian', 'none']),
  noiseMultiplier: v.nullable(v.pipe(v.number(), v.finite(), v.minValue(0))),
  clipNorm: v.nullable(v.pipe(v.number(), v.finite(), v.gtValue(0))),
  delta: v.pipe(v.number(), v.gtValue(0), v.ltValue(1)),
  /** q the accountant assumes for the open round: expected cohort / population (1: no amplification). */
  sampleRate: v.nullable(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  /** ε at `delta` over every DP round so far (null: infinite, a round ran with σ = 0). */
  epsilon: v.nullable(v.pipe(v.number(), v.minValue(0))),
  /** Rounds closed with DP (composed by the accountant). */
  rounds: count,
  /** Rounds that published a model from client updates without DP. */
  unprotectedRounds: count,
})
export type Privacy = v.InferOutput<typeof PrivacySchema>

/**
 * `GET /v1/status` without the operator token: what anyone may read. No figure of a round comes before the
 * round has closed with at least the quorum, so polling it while clients upload tells nothing about one of
 * them: the open round's participants and samples, rounds closed below the quorum, rejections and the
 * evaluations of versions still taking reports are in the operator's {@link Status} only.
 * @example const { modelVersion, history } = parsePublicStatus(await (await fetch('/v1/status')).json())
 */
export const PublicStatusSchema = v.object({
  round: count,
  modelVersion: count,
  numItems: count,
  dim: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Rows F of the model's hashed item-feature table; absent for an id-only model. */
  featureRows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  modelBytes: count,
  serverOptimizer: v.string(),
  config: RoundConfigSchema,
  /** Closed rounds with at least the quorum of participants (rounds below it are left out). */
  history: v.array(RoundSummarySchema),
  /** Model versions that no longer take reports, evaluated by at least the quorum of clients. */
  evaluations: v.array(EvaluationSummarySchema),
  privacy: v.optional(PrivacySchema),
})
export type PublicStatus = v.InferOutput<typeof PublicStatusSchema>

/**
 * `GET /v1/status` with the operator token (`Authorization: Bearer <token>`): everything, live — the public
 * view's fields, where `history` holds every closed round and `evaluations` every version's reports, plus
 * the open round's figures and the rejections.
 */
export const StatusSchema = v.object({
  ...PublicStatusSchema.entries,
  participants: count,
  samples: count,
  /** Rejected updates since the store was created, by error code (`bad_format`, `stale_model`, …). */
  rejections: v.record(v.string(), count),
  /** Operator resets of the open round so far (`POST /v1/round/reset`). */
  resets: v.optional(count),
  /** Accepted updates of the open round that those resets discarded (not in `participants`). */
  discarded: v.optional(count),
})
export type Status = v.InferOutput<typeof StatusSchema>

function parseWith<const S extends v.GenericSchema>(
  schema: S,
  what: string,
  input: unknown,
): v.InferOutput<S> {
  const result = v.safeParse(schema, input)
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = issue.path?.map((p) => String(p.key)).join('.') ?? '(root)'
  throw new ProtocolError('bad_message', `${what}: ${path}: ${issue.message}`)
}

/** Checks a decoded `GET /v1/round` body. @example const info = parseRoundInfo(await res.json()) */
export const parseRoundInfo = (input: unknown): RoundInfo => parseWith(RoundInfoSchema, 'round info', input)
/** Checks a decoded `POST /v1/updates` success body. */
export const parseUpdateAck = (input: unknown): UpdateAck => parseWith(UpdateAckSchema, 'update ack', input)
/** Checks a decoded error body. */
export const parseErrorBody = (input: unknown): ErrorBody => parseWith(ErrorBodySchema, 'error body', input)
/** Checks a decoded `POST /v1/evaluations` body. */
export const parseEvaluationReport = (input: unknown): EvaluationReport =>
  parseWith(EvaluationReportSchema, 'evaluation report', input)
/** Checks a decoded `POST /v1/evaluations` success body. */
export const parseEvaluationAck = (input: unknown): EvaluationAck =>
  parseWith(EvaluationAckSchema, 'evaluation ack', input)
/** Checks a decoded `GET /v1/status` body answered to the operator token. */
export const parseStatus = (input: unknown): Status => parseWith(StatusSchema, 'status', input)
/**
 * Checks a decoded `GET /v1/status` body answered without a token (an operator's answer passes too: it
 * holds every public field). @example const { modelVersion } = parsePublicStatus(await res.json())
 */
export const parsePublicStatus = (input: unknown): PublicStatus =>
  parseWith(PublicStatusSchema, 'public status', input)
/** True when `input` is an aggregator error body. */
export const isErrorBody = (input: unknown): input is ErrorBody => v.is(ErrorBodySchema, input)
