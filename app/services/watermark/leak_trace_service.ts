import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type User from '#models/user'
import type Video from '#models/video'
import LeakTrace, { type LeakTraceStatus } from '#models/leak_trace'
import audit from '#services/audit_service'
import storage from '#services/storage_service'
import queues from '#services/queue_service'
import { FinalJobFailure } from '#jobs/queues'
import { TraceRefusedError, traceLeak, type TraceResult } from '#services/watermark/forensic_tracer'

/** Where an uploaded clip waits for the worker: under `traces/`, which no route serves. */
const clipKey = (traceId: number) => `traces/${traceId}/clip`

/**
 * Leak traces asked for from Admin → Videos: the clip is stored, a
 * `forensic_trace` job traces it in the worker, the verdict is kept on the
 * row and audited, the clip deleted.
 */
class LeakTraceService {
  /** The audit entry of a trace (the ace command and the worker job both record it). */
  async recordVerdict(result: TraceResult, actor: { id: number } | null, via: string) {
    await audit.record({
      actor,
      action: 'forensic.trace',
      subjectType: 'video',
      subjectId: result.videoId,
      targetUserId: result.named?.userId ?? null,
      after: { named: result.named?.sessionId ?? null, pValue: result.best?.pValue ?? null, sessions: result.sessionsScored, segments: result.segments.length },
      summary: `Leak trace (${via}) of "${result.videoTitle}": ${result.message}`,
    })
  }

  /** Stores the clip and queues its trace. The row exists before the job, so the worker always finds it. */
  async request(admin: User, video: Video, clipPath: string) {
    const trace = await LeakTrace.create({ videoId: video.id, requestedBy: admin.id, status: 'queued' })
    trace.clipKey = clipKey(trace.id)
    await storage.put(trace.clipKey, createReadStream(clipPath))
    await trace.save()
    await queues.producer('forensic_trace').createJob({ traceId: trace.id }).setId(`trace-${trace.id}`).retries(2).save()
    return trace
  }

  /** One attempt, run by the worker. */
  async run(traceId: number) {
    const trace = await LeakTrace.find(traceId)
    if (!trace || !['queued', 'running'].includes(trace.status)) return { skipped: true }
    if (!trace.clipKey) throw new FinalJobFailure(`leak trace ${traceId} has no clip`)
    trace.status = 'running'
    await trace.save()
    const dir = await mkdtemp(join(tmpdir(), 'matinee-trace-'))
    try {
      const path = join(dir, 'clip')
      const object = await storage.get(trace.clipKey)
      await pipeline(object.body, createWriteStream(path))
      try {
        const result = await traceLeak(path, trace.videoId)
        trace.merge({ status: 'done', result, error: null })
        await this.recordVerdict(result, trace.requestedBy === null ? null : { id: trace.requestedBy }, 'Admin → Videos')
      } catch (error) {
        // A trace is deterministic: another attempt would fail the same way.
        trace.merge(error instanceof TraceRefusedError ? { status: 'refused', error: error.message } : { status: 'failed', error: String(error?.message ?? error).slice(0, 2000) })
      }
      await storage.delete(trace.clipKey)
      trace.clipKey = null
      await trace.save()
      const outcome = trace.status as LeakTraceStatus
      if (outcome === 'failed') throw new FinalJobFailure(trace.error ?? 'the trace failed')
      return { status: outcome }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export default new LeakTraceService()
