/*
| Web nodes stage resumable uploads on their disk: each one sweeps away
| uploads abandoned longer than config/media.ts allows.
*/
import app from '@adonisjs/core/services/app'

if (app.getEnvironment() === 'web') {
  const { default: uploads } = await import('#services/upload_service')
  uploads.scheduleCleanup()
}
