/*
| The queues and what a job handler is. Kept apart from the registry (which
| imports every handler, and so the services they use) so that the queue
| service and the handlers can both import these without an import loop.
*/

/** Every queue a worker consumes (app/jobs/registry.ts maps each to its handler). */
export const QUEUE_NAMES = [
  'health',
  'transcode',
  // Chunks of a long video's transcode (segment-parallel): any worker takes one.
  'transcode_chunk',
  // Watermarked segments: `watermark` for the segment a player waits for,
  // `watermark_ahead` for the lookahead. Two queues so a waiting player never
  // queues behind other sessions' lookahead (bee-queue has no priorities).
  'watermark',
  'watermark_ahead',
  // Leaked clips an admin uploaded to trace (Admin → Videos → Trace a leak).
  'forensic_trace',
  // Receipts mailed to buyers: sent by a worker, retried, so neither a slow
  // SMTP server nor the death of the process that took the payment loses one.
  'mail',
] as const

export type QueueName = (typeof QUEUE_NAMES)[number]

/**
 * A handler receives the job data and returns a JSON-serialisable result;
 * throwing fails the attempt.
 */
export type JobHandler = (data: any, job: { id: string; reportProgress(p: unknown): void }) => Promise<unknown>

/**
 * Thrown by a handler whose failure another attempt cannot fix (the domain
 * already recorded it for good): the job skips its remaining retries and
 * stays in the queue's failed list, where Admin → Jobs shows it.
 */
export class FinalJobFailure extends Error {}
