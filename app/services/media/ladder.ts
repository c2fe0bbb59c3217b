import type { LadderRung } from '#config/media'
import type { ProbeResult } from '#services/media/probe'
import { inputArgs } from '#services/media/ffmpeg'
import { spriteFilter, type SpritePlan } from '#services/media/sprite'

export interface PlannedRendition {
  name: string
  width: number
  height: number
  videoKbps: number
  audioKbps: number
}

const even = (value: number) => Math.max(2, Math.round(value / 2) * 2)

/**
 * The renditions for a source: every rung whose short side fits in the
 * source's short side (never upscale), in the source's orientation and
 * aspect ratio. A source below the lowest rung gets one rendition at its size.
 */
export function planLadder(source: Pick<ProbeResult, 'width' | 'height'>, rungs: LadderRung[]): PlannedRendition[] {
  const landscape = source.width >= source.height
  const short = Math.min(source.width, source.height)
  const size = (lines: number) =>
    landscape
      ? { width: even((source.width * lines) / source.height), height: even(lines) }
      : { width: even(lines), height: even((source.height * lines) / source.width) }

  const fitting = rungs.filter((rung) => rung.lines <= short)
  if (fitting.length === 0) {
    const lowest = [...rungs].sort((a, b) => a.lines - b.lines)[0]
    return [{ name: `${even(short)}p`, ...size(short), videoKbps: lowest.videoKbps, audioKbps: lowest.audioKbps }]
  }
  return fitting.map((rung) => ({ name: rung.name, ...size(rung.lines), videoKbps: rung.videoKbps, audioKbps: rung.audioKbps }))
}

/** Capped bitrate for a rendition: `-b:v`, `-maxrate` and `-bufsize` values (kbps). */
export function rateControl(videoKbps: number) {
  return { bitrate: `${videoKbps}k`, maxrate: `${Math.round(videoKbps * 1.07)}k`, bufsize: `${Math.round(videoKbps * 1.5)}k` }
}

/** Output frame rate: the source's average, rounded, capped (VFR becomes CFR). */
export function outputFps(sourceFps: number, maxFps: number) {
  const fps = Math.round(sourceFps * 1000) / 1000
  return Math.min(maxFps, fps > 0 ? fps : 30)
}

/** Frames per GOP so that every segment starts on a keyframe. */
export function gopFrames(fps: number, segmentSeconds: number) {
  return Math.max(1, Math.round(fps * segmentSeconds))
}

export interface HlsCommandInput {
  input: string
  /** The demuxer ffprobe named for the input (it is read with nothing else). */
  demuxer: string
  outDir: string
  renditions: PlannedRendition[]
  fps: number
  segmentSeconds: number
  durationSeconds: number
  hasAudio: boolean
  preset: string
  /** Also write a thumbnail sprite from the same decode. */
  sprite?: SpritePlan & { path: string }
  progress?: boolean
}

/**
 * One FFmpeg process for every rendition: a single decode, scaled down rung
 * by rung, encoded to CMAF (fMP4) HLS with a master playlist. A source
 * without audio gets a silent stereo track so every rendition has audio.
 */
export function hlsCommand(options: HlsCommandInput): string[] {
  const { renditions, fps, segmentSeconds } = options
  const gop = gopFrames(fps, segmentSeconds)
  // Scale in a cascade, largest rung first, each smaller rung from the one
  // above it: one decode, and every scaler works on the smallest input it can.
  const order = renditions.map((rendition, index) => ({ rendition, index })).sort((a, b) => b.rendition.height - a.rendition.height)
  const filters = [options.sprite ? `[0:v]fps=${fps},split=2[c0][spritein]` : `[0:v]fps=${fps}[c0]`]
  order.forEach(({ rendition, index }, k) => {
    const scale = `scale=${rendition.width}:${rendition.height},setsar=1`
    filters.push(k < order.length - 1 ? `[c${k}]${scale},split=2[v${index}][c${k + 1}]` : `[c${k}]${scale}[v${index}]`)
  })
  if (options.sprite) filters.push(`[spritein]${spriteFilter(options.sprite)}[sprite]`)

  const args = ['-hide_banner', '-y', '-loglevel', 'error']
  if (options.progress) args.push('-progress', 'pipe:1', '-nostats')
  args.push(...inputArgs(options.input, options.demuxer))
  if (!options.hasAudio) args.push('-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000')
  args.push('-filter_complex', filters.join(';'))

  renditions.forEach((rendition, i) => {
    const rate = rateControl(rendition.videoKbps)
    args.push('-map', `[v${i}]`, '-map', options.hasAudio ? '0:a:0' : '1:a:0')
    args.push(
      `-c:v:${i}`, 'libx264',
      `-b:v:${i}`, rate.bitrate,
      `-maxrate:v:${i}`, rate.maxrate,
      `-bufsize:v:${i}`, rate.bufsize,
      `-c:a:${i}`, 'aac',
      `-b:a:${i}`, `${rendition.audioKbps}k`
    )
  })
  args.push(
    '-preset', options.preset,
    '-profile:v', 'high',
    '-pix_fmt', 'yuv420p',
    '-g', String(gop),
    '-keyint_min', String(gop),
    '-sc_threshold', '0',
    '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`,
    '-ac', '2',
    '-ar', '48000',
    '-t', options.durationSeconds.toFixed(3),
    '-f', 'hls',
    '-hls_time', String(segmentSeconds),
    '-hls_playlist_type', 'vod',
    '-hls_flags', 'independent_segments',
    '-hls_segment_type', 'fmp4',
    '-hls_fmp4_init_filename', 'init.mp4',
    '-hls_segment_filename', `${options.outDir}/%v/seg_%05d.m4s`,
    '-master_pl_name', 'master.m3u8',
    '-var_stream_map', renditions.map((rendition, i) => `v:${i},a:${i},name:${rendition.name}`).join(' '),
    `${options.outDir}/%v/index.m3u8`
  )
  if (options.sprite) {
    args.push('-map', '[sprite]', '-frames:v', '1', '-q:v', '5', options.sprite.path)
  }
  return args
}
