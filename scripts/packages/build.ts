// Builds the four published packages into `<package>/dist/`, each a complete package folder (its own
// package.json, README, LICENSE, NOTICE): compiled ESM JavaScript and bundled .d.ts, nothing of this
// repository's tsconfig or sources. The workspace's own package.json files keep pointing at `src/`, so
// the monorepo (Vitest, tsx, the storefront's Vite) runs on sources and never needs this build.
//
//   npx tsx scripts/packages/build.ts            # all of them
//   npx tsx scripts/packages/build.ts browser    # one
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { build, type Options } from 'tsup'
import { PUBLISHED, type Published, root, sourceManifest } from './published.ts'
import { thirdPartyNotices } from './third-party.ts'

type Plugin = NonNullable<Options['esbuildPlugins']>[number]
type Metafile = {
  inputs: Record<string, unknown>
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>
}

const common: Options = {
  config: false,
  format: ['esm'],
  target: 'es2022',
  silent: true,
  splitting: true,
  sourcemap: false,
  metafile: true,
}

/** Bare specifier → package name (`@scope/name/sub` → `@scope/name`). */
const packageName = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/')

/** Every dependency a package's own source lists is left to the package manager, never bundled. */
const externals = (pkg: Published): RegExp[] =>
  Object.keys(sourceManifest(pkg).dependencies ?? {}).map(
    (name) => new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/|$)`),
  )

/**
 * `import url from 'x.wasm?url'` (Vite's asset import, used by the worker's sources) becomes
 * `new URL('./x.wasm', import.meta.url).href` with the file copied beside the output: the pattern every
 * bundler (and a browser without one) understands.
 */
function wasmUrls(outDir: string, copied: string[]): Plugin {
  return {
    name: 'fedrec-wasm-url',
    setup(esbuild) {
      esbuild.onResolve({ filter: /\.wasm\?url$/ }, (args) => ({
        path: createRequire(args.importer).resolve(args.path.replace(/\?url$/, '')),
        namespace: 'fedrec-wasm-url',
      }))
      esbuild.onLoad({ filter: /.*/, namespace: 'fedrec-wasm-url' }, (args) => {
        const file = args.path
        mkdirSync(outDir, { recursive: true })
        copyFileSync(file, join(outDir, basename(file)))
        chmodSync(join(outDir, basename(file)), 0o644)
        copied.push(basename(file))
        return {
          contents: `export default new URL(${JSON.stringify(`./${basename(file)}`)}, import.meta.url).href`,
          loader: 'js',
        }
      })
    },
  }
}

/** In the sources the worker is `./worker.ts`; in the package it is `./worker.js` beside the entry. */
const workerFileName: Plugin = {
  name: 'fedrec-worker-file',
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]worker-start\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const literal = "new URL('./worker.ts', import.meta.url)"
      if (!source.includes(literal)) throw new Error(`${args.path} no longer contains ${literal}`)
      return { contents: source.replace(literal, "new URL('./worker.js', import.meta.url)"), loader: 'ts' }
    })
  },
}

/**
 * The browser package's types must not need @fedrec/core or @fedrec/protocol (it has no dependencies): its
 * .d.ts inlines the few types it uses from them. rollup-plugin-dts inlines declaration files only, so the
 * types build resolves each of their entries to its built `.d.ts` (build them first) instead of sources.
 */
function typesFromBuiltPackages(tsconfig: string): string {
  const paths: Record<string, string[]> = {}
  for (const pkg of PUBLISHED.filter((p) => !p.bundleDependencies && p.platform === 'neutral')) {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      const types = join(root, pkg.dir, 'dist', target.types)
      if (!existsSync(types))
        throw new Error(`build ${pkg.name} before the browser package (${types} is missing)`)
      paths[`${pkg.name}${subpath.slice(1)}`] = [types]
    }
  }
  const file = join(mkdtempSync(join(tmpdir(), 'fedrec-build-')), 'tsconfig.json')
  writeFileSync(file, JSON.stringify({ extends: tsconfig, compilerOptions: { paths } }))
  return file
}

function readMetafile(outDir: string): Metafile {
  return JSON.parse(readFileSync(join(outDir, 'metafile-esm.json'), 'utf8')) as Metafile
}

async function buildPackage(pkg: Published): Promise<void> {
  const dir = join(root, pkg.dir)
  const outDir = join(dir, 'dist')
  const tsconfig = join(dir, 'tsconfig.json')
  const entry = Object.fromEntries(Object.entries(pkg.entries).map(([name, src]) => [name, join(dir, src)]))
  const inputs: string[] = []
  const imported = new Set<string>()
  const collect = (): void => {
    const meta = readMetafile(outDir)
    inputs.push(...Object.keys(meta.inputs))
    for (const output of Object.values(meta.outputs))
      for (const i of output.imports) if (i.external && !isBuiltin(i.path)) imported.add(packageName(i.path))
  }
  const wasm: string[] = []
  if (pkg.bundleDependencies) {
    // The browser package: self-contained files a page (or a bundler) loads as they are.
    await build({
      ...common,
      entry,
      outDir,
      clean: true,
      platform: 'browser',
      noExternal: [/.*/],
      esbuildPlugins: [workerFileName],
      tsconfig: typesFromBuiltPackages(tsconfig),
      dts: { resolve: [/^@fedrec\//] },
    })
    collect()
    await build({
      ...common,
      entry: { worker: join(dir, 'src/worker.ts') },
      outDir,
      clean: false,
      platform: 'browser',
      noExternal: [/.*/],
      splitting: false,
      // The worker is mostly TensorFlow.js: minified it is a third of the size, and nobody debugs tfjs here.
      minify: true,
      // tfjs's Emscripten glue reads `typeof __filename` to detect Node. webpack answers that typeof
      // with 'string' for any module yet defines no such variable in an ES module, so the worker would
      // throw a ReferenceError there: in a browser build these are simply undefined.
      define: { __filename: 'undefined', __dirname: 'undefined' },
      esbuildPlugins: [wasmUrls(outDir, wasm)],
      tsconfig,
    })
    collect()
  } else {
    await build({
      ...common,
      entry,
      outDir,
      clean: true,
      platform: pkg.platform,
      target: pkg.platform === 'node' ? 'node20' : 'es2022',
      external: externals(pkg),
      tsconfig,
      dts: { entry: Object.fromEntries(Object.entries(entry).filter(([name]) => name !== 'cli')) },
    })
    collect()
  }
  // Types a package's declarations import are dependencies too (core's `typeof tf` needs tfjs-core's).
  for (const file of readdirSync(outDir).filter((f) => f.endsWith('.d.ts')))
    for (const [, specifier] of readFileSync(join(outDir, file), 'utf8').matchAll(/from '([^'.][^']*)'/g))
      if (specifier && !isBuiltin(specifier)) imported.add(packageName(specifier))
  for (const [from, to] of pkg.copy ?? []) {
    mkdirSync(dirname(join(outDir, to)), { recursive: true })
    copyFileSync(join(dir, from), join(outDir, to))
  }
  if (pkg.bin) {
    // The source's hashbang runs it through tsx; the package runs compiled JavaScript on plain Node.
    const file = join(outDir, pkg.bin)
    const code = readFileSync(file, 'utf8').replace(/^#!.*\n/, '')
    writeFileSync(file, `#!/usr/bin/env node\n${code}`, { mode: 0o755 })
  }
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(manifest(pkg, imported), null, 2)}\n`)
  copyFileSync(join(root, 'LICENSE'), join(outDir, 'LICENSE'))
  copyFileSync(join(root, 'NOTICE'), join(outDir, 'NOTICE'))
  copyFileSync(join(dir, 'README.md'), join(outDir, 'README.md'))
  const bundled = inputs.filter((input) => input.includes('node_modules/'))
  if (bundled.length > 0)
    writeFileSync(join(outDir, 'THIRD_PARTY_NOTICES.md'), thirdPartyNotices(pkg.name, bundled))
  rmSync(join(outDir, 'metafile-esm.json'))
  console.info(`built ${pkg.name} → ${relative(root, outDir)}${wasm.length ? ` (+ ${wasm.join(', ')})` : ''}`)
}

/** The published package.json: what a consumer's tools read, nothing of the workspace's. */
function manifest(pkg: Published, imported: ReadonlySet<string>): Record<string, unknown> {
  const source = sourceManifest(pkg)
  const declared = source.dependencies ?? {}
  const main = pkg.exports['.']
  const dependencies: Record<string, string> = {}
  for (const name of [...imported, ...(pkg.resolvedAtRunTime ?? [])].sort()) {
    const version = declared[name]
    if (!version) throw new Error(`${pkg.name} imports ${name}, which its package.json does not list`)
    dependencies[name] = version
  }
  return {
    name: pkg.name,
    version: source.version,
    description: pkg.description,
    license: source.license,
    keywords: ['federated-learning', 'recommender', 'recommendations', 'privacy', 'tensorflowjs'],
    type: 'module',
    ...(pkg.bin ? { bin: { 'fedrec-aggregator': pkg.bin } } : {}),
    exports: pkg.exports,
    ...(typeof main === 'object' ? { types: main.types } : {}),
    files: pkg.files,
    sideEffects: pkg.sideEffects,
    engines: { node: '>=20.19' },
    ...(Object.keys(dependencies).length > 0 ? { dependencies } : {}),
    // Scoped packages are private on npm unless published as public.
    publishConfig: { access: 'public' },
  }
}

const only = process.argv.slice(2)
for (const pkg of PUBLISHED) {
  if (only.length > 0 && !only.includes(pkg.short)) continue
  await buildPackage(pkg)
}
