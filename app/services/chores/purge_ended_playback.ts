import playbackConfig from '#config/playback'
import playback from '#services/playback_service'
import type { Chore } from '#services/chores/chore'

/** Watermark renders of playback sessions that ended are deleted from storage. */
export default {
  name: 'purge-ended-playback',
  everyMs: playbackConfig.watermark.purgeIntervalMs,
  scope: 'cluster',
  queues: ['watermark', 'watermark_ahead'],
  run: () => playback.purgeEnded(),
} satisfies Chore
