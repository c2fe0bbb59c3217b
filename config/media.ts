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
  /**
   * Where tus keeps partial uploads when the storage backend has no upload
   * store of its own (s3 has): one folder every web node mounts, so that any
   * chunk may land on any node.
   */
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
  /**
   * The CPU class of transcode runs (the ladder, chunks, their join, the
   * poster). 'background' starts them under SCHED_IDLE: on a machine that
   * also serves viewers (make dev, one box, web and worker containers on one
   * host) a transcode takes only the CPU nothing else wants, so a viewer's
   * next segment or watermark render never waits behind one; alone on a
   * worker machine it still gets every core. Watermark renders, which a
   * player waits for, always run in the normal class.
   */
  transcodeCpu: env.get('TRANSCODE_CPU', 'background'),
  /** Output frame rate is the source's, capped here (VFR sources become CFR). */
  maxFps: 60,
  posterLines: 720,
  /**
   * Seek thumbnails: one tile every `intervalSeconds`, each fitting a
   * `tileSize` square, `columns` to a row, in one JPEG sheet. Past
   * `maxTiles` the interval grows with the duration, so a sheet of a long
   * video stays far below JPEG's 65,535-pixel side.
   */
  sprite: { intervalSeconds: 5, tileSize: 160, columns: 10, maxTiles: 1000 },

  /**
   * What an upload may be. Checked by the web node before anything is
   * stored, and again by the worker's probe. Defaults fit a real platform:
   * 6 hours, 4096×2160 (DCI 4K, either orientation), 120 fps, 4K at 60 fps.
   */
  limits: {
    maxDurationSeconds: env.get('MEDIA_MAX_DURATION_SECONDS', 6 * 3600),
    /** Pixels in one frame (width × height). */
    maxFramePixels: env.get('MEDIA_MAX_FRAME_PIXELS', 4096 * 2160),
    /** The longer side of a frame, in pixels. */
    maxSidePixels: env.get('MEDIA_MAX_SIDE_PIXELS', 4096),
    maxFps: env.get('MEDIA_MAX_FPS', 120),
    /** Decoded pixels per second (width × height × fps): the decode and scale work. */
    maxPixelsPerSecond: env.get('MEDIA_MAX_PIXELS_PER_SECOND', 3840 * 2160 * 60),
  },

  /**
   * The only demuxers that may read a user's file (ffprobe's format names).
   * Anything else (an HLS playlist, an ffconcat list, an image sequence, a
   * network description) could make FFmpeg open other files or URLs.
   */
  demuxers: ['mov', 'matroska', 'avi', 'mpegts', 'mpeg'],

  /**
   * Wall-clock limits of FFmpeg runs. A transcode gets `baseSeconds` plus
   * `secondsPerSecond` for every second of source, scaled up by how many
   * more pixels per second it has than 1080p30; a probe gets
   * `probeSeconds`. A run past its limit is killed with its whole process
   * group and its attempt counts.
   */
  timeouts: {
    baseSeconds: env.get('MEDIA_TIMEOUT_BASE_SECONDS', 120),
    secondsPerSecond: env.get('MEDIA_TIMEOUT_SECONDS_PER_SECOND', 4),
    probeSeconds: env.get('MEDIA_PROBE_TIMEOUT_SECONDS', 60),
  },

  /**
   * Per creator, on a web node's staging disk: unfinished uploads touched in
   * the last `activeMinutes` (an idle one still holds its bytes), and the
   * declared bytes of all unfinished uploads.
   */
  uploadQuota: {
    maxActiveUploads: env.get('UPLOAD_MAX_ACTIVE_PER_CREATOR', 3),
    maxStagedBytes: env.get('UPLOAD_MAX_STAGED_BYTES_PER_CREATOR', 20 * 1024 ** 3),
    activeMinutes: 60,
  },

  /**
   * Forensic A/B variants, made for videos in `forensic` or `both` mode: the
   * forensic watermarker used (a plugin registers it) and the renditions that
   * get variants (FORENSIC_RENDITIONS, comma separated names; empty: all).
   */
  forensic: {
    /** The id a plugin registers it under (WATERMARK_FORENSIC). */
    watermarker: env.get('WATERMARK_FORENSIC') || 'luma',
    renditions: (env.get('FORENSIC_RENDITIONS') ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    /**
     * The tracer names a session only when the chance that an innocent
     * session scores as high, times the number of sessions scored
     * (Bonferroni), is at most this: the bound on wrongly accusing anyone
     * with one trace.
     */
    falseAccusationBound: 1e-6,
    /**
     * The largest clip Admin → Videos → Trace a leak accepts (the page says
     * it). A recording of a whole film is hundreds of MB, far above the
     * body parser's limit for forms, so that route is streamed to disk by
     * itself (config/bodyparser.ts processManually) under this limit.
     */
    traceClipLimit: '2gb',
  },

  /**
   * Segment-parallel transcoding: a video at least `minDurationSeconds` long
   * is cut into chunks of about `chunkSeconds` (rounded to whole segments, so
   * HLS segments never straddle two chunks) that any worker encodes, then
   * joined. Shorter videos are transcoded by one FFmpeg process. 0 turns
   * chunking off.
   */
  chunking: {
    chunkSeconds: env.get('TRANSCODE_CHUNK_SECONDS', 60),
    minDurationSeconds: env.get('TRANSCODE_CHUNK_MIN_SECONDS', 240),
  },

  /** Attempts per transcode (the first plus retries with backoff); a run whose worker died counts. */
  attempts: 3,
  retryBackoffMs: 2000,
}

export default mediaConfig
