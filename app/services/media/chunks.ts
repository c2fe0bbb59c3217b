import { gopFrames, type PlannedRendition } from '#services/media/ladder'
import type { SpritePlan } from '#services/media/sprite'

/**
 * What every chunk of one segment-parallel transcode encodes: decided once,
 * when the transcode is planned, and stored with each chunk (a setting that
 * changes while the chunks run, the forensic mode say, changes nothing).
 */
export interface ChunkPlan {
  renditions: PlannedRendition[]
  /** Output frame rate (the one-process path's). */
  fps: number
  segmentSeconds: number
  preset: string
  /** Frames of the whole output (`durationSeconds` at `fps`). */
  totalFrames: number
  /** Chunks of video (the soundtrack is one more piece). */
  videoChunks: number
  source: { demuxer: string; durationSeconds: number; width: number; height: number; fps: number; hasAudio: boolean }
  /** Forensic A/B variants are made, chunk by chunk. */
  forensic: boolean
  sprite: SpritePlan
}

export interface ChunkSettings {
  chunkSeconds: number
  minDurationSeconds: number
  segmentSeconds: number
}

export interface ChunkRange {
  startFrame: number
  frameCount: number
}

/** Frames of the output at `fps` for `durationSeconds` (what `-t` keeps: every frame that starts before the end). */
export function outputFrames(durationSeconds: number, fps: number) {
  return Math.max(1, Math.ceil(durationSeconds * fps - 1e-6))
}

/**
 * The chunks of a video's frames, or null when it is transcoded in one
 * piece (shorter than the threshold, chunking off, or a single chunk).
 * Every chunk but the last is whole segments (whole GOPs), so no HLS
 * segment straddles two chunks and the joined playlist is the one-process
 * path's.
 */
export function planChunks(durationSeconds: number, fps: number, settings: ChunkSettings): ChunkRange[] | null {
  if (settings.chunkSeconds <= 0 || settings.minDurationSeconds <= 0 || durationSeconds < settings.minDurationSeconds) return null
  const gop = gopFrames(fps, settings.segmentSeconds)
  const chunkFrames = Math.max(1, Math.round(settings.chunkSeconds / settings.segmentSeconds)) * gop
  const total = outputFrames(durationSeconds, fps)
  if (total <= chunkFrames) return null
  const chunks: ChunkRange[] = []
  for (let start = 0; start < total; start += chunkFrames) {
    chunks.push({ startFrame: start, frameCount: Math.min(chunkFrames, total - start) })
  }
  return chunks
}
