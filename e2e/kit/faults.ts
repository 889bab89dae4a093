// Fault injection for QA scenarios: what goes wrong in a real shopper's browser, provoked at a chosen moment
// of a round.
import { expect, type Route } from '@playwright/test'
import type { Shopper } from './shopper.ts'

const isAggregatorPath = (url: string, path: string): boolean => new URL(url).pathname.endsWith(`/${path}`)

/**
 * Closes the shopper's tab as soon as the response to `GET <path>` has arrived in the worker: by default the
 * round info, after which the worker (its model already loaded with the page) reads the history and trains.
 * The worker dies with the tab, so the update is never sent. Resolves once the tab is closed.
 * @example const closed = closeTabAfter(shopper); await shopper.trySync(); await closed
 */
export function closeTabAfter(shopper: Shopper, path = 'v1/round'): Promise<void> {
  const page = shopper.page
  return new Promise((resolve, reject) => {
    page.on('requestfinished', function onFinished(request) {
      if (request.method() !== 'GET' || !isAggregatorPath(request.url(), path)) return
      page.off('requestfinished', onFinished)
      page.close().then(resolve, reject)
    })
  })
}

/**
 * Reloads the shopper's page (a full page load, as when the shopper follows a link in a multi-page shop) in
 * the middle of its next `POST /v1/updates`: `reached` true lets the upload reach the aggregator first (the
 * ack is then lost with the worker), false drops it in the browser. Resolves with the aggregator's HTTP status
 * (null when it never got the upload) once the new page's recommender is ready.
 * @example const cut = reloadDuringUpload(shopper, { reached: true }); await shopper.trySync(); await cut
 */
export async function reloadDuringUpload(
  shopper: Shopper,
  { reached }: { reached: boolean },
): Promise<() => Promise<number | null>> {
  const page = shopper.page
  let done: Promise<number | null> | undefined
  let once = false
  // Context-level routing: it sees the page's dedicated worker, where the library uploads.
  await shopper.context.route(
    (url) => isAggregatorPath(url.toString(), 'v1/updates'),
    async (route) => {
      if (once || route.request().method() !== 'POST') return route.continue()
      once = true
      done = (async () => {
        const status = reached ? (await route.fetch()).status() : null
        await page.reload()
        // The worker that sent it is gone: nothing is left to answer.
        await route.abort().catch(() => undefined)
        await shopper.context.unrouteAll({ behavior: 'ignoreErrors' })
        await page.evaluate(() => window.fedrecReady)
        return status
      })()
    },
  )
  return async () => {
    await expect.poll(() => done !== undefined).toBe(true)
    return done!
  }
}

/** Uploads held back by `holdUploads`. */
export interface HeldUploads {
  /** Resolves when the first upload is being held. */
  readonly held: Promise<void>
  /** Lets the held upload go on to the aggregator; later uploads pass untouched. */
  release(): Promise<void>
}

/**
 * Holds the shopper's next `POST /v1/updates` in the browser (Playwright routing) until `release()`: a
 * straggler on a slow link whose update reaches the aggregator late.
 * @example const slow = await holdUploads(shopper); const sync = shopper.trySync(); await slow.held; … await slow.release()
 */
export async function holdUploads(shopper: Shopper): Promise<HeldUploads> {
  let heldRoute: Route | null = null
  let onHeld = (): void => undefined
  const held = new Promise<void>((resolve) => {
    onHeld = resolve
  })
  let released = false
  await shopper.context.route(
    (url) => isAggregatorPath(url.toString(), 'v1/updates'),
    async (route) => {
      if (released || heldRoute || route.request().method() !== 'POST') return route.continue()
      heldRoute = route
      onHeld()
    },
  )
  return {
    held,
    async release() {
      released = true
      await heldRoute?.continue()
    },
  }
}

