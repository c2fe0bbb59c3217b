import type { HttpContext } from '@adonisjs/core/http'
import { listReturnPath } from '#services/redirects'
import jobAdmin from '#services/job_admin_service'

/** Admin → Jobs: queue counts, failed jobs (retry, discard) and worker heartbeats. */
export default class AdminJobsController {
  async index({ view }: HttpContext) {
    return view.render('pages/admin/jobs', await jobAdmin.overview())
  }

  async retry({ params, response, session, auth, request }: HttpContext) {
    const { job, subject } = await jobAdmin.retry(auth.getUserOrFail(), params.queue, params.id)
    session.flash(
      'success',
      subject.video
        ? `"${subject.video.title}" is queued for transcoding again (job ${job.queue}#${job.id}).`
        : `Job ${job.queue}#${job.id} is waiting for a worker again.`
    )
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/jobs'))
  }

  async discard({ params, response, session, auth, request }: HttpContext) {
    const { job } = await jobAdmin.discard(auth.getUserOrFail(), params.queue, params.id)
    session.flash('success', `Failed job ${job.queue}#${job.id} was discarded.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/jobs'))
  }
}
