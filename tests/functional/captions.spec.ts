import { test } from '@japa/runner'
import captionsConfig from '#config/captions'
import VideoCaption from '#models/video_caption'
import type Video from '#models/video'
import type { WebClient } from '#tests/helpers/web_client'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readStored, readyVideo, storedKeys } from '#tests/helpers/videos'
import { captionKey } from '#services/media/storage_keys'
import { parseSubtitles, toWebVtt } from '#services/captions/subtitles'

const SRT = `1
00:00:00,500 --> 00:00:02,000
Hello there.

2
00:00:02,500 --> 00:00:04,250
Second line,
on two lines.
`
const VTT = `WEBVTT

00:00:00.000 --> 00:00:03.000 align:center
Bonjour.
`

const upload = (client: WebClient, video: Video, language: string, file: { name: string; body: Buffer }) =>
  client.upload(`/studio/videos/${video.id}/captions`, `/studio/videos/${video.id}/captions`, { language }, { file })

/** The captions page after a redirect, and the error shown next to a field (if any). */
async function fieldError(client: WebClient, video: Video, field: string) {
  const page = await client.get(`/studio/videos/${video.id}/captions`)
  const match = page.text.match(new RegExp(`id="field-${field}-error">\\s*<span>([^<]*)</span>`))
  return match?.[1].replaceAll('&quot;', '"').replaceAll('&#39;', "'") ?? null
}

test.group('Subtitle files (parsing)', () => {
  test('SRT becomes WebVTT: comma decimals, cue numbers, CRLF and a BOM are handled', ({ assert }) => {
    const parsed = parseSubtitles(Buffer.from('\uFEFF' + SRT.replaceAll('\n', '\r\n')))
    assert.equal(parsed.format, 'srt')
    assert.equal(
      toWebVtt(parsed.cues),
      'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello there.\n\n00:00:02.500 --> 00:00:04.250\nSecond line,\non two lines.\n'
    )
  })

  test('WebVTT keeps its cue settings and skips NOTE blocks', ({ assert }) => {
    const parsed = parseSubtitles(Buffer.from('WEBVTT - a file\n\nNOTE made by hand\n\n01:02.000 --> 01:03.500 line:80%\nHi\n'))
    assert.deepEqual(parsed.cues, [{ start: 62, end: 63.5, settings: 'line:80%', text: 'Hi' }])
  })

  test('what is not subtitles is refused with the reason', ({ assert }) => {
    assert.throws(() => parseSubtitles(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00])), /not UTF-8 text/)
    assert.throws(() => parseSubtitles(Buffer.from('just some notes\nabout the film\n')), /not a WebVTT or SRT subtitle file/)
    assert.throws(() => parseSubtitles(Buffer.from('WEBVTT\n\n')), /has no cues/)
    assert.throws(() => parseSubtitles(Buffer.from('1\n00:00:05,000 --> 00:00:01,000\nbackwards\n')), /bad timing line/)
  })
})

