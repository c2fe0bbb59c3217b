import { execFile } from 'node:child_process'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import mediaConfig from '#config/media'
import Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import storage from '#services/storage_service'
import { hlsKeys } from '#services/media/storage_keys'
import { MediaRejectedError, inputArgs } from '#services/media/ffmpeg'
import { probe } from '#services/media/probe'
import { forensicKey, forensicWatermarker } from '#services/media/forensic_variants'
import { expectedSigns } from '#services/watermark/forensic_sequence'

/**
 * Tracing a leaked clip to the playback session it was recorded from.
 *
 * Informed detection: the platform holds the unmarked rendition and the key.
 * Both the clip and the rendition are decoded to small grey frames at a fixed
 * rate (so frame rate and resolution no longer matter); the clip is placed in
 * time by correlating coarse thumbnails; each frame's brightness and contrast
 * are matched to the reference frame's; the difference is averaged over each
 * segment the clip covers and the watermarker reads one soft bit from it.
 * Every session of the video is then scored against the signs its code
 * selects (forensic_sequence.ts).
 */

/** Frames per second both files are decoded at. */
const RATE = 10
/** The detection resolution (the mark has 1-3 cycles across the frame). */
const WIDTH = 160
const HEIGHT = 90
/** The alignment thumbnails: the detection frames averaged in BLOCK × BLOCK squares (32×18). */
const BLOCK = 5
/** Below this mean thumbnail correlation at the best offset, the clip is not of this video. */
const MIN_ALIGNMENT = 0.5
/**
 * A picture that repeats (a loop, a test pattern, a static shot) aligns about
 * as well at several offsets, and a clip read at the wrong one reads chance
 * bits. Every offset whose alignment is within this margin of the best is
 * read too (the 0.996 of the wrong offset in the bench was within 0.002).
 */
const ALIGNMENT_MARGIN = 0.02
/** At most this many such offsets: each one tried widens the bound (Bonferroni), so the clip must be longer. */
const MAX_OFFSETS = 8
/** Candidate offsets are at least this far apart (one second): neighbouring frames of one match are the same match. */
const OFFSET_SEPARATION = RATE
/** Frames this close to a segment boundary are not used (alignment is to one frame, rates may differ). */
const BOUNDARY_SECONDS = 0.15
/** A segment is read when the clip covers at least this fraction of it. */
const MIN_COVERAGE = 0.4
/** Soft bits are weighed in steps of 1/QUANTA, so the null distribution is computed exactly. */
const QUANTA = 50

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A trace that cannot be done, with what to tell the person who asked. */
export class TraceRefusedError extends Error {
  code = 'E_TRACE_REFUSED'
}

export interface TracedSession {
  sessionId: string
  userId: number
  username: string
  startedAt: string
  userAgent: string
  /** Σ weight × agreement of the read bits with the session's expected signs. */
  score: number
  /** The chance that an innocent session scores at least this high (exact, given the read bits). */
  pValue: number
}

export interface TraceResult {
  videoId: string
  videoTitle: string
  /** Where in the video the clip starts, and how well it matched there (mean frame correlation): the winning candidate offset. */
  offsetSeconds: number
  alignment: number
  /** How many offsets aligned within the margin of the best and were read (the bound is shared among them). */
  offsetsTried: number
  /** Each offset read, best aligned first, with the best session's p-value there (null: too few segments read, or no sessions). */
  candidates: Array<{ offsetSeconds: number; alignment: number; segmentsRead: number; bestPValue: number | null }>
  rendition: string
  /** One soft bit per segment the clip covers: near +1 reads A, near −1 reads B. */
  segments: Array<{ index: number; softBit: number }>
  sessionsScored: number
  /** config/media.ts forensic.falseAccusationBound. */
  bound: number
  /** The session named (p-value × sessions scored ÷ its offset's share of the bound ≤ bound: ½ for the best aligned, ½ shared by the others), or null. */
  named: TracedSession | null
  /** The best-scoring session, named or not. */
  best: TracedSession | null
  message: string
}

interface RenditionSegment {
  index: number
  start: number
  end: number
}

