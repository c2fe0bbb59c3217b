import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import mediaConfig from '#config/media'
import User from '#models/user'
import Video from '#models/video'
import TranscodeChunk from '#models/transcode_chunk'
import storage from '#services/storage_service'
import transcoder from '#services/transcode_service'
import queues from '#services/queue_service'
import { run } from '#services/media/ffmpeg'
import { probe } from '#services/media/probe'
import { hlsCommand, outputFps, planLadder } from '#services/media/ladder'
import { hlsKeys } from '#services/media/storage_keys'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { storedKeys, waitForStatus } from '#tests/helpers/videos'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'

const exec = promisify(execFile)

/** Chunks of 8 s (two 4 s segments) for videos of 20 s or more: a 40 s source makes 5 chunks. */
const CHUNKED = { TRANSCODE_CHUNK_SECONDS: '8', TRANSCODE_CHUNK_MIN_SECONDS: '20' }

const pathOf = (key: string) => app.makePath(env.get('STORAGE_LOCAL_ROOT'), key)

/** A 40 s test pattern with a tone (testsrc2 + sine), made once per run. */
async function longSource(size = '640x360') {
  const dir = join(tmpdir(), 'matinee-media-fixtures')
  await mkdir(dir, { recursive: true })
  const path = join(dir, `long-${size}-40s.mp4`)
  if (!(await stat(path).catch(() => null))) {
    await exec('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '40', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', `${path}.part.mp4`,
    ])
    await exec('mv', [`${path}.part.mp4`, path])
  }
  return path
}

/** A queued video of `source`, as an upload leaves it, on the transcode queue. */
async function queuedVideo(source: string, options: { watermarkMode?: 'forensic' } = {}) {
  const owner = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
  const id = randomUUID()
  const video = await Video.create({
    id,
    ownerId: owner.id,
    title: 'A long film',
    status: 'uploaded',
    priceMinor: 0,
    currency: 'USD',
    visibility: 'published',
    watermarkMode: options.watermarkMode ?? null,
    sourceKey: `videos/${id}/source/master.mp4`,
    sourceFilename: 'master.mp4',
    sourceSize: (await stat(source)).size,
  })
  await storage.put(video.sourceKey, createReadStream(source))
  await transcoder.enqueue(video)
  return video
}

/** Waits for ready, recording every progress value the row showed on the way. */
async function readyWithProgress(id: string, timeoutMs = 240_000) {
  const seen: number[] = []
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const video = (await Video.find(id))!
    if (video.status === 'processing') seen.push(video.progress)
    if (video.status === 'ready' || video.status === 'failed') return { video, seen }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`video ${id} not ready after ${timeoutMs} ms`)
}

/** The tfdt (decode time of the first sample) of each track fragment of an fMP4 segment. */
function tfdts(segment: Buffer) {
  const times: number[] = []
  for (let at = segment.indexOf('tfdt'); at !== -1; at = segment.indexOf('tfdt', at + 4)) {
    const version = segment[at + 4]
    times.push(version === 1 ? Number(segment.readBigUInt64BE(at + 8)) : segment.readUInt32BE(at + 8))
  }
  return times
}

/** A rendition's HLS output in a folder: its playlist text and every segment's tfdts. */
async function hlsOf(dir: string) {
  const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8')
  const segments = [...playlist.matchAll(/^(seg_\d+\.m4s)$/gm)].map((m) => m[1])
  const times = []
  for (const name of segments) times.push(tfdts(await readFile(join(dir, name))))
  return { playlist, segments, times }
}

/** Packet timestamps ffprobe reads through a playlist, per stream type, in presentation order. */
async function packetTimes(playlist: string, stream: 'v' | 'a') {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', playlist], {
    maxBuffer: 64 * 1024 * 1024,
  })
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(',').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0])
}

/** The largest step between consecutive timestamps, and the end of the last packet. */
function continuity(packets: Array<[number, number]>) {
  let largestStep = 0
  for (let i = 1; i < packets.length; i++) largestStep = Math.max(largestStep, packets[i][0] - packets[i - 1][0])
  const [lastPts, lastDuration] = packets[packets.length - 1]
  return { largestStep, first: packets[0][0], end: lastPts + lastDuration }
}

