import { createHmac } from 'node:crypto'
import env from '#start/env'
import playbackConfig from '#config/playback'
import type Video from '#models/video'
import type { Rendition } from '#models/video'

const seedKey = createHmac('sha256', env.get('APP_KEY').release()).update('matinee:watermark-seed').digest()

/** The per-session secret a watermark's schedule (where the name moves) is derived from. */
export function watermarkSeed(sessionId: string) {
  return createHmac('sha256', seedKey).update(sessionId).digest()
}

/**
 * Renditions offered with a visible watermark: up to the configured height
 * (at least the smallest), since every segment of them is rendered per viewer.
 */
export function watermarkedRenditions(video: Video): Rendition[] {
  const shortSide = (r: Rendition) => Math.min(r.width, r.height)
  const all = [...(video.renditions ?? [])].sort((a, b) => shortSide(a) - shortSide(b))
  const fitting = all.filter((r) => shortSide(r) <= playbackConfig.watermark.maxHeight)
  return fitting.length ? fitting : all.slice(0, 1)
}
