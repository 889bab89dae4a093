/**
 * The Chromium every browser test here runs: Debian's build by default (CHROMIUM_PATH overrides), with the
 * flags that keep it quiet on a closed network. Shared by Playwright (e2e) and Vitest's browser project.
 * @module
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // SwiftShader is the only WebGL on a machine without a GPU; newer Chromium wants it allowed explicitly.
  '--enable-unsafe-swiftshader',
]
