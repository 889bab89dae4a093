#!/usr/bin/env tsx
// The one command an operator runs: `fedrec-aggregator --catalogue catalogue.json`. See --help.
import { parseCommandLine } from './cli-command.ts'
import { StartupError } from './errors.ts'
import { startServer } from './server.ts'

async function main(): Promise<void> {
  const options = parseCommandLine(process.argv)
  const server = await startServer(options)
  // Handlers first: a launcher may signal the moment it reads the listening line.
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    process.stderr.write(`fedrec aggregator: ${signal}, closing\n`)
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`fedrec aggregator: close failed: ${String(err)}\n`)
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  if (server.aggregator.storeCreated) {
    process.stderr.write(
      `fedrec aggregator: created a fresh store at ${server.aggregator.storePath} (model version 0); later starts must find it there\n`,
    )
  }
  // stdout carries exactly this one line: launchers and tests parse it.
  process.stdout.write(`fedrec aggregator listening on ${server.url}\n`)
  if (options.operatorTokenGenerated)
    process.stderr.write(`fedrec aggregator operator token: ${options.operatorToken}\n`)
  // The token rides in the URL fragment, which the browser never sends to the server (or its logs).
  process.stderr.write(
    `fedrec aggregator dashboard: ${server.url}/dashboard${options.operatorTokenGenerated ? `#token=${options.operatorToken}` : ''}\n`,
  )
}

main().catch((err: unknown) => {
  // Expected failures (an unusable store, a port in use) get their message; anything else its stack.
  const expected = err instanceof StartupError || (err instanceof Error && 'code' in err)
  const message = err instanceof Error ? (expected ? err.message : (err.stack ?? err.message)) : String(err)
  process.stderr.write(`fedrec aggregator: cannot start: ${message}\n`)
  process.exit(1)
})
