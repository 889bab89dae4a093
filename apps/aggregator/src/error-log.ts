// The aggregator's error log on stderr, where every failure is recorded: a request's 500, a round that failed
// to close, a store write that failed.

/**
 * Errors are always logged, whatever `DEBUG` says: a 500 answers "see the aggregator log", so the log must
 * hold it. One JSON line per error on stderr (a log shipper splits records by line; a stack trace over many
 * lines would become many records), with what failed and why — never a client id, a key or a payload: the
 * caller passes only fields it knows to be free of them (method, path, round numbers, counts).
 * @example logError('round_close_failed', err, { round: 7, closedBy: 'quorum' })
 */
export function logError(
  event: string,
  err: unknown,
  fields: Readonly<Record<string, string | number | boolean>> = {},
): void {
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  // Where it was thrown from: the first frame of the stack, not the whole trace.
  const at = err instanceof Error ? /\n\s+at (.+)/.exec(err.stack ?? '')?.[1] : undefined
  const line = {
    time: new Date().toISOString(),
    level: 'error',
    event,
    ...fields,
    error: error.length > 500 ? `${error.slice(0, 500)}…` : error,
    ...(at ? { at } : {}),
  }
  process.stderr.write(`fedrec aggregator: ${JSON.stringify(line)}\n`)
}
