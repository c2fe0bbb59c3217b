import { createHmac } from 'node:crypto'
import type { ForensicVariant } from '#hooks/contracts'
import { forensicKey } from '#services/media/forensic_variants'

/**
 * A playback session's forensic code: an HMAC of its id under the video's
 * forensic key. Whoever lacks APP_KEY cannot tell which variants a session
 * is served, nor forge another session's sequence.
 */
export function sessionCode(sessionId: string, videoId: string, key = forensicKey(videoId)): Buffer {
  return createHmac('sha256', key).update(`session:${sessionId}`).digest()
}

/**
 * The variant a session is served for segment `segmentIndex`: one keyed
 * pseudo-random bit per (session, segment), independent of every other
 * segment's. Why not a fixed-length codeword repeated: a clip may start at
 * any segment and cover any number of them, and with independent bits an
 * innocent session's expected bits are fair coins against whatever a clip
 * reads, which is what the tracer's false-accusation bound rests on.
 * The segment path (serving) and the tracer must both use this function.
 */
export function variantFor(sessionId: string, videoId: string, segmentIndex: number, key = forensicKey(videoId)): ForensicVariant {
  return variantFromCode(sessionCode(sessionId, videoId, key), segmentIndex)
}

/** The variant of segment `segmentIndex` for a session's code (see variantFor). */
export function variantFromCode(code: Buffer, segmentIndex: number): ForensicVariant {
  const bit = createHmac('sha256', code).update(`segment:${segmentIndex}`).digest()[0] & 1
  return bit ? 'A' : 'B'
}

/** A session's expected signs for segments: +1 where it is served A, −1 where B (what a soft bit reads). */
export function expectedSigns(sessionId: string, videoId: string, segmentIndices: number[], key = forensicKey(videoId)): number[] {
  const code = sessionCode(sessionId, videoId, key)
  return segmentIndices.map((index) => (variantFromCode(code, index) === 'A' ? 1 : -1))
}
