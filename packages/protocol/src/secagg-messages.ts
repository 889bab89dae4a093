// Secure aggregation on the wire (Bonawitz et al., CCS 2017): the JSON messages of its four phases and the
// binary masked input. The cryptography lives in @fedrec/core's secagg; these schemas only bound what a
// client may send, so that a hostile one cannot make the aggregator allocate much or relay nonsense.
import * as v from 'valibot'
import { ProtocolError } from './errors.ts'

/** Media type of a masked input: the Uint32 elements of the dense secagg vector, little-endian, nothing else. */
export const SECAGG_MASKED_MEDIA_TYPE = 'application/vnd.fedrec.secagg-masked'

/** Largest cohort the wire allows: Shamir sharing over GF(256) has 255 x-coordinates. */
export const SECAGG_MAX_COHORT = 255
/** Longest base64url public key (a raw P-256 point is 65 bytes, 87 characters; room for other encodings). */
export const SECAGG_MAX_KEY_CHARS = 256
/** Longest base64url ciphertext of the shares one member encrypts for another (today 82 bytes, 110 characters). */
export const SECAGG_MAX_CIPHERTEXT_CHARS = 512
/** Longest base64url AES-GCM iv (12 bytes, 16 characters). */
export const SECAGG_MAX_IV_CHARS = 32
/** Longest base64url Shamir share revealed while unmasking (today 33 bytes, 44 characters). */
export const SECAGG_MAX_SHARE_CHARS = 256

/** The phases of a cohort, in order; `done` and `aborted` are final. */
export const SECAGG_PHASES = ['advertise', 'share', 'mask', 'unmask', 'done', 'aborted'] as const
export type SecAggPhase = (typeof SECAGG_PHASES)[number]

const count = v.pipe(v.number(), v.integer(), v.minValue(0))
/** A member's id in its cohort (1…65535, unique in the cohort). */
const memberIndex = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535))
const b64url = (max: number) =>
  v.pipe(v.string(), v.minLength(1), v.maxLength(max), v.regex(/^[A-Za-z0-9_-]+$/))
const hex32 = v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/))
const iso = v.pipe(v.string(), v.isoTimestamp())
const indexList = v.pipe(v.array(memberIndex), v.maxLength(SECAGG_MAX_COHORT))
const sessionId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,128}$/))

/**
 * The round-config block of a secure-aggregated round (absent in a plain one): a client then joins a cohort
 * instead of posting `/v1/updates`.
 * @example { minCohort: 5, maxCohort: 100, threshold: 3, phaseTimeoutSeconds: 30 }
 */
export const SecAggConfigSchema = v.pipe(
  v.object({
    /** Members a cohort needs before it leaves the advertise phase. */
    minCohort: v.pipe(v.number(), v.integer(), v.minValue(3), v.maxValue(SECAGG_MAX_COHORT)),
    /** A cohort that reaches this many members starts at once. */
    maxCohort: v.pipe(v.number(), v.integer(), v.minValue(3), v.maxValue(SECAGG_MAX_COHORT)),
    /**
     * Smallest t of the t-of-n secret sharing: survivors needed to unmask. A cohort of n members uses
     * max(threshold, ⌊n/2⌋ + 1), so a majority is always needed.
     */
    threshold: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(SECAGG_MAX_COHORT)),
    /** Each phase ends at the latest this long after it began. */
    phaseTimeoutSeconds: v.pipe(v.number(), v.finite(), v.gtValue(0)),
  }),
  v.check((c) => c.minCohort <= c.maxCohort, 'minCohort must not exceed maxCohort'),
  v.check((c) => c.threshold <= c.minCohort, 'threshold must not exceed minCohort'),
)
export type SecAggConfig = v.InferOutput<typeof SecAggConfigSchema>

/**
 * `GET /v1/secagg`: the cohort that is forming or running in the open round (public, no member secrets).
 * @example { round: 4, modelVersion: 4, cohort: 9, cohortId: 'r4c9', phase: 'advertise', members: 2, … }
 */
