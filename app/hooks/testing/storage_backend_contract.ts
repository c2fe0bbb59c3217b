import { test } from '@japa/runner'
import { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { buffer as collect } from 'node:stream/consumers'
import { InvalidRangeError, ObjectNotFoundError, type StorageBackend } from '../contracts.js'

/**
 * The behaviour every StorageBackend must have. Run it against a backend with
 * `storageBackendContract('my backend', async () => backend)`; each test works
 * under its own random prefix, so a shared bucket or folder is fine.
 */
export function storageBackendContract(name: string, makeBackend: () => Promise<StorageBackend>) {
  test.group(`StorageBackend contract: ${name}`, (group) => {
    let backend: StorageBackend
    let prefix: string
    group.setup(async () => {
      backend = await makeBackend()
    })
    group.each.setup(() => {
      prefix = `contract-${randomBytes(4).toString('hex')}/`
      return () => backend.delete(prefix)
    })

    test('put then get returns the same bytes, streamed in and out', async ({ assert }) => {
      const data = randomBytes(300_000)
      const stored = await backend.put(`${prefix}a/b.bin`, Readable.from(chunks(data, 64 * 1024)), { contentType: 'application/octet-stream' })
      assert.equal(stored.size, data.length)
      const object = await backend.get(`${prefix}a/b.bin`)
      assert.equal(object.size, data.length)
      assert.isTrue((await collect(object.body)).equals(data))
    })

    test('a large object (multipart-sized) round-trips', async ({ assert }) => {
      const data = randomBytes(12 * 1024 * 1024 + 123)
      await backend.put(`${prefix}big.bin`, Readable.from(chunks(data, 1024 * 1024)))
      const head = await backend.head(`${prefix}big.bin`)
      assert.equal(head!.size, data.length)
      const tail = await backend.get(`${prefix}big.bin`, { range: { start: data.length - 10 } })
      assert.isTrue((await collect(tail.body)).equals(data.subarray(data.length - 10)))
    }).timeout(60_000)

    test('ranged reads return exactly the bytes asked for', async ({ assert }) => {
      const data = Buffer.from('0123456789abcdefghij')
      await backend.put(`${prefix}r.txt`, data)
      const middle = await backend.get(`${prefix}r.txt`, { range: { start: 5, end: 9 } })
      assert.equal((await collect(middle.body)).toString(), '56789')
      assert.deepEqual(middle.range, { start: 5, end: 9 })
      assert.equal(middle.size, 20)
      const open = await backend.get(`${prefix}r.txt`, { range: { start: 18 } })
      assert.equal((await collect(open.body)).toString(), 'ij')
      const past = await backend.get(`${prefix}r.txt`, { range: { start: 15, end: 500 } })
      assert.equal((await collect(past.body)).toString(), 'fghij')
    })

    test('a range outside the object is refused', async ({ assert }) => {
      await backend.put(`${prefix}r.txt`, Buffer.from('short'))
      await assert.rejects(() => backend.get(`${prefix}r.txt`, { range: { start: 5 } }), InvalidRangeError as any)
      await assert.rejects(() => backend.get(`${prefix}r.txt`, { range: { start: 99, end: 120 } }), InvalidRangeError as any)
    })

    test('missing objects: head is null, get throws ObjectNotFoundError', async ({ assert }) => {
      assert.isNull(await backend.head(`${prefix}nothing.bin`))
      await assert.rejects(() => backend.get(`${prefix}nothing.bin`), ObjectNotFoundError as any)
    })

    test('put overwrites', async ({ assert }) => {
      await backend.put(`${prefix}o.txt`, Buffer.from('first version'))
      await backend.put(`${prefix}o.txt`, Buffer.from('second'))
      assert.equal((await collect((await backend.get(`${prefix}o.txt`)).body)).toString(), 'second')
    })

    test('list yields every object under a prefix, with sizes', async ({ assert }) => {
      await backend.put(`${prefix}v/1.m4s`, Buffer.alloc(10))
      await backend.put(`${prefix}v/sub/2.m4s`, Buffer.alloc(20))
      await backend.put(`${prefix}w/3.m4s`, Buffer.alloc(30))
      const listed: Array<[string, number]> = []
      for await (const object of backend.list(`${prefix}v/`)) listed.push([object.key, object.size])
      assert.sameDeepMembers(listed, [
        [`${prefix}v/1.m4s`, 10],
        [`${prefix}v/sub/2.m4s`, 20],
      ])
    })

    test('delete removes one object, or everything under a prefix and nothing else', async ({ assert }) => {
      await backend.put(`${prefix}d/1`, Buffer.from('1'))
      await backend.put(`${prefix}d/deep/2`, Buffer.from('2'))
      await backend.put(`${prefix}keep`, Buffer.from('k'))
      await backend.delete(`${prefix}d/1`)
      assert.isNull(await backend.head(`${prefix}d/1`))
      await backend.delete(`${prefix}d/`)
      assert.isNull(await backend.head(`${prefix}d/deep/2`))
      assert.isNotNull(await backend.head(`${prefix}keep`))
      await backend.delete(`${prefix}never-existed`)
    })

    test('a failing source stream stores nothing under the key', async ({ assert }) => {
      const failing = new Readable({
        read() {
          this.push(randomBytes(1024))
          this.destroy(new Error('connection dropped'))
        },
      })
      await assert.rejects(() => backend.put(`${prefix}broken.bin`, failing))
      assert.isNull(await backend.head(`${prefix}broken.bin`))
      const left: string[] = []
      for await (const object of backend.list(prefix)) left.push(object.key)
      assert.deepEqual(left, [])
    })
  })
}

function* chunks(data: Buffer, size: number) {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
}
