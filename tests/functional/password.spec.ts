import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import User from '#models/user'
import { resetState } from '#tests/helpers/state'
import { smtp, decodeQuotedPrintable } from '#tests/helpers/smtp_capture'
import { WebClient, csrfTokenIn, fieldErrorsIn } from '#tests/helpers/web_client'
import PlaybackSession from '#models/playback_session'
import { loggedIn, readyVideo } from '#tests/helpers/videos'

/** Opens a playback session as the player does; returns the URL of its first media segment. */
async function playingSegment(client: WebClient, videoId: string) {
  const opened = await client.api('POST', `/videos/${videoId}/playback`)
  if (opened.status !== 201) throw new Error(`open answered ${opened.status}: ${JSON.stringify(opened.body)}`)
  const master = await client.get(opened.body.masterUrl)
  const variant = master.text.split('\n').find((line) => line.startsWith('/play/'))!
  const playlist = await client.get(variant)
  const segment = playlist.text.split('\n').find((line) => line.startsWith('/play/') && !line.includes('init'))!
  return { sessionId: opened.body.sessionId as string, segment }
}

const changePassword = (client: WebClient, current: string, password: string) =>
  client.submit('/account', '/account/password', { current_password: current, password, password_confirmation: password })

const INVALID = 'This reset link is invalid, has expired or was already used.'

let mailboxMark = 0

async function requestReset(client: WebClient, email: string) {
  mailboxMark = smtp.mark()
  const response = await client.submit('/forgot-password', '/forgot-password', { email })
  return { response, page: await client.visit(response.location ?? '/') }
}

