// Proves the page's bundle stays free of tfjs: the model runs only in the worker.
import { expect, test } from '@playwright/test'

// tfjs must never load on the page's main thread: the page imports only the *type* of the worker API.
// Kernel names and flag names are string literals, so they survive minification and identify tfjs code.
const TFJS_MARKERS = ['UnsortedSegmentSum', 'WEBGL_VERSION', 'IS_BROWSER']

test('the page main thread loads no tfjs; the worker does', async ({ page }) => {
  const scripts: string[] = []
  const workers: string[] = []
  page.on('worker', (w) => workers.push(w.url()))
  page.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(r.url())
  })
  await page.goto('/?endpoint=http://127.0.0.1:9/&syncEvery=0&syncAfter=0')
  await page.evaluate(() => window.fedrecReady)
  await expect.poll(() => workers.length).toBe(1)

  const mainThread = scripts.filter((url) => !workers.includes(url))
  expect(mainThread.length).toBeGreaterThan(0)
  let mainBytes = 0
  for (const url of mainThread) {
    const text = await (await page.request.get(url)).text()
    mainBytes += text.length
    for (const marker of TFJS_MARKERS) expect(text.includes(marker), `${marker} in ${url}`).toBe(false)
  }
  const worker = await (await page.request.get(workers[0]!)).text()
  for (const marker of TFJS_MARKERS) expect(worker.includes(marker), `${marker} in the worker`).toBe(true)
  console.info(`main-thread script: ${mainBytes} bytes; worker: ${worker.length} bytes`)
})
