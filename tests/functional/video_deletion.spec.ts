import { test } from '@japa/runner'
import type { Readable } from 'node:stream'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import type { ByteRange, StorageBackend, StoredObjectMeta } from '#hooks/contracts'
import Order from '#models/order'
import Video from '#models/video'
import StorageDeletion from '#models/storage_deletion'
import AllowlistEntry from '#models/allowlist_entry'
import PlaybackSession from '#models/playback_session'
import orders from '#services/order_service'
import plugins from '#services/plugins'
import storageCleanup from '#services/media/storage_cleanup'
import storage from '#services/storage_service'
import retryStorageDeletions from '#services/chores/retry_storage_deletions'
import { workerChores } from '#services/chores/index'
import { resetState } from '#tests/helpers/state'
import { listedVideo, startStripe } from '#tests/helpers/commerce'
import type { StripeStandIn } from '#tests/helpers/stripe_stand_in'
import { loggedIn, readyVideo, storedKeys } from '#tests/helpers/videos'
import { tusUpload } from '#tests/helpers/tus_upload'
import { media } from '#tests/helpers/media_fixtures'
import type { WebClient } from '#tests/helpers/web_client'

/**
 * The local backend, except that `delete` fails while `failing` is set: a
 * storage outage (or a bucket policy) at the moment a video is deleted.
 */
class FlakyStorage implements StorageBackend {
  readonly id = 'flaky-local'
  readonly label = 'Local disk whose deletions fail on demand (tests)'
  failing = false
  failingPuts = false

  constructor(private inner: StorageBackend) {}

  async put(key: string, body: Readable | Buffer, meta?: StoredObjectMeta) {
    if (this.failingPuts) {
      // Part of the object lands before the storage gives up.
      await this.inner.put(`${key}.part`, Buffer.from('half a master'))
      throw new Error(`injected fault: the storage refused to store ${key}`)
    }
    return this.inner.put(key, body, meta)
  }
  get(key: string, options?: { range?: ByteRange }) {
    return this.inner.get(key, options)
  }
  head(key: string) {
    return this.inner.head(key)
  }
  list(prefix: string) {
    return this.inner.list(prefix)
  }
  async delete(keyOrPrefix: string) {
    if (this.failing) throw new Error(`injected fault: the storage refused to delete ${keyOrPrefix}`)
    return this.inner.delete(keyOrPrefix)
  }
}

/** Makes the flaky backend the configured one for this test; back to the previous one afterwards. */
function useFlakyStorage(cleanup: (fn: () => void) => void) {
  if (!plugins.storage.has('flaky-local')) plugins.storage.register(new FlakyStorage(plugins.storage.getOrFail('local')), 'tests')
  const flaky = plugins.storage.get('flaky-local') as FlakyStorage
  const previous = app.config.get('storage.backend')
  app.config.set('storage.backend', flaky.id)
  cleanup(() => {
    flaky.failing = false
    flaky.failingPuts = false
    app.config.set('storage.backend', previous)
  })
  return flaky
}

const deletePath = (video: Video) => `/studio/videos/${video.id}/delete`

/** The creator presses "Delete this video" on its edit page; returns the flash shown on the page it lands on. */
async function deleteAsCreator(client: WebClient, video: Video) {
  const response = await client.submit(`/studio/videos/${video.id}/edit`, deletePath(video), {})
  if (response.status !== 302) throw new Error(`delete answered ${response.status}: ${response.text.slice(0, 300)}`)
  const landed = await client.visit(response.location!)
  return { location: response.location, page: landed.text }
}

/** Presses the Stripe buy button; returns the checkout session id. */
async function startCheckout(client: WebClient, video: Video) {
  const response = await client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
  if (response.status !== 303 || !response.location?.includes('/c/pay/')) {
    throw new Error(`checkout answered ${response.status} → ${response.location}`)
  }
  return response.location.split('/c/pay/')[1]
}

