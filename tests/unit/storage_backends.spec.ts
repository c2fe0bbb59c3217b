import { test } from '@japa/runner'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import S3rver from 's3rver'
import { storageBackendContract } from '@matinee/plugin-kit/testing'
import { LocalStorageBackend } from '../../plugins/storage-local/local_storage_backend.js'
import { S3StorageBackend } from '../../plugins/storage-s3/s3_storage_backend.js'
import { StorageService, assertValidStorageKey } from '#services/storage_service'

storageBackendContract('local', async () => new LocalStorageBackend(await mkdtemp(join(tmpdir(), 'matinee-local-'))))

/*
| The S3 run talks to a real S3-protocol server (s3rver) on loopback.
*/
let s3server: S3rver | undefined
let s3dir: string | undefined
storageBackendContract('s3 (s3rver on loopback)', async () => {
  s3dir = await mkdtemp(join(tmpdir(), 'matinee-s3-'))
  s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir })
  const address = (await s3server.run()) as AddressInfo
  return new S3StorageBackend({
    bucket: 'matinee-contract',
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
    createBucket: true,
  })
})

test.group('s3rver teardown', () => {
  test('stops the S3 server', async () => {
    await s3server?.close()
    if (s3dir) await rm(s3dir, { recursive: true, force: true })
  })
})

test.group('Storage keys', () => {
  test('traversal, absolute and odd keys are refused before any backend call', async ({ assert }) => {
    const calls: string[] = []
    const spy: any = new Proxy({}, { get: (_t, method) => (...args: any[]) => calls.push(`${String(method)} ${args[0]}`) })
    const storage = new StorageService(() => spy)
    for (const key of ['../etc/passwd', 'videos/../../x', '/abs/path', 'a//b', 'a/./b', 'a\\b', '', 'a/b\u0000', '.hidden', 'x'.repeat(600)]) {
      assert.throws(() => assertValidStorageKey(key), /Invalid storage key/, key)
      await assert.rejects(() => storage.get(key) as any)
      await assert.rejects(() => storage.delete(key) as any)
    }
    assert.deepEqual(calls, [])
    assert.doesNotThrow(() => assertValidStorageKey('videos/abc-1/hls/720p/seg_00001.m4s'))
    assert.doesNotThrow(() => assertValidStorageKey('videos/abc-1/', { prefix: true }))
  })
})

test.group('S3: objects sent by nginx (offloadPath)', (group) => {
  let server: S3rver
  let dir: string
  let endpoint: string
  let backend: S3StorageBackend
  group.setup(async () => {
    dir = await mkdtemp(join(tmpdir(), 'matinee-s3-offload-'))
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir })
    endpoint = `http://127.0.0.1:${((await server.run()) as AddressInfo).port}`
    backend = new S3StorageBackend({
      bucket: 'matinee-offload', region: 'us-east-1', endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, createBucket: true,
    })
    return async () => {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('the path is a presigned GET of that one object, which reads it', async ({ assert }) => {
    const segment = Buffer.from('a segment of a video')
    await backend.put('videos/v1/hls/480p/seg_00000.m4s', segment)
    await backend.put('videos/v1/hls/480p/seg_00001.m4s', Buffer.from('the next segment'))
    const path = await backend.offloadPath('videos/v1/hls/480p/seg_00000.m4s')

    const fetched = await fetch(`${endpoint}/${path}`)
    assert.equal(fetched.status, 200)
    assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), segment)

    // A presigned GET: s3rver does not check signatures (real S3 and MinIO refuse this
    // path for another key, or without its query), so here only its shape is asserted.
    const query = new URLSearchParams(path.split('?')[1])
    assert.equal(path.split('?')[0], 'matinee-offload/videos/v1/hls/480p/seg_00000.m4s')
    assert.equal(query.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256')
    assert.equal(query.get('X-Amz-Expires'), '900')
    assert.match(query.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/)
  })

  test('one presigned path per key is reused, not made per request', async ({ assert }) => {
    const first = await backend.offloadPath('videos/v1/hls/480p/seg_00000.m4s')
    assert.equal(await backend.offloadPath('videos/v1/hls/480p/seg_00000.m4s'), first)
    assert.notEqual(await backend.offloadPath('videos/v1/hls/480p/seg_00001.m4s'), first)
  })

  test('the core hands nginx the key itself when a backend has no offloadPath (local storage)', async ({ assert }) => {
    const local = new LocalStorageBackend(await mkdtemp(join(tmpdir(), 'matinee-local-')))
    assert.equal(await new StorageService(() => local).offloadPath('videos/v1/hls/480p/seg_00000.m4s'), 'videos/v1/hls/480p/seg_00000.m4s')
  })
})