test.group('Captions in the Studio and in playback', (group) => {
  let creator: WebClient
  let video: Video

  group.setup(async () => {
    await resetState()
    const maker = await loggedIn('maker', 'creator')
    creator = maker.client
    video = await readyVideo(maker.user, { title: 'Subtitled', priceMinor: 0 })
  })
  group.each.timeout(60_000)

  test('a creator uploads SRT (converted) and WebVTT, replaces one language and deletes another', async ({ assert }) => {
    const added = await upload(creator, video, 'en', { name: 'film.srt', body: Buffer.from(SRT) })
    assert.equal(added.status, 302)
    let page = await creator.get(`/studio/videos/${video.id}/captions`)
    assert.include(page.text, 'English captions added (converted from SRT to WebVTT).')
    assert.include(page.text, 'data-caption="en"')
    assert.match(await readStored(captionKey(video.id, 'en')), /^WEBVTT\n\n00:00:00\.500 --> 00:00:02\.000\nHello there\./)

    // The code is put in canonical case; the label is the language's name.
    await upload(creator, video, 'pt-br', { name: 'pt.vtt', body: Buffer.from(VTT) })
    const portuguese = await VideoCaption.findByOrFail({ videoId: video.id, language: 'pt-BR' })
    assert.equal(portuguese.label, 'Brazilian Portuguese')
    assert.equal(portuguese.cueCount, 1)

    // The same language again replaces it (still one row).
    await upload(creator, video, 'en', { name: 'film.vtt', body: Buffer.from(VTT) })
    page = await creator.get(`/studio/videos/${video.id}/captions`)
    assert.include(page.text, 'English captions replaced.')
    assert.lengthOf(await VideoCaption.query().where({ videoId: video.id, language: 'en' }), 1)
    assert.include(await readStored(captionKey(video.id, 'en')), 'Bonjour.')

    const deleted = await creator.submit(`/studio/videos/${video.id}/captions`, `/studio/videos/${video.id}/captions/pt-BR/delete`, {})
    assert.equal(deleted.status, 302)
    assert.isNull(await VideoCaption.findBy({ videoId: video.id, language: 'pt-BR' }))
    assert.notInclude(await storedKeys(`videos/${video.id}/captions/`), captionKey(video.id, 'pt-BR'))
  })

  test('bad input gets a clear error next to its field and changes nothing', async ({ assert }) => {
    await VideoCaption.query().where('videoId', video.id).delete()
    const before = await storedKeys(`videos/${video.id}/captions/`)

    await upload(creator, video, 'de', { name: 'poster.srt', body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff]) })
    assert.match((await fieldError(creator, video, 'file'))!, /not UTF-8 text, so it is not a subtitle file/)

    await upload(creator, video, 'de', { name: 'notes.vtt', body: Buffer.from('These are my notes about the film.\nNo timings here.\n') })
    assert.match((await fieldError(creator, video, 'file'))!, /not a WebVTT or SRT subtitle file/)

    await upload(creator, video, 'de', { name: 'notes.txt', body: Buffer.from(SRT) })
    assert.match((await fieldError(creator, video, 'file'))!, /"notes.txt" is not a subtitle file: upload WebVTT \(.vtt\) or SRT \(.srt\)/)

    const long = Buffer.from(SRT.repeat(Math.ceil(captionsConfig.maxBytes / SRT.length) + 1))
    await upload(creator, video, 'de', { name: 'long.srt', body: long })
    assert.equal(await fieldError(creator, video, 'file'), 'The file must be smaller than 1MB')

    for (const language of ['english', 'xx', 'en_US', '../en']) {
      await upload(creator, video, language, { name: 'film.srt', body: Buffer.from(SRT) })
      assert.match((await fieldError(creator, video, 'language'))!, /not a language code|at most 35|language/i, language)
    }

    assert.lengthOf(await VideoCaption.query().where('videoId', video.id), 0)
    assert.deepEqual(await storedKeys(`videos/${video.id}/captions/`), before)
  })

  test("another creator can neither see, upload nor delete a video's captions", async ({ assert }) => {
    await upload(creator, video, 'en', { name: 'film.srt', body: Buffer.from(SRT) })
    const { client: other } = await loggedIn('rival', 'creator')
    assert.equal((await other.get(`/studio/videos/${video.id}/captions`)).status, 404)
    const csrfPage = '/studio/videos/new'
    const uploaded = await other.upload(csrfPage, `/studio/videos/${video.id}/captions`, { language: 'fr' }, { file: { name: 'x.srt', body: Buffer.from(SRT) } })
    assert.equal(uploaded.status, 404)
    const deleted = await other.submit(csrfPage, `/studio/videos/${video.id}/captions/en/delete`, {})
    assert.equal(deleted.status, 404)
    assert.isNull(await VideoCaption.findBy({ videoId: video.id, language: 'fr' }))
    assert.isNotNull(await VideoCaption.findBy({ videoId: video.id, language: 'en' }))
  })

  test('a playback session lists the captions and the thumbnails with signed URLs of the session', async ({ assert }) => {
    await upload(creator, video, 'en', { name: 'film.srt', body: Buffer.from(SRT) })
    const { client: viewer } = await loggedIn('vic')
    const opened = await viewer.api('POST', `/videos/${video.id}/playback`)
    assert.equal(opened.status, 201)
    const { sessionId, captions, thumbnailsUrl } = opened.body
    assert.deepEqual(
      captions.map((c: { language: string; label: string }) => [c.language, c.label]),
      [['en', 'English']]
    )
    assert.match(captions[0].url, new RegExp(`^/play/${sessionId}/captions/en\\.vtt\\?exp=\\d+&sig=`))

    const subtitles = await viewer.bytes(captions[0].url)
    assert.equal(subtitles.status, 200)
    assert.match(subtitles.headers.get('content-type')!, /^text\/vtt/)
    assert.include(subtitles.body.toString(), 'Hello there.')

    // The sprite's WebVTT names the sheet by a signed URL of the same session.
    const thumbnails = await viewer.bytes(thumbnailsUrl)
    assert.equal(thumbnails.status, 200)
    assert.match(thumbnails.headers.get('content-type')!, /^text\/vtt/)
    const text = thumbnails.body.toString()
    assert.match(text, /^WEBVTT/)
    const sheet = text.match(new RegExp(`(/play/${sessionId}/thumbnails\\.jpg\\?exp=\\d+&sig=[\\w-]+)#xywh=0,0,\\d+,\\d+`))
    assert.isNotNull(sheet, text.slice(0, 300))
    const image = await viewer.bytes(sheet![1])
    assert.equal(image.status, 200)
    assert.equal(image.headers.get('content-type'), 'image/jpeg')
    assert.match(image.headers.get('cache-control')!, /^private, max-age=\d+$/)

    // A signature is for one path: the English one does not open another language or the sheet.
    const forged = captions[0].url.replace('captions/en.vtt', 'captions/fr.vtt')
    assert.equal((await viewer.bytes(forged)).status, 403)
    // Someone else's browser gets nothing with these URLs.
    const { client: stranger } = await loggedIn('stranger')
    assert.equal((await stranger.bytes(captions[0].url)).status, 403)
    // A language without captions: nothing there.
    const missing = await viewer.api('POST', `/playback/${sessionId}/renew`, { path: 'captions/de.vtt' })
    assert.equal((await viewer.bytes(missing.body.url)).status, 404)
  })
})
