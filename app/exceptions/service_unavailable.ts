/*
| PostgreSQL or Redis unreachable (a restart, a failover): requests answer
| 503 with a sentence instead of a 500, and a payment provider that sees the
| 503 sends its webhook again later.
*/

export const SERVICE_UNAVAILABLE_MESSAGE =
  'Matinee is briefly unavailable while one of its services restarts. Nothing was changed: try again in a few seconds.'

/** Seconds a client should wait before trying again (the Retry-After header). */
export const RETRY_AFTER_SECONDS = 5

/** SQLSTATEs of a server that is going away or not up yet, and the connection exception class. */
const PG_UNAVAILABLE = /^(57P0[1-3]|08...)$/

/** Socket failures: the process on the other end is gone or not listening yet. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'])

/** node_redis (bee-queue) and ioredis errors of a connection that is down. */
const REDIS_CODES = new Set(['NR_CLOSED', 'UNCERTAIN_STATE', 'CONNECTION_BROKEN'])
const REDIS_NAMES = new Set(['MaxRetriesPerRequestError'])

const CONNECTION_MESSAGES = [
  /^Connection terminated/, // pg: the server went away mid-query
  /^Connection is closed\.?$/, // ioredis
  /Timeout acquiring a connection/, // knex: the pool could not open one
  /offline queue is deactivated|enable_offline_queue/, // node_redis while reconnecting
  /Redis connection (lost|to .* failed)/,
  /the database system is (starting up|shutting down|in recovery mode)/,
]

/** Whether the error (or what caused it) says PostgreSQL or Redis is unreachable. */
export function isServiceOutage(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false
  const { code, name, message, cause, errors } = error as {
    code?: unknown
    name?: unknown
    message?: unknown
    cause?: unknown
    errors?: unknown
  }
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || REDIS_CODES.has(code) || PG_UNAVAILABLE.test(code))) return true
  if (typeof name === 'string' && REDIS_NAMES.has(name)) return true
  if (typeof message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return true
  if (Array.isArray(errors) && errors.some((inner) => isServiceOutage(inner, depth + 1))) return true
  return isServiceOutage(cause, depth + 1)
}
