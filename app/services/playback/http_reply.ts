import type { HttpContext } from '@adonisjs/core/http'
import type { PlaybackReply } from '#services/playback_service'
import { sendStoredObject } from '#services/media/stored_object'

/**
 * Writes what playback decided to send. Nothing of a session may be cached
 * by anyone but the viewer; segments may be handed to nginx (offload).
 */
export function writePlaybackReply(response: HttpContext['response'], reply: PlaybackReply) {
  const keep = reply.kind === 'object' && reply.cacheSeconds
  response.header('Cache-Control', keep ? `private, max-age=${keep}` : 'private, no-store')
  if (reply.kind === 'playlist' || reply.kind === 'webvtt') {
    response.header('Content-Type', reply.kind === 'playlist' ? 'application/vnd.apple.mpegurl' : 'text/vtt; charset=utf-8')
    return response.send(reply.text)
  }
  return sendStoredObject(response, reply, { offload: true })
}
