import { test } from '@japa/runner'
import type { ChildProcess } from 'node:child_process'
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
import { startS3Server } from '#tests/helpers/s3_server'

/*
| The same pipeline with the S3 backend: the web process (this one) and a
| worker process both talk to a real S3-protocol server on loopback; the
| upload is staged in the bucket too (S3 multipart upload).
*/
test.group('Media pipeline on S3 storage', (group) => {
  let s3: Awaited<ReturnType<typeof startS3Server>>
  let worker: ChildProcess

  group.setup(async () => {
    // s3rver, with the multipart calls resumable uploads on S3 need.
    s3 = await startS3Server()
    const options = {
      bucket: 'matinee-media',
      region: 'us-east-1',
      endpoint: s3.endpoint,
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
      await s3.close()
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
