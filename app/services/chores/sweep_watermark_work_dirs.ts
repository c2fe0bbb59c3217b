import watermarker from '#services/watermark/just_in_time'
import type { Chore } from '#services/chores/chore'

/** Work folders of watermark renders whose worker was killed (this machine's disk). */
export default {
  name: 'sweep-watermark-work-dirs',
  everyMs: 3600_000,
  scope: 'node',
  queues: ['watermark', 'watermark_ahead'],
  run: () => watermarker.sweepStaleWorkDirs(),
} satisfies Chore