export const SecAggStateSchema = v.object({
  round: count,
  modelVersion: count,
  cohort: count,
  /** The session id bound into every key derivation of the cohort: masks never repeat across cohorts. */
  sessionId,
  phase: v.picklist(SECAGG_PHASES),
  /** The current phase ends at the latest at this instant. */
  phaseDeadline: iso,
  members: count,
  config: SecAggConfigSchema,
  /** Why the cohort aborted (when `phase` is `aborted`). */
  abortReason: v.optional(v.string()),
})
export type SecAggState = v.InferOutput<typeof SecAggStateSchema>

/**
 * `POST /v1/secagg/join` (AdvertiseKeys): a client trained for `round` on `modelVersion` and asks to join
 * the forming cohort with its two public keys. `token` is a fresh random secret of this client for this
 * cohort: later requests carry it as `Authorization: Bearer <token>` (the server keeps only its hash).
 */
export const SecAggJoinSchema = v.object({
  round: count,
  modelVersion: count,
  cohort: count,
  clientId: hex32,
  /**
   * This client's id in the cohort, 1…65535, drawn at random by the client (its key derivations are bound
   * to it before it can ask); a taken one is refused with `id_taken` and the client draws again.
   */
  id: memberIndex,
  token: hex32,
  /** Public key for encrypting shares to this member (ECDH P-256, base64url). */
  cPublicKey: b64url(SECAGG_MAX_KEY_CHARS),
  /** Public key for the pairwise masks (ECDH P-256, base64url). */
  sPublicKey: b64url(SECAGG_MAX_KEY_CHARS),
})
export type SecAggJoin = v.InferOutput<typeof SecAggJoinSchema>

/** `POST /v1/secagg/join` answer once the membership is durable; a retry of the same join gets `duplicate`. */
export const SecAggJoinAckSchema = v.object({
  cohort: count,
  sessionId,
  /** This member's id in the cohort, as joined: its place in the mask order. */
  id: memberIndex,
  duplicate: v.boolean(),
})
export type SecAggJoinAck = v.InferOutput<typeof SecAggJoinAckSchema>

/** One member as the roster lists it. */
export const SecAggRosterEntrySchema = v.object({
  id: memberIndex,
  cPublicKey: b64url(SECAGG_MAX_KEY_CHARS),
  sPublicKey: b64url(SECAGG_MAX_KEY_CHARS),
})
export type SecAggRosterEntry = v.InferOutput<typeof SecAggRosterEntrySchema>

const iv = b64url(SECAGG_MAX_IV_CHARS)
const ciphertext = b64url(SECAGG_MAX_CIPHERTEXT_CHARS)
/** One encrypted share, from the sender to `to` (ShareKeys) or as relayed to its recipient (`from`). */
const shareOut = v.object({ to: memberIndex, iv, ciphertext })
const shareIn = v.object({ from: memberIndex, iv, ciphertext })

/** `POST /v1/secagg/cohorts/:cohort/shares` (ShareKeys): one ciphertext for every other member of the roster. */
export const SecAggSharesSchema = v.object({
  /** SHA-256 commitment to the sender's self-mask seed (32 bytes), so a wrong reconstruction is detected. */
  seedCommitment: b64url(64),
  shares: v.pipe(v.array(shareOut), v.maxLength(SECAGG_MAX_COHORT)),
})
export type SecAggShares = v.InferOutput<typeof SecAggSharesSchema>

/** One revealed Shamir share of member `of`'s secret. */
const reveal = v.object({ of: memberIndex, share: b64url(SECAGG_MAX_SHARE_CHARS) })
const reveals = v.pipe(v.array(reveal), v.maxLength(SECAGG_MAX_COHORT))

/**
 * `POST /v1/secagg/cohorts/:cohort/unmask` (Unmasking): shares of the self-mask seeds of the members whose
 * masked input arrived (U3) and of the mask keys of those that shared but did not upload (U2 \ U3).
 */
export const SecAggUnmaskSchema = v.object({ selfMaskShares: reveals, keyShares: reveals })
export type SecAggUnmask = v.InferOutput<typeof SecAggUnmaskSchema>

/** Answer of shares, masked input and unmask posts once they are durable. */
export const SecAggAckSchema = v.object({
  accepted: v.literal(true),
  cohort: count,
  phase: v.picklist(SECAGG_PHASES),
  /** True when this exact message had been accepted before. */
  duplicate: v.boolean(),
})
export type SecAggAck = v.InferOutput<typeof SecAggAckSchema>

