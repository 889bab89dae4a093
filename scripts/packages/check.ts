// Packs every built package (scripts/packages/build.ts) into packed/ and checks it with the tools made for
// that: publint (package.json against the files), Are the Types Wrong? (the types as TypeScript resolves
// them) and `npm publish --dry-run`. Any finding fails. The tarballs are what the adopter tests install.
//
//   npx tsx scripts/packages/check.ts
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PUBLISHED, root } from './published.ts'

export const PACKED_DIR = join(root, 'packed')

interface PackResult {
  filename: string
  size: number
  unpackedSize: number
  entryCount: number
}

const bin = (name: string): string => join(root, 'node_modules/.bin', name)

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`)
  }
}

/** npm's own warnings, less the one a dry run without registry credentials always prints. */
function npmWarnings(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /^npm (warn|error|ERR)/i.test(line))
    .filter((line) => !/requires you to be logged in .*\(dry-run\)/.test(line))
}

rmSync(PACKED_DIR, { recursive: true, force: true })
mkdirSync(PACKED_DIR, { recursive: true })
const rows: string[] = []
const tarballs: Record<string, string> = {}
for (const pkg of PUBLISHED) {
  const dist = join(root, pkg.dir, 'dist')
  if (!existsSync(join(dist, 'package.json')))
    throw new Error(`${pkg.name} is not built: run npm run build:packages first`)
  run(bin('publint'), [dist, '--strict', '--pack', 'npm'], root)
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', PACKED_DIR], dist),
  ) as PackResult[]
  const result = packed[0]
  if (!result) throw new Error(`npm pack printed no result for ${pkg.name}`)
  const tarball = join(PACKED_DIR, result.filename)
  run(
    bin('attw'),
    [
      tarball,
      '--profile',
      'esm-only',
      '--no-definitely-typed',
      '--format',
      'ascii',
      '--no-emoji',
      '--no-color',
    ],
    root,
  )
  const dryRun = spawnSync('npm', ['publish', '--dry-run'], { cwd: dist, encoding: 'utf8' })
  if (dryRun.status !== 0) throw new Error(`npm publish --dry-run of ${pkg.name} failed:\n${dryRun.stderr}`)
  // npm prints its notices and warnings on stderr; a clean dry run has only the credentials notice.
  const warnings = npmWarnings(`${dryRun.stdout}\n${dryRun.stderr}`)
  if (warnings.length > 0)
    throw new Error(`npm publish --dry-run of ${pkg.name} warns:\n${warnings.join('\n')}`)
  tarballs[pkg.name] = tarball
  rows.push(
    `${pkg.name.padEnd(20)} ${kB(result.size).padStart(9)} ${kB(result.unpackedSize).padStart(11)} ${String(result.entryCount).padStart(6)}`,
  )
}
writeFileSync(join(PACKED_DIR, 'tarballs.json'), `${JSON.stringify(tarballs, null, 2)}\n`)
console.info(`publint, attw and npm publish --dry-run clean; tarballs in ${PACKED_DIR}`)
console.info(
  `${'package'.padEnd(20)} ${'tarball'.padStart(9)} ${'unpacked'.padStart(11)} ${'files'.padStart(6)}`,
)
for (const row of rows) console.info(row)

function kB(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`
}
