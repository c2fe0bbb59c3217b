import { MediaRejectedError, run } from '#services/media/ffmpeg'

export interface ProbeResult {
  formatName: string
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

/**
 * ffprobe's view of a file. Rejects (MediaRejectedError, with a message for
 * the uploader) anything without a video stream or a positive duration.
 */
export async function probe(path: string): Promise<ProbeResult> {
  let data: any
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path])
    data = JSON.parse(stdout)
  } catch {
    throw new MediaRejectedError('This file is not a readable video (it may be truncated or not a video at all).')
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
    formatName: String(data.format?.format_name ?? ''),
    durationSeconds,
    width: quarterTurn ? Number(video.height) : Number(video.width),
    height: quarterTurn ? Number(video.width) : Number(video.height),
    fps,
    variableFrameRate: Number.isFinite(average) && Number.isFinite(nominal) && Math.abs(average - nominal) > 0.01,
    videoCodec: String(video.codec_name),
    hasAudio: streams.some((stream) => stream.codec_type === 'audio'),
  }
}
