import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import User from '#models/user'
import Video from '#models/video'
import Order from '#models/order'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { WebClient } from '#tests/helpers/web_client'
import { storedKeys } from '#tests/helpers/videos'

/** A published, ready video row (no media: the catalog reads rows only). */
async function listed(owner: User, title: string, fields: Partial<{ priceMinor: number; currency: string; readyAt: DateTime; durationSeconds: number }> = {}) {
  const id = randomUUID()
  return Video.create({
    id,
    ownerId: owner.id,
    title,
    status: 'ready',
    visibility: 'published',
    priceMinor: fields.priceMinor ?? 0,
    currency: fields.currency ?? 'USD',
    readyAt: fields.readyAt ?? DateTime.now(),
    durationSeconds: fields.durationSeconds ?? 75,
    sourceKey: `videos/${id}/source/master.mp4`,
    sourceFilename: 'master.mp4',
    sourceSize: 1,
  })
}

/** Titles of the cards on a page, in order. */
function titles(html: string) {
  return [...html.matchAll(/<li class="card video-card"[\s\S]*?<strong class="title">([^<]*)<\/strong>/g)].map((match) => match[1])
}

async function paidOrder(buyer: User, video: Video) {
  return Order.create({
    id: randomUUID(),
    buyerId: buyer.id,
    creatorId: video.ownerId,
    videoId: video.id,
    provider: 'stripe',
    amountMinor: video.priceMinor,
    currency: video.currency,
    platformFeeBps: 1000,
    platformFeeMinor: Math.round(video.priceMinor / 10),
    creatorPayout: 'owed',
    status: 'paid',
    paidAt: DateTime.now(),
    expiresAt: DateTime.now().plus({ hours: 1 }),
  })
}

