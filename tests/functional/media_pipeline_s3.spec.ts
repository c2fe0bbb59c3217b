import { test } from '@japa/runner'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import S3rver from 's3rver'
import app from '@adonisjs/core/services/app'
import plugins from '#services/plugins'
import queues from '#services/queue_service'
import { S3StorageBackend } from '../../plugins/storage-s3/s3_storage_backend.js'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { tusUpload } from '#tests/helpers/tus_upload'
import { creatorClient, readStored, storedKeys, waitForStatus } from '#tests/helpers/videos'
import { WebClient } from '#tests/helpers/web_client'
import { startAce, stopProcess, waitForOutput } from '#tests/helpers/processes'

/*
| The same pipeline with the S3 backend: the web process (this one) and a
| worker process both talk to a real S3-protocol server on loopback.
*/
test.group('Media pipeline on S3 storage', (group) => {
  let server: S3rver
  let directory: string
  let worker: ChildProcess

  group.setup(async () => {
    directory = await mkdtemp(join(tmpdir(), 'matinee-s3-pipeline-'))
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory })
    const { port } = (await server.run()) as AddressInfo
    const options = {
      bucket: 'matinee-media',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      createBucket: true,
    }
    if (!plugins.storage.has('s3')) plugins.storage.register(new S3StorageBackend(options), 'storage-s3')
    const previous = app.config.get('storage.backend')
    app.config.set('storage.backend', 's3')

    await resetState()
    worker = startAce(['queue:work'], {
      STORAGE_BACKEND: 's3',
      S3_BUCKET: options.bucket,
      S3_REGION: options.region,
      S3_ENDPOINT: options.endpoint,
      S3_ACCESS_KEY_ID: options.accessKeyId,
      S3_SECRET_ACCESS_KEY: options.secretAccessKey,
    })
    await waitForOutput(worker, /consuming/)
    return async () => {
      await stopProcess(worker)
      await queues.closeAll()
      app.config.set('storage.backend', previous)
      await server.close()
      await rm(directory, { recursive: true, force: true })
    }
  })
  group.each.setup(() => resetState())

  test('upload, transcode, catalog and delete with every object in the bucket', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.landscape(), { title: 'Bucket film', visibility: 'published' })
    assert.isTrue(result.ok, result.body)
    const video = await waitForStatus(result.videoId!, ['ready', 'failed'])
    assert.equal(video.status, 'ready', video.lastError ?? '')

    const keys = await storedKeys(video.storagePrefix)
    assert.includeMembers(keys, [video.sourceKey, `${video.hlsPrefix}master.m3u8`, `${video.hlsPrefix}240p/index.m3u8`, `${video.storagePrefix}poster.jpg`])
    assert.include(await readStored(`${video.hlsPrefix}master.m3u8`), '360p/index.m3u8')

    const poster = await fetch(new URL(`/videos/${video.id}/poster`, new WebClient().baseUrl))
    assert.equal(poster.status, 200)
    assert.isAbove((await poster.arrayBuffer()).byteLength, 1000)

    await creator.submit(`/studio/videos/${video.id}/edit`, `/studio/videos/${video.id}/delete`, {})
    assert.deepEqual(await storedKeys(), [])
  }).timeout(120_000)
})
