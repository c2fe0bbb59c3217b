import transcoder from '#services/transcode_service'
import type { Chore } from '#services/chores/chore'

/** Work folders of transcodes whose worker was killed (this machine's disk). */
export default {
  name: 'sweep-transcode-work-dirs',
  everyMs: 3600_000,
  scope: 'node',
  queues: ['transcode'],
  run: () => transcoder.sweepStaleWorkDirs(),
} satisfies Chore
