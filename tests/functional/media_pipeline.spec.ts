import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import Video from '#models/video'
import transcoder from '#services/transcode_service'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { tusUpload } from '#tests/helpers/tus_upload'
import { creatorClient, readStored, stagedUploads, storedKeys, waitForStatus } from '#tests/helpers/videos'
import { WebClient } from '#tests/helpers/web_client'
import { startWorker } from '#tests/helpers/processes'

const exec = promisify(execFile)

/** Resolutions listed by a master playlist, in order. */
const resolutions = (master: string) => [...master.matchAll(/RESOLUTION=(\d+x\d+)/g)].map((m) => m[1])

/** Streams ffprobe sees through a stored variant playlist (local storage). */
async function streamsOf(playlistKey: string) {
  const path = app.makePath(env.get('STORAGE_LOCAL_ROOT'), playlistKey)
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', path])
  return JSON.parse(stdout).streams as Array<{ codec_type: string; width?: number; height?: number }>
}

test.group('Media pipeline: upload to ready', (group) => {
  group.setup(async () => {
    await resetState()
    const worker = await startWorker()
    return () => worker.stop()
  })
  group.each.setup(() => resetState())
  group.each.timeout(120_000)

  test('a creator uploads a video; the worker makes an HLS ladder, a poster and a sprite', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.landscape(), { title: 'Sea view', price: '4.99', currency: 'USD', visibility: 'published' })
    assert.isTrue(result.ok, result.body)
    const video = await waitForStatus(result.videoId!, ['ready', 'failed'])
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.equal(video.priceMinor, 499)
    assert.closeTo(video.durationSeconds!, 6, 0.2)
    assert.deepEqual([video.width, video.height], [640, 360])

    // 640x360 source: 240p and 360p, never an upscaled 480p.
    const master = await readStored(`${video.hlsPrefix}master.m3u8`)
    assert.deepEqual(resolutions(master), ['426x240', '640x360'])
    const variant = await readStored(`${video.hlsPrefix}240p/index.m3u8`)
    assert.include(variant, '#EXT-X-MAP:URI=')
    assert.include(variant, '#EXT-X-PLAYLIST-TYPE:VOD')
    assert.match(variant, /seg_00000\.m4s/)
    const keys = await storedKeys(video.storagePrefix)
    assert.includeMembers(keys, [`${video.storagePrefix}poster.jpg`, `${video.storagePrefix}sprite.jpg`, `${video.storagePrefix}sprite.vtt`, video.sourceKey])
    assert.include(await readStored(`${video.storagePrefix}sprite.vtt`), 'sprite.jpg#xywh=0,0,160,90')
    assert.deepEqual(await stagedUploads(), [])

    // In the catalog, with its poster served by the app.
    const visitor = new WebClient()
    const home = await visitor.get('/')
    assert.include(home.text, 'Sea view')
    assert.include(home.text, '$4.99')
    assert.match(home.text, /<a href="\/@maker" class="creator">maker<\/a>/)
    assert.include(home.text, '0:06')
    const poster = await fetch(new URL(`/videos/${video.id}/poster`, visitor.baseUrl))
    assert.equal(poster.status, 200)
    assert.equal(poster.headers.get('content-type'), 'image/jpeg')
  })

  test('a 10-second portrait video keeps its orientation and is never upscaled', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.portrait())
    const video = await waitForStatus(result.videoId!, ['ready', 'failed'])
    assert.equal(video.status, 'ready', video.lastError ?? '')
    assert.deepEqual([video.width, video.height], [360, 640])
    assert.deepEqual(resolutions(await readStored(`${video.hlsPrefix}master.m3u8`)), ['240x426', '360x640'])
  })

  test('a video without audio gets a silent track in every rendition', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.silent())
    const video = await waitForStatus(result.videoId!, ['ready', 'failed'])
    assert.equal(video.status, 'ready', video.lastError ?? '')
    for (const rendition of video.renditions!) {
      const types = (await streamsOf(`${video.hlsPrefix}${rendition.playlist}`)).map((s) => s.codec_type)
      assert.includeMembers(types, ['video', 'audio'], rendition.name)
    }
  })

  test('a variable-frame-rate video becomes even segments that start on keyframes', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.variableFrameRate())
    const video = await waitForStatus(result.videoId!, ['ready', 'failed'])
    assert.equal(video.status, 'ready', video.lastError ?? '')
    const playlist = await readStored(`${video.hlsPrefix}${video.renditions![0].playlist}`)
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]))
    assert.isAtLeast(durations.length, 2)
    for (const duration of durations.slice(0, -1)) assert.closeTo(duration, 4, 0.05)
    assert.closeTo(durations.reduce((a, b) => a + b, 0), video.durationSeconds!, 0.3)
  })

  test('deleting a video removes every stored object', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.landscape())
    const video = await waitForStatus(result.videoId!, ['ready', 'failed'])
    assert.isAbove((await storedKeys(video.storagePrefix)).length, 5)
    const response = await creator.submit(`/studio/videos/${video.id}/edit`, `/studio/videos/${video.id}/delete`, {})
    assert.equal(response.location, '/studio/videos')
    assert.deepEqual(await storedKeys(), [])
    assert.isNull(await Video.find(video.id))
  })

  test('a source that cannot be read fails after three attempts, with the error kept', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.landscape())
    await waitForStatus(result.videoId!, ['ready', 'failed'])
    const video = (await Video.find(result.videoId!))!
    const { default: storage } = await import('#services/storage_service')
    await storage.delete(video.sourceKey)
    video.merge({ status: 'failed', attempts: 0 })
    await video.save()
    await transcoder.enqueue(video)
    const failed = await waitForStatus(video.id, ['failed'], 60_000).then(async (v) =>
      v.attempts < 3 ? waitForStatus(video.id, ['failed'], 60_000) : v
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    const final = (await Video.find(failed.id))!
    assert.equal(final.status, 'failed')
    assert.equal(final.attempts, 3)
    assert.include(final.lastError, 'No stored object')
    // Nothing half-written remains: only what the video had before (no HLS).
    assert.deepEqual((await storedKeys(`${video.storagePrefix}hls/`)), [])

    const page = await creator.get('/studio/videos')
    assert.include(page.text, 'No stored object')
    const { default: accounts } = await import('#services/account_service')
    await accounts.ensureAdmin({ username: 'boss', email: 'boss@example.com', password: 'admin secret 123' })
    const admin = new WebClient()
    await admin.login('boss', 'admin secret 123')
    const adminPage = await admin.get('/admin/videos')
    assert.include(adminPage.text, 'No stored object')
    assert.equal((await creator.get('/admin/videos')).status, 403)
  })

  test('videos Redis lost are found in PostgreSQL and transcoded', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.silent())
    await waitForStatus(result.videoId!, ['ready', 'failed'])
    // Pretend the job vanished with Redis while the row said "queued".
    const video = (await Video.find(result.videoId!))!
    await Video.query().where('id', video.id).update({ status: 'queued', progress: 0, updated_at: new Date(Date.now() - 60_000) })
    const { default: redis } = await import('@adonisjs/redis/services/main')
    await redis.flushdb()
    const requeued = await transcoder.reconcile()
    assert.deepEqual(requeued, [video.id])
    assert.equal((await waitForStatus(video.id, ['ready', 'failed'])).status, 'ready')
  })
})

