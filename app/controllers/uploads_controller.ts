import type { HttpContext } from '@adonisjs/core/http'
import uploads from '#services/upload_service'

/**
 * Hands tus requests (create, resume, inspect, cancel) to the tus server,
 * which answers them itself; auth and role checks ran as route middleware.
 */
export default class UploadsController {
  async handle({ request, response }: HttpContext) {
    await uploads.server.handle(request.request, response.response)
  }
}
