import { DateTime } from 'luxon'
import type User from '#models/user'
import Video from '#models/video'
import type { QueueName } from '#jobs/queues'
import queues, { type StoredJob } from '#services/queue_service'
import videos from '#services/video_service'
import audit from '#services/audit_service'
import { withLock } from '#services/lock_service'
import { isUuid } from '#services/ids'
import { RefusedActionError } from '#exceptions/refused_action_error'
import { JobNotFoundError } from '#exceptions/job_not_found_error'

/** Failed jobs listed per queue, newest first; the page says how many more there are. */
const FAILED_SHOWN = 50

/** What a job was for, in words, with the video it worked on when there is one. */
export interface JobSubject {
  text: string
  video: Video | null
}

/**
 * Admin → Jobs: the queues' counts, their failed jobs, the workers'
 * heartbeats, and the two things an admin does to a failed job: retry it or
 * discard it (both audited). A job that belongs to a video is retried through
 * the video's own rule (`video_service.retryTranscode`), so the video and its
 * job never disagree.
 */
export class JobAdminService {
  async overview() {
    const sections = await Promise.all(
      queues.queueNames().map(async (name) => {
        const [counts, failed] = await Promise.all([queues.counts(name), queues.failedJobs(name)])
        return { name, counts, keepsFailedJobs: queues.keepsFailedJobs(name), failedTotal: failed.length, failed: failed.slice(0, FAILED_SHOWN) }
      })
    )
    const videosById = await this.#videosOf(sections.flatMap((section) => section.failed))
    return {
      queues: sections.map((section) => ({
        ...section,
        failed: section.failed.map((job) => ({
          ...job,
          failedAt: job.failedAt ? DateTime.fromMillis(job.failedAt) : null,
          createdAt: DateTime.fromMillis(job.createdAt),
          subject: this.#describe(job, videosById.get(job.data?.videoId) ?? null),
        })),
      })),
      workers: (await queues.workers()).map((worker) => ({ ...worker, lastSeen: DateTime.fromMillis(worker.at) })),
    }
  }

