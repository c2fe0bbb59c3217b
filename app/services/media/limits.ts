import mediaConfig from '#config/media'
import { MediaRejectedError } from '#services/media/ffmpeg'
import type { ProbeResult } from '#services/media/probe'

type MediaLimits = typeof mediaConfig.limits

const megapixels = (pixels: number) => `${(pixels / 1e6).toFixed(1)} megapixels`

function duration(seconds: number) {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = Math.round(seconds % 60)
  return [h && `${h} h`, m && `${m} min`, (s || (!h && !m)) && `${s} s`].filter(Boolean).join(' ')
}

const rate = (fps: number) => `${Math.round(fps * 100) / 100} fps`

/**
 * The limits a probed video breaks, each as a sentence naming the limit
 * (empty when it fits).
 */
export function brokenLimits(info: Pick<ProbeResult, 'durationSeconds' | 'width' | 'height' | 'fps'>, limits: MediaLimits = mediaConfig.limits) {
  const broken: string[] = []
  const frame = info.width * info.height
  if (info.durationSeconds > limits.maxDurationSeconds) {
    broken.push(`it lasts ${duration(info.durationSeconds)}, longer than the ${duration(limits.maxDurationSeconds)} duration limit`)
  }
  if (frame > limits.maxFramePixels || Math.max(info.width, info.height) > limits.maxSidePixels) {
    broken.push(
      `its frames are ${info.width}×${info.height}, larger than the frame size limit ` +
        `(${megapixels(limits.maxFramePixels)}, ${limits.maxSidePixels} pixels on the longer side)`
    )
  }
  if (info.fps > limits.maxFps) {
    broken.push(`it has ${rate(info.fps)}, more than the ${rate(limits.maxFps)} frame rate limit`)
  }
  if (frame * info.fps > limits.maxPixelsPerSecond) {
    broken.push(
      `it has ${megapixels(frame * info.fps)} per second, more than the limit of ${megapixels(limits.maxPixelsPerSecond)} per second`
    )
  }
  return broken
}

/** Rejects (MediaRejectedError, one sentence naming every limit) a video over the platform's limits. */
export function assertWithinLimits(info: Pick<ProbeResult, 'durationSeconds' | 'width' | 'height' | 'fps'>) {
  const broken = brokenLimits(info)
  if (broken.length) throw new MediaRejectedError(`This video is over the limits: ${broken.join('; ')}.`)
}

/**
 * The wall-clock limit of an FFmpeg run over `durationSeconds` of video:
 * a base, plus time per second of video, scaled by its pixel rate against
 * 1080p30 (never scaled down).
 */
export function runTimeoutMs(work: { durationSeconds: number; width: number; height: number; fps: number }) {
  const { baseSeconds, secondsPerSecond } = mediaConfig.timeouts
  const load = Math.max(1, (work.width * work.height * work.fps) / (1920 * 1080 * 30))
  return Math.ceil((baseSeconds + secondsPerSecond * work.durationSeconds * load) * 1000)
}
