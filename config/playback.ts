import env from '#start/env'

/**
 * Secure playback: signed URLs, playback sessions and the just-in-time
 * visible watermark.
 */
const playbackConfig = {
  /** Lifetime of one signed playlist or segment URL. Players renew them. */
  urlTtlSeconds: env.get('PLAYBACK_URL_TTL_SECONDS', 300),
  /** A session nobody renews for this long has expired. */
  sessionTtlMinutes: env.get('PLAYBACK_SESSION_TTL_MINUTES', 120),
  /** Open sessions per viewer (other browsers or tabs); owners and admins too. */
  maxSessionsPerViewer: env.get('PLAYBACK_MAX_SESSIONS', 3),
  /** A session that fetched nothing for this long no longer counts as open. */
  idleSeconds: 90,
  /** Last-seen timestamps are written at most this often (not on every segment). */
  touchEverySeconds: 30,

  /** Live sessions held in each web process (invalidated over Redis on every revocation). */
  cache: {
    /** Safety net: an entry is checked against PostgreSQL again after this long; 0 turns the cache off. */
    ttlSeconds: env.get('PLAYBACK_CACHE_TTL_SECONDS', 60),
    /** Bound on entries per process (least recently used go first). */
    maxEntries: 10_000,
  },

  /** Video segments held whole in each web process's memory (app/services/media/hot_objects.ts). */
  hotObjects: {
    /** Bytes at most (a 4 s 480p segment is ~0.7 MB); 0 reads storage on every request. */
    maxBytes: env.get('PLAYBACK_HOT_CACHE_MB', 256) * 1024 * 1024,
    /** Larger objects are streamed from storage, never held. */
    maxObjectBytes: 16 * 1024 * 1024,
    /** Safety net: an object is read from storage again after this long (a changed video drops its own at once). */
    ttlSeconds: 60,
  },

  watermark: {
    /** The visible watermarker used: the id a plugin registers it under (WATERMARK_VISIBLE). */
    watermarker: env.get('WATERMARK_VISIBLE') || 'text',
    /** The mode of videos whose creator chose none; unset: visible for paid videos, else off (or the creator's switch). */
    defaultMode: env.get('WATERMARK_DEFAULT_MODE') ?? null,
    intervalSeconds: env.get('WATERMARK_INTERVAL_SECONDS', 5),
    /** Renditions above this height are not offered with a watermark. */
    maxHeight: env.get('WATERMARK_MAX_HEIGHT', 720),
    lookahead: env.get('WATERMARK_LOOKAHEAD', 3),
    /** x264 preset of renders (CABAC and 8x8 transforms are forced on: High profile). */
    preset: env.get('WATERMARK_PRESET', 'ultrafast'),
    /** How long a request waits for a segment being rendered. */
    waitMs: 20_000,
    /** How often workers delete the renders of ended sessions. */
    purgeIntervalMs: 60_000,
    /** Admission of new visibly watermarked sessions (see app/services/watermark/admission.ts). */
    admission: {
      /**
       * On-demand renders waiting in the `watermark` queue at which the pool
       * counts as not keeping up: new visible sessions then start forensic
       * (or are told to retry in a minute).
       */
      maxBacklog: env.get('WATERMARK_ADMISSION_BACKLOG', 8),
    },
  },
}

export default playbackConfig
