import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import User from '#models/user'
import PlaybackSession from '#models/playback_session'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo, paidOrder, startStripe } from '#tests/helpers/commerce'
import Video from '#models/video'
import storage from '#services/storage_service'
import { WebClient, fieldErrorsIn } from '#tests/helpers/web_client'
import plugins from '#services/plugins'
import type { VisibleWatermarker } from '#hooks/contracts'

async function auditActions() {
  return (await db.from('audit_logs').orderBy('id')).map((row) => row.action)
}

test.group('Admin → Users', (group) => {
  group.each.setup(() => resetState())

  test('viewers and creators get 403 on every admin user URL; nothing changes', async ({ assert }) => {
    const { user: target } = await loggedIn('target')
    for (const role of ['viewer', 'creator'] as const) {
      const { client } = await loggedIn(`someone_${role}`, role)
      assert.equal((await client.get('/admin/users')).status, 403)
      assert.equal((await client.api('POST', `/admin/users/${target.id}/ban`, { reason: 'nope nope' })).status, 403)
      assert.equal((await client.api('POST', `/admin/users/${target.id}/role`, { role: 'admin' })).status, 403)
    }
    await target.refresh()
    assert.isNull(target.bannedAt)
    assert.deepEqual(await auditActions(), [])
  })

  test('search and filter by role', async ({ assert }) => {
    const { client } = await loggedIn('root', 'admin')
    await loggedIn('alice_creator', 'creator')
    await loggedIn('bob_viewer')
    const byName = await client.get('/admin/users?q=alice')
    assert.include(byName.text, 'data-user-row="alice_creator"')
    assert.notInclude(byName.text, 'data-user-row="bob_viewer"')
    const byRole = await client.get('/admin/users?role=viewer')
    assert.include(byRole.text, 'data-user-row="bob_viewer"')
    assert.notInclude(byRole.text, 'data-user-row="alice_creator"')
    assert.equal((await client.get('/admin/users?role=emperor')).status, 302)
  })

  test('a ban ends the user’s web session and playback at once, they cannot log in, and it is audited; unban restores', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: creator } = await loggedIn('maker', 'creator')
    const video = await listedVideo(creator)
    const { user: viewer, client: viewerClient } = await loggedIn('troll')
    const playback = await PlaybackSession.create({
      id: randomUUID(), userId: viewer.id, videoId: video.id, deviceId: 'd', userAgent: 'test', watermarked: false,
      expiresAt: DateTime.now().plus({ hours: 1 }), lastSeenAt: DateTime.now(),
    })
    assert.equal((await viewerClient.get('/library')).status, 200)

    const banned = await admin.submit('/admin/users', `/admin/users/${viewer.id}/ban`, { reason: 'abusive comments' })
    assert.equal(banned.status, 302)
    await playback.refresh()
    assert.isNotNull(playback.revokedAt)
    assert.equal(playback.revokeReason, 'ban')
    const after = await viewerClient.get('/library')
    assert.equal(after.status, 302)
    assert.equal(after.location, '/login')
    assert.equal((await new WebClient().login('troll')).status, 302)
    assert.include((await admin.get('/admin/users?role=banned')).text, 'banned: abusive comments')

    await admin.submit('/admin/users', `/admin/users/${viewer.id}/unban`, {})
    const again = new WebClient()
    const login = await again.login('troll')
    assert.equal(login.location, '/')
    const log = await db.from('audit_logs').orderBy('id')
    assert.deepEqual(log.map((row) => row.action), ['user.ban', 'user.unban'])
    assert.deepEqual(log[0].after, { banned: true, reason: 'abusive comments' })
    assert.equal(log[0].target_user_id, viewer.id)
  })

  test('refused: banning oneself, banning or demoting the last admin, a ban without a reason', async ({ assert }) => {
    const { user: root, client } = await loggedIn('root', 'admin')
    const { user: viewer } = await loggedIn('someone')

    const self = await client.submit('/admin/users', `/admin/users/${root.id}/ban`, { reason: 'testing myself' })
    assert.equal(self.status, 302)
    assert.include((await client.get('/admin/users')).text, 'You cannot ban yourself')
    await client.submit('/admin/users', `/admin/users/${root.id}/role`, { role: 'viewer' })
    assert.include((await client.get('/admin/users')).text, 'last admin')
    await root.refresh()
    assert.equal(root.role, 'admin')
    assert.isNull(root.bannedAt)

    await client.submit('/admin/users', `/admin/users/${viewer.id}/ban`, { reason: '' })
    await viewer.refresh()
    assert.isNull(viewer.bannedAt)
    assert.deepEqual(await auditActions(), [])

    // With a second admin, the first may step down (and it is audited with before/after).
    await client.submit('/admin/users', `/admin/users/${viewer.id}/role`, { role: 'admin' })
    await client.submit('/admin/users', `/admin/users/${root.id}/role`, { role: 'viewer' })
    await root.refresh()
    assert.equal(root.role, 'viewer')
    const log = await db.from('audit_logs').orderBy('id')
    assert.deepEqual(log.map((row) => [row.action, row.before, row.after]), [
      ['user.role', { role: 'viewer' }, { role: 'admin' }],
      ['user.role', { role: 'admin' }, { role: 'viewer' }],
    ])
    assert.equal((await User.findByOrFail('username', 'someone')).role, 'admin')
  })
})