/** Plays like a player: opens a session, reads the master and a variant playlist, fetches the first media segment. */
async function playFirstSegment(client: WebClient, video: Video) {
  const opened = await client.api('POST', `/videos/${video.id}/playback`)
  if (opened.status !== 201) return { opened, segment: null }
  const uriLines = (text: string) => text.split('\n').filter((line) => line.trim() && !line.startsWith('#'))
  const master = await client.get(opened.body.masterUrl)
  const variant = await client.get(uriLines(master.text)[0])
  const segment = await client.bytes(uriLines(variant.text)[0])
  return { opened, segment }
}

const escaped = (text: string) => text.replace(/"/g, '&quot;')

test.group('Deleting a video', (group) => {
  let stripe: StripeStandIn
  group.setup(async () => {
    stripe = await startStripe()
    return () => stripe.stop()
  })
  group.each.setup(async () => {
    await resetState()
    stripe.reset()
  })
  group.each.timeout(120_000)

  test('with a paid order it is archived: the buyer still plays it, nobody new can buy it, the catalog hides it, the library labels it', async ({ assert }) => {
    const creator = await loggedIn('maker', 'creator')
    const video = await readyVideo(creator.user, { title: 'Paid film', priceMinor: 500, watermarkEnabled: false })
    const buyer = await loggedIn('buyer')
    await stripe.pay(await startCheckout(buyer.client, video))
    assert.equal((await Order.findByOrFail('videoId', video.id)).status, 'paid')
    const filesBefore = await storedKeys(video.storagePrefix)
    assert.isAbove(filesBefore.length, 5)
    const ledgerBefore = await db.from('ledger_entries').orderBy('id')

    const { location, page } = await deleteAsCreator(creator.client, video)
    assert.equal(location, '/studio/videos')
    assert.include(page, escaped('"Paid film" was archived instead of deleted'))
    assert.include(page, '1 buyer still owns it and can watch it')
    assert.match(page, /data-role="archived"[^>]*>Archived</)
    assert.include(page, 'Put back on sale')

    // The row, the order, its ledger and every file are kept.
    const archived = await Video.findOrFail(video.id)
    assert.isNotNull(archived.archivedAt)
    assert.deepEqual(await storedKeys(video.storagePrefix), filesBefore)
    assert.deepEqual(await db.from('ledger_entries').orderBy('id'), ledgerBefore)
    assert.lengthOf(await StorageDeletion.all(), 0)

    // The buyer plays it: a session opens and a segment is served.
    const played = await playFirstSegment(buyer.client, video)
    assert.equal(played.opened.status, 201)
    assert.equal(played.segment!.status, 200)
    assert.isAbove(played.segment!.body.length, 1000)
    // So do the owner and an admin.
    const admin = await loggedIn('boss', 'admin')
    assert.equal((await creator.client.api('POST', `/videos/${video.id}/playback`)).status, 201)
    assert.equal((await admin.client.api('POST', `/videos/${video.id}/playback`)).status, 201)

    assert.include((await buyer.client.visit(`/videos/${video.id}`)).text, 'Archived by the creator — still yours to watch')
    // Their library says why it is no longer in the catalog.
    const library = await buyer.client.visit('/library')
    assert.match(library.text, /Paid film<\/a>[^<]*<a[^>]*>receipt<\/a>\s*· <strong data-video-state="archived">Archived by the creator — still yours to watch</)

    // Someone new can neither buy nor play it; the page says so, with no buy button.
    const latecomer = await loggedIn('latecomer')
    const videoPage = await latecomer.client.visit(`/videos/${video.id}`)
    assert.include(videoPage.text, 'The creator archived this video: it is no longer for sale')
    assert.notInclude(videoPage.text, 'by card')
    const checkout = await latecomer.client.submit(`/videos/${video.id}`, `/videos/${video.id}/checkout`, { provider: 'stripe' })
    assert.equal(checkout.status, 302)
    assert.include((await latecomer.client.visit(checkout.location!)).text, 'The creator archived this video: it is no longer for sale')
    const refused = await latecomer.client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(refused.status, 403)
    assert.equal(refused.body.error, 'archived')
    assert.lengthOf(await Order.all(), 1)

    // The catalog no longer lists it, searched or not.
    assert.notInclude((await latecomer.client.get('/')).text, 'Paid film')
    assert.notInclude((await latecomer.client.get('/?q=Paid')).text, 'Paid film')

    // Admin → Videos shows the state, and filters by it.
    const adminList = await admin.client.get('/admin/videos?status=archived')
    assert.match(adminList.text, /data-video-row="Paid film"[\s\S]*?<div data-archived[^>]*>archived /)

    // Deleting it again keeps it archived, and says so.
    const again = await deleteAsCreator(creator.client, video)
    assert.include(again.page, escaped('"Paid film" stays archived'))
    assert.isNotNull((await Video.findOrFail(video.id)).archivedAt)
    const actions = (await db.from('audit_logs').orderBy('id').select('action')).map((row) => row.action)
    assert.deepEqual(actions, ['video.archive'])
  })

  test('an archived video can be put back on sale by its creator', async ({ assert }) => {
    const creator = await loggedIn('maker', 'creator')
    const video = await readyVideo(creator.user, { title: 'Second life', priceMinor: 500, watermarkEnabled: false })
    const buyer = await loggedIn('buyer')
    await stripe.pay(await startCheckout(buyer.client, video))
    await deleteAsCreator(creator.client, video)
    const latecomer = await loggedIn('latecomer')
    assert.notInclude((await latecomer.client.get('/')).text, 'Second life')

    // Someone else's "put back on sale" is refused and changes nothing.
    const other = await loggedIn('othermaker', 'creator')
    const foreign = await other.client.submit('/studio/videos', `/studio/videos/${video.id}/unarchive`, {})
    assert.equal(foreign.status, 404)
    assert.isNotNull((await Video.findOrFail(video.id)).archivedAt)

    const response = await creator.client.submit('/studio/videos', `/studio/videos/${video.id}/unarchive`, {})
    assert.equal(response.status, 302)
    assert.include((await creator.client.visit(response.location!)).text, escaped('"Second life" is back in the catalog and on sale'))
    assert.isNull((await Video.findOrFail(video.id)).archivedAt)
    assert.include((await latecomer.client.get('/')).text, 'Second life')
    await startCheckout(latecomer.client, video)
    assert.lengthOf(await Order.query().where('status', 'pending'), 1)
  })

  test('a checkout still open keeps it (archived: the payment may still arrive); once that checkout expired, deleting removes it', async ({ assert }) => {
    const creator = await loggedIn('maker', 'creator')
    const video = await readyVideo(creator.user, { title: 'Almost sold', priceMinor: 500 })
    const buyer = await loggedIn('buyer')
    await startCheckout(buyer.client, video)

    const first = await deleteAsCreator(creator.client, video)
    assert.include(first.page, '1 checkout may still be paid (delete it again once it has ended)')
    assert.isNotNull((await Video.findOrFail(video.id)).archivedAt)

    // The checkout ends unpaid (the worker's expiry chore), then the creator deletes again.
    await Order.query().where('videoId', video.id).update({ expiresAt: DateTime.now().minus({ minutes: 1 }).toSQL() })
    await orders.expireStale()
    const second = await deleteAsCreator(creator.client, video)
    assert.include(second.page, escaped('"Almost sold" was deleted with all its files'))
    assert.isNull(await Video.find(video.id))
    assert.lengthOf(await Order.all(), 0)
    assert.deepEqual(await storedKeys(), [])
  })

  test('without paid orders the row goes first, with its abandoned checkouts, sessions and allowlist; then every file', async ({ assert }) => {
    const creator = await loggedIn('maker', 'creator')
    const video = await readyVideo(creator.user, { title: 'Unsold', priceMinor: 500, watermarkEnabled: true })
    const kept = await readyVideo(creator.user, { title: 'Kept', priceMinor: 0 })
    const buyer = await loggedIn('buyer')
    await startCheckout(buyer.client, video)
    await Order.query().update({ expiresAt: DateTime.now().minus({ minutes: 1 }).toSQL() })
    await orders.expireStale()
    const friend = await loggedIn('friend')
    await creator.client.submit(`/studio/videos/${video.id}/access`, `/studio/videos/${video.id}/access`, { user: 'friend' })
    assert.lengthOf(await AllowlistEntry.all(), 1)
    // The friend watches: a watermarked session, whose renders are cached under playback/<session>/.
    const opened = await friend.client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(opened.status, 201)
    const session = await PlaybackSession.findOrFail(opened.body.sessionId)
    assert.isTrue(session.watermarked)
    await storage.put(`${session.storagePrefix}240p/wm_00000.ts`, Buffer.from('a render'))

    const { page } = await deleteAsCreator(creator.client, video)
    assert.include(page, escaped('"Unsold" was deleted with all its files'))
    assert.isNull(await Video.find(video.id))
    assert.lengthOf(await Order.all(), 0)
    assert.lengthOf(await AllowlistEntry.all(), 0)
    assert.lengthOf(await PlaybackSession.all(), 0)
    assert.deepEqual(await storedKeys(video.storagePrefix), [])
    assert.deepEqual(await storedKeys(session.storagePrefix), [])
    assert.lengthOf(await StorageDeletion.all(), 0)
    // The expiry event history stays, the other video is untouched, the deletion is in the audit log.
    assert.isAbove((await storedKeys(kept.storagePrefix)).length, 5)
    const audit = await db.from('audit_logs').where('action', 'video.delete').first()
    assert.include(audit.summary, 'maker deleted "Unsold" with its files')
    // The friend's session stopped.
    assert.equal((await friend.client.get(opened.body.masterUrl)).status, 404)
  })

  test('a storage that fails to delete: the row still goes, the deletion is recorded, and the worker chore finishes it later', async ({ assert, cleanup }) => {
    const registered = useFlakyStorage(cleanup)
    assert.include((await workerChores(['transcode'])).map((chore) => chore.name), retryStorageDeletions.name)

    const creator = await loggedIn('maker', 'creator')
    const video = await readyVideo(creator.user, { title: 'Stuck files', priceMinor: 500 })
    const files = await storedKeys(video.storagePrefix)
    registered.failing = true

    const { page } = await deleteAsCreator(creator.client, video)
    assert.include(page, escaped('"Stuck files" was deleted with all its files'))
    assert.isNull(await Video.find(video.id))
    assert.deepEqual(await storedKeys(video.storagePrefix), files)
    const [record] = await StorageDeletion.all()
    assert.equal(record.prefix, video.storagePrefix)
    assert.equal(record.attempts, 1)
    assert.include(record.lastError, 'injected fault')
    assert.isTrue(record.nextAttemptAt > DateTime.now())
    // Admins see it waiting, with the error.
    const admin = await loggedIn('boss', 'admin')
    const adminPage = await admin.client.get('/admin/videos')
    assert.match(adminPage.text, /data-pending-deletions="1">\s*Stored files of 1 deleted item are still waiting to be deleted[\s\S]*?injected fault: the storage refused to delete videos\//)

    // Not due yet: the chore leaves it; still failing later: the wait grows.
    assert.deepEqual(await storageCleanup.retryDue(), { attempted: 0, deleted: 0, failed: 0 })
    assert.deepEqual(await storageCleanup.retryDue({ now: DateTime.now().plus({ minutes: 2 }) }), { attempted: 1, deleted: 0, failed: 1 })
    await record.refresh()
    assert.equal(record.attempts, 2)
    assert.closeTo(record.nextAttemptAt.diffNow('minutes').minutes, 2, 0.2)

    // The storage recovers; when the retry is due the chore deletes the files and forgets the record.
    registered.failing = false
    await StorageDeletion.query().update({ nextAttemptAt: DateTime.now().minus({ seconds: 1 }).toSQL() })
    await retryStorageDeletions.run()
    assert.deepEqual(await storedKeys(video.storagePrefix), [])
    assert.lengthOf(await StorageDeletion.all(), 0)
    assert.notInclude((await admin.client.get('/admin/videos')).text, 'data-pending-deletions')
  })

  test('an upload whose master cannot be stored: its row goes first, then what was written (even when deleting fails too)', async ({ assert, cleanup }) => {
    const flaky = useFlakyStorage(cleanup)
    const creator = await loggedIn('maker', 'creator')
    flaky.failingPuts = true
    flaky.failing = true
    const result = await tusUpload(creator.client, await media.landscape(), { title: 'Never stored' })
    assert.isFalse(result.ok)
    assert.lengthOf(await Video.all(), 0)
    const [record] = await StorageDeletion.all()
    assert.match(record.prefix, /^videos\/[0-9a-f-]{36}\/$/)
    assert.lengthOf(await storedKeys(record.prefix), 1)

    flaky.failing = false
    await storageCleanup.retryDue({ now: DateTime.now().plus({ minutes: 2 }) })
    assert.deepEqual(await storedKeys(), [])
    assert.lengthOf(await StorageDeletion.all(), 0)
  })

  test('a taken-down video stays in its buyer’s library, labelled, and still does not play', async ({ assert }) => {
    const creator = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator.user, { title: 'Trouble', priceMinor: 500 })
    const buyer = await loggedIn('buyer')
    await stripe.pay(await startCheckout(buyer.client, video))
    const admin = await loggedIn('boss', 'admin')
    const takedown = await admin.client.submit('/admin/videos', `/admin/videos/${video.id}/takedown`, { reason: 'Copyright claim' })
    assert.equal(takedown.status, 302)

    const library = await buyer.client.visit('/library')
    assert.match(library.text, /Trouble<\/a>[^<]*<a[^>]*>receipt<\/a>\s*· <strong class="field-error" data-video-state="taken_down">Taken down by an administrator — it cannot be played</)
    const refused = await buyer.client.api('POST', `/videos/${video.id}/playback`)
    assert.equal(refused.status, 403)
    assert.equal(refused.body.error, 'taken_down')
  })

  test('someone else’s video, a viewer, or a missing CSRF token: refused, nothing changed', async ({ assert }) => {
    const creator = await loggedIn('maker', 'creator')
    const video = await readyVideo(creator.user, { title: 'Mine', priceMinor: 0 })
    const files = await storedKeys(video.storagePrefix)
    const unchanged = async () => {
      const row = await Video.find(video.id)
      assert.isNotNull(row)
      assert.isNull(row!.archivedAt)
      assert.deepEqual(await storedKeys(video.storagePrefix), files)
      assert.lengthOf(await db.from('audit_logs'), 0)
    }

    const other = await loggedIn('othermaker', 'creator')
    const foreign = await other.client.submit('/studio/videos', deletePath(video), {})
    assert.equal(foreign.status, 404)
    await unchanged()

    const viewer = await loggedIn('viewer')
    const notCreator = await viewer.client.submit('/', deletePath(video), {})
    assert.equal(notCreator.status, 403)
    await unchanged()

    const forged = await creator.client.submit(`/studio/videos/${video.id}/edit`, deletePath(video), {}, { csrf: false })
    assert.equal(forged.status, 302)
    assert.match((await creator.client.visit(forged.location!)).text, /Invalid or expired CSRF token/i)
    await unchanged()

    const malformed = await creator.client.submit('/studio/videos', '/studio/videos/not-a-video/delete', {})
    assert.equal(malformed.status, 404)
    await unchanged()
  })
})
