import storageCleanup, { STORAGE_CLEANUP_INTERVAL_MS } from '#services/media/storage_cleanup'
import type { Chore } from '#services/chores/chore'

/**
 * Files of deleted rows (a deleted video, its sessions' renders) whose
 * deletion failed or was cut short are deleted again, with a growing delay,
 * until the storage backend succeeds.
 */
export default {
  name: 'retry-storage-deletions',
  everyMs: STORAGE_CLEANUP_INTERVAL_MS,
  scope: 'cluster',
  run: () => storageCleanup.retryDue(),
} satisfies Chore
