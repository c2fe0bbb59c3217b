import { test } from '@japa/runner'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mediaConfig from '#config/media'
import AuditLog from '#models/audit_log'
import LeakTrace from '#models/leak_trace'
import storage from '#services/storage_service'
import { resetState } from '#tests/helpers/state'
import { startWorker, type RunningWorker } from '#tests/helpers/processes'
import { loggedIn, readyVideo } from '#tests/helpers/videos'
import { leak, servedStream, sessionsOf, source } from '#tests/helpers/forensic_leaks'
import type { WebClient } from '#tests/helpers/web_client'

/** Reloads the trace's result page until the worker has finished with it. */
async function verdictPage(client: WebClient, path: string, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs
  let text = ''
  while (Date.now() < deadline) {
    text = (await client.get(path)).text
    if (!/data-trace-status="(queued|running)"/.test(text)) return text
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${path} never showed a verdict:\n${text.slice(0, 3000)}`)
}

/** The action of the page's trace form, as a browser would post to it (it carries the CSRF token). */
async function formAction(client: WebClient, formPage: string) {
  const action = (await client.get(formPage)).text.match(/<form method="POST" action="([^"]+)"[^>]*data-trace-form/)?.[1]
  if (!action) throw new Error(`no trace form on ${formPage}`)
  return action.replaceAll('&amp;', '&')
}

async function storedTraceClips() {
  const keys: string[] = []
  for await (const object of storage.list('traces/')) keys.push(object.key)
  return keys
}

test.group('Admin → Videos → Trace a leak', (group) => {
  let worker: RunningWorker
  let work: string
  // Short segments keep the test's video short (as in forensic_trace.spec.ts).
  group.setup(async () => {
    const { segmentSeconds } = mediaConfig
    const renditions = [...mediaConfig.forensic.renditions]
    mediaConfig.segmentSeconds = 2
    mediaConfig.forensic.renditions.splice(0, Infinity, '360p')
    await resetState()
    worker = await startWorker(['forensic_trace'])
    return async () => {
      mediaConfig.segmentSeconds = segmentSeconds
      mediaConfig.forensic.renditions.splice(0, Infinity, ...renditions)
      await worker.stop()
    }
  })
  group.each.setup(async () => {
    await resetState()
    work = await mkdtemp(join(tmpdir(), 'matinee-admin-trace-test-'))
    return () => rm(work, { recursive: true, force: true })
  })
  group.each.timeout(300_000)

  test('a leaked clip uploaded through the form is traced by the worker: the page names the viewer, the trace is audited, the clip deleted', async ({ assert }) => {
    const { user: admin, client } = await loggedIn('root', 'admin')
    const video = await readyVideo(admin, { watermarkMode: 'forensic', source: await source(work, 'testsrc2', 66) })
    const sessions = await sessionsOf(video, 5)
    const clip = await leak(await servedStream(video, '360p', join(work, 'stream.mp4'), sessions[3].id), join(work, 'leak.mp4'), 3.3, 60, 400)

    const list = await client.get('/admin/videos')
    assert.include(list.text, `href="/admin/videos/${video.id}/trace"`)
    const formPage = `/admin/videos/${video.id}/trace`
    const sent = await client.upload(formPage, await formAction(client, formPage), {}, { clip: { name: 'leak.mp4', body: await readFile(clip), type: 'video/mp4' } })
    assert.equal(sent.status, 302, sent.text.slice(0, 500))
    assert.match(sent.location!, /^\/admin\/traces\/\d+$/)

    const page = await verdictPage(client, sent.location!)
    assert.include(page, 'data-trace-status="done"')
    assert.match(page, /<strong data-viewer>viewer3<\/strong>/)
    assert.include(page, 'TestBrowser/3')
    const audited = await AuditLog.findByOrFail('action', 'forensic.trace')
    assert.equal(audited.actorId, admin.id)
    assert.equal(audited.targetUserId, sessions[3].userId)
    assert.deepEqual(await storedTraceClips(), [])
  })

  test('a file that is not media (larger than an ordinary form may send) is refused with the tracer\'s reason; nobody is accused, nothing audited, the clip deleted', async ({ assert }) => {
    const { user: admin, client } = await loggedIn('root', 'admin')
    const video = await readyVideo(admin, { watermarkMode: 'forensic' })
    await sessionsOf(video, 3)
    const formPage = `/admin/videos/${video.id}/trace`
    // 24 MB: above config/bodyparser.ts multipart.limit, which this route streams past.
    const sent = await client.upload(formPage, await formAction(client, formPage), {}, { clip: { name: 'notes.mp4', body: Buffer.from('this is not a video at all\n'.repeat(900_000)) } })
    assert.equal(sent.status, 302)
    const page = await verdictPage(client, sent.location!)
    assert.include(page, 'data-trace-status="refused"')
    assert.match(page, /data-verdict="refused">The clip could not be traced: [^<]*not a readable video/)
    assert.isNull(await AuditLog.findBy('action', 'forensic.trace'))
    assert.deepEqual(await storedTraceClips(), [])
  })

  test('no file, a clip over the limit, a non-admin, a missing CSRF token: each refused, no trace made, nothing stored or queued', async ({ assert }) => {
    const { user: admin, client } = await loggedIn('root', 'admin')
    const video = await readyVideo(admin, { watermarkMode: 'forensic' })
    const formPage = `/admin/videos/${video.id}/trace`
    const body = { clip: { name: 'leak.mp4', body: Buffer.from('x'.repeat(1000)), type: 'video/mp4' } }

    const empty = await client.upload(formPage, await formAction(client, formPage), {}, {})
    assert.equal(empty.status, 302)
    assert.equal(empty.location, formPage)
    assert.include((await client.get(formPage)).text, 'Choose the leaked clip to upload.')

    const { client: viewer } = await loggedIn('someone', 'viewer')
    assert.equal((await viewer.get(formPage)).status, 403)
    // With a valid token (from a page a viewer may load: the layout's meta tag).
    const viewerToken = (await viewer.get('/library')).text.match(/<meta name="csrf-token" content="([^"]+)">/)![1]
    const forbidden = await viewer.upload('/library', `${formPage}?_csrf=${encodeURIComponent(viewerToken)}`, {}, body)
    assert.equal(forbidden.status, 403)

    const limit = mediaConfig.forensic.traceClipLimit
    mediaConfig.forensic.traceClipLimit = '500'
    try {
      const tooLarge = await client.upload(formPage, await formAction(client, formPage), {}, body)
      assert.equal(tooLarge.location, formPage)
      assert.match((await client.get(formPage)).text, /The file is larger than 500, the most this form accepts./)
    } finally {
      mediaConfig.forensic.traceClipLimit = limit
    }

    const noCsrf = await client.upload(formPage, formPage, {}, body, { csrf: false })
    assert.notMatch(noCsrf.location ?? '', /\/admin\/traces\//)
    assert.notEqual(noCsrf.status, 200)

    assert.equal((await LeakTrace.all()).length, 0)
    assert.deepEqual(await storedTraceClips(), [])
  })
})
