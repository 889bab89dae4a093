// Test support only (not exported): the protocol's behaviour, run both in Node (protocol.test.ts) and in real
// Chromium (protocol.browser.test.ts), since WebCrypto differs between the two.
import { describe, expect, it } from 'vitest'
import { createRng } from '../rng.ts'
import { fromBase64Url, toBase64Url } from './bytes.ts'
import { createSecAggClient, type SecAggClient } from './client.ts'
import { runSecAggCohort } from './in-process.ts'
import type { SecAggRoster } from './messages.ts'
import { createSecAggServer, restoreSecAggServer, type SecAggServer } from './server.ts'

const LENGTH = 2049

function randomInputs(ids: number[], seed: number): Map<number, Uint32Array> {
  const rng = createRng(seed)
  const inputs = new Map<number, Uint32Array>()
  for (const id of ids) {
    const v = new Uint32Array(LENGTH)
    // Small signed fixed-point values, mostly zero, like a sparse update.
    for (let i = 0; i < LENGTH; i++) if (rng.next() < 0.3) v[i] = (rng.int(2001) - 1000) >>> 0
    inputs.set(id, v)
  }
  return inputs
}

function plainSum(inputs: ReadonlyMap<number, Uint32Array>, ids: Iterable<number>): Uint32Array {
  const sum = new Uint32Array(LENGTH)
  for (const id of ids) {
    const v = inputs.get(id)!
    for (let i = 0; i < LENGTH; i++) sum[i] = sum[i]! + v[i]!
  }
  return sum
}

function oneBitFraction(v: Uint32Array): number {
  let ones = 0
  for (const x of v) {
    let y = x
    while (y !== 0) {
      y &= y - 1
      ones++
    }
  }
  return ones / (v.length * 32)
}

/** Runs rounds 0 and 1 for the given clients and returns everything needed to continue by hand. */
async function throughShareKeys(sessionId: string, ids: number[], minClients = 3) {
  const server = createSecAggServer({ sessionId, vectorLength: LENGTH, minClients })
  const clients = new Map<number, SecAggClient>()
  for (const id of ids) {
    const client = await createSecAggClient({ sessionId, id, vectorLength: LENGTH, minClients })
    clients.set(id, client)
    server.addAdvertisement(await client.advertiseKeys())
  }
  const roster = server.closeAdvertise()
  for (const client of clients.values()) server.addShareKeys(await client.shareKeys(roster))
  server.closeShare()
  return { server, clients, roster }
}

async function upload(
  server: SecAggServer,
  clients: Map<number, SecAggClient>,
  inputs: Map<number, Uint32Array>,
  ids: number[],
) {
  for (const id of ids)
    server.addMaskedInput(await clients.get(id)!.maskInput(server.inbox(id), inputs.get(id)!))
}

/**
 * Defines the protocol tests under `label`. Long on purpose: it is one `describe` of independent `it`s,
 * declared once so the same assertions run in Node and in Chromium (protocol.test.ts, protocol.browser.test.ts).
 */
