import type { HttpContext } from '@adonisjs/core/http'
import type { PlaybackReply } from '#services/playback_service'
import { sendStoredObject } from '#services/media/stored_object'

/**
 * Writes what playback decided to send. Nothing of a session may be cached
 * by anyone but the viewer; segments may be handed to nginx (offload).
 */
export function writePlaybackReply(response: HttpContext['response'], reply: PlaybackReply) {
  response.header('Cache-Control', 'private, no-store')
  if (reply.kind === 'playlist') {
    response.header('Content-Type', 'application/vnd.apple.mpegurl')
    return response.send(reply.text)
  }
  return sendStoredObject(response, reply, { offload: true })
}