/** The one-process path's output for `source`, made here as the worker would (no sprite, no storage). */
async function oneProcessOutput(source: string, outDir: string) {
  const info = await probe(source)
  const renditions = planLadder(info, mediaConfig.ladder)
  await run(
    'ffmpeg',
    hlsCommand({
      input: source,
      demuxer: info.demuxer,
      outDir,
      renditions,
      fps: outputFps(info.fps, mediaConfig.maxFps),
      segmentSeconds: mediaConfig.segmentSeconds,
      durationSeconds: info.durationSeconds,
      hasAudio: info.hasAudio,
      preset: mediaConfig.x264Preset,
    })
  )
  return renditions
}

/** Pids of the FFmpeg processes a worker runs. */
async function ffmpegChildren(parentPid: number) {
  const { stdout } = await exec('ps', ['-o', 'pid=,comm=', '--ppid', String(parentPid)]).catch(() => ({ stdout: '' }))
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line.includes('ffmpeg'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
}

test.group('Segment-parallel transcoding', (group) => {
  let workers: RunningWorker[] = []
  let work: string
  group.each.setup(async () => {
    await resetState()
    work = await mkdtemp(join(tmpdir(), 'matinee-chunk-test-'))
    return async () => {
      for (const worker of workers) await worker.stop().catch(() => {})
      workers = []
      await rm(work, { recursive: true, force: true })
    }
  })
  group.each.timeout(300_000)

  const twoWorkers = async (extra: Record<string, string> = {}) => {
    workers = await Promise.all([startWorker(['transcode', 'transcode_chunk'], { ...CHUNKED, ...extra }), startWorker(['transcode', 'transcode_chunk'], { ...CHUNKED, ...extra })])
    return workers
  }

  test('a long video is cut into chunks two workers encode, joined into the one-process output: same playlists, continuous timestamps, seamless audio', async ({ assert }) => {
    const source = await longSource()
    const [a, b] = await twoWorkers()
    const queued = await queuedVideo(source)
    const { video, seen } = await readyWithProgress(queued.id)
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.equal(video.progress, 100)

    // 5 chunks of 240 frames, the soundtrack, the join: all done, on both workers.
    const chunks = await TranscodeChunk.query().where('videoId', video.id).orderBy('index')
    assert.deepEqual(
      chunks.map((c) => [c.kind, c.startFrame, c.frameCount, c.status]),
      [
        ['video', 0, 240, 'done'], ['video', 240, 240, 'done'], ['video', 480, 240, 'done'], ['video', 720, 240, 'done'], ['video', 960, 240, 'done'],
        ['audio', 0, 1200, 'done'], ['join', 0, 1200, 'done'],
      ]
    )
    const pids = new Set(chunks.map((c) => Number(c.worker!.split(':').pop())))
    assert.sameMembers([...pids], [a.process.pid!, b.process.pid!], 'both workers took pieces')
    // The Studio's progress summed the pieces: it moved through values between 0 and 100, never back.
    assert.isAbove(new Set(seen.filter((p) => p > 0 && p < 100)).size, 1, `progress seen: ${seen}`)
    for (let i = 1; i < seen.length; i++) assert.isAtLeast(seen[i], seen[i - 1])

    // Pieces are gone once joined.
    assert.deepEqual(await storedKeys(`${video.storagePrefix}chunks/`), [])
    const keys = await storedKeys(video.storagePrefix)
    assert.includeMembers(keys, [`${video.storagePrefix}poster.jpg`, `${video.storagePrefix}sprite.jpg`, `${video.storagePrefix}sprite.vtt`, hlsKeys.master(video.hlsPrefix)])

    // The one-process path's output of the same source, for comparison.
    const reference = join(work, 'reference')
    const renditions = await oneProcessOutput(source, reference)
    assert.deepEqual(video.renditions!.map((r) => r.name), renditions.map((r) => r.name))
    const master = await readFile(pathOf(hlsKeys.master(video.hlsPrefix)), 'utf8')
    const referenceMaster = await readFile(join(reference, 'master.m3u8'), 'utf8')
    const shape = (text: string) => text.replace(/BANDWIDTH=\d+/g, 'BANDWIDTH=*')
    assert.equal(shape(master), shape(referenceMaster))

    for (const rendition of renditions) {
      const chunked = await hlsOf(pathOf(hlsKeys.file(video.hlsPrefix, rendition.name)))
      const expected = await hlsOf(join(reference, rendition.name))
      // Same playlist (segment count, durations, numbering, one init segment), same decode times in every fragment.
      assert.equal(chunked.playlist, expected.playlist, rendition.name)
      assert.lengthOf(chunked.segments, 10)
      assert.deepEqual(chunked.times, expected.times, rendition.name)
      assert.lengthOf(keys.filter((key) => key.startsWith(hlsKeys.file(video.hlsPrefix, `${rendition.name}/`)) && key.endsWith('.mp4')), 1)

      // Through the playlist: video frames every 1/30 s with no gap, audio packets back to back to the end.
      const playlist = pathOf(hlsKeys.file(video.hlsPrefix, `${rendition.name}/index.m3u8`))
      const frames = continuity(await packetTimes(playlist, 'v'))
      assert.isAtMost(frames.largestStep, 1 / 30 + 0.001, `${rendition.name} video step`)
      assert.closeTo(frames.end - frames.first, 40, 0.01)
      const referenceFrames = continuity(await packetTimes(join(reference, rendition.name, 'index.m3u8'), 'v'))
      assert.closeTo(frames.first, referenceFrames.first, 0.001)
      const sound = continuity(await packetTimes(playlist, 'a'))
      assert.isAtMost(sound.largestStep, 1024 / 48000 + 0.001, `${rendition.name} audio step`)
      assert.closeTo(sound.end - sound.first, 40, 0.03)
    }
  })

  test('a chunk whose FFmpeg is killed is retried; a chunk whose worker is killed is redone by the other worker', async ({ assert }) => {
    // 720p at the production preset: chunks long enough to be caught mid-way.
    const source = await longSource('1280x720')
    const [a, b] = await twoWorkers({ X264_PRESET: 'veryfast' })
    const video = await queuedVideo(source)

    const encodingOn = async (pid: number) =>
      TranscodeChunk.query().where('videoId', video.id).where('kind', 'video').where('status', 'encoding').where('worker', 'like', `%:${pid}`).first()
    const until = async <T>(what: string, probeOnce: () => Promise<T | null | undefined | false>) => {
      const deadline = Date.now() + 120_000
      while (Date.now() < deadline) {
        const found = await probeOnce()
        if (found) return found
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`timed out waiting for ${what}`)
    }

    // Worker B's FFmpeg dies under a chunk: the attempt fails and the queue retries it.
    const { chunk: failedChunk, ffmpeg } = await until('a chunk encoding on worker B', async () => {
      const chunk = await encodingOn(b.process.pid!)
      const pids = chunk ? await ffmpegChildren(b.process.pid!) : []
      return chunk && pids.length ? { chunk, ffmpeg: pids[0] } : null
    })
    process.kill(ffmpeg, 'SIGKILL')

    // Worker A dies (SIGKILL) while it encodes a chunk: stall detection gives the chunk to B.
    const deadChunk = await until('a chunk encoding on worker A', () => encodingOn(a.process.pid!))
    a.process.kill('SIGKILL')

    const ready = await waitForStatus(video.id, ['ready', 'failed'], 240_000)
    assert.equal(ready.status, 'ready', ready.lastError ?? '')

    const retried = (await TranscodeChunk.find(failedChunk.id))!
    assert.equal(retried.status, 'done')
    assert.isAtLeast(retried.attempts, 2)
    assert.match(retried.lastError ?? '', /ffmpeg exited with SIGKILL/)

    const redone = (await TranscodeChunk.find(deadChunk.id))!
    assert.equal(redone.status, 'done')
    assert.isAtLeast(redone.attempts, 2)
    assert.equal(redone.worker, `${redone.worker!.split(':')[0]}:${b.process.pid}`)

    // The output is whole: 10 segments of 4 s in every rendition, video continuous.
    for (const rendition of ready.renditions!) {
      const playlist = pathOf(hlsKeys.file(ready.hlsPrefix, rendition.playlist))
      const durations = [...(await readFile(playlist, 'utf8')).matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]))
      assert.deepEqual(durations, Array(10).fill(4))
      const frames = continuity(await packetTimes(playlist, 'v'))
      assert.isAtMost(frames.largestStep, 1 / 30 + 0.001)
    }
    workers = [b]
  })

  test('a forensic video made in chunks has A and B of every segment, lined up with the unmarked ones', async ({ assert }) => {
    const source = await longSource()
    await twoWorkers()
    const queued = await queuedVideo(source, { watermarkMode: 'forensic' })
    const video = await waitForStatus(queued.id, ['ready', 'failed'], 240_000)
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.isAbove((await TranscodeChunk.query().where('videoId', video.id)).length, 2)
    const keys = await storedKeys(video.storagePrefix)
    for (const rendition of video.renditions!) {
      assert.isTrue(rendition.forensicVariants, rendition.name)
      const indices = [...Array(10).keys()]
      for (const variant of ['a', 'b'] as const) {
        const expected = indices.map((i) => hlsKeys.variantSegment(video.hlsPrefix, rendition.name, variant, i))
        assert.includeMembers(keys, expected, `${rendition.name} ${variant}`)
      }
      // A and B differ from each other and from the unmarked segment (the mark is there).
      const [unmarked, a, b] = await Promise.all([
        readFile(pathOf(hlsKeys.segment(video.hlsPrefix, rendition.name, 7))),
        readFile(pathOf(hlsKeys.variantSegment(video.hlsPrefix, rendition.name, 'a', 7))),
        readFile(pathOf(hlsKeys.variantSegment(video.hlsPrefix, rendition.name, 'b', 7))),
      ])
      assert.isFalse(a.equals(b))
      assert.isFalse(a.equals(unmarked))
      assert.deepEqual(tfdts(a), tfdts(unmarked))
    }
  })

  test('chunks Redis lost are found in PostgreSQL and put back on the queue', async ({ assert }) => {
    // Planned here, by the process that then reconciles: its queue producer
    // remembers the jobs it created, which must not hide that Redis lost them.
    const chunking = { ...mediaConfig.chunking }
    Object.assign(mediaConfig.chunking, { chunkSeconds: 8, minDurationSeconds: 20 })
    const video = await queuedVideo(await longSource())
    try {
      assert.equal(await transcoder.process({ videoId: video.id }), 'chunked')
    } finally {
      Object.assign(mediaConfig.chunking, chunking)
    }
    assert.lengthOf(await TranscodeChunk.query().where('videoId', video.id), 7)
    assert.equal((await Video.findOrFail(video.id)).status, 'processing')
    const waiting = await queues.counts('transcode_chunk')
    assert.equal(waiting.waiting, 6, 'five chunks and the soundtrack wait; the join comes after them')

    // Redis loses everything.
    const { default: redis } = await import('@adonisjs/redis/services/main')
    await redis.flushdb()
    await Video.query().where('id', video.id).update({ updated_at: new Date(Date.now() - 60_000) })
    assert.deepEqual(await transcoder.reconcile(), [], 'the video is not transcoded again from the start')
    assert.equal((await queues.counts('transcode_chunk')).waiting, 6)

    workers.push(await startWorker(['transcode_chunk'], CHUNKED))
    const ready = await waitForStatus(video.id, ['ready', 'failed'], 240_000)
    assert.equal(ready.status, 'ready', ready.lastError ?? '')
    assert.equal(ready.attempts, 1)
    const chunks = await TranscodeChunk.query().where('videoId', video.id)
    assert.deepEqual([...new Set(chunks.map((c) => `${c.status}×${c.attempts}`))], ['done×1'])
  })

  test('a short video keeps the one-process path', async ({ assert }) => {
    await twoWorkers()
    const queued = await queuedVideo(await media.landscape())
    const video = await waitForStatus(queued.id, ['ready', 'failed'], 120_000)
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.equal((await TranscodeChunk.query().where('videoId', video.id)).length, 0)
  })
})
