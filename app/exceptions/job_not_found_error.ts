import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'

/**
 * Admin → Jobs was asked about a queue or a job that does not exist (a
 * stale page, a typed URL). A 404 that says which, so the admin knows the
 * job is gone rather than wondering whether the click worked. Nothing was
 * changed when it is thrown.
 */
export class JobNotFoundError extends Exception {
  static status = 404
  static code = 'E_JOB_NOT_FOUND'

  async handle(error: this, { request, response, view }: HttpContext) {
    response.status(404)
    if (request.accepts(['html', 'json']) === 'json' || request.ajax()) {
      return response.json({ error: 'not_found', message: error.message })
    }
    return response.send(await view.render('pages/admin/job_not_found', { message: error.message }))
  }
}
