import env from '#start/env'

/**
 * Which registered storage backend holds media (`local` from
 * plugins/storage-local, `s3` from plugins/storage-s3). Nothing in storage
 * is ever served by a static route: the app streams objects after its checks.
 */
const storageConfig = {
  backend: env.get('STORAGE_BACKEND', 'local'),
  /**
   * Behind nginx: after the app's checks, hand the byte transfer to nginx
   * (`X-Accel-Redirect: <prefix><key>`). nginx must map the prefix to where
   * the keys live, in an `internal` location (README: the local storage
   * folder). Empty: the app streams the bytes itself.
   */
  accelRedirectPrefix: env.get('STORAGE_ACCEL_REDIRECT_PREFIX') || null,
}

export default storageConfig
