import env from '#start/env'

/**
 * Which registered storage backend holds media: `local` (plugins/storage-local),
 * `s3` (plugins/storage-s3) or the id any other enabled plugin registers its
 * backend under (checked at boot). Nothing in storage
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
