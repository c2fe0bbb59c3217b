import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
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
  for (const name of ['APP_KEY', 'S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID', 'S3_BUCKET', 'S3_ENDPOINT', 'STORAGE_BACKEND', 'DB_PASSWORD', 'APP_URL']) delete env[name]
  return run('docker-compose', ['--env-file', envFile, '-f', app.makePath('docker-compose.yml'), 'config'], { env })
}

/** The resolved file's services, each as its block of text (the resolved YAML is regular: two-space indents). */
function servicesOf(config: string) {
  const section = config.split(/^services:\n/m)[1].split(/^\S/m)[0]
  const blocks = new Map<string, string>()
  for (const block of section.split(/^(?=  [a-z][\w-]*:\n)/m)) {
    const name = block.match(/^  ([a-z][\w-]*):/)?.[1]
    if (name) blocks.set(name, block)
  }
  return blocks
}

const SECRETS = ['APP_KEY=an-example-key-of-enough-length-123', 'S3_SECRET_ACCESS_KEY=an-example-minio-secret']

test.group('docker-compose.yml', () => {
  test('a load balancer over N web nodes, N workers, the chain watcher, PostgreSQL, Redis and MinIO, with health checks and restart policies', async ({ assert }) => {
    const { stdout } = await composeConfig(SECRETS)
    const services = servicesOf(stdout)
    assert.sameMembers([...services.keys()], ['lb', 'web', 'worker', 'chain-watcher', 'migrate', 'postgres', 'redis', 'minio', 'minio-bucket'])
    // Long-running services: a health check and a restart policy each; one-shot ones retry on failure.
    for (const name of ['lb', 'web', 'worker', 'chain-watcher', 'postgres', 'redis', 'minio']) {
      assert.match(services.get(name)!, /\n    healthcheck:\n/, `${name} has a health check`)
      assert.include(services.get(name)!, 'restart: unless-stopped', `${name} restarts`)
    }
    for (const name of ['migrate', 'minio-bucket']) assert.include(services.get(name)!, 'restart: on-failure')
    // N replicas by default, and the balancer's configuration from the repository.
    assert.match(services.get('web')!, /replicas: 2/)
    assert.match(services.get('worker')!, /replicas: 2/)
    assert.include(services.get('lb')!, '/deploy/nginx.conf:/etc/nginx/nginx.conf:ro')
    assert.include(services.get('worker')!, 'queue:work')
    assert.include(services.get('chain-watcher')!, 'x402:watch')
    assert.include(services.get('migrate')!, 'migration:run')
    assert.include(services.get('postgres')!, 'pg_isready')
    assert.include(services.get('redis')!, 'redis-cli')
    assert.include(services.get('minio')!, 'MINIO_ROOT_PASSWORD: an-example-minio-secret')
    // Every app process: the shared services, media on S3, the key given.
    for (const name of ['web', 'worker', 'chain-watcher', 'migrate']) {
      const block = services.get(name)!
      assert.include(block, 'APP_KEY: an-example-key-of-enough-length-123')
      assert.include(block, 'STORAGE_BACKEND: s3')
      assert.include(block, 'S3_ENDPOINT: http://minio:9000')
      assert.include(block, 'SESSION_DRIVER: redis')
    }
    // Web nodes and workers start after the migrations ran once.
    for (const name of ['web', 'worker']) assert.match(services.get(name)!, /migrate:\n\s+condition: service_completed_successfully/)
    assert.match(stdout, /volumes:\s*\n\s+media:/)
    assert.match(stdout, /\n  pgdata:/)
  })

  test('the balancer round-robins over every web replica, without sticky routing', async ({ assert }) => {
    const nginx = (await readFile(app.makePath('deploy/nginx.conf'), 'utf8')).replace(/#.*$/gm, '')
    assert.match(nginx, /upstream matinee \{[^}]*server web:3333 resolve/)
    assert.notMatch(nginx, /\b(ip_hash|hash |sticky)\b/)
    assert.include(nginx, 'client_max_body_size 0;')
    assert.include(nginx, 'proxy_next_upstream error timeout')
  })

  test('every variable of .env.example is set for the app processes or documented as kept at its default', async ({ assert }) => {
    const example = [...(await readFile(app.makePath('.env.example'), 'utf8')).matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1])
    const compose = await readFile(app.makePath('docker-compose.yml'), 'utf8')
    const documented = new Set(compose.split('\nx-app-env:')[0].match(/\b[A-Z][A-Z0-9_]+\b/g))
    const { stdout } = await composeConfig(SECRETS)
    const web = servicesOf(stdout).get('web')!
    const set = new Set([...web.matchAll(/^      ([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]))
    const neither = example.filter((name) => !set.has(name) && !documented.has(name))
    assert.deepEqual(neither, [], 'in .env.example but neither set in docker-compose.yml nor listed in its header')
  })

  test('refuses to resolve without an APP_KEY or a storage secret', async ({ assert }) => {
    const noKey = await composeConfig([SECRETS[1]]).catch((e) => e)
    assert.instanceOf(noKey, Error)
    assert.include(String(noKey.stderr), 'set APP_KEY')
    const noSecret = await composeConfig([SECRETS[0]]).catch((e) => e)
    assert.instanceOf(noSecret, Error)
    assert.include(String(noSecret.stderr), 'set S3_SECRET_ACCESS_KEY')
  })
})
