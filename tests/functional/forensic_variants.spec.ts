import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import mediaConfig from '#config/media'
import Video from '#models/video'
import User from '#models/user'
import { hlsKeys } from '#services/media/storage_keys'
import { forensicKey, forensicWatermarker } from '#services/media/forensic_variants'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { readStored, readyVideo, storedKeys } from '#tests/helpers/videos'
import { difference, joinSegments, meanLuma, psnr, videoFrames } from '#tests/helpers/forensic'

const exec = promisify(execFile)

/** Where local storage keeps a key (the tests' storage is the local plugin). */
const pathOf = (key: string) => app.makePath(env.get('STORAGE_LOCAL_ROOT'), key)

/** A rendition's playlist: its segment indices, their EXTINF durations, its init segment's file. */
async function playlistOf(video: Video, rendition: string) {
  const text = await readStored(hlsKeys.file(video.hlsPrefix, `${rendition}/index.m3u8`))
  const entries = [...text.matchAll(/#EXTINF:([\d.]+),\s*\n(seg_(\d+)\.m4s)/g)]
  const initFile = text.match(/#EXT-X-MAP:URI="([^"]+)"/)![1]
  return {
    text,
    durations: entries.map((m) => m[1]),
    indices: entries.map((m) => Number(m[3])),
    initFile,
    initPath: pathOf(hlsKeys.init(video.hlsPrefix, rendition, initFile)),
  }
}

async function creator() {
  return User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
}

test.group('Forensic A/B variants at transcode time', (group) => {
  let work: string
  // The production preset (the tests' ultrafast makes two encodes of one
  // picture differ more than a real ladder's do: about 40.2 dB, not 41.5).
  group.setup(() => {
    const preset = mediaConfig.x264Preset
    mediaConfig.x264Preset = 'veryfast'
    return () => void (mediaConfig.x264Preset = preset)
  })
  group.each.setup(async () => {
    await resetState()
    work = await mkdtemp(join(tmpdir(), 'matinee-forensic-test-'))
    return () => rm(work, { recursive: true, force: true })
  })
  group.each.timeout(120_000)

  test('a forensic video gets A and B of every segment of every rendition, lined up with the unmarked ones and close to them', async ({ assert }) => {
    const video = await readyVideo(await creator(), { watermarkMode: 'forensic', priceMinor: 499 })
    assert.deepEqual(video.renditions!.map((r) => [r.name, r.forensicVariants]), [['240p', true], ['360p', true]])
    const keys = await storedKeys(video.storagePrefix)

    for (const rendition of video.renditions!) {
      const { text, indices, initFile, initPath: init } = await playlistOf(video, rendition.name)
      assert.isAbove(indices.length, 1)
      const segmentsA = indices.map((i) => hlsKeys.variantSegment(video.hlsPrefix, rendition.name, 'a', i))
      const segmentsB = indices.map((i) => hlsKeys.variantSegment(video.hlsPrefix, rendition.name, 'b', i))
      // Exactly one A and one B per unmarked segment, and no other file (no init of their own: they share the rendition's).
      assert.deepEqual(
        keys.filter((key) => key.startsWith(hlsKeys.variantPrefix(video.hlsPrefix, rendition.name))),
        [...segmentsA, ...segmentsB].sort()
      )
      const unmarkedSegments = indices.map((i) => pathOf(hlsKeys.segment(video.hlsPrefix, rendition.name, i)))
      const unmarked = await joinSegments(init, unmarkedSegments, join(work, `${rendition.name}-u.mp4`))
      const markedA = await joinSegments(init, segmentsA.map(pathOf), join(work, `${rendition.name}-a.mp4`))
      const markedB = await joinSegments(init, segmentsB.map(pathOf), join(work, `${rendition.name}-b.mp4`))

      // Same frames at the same timestamps, keyframes in the same places.
      const frames = await videoFrames(unmarked)
      assert.deepEqual(await videoFrames(markedA), frames)
      assert.deepEqual(await videoFrames(markedB), frames)
      // Imperceptible: each close to the unmarked rendition; different from each other.
      for (const marked of [markedA, markedB]) {
        const decibels = await psnr(marked, unmarked)
        assert.isAtLeast(decibels, 40, `${rendition.name} PSNR ${decibels} dB`)
        assert.isBelow(decibels, Infinity, `${rendition.name}: a variant identical to the unmarked rendition carries no mark`)
      }
      assert.isBelow(await psnr(markedA, markedB), 60)

      // A playlist mixing A, B and unmarked segments behind the rendition's init decodes without an error.
      const mixed = text.replace(/seg_(\d+)\.m4s/g, (_, n) => {
        const i = Number(n)
        return pathOf(i % 3 === 0 ? hlsKeys.variantSegment(video.hlsPrefix, rendition.name, 'a', i) : i % 3 === 1 ? hlsKeys.variantSegment(video.hlsPrefix, rendition.name, 'b', i) : hlsKeys.segment(video.hlsPrefix, rendition.name, i))
      }).replace(`URI="${initFile}"`, `URI="${init}"`)
      const mixedPath = join(work, `${rendition.name}-mixed.m3u8`)
      await writeFile(mixedPath, mixed)
      const decoded = await exec('ffmpeg', ['-v', 'error', '-allowed_extensions', 'ALL', '-i', mixedPath, '-f', 'null', '-'])
      assert.equal(decoded.stderr.trim(), '')
    }
  })

  test('the mark reads back: A correlates with the video\'s keyed pattern, B against it, another video\'s key only as much as the two keys\' patterns overlap', async ({ assert }) => {
    const video = await readyVideo(await creator(), { watermarkMode: 'both', priceMinor: 499 })
    const watermarker = forensicWatermarker()
    const [width, height] = [64, 36]
    const rendition = '360p'
    const { indices, initPath: init } = await playlistOf(video, rendition)
    const segment = async (key: string, name: string) => meanLuma(await joinSegments(init, [pathOf(key)], join(work, name)), width, height)
    const key = forensicKey(video.id)
    const otherKey = forensicKey(randomUUID())
    // Two keys' patterns share a frequency now and then (three of a few low ones), so another key
    // reads a segment as much as its pattern overlaps this key's (measured: within ±0.07), not near 0.
    const cross = watermarker.score({ key: otherKey, width, height, difference: watermarker.pattern({ key, width, height }) })
    for (const i of indices) {
      const unmarked = await segment(hlsKeys.segment(video.hlsPrefix, rendition, i), `u${i}.mp4`)
      const a = difference(await segment(hlsKeys.variantSegment(video.hlsPrefix, rendition, 'a', i), `a${i}.mp4`), unmarked)
      const b = difference(await segment(hlsKeys.variantSegment(video.hlsPrefix, rendition, 'b', i), `b${i}.mp4`), unmarked)
      const scores = {
        a: watermarker.score({ key, width, height, difference: a }),
        b: watermarker.score({ key, width, height, difference: b }),
        aOtherKey: watermarker.score({ key: otherKey, width, height, difference: a }),
        bOtherKey: watermarker.score({ key: otherKey, width, height, difference: b }),
      }
      assert.isAbove(scores.a, 0.6, JSON.stringify(scores))
      assert.isBelow(scores.b, -0.6, JSON.stringify(scores))
      assert.isBelow(Math.abs(scores.aOtherKey - scores.a * cross), 0.15, JSON.stringify({ scores, cross }))
      assert.isBelow(Math.abs(scores.bOtherKey - scores.b * cross), 0.15, JSON.stringify({ scores, cross }))
    }
  })

  test('FORENSIC_RENDITIONS limits the variants to the renditions it names (the smallest when it names none of a video\'s)', async ({ assert, cleanup }) => {
    const configured = [...mediaConfig.forensic.renditions]
    mediaConfig.forensic.renditions.splice(0, Infinity, '240p')
    cleanup(() => void mediaConfig.forensic.renditions.splice(0, Infinity, ...configured))
    const video = await readyVideo(await creator(), { watermarkMode: 'forensic' })
    assert.deepEqual(video.renditions!.map((r) => [r.name, r.forensicVariants ?? false]), [['240p', true], ['360p', false]])
    const keys = await storedKeys(video.storagePrefix)
    assert.isNotEmpty(keys.filter((key) => key.startsWith(hlsKeys.variantPrefix(video.hlsPrefix, '240p'))))
    assert.isEmpty(keys.filter((key) => key.startsWith(hlsKeys.variantPrefix(video.hlsPrefix, '360p'))))

    // Naming only renditions this video's ladder lacks: its smallest gets variants (never none).
    // (A source without audio: its silent track is added to the variants as to the rendition.)
    mediaConfig.forensic.renditions.splice(0, Infinity, '1080p')
    const small = await readyVideo(await User.firstOrFail(), { watermarkMode: 'forensic', source: await media.silent() })
    assert.deepEqual(small.renditions!.map((r) => [r.name, r.forensicVariants ?? false]), [['240p', true], ['360p', false]])
  })

  test('videos in off or visible mode, or with no mode, get no variants (their transcode is unchanged)', async ({ assert }) => {
    const owner = await creator()
    for (const watermarkMode of ['off', 'visible', null] as const) {
      const video = await readyVideo(owner, { watermarkMode, priceMinor: 499 })
      assert.isTrue(video.renditions!.every((r) => !('forensicVariants' in r)), String(watermarkMode))
      assert.isEmpty((await storedKeys(video.storagePrefix)).filter((key) => key.includes('/ab/')), String(watermarkMode))
    }
  })

  test('without a mode a video is protected as before: the creator\'s switch, else visible when paid', async ({ assert }) => {
    const mode = (fields: Partial<Video>) => Object.assign(new Video(), { priceMinor: 0, watermarkEnabled: null, watermarkMode: null }, fields)
    assert.equal(mode({ priceMinor: 499 }).effectiveWatermarkMode, 'visible')
    assert.equal(mode({}).effectiveWatermarkMode, 'off')
    assert.equal(mode({ priceMinor: 499, watermarkEnabled: false }).effectiveWatermarkMode, 'off')
    assert.equal(mode({ watermarkEnabled: true }).effectiveWatermarkMode, 'visible')
    assert.equal(mode({ watermarkMode: 'off', priceMinor: 499 }).effectiveWatermarkMode, 'off')
    // Forensic keeps the visible mark until sessions are served A/B variants.
    assert.isTrue(mode({ watermarkMode: 'forensic' }).watermarkOn)
    assert.isTrue(mode({ watermarkMode: 'forensic' }).forensicOn)
    assert.isTrue(mode({ watermarkMode: 'both' }).forensicOn)
    assert.isFalse(mode({ watermarkMode: 'visible' }).forensicOn)
    assert.isFalse(mode({ priceMinor: 499 }).forensicOn)
  })

  test('a mode that does not exist is refused by the database', async ({ assert }) => {
    const owner = await creator()
    const id = randomUUID()
    const refused = await db
      .table('videos')
      .insert({
        id, owner_id: owner.id, title: 'x', status: 'uploaded', price_minor: 0, currency: 'USD', visibility: 'draft',
        source_key: `videos/${id}/source/master.mp4`, source_filename: 'master.mp4', source_size: 1, watermark_mode: 'sometimes', created_at: new Date(), updated_at: new Date(),
      })
      .then(() => null, (error: Error) => error)
    assert.include(refused?.message, 'videos_watermark_mode_check', refused?.message.slice(-300))
    assert.isNull(await Video.find(id))
  })

  test('a forensic video on a server without its forensic watermarker fails with the reason, and stores no partial ladder', async ({ assert, cleanup }) => {
    const configured = mediaConfig.forensic.watermarker
    ;(mediaConfig.forensic as { watermarker: string }).watermarker = 'absent'
    cleanup(() => void ((mediaConfig.forensic as { watermarker: string }).watermarker = configured))
    const owner = await creator()
    await assert.rejects(() => readyVideo(owner, { watermarkMode: 'forensic' }), /forensic watermarker "absent"/)
    const video = (await Video.query().firstOrFail())
    assert.include(video.lastError, 'no forensic watermarker "absent" is enabled')
    assert.isEmpty((await storedKeys(video.storagePrefix)).filter((key) => key.includes('/hls/')))
  })
})
