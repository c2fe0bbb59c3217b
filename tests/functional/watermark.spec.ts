import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DateTime } from 'luxon'
import type User from '#models/user'
import type Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import playback from '#services/playback_service'
import watermarks from '#services/watermark/just_in_time'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo, storedKeys } from '#tests/helpers/videos'
import type { WebClient } from '#tests/helpers/web_client'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'

const exec = promisify(execFile)

const uriLines = (playlist: string) => playlist.split('\n').filter((line) => line && !line.startsWith('#'))

async function openSession(client: WebClient, video: Video) {
  const opened = await client.api('POST', `/videos/${video.id}/playback`)
  if (opened.status !== 201) throw new Error(`open answered ${opened.status}: ${JSON.stringify(opened.body)}`)
  const master = (await client.get(opened.body.masterUrl)).text
  return { ...opened.body, master }
}

/** Decodes the frame at `seconds` (video time) of a TS segment to raw RGB. */
async function frameAt(segment: Buffer, seconds: number, dir: string, name: string) {
  const input = join(dir, `${name}.ts`)
  await writeFile(input, segment)
  const { stdout } = await exec(
    'ffmpeg',
    ['-v', 'error', '-copyts', '-i', input, '-vf', `select='gte(t\\,${seconds})'`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }
  )
  return stdout as unknown as Buffer
}

/** Share of pixels whose brightness differs by more than 40 of 255. */
function differingShare(a: Buffer, b: Buffer) {
  let differing = 0
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 40) differing++
  return differing / a.length
}

