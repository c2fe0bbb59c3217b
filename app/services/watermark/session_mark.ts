import { createHmac } from 'node:crypto'
import env from '#start/env'
import playbackConfig from '#config/playback'
import type Video from '#models/video'
import type { Rendition } from '#models/video'
import type PlaybackSession from '#models/playback_session'
import { hlsKeys } from '#services/media/storage_keys'
import { sessionCode, variantFromCode } from '#services/watermark/forensic_sequence'
import type { ForensicVariant } from '#hooks/contracts'

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

/** Renditions stored with forensic A/B variants of every segment (the only ones a forensic session may play). */
export function variantRenditions(video: Video): Rendition[] {
  return (video.renditions ?? []).filter((r) => r.forensicVariants)
}

/**
 * The renditions a session may play: a forensic session only those stored
 * with A/B variants (never an unmarked one), a visibly watermarked session
 * only those small enough to render per viewer (both: the two at once).
 */
export function sessionRenditions(session: PlaybackSession, video: Video): Rendition[] {
  if (session.watermarked) {
    const visible = watermarkedRenditions(video)
    return session.forensic ? visible.filter((r) => r.forensicVariants) : visible
  }
  return session.forensic ? variantRenditions(video) : (video.renditions ?? [])
}

/**
 * The stored segment a session sees as segment `index` of a rendition: for a
 * forensic session the variant its code selects (variantFor), else the
 * unmarked one. The playback URL names only the logical segment; the variant
 * is resolved here from the session, so the other one has no URL at all. The
 * visible render of a `both` session is drawn on this same object.
 */
export function sessionSegmentKey(session: PlaybackSession, video: Video, rendition: string, index: number) {
  if (!session.forensic) return hlsKeys.segment(video.hlsPrefix, rendition, index)
  const variant = sessionVariant(session, video.id, index) === 'A' ? 'a' : 'b'
  return hlsKeys.variantSegment(video.hlsPrefix, rendition, variant, index)
}

/**
 * A session's code and the variants already derived from it, per session
 * object: the fast path serves every segment of a session from one cached
 * object, so it derives the key and code once, and each segment's bit once,
 * instead of three keyed hashes per request (variantFor gives the same answer).
 */
const sequences = new WeakMap<PlaybackSession, { videoId: string; code: Buffer; variants: Map<number, ForensicVariant> }>()

function sessionVariant(session: PlaybackSession, videoId: string, index: number): ForensicVariant {
  let memo = sequences.get(session)
  if (!memo || memo.videoId !== videoId) {
    memo = { videoId, code: sessionCode(session.id, videoId), variants: new Map() }
    sequences.set(session, memo)
  }
  let variant = memo.variants.get(index)
  if (!variant) {
    variant = variantFromCode(memo.code, index)
    memo.variants.set(index, variant)
  }
  return variant
}

/** The name a forensic session's player draws over the picture, and where (fractions of the frame). */
export interface PlayerOverlay {
  text: string
  /** The name jumps to the next position this often (seconds of video time). */
  intervalSeconds: number
  /** Position of slot i (video time i × interval onwards): [left, top], each in [0, 1). */
  positions: Array<[number, number]>
}

/** Bounds the overlay's size for very long videos (slots past it wrap around). */
const MAX_OVERLAY_SLOTS = 2000

/**
 * The moving name a forensic session's player draws as a deterrent (the
 * forensic mark itself is invisible). Positions come from the session's seed,
 * so they differ per session and nobody can predict them from the outside.
 */
export function playerOverlay(session: PlaybackSession, video: Video): PlayerOverlay {
  const intervalSeconds = playbackConfig.watermark.intervalSeconds
  const slots = Math.min(MAX_OVERLAY_SLOTS, Math.ceil((video.durationSeconds ?? 0) / intervalSeconds) + 1)
  const seed = watermarkSeed(session.id)
  const positions: Array<[number, number]> = []
  for (let slot = 0; slot < slots; slot++) {
    const digest = createHmac('sha256', seed).update(`overlay:${slot}`).digest()
    positions.push([Math.round((digest.readUInt32BE(0) / 2 ** 32) * 1000) / 1000, Math.round((digest.readUInt32BE(4) / 2 ** 32) * 1000) / 1000])
  }
  return { text: session.watermarkText ?? '', intervalSeconds, positions }
}