/**
 * Loses the worker's WebGL context for real (`WEBGL_lose_context`) in the middle of the next training: it
 * wraps `drawArrays`/`drawElements` of the worker's WebGL2 contexts and loses the context on the `afterDraws`-th
 * draw call. Test-only; nothing in the library is involved. Resolves to a function that tells whether the loss
 * happened.
 * @example const lost = await loseWebGLContextDuringNextDraws(shopper); await shopper.sync(); expect(await lost()).toBe(true)
 */
export async function loseWebGLContextDuringNextDraws(
  shopper: Shopper,
  { afterDraws = 20 } = {},
): Promise<() => Promise<boolean>> {
  const worker = shopper.page.workers()[0]
  if (!worker) throw new Error(`${shopper.name}: the shop page has no worker`)
  await worker.evaluate((afterDraws) => {
    const g = globalThis as unknown as { __fedrecQaContextLost?: boolean }
    g.__fedrecQaContextLost = false
    const proto = WebGL2RenderingContext.prototype
    const originals = { drawArrays: proto.drawArrays, drawElements: proto.drawElements }
    let draws = 0
    const wrap = <F extends (...args: never[]) => void>(original: F): F =>
      function (this: WebGL2RenderingContext, ...args: Parameters<F>) {
        draws++
        if (draws === afterDraws) {
          proto.drawArrays = originals.drawArrays
          proto.drawElements = originals.drawElements
          this.getExtension('WEBGL_lose_context')?.loseContext()
          g.__fedrecQaContextLost = this.isContextLost()
        }
        return original.apply(this, args)
      } as F
    proto.drawArrays = wrap(originals.drawArrays)
    proto.drawElements = wrap(originals.drawElements)
  }, afterDraws)
  return () =>
    worker.evaluate(
      () => (globalThis as unknown as { __fedrecQaContextLost?: boolean }).__fedrecQaContextLost === true,
    )
}

/**
 * Fills the origin's storage up to its quota (see `storageQuota` of `openShopper`) with random bytes in a
 * separate IndexedDB database, as another part of the site might. Returns the bytes written. When a chunk no
 * longer fits, the chunk is halved down to `minChunk`: with whole chunks only, up to a chunk's worth stayed
 * free, and a small write (one tracked event) still fitted there on some runs.
 * @example await fillStorage(shopper); await expect(track()).rejects…; await freeStorage(shopper)
 */
export function fillStorage(
  shopper: Shopper,
  { chunk = 64 * 1024, minChunk = 64, max = 64 * 1024 * 1024 } = {},
): Promise<number> {
  return shopper.page.evaluate(
    async ({ chunk: firstChunk, minChunk, max }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('qa-filler', 1)
        req.onupgradeneeded = () => req.result.createObjectStore('blobs')
        req.onsuccess = () => resolve(req.result)
        req.onerror = () => reject(req.error)
      })
      let written = 0
      let chunk = firstChunk
      try {
        while (written < max) {
          // Random bytes do not compress, so each chunk really takes its size.
          const bytes = new Uint8Array(chunk)
          for (let i = 0; i < chunk; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536))
          const ok = await new Promise<boolean>((resolve) => {
            const tx = db.transaction('blobs', 'readwrite')
            tx.objectStore('blobs').put(bytes, written)
            tx.oncomplete = () => resolve(true)
            tx.onabort = () => resolve(false)
          })
          if (ok) written += chunk
          else if (chunk > minChunk) chunk = Math.max(minChunk, chunk / 2)
          else return written
        }
        throw new Error(`storage took ${written} bytes without running out: is the quota set?`)
      } finally {
        db.close()
      }
    },
    { chunk, minChunk, max },
  )
}

/** Deletes what `fillStorage` wrote. */
export async function freeStorage(shopper: Shopper): Promise<void> {
  await shopper.page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.deleteDatabase('qa-filler')
        req.onsuccess = () => resolve()
        req.onerror = () => reject(req.error)
      }),
  )
}
