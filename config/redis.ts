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
      retryStrategy(times) {
        return Math.min(times * 200, 5000)
      },
    },
  },
})

export default redisConfig

declare module '@adonisjs/redis/types' {
  export interface RedisConnections extends InferConnections<typeof redisConfig> {}
}
