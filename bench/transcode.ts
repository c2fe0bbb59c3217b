import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import mediaConfig from '#config/media'
import Video from '#models/video'
import videos from '#services/video_service'
import { probe } from '#services/media/probe'
import { run } from '#services/media/ffmpeg'
import { hlsCommand, outputFps, planLadder } from '#services/media/ladder'
import { benchDir, figure, smokeOr, source, timed, waitUntil } from './helpers.js'
import { queuedVideo, readyOrFailed, startWorker, stopWorker } from './fixtures.js'

/** 60 s of 1080p30 with audio: moving test pattern + tone (smoke: 4 s of 360p). */
const transcodeSource = () => {
  const [size, seconds] = smokeOr(['1920x1080', 60], ['640x360', 4])
  return source(`source-${size}-30fps-${seconds}s.mp4`, [
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '8M', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest',
  ])
}

/**
 * Content-seconds transcoded per wall-second for a 60 s 1080p30 source (smoke:
 * 4 s of 360p) and the default ladder, three ways in one run:
 * - through the real worker (storage in and out, probe, poster, sprite);
 * - one FFmpeg process per rendition, one after the other;
 * - the bare single-process FFmpeg command the worker runs.
 */
export default async function transcodeBench() {
  const path = await transcodeSource()
  const info = await probe(path)
  const renditions = planLadder(info, mediaConfig.ladder)
  const fps = outputFps(info.fps, mediaConfig.maxFps)
  const base = {
    input: path,
    demuxer: info.demuxer,
    fps,
    segmentSeconds: mediaConfig.segmentSeconds,
    durationSeconds: info.durationSeconds,
    hasAudio: info.hasAudio,
    preset: mediaConfig.x264Preset,
  }
  console.error(`ladder: ${renditions.map((r) => r.name).join(' ')}, preset ${mediaConfig.x264Preset}`)

  // Bare FFmpeg: the one-process ladder, no storage, no extras.
  const bareOut = join(benchDir, 'bare')
  await rm(bareOut, { recursive: true, force: true })
  await mkdir(bareOut, { recursive: true })
  const bare = await timed(() => run('ffmpeg', hlsCommand({ ...base, outDir: bareOut, renditions })))

  // One FFmpeg per rendition, sequentially (each decodes the source again).
  const perOut = join(benchDir, 'per-rendition')
  await rm(perOut, { recursive: true, force: true })
  const per = await timed(async () => {
    for (const rendition of renditions) {
      const outDir = join(perOut, rendition.name)
      await mkdir(outDir, { recursive: true })
      await run('ffmpeg', hlsCommand({ ...base, outDir, renditions: [rendition] }))
    }
  })

  // The real worker, from queued to ready.
  const video = await queuedVideo(path, 'bench transcode')
  const worker = startWorker()
  let workerSeconds = 0
  try {
    const measured = await timed(() => waitUntil(() => readyOrFailed(video.id), 30 * 60_000, 'the worker'))
    workerSeconds = measured.seconds
    const done = await Video.findOrFail(video.id)
    if (done.status !== 'ready') throw new Error(`worker failed: ${done.lastError}`)
  } finally {
    await stopWorker(worker)
    await videos.destroy(await Video.findOrFail(video.id))
  }

  const content = info.durationSeconds
  figure('transcode_speed', content / workerSeconds, 'x')
  figure('transcode_speed_per_rendition', content / per.seconds, 'x')
  figure('transcode_speed_ffmpeg', content / bare.seconds, 'x')
  console.error(
    `worker ${workerSeconds.toFixed(1)} s, per-rendition ${per.seconds.toFixed(1)} s, bare ${bare.seconds.toFixed(1)} s; ` +
      `worker/per-rendition ${(per.seconds / workerSeconds).toFixed(2)}×, worker/bare ${(bare.seconds / workerSeconds).toFixed(2)}×`
  )
}
