import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import * as tus from 'tus-js-client'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import plugins from '#services/plugins'
import Video from '#models/video'
import StagedUpload from '#models/staged_upload'
import { S3StorageBackend } from '../../plugins/storage-s3/s3_storage_backend.js'
import { resetState } from '#tests/helpers/state'
import { creatorClient, stagedUploads, storedKeys } from '#tests/helpers/videos'
import { csrfTokenIn, type WebClient } from '#tests/helpers/web_client'
import { startWebServer, stopProcess } from '#tests/helpers/processes'
import { startS3Server } from '#tests/helpers/s3_server'

/*
| Uploads on any web node: this test process is node A (APP_URL), a second
| web process with the same environment is node B. tus-js-client sends the
| chunks of one upload to A and B in turn (its HTTP stack rewrites each
| request's origin), as a load balancer without sticky routing would.
*/

const NODE_B_PORT = Number(env.get('PORT')) + 10_000
const nodeA = new URL(env.get('APP_URL')).origin
const nodeB = `http://127.0.0.1:${NODE_B_PORT}`

/** An HTTP stack that sends request n to A or B in turn, and records which node got each PATCH. */
class AlternatingStack {
  #stack = (tus as any).defaultOptions.httpStack
  #count = 0
  patches: string[] = []
  getName() {
    return 'alternating'
  }
  createRequest(method: string, url: string) {
    const origin = this.#count++ % 2 === 0 ? nodeA : nodeB
    const target = new URL(url)
    const rewritten = origin + target.pathname + target.search
    if (method === 'PATCH') this.patches.push(origin)
    return this.#stack.createRequest(method, rewritten)
  }
}

/**
 * A 4 s 720p video of about 12 MB: a dozen 1 MB chunks, and in S3 both
 * whole parts (5 MiB and more) and the small pieces tus keeps aside until
 * they make one.
 */
async function bigVideo() {
  const path = join(tmpdir(), 'matinee-uploads-any-node-12mb.mp4')
  if (!(await stat(path).catch(() => null))) {
    await promisify(execFile)('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '24M', '-maxrate', '24M', '-bufsize', '8M',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', path,
    ])
  }
  return path
}

async function csrfOf(client: WebClient) {
  const page = await client.get('/studio/videos/new')
  return csrfTokenIn(page.text.replace(/data-csrf="([^"]+)"/, "name='_csrf' value='$1'"))
}

/** Uploads `path` in 1 MB chunks, alternating nodes; resolves with the video id or the refusal. */
async function alternatingUpload(client: WebClient, path: string, stack = new AlternatingStack()) {
  const data = await readFile(path)
  const csrf = await csrfOf(client)
  const result = await new Promise<{ ok: boolean; status: number; body: string; videoId?: string }>((resolve) => {
    new tus.Upload(data, {
      endpoint: `${nodeA}/studio/uploads`,
      chunkSize: 1024 * 1024,
      retryDelays: [],
      httpStack: stack as any,
      headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': csrf },
      metadata: { filename: 'film.mp4', title: 'Two nodes', price: '0', currency: 'USD', visibility: 'draft' },
      onError(error: any) {
        const response = error.originalResponse
        resolve({ ok: false, status: response?.getStatus() ?? 0, body: response?.getBody() ?? String(error.message) })
      },
      onSuccess(payload: any) {
        const body = payload.lastResponse.getBody()
        resolve({ ok: true, status: payload.lastResponse.getStatus(), body, videoId: JSON.parse(body).videoId })
      },
    }).start()
  })
  return { ...result, patches: stack.patches }
}

/** A raw tus request to one node, as the creator. */
async function tusRequest(client: WebClient, origin: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  return fetch(origin + path, {
    method,
    headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': await csrfOf(client), 'tus-resumable': '1.0.0', ...headers },
    body: body ? new Uint8Array(body) : undefined,
  })
}