test.group('Admin → Videos: retrying a failed transcode', (group) => {
  group.each.setup(() => resetState())

  test('an admin requeues a failed video (audited); a ready one is refused; a creator gets 403', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const failed = await listedVideo(creator, { title: 'Broke' })
    failed.merge({ status: 'failed', lastError: 'ffmpeg exited with 1', attempts: 3 })
    await failed.save()
    const ready = await listedVideo(creator, { title: 'Fine' })

    const page = await admin.get('/admin/videos')
    assert.include(page.text, `/admin/videos/${failed.id}/retry`)
    assert.notInclude(page.text, `/admin/videos/${ready.id}/retry`)

    assert.equal((await creatorClient.api('POST', `/admin/videos/${failed.id}/retry`, {})).status, 403)
    await admin.submit('/admin/videos', `/admin/videos/${failed.id}/retry`, {})
    await failed.refresh()
    assert.equal(failed.status, 'queued')
    assert.equal(failed.attempts, 0)
    await admin.submit('/admin/videos', `/admin/videos/${ready.id}/retry`, {})
    await ready.refresh()
    assert.equal(ready.status, 'ready')
    const log = await db.from('audit_logs').orderBy('id')
    assert.deepEqual(log.map((row) => [row.action, row.before?.status, row.after?.status]), [['video.retry', 'failed', 'queued']])
  })
})

