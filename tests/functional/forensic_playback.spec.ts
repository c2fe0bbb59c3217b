import { test } from '@japa/runner'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import playbackConfig from '#config/playback'
import type User from '#models/user'
import Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import playback from '#services/playback_service'
import playbackCache from '#services/playback/session_cache'
import queues from '#services/queue_service'
import rateLimits from '#services/rate_limit_service'
import storage from '#services/storage_service'
import { rateLimits as limits } from '#config/limiter'
import { hlsKeys, segmentName } from '#services/media/storage_keys'
import { variantFor } from '#services/watermark/forensic_sequence'
import { sessionRenditions } from '#services/watermark/session_mark'
import watermarks from '#services/watermark/just_in_time'
import { joinSegments, meanLuma } from '#tests/helpers/forensic'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import type { WebClient } from '#tests/helpers/web_client'

const uriLines = (playlist: string) => playlist.split('\n').filter((line) => line && !line.startsWith('#'))

async function storedBytes(key: string) {
  const chunks: Buffer[] = []
  for await (const chunk of (await storage.get(key)).body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function open(client: WebClient, video: Video) {
  const opened = await client.api('POST', `/videos/${video.id}/playback`)
  if (opened.status !== 201) throw new Error(`open answered ${opened.status}: ${JSON.stringify(opened.body)}`)
  const session = await PlaybackSession.findOrFail(opened.body.sessionId)
  const master = (await client.get(opened.body.masterUrl)).text
  return { session, master, variants: uriLines(master) }
}

test.group('Playback: forensic sessions are served their own A/B sequence', (group) => {
  let creator: { user: User; client: WebClient }
  let video: Video

  group.setup(async () => {
    await resetState()
    creator = await loggedIn('maker', 'creator')
    // Free, so any viewer may watch; the mode is what protects it.
    video = await readyVideo(creator.user, { title: 'Forensic', priceMinor: 0, watermarkMode: 'forensic' })
  })
  group.each.timeout(120_000)

  test('segment i is the stored variant variantFor picks for the session; the URL names only the segment; the other variant has no URL', async ({ assert }) => {
    const withVariants = (video.renditions ?? []).filter((r) => r.forensicVariants)
    assert.isAbove(withVariants.length, 0)
    const viewers = [await loggedIn('ann'), await loggedIn('bob')]
    const served: Buffer[][] = []
    for (const { client } of viewers) {
      const { session, master, variants } = await open(client, video)
      assert.isTrue(session.forensic)
      assert.isFalse(session.watermarked)
      assert.equal(variants.length, withVariants.length, master)
      const variantText = (await client.get(variants[0])).text
      const rendition = withVariants.find((r) => variants[0].includes(`/${r.name}/index.m3u8`))!
      const segments = uriLines(variantText)
      assert.isAbove(segments.length, 1)
      const mine: Buffer[] = []
      for (const [index, url] of segments.entries()) {
        // The signed path is the logical segment, never a variant's.
        assert.include(url, `/${rendition.name}/${segmentName(index)}?`)
        // Twice: the second answer comes from the fast path (the session held in memory).
        const first = await client.bytes(url)
        const second = await client.bytes(url)
        assert.equal(first.status, 200)
        const chosen = variantFor(session.id, video.id, index) === 'A' ? 'a' : 'b'
        const expected = await storedBytes(hlsKeys.variantSegment(video.hlsPrefix, rendition.name, chosen, index))
        assert.isTrue(first.body.equals(expected), `segment ${index} is variant ${chosen}`)
        assert.isTrue(second.body.equals(expected), `segment ${index} from memory is variant ${chosen}`)
        const unmarked = await storedBytes(hlsKeys.segment(video.hlsPrefix, rendition.name, index))
        assert.isFalse(first.body.equals(unmarked))
        mine.push(first.body)

        // A request crafted for the other variant (or the chosen one) by its storage path,
        // even correctly signed for this session, names nothing a session may fetch.
        for (const variant of ['a', 'b']) {
          const crafted = playback.signedUrl(session.id, `${rendition.name}/ab/${variant}/${segmentName(index)}`)
          const refused = await client.bytes(crafted)
          assert.equal(refused.status, 404)
          assert.isBelow(refused.body.length, 2000)
        }
      }
      // A forensic session asking for a visible render: there is none for it (and nothing is queued).
      const render = await client.bytes(playback.signedUrl(session.id, `${rendition.name}/wm_00000.ts`))
      assert.equal(render.status, 404)
      assert.equal((await queues.counts('watermark')).waiting, 0)
      assert.isTrue(playbackCache.get(session.id) !== undefined, 'the session was served from memory')
      served.push(mine)
    }
    // Two sessions of 3+ segments each: their sequences are independent bits.
    const [ann, bob] = served
    const sessions = await PlaybackSession.query().where('videoId', video.id).orderBy('createdAt')
    const differ = ann.some((_bytes, index) => variantFor(sessions[0].id, video.id, index) !== variantFor(sessions[1].id, video.id, index))
    assert.equal(ann.some((bytes, index) => !bytes.equals(bob[index])), differ)
  })

  test('a forensic session\'s player is given the viewer\'s name and its moving positions to draw', async ({ assert }) => {
    const { client } = await loggedIn('hal')
    const opened = await client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(opened.status, 201)
    assert.isTrue(opened.body.forensic)
    assert.include(opened.body.overlay.text, '@hal')
    assert.equal(opened.body.overlay.intervalSeconds, playbackConfig.watermark.intervalSeconds)
    const positions: Array<[number, number]> = opened.body.overlay.positions
    assert.isAbove(positions.length, 1)
    assert.isTrue(positions.flat().every((value) => value >= 0 && value < 1))
    assert.isAbove(new Set(positions.map((p) => p.join())).size, 1)
  })

  test('a forensic video transcoded without variants falls back to the visible render, never unmarked', async ({ assert }) => {
    const plain = await readyVideo(creator.user, { title: 'Old', priceMinor: 0, watermarkMode: 'visible' })
    assert.isFalse((plain.renditions ?? []).some((r) => r.forensicVariants))
    plain.watermarkMode = 'forensic'
    await plain.save()
    const { client } = await loggedIn('cat')
    const { session, variants } = await open(client, plain)
    assert.isTrue(session.watermarked)
    assert.isFalse(session.forensic)
    const segments = uriLines((await client.get(variants[0])).text)
    assert.isTrue(segments.every((url) => /\/wm_\d{5}\.ts\?/.test(url)))
  })
})

test.group('Playback: admission of visible renders', (group) => {
  let creator: { user: User; client: WebClient }
  let visible: Video
  let both: Video
  const backlog = playbackConfig.watermark.admission.maxBacklog

  group.setup(async () => {
    await resetState()
    creator = await loggedIn('maker', 'creator')
    visible = await readyVideo(creator.user, { title: 'Visible', priceMinor: 0, watermarkMode: 'visible' })
    both = await readyVideo(creator.user, { title: 'Both', priceMinor: 0, watermarkMode: 'both' })
  })
  group.each.setup(() => () => {
    playbackConfig.watermark.admission.maxBacklog = backlog
  })
  group.each.timeout(120_000)

  test('with the render pool keeping up, both gets the visible render drawn on its variants', async ({ assert }) => {
    const { client } = await loggedIn('dan')
    const { session } = await open(client, both)
    assert.isTrue(session.watermarked)
    assert.isTrue(session.forensic)
  })

  test('both: the visible render of segment i is drawn on the variant the session\'s code selects', async ({ assert, cleanup }) => {
    const { client } = await loggedIn('ian')
    const { session } = await open(client, both)
    assert.isTrue(session.watermarked && session.forensic)
    const rendition = sessionRenditions(session, both)[0]
    const work = await mkdtemp(join(tmpdir(), 'matinee-both-'))
    cleanup(() => rm(work, { recursive: true, force: true }))
    const save = async (key: string, name: string) => {
      const path = join(work, name)
      await writeFile(path, await storedBytes(key))
      return path
    }
    const [width, height] = [64, 36]
    const playlist = (await storedBytes(hlsKeys.file(both.hlsPrefix, rendition.playlist))).toString('utf8')
    const init = await save(hlsKeys.init(both.hlsPrefix, rendition.name, playlist.match(/#EXT-X-MAP:URI="([^"]+)"/)![1]), 'init.mp4')
    const lumaOf = async (key: string, name: string) => meanLuma(await joinSegments(init, [await save(key, `${name}.m4s`)], join(work, `${name}.mp4`)), width, height)
    // The first segment the session is served as A and the first as B (if its short sequence has both).
    const segmentCount = uriLines(playlist).length
    const firstOf = new Map<string, number>()
    for (let i = segmentCount - 1; i >= 0; i--) firstOf.set(variantFor(session.id, both.id, i), i)
    const indices = [...firstOf.values()]
    for (const index of indices) {
      assert.equal(await watermarks.render({ sessionId: session.id, rendition: rendition.name, index }), 'rendered')
      const unmarked = await lumaOf(hlsKeys.segment(both.hlsPrefix, rendition.name, index), `u${index}`)
      const rendered = await meanLuma(await save(watermarks.renderKey(session.id, rendition.name, index), `r${index}.ts`), width, height)
      const expected = variantFor(session.id, both.id, index)
      const [a, b] = [
        await lumaOf(hlsKeys.variantSegment(both.hlsPrefix, rendition.name, 'a', index), `a${index}`),
        await lumaOf(hlsKeys.variantSegment(both.hlsPrefix, rendition.name, 'b', index), `b${index}`),
      ]
      // Leave out where the visible name was drawn (far from every stored version), then see
      // which variant the render is nearer to: the mark is ±2 levels, encoding noise averages out.
      const kept = rendered.map((value, i) => (Math.abs(value - unmarked[i]) <= 6 ? 1 : 0))
      const distanceTo = (variant: Float32Array) => rendered.reduce((sum, value, i) => sum + kept[i] * (value - variant[i]) ** 2, 0)
      const [toA, toB] = [distanceTo(a), distanceTo(b)]
      const [chosen, other] = expected === 'A' ? [toA, toB] : [toB, toA]
      assert.isAbove(kept.reduce((sum, k) => sum + k, 0), rendered.length / 2, `segment ${index}: most of the picture is compared`)
      // (measured: 0.01 to 0.04 of the distance to the other variant; 0.9 to 1.1 when drawn on the unmarked segment)
      assert.isBelow(chosen, 0.3 * other, `segment ${index}: ${JSON.stringify({ expected, toA, toB })}`)
    }
  })

  test('when the render pool is not keeping up: a both session starts forensic; a visible video without variants gets 503 busy with Retry-After and no session', async ({ assert }) => {
    // Simulated by the threshold: any backlog (even none) counts as not keeping up.
    playbackConfig.watermark.admission.maxBacklog = 0
    const { client, user } = await loggedIn('eve')
    const { session, variants } = await open(client, both)
    assert.isFalse(session.watermarked)
    assert.isTrue(session.forensic)
    const segments = uriLines((await client.get(variants[0])).text)
    assert.isTrue(segments.every((url) => /\/seg_\d{5}\.m4s\?/.test(url)))

    const refused = await client.api('POST', `/videos/${visible.id}/playback`)
    assert.equal(refused.status, 503)
    assert.equal(refused.body.error, 'render_pool_busy')
    assert.match(refused.body.message, /try again in a minute/i)
    assert.equal(refused.headers.get('retry-after'), '60')
    const held = await PlaybackSession.query().where({ userId: user.id, videoId: visible.id })
    assert.lengthOf(held, 0)

    playbackConfig.watermark.admission.maxBacklog = backlog
    const admitted = await open(client, visible)
    assert.isTrue(admitted.session.watermarked)
  })

  test('a session asking for renders faster than a realtime player is refused with 429 and Retry-After; nothing is queued', async ({ assert }) => {
    const { client } = await loggedIn('fay')
    const { session, variants } = await open(client, visible)
    const segments = uriLines((await client.get(variants[0])).text)
    // The flood so far: the session's whole allowance of renders.
    for (let i = 0; i < limits.watermarkRender.requests; i++) await rateLimits.consume('watermarkRender', session.id)
    const before = await queues.counts('watermark')
    const response = await client.api('GET', segments[0])
    assert.equal(response.status, 429)
    assert.equal(response.body.error, 'too_many_requests')
    assert.isAbove(Number(response.headers.get('retry-after')), 0)
    const after = await queues.counts('watermark')
    assert.equal(after.waiting + after.active, before.waiting + before.active)
    // Another viewer's session is not affected.
    const other = await loggedIn('gus')
    const theirs = await open(other.client, visible)
    await rateLimits.ensureAllowed('watermarkRender', theirs.session.id)
  })

  test('the creator picks the mode in the Studio form; a bad value shows an error next to the field and changes nothing; auto follows WATERMARK_DEFAULT_MODE', async ({ assert, cleanup }) => {
    const edit = `/studio/videos/${visible.id}/edit`
    const page = (await creator.client.get(edit)).text
    for (const mode of ['auto', 'off', 'visible', 'forensic', 'both']) assert.include(page, `<option value="${mode}"`)
    const fields = { title: 'Visible', description: '', price: '0', currency: 'USD', visibility: 'published' }

    await creator.client.submit(edit, `/studio/videos/${visible.id}`, { ...fields, watermark: 'forensic' })
    assert.equal((await Video.findOrFail(visible.id)).watermarkMode, 'forensic')
    assert.match((await creator.client.get(edit)).text, /<option value="forensic" selected>/)

    const bad = await creator.client.submit(edit, `/studio/videos/${visible.id}`, { ...fields, title: 'Renamed', watermark: 'sometimes' })
    assert.equal(bad.status, 302)
    const shown = (await creator.client.get(bad.location!)).text
    assert.match(shown, /id="field-watermark-error">Choose one of the options/)
    const unchanged = await Video.findOrFail(visible.id)
    assert.equal(unchanged.watermarkMode, 'forensic')
    assert.equal(unchanged.title, 'Visible')

    await creator.client.submit(edit, `/studio/videos/${visible.id}`, { ...fields, watermark: 'auto' })
    const automatic = await Video.findOrFail(visible.id)
    assert.isNull(automatic.watermarkMode)
    assert.equal(automatic.effectiveWatermarkMode, 'off') // free, no instance default
    const instanceDefault = playbackConfig.watermark.defaultMode
    cleanup(() => {
      playbackConfig.watermark.defaultMode = instanceDefault
    })
    playbackConfig.watermark.defaultMode = 'both'
    assert.equal(automatic.effectiveWatermarkMode, 'both')
    await creator.client.submit(edit, `/studio/videos/${visible.id}`, { ...fields, watermark: 'visible' })
  })
})
