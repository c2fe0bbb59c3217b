import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import storage from '#services/storage_service'
import transcoder from '#services/transcode_service'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo } from '#tests/helpers/commerce'
import { media } from '#tests/helpers/media_fixtures'
import { barChart, niceCeiling } from '#services/charts'

async function session(userId: number, videoId: string, startedAgo: { minutes?: number; days?: number }, watchedSeconds: number) {
  const createdAt = DateTime.now().minus(startedAgo)
  return PlaybackSession.create({
    id: randomUUID(), userId, videoId, deviceId: 'd', userAgent: 'test', watermarked: false, forensic: false,
    createdAt, lastSeenAt: createdAt.plus({ seconds: watchedSeconds }), expiresAt: createdAt.plus({ hours: 1 }),
  })
}

test.group('Studio: My videos', (group) => {
  group.each.setup(() => resetState())

  test('My videos shows thumbnails, views, unique viewers and watch time per video, and a views chart with axes', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { title: 'Watched one' })
    video.merge({ posterKey: `videos/${video.id}/poster.jpg`, durationSeconds: 600 })
    await video.save()
    const quiet = await listedVideo(creator, { title: 'Quiet one' })
    const { user: a } = await loggedIn('viewer_a')
    const { user: b } = await loggedIn('viewer_b')
    await session(a.id, video.id, { minutes: 30 }, 300)
    await session(a.id, video.id, { days: 2 }, 120)
    // A session whose last sign of life is past the video's end counts the video's length at most.
    await session(b.id, video.id, { days: 2 }, 5000)

    const page = (await client.get('/studio/videos')).text
    const row = page.split(`data-video-id="${video.id}"`)[1].split('</tr>')[0]
    assert.include(row, `<img class="thumb" data-thumbnail src="/videos/${video.id}/poster"`)
    assert.match(row, /data-stat="views">3</)
    assert.match(row, /data-stat="viewers">2</)
    assert.match(row, /data-stat="watch-time">17 min</) // 300 + 120 + 600 s
    const quietRow = page.split(`data-video-id="${quiet.id}"`)[1].split('</tr>')[0]
    assert.include(quietRow, 'data-thumbnail-pending')
    assert.match(quietRow, /data-stat="views">0</)

    const chart = page.split('data-chart="views"')[1].split('</figure>')[0]
    const today = DateTime.utc().toFormat('d LLL yyyy')
    const twoDaysAgo = DateTime.utc().minus({ days: 2 }).toFormat('d LLL yyyy')
    assert.include(chart, `<title>${today}: 1 views</title>`)
    assert.include(chart, `<title>${twoDaysAgo}: 2 views</title>`)
    // Axes: values on y (0 to 2), dates on x.
    assert.match(chart, /<text[^>]*text-anchor="end"[^>]*>0<\/text>/)
    assert.match(chart, /<text[^>]*text-anchor="end"[^>]*>2<\/text>/)
    assert.include(chart, `>${DateTime.utc().toFormat('d LLL')}</text>`)
  })

  test('chart geometry: nice axis tops, a tooltip per day, dates about once a week', async ({ assert }) => {
    assert.equal(niceCeiling(0), 1)
    assert.equal(niceCeiling(7), 10)
    assert.equal(niceCeiling(1999), 2000)
    assert.equal(niceCeiling(230), 250)
    const days = Array.from({ length: 30 }, (_, i) => ({ day: DateTime.utc(2026, 11, 1).plus({ days: i }).toISODate()!, value: i === 29 ? 499 : 0, inner: i === 29 ? 449 : 0 }))
    const chart = barChart({ bars: days, format: (n) => `$${(n / 100).toFixed(2)}`, valueLabel: 'gross', innerLabel: 'yours' })
    assert.deepEqual(chart.yTicks.map((tick) => tick.label), ['$0.00', '$1.25', '$2.50', '$3.75', '$5.00'])
    assert.equal(chart.bars[29].title, '30 Nov 2026: $4.99 gross, $4.49 yours')
    assert.isAtMost(chart.xTicks.length, 6)
    const counts = barChart({ bars: days.map((day, i) => ({ day: day.day, value: i === 29 ? 3 : 0 })), format: String, valueLabel: 'views', integer: true })
    assert.deepEqual(counts.yTicks.map((tick) => tick.label), ['0', '1', '2', '3', '4'])
    assert.equal(chart.xTicks.at(-1)!.label, '30 Nov')
    assert.isAbove(chart.bars[29].height, 0)
    assert.equal(chart.bars[0].height, 0)
  })

  test('the progress endpoint answers for the creator own videos only; bad ids are ignored', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const mine = await listedVideo(creator)
    await Video.query().where('id', mine.id).update({ status: 'processing', progress: 42 })
    const { user: other } = await loggedIn('other', 'creator')
    const theirs = await listedVideo(other)
    const response = await client.api('GET', `/studio/videos/progress?ids=${mine.id},${theirs.id},not-a-uuid,'%3B--`)
    assert.equal(response.status, 200)
    assert.deepEqual(response.body, { videos: [{ id: mine.id, status: 'processing', progress: 42, lastError: null }] })
    const { client: viewer } = await loggedIn('viewer')
    assert.equal((await viewer.api('GET', `/studio/videos/progress?ids=${mine.id}`)).status, 403)
  })

  test('transcode progress moves: the polled percentage passes through values between 0 and 100', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const source = await media.feature()
    const id = randomUUID()
    await Video.create({
      id, ownerId: creator.id, title: 'Long one', status: 'queued', priceMinor: 0, currency: 'USD', visibility: 'draft',
      sourceKey: `videos/${id}/source/master.mp4`, sourceFilename: 'master.mp4', sourceSize: (await stat(source)).size,
    })
    await storage.put(`videos/${id}/source/master.mp4`, createReadStream(source))
    const seen: number[] = []
    let done = false
    const polling = (async () => {
      while (!done) {
        const { body } = await client.api('GET', `/studio/videos/progress?ids=${id}`)
        const row = body.videos[0]
        if (row.status === 'processing') seen.push(row.progress)
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
    })()
    const outcome = await transcoder.process({ videoId: id })
    done = true
    await polling
    assert.equal(outcome, 'ready')
    const between = seen.filter((percent) => percent > 0 && percent < 100)
    assert.isAbove(new Set(between).size, 0, `progress seen while processing: ${seen.join(', ')}`)
    // Never backwards.
    assert.deepEqual(seen, [...seen].sort((x, y) => x - y))
  }).timeout(120_000)

  test('the upload form checks the details first and names the field of each problem', async ({ assert }) => {
    const { client } = await loggedIn('maker', 'creator')
    const bad = await client.api('POST', '/studio/videos/check', { title: '', price: '4.999', currency: 'USD', visibility: 'everyone' })
    assert.equal(bad.status, 422)
    assert.sameMembers(Object.keys(bad.body.errors), ['title', 'price', 'visibility'])
    assert.match(bad.body.errors.price[0], /Enter a price like 4\.99/)
    const good = await client.api('POST', '/studio/videos/check', { title: 'Fine', price: '4.99', currency: 'USD', visibility: 'draft' })
    assert.deepEqual(good.body, { ok: true })
    assert.equal(await Video.query().count('* as n').first().then((row) => Number(row!.$extras.n)), 0)
  })

  test('Studio → Sales draws revenue with axes and a tooltip per day', async ({ assert }) => {
    const { user: creator, client } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator, { priceMinor: 499 })
    const { user: buyer } = await loggedIn('buyer')
    const orderId = randomUUID()
    await db.table('orders').insert({
      id: orderId, buyer_id: buyer.id, creator_id: creator.id, video_id: video.id, provider: 'stripe', amount_minor: 499, currency: 'USD',
      platform_fee_bps: 1000, platform_fee_minor: 50, creator_payout: 'owed', status: 'paid', paid_at: new Date(), expires_at: new Date(), created_at: new Date(), updated_at: new Date(),
    })
    await db.table('ledger_entries').multiInsert([
      { order_id: orderId, kind: 'payment', account: 'creator', user_id: creator.id, amount_minor: 449, currency: 'USD', created_at: new Date() },
      { order_id: orderId, kind: 'payment', account: 'platform', user_id: null, amount_minor: 50, currency: 'USD', created_at: new Date() },
    ])
    const page = await client.get('/studio/sales')
    assert.equal(page.status, 200)
    const chart = page.text.split('data-chart="USD"')[1].split('</figure>')[0]
    assert.include(chart, `<title>${DateTime.utc().toFormat('d LLL yyyy')}: $4.99 gross, $4.49 yours</title>`)
    assert.match(chart, /text-anchor="end"[^>]*>\$5\.00<\/text>/)
    assert.include(chart, `>${DateTime.utc().toFormat('d LLL')}</text>`)
  })
})