/** Grey frames of one file at RATE fps, WIDTH × HEIGHT, one byte per pixel. */
async function decodeFrames(path: string, demuxer: string | null, timeoutMs: number): Promise<Uint8Array[]> {
  const input = demuxer ? inputArgs(path, demuxer) : ['-protocol_whitelist', 'file', '-i', path]
  const stdout = await new Promise<Buffer>((resolve, reject) =>
    execFile(
      'ffmpeg',
      ['-v', 'error', ...input, '-map', '0:v:0', '-an', '-sn', '-vf', `fps=${RATE},scale=${WIDTH}:${HEIGHT}:flags=area,format=gray`, '-f', 'rawvideo', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 4 * 1024 ** 3, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, out, err) => (error ? reject(new Error(`ffmpeg could not decode ${path}: ${String(err).slice(-300) || error.message}`)) : resolve(out))
    )
  )
  const size = WIDTH * HEIGHT
  const frames: Uint8Array[] = []
  for (let offset = 0; offset + size <= stdout.length; offset += size) frames.push(stdout.subarray(offset, offset + size))
  return frames
}

/** A frame's coarse thumbnail, mean removed and scaled to unit length (zero for a flat frame). */
function signature(frame: Uint8Array): Float32Array {
  const w = WIDTH / BLOCK
  const h = HEIGHT / BLOCK
  const thumb = new Float32Array(w * h)
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) thumb[Math.floor(y / BLOCK) * w + Math.floor(x / BLOCK)] += frame[y * WIDTH + x]
  }
  let mean = 0
  for (const value of thumb) mean += value
  mean /= thumb.length
  let norm = 0
  for (let i = 0; i < thumb.length; i++) {
    thumb[i] -= mean
    norm += thumb[i] * thumb[i]
  }
  norm = Math.sqrt(norm)
  if (norm < 1e-3 * thumb.length) return thumb.fill(0)
  for (let i = 0; i < thumb.length; i++) thumb[i] /= norm
  return thumb
}

/**
 * The mean signature correlation of the clip placed at each offset (in
 * reference frames) of the reference. It depends on the clip and the unmarked
 * rendition only, never on a session, so it cannot bias a score.
 */
function alignmentCurve(clip: Float32Array[], reference: Float32Array[]) {
  const curve: number[] = []
  const slack = 2
  for (let offset = 0; offset + clip.length <= reference.length + slack; offset++) {
    let sum = 0
    let count = 0
    for (let k = 0; k < clip.length && offset + k < reference.length; k++) {
      const a = clip[k]
      const b = reference[offset + k]
      let dot = 0
      for (let i = 0; i < a.length; i++) dot += a[i] * b[i]
      sum += dot
      count++
    }
    curve.push(count ? sum / count : -Infinity)
  }
  return curve
}

/**
 * The offsets where the clip aligns within `margin` of the best one, best
 * first, each the highest of its neighbourhood (offsets closer than
 * `separation` to a kept one are the same match), at most `limit` of them.
 * Always at least one (the best) when the curve is not empty.
 */
export function candidateOffsets(curve: number[], { margin = ALIGNMENT_MARGIN, limit = MAX_OFFSETS, separation = OFFSET_SEPARATION } = {}) {
  // Ties go to the earlier offset, so the result is deterministic.
  const order = curve.map((_, offset) => offset).sort((a, b) => curve[b] - curve[a] || a - b)
  const kept: Array<{ offset: number; correlation: number }> = []
  for (const offset of order) {
    if (kept.length >= limit || (kept.length && curve[offset] < kept[0].correlation - margin)) break
    if (kept.some((k) => Math.abs(k.offset - offset) < separation)) continue
    kept.push({ offset, correlation: curve[offset] })
  }
  return kept
}

/** The offset (in reference frames) where the clip's signatures correlate best with the reference's, and that mean correlation. */
export function alignClip(clip: Float32Array[], reference: Float32Array[]) {
  return candidateOffsets(alignmentCurve(clip, reference), { limit: 1 })[0] ?? { offset: 0, correlation: -Infinity }
}

/**
 * Per segment, the clip minus the reference, each frame first matched to its
 * reference frame's brightness and contrast (least squares c ≈ a·r + b), so a
 * brightened or contrast-changed copy reads like the original.
 */
