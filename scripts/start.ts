// `npm start`: the aggregator on its embedded store plus the demo storefront, one command, URLs printed.
// Settings through the environment: FEDREC_PORT (aggregator, default 8787), STOREFRONT_PORT (5173),
// FEDREC_STORE (default .fedrec/aggregator.sqlite) and every other FEDREC_* flag of the aggregator.
// The demo closes a round on every upload (FEDREC_MIN_CLIENTS=1) so that one person trying the shop sees
// the model version move; a real deployment keeps the aggregator's quorum of 3 or more.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

const aggregatorPort = process.env.FEDREC_PORT ?? '8787'
const storefrontPort = process.env.STOREFRONT_PORT ?? '5173'
const host = '127.0.0.1'
const children: ChildProcess[] = []

function run(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(`[${name}] ${line}\n`)
      onLine(line)
    })
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`[${name}] exited (${signal ?? code})\n`)
    shutdown(code ?? 1)
  })
  return child
}

let stopping = false
function shutdown(code: number) {
  if (stopping) return
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  setTimeout(() => process.exit(code), 500).unref()
}
process.on('SIGINT', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))

let aggregatorUrl = ''
let dashboardUrl = ''
run(
  'aggregator',
  process.execPath,
  [
    '--import',
    'tsx',
    'apps/aggregator/src/cli.ts',
    '--host',
    host,
    '--port',
    aggregatorPort,
    '--catalogue',
    'apps/storefront/public/catalogue.json',
  ],
  { FEDREC_MIN_CLIENTS: process.env.FEDREC_MIN_CLIENTS ?? '1' },
  (line) => {
    const dashboard = /dashboard: (http:\/\/\S+)/.exec(line)
    if (dashboard?.[1]) dashboardUrl = dashboard[1]
    const match = /listening on (http:\/\/\S+)/.exec(line)
    if (!match?.[1]) return
    aggregatorUrl = match[1]
    run(
      'storefront',
      process.execPath,
      [
        'node_modules/vite/bin/vite.js',
        'apps/storefront',
        '--host',
        host,
        '--port',
        storefrontPort,
        '--strictPort',
      ],
      { VITE_FEDREC_ENDPOINT: `${aggregatorUrl}/` },
      (l) => {
        if (/ready in/.test(l)) {
          process.stdout.write(
            `\nfedrec is up:\n  storefront  http://${host}:${storefrontPort}/\n  aggregator  ${aggregatorUrl}/v1/status\n  dashboard   ${dashboardUrl || `${aggregatorUrl}/dashboard`}\nCtrl-C stops both.\n\n`,
          )
        }
      },
    )
  },
)