  /**
   * A failed job runs again. A failed video's transcode gets the video's
   * retry (fresh attempts, the video back to queued, the creator sees it);
   * any other job goes back to waiting as it is.
   */
  async retry(actor: User, queue: string, id: string) {
    const name = this.#queueNamed(queue)
    return this.#exclusive(name, id, async () => {
      const job = await this.#failedJob(name, id, 'retry')
      const video = await this.#videoOf(job)
      const subject = this.#describe(job, video)
      const before = this.#stateOf(job, video)
      let after: Record<string, unknown>
      if (video?.status === 'failed' && (await videos.retryTranscode(actor, video))) {
        after = { state: 'waiting', video: { status: video.status, attempts: video.attempts } }
      } else if (await queues.requeueFailed(name, id)) {
        after = { state: 'waiting' }
      } else {
        throw this.#notFailed(name, id, 'retry')
      }
      await this.#record(actor, 'job.retry', job, video, before, after, `${actor.username} retried job ${name}#${id}: ${subject.text}`)
      return { job, subject }
    })
  }

  /** A failed job is forgotten; whatever it was for stays as it is (a failed video stays failed). */
  async discard(actor: User, queue: string, id: string) {
    const name = this.#queueNamed(queue)
    return this.#exclusive(name, id, async () => {
      const job = await this.#failedJob(name, id, 'discard')
      if (!(await queues.discardFailed(name, id))) throw this.#notFailed(name, id, 'discard')
      const video = await this.#videoOf(job)
      const subject = this.#describe(job, video)
      const before = this.#stateOf(job, video)
      await this.#record(actor, 'job.discard', job, video, before, { state: 'discarded' }, `${actor.username} discarded failed job ${name}#${id}: ${subject.text}`)
      return { job, subject }
    })
  }

  #queueNamed(queue: string): QueueName {
    if (!queues.isQueueName(queue)) {
      throw new JobNotFoundError(`There is no queue named "${queue}". The queues are: ${queues.queueNames().join(', ')}.`)
    }
    return queue
  }

  async #failedJob(name: QueueName, id: string, verb: string) {
    const found = await queues.findJob(name, id)
    if (!found) {
      throw new JobNotFoundError(
        `The ${name} queue has no job "${id}": it finished, or it was discarded or retried into a new job.`
      )
    }
    if (found.state !== 'failed') throw this.#notFailed(name, id, verb, found.state)
    return found.job
  }

  #notFailed(name: QueueName, id: string, verb: string, state?: string | null) {
    const now = state ? `is ${state}` : 'is no longer failed'
    return new RefusedActionError('job_not_failed', 409, `Job ${name}#${id} ${now}, not failed: there is nothing to ${verb}.`)
  }

  /** One admin action on a job at a time (two admins clicking Retry queue it once). */
  async #exclusive<T>(name: QueueName, id: string, action: () => Promise<T>): Promise<T> {
    const result = await withLock(`admin-job:${name}:${id}`, 30_000, async () => ({ value: await action() }))
    if (!result) {
      throw new RefusedActionError('job_busy', 409, `Someone else is acting on job ${name}#${id} right now: reload the page.`)
    }
    return result.value
  }

  /** What the audit log keeps of a failed job (and its video) before an action changes them. */
  #stateOf(job: StoredJob, video: Video | null) {
    return {
      state: 'failed',
      queue: job.queue,
      job: job.id,
      error: job.error,
      attempts: job.failedAttempts,
      failedAt: job.failedAt ? new Date(job.failedAt).toISOString() : null,
      ...(video ? { video: { id: video.id, status: video.status } } : {}),
    }
  }

  async #record(
    actor: User,
    action: string,
    job: StoredJob,
    video: Video | null,
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    summary: string
  ) {
    await audit.record({
      actor,
      action,
      subjectType: 'job',
      subjectId: `${job.queue}:${job.id}`.slice(0, 64),
      targetUserId: video?.ownerId ?? null,
      before,
      after,
      summary,
    })
  }

  async #videoOf(job: StoredJob) {
    const videoId = VIDEO_QUEUES.has(job.queue) ? job.data?.videoId : null
    return typeof videoId === 'string' && isUuid(videoId) ? Video.query().where('id', videoId).preload('owner').first() : null
  }

  async #videosOf(jobs: StoredJob[]) {
    const ids = jobs.filter((job) => VIDEO_QUEUES.has(job.queue)).map((job) => job.data?.videoId)
    const valid = [...new Set(ids.filter((id): id is string => typeof id === 'string' && isUuid(id)))]
    const found = valid.length ? await Video.query().whereIn('id', valid).preload('owner') : []
    return new Map(found.map((video) => [video.id, video]))
  }

  #describe(job: StoredJob, video: Video | null): JobSubject {
    const data = job.data ?? {}
    switch (job.queue) {
      case 'transcode':
        return {
          text: video
            ? `Transcode of "${video.title}" by ${video.owner?.username ?? 'a deleted account'} (video ${video.status})`
            : `Transcode of a video that no longer exists (${String(data.videoId)})`,
          video,
        }
      case 'transcode_chunk':
        return {
          text: video
            ? `Part ${Number(data.index) + 1} of the chunked transcode of "${video.title}" by ${video.owner?.username ?? 'a deleted account'} (video ${video.status})`
            : `Part of the transcode of a video that no longer exists (${String(data.videoId)})`,
          video,
        }
      case 'health':
        return { text: 'A health check ping to the workers', video: null }
      case 'watermark':
      case 'watermark_ahead':
        return { text: `Watermarked segment ${data.index} (${data.rendition}) of playback session ${data.sessionId}`, video: null }
    }
    return { text: JSON.stringify(data).slice(0, 200), video: null }
  }
}

/** Queues whose jobs are about one video (`data.videoId`): a failed one is retried as the video's retry. */
const VIDEO_QUEUES: ReadonlySet<string> = new Set(['transcode', 'transcode_chunk'])

const jobAdmin = new JobAdminService()
export default jobAdmin
