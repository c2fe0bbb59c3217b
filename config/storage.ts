import env from '#start/env'

/**
 * Which registered storage backend holds media (`local` from
 * plugins/storage-local, `s3` from plugins/storage-s3). Nothing in storage
 * is ever served by a static route: the app streams objects after its checks.
 */
const storageConfig = {
  backend: env.get('STORAGE_BACKEND', 'local'),
}

export default storageConfig
