import playback from '#services/playback_service'
import type { Chore } from '#services/chores/chore'

/**
 * Players whose rental, pass or membership ran out while they asked for
 * nothing (paused, buffered ahead) are told now: their sessions end with the
 * reason. A playing player is stopped sooner, by its next segment request.
 */
export default {
  name: 'end-run-out-access',
  everyMs: 5_000,
  scope: 'cluster',
  run: async () => {
    await playback.endRunOutAccess()
  },
} satisfies Chore
