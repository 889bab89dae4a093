// What the command line shows while a run goes: progress bars on a TTY, the per-round table, the phases.
import { MultiBar, Presets } from 'cli-progress'
import type { Progress } from './round-record.ts'
import { formatRound, tableHeader } from './table.ts'

/** The run's `Progress` for the terminal, `print` for the lines after it, `stop` to take the bars down. */
export interface CliReport {
  progress: Progress
  print: (line: string) => void
  stop: () => void
}

/**
 * Prints to stdout unless `quiet`; draws bars on stderr only when it is a TTY.
 * @example const report = createCliReport({ quiet: false, attack: false, rounds: 40 })
 */
export function createCliReport(options: { quiet: boolean; attack: boolean; rounds: number }): CliReport {
  const { quiet } = options
  const print = (line: string) => {
    if (!quiet) process.stdout.write(`${line}\n`)
  }
  const bars =
    !quiet && process.stderr.isTTY
      ? new MultiBar(
          {
            stream: process.stderr,
            clearOnComplete: true,
            hideCursor: true,
            format: ' {phase} [{bar}] {value}/{total} | {eta_formatted} left',
          },
          Presets.shades_classic,
        )
      : undefined
  let bar: ReturnType<MultiBar['create']> | undefined
  let perRound = false
  const line = (text: string) => (bars ? bars.log(`${text}\n`) : print(text))
  const progress: Progress = {
    phase(name, total) {
      if (name === 'federated') {
        // Over HTTP the round size is the aggregator's quorum, unknown here: the bar counts rounds then.
        perRound = total === undefined
        bar = bars?.create(total ?? options.rounds, 0, { phase: name })
        line(tableHeader(options.attack))
      } else if (!bars) print(`… ${name}`)
      bar?.update({ phase: name })
    },
    client: () => {
      if (!perRound) bar?.increment()
    },
    round: (r) => {
      if (perRound) bar?.increment()
      line(formatRound(r))
    },
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  }
  return { progress, print, stop: () => bars?.stop() }
}
