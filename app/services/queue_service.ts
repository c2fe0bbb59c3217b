import { hostname } from 'node:os'
import Queue from 'bee-queue'
import app from '@adonisjs/core/services/app'
import redis from '@adonisjs/redis/services/main'
import queueConfig from '#config/queue'
import { JOBS, type QueueName } from '#jobs/registry'

const HEARTBEAT_KEY = `${queueConfig.prefix}:workers`

/**
 * Queues whose jobs are disposable renders: a failed job is dropped (not kept
 * for inspection) so the same job id can be enqueued again, and producers
 * keep no per-job state or events.
 */
const DISPOSABLE: ReadonlySet<string> = new Set(['watermark', 'watermark_ahead'])

/**
 * Producers and workers for bee-queue. Producer queues are cached per
 * process; workers are made by `node ace queue:work`.
 */
export class QueueService {
  #producers = new Map<string, Queue>()

  producer(name: QueueName): Queue {
    let queue = this.#producers.get(name)
    if (!queue) {
      queue = new Queue(name, {
        prefix: queueConfig.prefix,
        redis: { ...queueConfig.redis },
        isWorker: false,
        getEvents: !DISPOSABLE.has(name),
        storeJobs: !DISPOSABLE.has(name),
        activateDelayedJobs: false,
        removeOnSuccess: true,
      })
      this.#producers.set(name, queue)
    }
    return queue
  }

  worker(name: QueueName): Queue {
    return new Queue(name, {
      prefix: queueConfig.prefix,
      redis: { ...queueConfig.redis },
      isWorker: true,
      getEvents: false,
      activateDelayedJobs: true,
      stallInterval: queueConfig.stallIntervalMs,
      removeOnSuccess: true,
      removeOnFailure: DISPOSABLE.has(name),
    })
  }

  queueNames(): QueueName[] {
    return Object.keys(JOBS) as QueueName[]
  }

  /**
   * Enqueues a job and waits for its result (health checks, tests).
   */
  async run<T = unknown>(name: QueueName, data: unknown, timeoutMs = 10_000): Promise<T> {
    const job = await this.producer(name).createJob(data).timeout(timeoutMs).save()
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No worker answered job ${name}#${job.id} within ${timeoutMs} ms`)), timeoutMs)
      job.on('succeeded', (result) => {
        clearTimeout(timer)
        resolve(result)
      })
      job.on('failed', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  /** Workers record themselves in a Redis hash: id → last beat. */
  async beat(workerId: string, info: Record<string, unknown>) {
    await redis.hset(HEARTBEAT_KEY, workerId, JSON.stringify({ ...info, host: hostname(), at: Date.now() }))
  }

  async forget(workerId: string) {
    await redis.hdel(HEARTBEAT_KEY, workerId)
  }

  /** Workers seen within three heartbeat intervals. */
  async liveWorkers() {
    const all = await redis.hgetall(HEARTBEAT_KEY)
    const cutoff = Date.now() - 3 * queueConfig.heartbeatIntervalMs
    return Object.entries(all)
      .map(([id, raw]) => ({ id, ...(JSON.parse(raw) as { host: string; at: number }) }))
      .filter((worker) => worker.at >= cutoff)
  }

  async closeAll() {
    await Promise.all([...this.#producers.values()].map((queue) => queue.close(2000).catch(() => {})))
    this.#producers.clear()
  }
}

const queues = new QueueService()
// Producer connections keep a process alive: a command that queued jobs (the
// demo seeder) would never exit without this.
app.terminating(() => queues.closeAll())
export default queues
