import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import { contentTypeFor } from '#hooks/media_types'
import storage from '#services/storage_service'
import { PlaybackError } from '#exceptions/playback_error'

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

/**
 * Streams a stored object with HTTP Range support (206/416). The response's
 * caching headers are the caller's. A missing object is a 404.
 */
export async function sendStoredObject(response: HttpContext['response'], key: string, rangeHeader: string | undefined) {
  const head = await storage.head(key)
  if (!head) throw new PlaybackError('not_found', 404, 'No such playback resource')
  const range = parseRange(rangeHeader, head.size)
  response.header('Accept-Ranges', 'bytes')
  response.header('Content-Type', head.contentType && head.contentType !== 'application/octet-stream' ? head.contentType : contentTypeFor(key))
  if (range === 'unsatisfiable') {
    response.header('Content-Range', `bytes */${head.size}`)
    throw new PlaybackError('range_not_satisfiable', 416, 'The requested byte range is not satisfiable')
  }
  // The checks are done: nginx sends the bytes (and honours the Range itself)
  // from the location the operator mapped the prefix to.
  const accelPrefix = app.config.get<string | null>('storage.accelRedirectPrefix', null)
  if (accelPrefix) {
    response.header('X-Accel-Redirect', `${accelPrefix}${key}`)
    // An explicit 200: an empty body would otherwise become a 204.
    return response.status(200).send('')
  }
  const object = await storage.get(key, range ? { range } : undefined)
  if (range) {
    response.status(206)
    response.header('Content-Range', `bytes ${range.start}-${range.end}/${head.size}`)
    response.header('Content-Length', String(range.end - range.start + 1))
  } else {
    response.header('Content-Length', String(head.size))
  }
  return response.stream(object.body)
}
