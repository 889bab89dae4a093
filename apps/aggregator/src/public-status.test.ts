// What an anonymous caller of GET /v1/status learns, against real aggregator processes: no figure of a round
// before it has closed with at least the quorum, so polling it while clients upload tells nothing about one
// of them. The operator token gets the live view.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newRandomId, type PublicStatus, parseErrorBody, parsePublicStatus } from '@fedrec/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVALUATION_WINDOW } from './aggregator/index.ts'
import { getJson, killAll, operatorStatus, type Running, start, uploadAccepted } from './test-process.ts'
import { catalogueOf } from './test-support.ts'

const QUORUM = 5
const DIM = 4

let dir: string
let catalogue: string

const args = (store: string, ...extra: string[]) => [
  ...['--port', '0', '--store', join(dir, store), '--init', '--catalogue', catalogue],
  ...['--dim', String(DIM), '--seed', '1', '--min-clients', String(QUORUM)],
  ...['--client-rate', '0', '--ip-rate', '0', '--negatives', '1000', ...extra],
]

const publicStatus = async (server: Running): Promise<PublicStatus> => {
  const body = await getJson(`${server.url}/v1/status`)
  return parsePublicStatus(body)
}

/** Uploads one update for `round` with n_k = `sampleCount` from a fresh client; returns the client's id. */
const upload = (server: Running, round: number, sampleCount: number): Promise<string> =>
  uploadAccepted(server.url, { round, sampleCount, dim: DIM })

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-public-status-'))
  catalogue = join(dir, 'catalogue.json')
  writeFileSync(catalogue, JSON.stringify(catalogueOf(6)))
})

afterAll(() => {
  killAll()
  rmSync(dir, { recursive: true, force: true })
})

describe('GET /v1/status without a token', () => {
  let server: Running
  const round0: string[] = []
  beforeAll(async () => {
    server = await start(args('polled.sqlite', '--round-deadline', '600'))
  })

  it('the attack: polled every 10 ms while four clients upload to a round below its quorum of 5, it shows nothing that changes and no n_k', async () => {
    const answers: unknown[] = []
    let polling = true
    const poller = (async () => {
      while (polling) {
        answers.push(await getJson(`${server.url}/v1/status`))
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    // Answers before the first upload and after each one (waited for as states, not sleeps: a loaded machine
    // may answer only a few polls in the time an upload takes).
    await expect.poll(() => answers.length).toBeGreaterThanOrEqual(1)
    for (const n of [3, 7, 11, 19]) {
      round0.push(await upload(server, 0, n))
      const before = answers.length
      await expect.poll(() => answers.length).toBeGreaterThanOrEqual(before + 2)
    }
    polling = false
    await poller
    expect(answers.length).toBeGreaterThan(8)
    // Every answer is the first one: no difference to take, so no client's n_k to read off it.
    for (const answer of answers) expect(answer).toEqual(answers[0])
    const first = parsePublicStatus(answers[0])
    expect(first).toMatchObject({ round: 0, modelVersion: 0, history: [], evaluations: [] })
    expect(Object.keys(answers[0] as object)).not.toContain('participants')
    expect(Object.keys(answers[0] as object)).not.toContain('samples')
    // The operator sees the live round: four clients, Σ n_k 40.
    expect(await operatorStatus(server.url)).toMatchObject({ round: 0, participants: 4, samples: 40 })
  })

  it('shows a round once it has closed with the quorum: participants, samples and norms of the round', async () => {
    round0.push(await upload(server, 0, 2))
    const s = await publicStatus(server)
    expect(s).toMatchObject({ round: 1, modelVersion: 1 })
    expect(s.history).toEqual([
      expect.objectContaining({ round: 0, participants: 5, samples: 42, closedBy: 'quorum' }),
    ])
  })

  it('keeps the evaluations of a version that still takes reports for the operator, and shows them once it no longer does', async () => {
    for (const clientId of round0) {
      const res = await fetch(`${server.url}/v1/evaluations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          round: 1,
          modelVersion: 1,
          clientId,
          idempotencyKey: newRandomId(),
          users: 1,
          hits10: clientId === round0[0] ? 1 : 0,
          ndcg10: 0,
        }),
      })
      expect(res.status, await res.clone().text()).toBe(200)
    }
    const operatorView = [{ modelVersion: 1, users: 5, hr10: 0.2, ndcg10: 0 }]
    expect((await operatorStatus(server.url)).evaluations).toEqual(operatorView)
    // A report arriving while others may follow would show its own sums as a difference.
    expect((await publicStatus(server)).evaluations).toEqual([])
    // Version 1 stops taking reports once the current one is more than EVALUATION_WINDOW versions ahead.
    for (let round = 1; round <= EVALUATION_WINDOW + 1; round++)
      for (let i = 0; i < QUORUM; i++) await upload(server, round, 1)
    const s = await publicStatus(server)
    expect(s.modelVersion).toBe(EVALUATION_WINDOW + 2)
    expect(s.evaluations).toEqual(operatorView)
  })

  it('answers a wrong token with 401, not with the public view, and varies by Authorization', async () => {
    const wrong = await fetch(`${server.url}/v1/status`, {
      headers: { Authorization: 'Bearer not-the-token' },
    })
    expect(wrong.status).toBe(401)
    expect(parseErrorBody(await wrong.json()).error.code).toBe('unauthorized')
    const anonymous = await fetch(`${server.url}/v1/status`)
    expect(anonymous.headers.get('vary')).toMatch(/authorization/i)
    expect(anonymous.headers.get('cache-control')).toBe('no-store')
  })
})

describe('a round closed by its deadline below the quorum', () => {
  it("keeps its one shopper's n_k and update norm for the operator", async () => {
    const server = await start(args('deadline.sqlite', '--round-deadline', '1'))
    // The round opened at the start; a deadline that passes with no update extends it.
    await upload(server, (await operatorStatus(server.url)).round, 17)
    await expect.poll(async () => (await operatorStatus(server.url)).modelVersion).toBe(1)
    const operator = await operatorStatus(server.url)
    expect(operator.history).toEqual([
      expect.objectContaining({ participants: 1, samples: 17, closedBy: 'deadline' }),
    ])
    expect(operator.history[0]?.clientUpdateNorm.max).toBeGreaterThan(0)
    const anyone = await publicStatus(server)
    expect(anyone).toMatchObject({ modelVersion: 1, history: [] })
    expect(JSON.stringify(anyone)).not.toMatch(/"samples"|"clientUpdateNorm"/)
  })
})