/**
 * `GET /v1/secagg/cohorts/:cohort/me` (with the member's bearer token): what this member needs for the
 * current phase — the roster while sharing, its inbox and U2 while masking, U2 and U3 while unmasking.
 */
export const SecAggViewSchema = v.object({
  cohort: count,
  sessionId,
  round: count,
  modelVersion: count,
  phase: v.picklist(SECAGG_PHASES),
  phaseDeadline: iso,
  /** t, fixed when the roster is (0 while the cohort is still forming). */
  threshold: count,
  id: memberIndex,
  /** What the server holds from this member so far. */
  shared: v.boolean(),
  uploaded: v.boolean(),
  unmasked: v.boolean(),
  /** Every member (phase `share`). */
  roster: v.optional(v.pipe(v.array(SecAggRosterEntrySchema), v.maxLength(SECAGG_MAX_COHORT))),
  /** The shares addressed to this member by the other members that shared (phase `mask`). */
  inbox: v.optional(v.pipe(v.array(shareIn), v.maxLength(SECAGG_MAX_COHORT))),
  /** The members whose masked input arrived: U3 (phase `unmask`). */
  survivors: v.optional(indexList),
  /** The members that shared but sent no masked input: U2 \ U3 (phase `unmask`). */
  dropped: v.optional(indexList),
  abortReason: v.optional(v.string()),
})
export type SecAggView = v.InferOutput<typeof SecAggViewSchema>

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

/** Checks a secure-aggregation config block (the aggregator's `--secagg-*` flags, `config.secureAggregation`). */
export const parseSecAggConfig = (input: unknown): SecAggConfig =>
  parseWith(SecAggConfigSchema, 'secure aggregation config', input)
/** Checks a `GET /v1/secagg` body. @example const state = parseSecAggState(await res.json()) */
export const parseSecAggState = (input: unknown): SecAggState =>
  parseWith(SecAggStateSchema, 'secagg state', input)
/** Checks a `POST /v1/secagg/join` body. */
export const parseSecAggJoin = (input: unknown): SecAggJoin =>
  parseWith(SecAggJoinSchema, 'secagg join', input)
/** Checks a `POST /v1/secagg/join` answer. */
export const parseSecAggJoinAck = (input: unknown): SecAggJoinAck =>
  parseWith(SecAggJoinAckSchema, 'secagg join ack', input)
/** Checks a `POST …/shares` body. */
export const parseSecAggShares = (input: unknown): SecAggShares =>
  parseWith(SecAggSharesSchema, 'secagg shares', input)
/** Checks a `POST …/unmask` body. */
export const parseSecAggUnmask = (input: unknown): SecAggUnmask =>
  parseWith(SecAggUnmaskSchema, 'secagg unmask', input)
/** Checks the answer of a shares, masked-input or unmask post. */
export const parseSecAggAck = (input: unknown): SecAggAck => parseWith(SecAggAckSchema, 'secagg ack', input)
/** Checks a `GET …/me` body. */
export const parseSecAggView = (input: unknown): SecAggView =>
  parseWith(SecAggViewSchema, 'secagg view', input)

/**
 * A masked input's body as the Uint32 vector it is: exactly `length` little-endian elements.
 * @throws ProtocolError `shape_mismatch` for any other size
 * @example const y = decodeMaskedInput(new Uint8Array(await req.arrayBuffer()), secAggVectorLength(n, d))
 */
export function decodeMaskedInput(bytes: Uint8Array, length: number): Uint32Array {
  if (bytes.byteLength !== length * 4)
    throw new ProtocolError(
      'shape_mismatch',
      `a masked input of this cohort is ${length} uint32 elements (${length * 4} bytes), got ${bytes.byteLength} bytes`,
    )
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(length)
  for (let i = 0; i < length; i++) out[i] = view.getUint32(4 * i, true)
  return out
}

/** The body of a masked input: `vector` as little-endian uint32. @example fetch(url, { body: encodeMaskedInput(y) }) */
export function encodeMaskedInput(vector: Uint32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(vector.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < vector.length; i++) view.setUint32(4 * i, vector[i]!, true)
  return out
}
