import playbackConfig from '#config/playback'
import { PlaybackError } from '#exceptions/playback_error'
import type Video from '#models/video'
import plugins from '#services/plugins'
import queues from '#services/queue_service'
import rateLimits from '#services/rate_limit_service'
import watermarkDefaultMode from '#services/watermark/default_mode'
import { variantRenditions, watermarkedRenditions } from '#services/watermark/session_mark'

/** How a new playback session is protected (stored on the session). */
export interface Protection {
  /** The visible just-in-time render naming the viewer (drawn on the chosen variant when also forensic). */
  watermarked: boolean
  /** Served the forensic A/B variant its code selects for every segment. */
  forensic: boolean
}

/** How long a viewer refused because the render pool is busy is told to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 60

/**
 * The render pool is not keeping new visible sessions ahead of realtime: more
 * on-demand renders are waiting than the configured backlog (each waiting
 * render is a player stalled on a segment it needs now).
 */
export async function renderPoolBusy() {
  const { waiting } = await queues.counts('watermark')
  return waiting >= playbackConfig.watermark.admission.maxBacklog
}

/**
 * Decides a new session's protection from the video's mode, the renditions
 * stored with A/B variants and the render pool's load:
 *   - off: nothing; forensic: A/B variants only (the player draws the name);
 *   - visible: the render; both: the render drawn on the selected variant;
 *   - a forensic video without variants (transcoded before the mode was
 *     chosen) falls back to the visible render: never served unmarked;
 *   - when the pool cannot keep up (or no visible watermarker is registered),
 *     a visible or both session starts forensic-only if variants exist, else
 *     is refused with 503 and Retry-After, so those already watching do not stall.
 */
export async function decideProtection(video: Video): Promise<Protection> {
  await watermarkDefaultMode.refresh()
  const mode = video.effectiveWatermarkMode
  if (mode === 'off') return { watermarked: false, forensic: false }
  const hasVariants = variantRenditions(video).length > 0
  if (mode === 'forensic' && hasVariants) return { watermarked: false, forensic: true }

  if (!plugins.watermarks.get(playbackConfig.watermark.watermarker)) {
    if (hasVariants) return { watermarked: false, forensic: true }
    throw new PlaybackError('watermark_unavailable', 503, 'Watermarking is not available on this server right now')
  }
  if (await renderPoolBusy()) {
    if (hasVariants) return { watermarked: false, forensic: true }
    throw new PlaybackError(
      'render_pool_busy',
      503,
      'So many people are watching right now that this video cannot start. Try again in a minute.',
      { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) }
    )
  }
  // Both: the render is drawn on a variant only where the rendition has them.
  const forensic = mode === 'both' && watermarkedRenditions(video).some((r) => r.forensicVariants)
  return { watermarked: true, forensic }
}

/**
 * Counts one render a session asks for; past a realtime player's needs
 * (RATE_LIMIT_WATERMARK_RENDER per session) it is refused with 429 and
 * Retry-After, so one session cannot starve the pool.
 */
export function admitRender(sessionId: string) {
  return rateLimits.consume('watermarkRender', sessionId)
}
