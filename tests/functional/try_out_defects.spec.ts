import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import { loggedIn } from '#tests/helpers/videos'
import { listedVideo, paidOrder, stripeForGroup } from '#tests/helpers/commerce'
import { csrfTokenIn } from '#tests/helpers/web_client'

test.group('Defects seen in the try-out', (group) => {
  stripeForGroup(group)

  test('money figures of zero read $0.00 ("Payment fees: $0.00"), a free video still reads Free', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: maker, client: creator } = await loggedIn('maker', 'creator')
    const { user: buyer } = await loggedIn('buyer')
    await paidOrder(buyer, await listedVideo(maker, { title: 'Paid film', priceMinor: 450 }))
    await listedVideo(maker, { title: 'Gift film', priceMinor: 0 })

    const overview = await admin.get('/admin')
    assert.match(overview.text, /data-figure="provider">\$0\.00</)
    const sales = await creator.get('/studio/sales')
    assert.match(sales.text, /data-figure="provider">\$0\.00</)
    for (const page of [overview.text, sales.text]) assert.notMatch(page, />\s*Free\s*</)
    const myVideos = await creator.get('/studio/videos')
    assert.match(myVideos.text, />\s*Free\s*</)
  })

  test('an admin action on a filtered list goes back to that list with its filters', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: maker } = await loggedIn('maker', 'creator')
    const { user: troll } = await loggedIn('troll')
    const film = await listedVideo(maker, { title: 'Harbour lights' })

    const videoList = '/admin/videos?q=harbour&status=ready'
    const takedown = await admin.submit(videoList, `/admin/videos/${film.id}/takedown`, { reason: 'copyright claim' })
    assert.equal(takedown.status, 302)
    assert.equal(takedown.location, videoList)
    const restore = await admin.submit(videoList, `/admin/videos/${film.id}/restore`, {})
    assert.equal(restore.location, videoList)

    const userList = '/admin/users?q=troll&role=viewer'
    const ban = await admin.submit(userList, `/admin/users/${troll.id}/ban`, { reason: 'spamming comments' })
    assert.equal(ban.location, userList)
    const unban = await admin.submit(userList, `/admin/users/${troll.id}/unban`, {})
    assert.equal(unban.location, userList)

    // A form sent from another page goes back to the bare list, never to that page.
    const elsewhere = await admin.submit('/admin/audit?q=x', `/admin/videos/${film.id}/takedown`, { reason: 'copyright claim' })
    assert.equal(elsewhere.location, '/admin/videos')
  })

  test('/plugins/x402/wallet is a page of the site: its layout, its navigation, the error next to the field', async ({ assert }) => {
    const { client: creator } = await loggedIn('maker', 'creator')
    const page = await creator.get('/plugins/x402/wallet')
    assert.equal(page.status, 200)
    assert.include(page.text, '<title>Crypto payouts · Matinee</title>')
    assert.include(page.text, 'class="site-header"')
    assert.include(page.text, 'href="/account">maker</a>')
    assert.include(page.text, '<main id="main">')
    assert.equal(page.text.match(/<html/g)?.length, 1)

    const refused = await creator.submit('/plugins/x402/wallet', '/plugins/x402/wallet', { address: '"><script>alert(1)</script>' })
    assert.equal(refused.status, 422)
    assert.include(refused.text, 'class="site-header"')
    assert.include(refused.text, 'id="x402-wallet-address-error"')
    assert.include(refused.text, 'That is not a wallet address')
    assert.match(refused.text, /name="address" value="(&quot;|&#34;)&gt;&lt;script&gt;alert\(1\)/)
    assert.notInclude(refused.text, '<script>alert(1)')

    const saved = await creator.submit('/plugins/x402/wallet', '/plugins/x402/wallet', { address: '0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f' })
    assert.equal(saved.location, '/plugins/x402/wallet?saved=1')
    const after = await creator.get('/plugins/x402/wallet?saved=1')
    assert.include(after.text, 'Saved.')
    assert.include(after.text, 'value="0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"')
  })

  test('buy buttons are the providers’ views rendered by the core, escaped, posting the checkout form', async ({ assert }) => {
    const { user: maker } = await loggedIn('maker', 'creator')
    const { client: viewer } = await loggedIn('viewer')
    const film = await listedVideo(maker, { title: '<b>Harbour</b> & "lights"', priceMinor: 450 })
    const page = await viewer.get(`/videos/${film.id}`)
    assert.equal(page.status, 200)
    const stripeForm = page.text.match(/<form method="POST" action="\/videos\/[^"]+\/checkout" class="buy-form buy-stripe">[\s\S]*?<\/form>/)?.[0]
    assert.isString(stripeForm, 'the Stripe plugin’s buy_button view is on the page')
    assert.include(stripeForm!, `<input type="hidden" name="_csrf" value="${csrfTokenIn(page.text)}">`)
    assert.include(stripeForm!, '<input type="hidden" name="provider" value="stripe">')
    assert.include(stripeForm!, 'Pay $4.50 by card')
    assert.notInclude(page.text, '<b>Harbour</b>')
  })

  test('leaving a video page closes its session with the position: clicking through 5 videos never meets the 3-screen limit', async ({ assert }) => {
    const { user: maker } = await loggedIn('maker', 'creator')
    const { user: viewer, client } = await loggedIn('binger')
    for (let index = 0; index < 5; index++) {
      const video = await listedVideo(maker, { title: `Episode ${index + 1}`, priceMinor: 0 })
      const opened = await client.api('POST', `/videos/${video.id}/playback`)
      assert.equal(opened.status, 201, JSON.stringify(opened.body))
      // What the player sends on pagehide.
      const closed = await client.api('DELETE', `/playback/${opened.body.sessionId}`, { seconds: 4.5 })
      assert.equal(closed.status, 204)
      const position = await db.from('watch_positions').where({ user_id: viewer.id, video_id: video.id }).first()
      assert.equal(Number(position?.position_seconds), 4.5)
    }
    const again = await client.api('DELETE', `/playback/${randomUUID()}`, { seconds: 'later' })
    assert.equal(again.status, 422)
  })
})
