// The repository's one Vitest setup: `npm run test:unit` runs the tests of every package and app through it.
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { chromiumArgs, chromiumPath } from './e2e/chromium.ts'

/**
 * Shared Vite/Vitest configuration. Two test projects split by runtime:
 * - `node`: pure logic (protocol, maths, aggregator) in Node, tfjs on its WASM/CPU backends;
 * - `browser`: code that needs IndexedDB, Web Workers or WebGL, in real headless Chromium
 *   (e2e/chromium.ts: Debian's build by default; set CHROMIUM_PATH to use another one).
 * Files named `*.browser.test.ts` run in the browser; every other `*.test.ts` in Node.
 *
 * Timeouts are hang guards, not expectations: tests wait for states (`expect.poll`), and CI shares two cores
 * with other work, where starting WebGL on SwiftShader alone took over 30 s (load ≈ 25). A healthy run never
 * comes near them; a guard sized for a quiet machine fails a correct test.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          exclude: ['**/*.browser.test.ts', '**/node_modules/**'],
          testTimeout: 120_000,
          expect: { poll: { timeout: 60_000 } },
        },
      },
      {
        test: {
          name: 'browser',
          include: ['packages/*/src/**/*.browser.test.ts'],
          testTimeout: 240_000,
          expect: { poll: { timeout: 120_000 } },
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: chromiumPath, args: chromiumArgs } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
