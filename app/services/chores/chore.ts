import type { QueueName } from '#jobs/queues'

/**
 * A periodic chore of a long-running process (a worker, or a web node).
 * Each one lives in its own file of this folder; the scheduler runs it.
 */
export interface Chore {
  name: string
  /** How often it runs (and it runs once at start-up). */
  everyMs: number
  /**
   * `cluster`: one process of the whole cluster at a time, under a Redis
   * lock (it works on shared state: PostgreSQL, storage, queues).
   * `node`: every process runs its own (it cleans its own machine's disk).
   */
  scope: 'cluster' | 'node'
  /** Run only by workers that consume one of these queues (default: every worker). */
  queues?: QueueName[]
  run(): Promise<unknown>
}
