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
 * The filter graph that turns the decoded video into every rendition (and
 * the forensic variants): scaled in a cascade, largest rung first, each
 * smaller rung from the one above it, so there is one decode and every
 * scaler works on the smallest input it can. Outputs `[v<i>]` per rendition,
 * the variants' `outLabel`s, and `[sprite]` when asked.
 */
function ladderFilters(
  renditions: PlannedRendition[],
  fpsFilter: string,
  forensic: ForensicOutput | undefined,
  sprite: SpritePlan | undefined
) {
  const order = renditions.map((rendition, index) => ({ rendition, index })).sort((a, b) => b.rendition.height - a.rendition.height)
  const filters = [sprite ? `[0:v]${fpsFilter},split=2[c0][spritein]` : `[0:v]${fpsFilter}[c0]`]
  // A rendition with forensic variants is split three ways: unmarked, A, B.
  const variantsOf = (index: number) => (forensic?.variants ?? []).filter((v) => v.rendition === index)
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
  if (sprite) filters.push(`[spritein]${spriteFilter(sprite)}[sprite]`)
  return filters.join(';')
}

/**
 * One FFmpeg process for every rendition: a single decode, scaled down rung
 * by rung, encoded to CMAF (fMP4) HLS with a master playlist. A source
 * without audio gets a silent stereo track so every rendition has audio.
 */
export function hlsCommand(options: HlsCommandInput): string[] {
  const { renditions, fps } = options
  const args = ['-hide_banner', '-y', '-loglevel', 'error']
  if (options.progress) args.push('-progress', 'pipe:1', '-nostats')
  args.push(...inputArgs(options.input, options.demuxer))
  if (!options.hasAudio) args.push('-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000')
  args.push('-filter_complex', ladderFilters(renditions, `fps=${fps}`, options.forensic, options.sprite))

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
    args.push(...hlsOutput(options, forensicStreams(renditions, options.forensic), options.forensic.outDir))
  }
  if (options.sprite) {
    args.push('-map', '[sprite]', '-frames:v', '1', '-q:v', '5', options.sprite.path)
  }
  return args
}

/** The variant streams of a forensic output: their rendition, filter graph label and name ("720p_A"). */
function forensicStreams(renditions: PlannedRendition[], forensic: ForensicOutput) {
  return forensic.variants.map((v) => ({
    rendition: renditions[v.rendition],
    label: forensicLabels(v.rendition, v.variant).outLabel,
    name: variantStreamName(renditions[v.rendition].name, v.variant),
  }))
}

/** x264 settings shared by every rendition: one GOP per segment, so every segment starts on a keyframe. */
function x264Common(preset: string, gop: number) {
  return ['-preset', preset, '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0']
}

/** The HLS muxer: CMAF (fMP4) segments of `segmentSeconds`, one folder per stream, a VOD playlist each. */
function hlsMuxer(segmentSeconds: number, outDir: string, names: string[], masterName?: string) {
  return [
    '-f', 'hls',
    '-hls_time', String(segmentSeconds),
    '-hls_playlist_type', 'vod',
    '-hls_flags', 'independent_segments',
    '-hls_segment_type', 'fmp4',
    '-hls_fmp4_init_filename', 'init.mp4',
    '-hls_segment_filename', `${outDir}/%v/seg_%05d.m4s`,
    ...(masterName ? ['-master_pl_name', masterName] : []),
    '-var_stream_map', names.map((name, i) => `v:${i},a:${i},name:${name}`).join(' '),
    `${outDir}/%v/index.m3u8`,
  ]
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
    ...x264Common(options.preset, gop),
    '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`,
    '-ac', '2',
    '-ar', '48000',
    '-t', options.durationSeconds.toFixed(3),
    ...hlsMuxer(segmentSeconds, outDir, streams.map(({ name }) => name), masterName)
  )
  return args
}

/*
| Segment-parallel transcoding (app/services/media/chunked_transcode.ts):
| each chunk of frames is encoded by `chunkCommand` (video only, every
| rendition and variant, one MP4 each), the soundtrack once by
| `soundtrackCommand`, and `joinCommand` stream-copies the pieces into the
| same HLS output the one-process path writes.
*/

export interface ChunkCommandInput {
  input: string
  demuxer: string
  /** The chunk's first output frame and how many it has (frames of the output rate `fps`). */
  startFrame: number
  frameCount: number
  fps: number
  renditions: PlannedRendition[]
  segmentSeconds: number
  preset: string
  forensic?: ForensicOutput
  /** `<outDir>/<stream name>.mp4` per rendition and variant. */
  outDir: string
  progress?: boolean
}

/** The file a chunk writes for a rendition ("720p") or a variant ("720p_A"). */
export const chunkFileName = (streamName: string) => `${streamName}.mp4`

/**
 * One chunk of every rendition (and forensic variant), video only. The
 * input is seeked to a quarter frame before the chunk's first frame (input
 * seeking decodes from the keyframe before and drops what precedes, so the
 * cut is exact whatever the source's GOP) and the frame-rate filter starts
 * the output at 0: the chunk's frames are exactly the one-process path's
 * frames startFrame..startFrame+frameCount-1. Keyframes are forced every
 * GOP counted in frames, so each chunk is whole segments.
 */