test.group('Media pipeline: bad input', (group) => {
  group.each.setup(() => resetState())
  group.each.timeout(60_000)

  const refused = async (
    assert: any,
    file: () => Promise<string>,
    expected: { status: number; message: RegExp },
    fields = {},
    filename?: string
  ) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await file(), fields, filename)
    assert.isFalse(result.ok, `expected a refusal, got ${result.status} ${result.body}`)
    assert.equal(result.status, expected.status, result.body)
    assert.match(result.body, expected.message)
    assert.lengthOf(await Video.all(), 0)
    assert.deepEqual(await storedKeys(), [])
    assert.deepEqual(await stagedUploads(), [])
  }

  test('a text file renamed .mp4', async ({ assert }) => {
    await refused(assert, media.textAsMp4, { status: 422, message: /not a video/ })
  })

  test('a truncated MP4', async ({ assert }) => {
    await refused(assert, media.truncated, { status: 422, message: /not a readable video|truncated/ })
  })

  test('a zero-byte file', async ({ assert }) => {
    await refused(assert, media.empty, { status: 400, message: /The file is empty/ })
  })

  test('an oversize file', async ({ assert }) => {
    await refused(assert, media.oversize, { status: 413, message: /larger than the 0.02 GB limit/ })
  })

  test('an audio-only file', async ({ assert }) => {
    await refused(assert, media.audioOnly, { status: 422, message: /no video stream|not a video/ })
  })

  test('an image, by extension and disguised as .mp4', async ({ assert }) => {
    await refused(assert, media.image, { status: 415, message: /"\.png" are not accepted/ })
    await resetState()
    await refused(assert, media.imageAsMp4, { status: 422, message: /image\/png, not a video/ })
  })

  test('an empty title or a negative price, refused before any byte is stored', async ({ assert }) => {
    await refused(assert, media.landscape, { status: 422, message: /Give the video a title/ }, { title: '   ' })
    await resetState()
    await refused(assert, media.landscape, { status: 422, message: /cannot be negative/ }, { price: '-1.00' })
  })

  test('a viewer cannot upload (403) and a visitor is sent to log in', async ({ assert }) => {
    const viewer = new WebClient()
    await viewer.register('watcher', 'watcher@example.com')
    const result = await tusUpload(viewer, await media.landscape())
    assert.equal(result.status, 403)
    const anonymous = await tusUpload(new WebClient(), await media.landscape())
    assert.isFalse(anonymous.ok)
    assert.lengthOf(await Video.all(), 0)
    assert.deepEqual(await stagedUploads(), [])
  })

  test('editing checks the details and the poster image', async ({ assert }) => {
    const creator = await creatorClient()
    const video = await Video.create({
      id: crypto.randomUUID(),
      ownerId: (await (await import('#models/user')).default.findByOrFail('username', 'maker')).id,
      title: 'Draft',
      currency: 'USD',
      priceMinor: 0,
      visibility: 'draft',
      status: 'ready',
      sourceKey: 'videos/x/source/master.mp4',
      sourceFilename: 'x.mp4',
      sourceSize: 1,
    })
    const bad = await creator.submit(`/studio/videos/${video.id}/edit`, `/studio/videos/${video.id}`, {
      title: '',
      price: '-3',
      currency: 'USD',
      visibility: 'published',
    })
    const page = await creator.visit(bad.location!)
    assert.include(page.text, 'Give the video a title')
    assert.include(page.text, 'The price cannot be negative')
    assert.equal((await Video.findOrFail(video.id)).title, 'Draft')

    const good = await creator.submit(`/studio/videos/${video.id}/edit`, `/studio/videos/${video.id}`, {
      title: 'Final cut',
      price: '1500',
      currency: 'JPY',
      visibility: 'published',
    })
    assert.include((await creator.visit(good.location!)).text, 'Saved.')
    const saved = await Video.findOrFail(video.id)
    assert.deepEqual([saved.title, saved.priceMinor, saved.currency, saved.visibility], ['Final cut', 1500, 'JPY', 'published'])

    // Someone else's video is not found.
    const other = await creatorClient('rival')
    assert.equal((await other.get(`/studio/videos/${video.id}/edit`)).status, 404)
  })
})