test.group('Admin → Plugins settings', (group) => {
  group.each.setup(() => resetState())

  const markFor = async () => {
    const marker = plugins.watermarks.get('text') as VisibleWatermarker
    return marker.buildFilter({
      session: { sessionId: randomUUID(), userId: 1, username: 'ann', text: '@ann', seed: Buffer.from('seed') },
      startSeconds: 0, durationSeconds: 4, width: 1280, height: 720, intervalSeconds: 5,
    })
  }

  test('an admin changes the watermark settings in a form built from the plugin schema; the next segment uses them; audited', async ({ assert }) => {
    const { client } = await loggedIn('root', 'admin')
    const list = await client.get('/admin/plugins')
    assert.include(list.text, 'href="/admin/plugins/watermark-text/settings"')
    const form = await client.get('/admin/plugins/watermark-text/settings')
    assert.equal(form.status, 200)
    // Fields typed from the VineJS schema: a bounded number and a choice.
    assert.match(form.text, /<input[^>]*name="opacity"[^>]*type="number"[^>]*min="0.15"[^>]*max="0.9"/)
    assert.match(form.text, /<select id="field-size" name="size"/)
    assert.include(await markFor(), 'fontcolor=white@0.50')

    const saved = await client.submit('/admin/plugins/watermark-text/settings', '/admin/plugins/watermark-text/settings', { opacity: '0.8', size: 'large' })
    assert.equal(saved.status, 302)
    const page = await client.get(saved.location!)
    assert.include(page.text, 'Saved watermark-text settings: opacity, size changed.')
    assert.match(page.text, /<input[^>]*name="opacity"[^>]*value="0.8"/)
    const mark = await markFor()
    assert.include(mark, 'fontcolor=white@0.80')
    assert.include(mark, 'fontsize=60')

    const [entry] = await db.from('audit_logs').where('action', 'plugin.settings')
    assert.equal(entry.subject_id, 'watermark-text')
    assert.deepEqual(entry.before, { opacity: 0.5, size: 'medium' })
    assert.deepEqual(entry.after, { opacity: 0.8, size: 'large' })
  })

  test('a value that fails the plugin schema shows the error on the form and saves nothing', async ({ assert }) => {
    const { client } = await loggedIn('root', 'admin')
    await client.submit('/admin/plugins/watermark-text/settings', '/admin/plugins/watermark-text/settings', { opacity: '0.7', size: 'small' })
    for (const bad of [{ opacity: '2', size: 'small' }, { opacity: 'lots', size: 'small' }, { opacity: '0.5', size: 'gigantic' }]) {
      const refused = await client.submit('/admin/plugins/watermark-text/settings', '/admin/plugins/watermark-text/settings', bad)
      assert.equal(refused.status, 302)
      const page = await client.get(refused.location!)
      const field = bad.size === 'gigantic' ? 'size' : 'opacity'
      assert.isNotEmpty(fieldErrorsIn(page.text, field), `no error shown for ${JSON.stringify(bad)}`)
    }
    const stored = await db.from('plugin_settings').where('plugin', 'watermark-text').first()
    assert.deepEqual(stored.values, { opacity: 0.7, size: 'small' })
    assert.include(await markFor(), 'fontcolor=white@0.70')
    assert.lengthOf(await db.from('audit_logs').where('action', 'plugin.settings'), 1)
  })

  test('viewers and creators get 403; a plugin without settings is a 404; a POST without CSRF token changes nothing', async ({ assert }) => {
    for (const role of ['viewer', 'creator'] as const) {
      const { client } = await loggedIn(`someone_${role}`, role)
      assert.equal((await client.get('/admin/plugins/watermark-text/settings')).status, 403)
      assert.equal((await client.api('POST', '/admin/plugins/watermark-text/settings', { opacity: 0.2 })).status, 403)
    }
    const { client } = await loggedIn('root', 'admin')
    assert.equal((await client.get('/admin/plugins/storage-local/settings')).status, 404)
    assert.equal((await client.get('/admin/plugins/no-such-plugin/settings')).status, 404)
    const forged = await client.request('POST', '/admin/plugins/watermark-text/settings', new URLSearchParams({ opacity: '0.2', size: 'small' }))
    assert.equal(forged.status, 302)
    assert.isNull(await db.from('plugin_settings').where('plugin', 'watermark-text').first())
  })
})

