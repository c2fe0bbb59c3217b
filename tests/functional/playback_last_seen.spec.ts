import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import User from '#models/user'
import Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import { LastSeenWriter } from '#services/playback/last_seen'
import { resetState } from '#tests/helpers/state'

async function sessions(count: number, lastSeenAt: DateTime) {
  const owner = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
  const viewer = await User.create({ username: 'watcher', email: 'watcher@example.com', password: 'correct horse battery' })
  const id = randomUUID()
  await Video.create({
    id, ownerId: owner.id, title: 'seen', status: 'ready', visibility: 'published', priceMinor: 0, currency: 'USD',
    durationSeconds: 60, sourceKey: `videos/${id}/source/master.mp4`, sourceFilename: 'master.mp4', sourceSize: 1,
  })
  return Promise.all(
    Array.from({ length: count }, () =>
      PlaybackSession.create({
        id: randomUUID(), userId: viewer.id, videoId: id, deviceId: 'd', userAgent: 'test', watermarked: false, forensic: false,
        expiresAt: DateTime.now().plus({ hours: 1 }), lastSeenAt,
      })
    )
  )
}

const storedLastSeen = async (id: string) => (await PlaybackSession.findOrFail(id)).lastSeenAt.toMillis()

test.group('Playback: last-seen times', (group) => {
  group.each.setup(() => resetState())

  test('sessions seen are written together, in the background, once per touch interval', async ({ assert }) => {
    const longAgo = DateTime.now().minus({ minutes: 5 })
    const seen = await sessions(5, longAgo)
    const writer = new LastSeenWriter()
    const before = Date.now()

    // Many segment requests of each session: nothing is written while they are answered.
    for (let i = 0; i < 20; i++) for (const session of seen) writer.touch(session)
    assert.equal(await storedLastSeen(seen[0].id), longAgo.toMillis())

    // One UPDATE for all of them.
    const statements: string[] = []
    const listen = (query: { sql: string }) => statements.push(query.sql)
    // knex announces every statement it sends, whatever the debug setting.
    const client = db.connection().getWriteClient()
    client.on('query', listen)
    try {
      await writer.flush()
    } finally {
      client.off('query', listen)
    }
    assert.lengthOf(statements.filter((sql) => /^update/i.test(sql)), 1)
    for (const session of seen) assert.isAtLeast(await storedLastSeen(session.id), before - 1000)

    // Marked a moment ago: more requests write nothing until the interval has passed.
    for (const session of seen) writer.touch(session)
    statements.length = 0
    client.on('query', listen)
    try {
      await writer.flush()
    } finally {
      client.off('query', listen)
    }
    assert.lengthOf(statements, 0)
  })

  test('the timer writes the marks without being asked', async ({ assert }) => {
    const longAgo = DateTime.now().minus({ minutes: 5 })
    const [session] = await sessions(1, longAgo)
    new LastSeenWriter().touch(session)
    const deadline = Date.now() + 5000
    while ((await storedLastSeen(session.id)) === longAgo.toMillis() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.isAbove(await storedLastSeen(session.id), longAgo.toMillis())
  })
})
