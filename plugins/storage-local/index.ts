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
    api.storage.register(new LocalStorageBackend(api.options.root))
  },
})
