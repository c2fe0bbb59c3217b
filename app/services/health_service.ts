import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import queues from '#services/queue_service'

const PROBE_TIMEOUT_MS = 2000

/**
 * What an operator (or a load balancer) needs to know: can this node reach
 * PostgreSQL and Redis, and are workers alive.
 */
export class HealthService {
  async check() {
    const [database, cache, workers] = await Promise.all([
      this.#probe(async () => {
        await db.rawQuery('select 1')
      }),
      this.#probe(async () => {
        await redis.ping()
      }),
      queues.liveWorkers().catch(() => []),
    ])
    return {
      ok: database.ok && cache.ok,
      database,
      redis: cache,
      workers: workers.map(({ id, host, at }) => ({ id, host, lastSeen: new Date(at).toISOString() })),
    }
  }

  /**
   * A load balancer asks often and must hear back at once: a service that
   * does not answer within PROBE_TIMEOUT_MS counts as down.
   */
  async #probe(fn: () => Promise<void>) {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS)
    })
    try {
      await Promise.race([fn(), timeout])
      return { ok: true }
    } catch (error) {
      return { ok: false, error: (error as Error).message }
    } finally {
      clearTimeout(timer)
    }
  }
}

export default new HealthService()