test.group('Admin → Videos and Overview', (group) => {
  let stripe: Awaited<ReturnType<typeof startStripe>>
  group.setup(async () => {
    stripe = await startStripe()
    return () => stripe.stop()
  })
  group.each.setup(() => resetState())

  test('every video with owner, status and sales; search by title or owner, filter by status; takedown and restore audited', async ({ assert }) => {
    const { user: admin, client } = await loggedIn('root', 'admin')
    const { user: maker } = await loggedIn('maker', 'creator')
    const { user: other } = await loggedIn('othermaker', 'creator')
    const film = await listedVideo(maker, { title: 'Harbour lights', priceMinor: 450 })
    const broken = await listedVideo(other, { title: 'Broken reel' })
    broken.merge({ status: 'failed', lastError: 'ffmpeg exited with 1' })
    await broken.save()
    const { user: buyer } = await loggedIn('buyer')
    const { user: buyer2 } = await loggedIn('buyer2')
    await paidOrder(buyer, film)
    await paidOrder(buyer2, film)

    const all = await client.get('/admin/videos')
    const row = all.text.match(/data-video-row="Harbour lights">([\s\S]*?)<\/tr>/)![1]
    assert.include(row, 'maker')
    assert.include(row, '2 sold · $9.00')
    assert.include(all.text, 'data-video-row="Broken reel"')
    const byOwner = await client.get('/admin/videos?q=othermaker')
    assert.include(byOwner.text, 'data-video-row="Broken reel"')
    assert.notInclude(byOwner.text, 'data-video-row="Harbour lights"')
    const failed = await client.get('/admin/videos?status=failed')
    assert.include(failed.text, 'data-video-row="Broken reel"')
    assert.notInclude(failed.text, 'data-video-row="Harbour lights"')
    assert.equal((await client.get('/admin/videos?status=exploded')).status, 302)

    await client.submit('/admin/videos', `/admin/videos/${film.id}/takedown`, { reason: 'Copyright claim #7' })
    const again = await client.submit('/admin/videos', `/admin/videos/${film.id}/takedown`, { reason: 'twice over' })
    assert.equal(again.status, 302)
    assert.include((await client.get('/admin/videos?status=taken_down')).text, 'data-video-row="Harbour lights"')
    await client.submit('/admin/videos', `/admin/videos/${film.id}/restore`, {})
    const log = await db.from('audit_logs').orderBy('id')
    assert.deepEqual(
      log.map((entry) => [entry.action, entry.actor_id, entry.target_user_id, entry.before, entry.after]),
      [
        ['video.takedown', admin.id, maker.id, { takenDown: false }, { takenDown: true, reason: 'Copyright claim #7' }],
        ['video.restore', admin.id, maker.id, { takenDown: true, reason: 'Copyright claim #7' }, { takenDown: false }],
      ]
    )
  })

  test('the overview counts users and videos, sums storage per creator and this month’s revenue, with a chart', async ({ assert }) => {
    const { client } = await loggedIn('root', 'admin')
    const { user: maker } = await loggedIn('maker', 'creator')
    const { user: small } = await loggedIn('smallmaker', 'creator')
    const { user: buyer } = await loggedIn('buyer')
    const banned = (await loggedIn('banned_one')).user
    banned.bannedAt = DateTime.now()
    await banned.save()
    const film = await listedVideo(maker, { title: 'Big film', priceMinor: 1000 })
    film.storedBytes = 3 * 1024 * 1024
    await film.save()
    // Ready before storage was measured at transcode time: the overview measures it.
    const old = await listedVideo(small, { title: 'Old film' })
    await storage.put(`${old.storagePrefix}hls/a.ts`, Buffer.alloc(1500))
    await storage.put(`${old.storagePrefix}source/master.mp4`, Buffer.alloc(500))
    await paidOrder(buyer, film)

    const page = await client.get('/admin')
    assert.equal(page.status, 200)
    assert.include(page.text, 'data-figure="users">5<')
    assert.include(page.text, 'data-figure="roles">2 / 2 / 1<')
    assert.include(page.text, 'data-figure="banned"><a href="/admin/users?role=banned">1</a>')
    assert.include(page.text, 'data-figure="videos">2<')
    assert.match(page.text, /data-revenue="USD">[\s\S]*?data-figure="gross">\$10\.00<[\s\S]*?data-figure="platform">\$1\.00<[\s\S]*?data-figure="net">\$9\.00</)
    assert.match(page.text, /data-storage-row="maker">[\s\S]*?data-bytes="3145728">3\.00 MB</)
    assert.match(page.text, /data-storage-row="smallmaker">[\s\S]*?data-bytes="2000">1\.95 KB</)
    assert.isBelow(page.text.indexOf('data-storage-row="maker"'), page.text.indexOf('data-storage-row="smallmaker"'))
    assert.equal((await Video.findOrFail(old.id)).storedBytes, 2000)
    // One bar per day of the month so far; today's is the highest.
    const chart = page.text.match(/<figure class="chart" data-chart="USD">([\s\S]*?)<\/figure>/)![1]
    const today = DateTime.utc()
    assert.lengthOf(chart.match(/<title>[^<]* gross, [^<]* platform fees<\/title>/g)!, today.day)
    assert.include(chart, `<title>${today.toFormat('d LLL yyyy')}: $10.00 gross, $1.00 platform fees</title>`)

    for (const role of ['viewer', 'creator'] as const) {
      const { client: outsider } = await loggedIn(`outsider_${role}`, role)
      assert.equal((await outsider.get('/admin')).status, 403)
    }
  })
})
