#!/usr/bin/env tsx
// The one command an operator runs: `fedrec-aggregator --catalogue catalogue.json`. See --help.
import { parseCommandLine } from './config.ts'
import { StartupError } from './errors.ts'
import { startServer } from './server.ts'

async function main(): Promise<void> {
  const options = parseCommandLine(process.argv)
  const server = await startServer(options)
  // stdout carries exactly this one line: launchers and tests parse it.
  process.stdout.write(`fedrec aggregator listening on ${server.url}\n`)
  if (options.operatorTokenGenerated)
    process.stderr.write(`fedrec aggregator operator token: ${options.operatorToken}\n`)
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
}

main().catch((err: unknown) => {
  // Expected failures (an unusable store, a port in use) get their message; anything else its stack.
  const expected = err instanceof StartupError || (err instanceof Error && 'code' in err)
  const message = err instanceof Error ? (expected ? err.message : (err.stack ?? err.message)) : String(err)
  process.stderr.write(`fedrec aggregator: cannot start: ${message}\n`)
  process.exit(1)
})
