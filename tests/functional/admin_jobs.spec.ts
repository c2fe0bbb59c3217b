import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { hostname } from 'node:os'
import type { ChildProcess } from 'node:child_process'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import queueConfig from '#config/queue'
import type User from '#models/user'
import Video from '#models/video'
import queues from '#services/queue_service'
import storage from '#services/storage_service'
import transcoder from '#services/transcode_service'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { loggedIn, waitForStatus } from '#tests/helpers/videos'
import { startWorker } from '#tests/helpers/processes'
import type { WebClient } from '#tests/helpers/web_client'

/** The counts row of a queue on Admin → Jobs. */
function countsOf(page: string, queue: string) {
  const row = page.match(new RegExp(`<tr data-queue="${queue}">([\\s\\S]*?)</tr>`))?.[1] ?? ''
  return Object.fromEntries([...row.matchAll(/data-count="(\w+)">(\d+)</g)].map(([, state, count]) => [state, Number(count)]))
}

/** The row of a failed job on Admin → Jobs ('' when it is not listed). */
function jobRow(page: string, queue: string, id: string) {
  return page.match(new RegExp(`<tr data-job="${queue}:${id}">([\\s\\S]*?)</tr>`))?.[1] ?? ''
}

/** Reloads the page until `ready` holds (a worker is working in another process). */
async function pageUntil(client: WebClient, path: string, ready: (text: string) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  let text = ''
  while (Date.now() < deadline) {
    text = (await client.get(path)).text
    if (ready(text)) return text
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${path} never showed what the test waited for:\n${text.slice(0, 3000)}`)
}

/**
 * A video whose stored master is not a video (a corrupted upload): its
 * transcode, queued for the running worker, fails for good on the first try.
 */
async function videoWithCorruptSource(owner: User, title: string) {
  const id = randomUUID()
  const video = await Video.create({
    id,
    ownerId: owner.id,
    title,
    status: 'uploaded',
    priceMinor: 0,
    currency: 'USD',
    visibility: 'published',
    sourceKey: `videos/${id}/source/master.mp4`,
    sourceFilename: 'master.mp4',
    sourceSize: 1,
  })
  await storage.put(video.sourceKey, createReadStream(await media.textAsMp4()))
  await transcoder.enqueue(video)
  await waitForStatus(id, ['failed'], 30_000)
  return video
}

async function auditRows() {
  return db.from('audit_logs').orderBy('id')
}

test.group('Admin → Jobs with a running worker', (group) => {
  let worker: ChildProcess
  group.setup(async () => {
    await resetState()
    const running = await startWorker(['transcode', 'health'])
    worker = running.process
    return () => running.stop()
  })
  group.each.setup(() => resetState())
  group.each.timeout(120_000)

  test('a transcode that failed for good is listed with its video and error; retried after the fix, the video becomes ready', async ({ assert }) => {
    const { user: root, client: admin } = await loggedIn('root', 'admin')
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await videoWithCorruptSource(creator, 'Harbour at dusk')
    const retryPath = `/admin/jobs/transcode/${video.id}/retry`

    const page = await pageUntil(admin, '/admin/jobs', (text) => jobRow(text, 'transcode', video.id) !== '')
    assert.match(page, /<a [^>]*href="\/admin\/jobs"[^>]*>Jobs<\/a>/)
    assert.deepEqual(countsOf(page, 'transcode'), { waiting: 0, active: 0, delayed: 0, failed: 1 })
    assert.include(page, 'Showing 1 of 1 failed job, newest first.')
    const row = jobRow(page, 'transcode', video.id)
    assert.include(row, '<a href="/admin/videos">Transcode of &quot;Harbour at dusk&quot; by maker (video failed)</a>')
    assert.include(row, 'This file is not a readable video')
    assert.match(row, /data-job-attempts>1</)
    assert.match(row, /data-job-failed-at>\s*<time datetime="\d{4}-\d\d-\d\dT/)
    assert.include(row, `action="${retryPath}"`)

    // Viewers and creators (even the video's owner) may neither look nor act.
    const { client: viewerClient } = await loggedIn('someone')
    for (const client of [viewerClient, creatorClient]) {
      assert.equal((await client.get('/admin/jobs')).status, 403)
      assert.equal((await client.api('POST', retryPath, {})).status, 403)
      assert.equal((await client.api('POST', `/admin/jobs/transcode/${video.id}/discard`, {})).status, 403)
    }
    // A form posted without its CSRF token changes nothing either.
    assert.equal((await admin.submit('/admin/jobs', retryPath, {}, { csrf: false })).status, 302)
    assert.equal((await Video.findOrFail(video.id)).status, 'failed')
    assert.notEqual(jobRow((await admin.get('/admin/jobs')).text, 'transcode', video.id), '')
    assert.lengthOf(await auditRows(), 0)

    // The admin fixes the cause (a good master), then retries.
    await storage.put(video.sourceKey, createReadStream(await media.landscape()))
    const retried = await admin.submit('/admin/jobs', retryPath, {})
    assert.equal(retried.location, '/admin/jobs')
    const after = (await admin.get('/admin/jobs')).text
    assert.include(after, '&quot;Harbour at dusk&quot; is queued for transcoding again')
    assert.equal(jobRow(after, 'transcode', video.id), '')
    // The creator sees it transcoding again, as after the Studio's own retry.
    const studio = (await creatorClient.get('/studio/videos')).text
    assert.match(studio, new RegExp(`data-video-id="${video.id}" data-status="(queued|processing)"`))

    // Retrying again while it runs is refused: it is no longer a failed job.
    await admin.submit('/admin/jobs', retryPath, {})
    assert.match((await admin.get('/admin/jobs')).text, new RegExp(`Job transcode#${video.id} is (waiting|active), not failed: there is nothing to retry`))

    const ready = await waitForStatus(video.id, ['ready', 'failed'])
    assert.equal(ready.status, 'ready', ready.lastError ?? '')
    assert.equal(ready.attempts, 1)
    const done = await pageUntil(admin, '/admin/jobs', (text) => countsOf(text, 'transcode').active === 0)
    assert.deepEqual(countsOf(done, 'transcode'), { waiting: 0, active: 0, delayed: 0, failed: 0 })

    const log = await auditRows()
    assert.deepEqual(log.map((entry) => entry.action), ['video.retry', 'job.retry'])
    const jobRetry = log[1]
    assert.equal(jobRetry.actor_id, root.id)
    assert.equal(jobRetry.target_user_id, creator.id)
    assert.equal(jobRetry.subject_type, 'job')
    assert.equal(jobRetry.subject_id, `transcode:${video.id}`)
    assert.equal(jobRetry.before.state, 'failed')
    assert.include(jobRetry.before.error, 'This file is not a readable video')
    assert.equal(jobRetry.before.attempts, 1)
    assert.deepEqual(jobRetry.before.video, { id: video.id, status: 'failed' })
    assert.deepEqual(jobRetry.after, { state: 'waiting', video: { status: 'queued', attempts: 0 } })
    assert.isNotNull(jobRetry.created_at)
  })

  test('discarding a failed job removes it from the list and leaves its video failed; audited', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const { user: creator, client: creatorClient } = await loggedIn('maker', 'creator')
    const video = await videoWithCorruptSource(creator, 'Broken reel')
    const discardPath = `/admin/jobs/transcode/${video.id}/discard`
    await pageUntil(admin, '/admin/jobs', (text) => jobRow(text, 'transcode', video.id) !== '')

    const discarded = await admin.submit('/admin/jobs', discardPath, {})
    assert.equal(discarded.location, '/admin/jobs')
    const page = (await admin.get('/admin/jobs')).text
    assert.include(page, `Failed job transcode#${video.id} was discarded.`)
    assert.equal(jobRow(page, 'transcode', video.id), '')
    assert.equal(countsOf(page, 'transcode').failed, 0)
    assert.match((await creatorClient.get('/studio/videos')).text, new RegExp(`data-video-id="${video.id}" data-status="failed"`))

    // Gone now: a second discard (a stale page) is a 404 that says so, and changes nothing.
    const again = await admin.submit('/admin/jobs', discardPath, {})
    assert.equal(again.status, 404)
    assert.include(again.text, `The transcode queue has no job &quot;${video.id}&quot;`)

    const log = await auditRows()
    assert.deepEqual(log.map((entry) => entry.action), ['job.discard'])
    assert.equal(log[0].before.state, 'failed')
    assert.include(log[0].before.error, 'This file is not a readable video')
    assert.deepEqual(log[0].after, { state: 'discarded' })
    assert.equal((await Video.findOrFail(video.id)).status, 'failed')
  })

  test('workers report in with their host; one whose heartbeat stopped is shown as not alive', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    // A worker SIGKILLed a minute ago could not forget itself: its last beat stays.
    const lastBeat = Date.now() - 60_000
    await redis.hset(`${queueConfig.prefix}:workers`, 'lost-box:4242:deadbeef', JSON.stringify({ queues: ['transcode'], pid: 4242, host: 'lost-box', at: lastBeat }))

    // The test's state reset wiped the worker's last beat: wait for its next one.
    const page = await pageUntil(admin, '/admin/jobs', (text) => text.includes(`data-worker="${hostname()}:${worker.pid}:`))
    const live = page.match(new RegExp(`<tr data-worker="${hostname()}:${worker.pid}:[^"]+" data-alive="(\\w+)">([\\s\\S]*?)</tr>`))!
    assert.equal(live[1], 'yes')
    assert.include(live[2], `<td data-worker-host>${hostname()}</td>`)
    assert.include(live[2], 'transcode, health')
    const lost = page.match(/<tr data-worker="lost-box:4242:deadbeef" data-alive="(\w+)">([\s\S]*?)<\/tr>/)!
    assert.equal(lost[1], 'no')
    assert.include(lost[2], 'not alive')
    assert.include(lost[2], '1 minute ago')
  })
})

