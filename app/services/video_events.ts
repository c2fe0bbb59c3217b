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

/**
 * Tells the video's page (on whichever web node it is open) its status and
 * progress. Best effort: the database stays the truth and pages reload it.
 */
export function broadcastVideoProgress(video: Pick<Video, 'id' | 'status' | 'progress' | 'lastError'>) {
  const event: VideoProgressEvent = {
    id: video.id,
    status: video.status,
    progress: video.progress,
    lastError: video.lastError,
  }
  try {
    transmit.broadcast(progressChannel(video.id), event as any)
  } catch {
    // No subscriber transport available: pages fall back to the stored state.
  }
}
