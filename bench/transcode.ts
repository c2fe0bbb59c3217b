import { mkdir, rm } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import mediaConfig from '#config/media'
import Video from '#models/video'
import videos from '#services/video_service'
import { probe } from '#services/media/probe'
import { run } from '#services/media/ffmpeg'
import { hlsCommand, outputFps, planLadder } from '#services/media/ladder'
import TranscodeChunk from '#models/transcode_chunk'
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
  // BENCH_TRANSCODE_PARTS=ready runs only the segment-parallel figures (speed: only the others).
  const parts = (process.env.BENCH_TRANSCODE_PARTS ?? 'speed,ready').split(',').map((part) => part.trim())
  if (!parts.includes('speed')) return parts.includes('ready') ? segmentParallel() : undefined
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
  if (parts.includes('ready')) await segmentParallel()
  figure('transcode_speed', content / workerSeconds, 'x')
  figure('transcode_speed_per_rendition', content / per.seconds, 'x')
  figure('transcode_speed_ffmpeg', content / bare.seconds, 'x')
  console.error(
    `worker ${workerSeconds.toFixed(1)} s, per-rendition ${per.seconds.toFixed(1)} s, bare ${bare.seconds.toFixed(1)} s; ` +
      `worker/per-rendition ${(per.seconds / workerSeconds).toFixed(2)}×, worker/bare ${(bare.seconds / workerSeconds).toFixed(2)}×`
  )
}

/**
 * A long 1080p30 source with audio (BENCH_TRANSCODE_LONG_SECONDS, default 20
 * minutes; smoke: 12 s of 360p). Generated fast (ultrafast, 4 Mb/s): it is
 * only read.
 */
const longSource = () => {
  const seconds = Number(process.env.BENCH_TRANSCODE_LONG_SECONDS ?? 1200)
  const [size, duration] = smokeOr(['1920x1080', seconds], ['640x360', 12])
  return source(`long-${size}-30fps-${duration}s.mp4`, [
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(duration), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest',
  ])
}

/** Starts a worker on the transcode queues and resolves once it consumes (its boot is not timed). */
async function consumingWorker(env: Record<string, string>) {
  const child = startWorker(env, ['transcode', 'transcode_chunk'])
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk
      if (/consuming/.test(output)) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before consuming:\n${output}`)))
  })
  child.stdout!.resume()
  child.stderr!.resume()
  return child
}

/**
 * Segment-parallel transcoding: the time from queued to ready of a long
 * source with one worker, then with two, in the same run (chunks of
 * TRANSCODE_CHUNK_SECONDS, default 60 s; smoke: 4 s). Each worker is a
 * `node ace queue:work` on this machine; the cores each had are printed
 * (both workers share this machine's cores).
 */
async function segmentParallel() {
  const path = await longSource()
  const info = await probe(path)
  const chunking = {
    TRANSCODE_CHUNK_SECONDS: smokeOr(String(mediaConfig.chunking.chunkSeconds), '4'),
    TRANSCODE_CHUNK_MIN_SECONDS: smokeOr(String(Math.min(mediaConfig.chunking.minDurationSeconds || 240, info.durationSeconds)), '8'),
  }
  const readySeconds = async (count: number) => {
    const workers: ChildProcess[] = []
    let video: Video | undefined
    try {
      for (let i = 0; i < count; i++) workers.push(await consumingWorker(chunking))
      const measured = await timed(async () => {
        video = await queuedVideo(path, `bench chunked ${count}`)
        await waitUntil(() => readyOrFailed(video!.id), 6 * 3600_000, `the ${count}-worker transcode`)
      })
      const done = await Video.findOrFail(video!.id)
      if (done.status !== 'ready') throw new Error(`${count}-worker transcode failed: ${done.lastError}`)
      const pieces = await TranscodeChunk.query().where('videoId', done.id)
      const byWorker = new Map<string, number>()
      for (const piece of pieces) byWorker.set(piece.worker ?? '?', (byWorker.get(piece.worker ?? '?') ?? 0) + 1)
      console.error(
        `${count} worker(s): ready in ${measured.seconds.toFixed(1)} s, ${pieces.length} pieces ` +
          `(${[...byWorker].map(([worker, n]) => `${n} on ${worker}`).join(', ')})`
      )
      return measured.seconds
    } finally {
      await Promise.all(workers.map((worker) => stopWorker(worker)))
      if (video) await videos.destroy(await Video.findOrFail(video.id))
    }
  }
  console.error(`segment-parallel: ${info.width}x${info.height}, ${info.durationSeconds.toFixed(0)} s, chunks of ${chunking.TRANSCODE_CHUNK_SECONDS} s`)
  const one = await readySeconds(1)
  const two = await readySeconds(2)
  figure('transcode_ready_s_1_worker', one, 's')
  figure('transcode_ready_s_2_workers', two, 's')
  figure('transcode_ready_ratio_2_to_1', two / one, 'x')
  // Both workers run on this machine: each could use all of its cores, which they share.
  figure('transcode_cores_per_worker', availableParallelism(), 'cores')
}
