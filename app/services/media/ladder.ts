import type { LadderRung } from '#config/media'
import type { ProbeResult } from '#services/media/probe'
import { inputArgs } from '#services/media/ffmpeg'
import { spriteFilter, type SpritePlan } from '#services/media/sprite'
import type { ForensicVariant } from '#hooks/contracts'

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
  /** Also write forensic A/B variants of some renditions from the same decode. */
  forensic?: ForensicOutput
  progress?: boolean
}

export interface ForensicOutput {
  /** A second HLS output, without a master playlist: `<outDir>/<rendition>_<A|B>/`. */
  outDir: string
  variants: Array<{
    /** Index of the rendition in `renditions`. */
    rendition: number
    variant: ForensicVariant
    /** The watermarker's fragment, reading and writing `forensicLabels(rendition, variant)`. */
    filter: string
  }>
}

/** The name the transcode gives a variant's stream and folder ("720p_A"). */
export const variantStreamName = (rendition: string, variant: ForensicVariant) => `${rendition}_${variant}`

/** The filter graph labels a forensic fragment reads and writes. */
export const forensicLabels = (rendition: number, variant: ForensicVariant) => ({
  inLabel: `fin${rendition}${variant}`,
  outLabel: `fout${rendition}${variant}`,
})

/**
 * One FFmpeg process for every rendition: a single decode, scaled down rung
 * by rung, encoded to CMAF (fMP4) HLS with a master playlist. A source
 * without audio gets a silent stereo track so every rendition has audio.
 */
export function hlsCommand(options: HlsCommandInput): string[] {
  const { renditions, fps } = options
  // Scale in a cascade, largest rung first, each smaller rung from the one
  // above it: one decode, and every scaler works on the smallest input it can.
  const order = renditions.map((rendition, index) => ({ rendition, index })).sort((a, b) => b.rendition.height - a.rendition.height)
  const filters = [options.sprite ? `[0:v]fps=${fps},split=2[c0][spritein]` : `[0:v]fps=${fps}[c0]`]
  // A rendition with forensic variants is split three ways: unmarked, A, B.
  const variantsOf = (index: number) => (options.forensic?.variants ?? []).filter((v) => v.rendition === index)
  order.forEach(({ rendition, index }, k) => {
    const scale = `scale=${rendition.width}:${rendition.height},setsar=1`
    const marked = variantsOf(index)
    const out = marked.length ? `s${index}` : `v${index}`
    filters.push(k < order.length - 1 ? `[c${k}]${scale},split=2[${out}][c${k + 1}]` : `[c${k}]${scale}[${out}]`)
    if (marked.length) {
      const inputs = marked.map((v) => `[${forensicLabels(index, v.variant).inLabel}]`).join('')
      filters.push(`[s${index}]split=${marked.length + 1}[v${index}]${inputs}`, ...marked.map((v) => v.filter))
    }
  })
  if (options.sprite) filters.push(`[spritein]${spriteFilter(options.sprite)}[sprite]`)

  const args = ['-hide_banner', '-y', '-loglevel', 'error']
  if (options.progress) args.push('-progress', 'pipe:1', '-nostats')
  args.push(...inputArgs(options.input, options.demuxer))
  if (!options.hasAudio) args.push('-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000')
  args.push('-filter_complex', filters.join(';'))

  args.push(
    ...hlsOutput(
      options,
      renditions.map((rendition, i) => ({ rendition, label: `v${i}`, name: rendition.name })),
      options.outDir,
      'master.m3u8'
    )
  )
  if (options.forensic?.variants.length) {
    // The same encoder settings, GOP and forced keyframes as the unmarked
    // output: identical segment boundaries, timestamps and init segments.
    const streams = options.forensic.variants.map((v) => ({
      rendition: renditions[v.rendition],
      label: forensicLabels(v.rendition, v.variant).outLabel,
      name: variantStreamName(renditions[v.rendition].name, v.variant),
    }))
    args.push(...hlsOutput(options, streams, options.forensic.outDir))
  }
  if (options.sprite) {
    args.push('-map', '[sprite]', '-frames:v', '1', '-q:v', '5', options.sprite.path)
  }
  return args
}

/** One HLS output: each stream's video label encoded like its rendition, with audio. */
function hlsOutput(
  options: HlsCommandInput,
  streams: Array<{ rendition: PlannedRendition; label: string; name: string }>,
  outDir: string,
  masterName?: string
): string[] {
  const { fps, segmentSeconds } = options
  const gop = gopFrames(fps, segmentSeconds)
  const args: string[] = []
  streams.forEach(({ rendition, label }, i) => {
    const rate = rateControl(rendition.videoKbps)
    args.push('-map', `[${label}]`, '-map', options.hasAudio ? '0:a:0' : '1:a:0')
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
    '-hls_segment_filename', `${outDir}/%v/seg_%05d.m4s`,
    ...(masterName ? ['-master_pl_name', masterName] : []),
    '-var_stream_map', streams.map(({ name }, i) => `v:${i},a:${i},name:${name}`).join(' '),
    `${outDir}/%v/index.m3u8`
  )
  return args
}