test.group('Admin → Jobs: bad input', (group) => {
  group.each.setup(() => resetState())
  group.teardown(() => queues.closeAll())

  test('an unknown queue or job id is a 404 that says so; nothing changes', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    const unknownQueue = await admin.submit('/admin/jobs', '/admin/jobs/transcodr/1/retry', {})
    assert.equal(unknownQueue.status, 404)
    assert.include(unknownQueue.text, 'There is no queue named &quot;transcodr&quot;. The queues are: health, transcode, transcode_chunk, watermark, watermark_ahead, forensic_trace, mail.')
    const unknownJob = await admin.api('POST', `/admin/jobs/transcode/${randomUUID()}/discard`, {})
    assert.equal(unknownJob.status, 404)
    assert.equal(unknownJob.body.error, 'not_found')
    assert.match(unknownJob.body.message, /^The transcode queue has no job "[0-9a-f-]{36}"/)
    assert.lengthOf(await auditRows(), 0)
  })

  test('a job that has not failed is neither retried nor discarded: a message says why', async ({ assert }) => {
    const { client: admin } = await loggedIn('root', 'admin')
    // No worker runs in this group: the ping waits in its queue.
    const waiting = await queues.producer('health').createJob({ sentAt: Date.now() }).save()
    for (const action of ['retry', 'discard']) {
      const response = await admin.submit('/admin/jobs', `/admin/jobs/health/${waiting.id}/${action}`, {})
      assert.equal(response.status, 302)
      assert.include((await admin.get('/admin/jobs')).text, `Job health#${waiting.id} is waiting, not failed: there is nothing to ${action}.`)
    }
    assert.deepEqual(countsOf((await admin.get('/admin/jobs')).text, 'health'), { waiting: 1, active: 0, delayed: 0, failed: 0 })
    assert.lengthOf(await auditRows(), 0)
  })
})