test.group('Catalog: sort, filter, creator pages', (group) => {
  group.each.setup(() => resetState())

  test('sorts by newest, by views and by price across currencies', async ({ assert }) => {
    const maker = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    const old = await listed(maker, 'Old cheap', { priceMinor: 100, readyAt: DateTime.now().minus({ days: 3 }) })
    await listed(maker, 'Middle free', { readyAt: DateTime.now().minus({ days: 2 }) })
    await listed(maker, 'New euro', { priceMinor: 900, currency: 'EUR', readyAt: DateTime.now().minus({ days: 1 }) })
    const viewer = await User.create({ username: 'watcher', email: 'watcher@example.com', password: 'correct horse battery' })
    const session = { userId: viewer.id, videoId: old.id, deviceId: 'd', userAgent: 'test', watermarked: false, forensic: false, expiresAt: DateTime.now().plus({ hours: 1 }), lastSeenAt: DateTime.now() }
    const { default: PlaybackSession } = await import('#models/playback_session')
    await PlaybackSession.create({ id: randomUUID(), ...session })
    await PlaybackSession.create({ id: randomUUID(), ...session })

    const client = new WebClient()
    assert.deepEqual(titles((await client.get('/')).text), ['New euro', 'Middle free', 'Old cheap'])
    assert.deepEqual(titles((await client.get('/?sort=popular')).text), ['Old cheap', 'New euro', 'Middle free'])
    assert.deepEqual(titles((await client.get('/?sort=price_low')).text), ['Middle free', 'Old cheap', 'New euro'])
    assert.deepEqual(titles((await client.get('/?sort=price_high')).text), ['New euro', 'Old cheap', 'Middle free'])
  })

  test('filters free, paid and owned; cards carry duration, price and owned badges', async ({ assert }) => {
    const maker = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    const bought = await listed(maker, 'Bought one', { priceMinor: 499, durationSeconds: 3725 })
    await listed(maker, 'Paid other', { priceMinor: 299 })
    await listed(maker, 'Free one')
    const { user, client } = await loggedIn('buyer')
    await paidOrder(user, bought)

    assert.deepEqual(titles((await client.get('/?filter=free')).text), ['Free one'])
    assert.sameMembers(titles((await client.get('/?filter=paid')).text), ['Bought one', 'Paid other'])
    assert.deepEqual(titles((await client.get('/?filter=owned')).text), ['Bought one'])

    const page = (await client.get('/')).text
    assert.match(page, /data-video-card="[^"]+"[\s\S]*?1:02:05[\s\S]*?data-badge="owned">Owned/)
    assert.include(page, 'data-badge="price">$2.99')
    assert.include(page, 'data-badge="free">Free')
    // The viewer's display currency: an approximate price next to the real one.
    const rupiah = await client.request('GET', '/?filter=paid', undefined, { 'accept-language': 'id-ID' })
    assert.match(rupiah.text, /data-badge="price">\$2\.99<\/span>\s*<span class="approx" data-approx[^>]*>≈ (IDR|Rp)/)

    // Anonymous "owned": nothing, and a way to log in.
    const anonymous = await new WebClient().get('/?filter=owned')
    assert.deepEqual(titles(anonymous.text), [])
    assert.include(anonymous.text, 'to see the videos you own')
  })

  test('bad sort, filter or page values are ignored with the default, and the page says so', async ({ assert }) => {
    const maker = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    await listed(maker, 'Older', { readyAt: DateTime.now().minus({ days: 1 }) })
    await listed(maker, 'Newer', { priceMinor: 100 })
    const client = new WebClient()
    const response = await client.get('/?sort=cheapest&filter=paid%27%3B--&page=-3')
    assert.equal(response.status, 200)
    assert.deepEqual(titles(response.text), ['Newer', 'Older'])
    assert.include(response.text, 'Ignored sort &quot;cheapest&quot;: expected one of newest, popular, price_low, price_high')
    assert.include(response.text, 'Ignored filter')
    assert.include(response.text, 'Ignored page &quot;-3&quot;')
    // A good value next to a bad one still applies.
    const mixed = await client.get('/?sort=nope&filter=paid')
    assert.deepEqual(titles(mixed.text), ['Newer'])
  })

  test('a creator page shows the profile and only their public videos; unknown and banned creators are 404', async ({ assert }) => {
    const maker = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator', displayName: 'Maker Films', bio: 'Short films <b>about</b> trains.' })
    const other = await User.create({ username: 'other', email: 'other@example.com', password: 'correct horse battery', role: 'creator' })
    await listed(maker, 'Train one')
    await listed(other, 'Not mine')
    const draft = await listed(maker, 'Draft film')
    draft.visibility = 'draft'
    await draft.save()

    const page = await new WebClient().get('/@maker')
    assert.equal(page.status, 200)
    assert.include(page.text, '<h1>Maker Films</h1>')
    assert.include(page.text, '<p class="meta">@maker</p>')
    assert.include(page.text, 'Short films &lt;b&gt;about&lt;/b&gt; trains.')
    assert.deepEqual(titles(page.text), ['Train one'])
    assert.equal((await new WebClient().get('/@MAKER')).status, 200)
    assert.equal((await new WebClient().get('/@nobody')).status, 404)
    assert.equal((await new WebClient().get('/@bad%20name')).status, 404)
    other.bannedAt = DateTime.now()
    await other.save()
    assert.equal((await new WebClient().get('/@other')).status, 404)
  })

  test('the video page has the creator card and more from the creator', async ({ assert }) => {
    const maker = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator', displayName: 'Maker Films', bio: 'Trains.' })
    const video = await listed(maker, 'Main film')
    video.description = 'A film about a station.'
    await video.save()
    await listed(maker, 'Second film')
    const page = await new WebClient().get(`/videos/${video.id}`)
    assert.include(page.text, 'data-creator-card')
    assert.include(page.text, 'href="/@maker"')
    assert.include(page.text, 'A film about a station.')
    assert.match(page.text, /data-more-from>[\s\S]*More from Maker Films[\s\S]*Second film/)
    assert.notMatch(page.text, /data-more-from>[\s\S]*Main film/)
  })

  test('a user edits their profile and avatar; bad avatars are refused next to the field and change nothing', async ({ assert }) => {
    const { user, client } = await loggedIn('maker', 'creator')
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex')
    const saved = await client.upload('/account', '/account/profile', { displayName: 'Maker Films', bio: 'Trains and stations.' }, { avatar: { name: 'me.png', body: png, type: 'image/png' } })
    assert.equal(saved.location, '/account')
    await user.refresh()
    assert.equal(user.displayName, 'Maker Films')
    assert.equal(user.bio, 'Trains and stations.')
    assert.match(user.avatarKey!, /^avatars\/\d+\/[0-9a-f]{16}\.png$/)
    const profile = await new WebClient().get('/@maker')
    const avatarUrl = profile.text.match(/<img class="avatar avatar-large" src="([^"]+)"/)![1]
    const avatar = await new WebClient().get(avatarUrl)
    assert.equal(avatar.status, 200)
    assert.equal(avatar.headers.get('content-type'), 'image/png')

    // A text file named .png, a picture too big, a name too long: refused, nothing changes.
    const before = { displayName: user.displayName, avatarKey: user.avatarKey }
    const fake = await client.upload('/account', '/account/profile', { displayName: 'Changed' }, { avatar: { name: 'me.png', body: Buffer.from('<?php echo 1; ?>'), type: 'image/png' } })
    assert.equal(fake.location, '/account')
    const form = (await client.get('/account')).text
    assert.match(form, /id="field-avatar-error">[^<]*(JPEG, PNG or WebP|jpg,jpeg,png,webp)/)
    const big = await client.upload('/account', '/account/profile', {}, { avatar: { name: 'big.jpg', body: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(3 * 1024 * 1024)]), type: 'image/jpeg' } })
    assert.equal(big.location, '/account')
    const bigForm = (await client.get('/account')).text
    assert.match(bigForm, /id="field-avatar-error">The file must be smaller than 2mb/)
    const exe = await client.upload('/account', '/account/profile', {}, { avatar: { name: 'me.exe', body: Buffer.from('4d5a90000300000004000000ffff0000', 'hex') } })
    assert.equal(exe.location, '/account')
    await client.submit('/account', '/account/profile', { displayName: 'x'.repeat(81) })
    assert.match((await client.get('/account')).text, /id="field-displayName-error"/)
    await user.refresh()
    assert.deepEqual({ displayName: user.displayName, avatarKey: user.avatarKey }, before)
    assert.lengthOf(await storedKeys('avatars/'), 1)

    // Removing the avatar deletes its file.
    await client.upload('/account', '/account/profile', { displayName: 'Maker Films', removeAvatar: 'true' }, {})
    await user.refresh()
    assert.isNull(user.avatarKey)
    assert.lengthOf(await storedKeys('avatars/'), 0)
    assert.equal((await new WebClient().get('/@maker/avatar')).status, 404)
  })
})