test.group('Playback: just-in-time watermark', (group) => {
  let worker: RunningWorker
  let owner: { user: User; client: WebClient }
  let video: Video
  let scratch: string

  group.setup(async () => {
    await resetState()
    scratch = await mkdtemp(join(tmpdir(), 'matinee-wm-test-'))
    worker = await startWorker(['watermark', 'watermark_ahead'])
    owner = await loggedIn('maker', 'creator')
    // Paid: watermarked by default.
    video = await readyVideo(owner.user, { title: 'Marked', priceMinor: 500 })
    return async () => {
      await worker.stop()
      await rm(scratch, { recursive: true, force: true })
    }
  })
  group.each.timeout(90_000)

  test('a paid video plays watermarked: just-in-time TS segments, no clean segment reachable', async ({ assert }) => {
    const session = await openSession(owner.client, video)
    assert.isTrue(session.watermarked)
    const variants = uriLines(session.master)
    assert.lengthOf(variants, 2)
    const variant = (await owner.client.get(variants[0])).text
    assert.notInclude(variant, 'EXT-X-MAP')
    const segments = uriLines(variant)
    assert.lengthOf(segments, 2)
    for (const url of segments) assert.match(url, /^\/play\/[0-9a-f-]{36}\/240p\/wm_\d{5}\.ts\?exp=\d+&sig=[\w-]{43}$/)

    const started = Date.now()
    const first = await owner.client.bytes(segments[0])
    assert.equal(first.status, 200, first.body.toString().slice(0, 200))
    assert.equal(first.headers.get('content-type'), 'video/mp2t')
    assert.equal(first.headers.get('cache-control'), 'private, no-store')
    assert.equal(first.body[0], 0x47) // MPEG-TS sync byte
    assert.isBelow(Date.now() - started, 15_000)

    // The clean fMP4 segment of the same session is not served, even correctly signed.
    const clean = await owner.client.bytes(playback.signedUrl(session.sessionId, '240p/seg_00000.m4s'))
    assert.equal(clean.status, 404)
    // Past the end.
    const past = await owner.client.bytes(playback.signedUrl(session.sessionId, '240p/wm_00042.ts'))
    assert.equal(past.status, 404)

    // The lookahead rendered the next segment without being asked.
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && (await storedKeys(`playback/${session.sessionId}/`)).length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    assert.deepEqual(await storedKeys(`playback/${session.sessionId}/`), [
      `playback/${session.sessionId}/240p/wm_00000.ts`,
      `playback/${session.sessionId}/240p/wm_00001.ts`,
    ])

    // Segments keep the source timestamps and codec so they play back to back.
    const second = await owner.client.bytes(segments[1])
    const probe = async (bytes: Buffer, name: string) => {
      const path = join(scratch, name)
      await writeFile(path, bytes)
      const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,profile,width,height:format=start_time,duration', '-of', 'json', path])
      return JSON.parse(stdout)
    }
    const [a, b] = [await probe(first.body, 'a.ts'), await probe(second.body, 'b.ts')]
    assert.closeTo(Number(a.format.start_time), 0, 0.2)
    assert.closeTo(Number(b.format.start_time), 4, 0.2)
    const videoStream = (p: any) => p.streams.find((s: any) => s.codec_name === 'h264')
    assert.deepInclude(videoStream(a), { profile: 'High', width: 426, height: 240 })
    assert.deepInclude(videoStream(b), { profile: 'High', width: 426, height: 240 })
    assert.isTrue(a.streams.some((s: any) => s.codec_name === 'aac'))
  })

  test('two viewers get the same segment with different marks', async ({ assert }) => {
    const alice = await loggedIn('alice', 'admin')
    const bob = await loggedIn('hellopass-bob')
    const [sa, sb] = [await openSession(alice.client, video), await openSession(bob.client, video)]
    const segmentOf = async (client: WebClient, session: { master: string }) =>
      uriLines((await client.get(uriLines(session.master)[1])).text)[0]
    const [ua, ub] = [await segmentOf(alice.client, sa), await segmentOf(bob.client, sb)]
    assert.match(ua, /360p\/wm_00000\.ts/)
    const [ra, rb] = await Promise.all([alice.client.bytes(ua), bob.client.bytes(ub)])
    assert.equal(ra.status, 200)
    assert.equal(rb.status, 200)
    assert.notDeepEqual(ra.body, rb.body)

    const [fa, fb] = [await frameAt(ra.body, 1, scratch, 'alice'), await frameAt(rb.body, 1, scratch, 'bob')]
    assert.equal(fa.length, 640 * 360)
    const share = differingShare(fa, fb)
    // The marks differ (text and position), the picture around them does not.
    assert.isAbove(share, 0.001)
    assert.isBelow(share, 0.2)

    const texts = await PlaybackSession.query().whereIn('id', [sa.sessionId, sb.sessionId]).orderBy('userId')
    assert.match(texts[0].watermarkText!, /^@alice · [0-9A-F]{6}$/)
    assert.match(texts[1].watermarkText!, /^@hellopass-bob · [0-9A-F]{6} · pass$/)

    // Bob may not fetch Alice's render, even with her URL.
    assert.equal((await bob.client.bytes(ua)).status, 403)
  })

  test('a creator can turn the watermark off; renders of ended sessions are deleted', async ({ assert }) => {
    const clean = await readyVideo(owner.user, { title: 'Unmarked', priceMinor: 500, watermarkEnabled: false })
    const unmarked = await openSession(owner.client, clean)
    assert.isFalse(unmarked.watermarked)
    assert.match(unmarked.master, /240p\/index\.m3u8/)

    const marked = await openSession(owner.client, video)
    const segment = uriLines((await owner.client.get(uriLines(marked.master)[0])).text)[0]
    assert.equal((await owner.client.bytes(segment)).status, 200)
    assert.isNotEmpty(await storedKeys(`playback/${marked.sessionId}/`))
    await owner.client.api('DELETE', `/playback/${marked.sessionId}`)
    await PlaybackSession.query().where('id', marked.sessionId).update({ revokedAt: DateTime.now().minus({ minutes: 2 }).toSQL() })
    assert.isAtLeast(await playback.purgeEnded(), 1)
    assert.isEmpty(await storedKeys(`playback/${marked.sessionId}/`))
    assert.isNotNull((await PlaybackSession.findOrFail(marked.sessionId)).mediaPurgedAt)
  })

  test('a session not seen for the idle window holds no renders: its queued renders are dropped', async ({ assert }) => {
    const marked = await openSession(owner.client, video)
    const session = await PlaybackSession.findOrFail(marked.sessionId)
    const rendition = uriLines(marked.master)[0].split('/').at(-2)!
    // Seen two minutes ago: past the idle window (90 s).
    await PlaybackSession.query().where('id', session.id).update({ lastSeenAt: DateTime.now().minus({ minutes: 2 }).toSQL() })
    assert.equal(await watermarks.render({ sessionId: session.id, rendition, index: 1 }), 'gone')
    assert.isEmpty(await storedKeys(`playback/${session.id}/`))
    // Seen just now: rendered.
    await PlaybackSession.query().where('id', session.id).update({ lastSeenAt: DateTime.now().toSQL() })
    assert.equal(await watermarks.render({ sessionId: session.id, rendition, index: 1 }), 'rendered')
    await owner.client.api('DELETE', `/playback/${session.id}`)
  })
})
