/*
| Benchmark runner: boots the app (console environment, the test database
| and Redis db from .env.test) and runs benchmark modules from bench/, one
| after the other (every one when none is named). Each figure prints alone on
| a line: FIGURE <name> <value> <unit>. With BENCH_SMOKE=1 every benchmark
| runs its code path at a tiny size, in seconds (make test runs them so).
|   node --import @poppinss/ts-exec bench/run.ts transcode upload
| A failing benchmark does not stop the others; the exit code says one failed.
*/
process.env.NODE_ENV = 'test'
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { createIgnitor } from '../bin/ignitor.js'
import { isSmoke } from './helpers.js'

/** Every benchmark, in the order `make bench` runs them (one module each, bench/<name>.ts). */
const BENCHES = ['transcode', 'upload', 'faults', 'playback', 'webhooks', 'chain', 'bad_media', 'outage', 'forensic', 'revocation', 'pages', 'cluster', 'x402']

const names = process.argv.slice(2).flatMap((arg) => arg.split(/[\s,]+/)).filter(Boolean)
const unknown = names.filter((name) => !BENCHES.includes(name))
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; usage: bench/run.ts [${BENCHES.join('|')}]...`)
  process.exit(2)
}

// The test suite rolls its schema back when it ends: make sure it is there.
const migrate = spawnSync(process.execPath, ['ace', 'migration:run', '--force'], { stdio: ['ignore', 'ignore', 'inherit'] })
if (migrate.status !== 0) process.exit(1)

const app = createIgnitor().createApp('console')
await app.init()
await app.boot()
await app.start(async () => {})

const failed = new Set<string>()
let current = ''
// A promise a benchmark forgot to await fails that benchmark, not the whole run.
process.on('unhandledRejection', (reason) => {
  console.error(`== bench ${current}: unhandled rejection:`, reason)
  failed.add(current)
})
try {
  for (const name of names.length ? names : BENCHES) {
    current = name
    console.log(`== bench ${name}${isSmoke() ? ' (smoke)' : ''}`)
    const started = performance.now()
    const seconds = () => ((performance.now() - started) / 1000).toFixed(1)
    try {
      const { default: bench } = await import(`./${name}.ts`)
      await bench()
      console.error(`== bench ${name} ${failed.has(name) ? 'FAILED' : 'done'} in ${seconds()} s`)
    } catch (error) {
      console.error(`== bench ${name} FAILED after ${seconds()} s:`, error)
      failed.add(name)
    }
  }
} finally {
  await app.terminate()
}
if (failed.size) console.error(`failed benchmarks: ${[...failed].join(', ')}`)
process.exit(failed.size ? 1 : 0)
