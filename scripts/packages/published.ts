// The packages this repository publishes to npm, and how each is laid out once built (see build.ts).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')

/** One subpath of a published `exports` map; `types` first, as TypeScript reads conditions in order. */
export interface ExportEntry {
  types: string
  default: string
}

/** A published package: where its sources are, what it builds and what its package.json says. */
export interface Published {
  name: string
  /** Short name for the command line (`build.ts browser`). */
  short: string
  /** Workspace folder. */
  dir: string
  description: string
  /** Output name → source file (relative to `dir`). */
  entries: Record<string, string>
  platform: 'neutral' | 'node' | 'browser'
  /** Bundle every dependency in (the browser package: a page loads its files as they are). */
  bundleDependencies?: boolean
  exports: Record<string, ExportEntry | string>
  files: string[]
  sideEffects: boolean | string[]
  /** The compiled command, e.g. `cli.js`. */
  bin?: string
  /** Files copied from the sources as they are: [from, to] relative to `dir` and the output. */
  copy?: [string, string][]
  /** Dependencies found at run time by `require.resolve` rather than imported. */
  resolvedAtRunTime?: string[]
}

const entry = (name: string): ExportEntry => ({ types: `./${name}.d.ts`, default: `./${name}.js` })

export const PUBLISHED: readonly Published[] = [
  {
    name: '@fedrec/protocol',
    short: 'protocol',
    dir: 'packages/protocol',
    description:
      'fedrec wire formats: the binary model, model patch and update codecs, validators, constants.',
    entries: { index: 'src/index.ts' },
    platform: 'neutral',
    exports: { '.': entry('index'), './package.json': './package.json' },
    files: ['*.js', '*.d.ts'],
    sideEffects: false,
  },
  {
    name: '@fedrec/core',
    short: 'core',
    dir: 'packages/core',
    description:
      'fedrec model maths on TensorFlow.js: local training, FedAvg/FedOpt aggregation, DP, secure aggregation.',
    entries: { client: 'src/client.ts', server: 'src/server.ts' },
    platform: 'neutral',
    exports: { './client': entry('client'), './server': entry('server'), './package.json': './package.json' },
    files: ['*.js', '*.d.ts'],
    sideEffects: false,
  },
  {
    name: '@fedrec/browser',
    short: 'browser',
    dir: 'packages/browser',
    description:
      'Private recommendations for online shops, learned on the shopper’s device: createRecommender() and <fedrec-recommendations>.',
    entries: { index: 'src/index.ts', element: 'src/element.ts' },
    platform: 'browser',
    bundleDependencies: true,
    exports: {
      '.': entry('index'),
      './element': entry('element'),
      './package.json': './package.json',
    },
    files: ['*.js', '*.d.ts', '*.wasm', 'THIRD_PARTY_NOTICES.md'],
    sideEffects: ['./element.js', './worker.js'],
  },
  {
    name: '@fedrec/aggregator',
    short: 'aggregator',
    dir: 'apps/aggregator',
    description:
      'The fedrec aggregation endpoint: one command, an embedded SQLite store, an operator dashboard, and the browser bundle for shops without a build step.',
    entries: { index: 'src/index.ts', cli: 'src/cli.ts' },
    platform: 'node',
    exports: { '.': entry('index'), './package.json': './package.json' },
    files: ['*.js', '*.d.ts', 'client'],
    sideEffects: ['./cli.js'],
    bin: 'cli.js',
    copy: ['index.html', 'dashboard.css', 'dashboard.js', 'charts.js', 'data.js'].map((name) => [
      `src/dashboard/client/${name}`,
      `client/${name}`,
    ]),
    resolvedAtRunTime: ['echarts', '@fedrec/browser'],
  },
]

interface SourceManifest {
  version: string
  license: string
  dependencies?: Record<string, string>
}

/** A workspace's own package.json (the fields the published one is made from). */
export function sourceManifest(pkg: Published): SourceManifest {
  return JSON.parse(readFileSync(join(root, pkg.dir, 'package.json'), 'utf8')) as SourceManifest
}
