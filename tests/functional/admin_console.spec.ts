import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import User from '#models/user'
import PlaybackSession from '#models/playback_session'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo } from '#tests/helpers/commerce'
import { WebClient } from '#tests/helpers/web_client'

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