async function resetLinkFor(email: string) {
  const mail = await smtp.waitFor(email, mailboxMark)
  const body = decodeQuotedPrintable(mail.raw)
  const link = body.match(/http:\/\/[^\s"<]+\/reset-password\/([A-Za-z0-9_-]+)/)
  if (!link) throw new Error(`no reset link in:\n${body}`)
  return { path: new URL(link[0]).pathname, token: link[1], body }
}

/** Posts the reset form; `formPage` supplies the CSRF token (a dead link's page has no form). */
async function resetWith(client: WebClient, formPage: string, token: string, password = 'brand new secret 42') {
  const response = await client.submit(formPage, '/reset-password', { token, password, password_confirmation: password })
  return { response, page: await client.visit(response.location ?? '/') }
}

test.group('Password reset by email', (group) => {
  group.each.setup(async () => {
    await resetState()
    await new WebClient().register('Reza', 'reza@example.com')
  })

  test('sends a single-use link over SMTP that sets a new password', async ({ assert }) => {
    const client = new WebClient()
    const { page } = await requestReset(client, 'REZA@example.com')
    assert.include(page.text, 'If an account uses that email, a reset link is on its way.')

    const { path, token, body } = await resetLinkFor('reza@example.com')
    assert.include(body, 'Reset your Matinee password')
    // Only a hash of the token is stored.
    const rows = await db.from('password_reset_tokens').select('token_hash')
    assert.lengthOf(rows, 1)
    assert.notEqual(rows[0].token_hash, token)
    assert.notInclude(JSON.stringify(rows), token)

    const form = await client.visit(path)
    assert.equal(form.status, 200)
    const { page: done } = await resetWith(client, path, token)
    assert.include(done.text, 'Your password was changed. Log in with the new one.')

    const login = await new WebClient().login('reza', 'brand new secret 42')
    assert.equal(login.location, '/')
    const oldLogin = await new WebClient().login('reza', 'correct horse battery')
    assert.equal(oldLogin.location, '/login')
  })

  test('a reused link is refused and changes nothing', async ({ assert }) => {
    const client = new WebClient()
    await requestReset(client, 'reza@example.com')
    const { path, token } = await resetLinkFor('reza@example.com')
    await resetWith(client, path, token, 'first new secret 11')
    const again = await resetWith(client, '/forgot-password', token, 'second new secret 22')
    assert.include(again.page.text, INVALID)
    const user = await User.findByOrFail('username', 'Reza')
    assert.isTrue(await user.verifyPassword('first new secret 11'))
    assert.equal((await client.get(path)).status, 410)
  })

  test('an expired link is refused and changes nothing', async ({ assert }) => {
    const client = new WebClient()
    await requestReset(client, 'reza@example.com')
    const { path, token } = await resetLinkFor('reza@example.com')
    await db.from('password_reset_tokens').update({ expires_at: new Date(Date.now() - 1000) })
    const form = await client.visit(path)
    assert.equal(form.status, 410)
    assert.include(form.text, INVALID)
    const { page } = await resetWith(client, '/forgot-password', token)
    assert.include(page.text, INVALID)
    const user = await User.findByOrFail('username', 'Reza')
    assert.isTrue(await user.verifyPassword('correct horse battery'))
  })

  test('a forged token is refused and changes nothing', async ({ assert }) => {
    const client = new WebClient()
    await requestReset(client, 'reza@example.com')
    const { path, token } = await resetLinkFor('reza@example.com')
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')
    const { page } = await resetWith(client, path, forged)
    assert.equal((await client.get(`/reset-password/${forged}`)).status, 410)
    assert.include(page.text, INVALID)
    const user = await User.findByOrFail('username', 'Reza')
    assert.isTrue(await user.verifyPassword('correct horse battery'))
  })

  test('an unknown email gets the same answer and no email is sent', async ({ assert }) => {
    const { page } = await requestReset(new WebClient(), 'nobody@example.com')
    assert.include(page.text, 'If an account uses that email, a reset link is on its way.')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.lengthOf(smtp.to('nobody@example.com'), 0)
    assert.lengthOf(await db.from('password_reset_tokens'), 0)
  })

  test('too many reset requests get 429', async ({ assert }) => {
    const client = new WebClient()
    const start = smtp.mark()
    for (let i = 0; i < 3; i++) assert.equal((await requestReset(client, 'reza@example.com')).response.status, 302)
    const blocked = await client.submit('/forgot-password', '/forgot-password', { email: 'reza@example.com' })
    assert.equal(blocked.status, 429)
    assert.isAbove(Number(blocked.headers.get('retry-after')), 0)
    // Let the three mails land now, not in the mailbox of the next test.
    await smtp.waitForCount('reza@example.com', 3, start)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.lengthOf(smtp.messages.slice(start), 3)
  })

  test('a weak new password is refused and the link still works', async ({ assert }) => {
    const client = new WebClient()
    await requestReset(client, 'reza@example.com')
    const { path, token } = await resetLinkFor('reza@example.com')
    const { page } = await resetWith(client, path, token, 'password123')
    assert.notEqual(fieldErrorsIn(page.text, 'password'), '')
    assert.equal((await client.get(path)).status, 200)
  })
})

test.group('Change password', (group) => {
  group.each.setup(() => resetState())

  test('needs the current password', async ({ assert }) => {
    const client = new WebClient()
    await client.register('Kim', 'kim@example.com')
    const wrong = await client.submit('/account', '/account/password', {
      current_password: 'not my password',
      password: 'another good secret 9',
      password_confirmation: 'another good secret 9',
    })
    const page = await client.visit(wrong.location!)
    assert.equal(fieldErrorsIn(page.text, 'current_password'), 'The current password is incorrect')
    assert.isTrue(await (await User.findByOrFail('username', 'Kim')).verifyPassword('correct horse battery'))

    const ok = await client.submit('/account', '/account/password', {
      current_password: 'correct horse battery',
      password: 'another good secret 9',
      password_confirmation: 'another good secret 9',
    })
    assert.include((await client.visit(ok.location!)).text, 'Your password was changed.')
    assert.isTrue(await (await User.findByOrFail('username', 'Kim')).verifyPassword('another good secret 9'))
  })
})

test.group('Password change and reset end the other sessions', (group) => {
  group.each.setup(() => resetState())

  test('a password change logs out the second browser and stops every player of the account', async ({ assert }) => {
    const { user, client: first } = await loggedIn('kim', 'creator')
    const video = await readyVideo(user)
    const second = new WebClient()
    assert.equal((await second.login('kim')).location, '/')

    const firstPlaying = await playingSegment(first, video.id)
    const secondPlaying = await playingSegment(second, video.id)
    const segment = await second.bytes(secondPlaying.segment)
    assert.equal(segment.status, 200)
    // Signed URLs are secrets: no request ever carries one as its Referer.
    assert.equal(segment.headers.get('referrer-policy'), 'no-referrer')
    assert.equal((await first.bytes(firstPlaying.segment)).status, 200)

    const changed = await changePassword(first, 'correct horse battery', 'another good secret 9')
    assert.include((await first.visit(changed.location!)).text, 'Your password was changed.')

    // The browser that changed it stays logged in; the other one is a guest on its next request.
    assert.equal((await first.visit('/account')).url, '/account')
    const account = await second.visit('/account')
    assert.equal(account.url, '/login')
    assert.include(account.text, 'Your password was changed, so you were logged out here.')
    assert.notInclude((await second.visit('/')).text, 'href="/account">kim</a>')

    // Both playback sessions were revoked: their segment URLs are refused, with no media.
    const refused = await second.bytes(secondPlaying.segment)
    assert.oneOf(refused.status, [401, 403])
    assert.isBelow(refused.body.length, 2000)
    const stopped = await first.bytes(firstPlaying.segment)
    assert.equal(stopped.status, 403)
    assert.equal(JSON.parse(stopped.body.toString()).error, 'session_revoked')
    const sessions = await PlaybackSession.query().where('userId', user.id)
    assert.lengthOf(sessions, 2)
    assert.isTrue(sessions.every((session) => session.revokedAt !== null))

    // Logging in again with the new password works in the second browser.
    assert.equal((await second.login('kim', 'another good secret 9')).location, '/')
    assert.equal((await second.visit('/account')).url, '/account')
  })

  test('a password reset logs out every browser of the account', async ({ assert }) => {
    const { client: other } = await loggedIn('lena')
    assert.equal((await other.visit('/account')).url, '/account')
    const client = new WebClient()
    await requestReset(client, 'lena@example.com')
    const { path, token } = await resetLinkFor('lena@example.com')
    await resetWith(client, path, token, 'brand new secret 42')
    assert.equal((await other.visit('/account')).url, '/login')
  })

  test('weak new passwords are refused with the reason, and the password stays', async ({ assert }) => {
    const client = new WebClient()
    await client.register('Kim_Lo', 'kim.lo@example.com')
    for (const [password, reason] of [
      ['password1', 'This is a commonly used password.'],
      ['Kim_Lo123', 'There should not be any personal or page related data.'],
      ['kim.lo@example.com', 'too easy to guess'],
    ]) {
      const response = await changePassword(client, 'correct horse battery', password)
      const page = await client.visit(response.location!)
      assert.include(fieldErrorsIn(page.text, 'password'), reason, password)
      assert.notInclude(page.text, 'Your password was changed')
    }
    assert.isTrue(await (await User.findByOrFail('username', 'Kim_Lo')).verifyPassword('correct horse battery'))

    // The reset form knows whose account it is: the username counts there too.
    await requestReset(client, 'kim.lo@example.com')
    const { path, token } = await resetLinkFor('kim.lo@example.com')
    const { page } = await resetWith(client, path, token, 'Kim_Lo123')
    assert.include(fieldErrorsIn(page.text, 'password'), 'There should not be any personal or page related data.')
    assert.isTrue(await (await User.findByOrFail('username', 'Kim_Lo')).verifyPassword('correct horse battery'))
    assert.equal((await client.get(path)).status, 200)
  })
})

test.group('Referrer-Policy', (group) => {
  group.each.setup(async () => {
    await resetState()
    await new WebClient().register('Reza', 'reza@example.com')
  })

  test('pages send same-origin; the reset page, whose URL is the secret, sends no-referrer and still shows its errors', async ({ assert }) => {
    const client = new WebClient()
    assert.equal((await client.get('/')).headers.get('referrer-policy'), 'same-origin')
    await requestReset(client, 'reza@example.com')
    const { path, token } = await resetLinkFor('reza@example.com')
    const form = await client.get(path)
    assert.equal(form.headers.get('referrer-policy'), 'no-referrer')

    // As a browser posts it under no-referrer: no Referer header at all.
    const body = new URLSearchParams({ _csrf: csrfTokenIn(form.text), token, password: 'password1', password_confirmation: 'password1' })
    const refused = await client.request('POST', '/reset-password', body)
    assert.equal(refused.status, 302)
    assert.equal(refused.location, path)
    const page = await client.visit(path)
    assert.include(fieldErrorsIn(page.text, 'password'), 'This is a commonly used password.')
    assert.isTrue(await (await User.findByOrFail('username', 'Reza')).verifyPassword('correct horse battery'))
  })
})