function segmentDifferences(clip: Uint8Array[], reference: Uint8Array[], offset: number, segments: RenditionSegment[]) {
  const sums = new Map<number, { sum: Float64Array; frames: number }>()
  for (let k = 0; k < clip.length; k++) {
    const j = offset + k
    if (j >= reference.length) break
    const time = (j + 0.5) / RATE
    const segment = segments.find((s) => time >= s.start && time < s.end)
    if (!segment || time - segment.start < BOUNDARY_SECONDS || segment.end - time < BOUNDARY_SECONDS) continue
    const c = clip[k]
    const r = reference[j]
    const n = c.length
    let meanC = 0
    let meanR = 0
    for (let i = 0; i < n; i++) {
      meanC += c[i]
      meanR += r[i]
    }
    meanC /= n
    meanR /= n
    let cov = 0
    let varR = 0
    for (let i = 0; i < n; i++) {
      cov += (c[i] - meanC) * (r[i] - meanR)
      varR += (r[i] - meanR) ** 2
    }
    const gain = varR > 0 ? cov / varR : 0
    if (gain < 0.2) continue // a flat, clipped or unrelated frame tells nothing
    let entry = sums.get(segment.index)
    if (!entry) sums.set(segment.index, (entry = { sum: new Float64Array(n), frames: 0 }))
    for (let i = 0; i < n; i++) entry.sum[i] += (c[i] - meanC) / gain - (r[i] - meanR)
    entry.frames++
  }
  const perSegment = new Map<number, Float32Array>()
  for (const segment of segments) {
    const entry = sums.get(segment.index)
    const usable = (segment.end - segment.start - 2 * BOUNDARY_SECONDS) * RATE
    if (!entry || entry.frames < Math.max(2, MIN_COVERAGE * usable)) continue
    perSegment.set(segment.index, Float32Array.from(entry.sum, (value) => value / entry!.frames))
  }
  return perSegment
}

/**
 * P(Σ ±w_i ≥ t) for independent fair signs: the null distribution of an
 * innocent session's score (its expected signs are keyed coin flips that
 * know nothing of the clip). Exact, by convolution over integer weights.
 */
export function nullTail(weights: number[]) {
  const total = weights.reduce((sum, w) => sum + w, 0)
  // probability[s + total] = P(Σ = s)
  let probability = new Float64Array(2 * total + 1)
  probability[total] = 1
  for (const w of weights) {
    if (w === 0) continue
    const next = new Float64Array(probability.length)
    for (let s = 0; s < probability.length; s++) {
      const p = probability[s]
      if (p === 0) continue
      next[s - w] += p / 2
      next[s + w] += p / 2
    }
    probability = next
  }
  const tail = new Float64Array(probability.length + 1)
  for (let s = probability.length - 1; s >= 0; s--) tail[s] = tail[s + 1] + probability[s]
  return (score: number) => (score > total ? 0 : score < -total ? 1 : Math.min(1, tail[score + total]))
}

/**
 * The midpoint between the means of the two groups that split the values
 * with the least squared error (1-D two-means, exact over all splits of the
 * sorted values).
 */
export function twoGroupCentre(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  const n = sorted.length
  if (n < 2) return 0
  const sum = [0]
  const squares = [0]
  for (const value of sorted) {
    sum.push(sum.at(-1)! + value)
    squares.push(squares.at(-1)! + value * value)
  }
  const error = (from: number, to: number) => squares[to] - squares[from] - (sum[to] - sum[from]) ** 2 / (to - from)
  let best = { error: Infinity, centre: 0 }
  for (let k = 1; k < n; k++) {
    const total = error(0, k) + error(k, n)
    if (total < best.error) best = { error: total, centre: (sum[k] / k + (sum[n] - sum[k]) / (n - k)) / 2 }
  }
  return best.centre
}

/** The fewest read segments for which even a perfect match can pass the bound among `sessions`. */
export function minimumSegments(sessions: number, bound = mediaConfig.forensic.falseAccusationBound) {
  return Math.max(1, Math.ceil(Math.log2(Math.max(1, sessions) / bound)))
}

/**
 * The session whose expected signs agree best with the soft bits `read`, and
 * the exact chance an innocent session scores as high.
 */
