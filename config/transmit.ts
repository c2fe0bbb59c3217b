import env from '#start/env'
import { defineConfig } from '@adonisjs/transmit'
import { redis } from '@adonisjs/transmit/transports/redis'

/**
 * Server-sent events. Through Redis, a broadcast from any process (a worker
 * reporting transcode progress, say) reaches the subscribers of every web node.
 */
export default defineConfig({
  pingInterval: '25s',
  transport: {
    driver: redis({
      host: env.get('REDIS_HOST'),
      port: env.get('REDIS_PORT'),
      password: env.get('REDIS_PASSWORD')?.release() || undefined,
      db: env.get('REDIS_DB', 0),
      keyPrefix: `${env.get('QUEUE_PREFIX', 'matinee')}:transmit:`,
    }),
  },
})