export function chunkCommand(options: ChunkCommandInput): string[] {
  const { renditions, fps } = options
  const gop = gopFrames(fps, options.segmentSeconds)
  const args = ['-hide_banner', '-y', '-loglevel', 'error']
  if (options.progress) args.push('-progress', 'pipe:1', '-nostats')
  if (options.startFrame > 0) args.push('-ss', ((options.startFrame - 0.25) / fps).toFixed(6))
  args.push(...inputArgs(options.input, options.demuxer))
  args.push('-filter_complex', ladderFilters(renditions, `fps=${fps}:start_time=0`, options.forensic, undefined))
  const streams = [
    ...renditions.map((rendition, i) => ({ rendition, label: `v${i}`, name: rendition.name })),
    ...(options.forensic ? forensicStreams(renditions, options.forensic) : []),
  ]
  for (const { rendition, label, name } of streams) {
    const rate = rateControl(rendition.videoKbps)
    args.push(
      '-map', `[${label}]`, '-an',
      '-c:v', 'libx264', '-b:v', rate.bitrate, '-maxrate', rate.maxrate, '-bufsize', rate.bufsize,
      ...x264Common(options.preset, gop),
      '-force_key_frames', `expr:eq(mod(n,${gop}),0)`,
      '-frames:v', String(options.frameCount),
      '-f', 'mp4', `${options.outDir}/${chunkFileName(name)}`
    )
  }
  return args
}

export interface SoundtrackCommandInput {
  input: string
  demuxer: string
  hasAudio: boolean
  durationSeconds: number
  fps: number
  /** One AAC file per bitrate: `<outDir>/audio_<kbps>.m4a`. */
  audioKbps: number[]
  outDir: string
  /** Also the thumbnail sprite (it needs the whole video, as the soundtrack does). */
  sprite?: SpritePlan & { path: string }
  progress?: boolean
}

export const soundtrackFileName = (kbps: number) => `audio_${kbps}.m4a`

/**
 * The whole soundtrack of a chunked transcode, once per audio bitrate of the
 * ladder: AAC encoded in one piece (AAC encoded in chunks restarts its
 * priming at every join, an audible click), so the join only copies it.
 * A source without audio gets silence, as in the one-process path.
 */
export function soundtrackCommand(options: SoundtrackCommandInput): string[] {
  const args = ['-hide_banner', '-y', '-loglevel', 'error']
  if (options.progress) args.push('-progress', 'pipe:1', '-nostats')
  args.push(...inputArgs(options.input, options.demuxer))
  if (!options.hasAudio) args.push('-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000')
  if (options.sprite) args.push('-filter_complex', `[0:v]fps=${options.fps},${spriteFilter(options.sprite)}[sprite]`)
  for (const kbps of new Set(options.audioKbps)) {
    args.push(
      '-map', options.hasAudio ? '0:a:0' : '1:a:0', '-vn',
      '-c:a', 'aac', '-b:a', `${kbps}k`, '-ac', '2', '-ar', '48000',
      '-t', options.durationSeconds.toFixed(3),
      '-f', 'mp4', `${options.outDir}/${soundtrackFileName(kbps)}`
    )
  }
  if (options.sprite) {
    args.push(
      '-map', '[sprite]', '-frames:v', '1', '-q:v', '5', options.sprite.path
    )
  }
  return args
}

export interface JoinCommandInput {
  renditions: PlannedRendition[]
  /** Per rendition: an ffconcat list of its chunk files (written by the caller, naming our own files). */
  videoLists: string[]
  /** Per rendition: its soundtrack file. */
  audio: string[]
  forensic?: { outDir: string; streams: Array<{ rendition: number; name: string; list: string }> }
  segmentSeconds: number
  outDir: string
}

/**
 * Joins a chunked transcode: every rendition's chunks (concatenated by
 * FFmpeg's concat demuxer, each chunk placed right after the one before it)
 * and its soundtrack, stream-copied into the same HLS muxer the one-process
 * path ends in. Segment numbering, timestamps (tfdt), the one init segment
 * per rendition and the playlists come out as one encode's would.
 */
export function joinCommand(options: JoinCommandInput): string[] {
  const args = ['-hide_banner', '-y', '-loglevel', 'error']
  const inputs: string[] = []
  const inputOf = (path: string, concat: boolean) => {
    let index = inputs.indexOf(path)
    if (index === -1) {
      index = inputs.push(path) - 1
      args.push('-protocol_whitelist', 'file', ...(concat ? ['-f', 'concat'] : []), '-i', path)
    }
    return index
  }
  const output = (streams: Array<{ list: string; audio: string; name: string }>, outDir: string, masterName?: string) => {
    const mapped = streams.map(({ list, audio }) => [inputOf(list, true), inputOf(audio, false)])
    const out: string[] = []
    for (const [video, audio] of mapped) out.push('-map', `${video}:v:0`, '-map', `${audio}:a:0`)
    return [...out, '-c', 'copy', ...hlsMuxer(options.segmentSeconds, outDir, streams.map(({ name }) => name), masterName)]
  }
  const unmarked = options.renditions.map((rendition, i) => ({ list: options.videoLists[i], audio: options.audio[i], name: rendition.name }))
  const outputs = [output(unmarked, options.outDir, 'master.m3u8')]
  if (options.forensic?.streams.length) {
    const streams = options.forensic.streams.map((s) => ({ list: s.list, audio: options.audio[s.rendition], name: s.name }))
    outputs.push(output(streams, options.forensic.outDir))
  }
  return [...args, ...outputs.flat()]
}