function bestSession(read: Array<{ index: number; softBit: number }>, sessions: PlaybackSession[], videoId: string, key: ReturnType<typeof forensicKey>) {
  // A re-encode that clips or bends the levels leaves a content residual
  // that leans every segment's reading the same way (A +0.0 and B −0.45
  // seen, or A +0.2 and B −0.42): the readings fall in two groups around a
  // shifted centre, which is taken off (the midpoint of the best split into
  // two groups; a median would sit inside the larger group). It is computed
  // from the clip alone, so an innocent session's expected signs stay fair
  // coins against the result and the null distribution below stays exact.
  const centre = twoGroupCentre(read.map(({ softBit }) => softBit))
  const centred = read.map(({ softBit }) => softBit - centre)
  const weights = centred.map((bit) => Math.round(Math.min(1, Math.abs(bit)) * QUANTA))
  const signs = centred.map((bit) => Math.sign(bit))
  const tail = nullTail(weights)
  const indices = read.map(({ index }) => index)
  let best: TracedSession | null = null
  for (const session of sessions) {
    const expected = expectedSigns(session.id, videoId, indices, key)
    const score = weights.reduce((sum, w, i) => sum + w * signs[i] * expected[i], 0)
    if (best && score <= best.score) continue
    best = {
      sessionId: session.id,
      userId: session.userId,
      username: session.user.username,
      startedAt: session.createdAt.toISO()!,
      userAgent: session.userAgent,
      score,
      pValue: tail(score),
    }
  }
  return best
}

