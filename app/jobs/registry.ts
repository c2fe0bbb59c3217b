/*
| Every queue a worker consumes, with its handler. A handler receives the job
| data and returns a JSON-serialisable result; throwing fails the attempt.
*/
export type JobHandler = (data: any, job: { id: string; reportProgress(p: unknown): void }) => Promise<unknown>

/**
 * Thrown by a handler whose failure another attempt cannot fix (the domain
 * already recorded it for good): the job skips its remaining retries and
 * stays in the queue's failed list, where Admin → Jobs shows it.
 */
export class FinalJobFailure extends Error {}

export const JOBS = {
  health: () => import('#jobs/health_ping_job'),
  transcode: () => import('#jobs/transcode_job'),
  // Watermarked segments: `watermark` for the segment a player waits for,
  // `watermark_ahead` for the lookahead. Two queues so a waiting player never
  // queues behind other sessions' lookahead (bee-queue has no priorities).
  watermark: () => import('#jobs/watermark_job'),
  watermark_ahead: () => import('#jobs/watermark_job'),
} satisfies Record<string, () => Promise<{ default: JobHandler }>>

export type QueueName = keyof typeof JOBS
