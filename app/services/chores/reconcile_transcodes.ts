import queueConfig from '#config/queue'
import transcoder from '#services/transcode_service'
import type { Chore } from '#services/chores/chore'

/**
 * PostgreSQL is the truth: videos that should be queued or processing but
 * have no job in Redis (Redis lost it, or a crash came between saving and
 * enqueuing) go back on the queue. Also run as soon as Redis comes back.
 */
export default {
  name: 'reconcile-transcodes',
  everyMs: queueConfig.reconcileIntervalMs,
  scope: 'cluster',
  queues: ['transcode'],
  run: () => transcoder.reconcile(),
} satisfies Chore
