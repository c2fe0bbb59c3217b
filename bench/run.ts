/*
| Benchmark runner: boots the app (console environment, the test database
| and Redis db from .env.test) and runs one benchmark module from bench/.
| Each figure prints alone on a line: FIGURE <name> <value> <unit>.
|   node --import @poppinss/ts-exec bench/run.ts transcode
*/
process.env.NODE_ENV = 'test'
import { spawnSync } from 'node:child_process'
import { createIgnitor } from '../bin/ignitor.js'

const name = process.argv[2]
if (!name || !/^[a-z_]+$/.test(name)) {
  console.error('usage: bench/run.ts <transcode|upload|faults|playback|webhooks|chain>')
  process.exit(2)
}

// The test suite rolls its schema back when it ends: make sure it is there.
const migrate = spawnSync(process.execPath, ['ace', 'migration:run', '--force'], { stdio: ['ignore', 'ignore', 'inherit'] })
if (migrate.status !== 0) process.exit(1)

const app = createIgnitor().createApp('console')
await app.init()
await app.boot()
await app.start(async () => {})

let exitCode = 0
try {
  const { default: bench } = await import(`./${name}.ts`)
  await bench()
} catch (error) {
  console.error(error)
  exitCode = 1
} finally {
  await app.terminate()
}
process.exit(exitCode)
