#!/usr/bin/env tsx
// `npm run simulate -- --dataset movielens --path u.data --rounds 40 --out r.json`. See --help.
import { writeFileSync } from 'node:fs'
import { InvalidArgumentError } from 'commander'
import { renderChart } from './chart.ts'
import { createCommand } from './cli-command.ts'
import { simulationOptionsOf } from './cli-options.ts'
import { createCliReport } from './cli-report.ts'
import { isDatasetFormat, loadDataset } from './datasets/index.ts'
import { useNodeBackend } from './node-backend.ts'
import { simulateShops } from './shops-cli.ts'
import { formatShops } from './shops-table.ts'
import { simulate } from './simulate.ts'
import { leaveOneOut } from './split.ts'
import { formatSummary } from './table.ts'

async function main(): Promise<void> {
  const command = createCommand().parse(process.argv)
  const o = command.opts<Record<string, unknown>>()
  const dataset = o.dataset
  if (!isDatasetFormat(dataset)) throw new InvalidArgumentError(`unknown data-set format ${String(dataset)}`)
  const path = String(o.path)
  if (typeof o.writeCatalogue === 'string') {
    const split = leaveOneOut(loadDataset(dataset, path), { negatives: 1, seed: 0 })
    writeFileSync(o.writeCatalogue, `${JSON.stringify(split.itemIds)}\n`)
    process.stderr.write(`wrote ${split.itemIds.length} item ids to ${o.writeCatalogue}\n`)
    return
  }
  const options = simulationOptionsOf(command, dataset, path)
  const { tf, backend } = await useNodeBackend(o.backend === 'cpu' ? ['cpu'] : ['wasm', 'cpu'])
  const report = createCliReport({ quiet: o.quiet === true, attack: options.attack, rounds: options.rounds })
  const { print } = report
  print(
    `backend ${backend}; ${options.endpoint ? `aggregator ${options.endpoint}` : 'in-process aggregation'}`,
  )
  if (typeof o.shops === 'string') {
    const shops = await simulateShops(tf, options, o.shops, report.progress)
    report.stop()
    print(formatShops(shops).join('\n'))
    if (typeof o.out === 'string') {
      writeFileSync(o.out, `${JSON.stringify({ settings: options, ...shops }, null, 2)}\n`)
      print(`results: ${o.out}`)
    }
    return
  }
  const results = await simulate(tf, backend, options, report.progress)
  report.stop()
  print('')
  print(formatSummary(results))
  if (typeof o.out === 'string') {
    writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`)
    const chart = typeof o.chart === 'string' ? o.chart : `${o.out.replace(/\.json$/i, '')}.svg`
    writeFileSync(chart, renderChart(results))
    print(`results: ${o.out}; chart: ${chart}`)
  } else if (typeof o.chart === 'string') {
    writeFileSync(o.chart, renderChart(results))
  }
}

main().catch((err: unknown) => {
  const coded = err instanceof Error && 'code' in err
  const message = err instanceof Error ? (coded ? err.message : (err.stack ?? err.message)) : String(err)
  process.stderr.write(`fedrec simulate: ${message}\n`)
  process.exit(1)
})
