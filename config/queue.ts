import env from '#start/env'

/**
 * Background jobs run on bee-queue over the Redis of config/redis.ts. Every
 * worker process consumes every queue listed in app/jobs/queues.ts.
 */
const queueConfig = {
  prefix: env.get('QUEUE_PREFIX', 'matinee'),
  /** Jobs each worker process runs at once, per queue. */
  concurrency: env.get('WORKER_CONCURRENCY', 2),
  /** Per-queue overrides: a transcode uses every core it gets. */
  concurrencyByQueue: {
    transcode: env.get('TRANSCODE_CONCURRENCY', 1),
    transcode_chunk: env.get('TRANSCODE_CHUNK_CONCURRENCY', 1),
    watermark: env.get('WATERMARK_CONCURRENCY', 2),
    watermark_ahead: env.get('WATERMARK_CONCURRENCY', 2),
  },
  /** How often a worker looks for videos the queue lost. */
  reconcileIntervalMs: 30_000,
  /** A job whose worker stops checking in for this long is given to another. */
  stallIntervalMs: 5000,
  heartbeatIntervalMs: 5000,
  redis: {
    host: env.get('REDIS_HOST'),
    port: env.get('REDIS_PORT'),
    password: env.get('REDIS_PASSWORD')?.release() || undefined,
    db: env.get('REDIS_DB', 0),
    // bee-queue's client (node_redis) reconnects at least every second while
    // Redis is down (its default delay grows without bound), so workers
    // resume within a second of Redis's return. With a retry strategy set,
    // node_redis reports refused connections by retrying, not as errors.
    retry_strategy: ({ attempt }: { attempt: number }) => Math.min(attempt * 100, 1000),
  },
}

export default queueConfig
