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
