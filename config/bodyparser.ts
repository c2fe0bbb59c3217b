import { defineConfig } from '@adonisjs/core/bodyparser'

export default defineConfig({
  allowedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  form: {
    convertEmptyStringsToNull: true,
    types: ['application/x-www-form-urlencoded'],
  },
  json: {
    convertEmptyStringsToNull: true,
    types: ['application/json', 'application/json-patch+json', 'application/vnd.api+json', 'application/csp-report'],
  },
  multipart: {
    autoProcess: true,
    convertEmptyStringsToNull: true,
    // Trace a leak takes recordings far above `limit`: its controller
    // streams the file to disk under config/media.ts forensic.traceClipLimit.
    processManually: ['/admin/videos/:id/trace'],
    limit: '20mb',
    types: ['multipart/form-data'],
  },
})
