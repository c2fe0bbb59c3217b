import { hostname } from 'node:os'
import { createRequire } from 'node:module'
import Queue from 'bee-queue'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import redis from '@adonisjs/redis/services/main'
import db from '@adonisjs/lucid/services/db'
import { isServiceOutage } from '#exceptions/service_unavailable'
import queueConfig from '#config/queue'
import { FinalJobFailure, QUEUE_NAMES, type JobHandler, type QueueName } from '#jobs/queues'

const HEARTBEAT_KEY = `${queueConfig.prefix}:workers`

/** How long a job that lost PostgreSQL or Redis waits for it before failing the attempt. */
const OUTAGE_WAIT_MS = 5 * 60_000

/** bee-queue's Lua scripts, which it loads into Redis once, when a queue connects. */
const beeQueueScripts: { buildCache(client: unknown): Promise<unknown> } = createRequire(import.meta.url)('bee-queue/lib/lua')

export type JobState = 'waiting' | 'active' | 'delayed' | 'failed' | 'succeeded'

export interface QueueCounts {
  waiting: number
  active: number
  delayed: number
  failed: number
}

/** A job as bee-queue stored it in Redis. */
export interface StoredJob {
  queue: QueueName
  id: string
  data: any
  createdAt: number
  /** When its last attempt failed (kept by `perform`; unknown for jobs that timed out). */
  failedAt: number | null
  /** Failed attempts so far: bee-queue keeps one stack trace per failed attempt. */
  failedAttempts: number
  /** The newest failure's message (its stack without the frames) and whole stack. */
  error: string | null
  stack: string | null
}

export interface WorkerBeat {
  id: string
  host: string
  pid?: number
  queues?: string[]
  at: number
  alive: boolean
}

/**
 * Moves a job from the failed set back to waiting, only if it is still
 * failed, in one step (bee-queue's Job#retry and removeJob do not check the
 * job's state, so a double click could queue a job twice).
 */
const REQUEUE_FAILED = `
if redis.call('srem', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
redis.call('lpush', KEYS[3], ARGV[1])
return 1`

