import type { Readable } from 'node:stream'
import app from '@adonisjs/core/services/app'
import plugins from '#services/plugins'
import type { ByteRange, StorageBackend, StoredObjectMeta } from '#hooks/contracts'

export class InvalidStorageKeyError extends Error {
  code = 'E_INVALID_STORAGE_KEY'
  constructor(key: string, reason: string) {
    super(`Invalid storage key "${key}": ${reason}`)
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * Keys are relative, slash-separated paths of plain segments: no "..", no
 * "." segments, no absolute paths, no backslashes or control characters.
 * A prefix (for `delete` and `list`) may end with "/".
 */
export function assertValidStorageKey(key: string, { prefix = false } = {}) {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidStorageKeyError(String(key), 'empty')
  if (key.length > 512) throw new InvalidStorageKeyError(key.slice(0, 40), 'longer than 512 characters')
  const body = prefix && key.endsWith('/') ? key.slice(0, -1) : key
  for (const segment of body.split('/')) {
    if (segment === '..' || segment === '.') throw new InvalidStorageKeyError(key, 'path traversal')
    if (!SEGMENT.test(segment)) throw new InvalidStorageKeyError(key, `bad segment "${segment}"`)
  }
}

/**
 * The core's door to storage: every key is checked before the configured
 * backend sees it.
 */
export class StorageService {
  constructor(private resolve: () => StorageBackend) {}

  get backend() {
    return this.resolve()
  }

  put(key: string, body: Readable | Buffer, meta?: StoredObjectMeta) {
    assertValidStorageKey(key)
    return this.backend.put(key, body, meta)
  }

  get(key: string, options?: { range?: ByteRange }) {
    assertValidStorageKey(key)
    return this.backend.get(key, options)
  }

  head(key: string) {
    assertValidStorageKey(key)
    return this.backend.head(key)
  }

  delete(keyOrPrefix: string) {
    assertValidStorageKey(keyOrPrefix, { prefix: true })
    return this.backend.delete(keyOrPrefix)
  }

  list(prefix: string) {
    assertValidStorageKey(prefix, { prefix: true })
    return this.backend.list(prefix)
  }

  /** What follows the X-Accel-Redirect prefix for this object (StorageBackend.offloadPath). */
  async offloadPath(key: string) {
    assertValidStorageKey(key)
    return (await this.backend.offloadPath?.(key)) ?? key
  }

  /** A small object (a playlist) as text. */
  async readText(key: string) {
    const object = await this.get(key)
    const chunks: Buffer[] = []
    for await (const chunk of object.body) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }

  /** Total bytes under a prefix. */
  async sizeOf(prefix: string) {
    let total = 0
    for await (const object of this.list(prefix)) total += object.size
    return total
  }
}

const storage = new StorageService(() => plugins.storage.getOrFail(app.config.get('storage.backend')))
export default storage
