import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type Queue from 'bee-queue'
import type { JobHandler } from '#jobs/queues'

/**
 * A worker process: consumes every queue of app/jobs/queues.ts (or the ones
 * named with --queue) until SIGINT/SIGTERM, then finishes its jobs and exits.
 * Run as many as you like, on as many machines as reach the same Redis.
 */
export default class QueueWork extends BaseCommand {
  static commandName = 'queue:work'
  static description = 'Run a background worker that processes queued jobs'
  static options: CommandOptions = { startApp: true, staysAlive: true }

  @flags.array({ description: 'Only these queues (default: all)' })
  declare queue?: string[]

  @flags.number({ description: 'Jobs run at once per queue (default: from config/queue.ts)' })
  declare concurrency?: number

  async run() {
    const { default: queues } = await import('#services/queue_service')
    const { JOBS } = await import('#jobs/registry')
    const { default: queueConfig } = await import('#config/queue')

    const names = (this.queue?.length ? this.queue : queues.queueNames()) as Array<keyof typeof JOBS>
    const unknown = names.filter((name) => !JOBS[name])
    if (unknown.length) {
      this.logger.error(`Unknown queue(s): ${unknown.join(', ')}. Known: ${Object.keys(JOBS).join(', ')}`)
      this.exitCode = 1
      return this.terminate()
    }

    const concurrencyOf = (name: string) =>
      this.concurrency ?? (queueConfig.concurrencyByQueue as Record<string, number>)[name] ?? queueConfig.concurrency
    const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    const workers: Queue[] = []

    for (const name of names) {
      const handler: JobHandler = (await JOBS[name]()).default
      const worker = queues.worker(name)
      worker.on('failed', (job, error) => this.logger.warning(`job ${name}#${job.id} failed: ${error.message}`))
      worker.process(concurrencyOf(name), (job) => queues.perform(job, handler))
      // Jobs whose worker died (no lock renewal) go back to waiting.
      worker.checkStalledJobs(queueConfig.stallIntervalMs, () => {})
      workers.push(worker)
    }

    const beat = () => queues.beat(workerId, { queues: names, pid: process.pid }).catch(() => {})
    await beat()
    const heartbeat = setInterval(beat, queueConfig.heartbeatIntervalMs)
    this.logger.info(`worker ${workerId} consuming ${names.map((n) => `${n}×${concurrencyOf(n)}`).join(', ')}`)

    // Periodic chores (app/services/chores): reconciler, purges, expiries, sweeps.
    const { workerChores } = await import('#services/chores/index')
    const { ChoreScheduler } = await import('#services/chores/scheduler')
    const { default: reconcileTranscodes } = await import('#services/chores/reconcile_transcodes')
    const chores = new ChoreScheduler(await workerChores(names))

    // bin/console.ts turns SIGTERM into app.terminate(); Ctrl-C does the same
    // here. Cleanup runs as a terminating hook, before Redis is closed.
    this.app.terminating(async () => {
      clearInterval(heartbeat)
      await chores.stop()
      this.logger.info('worker stopping: finishing active jobs')
      await Promise.all(workers.map((worker) => worker.close(10_000).catch(() => {})))
      await queues.forget(workerId).catch(() => {})
      await queues.shutdown()
    })
    chores.start()
    // Redis keeps nothing on disk: when it comes back after an outage its
    // queues may be empty, so the reconciler runs at once rather than at its
    // next turn (PostgreSQL says what should be queued).
    const { default: redis } = await import('@adonisjs/redis/services/main')
    let redisWasLost = false
    redis.connection().on('close', () => {
      redisWasLost = true
    })
    redis.connection().on('ready', () => {
      if (!redisWasLost) return
      redisWasLost = false
      this.logger.info('Redis is back: reconciling the transcode queue with PostgreSQL')
      // Two seconds: bee-queue's own connections reconnect within one.
      setTimeout(() => void chores.runNow(reconcileTranscodes.name), 2000).unref()
    })
    process.once('SIGINT', () => this.app.terminate())
  }
}
