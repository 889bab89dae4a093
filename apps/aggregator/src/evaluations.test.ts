// Forged evaluation reports against a real aggregator process: only a client with an accepted update in the
// round that trained on a model version (or published it) may report on it, once; anything else is a 4xx
// JSON error and the averages do not move.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EvaluationSummary, newRandomId, parseErrorBody, parseEvaluationAck } from '@fedrec/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  killAll,
  operatorStatus,
  type Running,
  start,
  TEST_OPERATOR_TOKEN,
  uploadAccepted,
} from './test-process.ts'
import { catalogueOf } from './test-support.ts'

const QUORUM = 3
const DIM = 4

let dir: string
let server: Running

/** Uploads one accepted update for the open round from a fresh client; returns the client's id. */
const participant = (round: number): Promise<string> =>
  uploadAccepted(server.url, { round, sampleCount: 4, dim: DIM })

/** Closes the open round `round` with a quorum of fresh clients; returns their ids. */
async function playRound(round: number): Promise<string[]> {
  const clients: string[] = []
  for (let i = 0; i < QUORUM; i++) clients.push(await participant(round))
  expect((await operatorStatus(server.url)).modelVersion).toBe(round + 1)
  return clients
}

interface Report {
  round: number
  modelVersion: number
  clientId: string
  idempotencyKey: string
  users: number
  hits10: number
  ndcg10: number
}

const report = (modelVersion: number, clientId: string, sums: Partial<Report> = {}): Report => ({
  round: modelVersion,
  modelVersion,
  clientId,
  idempotencyKey: newRandomId(),
  users: 1,
  hits10: 1,
  ndcg10: 1,
  ...sums,
})

const send = (body: unknown) =>
  fetch(`${server.url}/v1/evaluations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

const evaluation = async (modelVersion: number): Promise<EvaluationSummary | undefined> =>
  (await operatorStatus(server.url)).evaluations.find((e) => e.modelVersion === modelVersion)

/** Sends a report the aggregator must refuse: the status, the code, and no evaluation moved. */
async function refused(body: unknown, status: number, code: string, advice?: RegExp): Promise<void> {
  const before = (await operatorStatus(server.url)).evaluations
  const res = await send(body)
  expect(res.status).toBe(status)
  const { error } = parseErrorBody(await res.json())
  expect(error.code).toBe(code)
  if (advice) expect(error.message).toMatch(advice)
  expect((await operatorStatus(server.url)).evaluations).toEqual(before)
}

let round0: string[]
let round1: string[]

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-evaluations-'))
  const catalogue = join(dir, 'catalogue.json')
  writeFileSync(catalogue, JSON.stringify(catalogueOf(6)))
  server = await start([
    ...['--port', '0', '--store', join(dir, 's.sqlite'), '--init', '--catalogue', catalogue],
    ...['--dim', String(DIM), '--seed', '1', '--min-clients', String(QUORUM), '--round-deadline', '600'],
    // One address plays every client here; the reports keep the default per-address limit (600 a minute).
    ...['--client-rate', '0', '--ip-rate', '0', '--negatives', '1000'],
  ])
  round0 = await playRound(0)
  round1 = await playRound(1)
  // Two honest reports on version 1 (published by round 0): HR@10 0.5, NDCG@10 0.25.
  expect((await send(report(1, round0[0]!, { hits10: 0, ndcg10: 0 }))).status).toBe(200)
  expect((await send(report(1, round0[1]!, { hits10: 1, ndcg10: 0.5 }))).status).toBe(200)
  expect(await evaluation(1)).toEqual({ modelVersion: 1, users: 2, hr10: 0.5, ndcg10: 0.25 })
})

afterAll(() => {
  killAll()
  rmSync(dir, { recursive: true, force: true })
})

describe('evaluation reports are bound to clients that took part', () => {
  it('the attack: 300 reports { users: 1, hits10: 1 } with fresh client ids and keys from one address → 403 not_a_participant each, HR@10 and NDCG@10 unchanged', async () => {
    const before = await evaluation(1)
    const answers = await Promise.all(
      Array.from({ length: 300 }, () => send(report(1, newRandomId(), { users: 1, hits10: 1, ndcg10: 1 }))),
    )
    for (const res of answers) {
      expect(res.status).toBe(403)
      expect(parseErrorBody(await res.json()).error.code).toBe('not_a_participant')
    }
    expect(await evaluation(1)).toEqual(before)
    expect(before).toMatchObject({ users: 2, hr10: 0.5, ndcg10: 0.25 })
  })

  it('a second report of one client on one version under a new key → 409 already_evaluated, counted once', async () => {
    await refused(
      report(1, round0[0]!, { hits10: 1, ndcg10: 1 }),
      409,
      'already_evaluated',
      /one report per client and version/,
    )
  })

  it('the same report again (same key: a retry) → 200 duplicate, counted once', async () => {
    const first = report(1, round0[2]!, { hits10: 0, ndcg10: 0 })
    expect(parseEvaluationAck(await (await send(first)).json())).toMatchObject({ duplicate: false })
    const users = (await evaluation(1))?.users
    expect(parseEvaluationAck(await (await send(first)).json())).toMatchObject({ duplicate: true })
    expect((await evaluation(1))?.users).toBe(users)
  })

  it("a report under another client's key → 409 idempotency_conflict, nothing counted", async () => {
    const honest = report(2, round1[0]!)
    expect((await send(honest)).status).toBe(200)
    await refused({ ...honest, clientId: newRandomId() }, 409, 'idempotency_conflict')
    await refused({ ...honest, clientId: round1[1] }, 409, 'idempotency_conflict')
  })

  it('a client of a round that neither trained on nor published the version → 403 not_a_participant', async () => {
    // Round 0 trained on version 0 and published version 1; version 2 is round 1's.
    await refused(report(2, round0[1]!), 403, 'not_a_participant', /round 1 or 2/)
  })

  it('a client of the open round may report on the version it trains on', async () => {
    const open = await participant(2)
    expect((await send(report(2, open))).status).toBe(200)
  })

  it('a client whose update an operator reset discarded → 403 not_a_participant', async () => {
    const discarded = await participant(2)
    const reset = await fetch(`${server.url}/v1/round/reset`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_OPERATOR_TOKEN}` },
    })
    expect(reset.status).toBe(200)
    await refused(report(2, discarded), 403, 'not_a_participant')
  })

  it('a report without a client id (a client from before reports were bound) → 400 bad_message naming clientId', async () => {
    const { clientId: _, ...unbound } = report(1, round0[0]!)
    await refused(unbound, 400, 'bad_message', /clientId/)
  })
})
