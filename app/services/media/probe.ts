import mediaConfig from '#config/media'
import { MediaRejectedError, MediaTimeoutError, run } from '#services/media/ffmpeg'

export interface ProbeResult {
  formatName: string
  /** The demuxer FFmpeg must read this file with (`-f`): one of config/media.ts's `demuxers`. */
  demuxer: string
  durationSeconds: number
  /** Display size, rotation applied (a phone's portrait video is taller than wide). */
  width: number
  height: number
  /** Average frame rate of the source. */
  fps: number
  variableFrameRate: boolean
  videoCodec: string
  hasAudio: boolean
}

const parseRate = (rate?: string) => {
  if (!rate) return NaN
  const [num, den] = rate.split('/').map(Number)
  return den ? num / den : num
}

/** What people call the formats a file may pretend to be (FFmpeg's demuxer names). */
const FORMAT_NAMES: Record<string, string> = {
  hls: 'an HLS playlist',
  concat: 'an ffconcat file list',
  image2: 'an image sequence pattern',
  sdp: 'a stream description (SDP)',
  tee: 'a tee list',
}

const ACCEPTED = 'MP4/MOV, Matroska/WebM, AVI, MPEG-TS or MPEG-PS'

/**
 * ffprobe's view of a file. The file is opened only through the `file`
 * protocol and only if its format is one of config/media.ts's `demuxers`:
 * FFmpeg checks that after reading the file's first bytes, before the
 * demuxer opens anything, so a playlist or a file list that points at other
 * files reads none of them. Rejects (MediaRejectedError, with a message for
 * the uploader) any other format, and anything without a video stream or a
 * positive duration.
 */
export async function probe(path: string): Promise<ProbeResult> {
  let data: any
  try {
    const { stdout } = await run(
      'ffprobe',
      [
        '-v', 'error',
        '-protocol_whitelist', 'file',
        '-format_whitelist', mediaConfig.demuxers.join(','),
        '-print_format', 'json', '-show_format', '-show_streams',
        path,
      ],
      { timeoutMs: mediaConfig.timeouts.probeSeconds * 1000 }
    )
    data = JSON.parse(stdout)
  } catch (error) {
    const refusedFormat = (error as Error).message.match(/\[(\w+) @ [^\]]*\] Format not on whitelist/)?.[1]
    if (refusedFormat) {
      throw new MediaRejectedError(
        `This file is ${FORMAT_NAMES[refusedFormat] ?? `in the "${refusedFormat}" format`}, not a video file: only ${ACCEPTED} files are accepted, and nothing it points to was read.`
      )
    }
    if (error instanceof MediaTimeoutError) {
      throw new MediaRejectedError(`Reading this file took longer than ${mediaConfig.timeouts.probeSeconds} s: it is refused.`)
    }
    throw new MediaRejectedError('This file is not a readable video (it may be truncated or not a video at all).')
  }
  const formatName = String(data.format?.format_name ?? '')
  const demuxer = formatName.split(',')[0]
  // FFmpeg already refused other formats; this keeps `-f` honest if it ever did not.
  if (!mediaConfig.demuxers.includes(demuxer)) {
    throw new MediaRejectedError(`This file is in the "${formatName}" format: only ${ACCEPTED} files are accepted.`)
  }
  const streams: any[] = data.streams ?? []
  const video = streams.find(
    (stream) => stream.codec_type === 'video' && !stream.disposition?.attached_pic && Number(stream.width) > 0
  )
  if (!video) throw new MediaRejectedError('This file has no video stream (an audio file or an image is not a video).')

  const durationSeconds = Number(data.format?.duration ?? video.duration)
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new MediaRejectedError('This video has no duration: it may be truncated or a single image.')
  }

  const rotation = Math.abs(
    Number(video.side_data_list?.find((side: any) => side.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0)
  )
  const quarterTurn = rotation % 180 === 90
  const average = parseRate(video.avg_frame_rate)
  const nominal = parseRate(video.r_frame_rate)
  const fps = Number.isFinite(average) && average > 0 ? average : Number.isFinite(nominal) && nominal > 0 ? nominal : 30

  return {
    formatName,
    demuxer,
    durationSeconds,
    width: quarterTurn ? Number(video.height) : Number(video.width),
    height: quarterTurn ? Number(video.width) : Number(video.height),
    fps,
    variableFrameRate: Number.isFinite(average) && Number.isFinite(nominal) && Math.abs(average - nominal) > 0.01,
    videoCodec: String(video.codec_name),
    hasAudio: streams.some((stream) => stream.codec_type === 'audio'),
  }
}
