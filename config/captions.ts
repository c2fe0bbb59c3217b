import env from '#start/env'

/** Subtitle files creators upload per language (Studio → Captions). */
const captionsConfig = {
  /** The largest WebVTT or SRT file accepted (a feature film's subtitles are ~100 KB). */
  maxBytes: env.get('CAPTIONS_MAX_BYTES', 1024 * 1024),
  /** Languages one video may carry. */
  maxPerVideo: 30,
}

export default captionsConfig
