import env from '#start/env'
import { defineConfig } from '@adonisjs/redis'
import type { InferConnections } from '@adonisjs/redis/types'

/**
 * Redis holds queues, pub/sub, sessions, rate limits and caches, never the
 * truth: everything in it can be rebuilt from PostgreSQL.
 */
const redisConfig = defineConfig({
  connection: 'main',
  connections: {
    main: {
      host: env.get('REDIS_HOST'),
      port: env.get('REDIS_PORT'),
      password: env.get('REDIS_PASSWORD')?.release() || undefined,
      db: env.get('REDIS_DB', 0),
      keyPrefix: '',
      // While Redis is down (a restart), reconnect at least every second, so
      // work resumes within a second of its return...
      retryStrategy(times) {
        return Math.min(times * 100, 1000)
      },
      // ...and a command waits for at most two reconnection attempts before
      // it fails: a request gets its 503 within about two seconds instead of
      // hanging (ioredis's default retries a command 20 times).
      maxRetriesPerRequest: 1,
    },
  },
})

export default redisConfig

declare module '@adonisjs/redis/types' {
  export interface RedisConnections extends InferConnections<typeof redisConfig> {}
}