test.group('Abandoned uploads', (group) => {
  group.each.setup(() => resetState())

  test('an interrupted upload can resume, and an expired one is cleaned away', async ({ assert }) => {
    const { default: uploads } = await import('#services/upload_service')
    const { readFile, writeFile } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const creator = await creatorClient()
    const token = (await creator.get('/studio/videos/new')).text.match(/data-csrf="([^"]+)"/)![1]
    const data = await readFile(await media.landscape())
    const headers = { 'tus-resumable': '1.0.0', 'x-csrf-token': token }
    const metadata = ['filename landscape.mp4', 'title Half'].map((pair) => {
      const [key, value] = pair.split(' ')
      return `${key} ${Buffer.from(value).toString('base64')}`
    })
    const created = await creator.request('POST', '/studio/uploads', undefined, {
      ...headers,
      'upload-length': String(data.length),
      'upload-metadata': metadata.join(','),
    })
    assert.equal(created.status, 201)
    const location = created.headers.get('location')!
    const half = Math.floor(data.length / 2)
    const patched = await creator.request('PATCH', location, data.subarray(0, half) as any, {
      ...headers,
      'upload-offset': '0',
      'content-type': 'application/offset+octet-stream',
    })
    assert.equal(patched.status, 204)

    // Resume: the server knows how far it got.
    const head = await creator.request('HEAD', location, undefined, headers)
    assert.equal(head.headers.get('upload-offset'), String(half))
    // Another creator may not touch it.
    const rival = await creatorClient('rival')
    const rivalToken = (await rival.get('/studio/videos/new')).text.match(/data-csrf="([^"]+)"/)![1]
    assert.equal((await rival.request('HEAD', location, undefined, { ...headers, 'x-csrf-token': rivalToken })).status, 403)

    // Abandoned for longer than the expiry: swept away.
    const id = location.split('/').pop()!
    const infoPath = join(uploads.directory, `${id}.json`)
    const info = JSON.parse(await readFile(infoPath, 'utf8'))
    info.creation_date = new Date(Date.now() - 48 * 3600_000).toISOString()
    await writeFile(infoPath, JSON.stringify(info))
    assert.equal(await uploads.cleanUpExpired(), 1)
    assert.deepEqual(await stagedUploads(), [])
    assert.lengthOf(await Video.all(), 0)
  })
})
