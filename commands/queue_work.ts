import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type Queue from 'bee-queue'
import type { JobHandler } from '#jobs/registry'

/**
 * A worker process: consumes every queue of app/jobs/registry.ts (or the ones
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
      worker.on('error', (error) => this.logger.error(`queue ${name}: ${error.message}`))
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

    // bin/console.ts turns SIGTERM into app.terminate(); Ctrl-C does the same
    // here. Cleanup runs as a terminating hook, before Redis is closed. It is
    // registered before the start-up chores so a stop during them still works.
    const timers: NodeJS.Timeout[] = [heartbeat]
    let stopping = false
    this.app.terminating(async () => {
      stopping = true
      timers.forEach(clearInterval)
      this.logger.info('worker stopping: finishing active jobs')
      await Promise.all(workers.map((worker) => worker.close(10_000).catch(() => {})))
      await queues.forget(workerId).catch(() => {})
      await queues.shutdown()
    })
    // A chore runs now and then every `ms`, unless the worker is stopping:
    // once it is, Redis and PostgreSQL are closing, and a chore started then
    // would open new connections that keep the process alive.
    const chore = async (ms: number, work: () => Promise<unknown>) => {
      if (stopping) return
      await work()
      if (!stopping) timers.push(setInterval(() => !stopping && work(), ms))
    }

    // PostgreSQL is the truth: re-enqueue what Redis lost, now and periodically.
    if (names.includes('transcode')) {
      const { default: transcoder } = await import('#services/transcode_service')
      await transcoder.sweepStaleWorkDirs()
      const reconcile = () => transcoder.reconcile().catch((error) => this.logger.error(`reconciler: ${error.message}`))
      await chore(queueConfig.reconcileIntervalMs, reconcile)
    }

    // Watermark renders of ended sessions are deleted; one worker at a time does it.
    if (names.includes('watermark') || names.includes('watermark_ahead')) {
      const { default: watermarks } = await import('#services/watermark_service')
      const { default: playback } = await import('#services/playback_service')
      const { withLock } = await import('#services/lock_service')
      const { default: playbackConfig } = await import('#config/playback')
      await watermarks.sweepStaleWorkDirs()
      const purge = () =>
        withLock('purge-playback', 5 * 60_000, () => playback.purgeEnded()).catch((error) =>
          this.logger.error(`playback purge: ${error.message}`)
        )
      await chore(playbackConfig.watermark.purgeIntervalMs, purge)
    }

    // Checkouts nobody finished become expired (providers that report expiry do it sooner).
    {
      const { default: orders } = await import('#services/order_service')
      const { withLock } = await import('#services/lock_service')
      const expire = () =>
        withLock('expire-orders', 60_000, () => orders.expireStale()).catch((error) =>
          this.logger.error(`order expiry: ${error.message}`)
        )
      await chore(5 * 60_000, expire)
    }
    process.once('SIGINT', () => this.app.terminate())
  }
}
