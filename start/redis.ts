/*
| Redis connection failures, logged once per outage. AdonisJS logs every
| failed reconnection as "fatal" (each second while Redis restarts, though
| nothing is fatal: the process reconnects and carries on).
*/
import logger from '@adonisjs/core/services/logger'
import redis from '@adonisjs/redis/services/main'

redis.doNotLogErrors()
redis.on('connection', (connection) => {
  let down = false
  const lost = ({ error }: { error: Error }) => {
    if (down) return
    down = true
    logger.error({ err: error }, `Redis connection "${connection.connectionName}" lost; reconnecting every second`)
  }
  connection.on('error', lost)
  connection.on('subscriber:error', lost)
  connection.on('ready', () => {
    if (!down) return
    down = false
    logger.info(`Redis connection "${connection.connectionName}" is back`)
  })
})
