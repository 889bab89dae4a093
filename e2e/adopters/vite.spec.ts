// Proves a stock Vite app adopts the packed library with no configuration, built and under `vite dev`.
import { execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { expect, test } from '@playwright/test'
import { installApp, removeScratch } from './packed.ts'
import { type PackedAggregator, startPackedAggregator } from './packed-aggregator.ts'
import { AGGREGATOR_ARGS, shopperGetsPersonalRecommendations } from './shopper.ts'
import { serveStatic } from './static-server.ts'

// A shop made with `npm create vite` (vanilla-ts, its settings unchanged: strict, erasableSyntaxOnly,
// verbatimModuleSyntax) that installs the packed @fedrec/browser: no Vite configuration at all.

let agg: PackedAggregator | undefined
test.afterEach(async () => {
  await agg?.stop()
  agg = undefined
  removeScratch()
})

function run(command: string, args: string[], cwd: string): void {
  try {
    execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' })
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`)
  }
}

test('built with the template’s `tsc && vite build`, a shopper gets personal recommendations', async ({
  page,
}) => {
  const app = installApp('vite-vanilla-ts', ['vite', 'typescript'])
  run('npm', ['run', 'build'], app)
  // The template skips library checking; the shipped declarations compile without that too.
  run(join(app, 'node_modules/.bin/tsc'), ['--noEmit', '--skipLibCheck', 'false'], app)
  const site = await serveStatic(join(app, 'dist'))
  try {
    agg = await startPackedAggregator([...AGGREGATOR_ARGS, '--cors-origin', new URL(site.url).origin])
    const { report, requested } = await shopperGetsPersonalRecommendations(
      page,
      `${site.url}?endpoint=${encodeURIComponent(agg.url)}&backend=wasm`,
      agg,
    )
    expect(report.backend).toBe('wasm')
    // Vite emitted the worker and the tfjs WebAssembly with the app; nothing came from elsewhere.
    const fromSite = requested.filter((u) => u.startsWith(site.url))
    expect(fromSite.some((u) => /\/assets\/worker-[\w-]+\.js$/.test(u))).toBe(true)
    expect(fromSite.some((u) => u.endsWith('.wasm'))).toBe(true)
    expect(requested.every((u) => u.startsWith(site.url) || u.startsWith(agg!.url))).toBe(true)
  } finally {
    await site.close()
  }
})

test('under `vite dev` (no configuration), a shopper gets personal recommendations', async ({ page }) => {
  const app = installApp('vite-vanilla-ts', ['vite', 'typescript'])
  const port = await freePort()
  const vite = spawn(
    join(app, 'node_modules/.bin/vite'),
    ['--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  )
  const output: string[] = []
  try {
    const url = await new Promise<string>((resolve, reject) => {
      for (const stream of [vite.stdout!, vite.stderr!])
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line)
          const match = /Local:\s+(http:\/\/\S+)/.exec(line)
          if (match?.[1]) resolve(match[1])
        })
      vite.on('exit', (code) => reject(new Error(`vite exited with ${code}:\n${output.join('\n')}`)))
    })
    agg = await startPackedAggregator([...AGGREGATOR_ARGS, '--cors-origin', new URL(url).origin])
    const { report } = await shopperGetsPersonalRecommendations(
      page,
      `${url}?endpoint=${encodeURIComponent(agg.url)}&backend=wasm`,
      agg,
    )
    expect(report.backend).toBe('wasm')
    // No "new dependencies optimized, reloading" mid-visit: the library has no dependencies to discover.
    expect(output.filter((line) => /optimized dependencies changed|reloading/i.test(line))).toEqual([])
  } finally {
    const exited = new Promise((r) => vite.once('exit', r))
    vite.kill('SIGTERM')
    await exited
  }
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
