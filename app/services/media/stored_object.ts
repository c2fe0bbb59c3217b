import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import { contentTypeFor } from '#hooks/media_types'
import storage from '#services/storage_service'
import hotObjects from '#services/media/hot_objects'
import { isSharedMediaKey } from '#services/media/storage_keys'

/**
 * One byte range from a `Range` header, for an object of `size` bytes.
 * Returns null when there is no header, 'unsatisfiable' when the header is
 * malformed, asks for several ranges, or lies outside the object (all 416:
 * we never guess what a broken client meant).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (header === undefined) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return 'unsatisfiable'
  let start: number
  let end: number
  if (match[1] === '') {
    // Suffix range: the last n bytes.
    const length = Number(match[2])
    if (length === 0) return 'unsatisfiable'
    start = Math.max(0, size - length)
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
    if (match[2] !== '' && Number(match[2]) < start) return 'unsatisfiable'
  }
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable'
  return { start, end }
}

export type ByteRange = { start: number; end: number }

/** A stored object ready to send: what its head says, and the part asked for. */
export interface StoredObjectReply {
  kind: 'object'
  key: string
  size: number
  contentType: string
  /** The byte range asked for (206), or null for the whole object (200). */
  range: ByteRange | null
  /** The whole object, when this web node holds it in memory (hot_objects.ts). */
  bytes?: Buffer
}

export type StoredObjectLookup = StoredObjectReply | { kind: 'missing' } | { kind: 'unsatisfiable'; size: number }

/**
 * What sending a stored object would be: its head and the range a `Range`
 * header asks for. Nothing is read yet; the caller decides what a missing
 * object or a bad range means to its client.
 */
export async function lookUpStoredObject(key: string, rangeHeader: string | undefined): Promise<StoredObjectLookup> {
  // A video's segments come from this node's memory (read whole on first use);
  // when nginx sends the files, only their heads are held. Anything else is
  // looked up in storage.
  const held = isSharedMediaKey(key) && hotObjects.enabled
  const offloaded = accelRedirectPrefix() !== null
  const hot = held && !offloaded ? await hotObjects.load(key) : null
  const head = hot ? { size: hot.bytes.length, contentType: hot.contentType } : held && offloaded ? await hotObjects.head(key) : await storage.head(key)
  if (!head) return { kind: 'missing' }
  const range = parseRange(rangeHeader, head.size)
  if (range === 'unsatisfiable') return { kind: 'unsatisfiable', size: head.size }
  const contentType = head.contentType && head.contentType !== 'application/octet-stream' ? head.contentType : contentTypeFor(key)
  return { kind: 'object', key, size: head.size, contentType, range, ...(hot ? { bytes: hot.bytes } : {}) }
}

const accelRedirectPrefix = () => app.config.get<string | null>('storage.accelRedirectPrefix', null)

/** The `Content-Range` of a 416: the object's size, so the client can ask again. */
export const unsatisfiableContentRange = (size: number) => `bytes */${size}`

/**
 * Writes a stored object with HTTP Range support (200/206). Caching headers
 * are the caller's. With `offload`, behind nginx with local storage, the
 * response only names the object and nginx sends the bytes.
 */
export async function sendStoredObject(response: HttpContext['response'], object: StoredObjectReply, options: { offload?: boolean } = {}) {
  response.header('Accept-Ranges', 'bytes')
  response.header('Content-Type', object.contentType)
  // The checks are done: nginx sends the bytes (and honours the Range itself)
  // from the location the operator mapped the prefix to.
  const accelPrefix = options.offload ? accelRedirectPrefix() : null
  if (accelPrefix) {
    response.header('X-Accel-Redirect', `${accelPrefix}${await storage.offloadPath(object.key)}`)
    // An explicit 200: an empty body would otherwise become a 204.
    return response.status(200).send('')
  }
  const { range, bytes } = object
  if (bytes) {
    // Held in memory: one write of the part asked for (no ETag: hashing it per request costs more than sending it).
    if (range) {
      response.status(206)
      response.header('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`)
    }
    return response.send(range ? bytes.subarray(range.start, range.end + 1) : bytes, false)
  }
  const stored = await storage.get(object.key, range ? { range } : undefined)
  if (range) {
    response.status(206)
    response.header('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`)
    response.header('Content-Length', String(range.end - range.start + 1))
  } else {
    response.header('Content-Length', String(object.size))
  }
  return response.stream(stored.body)
}