/** Forgets a job, only if it is failed. */
const DISCARD_FAILED = `
if redis.call('srem', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('hdel', KEYS[2], ARGV[1])
return 1`

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
  #shutDown = false
  #producers = new Map<string, Queue>()

  producer(name: QueueName): Queue {
    let queue = this.#producers.get(name)
    if (!queue) {
      if (this.#shutDown) throw new Error(`The process is stopping: no new connection for queue ${name}`)
      queue = new Queue(name, {
        prefix: queueConfig.prefix,
        // While Redis is down, enqueuing fails at once (the request gets a
        // 503, the reconciler re-enqueues from PostgreSQL) instead of waiting
        // in node_redis's offline queue for as long as the outage lasts.
        redis: { ...queueConfig.redis, enable_offline_queue: false },
        isWorker: false,
        getEvents: !DISPOSABLE.has(name),
        storeJobs: !DISPOSABLE.has(name),
        activateDelayedJobs: false,
        removeOnSuccess: true,
      })
      survivesRedisRestarts(queue, name)
      this.#producers.set(name, queue)
    }
    return queue
  }

  /**
   * A worker's queue. Its blocking client keeps node_redis's offline queue:
   * while Redis is down the next BRPOPLPUSH waits there, and is sent the
   * moment Redis returns.
   */
  worker(name: QueueName): Queue {
    const queue = new Queue(name, {
      prefix: queueConfig.prefix,
      redis: { ...queueConfig.redis },
      isWorker: true,
      getEvents: false,
      activateDelayedJobs: true,
      stallInterval: queueConfig.stallIntervalMs,
      removeOnSuccess: true,
      removeOnFailure: DISPOSABLE.has(name),
    })
    survivesRedisRestarts(queue, name)
    return queue
  }

  queueNames(): QueueName[] {
    return [...QUEUE_NAMES]
  }

  isQueueName(name: string): name is QueueName {
    return (QUEUE_NAMES as readonly string[]).includes(name)
  }

  /** Whether the queue keeps failed jobs for inspection (disposable renders do not). */
  keepsFailedJobs(name: QueueName) {
    return !DISPOSABLE.has(name)
  }

  /**
   * Runs one attempt of a job for a worker. bee-queue keeps each failed
   * attempt's stack trace but not its time, so the time goes into the job's
   * options, which bee-queue saves with it; a FinalJobFailure uses up the
   * retries so the job lands in the failed list at once.
   */
  async perform(job: Queue.Job<any>, handler: JobHandler) {
    const attempt = () => handler(job.data, { id: job.id, reportProgress: (p) => job.reportProgress(p as any) })
    try {
      try {
        return await attempt()
      } catch (error) {
        // PostgreSQL or Redis went away under the job (a restart): its
        // retries would run out while the service is still down (and spread
        // over a backoff that outlasts its return), so the attempt waits for
        // the service and runs again, once.
        if (!isServiceOutage(error) || !(await this.#servicesReturn(OUTAGE_WAIT_MS))) throw error
        logger.info({ job: job.id }, 'the service is back: running the job again')
        return await attempt()
      }
    } catch (error) {
      job.options.failedAt = Date.now()
      if (error instanceof FinalJobFailure) job.options.retries = 0
      throw error
    }
  }

  /** Resolves true once PostgreSQL and Redis both answer, false after `timeoutMs`. */
  async #servicesReturn(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && !this.#shutDown) {
      const up = await Promise.all([db.rawQuery('select 1'), redis.ping()]).then(
        () => true,
        () => false
      )
      if (up) return true
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    return false
  }

  async counts(name: QueueName): Promise<QueueCounts> {
    const { waiting, active, delayed, failed } = await this.producer(name).checkHealth()
    return { waiting, active, delayed, failed }
  }

  /** Every failed job of a queue, newest failure first (failed lists are short: one job per failed video). */
  async failedJobs(name: QueueName): Promise<StoredJob[]> {
    const ids = await redis.smembers(this.#key(name, 'failed'))
    const jobs: StoredJob[] = []
    for (let start = 0; start < ids.length; start += 500) {
      const chunk = ids.slice(start, start + 500)
      const rows = await redis.hmget(this.#key(name, 'jobs'), ...chunk)
      rows.forEach((raw, index) => raw && jobs.push(this.#parse(name, chunk[index], raw)))
    }
    return jobs.sort((a, b) => (b.failedAt ?? b.createdAt) - (a.failedAt ?? a.createdAt))
  }

  /** A stored job and where it is; null when the queue holds no job with that id. */
  async findJob(name: QueueName, id: string): Promise<{ job: StoredJob; state: JobState | null } | null> {
    const [[, raw], [, failed], [, succeeded], [, delayed], [, active], [, waiting]] = (await redis
      .pipeline()
      .hget(this.#key(name, 'jobs'), id)
      .sismember(this.#key(name, 'failed'), id)
      .sismember(this.#key(name, 'succeeded'), id)
      .zscore(this.#key(name, 'delayed'), id)
      .lpos(this.#key(name, 'active'), id)
      .lpos(this.#key(name, 'waiting'), id)
      .exec())! as Array<[Error | null, any]>
    if (!raw) return null
    const state: JobState | null = failed
      ? 'failed'
      : succeeded
        ? 'succeeded'
        : delayed !== null
          ? 'delayed'
          : active !== null
            ? 'active'
            : waiting !== null
              ? 'waiting'
              : null
    return { job: this.#parse(name, id, raw), state }
  }

  /**
   * A failed job goes back to waiting with its data and options (so with no
   * retries left: one more attempt). False when it was not failed (any more).
   */
  async requeueFailed(name: QueueName, id: string) {
    const raw = await redis.hget(this.#key(name, 'jobs'), id)
    if (!raw) return false
    const stored = JSON.parse(raw)
    const requeued = JSON.stringify({ ...stored, status: 'retrying' })
    const keys = [this.#key(name, 'failed'), this.#key(name, 'jobs'), this.#key(name, 'waiting')]
    return (await redis.eval(REQUEUE_FAILED, keys.length, ...keys, id, requeued)) === 1
  }

  /** Forgets a failed job; false when it was not failed (any more). */
  async discardFailed(name: QueueName, id: string) {
    const keys = [this.#key(name, 'failed'), this.#key(name, 'jobs')]
    return (await redis.eval(DISCARD_FAILED, keys.length, ...keys, id)) === 1
  }

  /** bee-queue's Redis keys: `<prefix>:<queue>:jobs` (a hash of job JSON), `…:failed` (a set), ... */
  #key(name: QueueName, suffix: string) {
    return `${queueConfig.prefix}:${name}:${suffix}`
  }

  #parse(queue: QueueName, id: string, raw: string): StoredJob {
    const { data, options = {} } = JSON.parse(raw)
    const stacks: string[] = Array.isArray(options.stacktraces) ? options.stacktraces.map(String) : []
    const stack = stacks[0] ?? null
    return {
      queue,
      id,
      data,
      createdAt: Number(options.timestamp) || 0,
      failedAt: Number(options.failedAt) || null,
      failedAttempts: stacks.length,
      error: stack === null ? null : messageOf(stack),
      stack,
    }
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
    return (await this.workers()).filter((worker) => worker.alive)
  }

  /**
   * Every worker that has beaten, newest beat first. A worker that stopped
   * cleanly forgot itself; one that died (SIGKILL, a lost machine) stays
   * here, not alive, with its last beat.
   */
  async workers(): Promise<WorkerBeat[]> {
    const all = await redis.hgetall(HEARTBEAT_KEY)
    const cutoff = Date.now() - 3 * queueConfig.heartbeatIntervalMs
    return Object.entries(all)
      .map(([id, raw]) => {
        const beat = JSON.parse(raw) as Omit<WorkerBeat, 'id' | 'alive'>
        return { ...beat, id, alive: beat.at >= cutoff }
      })
      .sort((a, b) => b.at - a.at)
  }

  /** Closes the producers; a later `producer()` opens them again (tests do that between groups). */
  async closeAll() {
    await Promise.all([...this.#producers.values()].map((queue) => queue.close(2000).catch(() => {})))
    this.#producers.clear()
  }

  /**
   * For a stopping process: closes the producers for good. Work still in
   * flight that asks for one gets an error instead of a new connection,
   * which would keep the process alive.
   */
  async shutdown() {
    this.#shutDown = true
    await this.closeAll()
  }
}

/**
 * A queue whose Redis goes away and comes back, maybe empty (Redis keeps
 * nothing on disk here), keeps working:
 * - its errors are logged: an EventEmitter's 'error' without a listener
 *   would end the process (node_redis reports, through bee-queue, commands
 *   aborted by a lost connection);
 * - bee-queue runs its Lua scripts by SHA1 only, loaded when the queue
 *   connected; a restarted Redis has forgotten them (NOSCRIPT), so they are
 *   loaded again and the command is run once more.
 */
function survivesRedisRestarts(queue: Queue, name: string) {
  queue.on('error', (error) => logger.warn({ queue: name }, `queue ${name}: ${error.message}`))
  const internals = queue as unknown as {
    client: unknown
    _evalScriptOn(commandable: unknown, args: unknown[]): Promise<unknown>
  }
  // bee-queue mutates the arguments it is given: each try gets a copy.
  const evalScriptOn = internals._evalScriptOn.bind(queue)
  internals._evalScriptOn = async (commandable, args) => {
    try {
      return await evalScriptOn(commandable, [...args])
    } catch (error) {
      if (!/NOSCRIPT/.test((error as Error)?.message ?? '') || commandable !== internals.client) throw error
      logger.info({ queue: name }, 'Redis lost the queue scripts (restarted): loading them again')
      await beeQueueScripts.buildCache(internals.client)
      return evalScriptOn(commandable, [...args])
    }
  }
}

/** The message of a stored stack: its frames and a bare "Error: " prefix dropped. */
function messageOf(stack: string) {
  const frames = stack.search(/\n\s+at /)
  return (frames === -1 ? stack : stack.slice(0, frames)).trim().replace(/^Error: /, '')
}

const queues = new QueueService()
// Producer connections keep a process alive: a command that queued jobs (the
// demo seeder) would never exit without this.
app.terminating(() => queues.shutdown())
export default queues
