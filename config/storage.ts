import env from '#start/env'

/**
 * Which registered storage backend holds media (`local` from
 * plugins/storage-local, `s3` from plugins/storage-s3). Nothing in storage
 * is ever served by a static route: the app streams objects after its checks.
 */
const storageConfig = {
  backend: env.get('STORAGE_BACKEND', 'local'),
  /**
   * Behind nginx with local storage: after the app's checks, hand the byte
   * transfer to nginx (`X-Accel-Redirect: <prefix><key>`), which must map the
   * prefix to the storage folder in an `internal` location (README). Empty:
   * the app streams the bytes itself.
   */
  accelRedirectPrefix: env.get('STORAGE_ACCEL_REDIRECT_PREFIX') || null,
}

export default storageConfig
