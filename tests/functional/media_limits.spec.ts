import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mediaConfig from '#config/media'
import User from '#models/user'
import Video from '#models/video'
import storage from '#services/storage_service'
import transcoder from '#services/transcode_service'
import { MediaRejectedError, run } from '#services/media/ffmpeg'
import { probe } from '#services/media/probe'
import { planSprite, spriteFilter, spriteVtt } from '#services/media/sprite'
import { resetState } from '#tests/helpers/state'
import { media, pointers } from '#tests/helpers/media_fixtures'
import { tusUpload } from '#tests/helpers/tus_upload'
import { creatorClient, stagedUploads, storedKeys, waitForStatus } from '#tests/helpers/videos'
import { startWorker, stopProcess, type RunningWorker } from '#tests/helpers/processes'
import type { WebClient } from '#tests/helpers/web_client'

const exec = promisify(execFile)
const JPEG_MAX_SIDE = 65_535

/**
 * Sets a file's access time far in the past (before its modification time),
 * so that any read of it moves the access time (relatime updates it then).
 */
async function armDecoy(path: string) {
  const { mtime } = await stat(path)
  await utimes(path, new Date('2000-01-01T00:00:00Z'), mtime)
  return async () => (await stat(path)).atimeMs === new Date('2000-01-01T00:00:00Z').getTime()
}

/** An upload that must be refused: the status, the sentence, and nothing kept anywhere. */
async function assertRefused(assert: any, creator: WebClient, path: string, status: number, message: RegExp) {
  const result = await tusUpload(creator, path, {}, 'holiday.mp4')
  assert.isFalse(result.ok, `expected a refusal, got ${result.status} ${result.body}`)
  assert.equal(result.status, status, result.body)
  assert.match(result.body, message)
  assert.lengthOf(await Video.all(), 0)
  assert.deepEqual(await storedKeys(), [])
  assert.deepEqual(await stagedUploads(), [])
  return result.body
}

/** A video row whose stored source is `path`, as if it had been accepted (the worker checks again). */
async function storedSource(path: string) {
  const owner = await User.create({ username: `owner${Date.now()}`, email: `o${Date.now()}@example.com`, password: 'correct horse battery', role: 'creator' })
  const id = randomUUID()
  const video = await Video.create({
    id,
    ownerId: owner.id,
    title: 'Sneaky',
    status: 'queued',
    priceMinor: 0,
    currency: 'USD',
    visibility: 'draft',
    sourceKey: `videos/${id}/source/master.mp4`,
    sourceFilename: 'master.mp4',
    sourceSize: (await stat(path)).size,
  })
  await storage.put(video.sourceKey, createReadStream(path))
  return video
}