async function downloadRendition(video: Video, renditionName: string, playlistPath: string, out: string) {
  const text = await readText(hlsKeys.file(video.hlsPrefix, playlistPath))
  const map = text.match(/#EXT-X-MAP:URI="([^"]+)"/)
  if (!map) throw new Error(`${playlistPath} has no init segment`)
  const segments: RenditionSegment[] = []
  let start = 0
  for (const match of text.matchAll(/#EXTINF:([\d.]+),?[^\n]*\n(?:#[^\n]*\n)*seg_(\d+)\.m4s/g)) {
    const duration = Number(match[1])
    segments.push({ index: Number(match[2]), start, end: start + duration })
    start += duration
  }
  // One file: the init segment followed by the media segments (fMP4 fragments concatenate).
  const file = await open(out, 'w')
  try {
    for (const key of [hlsKeys.init(video.hlsPrefix, renditionName, map[1]), ...segments.map((s) => hlsKeys.segment(video.hlsPrefix, renditionName, s.index))]) {
      const object = await storage.get(key)
      for await (const chunk of object.body as Readable) await file.write(chunk as Buffer)
    }
  } finally {
    await file.close()
  }
  return segments
}

async function readText(key: string) {
  const object = await storage.get(key)
  const chunks: Buffer[] = []
  for await (const chunk of object.body as Readable) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Traces the clip at `clipPath` to one playback session of video `videoId`.
 * Throws TraceRefusedError (with the reason) for a file that is not a video
 * clip, a clip of another video, a clip too short to name anyone within the
 * bound, or a video without forensic variants.
 */
export async function traceLeak(clipPath: string, videoId: string, options: { bound?: number } = {}): Promise<TraceResult> {
  const bound = options.bound ?? mediaConfig.forensic.falseAccusationBound
  const video = UUID.test(videoId) ? await Video.find(videoId) : null
  if (!video) throw new TraceRefusedError(`There is no video ${videoId}.`)
  const rendition = [...(video.renditions ?? [])].filter((r) => r.forensicVariants).sort((a, b) => b.width * b.height - a.width * a.height)[0]
  if (!rendition) throw new TraceRefusedError(`"${video.title}" has no forensic variants (its watermark mode is ${video.watermarkMode ?? 'the default'}): no session can be traced.`)

  let clipInfo
  try {
    clipInfo = await probe(clipPath)
  } catch (error) {
    if (error instanceof MediaRejectedError) throw new TraceRefusedError(error.message)
    throw error
  }

  const sessions = await PlaybackSession.query().where('videoId', video.id).preload('user').orderBy('createdAt', 'asc')
  const neededSegments = minimumSegments(sessions.length, bound)
  const neededSeconds = Math.ceil((neededSegments + 1) * mediaConfig.segmentSeconds)
  if (clipInfo.durationSeconds < neededSegments * mediaConfig.segmentSeconds * MIN_COVERAGE) {
    throw new TraceRefusedError(
      `The clip is too short: at least ${neededSeconds} s is needed to name one of this video's ${sessions.length} sessions within the ${bound} bound (it is ${clipInfo.durationSeconds.toFixed(1)} s).`
    )
  }

  const work = await mkdtemp(join(tmpdir(), 'matinee-trace-'))
  try {
    const referencePath = join(work, 'reference.mp4')
    const segments = await downloadRendition(video, rendition.name, rendition.playlist, referencePath)
    const timeoutMs = (60 + 4 * (clipInfo.durationSeconds + (segments.at(-1)?.end ?? 0))) * 1000
    const [clip, reference] = await Promise.all([decodeFrames(clipPath, clipInfo.demuxer, timeoutMs), decodeFrames(referencePath, null, timeoutMs)])
    if (clip.length < 2) throw new TraceRefusedError('The clip has no moving picture (a still image is not a clip).')

    const candidates = candidateOffsets(alignmentCurve(clip.map(signature), reference.map(signature)))
    const correlation = candidates[0]?.correlation ?? -Infinity
    if (!(correlation >= MIN_ALIGNMENT)) {
      throw new TraceRefusedError(`The clip does not match this video: no part of "${video.title}" looks like it (best match ${Math.max(0, correlation).toFixed(2)}, ${MIN_ALIGNMENT} needed).`)
    }

    const watermarker = forensicWatermarker()
    const key = forensicKey(video.id)
    // Every offset that aligns about as well is read and scored; the bound is
    // shared among all of them (Bonferroni over offsets × sessions), so
    // trying more places cannot raise the chance of accusing an innocent.
    const readings = candidates.map(({ offset, correlation: alignment }) => ({
      offset,
      alignment,
      read: [...segmentDifferences(clip, reference, offset, segments)].map(([index, difference]) => ({ index, softBit: watermarker.score({ key, width: WIDTH, height: HEIGHT, difference }) })),
    }))
    const usable = readings.filter(({ read }) => read.length >= neededSegments)
    if (usable.length === 0) {
      const most = Math.max(...readings.map(({ read }) => read.length))
      throw new TraceRefusedError(
        `The clip is too short: it covers ${most} segments of "${video.title}", at least ${neededSegments} (about ${neededSeconds} s) are needed to name one of its ${sessions.length} sessions within the ${bound} bound.`
      )
    }
    const offsetsTried = candidates.length
    // Weighted Bonferroni: the best-aligned offset keeps half the bound (so a
    // clip that does not repeat needs barely more than before), the others
    // share the other half. The weights follow the alignment alone, never a
    // session's score, so the total chance of naming an innocent stays ≤ bound.
    const share = (rank: number) => (offsetsTried === 1 ? 1 : rank === 0 ? 1 / 2 : 1 / (2 * (offsetsTried - 1)))
    const adjusted = (rank: number, pValue: number) => (pValue * sessions.length) / share(rank)

    const scored = readings.map((reading, rank) => ({
      ...reading,
      rank,
      best: sessions.length && reading.read.length >= neededSegments ? bestSession(reading.read, sessions, video.id, key) : null,
    }))
    // The offset whose best session is least likely by chance (ties: the better alignment, listed first).
    const winner = scored
      .filter(({ read }) => read.length >= neededSegments)
      .reduce((chosen, next) => (next.best && chosen.best && adjusted(next.rank, next.best.pValue) < adjusted(chosen.rank, chosen.best.pValue) ? next : chosen))
    const base = {
      videoId: video.id,
      videoTitle: video.title,
      offsetSeconds: winner.offset / RATE,
      alignment: winner.alignment,
      offsetsTried,
      candidates: scored.map(({ offset, alignment, read, best }) => ({ offsetSeconds: offset / RATE, alignment, segmentsRead: read.length, bestPValue: best?.pValue ?? null })),
      rendition: rendition.name,
      segments: winner.read,
      sessionsScored: sessions.length,
      bound,
    }
    const best = winner.best
    if (!best) return { ...base, named: null, best: null, message: 'No session matches: nobody has played this video.' }

    const places = offsetsTried === 1 ? '' : ` at ${offsetsTried} offsets that align about as well (the clip's picture repeats)`
    const named = adjusted(winner.rank, best.pValue) <= bound ? best : null
    const message = named
      ? `Session ${named.sessionId} of ${named.username} (started ${named.startedAt}, ${named.userAgent || 'no user agent'}): an innocent session would score this high with probability ${named.pValue.toExponential(2)}; among ${sessions.length} sessions${places}, ${adjusted(winner.rank, named.pValue).toExponential(2)} ≤ ${bound}.`
      : `No session matches: the best of ${sessions.length} sessions${places} would be matched this well by an innocent one with probability ${best.pValue.toExponential(2)}, above the ${bound} bound.`
    return { ...base, named, best, message }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
