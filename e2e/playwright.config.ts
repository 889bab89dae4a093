// How `playwright test` runs the specs under e2e/: one at a time, with the demo storefront built and served
// first.
import { defineConfig } from '@playwright/test'
import { chromiumArgs, chromiumPath } from './chromium.ts'

/**
 * End-to-end tests in real headless Chromium (Debian's build at /usr/bin/chromium; CHROMIUM_PATH overrides),
 * against the built storefront served by `vite preview` and real aggregator processes the tests start.
 */
export const storefrontPort = Number(process.env.E2E_STOREFRONT_PORT ?? 4317)

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  timeout: 300_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: `http://127.0.0.1:${storefrontPort}`,
    launchOptions: {
      executablePath: chromiumPath,
      args: chromiumArgs,
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `npm run build -w @fedrec/storefront && npm run preview -w @fedrec/storefront -- --host 127.0.0.1 --port ${storefrontPort} --strictPort`,
    cwd: '..',
    url: `http://127.0.0.1:${storefrontPort}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'pipe',
  },
})
