import type { ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { runAce, startAce, startWebServer, startWorker, stopProcess } from '#tests/helpers/processes'
import { PrivatePostgres, PrivateRedis, privateDir, removePrivateServices, sparePort } from '#tests/helpers/private_services'

const DATABASE = 'matinee_outage_test'

/**
 * A whole Matinee (web server, worker, chain watcher) as child processes on
 * a private PostgreSQL and Redis, so a test or a bench can kill and restart
 * those without disturbing anything else. This process reaches the private
 * database through the Lucid connection `outage` (`stack.db`).
 */
export class OutageStack {
  readonly processes: Array<{ name: string; process: ChildProcess; output: () => string }> = []
  readonly url: string

  private constructor(
    readonly dir: string,
    readonly redis: PrivateRedis,
    readonly postgres: PrivatePostgres,
    readonly env: Record<string, string>
  ) {
    this.url = env.APP_URL
  }

  /**
   * Starts the private services, migrates the database, and starts the
   * processes. `extraEnv` reaches every process (the Stripe stand-in's URL...).
   */
  static async start(options: { extraEnv?: Record<string, string>; watcher?: boolean } = {}) {
    const dir = await privateDir('outage')
    let redis: PrivateRedis | undefined
    let postgres: PrivatePostgres | undefined
    try {
      ;[redis, postgres] = await Promise.all([PrivateRedis.start(), PrivatePostgres.create(dir)])
      await postgres.createDatabase(DATABASE)
      const port = await sparePort()
      const childEnv: Record<string, string> = {
        DB_HOST: '127.0.0.1',
        DB_PORT: String(postgres.port),
        DB_USER: 'postgres',
        DB_DATABASE: DATABASE,
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        REDIS_DB: '0',
        QUEUE_PREFIX: 'matinee-outage',
        HOST: '127.0.0.1',
        PORT: String(port),
        APP_URL: `http://127.0.0.1:${port}`,
        STORAGE_LOCAL_ROOT: `tmp/outage-storage-${process.pid}`,
        UPLOAD_TMP_DIR: `tmp/outage-uploads-${process.pid}`,
        // Nobody answers here: the watcher runs, retrying the chain, and must
        // survive the outages like the others.
        X402_RPC_URL: `http://127.0.0.1:${await sparePort()}`,
        PLUGINS_EXTRA: '',
        LOG_LEVEL: 'info',
        TRANSCODE_CONCURRENCY: '1',
        ...options.extraEnv,
      }
      const stack = new OutageStack(dir, redis, postgres, childEnv)
      const migrated = await runAce(['migration:run', '--force'], childEnv, 90_000)
      if (migrated.code !== 0) throw new Error(`migrations failed on the private database:\n${migrated.output}`)
      db.manager.add('outage', {
        client: 'pg',
        connection: { host: '127.0.0.1', port: postgres.port, user: 'postgres', database: DATABASE },
      })
      await stack.#startProcesses(options.watcher ?? true)
      return stack
    } catch (error) {
      await removePrivateServices(dir, [redis, postgres])
      throw error
    }
  }

  async #startProcesses(watcher: boolean) {
    const [web, worker] = await Promise.all([startWebServer(this.env), startWorker([], this.env)])
    this.#track('web', web)
    this.#track('worker', worker.process)
    if (watcher) this.#track('chain watcher', startAce(['x402:watch'], this.env))
    // The watcher has nothing to print once started: give it time to boot.
    if (watcher) await sleep(3000)
    const exited = this.processes.find((entry) => entry.process.exitCode !== null)
    if (exited) throw new Error(`${exited.name} exited at start:\n${exited.output()}`)
  }

  #track(name: string, child: ChildProcess) {
    let output = ''
    child.stdout?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)))
    child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)))
    this.processes.push({ name, process: child, output: () => output })
  }

  /** The Lucid connection to the private database. */
  get db() {
    return db.connection('outage')
  }

  /** The processes that have not exited. */
  alive() {
    return this.processes.filter((entry) => entry.process.exitCode === null && entry.process.signalCode === null)
  }

  /** What the processes that exited printed (for a failure message). */
  deaths() {
    return this.processes
      .filter((entry) => !this.alive().includes(entry))
      .map((entry) => `${entry.name} exited (${entry.process.exitCode ?? entry.process.signalCode}):\n${entry.output().slice(-4000)}`)
      .join('\n\n')
  }

  /** Seconds from now until `check` first passes (polling every 100 ms), or throws after `timeoutMs`. */
  async secondsUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
    const start = performance.now()
    const deadline = Date.now() + timeoutMs
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`)
      await sleep(100)
    }
    return (performance.now() - start) / 1000
  }

  /**
   * Kills `service`, runs `meanwhile` (what happens during the outage),
   * keeps the service down `downMs` in all, and starts it again. Returns how
   * many processes were alive just before its return, and the seconds from
   * its return to the first page served.
   */
  async outage(service: PrivateRedis | PrivatePostgres, downMs: number, meanwhile: () => Promise<void>) {
    await service.kill()
    const downSince = Date.now()
    await meanwhile()
    await sleep(Math.max(0, downMs - (Date.now() - downSince)))
    const aliveWhileDown = this.alive().length
    await service.start()
    const pageServed = async () => (await fetch(this.url, { headers: { accept: 'text/html' } })).status === 200
    const recoverySeconds = await this.secondsUntil(pageServed, 60_000, 'a page after the service returned')
    return { aliveWhileDown, recoverySeconds }
  }

  async stop() {
    await Promise.all(this.alive().map((entry) => stopProcess(entry.process, 'SIGTERM', 20_000).catch(() => entry.process.kill('SIGKILL'))))
    await db.manager.release('outage').catch(() => {})
    await removePrivateServices(this.dir, [this.redis, this.postgres])
    await rm(app.makePath(this.env.STORAGE_LOCAL_ROOT), { recursive: true, force: true })
    await rm(app.makePath(this.env.UPLOAD_TMP_DIR), { recursive: true, force: true })
  }
}

/** The test environment's Stripe settings (the stand-in), for the stack's processes. */
export function stripeEnv(standInPort: number) {
  return {
    STRIPE_API_BASE: `http://127.0.0.1:${standInPort}`,
    STRIPE_SECRET_KEY: env.get('STRIPE_SECRET_KEY')!,
    STRIPE_WEBHOOK_SECRET: env.get('STRIPE_WEBHOOK_SECRET')!,
  }
}
