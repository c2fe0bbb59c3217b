/// <reference lib="dom" />
import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import type { Browser } from 'playwright-core'
import Video from '#models/video'
import TranscodeChunk from '#models/transcode_chunk'
import storage from '#services/storage_service'
import transcoder from '#services/transcode_service'
import { launchChromium, logIn, playsFor } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { loggedIn, waitForStatus } from '#tests/helpers/videos'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'

const exec = promisify(execFile)

/** A 40 s test pattern with a tone: five chunks of 8 s with the workers' settings below. */
async function longSource() {
  const dir = join(tmpdir(), 'matinee-media-fixtures')
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'long-640x360-40s.mp4')
  if (!(await stat(path).catch(() => null))) {
    await exec('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '40', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', `${path}.part.mp4`,
    ])
    await exec('mv', [`${path}.part.mp4`, path])
  }
  return path
}

test.group('Browser: a video transcoded in chunks', (group) => {
  let workers: RunningWorker[] = []
  let browser: Browser
  let video: Video

  group.setup(async () => {
    await resetState()
    const chunked = { TRANSCODE_CHUNK_SECONDS: '8', TRANSCODE_CHUNK_MIN_SECONDS: '20' }
    workers = [await startWorker(['transcode', 'transcode_chunk'], chunked), await startWorker(['transcode', 'transcode_chunk'], chunked)]
    browser = await launchChromium()
    const { user: creator } = await loggedIn('studio', 'creator')
    const source = await longSource()
    const id = randomUUID()
    const queued = await Video.create({
      id,
      ownerId: creator.id,
      title: 'Forty seconds in five pieces',
      status: 'uploaded',
      priceMinor: 0,
      currency: 'USD',
      visibility: 'published',
      sourceKey: `videos/${id}/source/master.mp4`,
      sourceFilename: 'master.mp4',
      sourceSize: (await stat(source)).size,
    })
    await storage.put(queued.sourceKey, createReadStream(source))
    await transcoder.enqueue(queued)
    video = await waitForStatus(id, ['ready', 'failed'], 240_000)
    return async () => {
      await browser.close()
      for (const worker of workers) await worker.stop()
    }
  })

  test('hls.js plays across the chunk joins with one continuous buffer, and seeks into a later chunk', async ({ assert }) => {
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.equal((await TranscodeChunk.query().where('videoId', video.id).where('kind', 'video')).length, 5)
    await loggedIn('vera')
    const page = await browser.newPage({ baseURL: env.get('APP_URL') })
    const consoleErrors: string[] = []
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()))
    const failed: string[] = []
    page.on('response', (response) => response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`))
    await logIn(page, 'vera')
    await page.goto(`/videos/${video.id}`)

    // Two joins (8 s and 16 s) played through: the buffer is one range from the start, no gap at a join.
    await playsFor(page, 17, 90_000)
    const buffered = await page.evaluate(() => {
      const ranges = document.querySelector('video')!.buffered
      return Array.from({ length: ranges.length }, (_, i) => [ranges.start(i), ranges.end(i)])
    })
    assert.lengthOf(buffered, 1, JSON.stringify(buffered))
    assert.isAtMost(buffered[0][0], 0.1)
    assert.isAtLeast(buffered[0][1], 17)

    // Into the last chunk, across its join at 32 s, to the end.
    await page.evaluate(() => {
      document.querySelector('video')!.currentTime = 30
    })
    await page.waitForFunction(() => document.querySelector('video')!.currentTime >= 34, null, { timeout: 60_000 })
    const duration = await page.evaluate(() => document.querySelector('video')!.duration)
    assert.closeTo(duration, 40, 0.1)
    const player = await page.$eval('[data-player]', (node) => ({ ...(node as HTMLElement).dataset }))
    assert.isUndefined(player.lastError)
    assert.deepEqual(failed, [], failed.join(' '))
    assert.deepEqual(consoleErrors, [])

    const dir = app.makePath('tmp/screenshots')
    await mkdir(dir, { recursive: true })
    await page.screenshot({ path: `${dir}/chunked-playback.png` })
    await page.close()
  }).timeout(240_000)
})
