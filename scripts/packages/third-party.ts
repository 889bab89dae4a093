// THIRD_PARTY_NOTICES.md of a package that bundles other people's code: one section per bundled npm
// package, with its version, licence and the licence text it ships.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { root } from './published.ts'

interface Bundled {
  name: string
  version: string
  license: string
  text: string
}

/**
 * @param inputs the bundle's input files as esbuild's metafile lists them (relative to the repository)
 * @example thirdPartyNotices('@fedrec/browser', ['node_modules/comlink/dist/esm/comlink.mjs'])
 */
export function thirdPartyNotices(packageName: string, inputs: readonly string[]): string {
  const dirs = new Set<string>()
  for (const listed of inputs) {
    // `(disabled):…` are modules a package's `browser` field maps to nothing: no code of theirs is bundled.
    if (listed.startsWith('(disabled):')) continue
    // A plugin's namespace (`fedrec-wasm-url:/abs/path`) prefixes files it loaded: the file is what counts.
    const input = listed.replace(/^[\w-]+:(?=\/)/, '')
    const at = input.lastIndexOf('node_modules/')
    const rest = input.slice(at + 'node_modules/'.length).split('/')
    const name = rest[0]?.startsWith('@') ? rest.slice(0, 2).join('/') : rest[0]
    if (name) dirs.add(resolve(root, input.slice(0, at), 'node_modules', name))
  }
  const bundled = [...dirs].map(describe).sort((a, b) => a.name.localeCompare(b.name))
  const sections = bundled.map(
    (b) => `## ${b.name} ${b.version}\n\nLicence: ${b.license}\n\n\`\`\`\n${b.text.trim()}\n\`\`\`\n`,
  )
  return [
    `# Third-party code bundled in ${packageName}`,
    '',
    `${packageName} is licensed under the Apache License 2.0 (LICENSE). Its built files include the following`,
    'npm packages, each under its own licence, reproduced here.',
    '',
    ...sections,
  ].join('\n')
}

function describe(dir: string): Bundled {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string
    version: string
    license?: string
  }
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f))
  if (!file && !manifest.license) throw new Error(`${dir} has neither a licence file nor a license field`)
  const text = file && existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : ''
  return {
    name: manifest.name,
    version: manifest.version,
    license: manifest.license ?? 'see the text below',
    text: text || `${manifest.name} ships no licence file; its package.json says ${manifest.license}.`,
  }
}
