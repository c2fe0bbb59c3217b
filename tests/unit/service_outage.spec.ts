import { test } from '@japa/runner'
import { isServiceOutage } from '#exceptions/service_unavailable'

/** Errors as the drivers raise them when PostgreSQL or Redis is down, and errors that are not outages. */
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code })

test.group('Service outage errors', () => {
  test('errors of an unreachable PostgreSQL or Redis are outages', ({ assert }) => {
    const outages = [
      refused,
      new AggregateError([refused, refused], ''), // pg on a host with several addresses
      new Error('Connection terminated unexpectedly'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006', 'connection failure'),
      Object.assign(new Error('Reached the max retries per request limit (which is 1).'), { name: 'MaxRetriesPerRequestError' }),
      new Error('Connection is closed.'),
      Object.assign(new Error('SET can\'t be processed. The connection is not yet established and the offline queue is deactivated.'), { code: 'NR_CLOSED' }),
      new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
      new Error('wrapped', { cause: refused }),
    ]
    for (const error of outages) assert.isTrue(isServiceOutage(error), error.message)
  })

  test('other errors are not', ({ assert }) => {
    const others = [
      new Error('boom'),
      pgError('23505', 'duplicate key value violates unique constraint'),
      pgError('42P01', 'relation "videos" does not exist'),
      Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }),
      'a string',
      null,
    ]
    for (const error of others) assert.isFalse(isServiceOutage(error), String((error as Error)?.message ?? error))
  })
})
