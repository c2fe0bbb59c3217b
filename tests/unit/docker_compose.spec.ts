import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'

const run = promisify(execFile)

/**
 * No Docker engine runs here, but Debian's docker-compose validates and
 * resolves the file (make test installs it).
 */
async function composeConfig(envLines: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'compose-'))
  const envFile = join(dir, 'compose.env')
  await writeFile(envFile, envLines.join('\n'))
  const env = { ...process.env }
  delete env.APP_KEY
  return run('docker-compose', ['--env-file', envFile, '-f', app.makePath('docker-compose.yml'), 'config'], { env })
}

test.group('docker-compose.yml', () => {
  test('describes app, worker, chain watcher, PostgreSQL and Redis with health checks and volumes', async ({ assert }) => {
    const { stdout } = await composeConfig(['APP_KEY=an-example-key-of-enough-length-123'])
    for (const service of ['app:', 'worker:', 'chain-watcher:', 'postgres:', 'redis:']) assert.include(stdout, `  ${service}`)
    assert.include(stdout, 'queue:work')
    assert.include(stdout, 'x402:watch')
    assert.include(stdout, 'pg_isready')
    assert.include(stdout, 'redis-cli')
    assert.match(stdout, /volumes:\s*\n\s+pgdata:/)
    assert.include(stdout, 'APP_KEY: an-example-key-of-enough-length-123')
  })

  test('refuses to resolve without an APP_KEY', async ({ assert }) => {
    const error = await composeConfig([]).catch((e) => e)
    assert.instanceOf(error, Error)
    assert.include(String(error.stderr), 'set APP_KEY')
  })
})
