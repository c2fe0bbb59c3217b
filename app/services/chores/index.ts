import type { Chore } from '#services/chores/chore'
import type { QueueName } from '#jobs/queues'

/** The chores a worker consuming `queues` runs (each one's file says why). */
export async function workerChores(queues: QueueName[]): Promise<Chore[]> {
  const modules = await Promise.all([
    import('#services/chores/reconcile_transcodes'),
    import('#services/chores/sweep_transcode_work_dirs'),
    import('#services/chores/sweep_watermark_work_dirs'),
    import('#services/chores/purge_ended_playback'),
    import('#services/chores/expire_orders'),
    import('#services/chores/end_abandoned_subscriptions'),
    import('#services/chores/end_run_out_access'),
    import('#services/chores/retry_storage_deletions'),
  ])
  const chores: Chore[] = modules.map((module) => module.default)
  return chores.filter((chore) => !chore.queues || chore.queues.some((name) => queues.includes(name)))
}

/** The chores of a web node. */
export async function webChores(): Promise<Chore[]> {
  return [(await import('#services/chores/abandoned_uploads')).default]
}
