// Package plumbing of the adopter tests: the packed tarballs, installed the way an adopter's npm would.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// The adopter tests install what `npm run check:packages` packed (packed/*.tgz, one set shared by every
// test) into scratch folders outside the workspace, where nothing resolves to this repository's sources.

export const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const fixtures = join(root, 'e2e/adopters/fixtures')

/** Package name → tarball path, as check.ts wrote them. */
export function tarballs(): Record<string, string> {
  const file = join(root, 'packed/tarballs.json')
  if (!existsSync(file))
    throw new Error('no packed packages: run `npm run build:packages && npm run check:packages` first')
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
}

const tarball = (name: string): string => {
  const path = tarballs()[name]
  if (!path) throw new Error(`packed/tarballs.json lists no ${name}`)
  return path
}

const created: string[] = []

/** A fresh folder under the system's temporary directory (outside the workspace); see removeScratch. */
export function scratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fedrec-adopter-${name}-`))
  created.push(dir)
  return dir
}

/** Removes every scratch folder made so far (after the processes using them have stopped). */
export function removeScratch(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/**
 * Copies a fixture app into a scratch folder and installs the packed @fedrec/browser with npm, as a shop
 * would (`npm install` of the tarball: it has no dependencies, so nothing else is fetched). The build
 * tools the app's scripts call (`tsc`, `vite`, webpack) are this workspace's pinned devDependencies,
 * linked into the app's node_modules rather than downloaded again.
 * @example const app = installApp('vite-vanilla-ts', ['vite', 'typescript'])
 */
export function installApp(fixture: string, tools: readonly string[]): string {
  const dir = scratch(fixture)
  cpSync(join(fixtures, fixture), dir, { recursive: true })
  execFileSync(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball('@fedrec/browser')],
    { cwd: dir, stdio: 'pipe' },
  )
  for (const tool of tools) link(dir, tool)
  const bins: Record<string, string> = { typescript: 'bin/tsc', vite: 'bin/vite.js' }
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true })
  for (const tool of tools) {
    const bin = bins[tool]
    if (bin)
      symlinkSync(join('..', tool, bin), join(dir, 'node_modules/.bin', tool === 'typescript' ? 'tsc' : tool))
  }
  return dir
}

/**
 * Lays out @fedrec/aggregator as `npm install @fedrec/aggregator` would: the packed aggregator, core,
 * protocol and browser extracted into node_modules/@fedrec/, their third-party dependencies linked to the
 * workspace's installed copies (the same pinned versions; better-sqlite3 would otherwise be compiled from
 * source for minutes on a machine without its prebuilt binary). Returns the path of the package's `bin`.
 * @example const bin = installAggregator(scratch('aggregator'))
 */
export function installAggregator(dir: string): string {
  const fedrec = ['@fedrec/aggregator', '@fedrec/core', '@fedrec/protocol', '@fedrec/browser']
  const thirdParty = new Set<string>()
  for (const name of fedrec) {
    const into = join(dir, 'node_modules', name)
    mkdirSync(into, { recursive: true })
    execFileSync('tar', ['xzf', tarball(name), '-C', into, '--strip-components=1'])
    const manifest = JSON.parse(readFileSync(join(into, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>
    }
    for (const dep of Object.keys(manifest.dependencies ?? {}))
      if (!dep.startsWith('@fedrec/')) thirdParty.add(dep)
  }
  for (const dep of thirdParty) link(dir, dep)
  const manifest = JSON.parse(
    readFileSync(join(dir, 'node_modules/@fedrec/aggregator/package.json'), 'utf8'),
  ) as {
    bin: Record<string, string>
  }
  const bin = manifest.bin['fedrec-aggregator']
  if (!bin) throw new Error('the packed @fedrec/aggregator has no fedrec-aggregator bin')
  return join(dir, 'node_modules/@fedrec/aggregator', bin)
}

function link(dir: string, name: string): void {
  const target = join(root, 'node_modules', name)
  if (!existsSync(target)) throw new Error(`${name} is not installed in the workspace (npm ci)`)
  mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true })
  symlinkSync(target, join(dir, 'node_modules', name), 'dir')
}
