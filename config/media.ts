import env from '#start/env'

export interface LadderRung {
  name: string
  /** Lines of the short side (height for landscape, width for portrait). */
  lines: number
  videoKbps: number
  audioKbps: number
}

/**
 * The media pipeline: accepted uploads and the HLS ladder. Rungs above the
 * source are dropped (never upscale); a source smaller than the lowest rung
 * gets one rung at its own size.
 */
const mediaConfig = {
  maxUploadBytes: env.get('MAX_UPLOAD_BYTES', 10 * 1024 ** 3),
  /** Lower-case extensions accepted at upload (checked again by sniffing and ffprobe). */
  allowedExtensions: ['mp4', 'm4v', 'mov', 'mkv', 'webm', 'avi', 'ts', 'mpg', 'mpeg'],
  /** Where tus keeps partial uploads (local disk of the web node). */
  uploadDir: env.get('UPLOAD_TMP_DIR', 'tmp/uploads'),
  /** Unfinished uploads older than this are deleted. */
  uploadExpiryHours: 24,

  ladder: [
    { name: '240p', lines: 240, videoKbps: 400, audioKbps: 64 },
    { name: '360p', lines: 360, videoKbps: 800, audioKbps: 96 },
    { name: '480p', lines: 480, videoKbps: 1400, audioKbps: 128 },
    { name: '720p', lines: 720, videoKbps: 2800, audioKbps: 128 },
    { name: '1080p', lines: 1080, videoKbps: 5000, audioKbps: 160 },
    { name: '1440p', lines: 1440, videoKbps: 8000, audioKbps: 192 },
    { name: '2160p', lines: 2160, videoKbps: 14000, audioKbps: 192 },
  ] satisfies LadderRung[],

  /** Target HLS segment length; the GOP is this many seconds of frames. */
  segmentSeconds: 4,
  /** x264 preset: speed against size. */
  x264Preset: env.get('X264_PRESET', 'veryfast'),
  /** Output frame rate is the source's, capped here (VFR sources become CFR). */
  maxFps: 60,
  posterLines: 720,
  sprite: { intervalSeconds: 5, tileWidth: 160, columns: 10 },

  /** Attempts per transcode (the first plus retries with backoff). */
  attempts: 3,
  retryBackoffMs: 2000,
}

export default mediaConfig
