/*
| Environment variables are validated here at boot: a missing or malformed
| value stops the process with a message naming the variable.
| Every variable is listed with a safe default in .env.example.
*/
import { Env } from '@adonisjs/core/env'

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  HOST: Env.schema.string({ format: 'host' }),
  APP_KEY: Env.schema.secret(),
  APP_URL: Env.schema.string({ format: 'url', tld: false }),
  LOG_LEVEL: Env.schema.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  VIEW_CACHE: Env.schema.boolean.optional(),

  DB_HOST: Env.schema.string({ format: 'host' }),
  DB_PORT: Env.schema.number(),
  DB_USER: Env.schema.string(),
  DB_PASSWORD: Env.schema.secret.optional(),
  DB_DATABASE: Env.schema.string(),

  REDIS_HOST: Env.schema.string({ format: 'host' }),
  REDIS_PORT: Env.schema.number(),
  REDIS_PASSWORD: Env.schema.secret.optional(),
  REDIS_DB: Env.schema.number.optional(),

  SESSION_DRIVER: Env.schema.enum(['cookie', 'redis', 'memory'] as const),
  LIMITER_STORE: Env.schema.enum(['redis', 'memory'] as const),
  TRUSTED_PROXIES: Env.schema.string.optional(),
  // Rate limits, `<requests>/<duration>` (e.g. 20/15m); parsed by config/limiter.ts.
  RATE_LIMIT_LOGIN_ACCOUNT: Env.schema.string.optional(),
  RATE_LIMIT_LOGIN_ADDRESS: Env.schema.string.optional(),
  RATE_LIMIT_REGISTER: Env.schema.string.optional(),
  RATE_LIMIT_REGISTER_FORM: Env.schema.string.optional(),
  RATE_LIMIT_PASSWORD_RESET: Env.schema.string.optional(),
  RATE_LIMIT_CHECKOUT: Env.schema.string.optional(),
  RATE_LIMIT_CRYPTO_QUOTE: Env.schema.string.optional(),
  RATE_LIMIT_PLAYBACK_OPEN: Env.schema.string.optional(),
  RATE_LIMIT_UPLOAD_CREATE: Env.schema.string.optional(),
  RATE_LIMIT_WATERMARK_RENDER: Env.schema.string.optional(),

  MAIL_MAILER: Env.schema.enum(['smtp', 'log'] as const),
  MAIL_FROM_NAME: Env.schema.string(),
  MAIL_FROM_ADDRESS: Env.schema.string({ format: 'email' }),
  SMTP_HOST: Env.schema.string({ format: 'host' }),
  SMTP_PORT: Env.schema.number(),
  SMTP_SECURE: Env.schema.boolean.optional(),
  SMTP_USERNAME: Env.schema.string.optional(),
  SMTP_PASSWORD: Env.schema.secret.optional(),

  CREATOR_APPROVAL: Env.schema.enum(['instant', 'admin'] as const),
  PASSWORD_RESET_TTL_MINUTES: Env.schema.number.optional(),

  PLUGINS_EXTRA: Env.schema.string.optional(),

  /** Any registered backend's id (a plugin's too): checked once the plugins are loaded. */
  STORAGE_BACKEND: Env.schema.string(),
  WATERMARK_VISIBLE: Env.schema.string.optional(),
  WATERMARK_FORENSIC: Env.schema.string.optional(),
  STORAGE_LOCAL_ROOT: Env.schema.string(),
  STORAGE_ACCEL_REDIRECT_PREFIX: Env.schema.string.optional(),
  S3_BUCKET: Env.schema.string.optional(),
  S3_REGION: Env.schema.string.optional(),
  S3_ENDPOINT: Env.schema.string.optional({ format: 'url', tld: false }),
  S3_ACCESS_KEY_ID: Env.schema.string.optional(),
  S3_SECRET_ACCESS_KEY: Env.schema.secret.optional(),
  S3_FORCE_PATH_STYLE: Env.schema.boolean.optional(),
  S3_UPLOAD_BUCKET: Env.schema.string.optional(),
  S3_UPLOAD_PREFIX: Env.schema.string.optional(),

  MAX_UPLOAD_BYTES: Env.schema.number.optional(),
  UPLOAD_TMP_DIR: Env.schema.string.optional(),
  X264_PRESET: Env.schema.enum.optional(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'] as const),
  MEDIA_MAX_DURATION_SECONDS: Env.schema.number.optional(),
  MEDIA_MAX_FRAME_PIXELS: Env.schema.number.optional(),
  MEDIA_MAX_SIDE_PIXELS: Env.schema.number.optional(),
  MEDIA_MAX_FPS: Env.schema.number.optional(),
  MEDIA_MAX_PIXELS_PER_SECOND: Env.schema.number.optional(),
  MEDIA_TIMEOUT_BASE_SECONDS: Env.schema.number.optional(),
  MEDIA_TIMEOUT_SECONDS_PER_SECOND: Env.schema.number.optional(),
  MEDIA_PROBE_TIMEOUT_SECONDS: Env.schema.number.optional(),
  FORENSIC_RENDITIONS: Env.schema.string.optional(),
  UPLOAD_MAX_ACTIVE_PER_CREATOR: Env.schema.number.optional(),
  UPLOAD_MAX_STAGED_BYTES_PER_CREATOR: Env.schema.number.optional(),

  QUEUE_PREFIX: Env.schema.string.optional(),
  WORKER_CONCURRENCY: Env.schema.number.optional(),
  TRANSCODE_CONCURRENCY: Env.schema.number.optional(),
  TRANSCODE_CHUNK_CONCURRENCY: Env.schema.number.optional(),
  TRANSCODE_CHUNK_SECONDS: Env.schema.number.optional(),
  TRANSCODE_CHUNK_MIN_SECONDS: Env.schema.number.optional(),
  TRANSCODE_CPU: Env.schema.enum.optional(['background', 'normal'] as const),

  PLAYBACK_URL_TTL_SECONDS: Env.schema.number.optional(),
  CAPTIONS_MAX_BYTES: Env.schema.number.optional(),
  PLAYBACK_SESSION_TTL_MINUTES: Env.schema.number.optional(),
  PLAYBACK_MAX_SESSIONS: Env.schema.number.optional(),
  PLAYBACK_CACHE_TTL_SECONDS: Env.schema.number.optional(),
  PLAYBACK_HOT_CACHE_MB: Env.schema.number.optional(),
  WATERMARK_INTERVAL_SECONDS: Env.schema.number.optional(),
  WATERMARK_MAX_HEIGHT: Env.schema.number.optional(),
  WATERMARK_LOOKAHEAD: Env.schema.number.optional(),
  WATERMARK_CONCURRENCY: Env.schema.number.optional(),
  WATERMARK_ADMISSION_BACKLOG: Env.schema.number.optional(),
  WATERMARK_DEFAULT_MODE: Env.schema.enum.optional(['off', 'visible', 'forensic', 'both'] as const),
  WATERMARK_PRESET: Env.schema.enum.optional(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast'] as const),

  PLATFORM_FEE_BPS: Env.schema.number.optional(),
  ORDER_TTL_MINUTES: Env.schema.number.optional(),
  PRICE_CAP: Env.schema.number.optional(),
  CURRENCY_BASE: Env.schema.string.optional(),
  CURRENCY_RATES: Env.schema.string.optional(),
  MEMBERSHIP_GRACE_DAYS: Env.schema.number.optional(),
  PARTIAL_REFUND_ENDS_ACCESS: Env.schema.string.optional(),
  BANK_TRANSFER_ENABLED: Env.schema.boolean.optional(),

  /*
  |----------------------------------------------------------
  | Wallet payments (plugins/x402)
  |----------------------------------------------------------
  */
  /** Seconds a returning wallet's Sign-In With Ethereum challenge may be answered (config/wallet_sign_in.ts). */
  WALLET_SIGN_IN_TTL_SECONDS: Env.schema.number.optional(),
})