function uploadTests(storageName: string, extraChecks: (videoId: string) => Promise<void>) {
  test(`${storageName}: the chunks of one upload alternate between two web nodes; the video goes to transcoding`, async ({ assert }) => {
    const creator = await creatorClient()
    const path = await bigVideo()
    const size = (await readFile(path)).length
    const result = await alternatingUpload(creator, path)
    assert.isTrue(result.ok, result.body)
    assert.isAbove(result.patches.length, 2, 'several chunks')
    assert.includeMembers(result.patches, [nodeA, nodeB])

    const video = await Video.findOrFail(result.videoId)
    assert.include(['queued', 'processing', 'ready'], video.status)
    assert.equal(Number(video.sourceSize), size)
    assert.deepEqual(await StagedUpload.all(), [], 'no upload left staged')
    await extraChecks(video.id)
  }).timeout(120_000)

  test(`${storageName}: an upload started on node A resumes on node B from the offset A stored; another creator may not touch it`, async ({ assert }) => {
    const creator = await creatorClient()
    const data = await readFile(await bigVideo())
    const metadata = ['filename film.mp4', 'title Resumed', 'price 0', 'currency USD', 'visibility draft']
      .map((pair) => {
        const [key, ...value] = pair.split(' ')
        return `${key} ${Buffer.from(value.join(' ')).toString('base64')}`
      })
      .join(',')
    const created = await tusRequest(creator, nodeA, 'POST', '/studio/uploads', {
      'upload-length': String(data.length),
      'upload-metadata': metadata,
    })
    assert.equal(created.status, 201, await created.text())
    const location = created.headers.get('location')!
    assert.match(location, /^\/studio\/uploads\/[0-9a-f]{32}$/, 'the URL carries the bare id, never the store prefix')

    const half = 5 * 1024 * 1024 < data.length ? 5 * 1024 * 1024 : Math.floor(data.length / 2)
    const first = await tusRequest(creator, nodeA, 'PATCH', location, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, data.subarray(0, half))
    assert.equal(first.status, 204, await first.text())

    const head = await tusRequest(creator, nodeB, 'HEAD', location)
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('upload-offset'), String(half))

    const rival = await creatorClient('rival')
    const stolen = await tusRequest(rival, nodeB, 'PATCH', location, { 'upload-offset': String(half), 'content-type': 'application/offset+octet-stream' }, data.subarray(half))
    assert.equal(stolen.status, 403)
    assert.equal(await stolen.text(), 'This upload belongs to someone else.')

    const rest = await tusRequest(creator, nodeB, 'PATCH', location, { 'upload-offset': String(half), 'content-type': 'application/offset+octet-stream' }, data.subarray(half))
    const restBody = await rest.text()
    assert.equal(rest.status, 200, restBody)
    const videoId = JSON.parse(restBody).videoId
    assert.equal(Number((await Video.findOrFail(videoId)).sourceSize), data.length)
    assert.deepEqual(await StagedUpload.all(), [])
    await extraChecks(videoId)
  }).timeout(120_000)
}

test.group('Uploads on any node: shared upload folder', (group) => {
  let nodeBProcess: ChildProcess
  group.setup(async () => {
    await resetState()
    nodeBProcess = await startWebServer({ PORT: String(NODE_B_PORT), APP_URL: nodeB })
    return async () => {
      await stopProcess(nodeBProcess)
    }
  })
  group.each.setup(() => resetState())

  uploadTests('shared folder', async (videoId) => {
    const video = await Video.findOrFail(videoId)
    mustHold(await storedKeys(video.storagePrefix), video.sourceKey)
    const left = await stagedUploads()
    if (left.length) throw new Error(`staged files left behind: ${left.join(', ')}`)
  })
})

test.group('Uploads on any node: S3 multipart uploads', (group) => {
  let s3: Awaited<ReturnType<typeof startS3Server>>
  let nodeBProcess: ChildProcess
  const options = {
    bucket: 'matinee-uploads-any-node',
    region: 'us-east-1',
    endpoint: '',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    createBucket: true,
  }

  group.setup(async () => {
    s3 = await startS3Server()
    options.endpoint = s3.endpoint
    const previousBackend = app.config.get('storage.backend')
    // This process's backend on this group's server, under an id of its own
    // (another group of the run may hold "s3" on its own server).
    if (!plugins.storage.has('s3-any-node')) {
      plugins.storage.register(Object.assign(new S3StorageBackend(options), { id: 's3-any-node' }), 'storage-s3')
    }
    app.config.set('storage.backend', 's3-any-node')
    await resetState()
    nodeBProcess = await startWebServer({
      PORT: String(NODE_B_PORT),
      APP_URL: nodeB,
      STORAGE_BACKEND: 's3',
      S3_BUCKET: options.bucket,
      S3_REGION: options.region,
      S3_ENDPOINT: options.endpoint,
      S3_ACCESS_KEY_ID: options.accessKeyId,
      S3_SECRET_ACCESS_KEY: options.secretAccessKey,
    })
    return async () => {
      await stopProcess(nodeBProcess)
      app.config.set('storage.backend', previousBackend)
      await s3.close()
    }
  })
  group.each.setup(() => resetState())

  uploadTests('S3', async (videoId) => {
    const video = await Video.findOrFail(videoId)
    const keys = await storedKeys()
    if (!keys.includes(video.sourceKey)) throw new Error(`no source in the bucket: ${keys.join(', ')}`)
    const staged = await storedKeys('tus-uploads/')
    if (staged.length) throw new Error(`staged objects left behind: ${staged.join(', ')}`)
    if ((await stagedUploads()).length) throw new Error('the shared folder was used with the S3 backend')
  })
})

function mustHold(keys: string[], key: string) {
  if (!keys.includes(key)) throw new Error(`${key} is not stored (${keys.join(', ')})`)
}
