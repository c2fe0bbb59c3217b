import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import redis from '@adonisjs/redis/services/main'
import queueConfig from '#config/queue'
import Video from '#models/video'
import storage from '#services/storage_service'
import videos from '#services/video_service'
import { figure, smokeOr, source, waitUntil } from './helpers.js'
import { queuedVideo, startWorker, stopWorker } from './fixtures.js'

const TOTAL = smokeOr(5, 2)
/**
 * How far a transcode must be before its worker is killed. A smoke-size
 * transcode takes a second or two: any progress will do, or it could finish
 * between two looks.
 */
const KILL_AT_PROGRESS = smokeOr(20, 0)
/**
 * Smoke only: a pause after each kill, so the next worker's start-up
 * reconciler and stall check already see the lost job as stale; otherwise a
 * run of seconds would wait for their next periodic pass (30 s).
 */
const PAUSE_AFTER_KILL_MS = smokeOr(0, queueConfig.stallIntervalMs + 1000)

/**
 * Five transcodes (smoke: two short ones); a worker is SIGKILLed in the
 * middle of each, and Redis is flushed once while jobs are queued. Then one
 * worker is left to finish. Reports how many videos end ready and how many
 * stored objects nobody owns.
 */
export default async function faultsBench() {
  const [size, seconds] = smokeOr(['1280x720', 30], ['640x360', 8])
  const path = await source(`faults-${size}-${seconds}s.mp4`, [
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest',
  ])
  const created: Video[] = []
  for (let i = 0; i < TOTAL; i++) created.push(await queuedVideo(path, `faults ${i}`))
  const ids = created.map((video) => video.id)

  const killed = new Set<string>()
  let flushed = false
  while (killed.size < TOTAL) {
    const worker = startWorker()
    let victim: string | undefined
    await waitUntil(
      async () => {
        const busy = await Video.query().whereIn('id', ids).where('status', 'processing').where('progress', '>=', KILL_AT_PROGRESS)
        victim = busy.find((video) => !killed.has(video.id))?.id
        return !!victim
      },
      180_000,
      'a transcode in progress'
    )
    await stopWorker(worker, 'SIGKILL')
    killed.add(victim!)
    console.error(`killed the worker during ${victim} (${killed.size}/${TOTAL})`)
    if (!flushed) {
      // Queued jobs (and the killed one) vanish: PostgreSQL must bring them back.
      await redis.flushdb()
      flushed = true
      console.error('flushed Redis')
    }
    await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_KILL_MS))
  }

  const worker = startWorker()
  try {
    await waitUntil(
      async () => (await Video.query().whereIn('id', ids).whereIn('status', ['ready', 'failed'])).length === TOTAL,
      15 * 60_000,
      'every video to settle'
    )
  } finally {
    await stopWorker(worker)
  }

  const settled = await Video.query().whereIn('id', ids)
  const ready = settled.filter((video) => video.status === 'ready').length
  const orphans = await countOrphans()
  const leftovers = (await readdir(tmpdir())).filter((name) => name.startsWith('matinee-transcode-')).length
  figure('faults_ready', ready, 'videos')
  figure('faults_total', TOTAL, 'videos')
  figure('faults_orphans', orphans, 'objects')
  console.error(`attempts: ${settled.map((v) => v.attempts).join(', ')}; worker temp folders left: ${leftovers}`)
  for (const video of settled) await videos.destroy(video)
}

/** Objects no video owns: under a video id with no row, or outputs of a video that is not ready. */
async function countOrphans() {
  const rows = new Map((await Video.all()).map((video) => [video.id, video]))
  let orphans = 0
  for await (const object of storage.list('videos/')) {
    const [, id, area] = object.key.split('/')
    const video = rows.get(id)
    if (!video) orphans++
    else if (video.status !== 'ready' && area !== 'source') orphans++
  }
  return orphans
}
