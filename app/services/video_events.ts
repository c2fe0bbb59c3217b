import transmit from '@adonisjs/transmit/services/main'
import type Video from '#models/video'

export interface VideoProgressEvent {
  id: string
  status: string
  progress: number
  lastError: string | null
}

/** Channel the creator's page listens to for one video. */
export const progressChannel = (videoId: string) => `videos/${videoId}/progress`

/** Channel a player listens to for its own playback session. */
export const playbackChannel = (sessionId: string) => `playback/${sessionId}`

/**
 * Pushes an event to the pages listening on a channel (on whichever web node
 * they are open). Best effort: the database stays the truth and pages
 * reload it.
 */
function broadcast(channel: string, event: Record<string, unknown>) {
  try {
    transmit.broadcast(channel, event as any)
  } catch {
    // No subscriber transport available: pages fall back to the stored state.
  }
}

/** Tells the video's page its status and progress. */
export function broadcastVideoProgress(video: Pick<Video, 'id' | 'status' | 'progress' | 'lastError'>) {
  const event: VideoProgressEvent = {
    id: video.id,
    status: video.status,
    progress: video.progress,
    lastError: video.lastError,
  }
  broadcast(progressChannel(video.id), { ...event })
}

/**
 * Tells open players their session was revoked (a ban, a takedown, a
 * refund...): they stop at once instead of playing out what they buffered.
 * The segment URLs are refused anyway.
 */
export function broadcastPlaybackStopped(sessionIds: string[], reason: string) {
  for (const sessionId of sessionIds) broadcast(playbackChannel(sessionId), { stopped: true, reason })
}
