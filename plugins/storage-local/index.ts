import vine from '@vinejs/vine'
import { definePlugin } from '@matinee/plugin-kit'
import { LocalStorageBackend } from './local_storage_backend.js'

/**
 * Stores media in a folder on this machine (default ./storage). The folder
 * must never be served by a web server: the app streams objects itself.
 */
export default definePlugin({
  name: 'storage-local',
  version: '1.0.0',
  description: 'Media on the local disk',
  options: vine.object({
    root: vine.string().trim().minLength(1),
  }),
  register(api) {
    const backend = new LocalStorageBackend(api.options.root)
    api.storage.register(backend)
    backend.sweepPartials().then(
      (count) => count && api.logger.info(`removed ${count} unfinished writes left by stopped processes`),
      (error) => api.logger.warn(`could not sweep unfinished writes: ${error.message}`)
    )
  },
})