/** Whether a process is gone (a zombie nobody reaped yet is gone too: it runs nothing). */
async function isGone(pid: number) {
  try {
    process.kill(pid, 0)
  } catch {
    return true
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return !stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

test.group('Media limits: files that point at other files', (group) => {
  group.each.setup(() => resetState())
  group.each.timeout(60_000)

  const pointerFiles = [
    { name: 'an HLS playlist', file: media.hlsPlaylistAsMp4, pointer: pointers.hlsPlaylist, reason: /an HLS playlist, not a video file/ },
    { name: 'an ffconcat file', file: media.ffconcatAsMp4, pointer: pointers.ffconcat, reason: /an ffconcat file list, not a video file/ },
    { name: 'a file:// reference', file: media.fileUrlAsMp4, pointer: pointers.fileUrl, reason: /an HLS playlist, not a video file/ },
  ]

  test('the decoy check can fail: FFmpeg left to guess the format reads the file a playlist names', async ({ assert }) => {
    const untouched = await armDecoy(await media.decoy())
    assert.isTrue(await untouched())
    await exec('ffprobe', ['-v', 'error', '-show_format', await media.hlsPlaylistAsMp4()])
    assert.isFalse(await untouched(), 'a bare ffprobe of the playlist read the decoy')
  })

  for (const { name, file, pointer, reason } of pointerFiles) {
    test(`${name} renamed .mp4 is refused at upload; nothing read, nothing stored`, async ({ assert }) => {
      const untouched = await armDecoy(await media.decoy())
      const creator = await creatorClient()
      await assertRefused(assert, creator, await file(), 422, /not a video/)
      assert.isTrue(await untouched(), 'the file it points at was read')
    })

    test(`${name}: the probe refuses it by the demuxer allowlist before opening what it names`, async ({ assert }) => {
      const untouched = await armDecoy(await media.decoy())
      const error = await probe(await file()).catch((e) => e)
      assert.instanceOf(error, MediaRejectedError)
      assert.match(error.message, reason)
      assert.isTrue(await untouched(), 'the file it points at was read')

      // Pointing at a path that does not exist: still the allowlist's refusal,
      // so the check came before any attempt to open it.
      const dir = await mkdtemp(join(tmpdir(), 'matinee-pointer-'))
      try {
        const missing = join(dir, 'pointer.mp4')
        await writeFile(missing, pointer(join(dir, 'does-not-exist.ts')))
        const refusal = await probe(missing).catch((e) => e)
        assert.match(refusal.message, reason)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  }

  test('a stored source that is a playlist fails in the worker with the reason; nothing read, no outputs', async ({ assert }) => {
    const untouched = await armDecoy(await media.decoy())
    const video = await storedSource(await media.hlsPlaylistAsMp4())
    assert.equal(await transcoder.process({ videoId: video.id }), 'failed')
    const failed = await Video.findOrFail(video.id)
    assert.equal(failed.status, 'failed')
    assert.equal(failed.attempts, 1)
    assert.match(failed.lastError!, /an HLS playlist, not a video file/)
    assert.isTrue(await untouched(), 'the file it points at was read')
    assert.deepEqual(await storedKeys(video.storagePrefix), [video.sourceKey])
  })
})

test.group('Media limits: duration, frame size, frame rate', (group) => {
  group.each.setup(() => resetState())
  group.each.timeout(90_000)

  test('a 10-hour video is refused with the duration limit named', async ({ assert }) => {
    const creator = await creatorClient()
    await assertRefused(assert, creator, await media.tenHours(), 422, /lasts 10 h, longer than the 6 h duration limit/)
  })

  test('an 8K 120 fps video is refused with the frame size and pixel rate limits named', async ({ assert }) => {
    const creator = await creatorClient()
    const body = await assertRefused(assert, creator, await media.eightK120(), 422, /7680×4320, larger than the frame size limit/)
    assert.match(body, /per second, more than the limit of 497\.7 megapixels per second/)
    assert.notMatch(body, /frame rate limit/)
  })

  test('4K at 120 fps fits every frame but not the pixel rate', async ({ assert }) => {
    const creator = await creatorClient()
    const body = await assertRefused(assert, creator, await media.uhd120(), 422, /995\.3 megapixels per second, more than the limit/)
    assert.notMatch(body, /frame size limit/)
  })

  test('the upload page shows the refusal like other refusals', async ({ assert }) => {
    // The page prints the body of a refused tus request as it is: a sentence, not JSON or HTML.
    const creator = await creatorClient()
    const body = await assertRefused(assert, creator, await media.tenHours(), 422, /^This video is over the limits: .*\.$/)
    assert.notMatch(body, /[<{]/)
  })

  test('the worker checks again: a stored 10-hour source fails at once, not retried', async ({ assert }) => {
    const video = await storedSource(await media.tenHours())
    assert.equal(await transcoder.process({ videoId: video.id }), 'failed')
    const failed = await Video.findOrFail(video.id)
    assert.equal(failed.attempts, 1)
    assert.match(failed.lastError!, /longer than the 6 h duration limit/)
    assert.deepEqual(await storedKeys(video.storagePrefix), [video.sourceKey])
  })

  test('a 10-hour video gets a valid thumbnail sheet (JPEG side limit) whose cues all point inside it', async ({ assert }) => {
    const path = await media.tenHours()
    const info = await probe(path)
    for (const [width, height] of [[1920, 1080], [1080, 1920], [4096, 16], [16, 4096], [info.width, info.height]]) {
      const plan = planSprite(info.durationSeconds, width, height, mediaConfig.sprite)
      assert.isAtMost(plan.rows * plan.tileHeight, JPEG_MAX_SIDE, `${width}x${height}`)
      assert.isAtMost(plan.columns * plan.tileWidth, JPEG_MAX_SIDE, `${width}x${height}`)
      assert.isAtLeast(plan.count * plan.intervalSeconds, info.durationSeconds)
    }

    // The sheet FFmpeg makes from the 10-hour file with the worker's filter.
    const plan = planSprite(info.durationSeconds, info.width, info.height, mediaConfig.sprite)
    const dir = await mkdtemp(join(tmpdir(), 'matinee-sprite-'))
    try {
      const sheet = join(dir, 'sprite.jpg')
      await run('ffmpeg', ['-v', 'error', '-protocol_whitelist', 'file', '-f', info.demuxer, '-i', path, '-vf', spriteFilter(plan), '-frames:v', '1', '-q:v', '5', sheet])
      const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'json', sheet])
      const [{ width, height }] = JSON.parse(stdout).streams
      assert.deepEqual([width, height], [plan.columns * plan.tileWidth, plan.rows * plan.tileHeight])

      const vtt = spriteVtt(plan, info.durationSeconds)
      const cues = [...vtt.matchAll(/^(\S+) --> (\S+)\nsprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)$/gm)]
      assert.lengthOf(cues, plan.count)
      assert.equal(cues[0][1], '00:00:00.000')
      assert.equal(cues.at(-1)![2], '10:00:00.000')
      for (const cue of cues) {
        const [x, y, w, h] = cue.slice(3).map(Number)
        assert.isAtMost(x + w, width)
        assert.isAtMost(y + h, height)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

test.group('Media limits: uploads per creator', (group) => {
  group.each.setup(() => resetState())
  const quota = { ...mediaConfig.uploadQuota }
  group.each.teardown(() => {
    Object.assign(mediaConfig.uploadQuota, quota)
  })

  /** Starts a tus upload (creation only, no bytes) of `size` declared bytes. */
  async function startUpload(client: WebClient, size: number) {
    const token = (await client.get('/studio/videos/new')).text.match(/data-csrf="([^"]+)"/)![1]
    const metadata = [['filename', 'part.mp4'], ['title', 'Part']].map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    return client.request('POST', '/studio/uploads', undefined, {
      'tus-resumable': '1.0.0',
      'x-csrf-token': token,
      'upload-length': String(size),
      'upload-metadata': metadata.join(','),
    })
  }

  test('a creator with the most uploads in progress is told to let one finish; others are not affected', async ({ assert }) => {
    const creator = await creatorClient()
    for (let i = 0; i < mediaConfig.uploadQuota.maxActiveUploads; i++) assert.equal((await startUpload(creator, 1000)).status, 201)
    const refused = await startUpload(creator, 1000)
    assert.equal(refused.status, 429)
    assert.match(refused.text, /You already have 3 uploads in progress, the most at once/)
    assert.lengthOf(await stagedUploads(), 2 * mediaConfig.uploadQuota.maxActiveUploads) // data + info per upload
    assert.equal((await startUpload(await creatorClient('rival'), 1000)).status, 201)
  })

  test('unfinished uploads may hold so many bytes per creator', async ({ assert }) => {
    mediaConfig.uploadQuota.maxStagedBytes = 30_000_000
    const creator = await creatorClient()
    assert.equal((await startUpload(creator, 19_000_000)).status, 201)
    const refused = await startUpload(creator, 19_000_000)
    assert.equal(refused.status, 429)
    assert.match(refused.text, /Your unfinished uploads hold 0\.02 GB; with this 0\.02 GB file that would pass the 0\.03 GB limit per creator/)
    assert.lengthOf(await stagedUploads(), 2)
    // A whole upload within the limit still goes through, and frees its bytes.
    const ok = await tusUpload(creator, await media.landscape())
    assert.isTrue(ok.ok, ok.body)
  })
})

test.group('Media limits: stalled and killed transcodes', (group) => {
  group.each.setup(() => resetState())
  group.each.timeout(180_000)

  let fakeDir = ''
  let pidFile = ''
  group.setup(async () => {
    // A stalled FFmpeg: records its pid and its child's, then writes a
    // progress line every half second forever (like a real one, it dies when
    // nobody reads its progress any more).
    fakeDir = await mkdtemp(join(tmpdir(), 'matinee-fake-ffmpeg-'))
    await mkdir(fakeDir, { recursive: true })
    const script = join(fakeDir, 'ffmpeg')
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'echo "ffmpeg $$" >> "$FAKE_FFMPEG_PIDS"',
        'sleep 600 &',
        'echo "child $!" >> "$FAKE_FFMPEG_PIDS"',
        'while :; do echo "out_time_us=0" || exit 1; sleep 0.5; done',
        '',
      ].join('\n')
    )
    await chmod(script, 0o755)
    return () => rm(fakeDir, { recursive: true, force: true })
  })
  group.each.setup(async () => {
    pidFile = join(fakeDir, `pids-${randomUUID()}`)
    await writeFile(pidFile, '')
  })
  group.each.teardown(async () => {
    // Whatever a failing test left behind.
    for (const pid of await runs()) {
      try {
        process.kill(pid.pid, 'SIGKILL')
      } catch {}
    }
  })

  const runs = async () =>
    (await readFile(pidFile, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ kind: line.split(' ')[0], pid: Number(line.split(' ')[1]) }))

  const fakeEnv = (extra: Record<string, string> = {}) => ({
    PATH: `${fakeDir}:${process.env.PATH}`,
    FAKE_FFMPEG_PIDS: pidFile,
    ...extra,
  })

  test('cancelling an FFmpeg run kills its whole process tree', async ({ assert }) => {
    const path = process.env.PATH
    process.env.PATH = `${fakeDir}:${path}`
    process.env.FAKE_FFMPEG_PIDS = pidFile
    try {
      const controller = new AbortController()
      const running = run('ffmpeg', ['-i', 'whatever.mp4'], { signal: controller.signal }).catch((error: Error) => error)
      await eventually(async () => (await runs()).length >= 2, 10_000, 'the fake FFmpeg and its child')
      controller.abort()
      const error = await running
      assert.instanceOf(error, Error)
      assert.equal((error as Error).message, 'ffmpeg was cancelled')
      for (const { kind, pid } of await runs()) await eventually(() => isGone(pid), 5000, `the ${kind} (${pid}) to be killed`)
    } finally {
      process.env.PATH = path
      delete process.env.FAKE_FFMPEG_PIDS
    }
  })

  test('a stalled FFmpeg is stopped at its time limit with its whole process tree; three attempts, then failed', async ({ assert }) => {
    const worker = await startWorker(['transcode'], fakeEnv({ MEDIA_TIMEOUT_BASE_SECONDS: '2', MEDIA_TIMEOUT_SECONDS_PER_SECOND: '0' }))
    try {
      const creator = await creatorClient()
      const result = await tusUpload(creator, await media.landscape())
      assert.isTrue(result.ok, result.body)

      // The first run is killed at its limit: the fake and the child it started.
      await eventually(async () => (await runs()).length >= 2, 30_000, 'the first FFmpeg run')
      const [first, child] = await runs()
      await eventually(async () => (await isGone(first.pid)) && (await isGone(child.pid)), 10_000, 'the first run to be killed')

      const video = await waitForStatus(result.videoId!, ['failed', 'ready'], 60_000)
      assert.equal(video.status, 'failed')
      assert.equal(video.attempts, 3)
      assert.match(video.lastError!, /ffmpeg ran longer than its 2 s limit and was stopped/)
      const all = await runs()
      assert.lengthOf(all, 6, 'three runs, each with its child')
      for (const { pid } of all) assert.isTrue(await isGone(pid), `process ${pid} survived`)
      assert.deepEqual(await storedKeys(`${video.storagePrefix}hls/`), [])
      assert.include((await creator.get('/studio/videos')).text, 'ran longer than its 2 s limit')
    } finally {
      await worker.stop()
    }
  })

  test('a video whose worker is killed mid-transcode, again and again, ends failed instead of looping', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.landscape())
    assert.isTrue(result.ok, result.body)
    let worker: RunningWorker | null = null
    try {
      for (let run = 1; run <= mediaConfig.attempts; run++) {
        worker = await startWorker(['transcode'], fakeEnv())
        await eventually(async () => (await runs()).filter((r) => r.kind === 'ffmpeg').length >= run, 60_000, `run ${run} to start`)
        const video = await Video.findOrFail(result.videoId!)
        assert.equal(video.status, 'processing')
        assert.equal(video.attempts, run)
        await stopProcess(worker.process, 'SIGKILL')
        worker = null
        // The killed worker's FFmpeg does not run on: its progress has no reader any more.
        const ffmpeg = (await runs()).filter((r) => r.kind === 'ffmpeg').at(-1)!
        await eventually(() => isGone(ffmpeg.pid), 10_000, `run ${run}'s FFmpeg to stop with its worker`)
      }
      worker = await startWorker(['transcode'], fakeEnv())
      const video = await waitForStatus(result.videoId!, ['failed', 'ready'], 60_000)
      assert.equal(video.status, 'failed')
      assert.equal(video.attempts, 3)
      assert.equal(video.lastError, 'The transcode stopped 3 times without finishing (its worker died or was stopped each time).')
      assert.lengthOf((await runs()).filter((r) => r.kind === 'ffmpeg'), 3, 'no fourth run')
      assert.include((await creator.get('/studio/videos')).text, 'stopped 3 times without finishing')
    } finally {
      await worker?.stop()
    }
  })
})
