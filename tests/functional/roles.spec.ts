import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import app from '@adonisjs/core/services/app'
import User from '#models/user'
import accounts from '#services/account_service'
import { resetState } from '#tests/helpers/state'
import { WebClient } from '#tests/helpers/web_client'

test.group('Roles', (group) => {
  group.each.setup(() => resetState())

  test('a logged-out visitor on a creator page is sent to log in', async ({ assert }) => {
    const response = await new WebClient().get('/studio/videos')
    assert.equal(response.status, 302)
    assert.equal(response.location, '/login')
  })

  test('a viewer on a creator page gets 403 with an explanation', async ({ assert }) => {
    const client = new WebClient()
    await client.register('viewer1', 'viewer1@example.com')
    const response = await client.get('/studio/videos')
    assert.equal(response.status, 403)
    assert.include(response.text, 'This page is for creator accounts.')
    assert.notInclude((await client.get('/')).text, 'href="/studio/videos"')
  })

  test('a viewer on an admin page gets 403', async ({ assert }) => {
    const client = new WebClient()
    await client.register('viewer2', 'viewer2@example.com')
    assert.equal((await client.get('/admin/creator-applications')).status, 403)
  })

  test('with instant approval a viewer becomes a creator at once', async ({ assert }) => {
    app.config.set('accounts.creatorApproval', 'instant')
    const client = new WebClient()
    await client.register('maker', 'maker@example.com')
    const response = await client.submit('/account', '/account/creator-application', {})
    assert.equal(response.location, '/studio/videos')
    const studio = await client.visit('/studio/videos')
    assert.equal(studio.status, 200)
    assert.include(studio.text, 'You are a creator now')
    assert.include(studio.text, 'href="/studio/videos"')
    assert.equal((await User.findByOrFail('username', 'maker')).role, 'creator')
  })

  test('with admin approval the application waits until an admin approves it', async ({ assert }) => {
    app.config.set('accounts.creatorApproval', 'admin')
    try {
      const viewer = new WebClient()
      await viewer.register('hopeful', 'hopeful@example.com')
      const applied = await viewer.submit('/account', '/account/creator-application', {})
      assert.include((await viewer.visit(applied.location!)).text, 'An admin will review your creator application.')
      assert.equal((await viewer.get('/studio/videos')).status, 403)

      await accounts.ensureAdmin({ username: 'boss', email: 'boss@example.com', password: 'admin secret 123' })
      const admin = new WebClient()
      await admin.login('boss', 'admin secret 123')
      const list = await admin.visit('/admin/creator-applications')
      assert.include(list.text, 'hopeful@example.com')
      const hopeful = await User.findByOrFail('username', 'hopeful')
      const approved = await admin.submit('/admin/creator-applications', `/admin/creator-applications/${hopeful.id}/approve`, {})
      assert.include((await admin.visit(approved.location!)).text, 'hopeful is now a creator.')
      const [entry] = await db.from('audit_logs').where('action', 'creator_application.approve')
      assert.deepEqual([entry.subject_id, entry.before, entry.after], [String(hopeful.id), { role: 'viewer', creatorStatus: 'pending' }, { role: 'creator', creatorStatus: 'approved' }])
      // Decided already: a second decision is refused and changes nothing.
      await admin.submit('/admin/creator-applications', `/admin/creator-applications/${hopeful.id}/reject`, {})
      assert.equal((await User.findByOrFail('username', 'hopeful')).role, 'creator')
      assert.lengthOf(await db.from('audit_logs'), 1)

      assert.equal((await viewer.get('/studio/videos')).status, 200)
    } finally {
      app.config.set('accounts.creatorApproval', 'instant')
    }
  })
})
