import { test } from '@japa/runner'
import AuditLog from '#models/audit_log'
import PlaybackSession from '#models/playback_session'
import watermarkDefaultMode from '#services/watermark/default_mode'
import { resetState } from '#tests/helpers/state'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import type { WebClient } from '#tests/helpers/web_client'

async function openedSession(client: WebClient, videoId: string) {
  const opened = await client.api('POST', `/videos/${videoId}/playback`)
  if (opened.status !== 201) throw new Error(`open answered ${opened.status}: ${JSON.stringify(opened.body)}`)
  const session = await PlaybackSession.findOrFail(opened.body.sessionId)
  await client.api('DELETE', `/playback/${session.id}`)
  return session
}

test.group('Admin → Videos: the instance default watermark mode', (group) => {
  group.each.setup(() => resetState())
  group.each.timeout(180_000)

  test('videos without a mode follow the admin\'s default: forensic variants at transcode, forensic sessions; back to automatic, visible when paid', async ({ assert }) => {
    const { user: admin, client } = await loggedIn('root', 'admin')
    const { user: maker } = await loggedIn('maker', 'creator')
    const { client: viewer } = await loggedIn('ann')

    const page = await client.get('/admin/videos')
    assert.match(page.text, /<option value="automatic" selected>/)
    const saved = await client.submit('/admin/videos', '/admin/videos/watermark-default', { mode: 'forensic' })
    assert.equal(saved.status, 302)
    assert.match((await client.get('/admin/videos')).text, /<option value="forensic" selected>/)
    assert.equal(await watermarkDefaultMode.stored(), 'forensic')

    // A free video whose creator chose no mode: transcoded with A/B variants, watched forensic.
    const video = await readyVideo(maker, { priceMinor: 0, watermarkMode: null })
    assert.isTrue((video.renditions ?? []).some((rendition) => rendition.forensicVariants))
    const forensic = await openedSession(viewer, video.id)
    assert.isTrue(forensic.forensic)

    const audited = await AuditLog.findByOrFail('action', 'instance.watermark_default')
    assert.equal(audited.actorId, admin.id)
    assert.deepEqual(audited.after, { mode: 'forensic' })

    await client.submit('/admin/videos', '/admin/videos/watermark-default', { mode: 'automatic' })
    assert.isNull(await watermarkDefaultMode.stored())
    const plain = await openedSession(viewer, video.id)
    assert.isFalse(plain.forensic)
    assert.isFalse(plain.watermarked)
  })

  test('a mode that does not exist, or a non-admin: refused, nothing changed', async ({ assert }) => {
    const { client } = await loggedIn('root', 'admin')
    const bad = await client.submit('/admin/videos', '/admin/videos/watermark-default', { mode: 'sometimes' })
    assert.equal(bad.status, 302)
    const after = (await client.get('/admin/videos')).text
    assert.match(after, /class="field-error" id="field-mode-error">Choose one of the options for mode</)
    const { client: creator } = await loggedIn('maker', 'creator')
    const forbidden = await creator.submit('/library', '/admin/videos/watermark-default', { mode: 'off' })
    assert.equal(forbidden.status, 403)
    assert.isNull(await watermarkDefaultMode.stored())
    assert.isNull(await AuditLog.findBy('action', 'instance.watermark_default'))
  })
})
