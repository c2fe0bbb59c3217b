import uploads from '#services/upload_service'
import type { Chore } from '#services/chores/chore'

/**
 * Resumable uploads abandoned past their expiry are deleted. A web node's
 * chore: each node stages uploads on its own disk.
 */
export default {
  name: 'abandoned-uploads',
  everyMs: 3600_000,
  scope: 'node',
  run: () => uploads.cleanUpExpired(),
} satisfies Chore