export function protocolSuite(label: string): void {
  describe(`secure aggregation protocol (${label})`, () => {
    it('returns exactly the plain sum of 5 clients', async () => {
      const inputs = randomInputs([1, 2, 3, 4, 5], 1)
      const report = await runSecAggCohort({ sessionId: 's-all', inputs })
      expect(report.result.survivors).toEqual([1, 2, 3, 4, 5])
      expect(report.result.dropped).toEqual([])
      expect(report.result.sum).toEqual(plainSum(inputs, [1, 2, 3, 4, 5]))
      expect(report.bytesUp.get(1)).toBeGreaterThan(4 * LENGTH)
    })

    it('works with arbitrary distinct ids 1..65535 (ids the clients drew at random)', async () => {
      const ids = [65535, 7, 300, 1, 4242]
      const inputs = randomInputs(ids, 10)
      const report = await runSecAggCohort({ sessionId: 's-ids', inputs, dropBeforeUpload: new Set([300]) })
      expect(report.result.survivors).toEqual([1, 7, 4242, 65535])
      expect(report.result.sum).toEqual(plainSum(inputs, [1, 7, 4242, 65535]))
      await expect(
        createSecAggClient({ sessionId: 's-ids', id: 65536, vectorLength: LENGTH }),
      ).rejects.toMatchObject({
        code: 'bad_parameters',
      })
    })

    it('survives 1 and 2 drop-outs after ShareKeys (before upload)', async () => {
      const inputs = randomInputs([1, 2, 3, 4, 5], 2)
      const one = await runSecAggCohort({ sessionId: 's-d1', inputs, dropBeforeUpload: new Set([3]) })
      expect(one.result.dropped).toEqual([3])
      expect(one.result.sum).toEqual(plainSum(inputs, [1, 2, 4, 5]))
      const two = await runSecAggCohort({ sessionId: 's-d2', inputs, dropBeforeUpload: new Set([1, 5]) })
      expect(two.result.survivors).toEqual([2, 3, 4])
      expect(two.result.sum).toEqual(plainSum(inputs, [2, 3, 4]))
    })

    it('survives drop-outs after upload (before unmasking), also mixed with one before upload', async () => {
      const inputs = randomInputs([1, 2, 3, 4, 5, 6, 7], 3)
      const after = await runSecAggCohort({ sessionId: 's-u2', inputs, dropBeforeUnmask: new Set([2, 6]) })
      // Uploaded then vanished: their inputs are in the sum, their b_u were rebuilt from the others' shares.
      expect(after.result.survivors).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(after.result.sum).toEqual(plainSum(inputs, [1, 2, 3, 4, 5, 6, 7]))
      const mixed = await runSecAggCohort({
        sessionId: 's-mixed',
        inputs,
        dropBeforeUpload: new Set([4]),
        dropBeforeUnmask: new Set([7]),
      })
      expect(mixed.result.dropped).toEqual([4])
      expect(mixed.result.sum).toEqual(plainSum(inputs, [1, 2, 3, 5, 6, 7]))
    })

    it('fails clearly below the threshold and below the minimum cohort', async () => {
      const inputs = randomInputs([1, 2, 3, 4, 5], 4)
      await expect(
        runSecAggCohort({ sessionId: 's-few', inputs, dropBeforeUpload: new Set([1, 2, 3]) }),
      ).rejects.toMatchObject({ name: 'SecAggError', code: 'too_few_survivors' })
      await expect(
        runSecAggCohort({ sessionId: 's-few2', inputs, dropBeforeUnmask: new Set([1, 2, 3]) }),
      ).rejects.toMatchObject({ code: 'too_few_survivors' })
      const small = createSecAggServer({ sessionId: 's-small', vectorLength: LENGTH, minClients: 3 })
      for (const id of [1, 2]) {
        const c = await createSecAggClient({ sessionId: 's-small', id, vectorLength: LENGTH })
        small.addAdvertisement(await c.advertiseKeys())
      }
      expect(() => small.closeAdvertise()).toThrow(/the cohort has 2 clients, the minimum is 3/)
      expect(small.phase).toBe('advertise')
    })

    it('a client refuses a roster that is too small or whose threshold is not a majority', async () => {
      const clients = await Promise.all(
        [1, 2, 3, 4].map((id) =>
          createSecAggClient({ sessionId: 's-r', id, vectorLength: LENGTH, minClients: 4 }),
        ),
      )
      const entries = await Promise.all(clients.map((c) => c.advertiseKeys()))
      const roster: SecAggRoster = {
        type: 'roster',
        sessionId: 's-r',
        threshold: 2,
        clients: entries.map(({ id, cPublicKey, sPublicKey }) => ({ id, cPublicKey, sPublicKey })),
      }
      await expect(clients[0]!.shareKeys(roster)).rejects.toMatchObject({ code: 'threshold_too_low' })
      await expect(
        clients[0]!.shareKeys({ ...roster, threshold: 3, clients: roster.clients.slice(0, 3) }),
      ).rejects.toMatchObject({ code: 'cohort_too_small' })
      // Two overlapping calls: the second is refused instead of racing the first.
      const overlapping = [
        clients[1]!.shareKeys({ ...roster, threshold: 3 }),
        clients[1]!.shareKeys({ ...roster, threshold: 3 }),
      ]
      await expect(overlapping[1]).rejects.toMatchObject({ code: 'bad_phase' })
      await overlapping[0]
      // A well-formed roster is still accepted afterwards: the refusals changed nothing.
      const shares = await clients[0]!.shareKeys({ ...roster, threshold: 3 })
      expect(shares.shares.map((s) => s.to)).toEqual([2, 3, 4])
    })

    it('masked uploads are not the plain vectors and look uniformly random', async () => {
      const inputs = randomInputs([1, 2, 3, 4, 5], 5)
      const report = await runSecAggCohort({ sessionId: 's-uniform', inputs })
      for (const [id, masked] of report.masked) {
        const plain = inputs.get(id)!
        expect(masked).not.toEqual(plain)
        let equal = 0
        for (let i = 0; i < LENGTH; i++) if (masked[i] === plain[i]) equal++
        expect(equal).toBeLessThan(3)
        // 65,568 bits: a uniform vector has 50% ones ± 0.2% (1 sd); the sparse plain vector is far off.
        expect(Math.abs(oneBitFraction(masked) - 0.5)).toBeLessThan(0.01)
        expect(Math.abs(oneBitFraction(plain) - 0.5)).toBeGreaterThan(0.1)
      }
      // The same inputs in another session are masked differently: masks never repeat across rounds.
      const again = await runSecAggCohort({ sessionId: 's-uniform-2', inputs })
      expect(again.masked.get(1)).not.toEqual(report.masked.get(1))
      expect(again.result.sum).toEqual(report.result.sum)
    })

    it('a tampered ciphertext fails to decrypt, a tampered unmask share fails reconstruction', async () => {
      const ids = [1, 2, 3, 4]
      const inputs = randomInputs(ids, 6)
      const { server, clients } = await throughShareKeys('s-tamper', ids)
      const inbox = server.inbox(1)
      const bytes = fromBase64Url(inbox.shares[0]!.ciphertext, 86, 'ct')
      bytes[10]! ^= 1
      const forged = {
        ...inbox,
        shares: [{ ...inbox.shares[0]!, ciphertext: toBase64Url(bytes) }, ...inbox.shares.slice(1)],
      }
      await expect(clients.get(1)!.maskInput(forged, inputs.get(1)!)).rejects.toMatchObject({
        code: 'decrypt_failed',
      })
      // A share relayed to the wrong recipient does not open either (ids are in the associated data).
      const swapped = {
        ...inbox,
        shares: [{ ...server.inbox(2).shares[1]!, from: inbox.shares[0]!.from }, ...inbox.shares.slice(1)],
      }
      await expect(clients.get(1)!.maskInput(swapped, inputs.get(1)!)).rejects.toMatchObject({
        code: 'decrypt_failed',
      })

      await upload(server, clients, inputs, [1, 2, 3])
      const request = server.closeMask()
      expect(request.dropped).toEqual([4])
      for (const id of [1, 2, 3]) {
        const response = await clients.get(id)!.unmask(request)
        if (id === 1) {
          const share = fromBase64Url(response.selfMaskShares[1]!.share, 33, 'share')
          share[0]! ^= 0xff
          response.selfMaskShares[1]!.share = toBase64Url(share)
        }
        server.addUnmaskResponse(response)
      }
      await expect(server.finish()).rejects.toMatchObject({ code: 'reconstruct_failed' })
    })

    it('a tampered key share of a dropped client fails reconstruction', async () => {
      const ids = [1, 2, 3, 4]
      const inputs = randomInputs(ids, 7)
      const { server, clients } = await throughShareKeys('s-tamper-key', ids)
      await upload(server, clients, inputs, [1, 2, 3])
      const request = server.closeMask()
      for (const id of [1, 2, 3]) {
        const response = await clients.get(id)!.unmask(request)
        if (id === 2) {
          const share = fromBase64Url(response.keyShares[0]!.share, 33, 'share')
          share[5]! ^= 0x01
          response.keyShares[0]!.share = toBase64Url(share)
        }
        server.addUnmaskResponse(response)
      }
      await expect(server.finish()).rejects.toMatchObject({ code: 'reconstruct_failed' })
    })

    it('a client refuses to reveal both the seed share and the key share of one client', async () => {
      const ids = [1, 2, 3, 4]
      const inputs = randomInputs(ids, 8)
      const { server, clients } = await throughShareKeys('s-both', ids)
      await upload(server, clients, inputs, [1, 2, 3, 4])
      const honest = server.closeMask()
      const client = clients.get(1)!
      await expect(client.unmask({ ...honest, dropped: [2] })).rejects.toMatchObject({
        name: 'SecAggError',
        code: 'both_shares_requested',
      })
      // One request for b_2, then a second one for s_2: the second is refused.
      await client.unmask(honest)
      await expect(client.unmask({ ...honest, survivors: [1, 3, 4], dropped: [2] })).rejects.toMatchObject({
        code: 'both_shares_requested',
      })
      // And the server refuses a response that carries a share nobody asked for.
      const response = await clients.get(2)!.unmask(honest)
      expect(() =>
        server.addUnmaskResponse({
          ...response,
          keyShares: [{ of: 3, share: response.selfMaskShares[0]!.share }],
        }),
      ).toThrow(/expected 0 shares/)
    })

    it('refuses hostile messages without changing state, and resumes from an exported state', async () => {
      const ids = [1, 2, 3, 4, 5]
      const inputs = randomInputs(ids, 9)
      const { server, clients } = await throughShareKeys('s-state', ids)
      const first = await clients.get(1)!.maskInput(server.inbox(1), inputs.get(1)!)
      server.addMaskedInput(first)
      expect(() => server.addMaskedInput(first)).toThrow(
        expect.objectContaining({ code: 'duplicate_message' }),
      )
      expect(() => server.addMaskedInput({ ...first, id: 2, masked: new Uint32Array(LENGTH - 1) })).toThrow(
        expect.objectContaining({ code: 'vector_length' }),
      )
      expect(() => server.addMaskedInput({ ...first, id: 9 })).toThrow(
        expect.objectContaining({ code: 'unknown_client' }),
      )
      expect(() => server.addMaskedInput({ ...first, sessionId: 'other' })).toThrow(
        expect.objectContaining({ code: 'bad_message' }),
      )
      expect(server.masked).toEqual([1])

      const restored = restoreSecAggServer(server.exportState())
      await upload(restored, clients, inputs, [2, 3, 5])
      const request = restored.closeMask()
      expect(request.dropped).toEqual([4])
      for (const id of [1, 2, 3]) restored.addUnmaskResponse(await clients.get(id)!.unmask(request))
      expect(restored.canFinish).toBe(true)
      const { sum } = await restored.finish()
      expect(sum).toEqual(plainSum(inputs, [1, 2, 3, 5]))
      expect(restored.phase).toBe('done')
    })
  })
}
