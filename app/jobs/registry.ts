/*
| Every queue with its handler. Only the worker (commands/queue_work.ts)
| imports this map: it loads every handler and so every service they use.
*/
import type { JobHandler, QueueName } from '#jobs/queues'

export const JOBS = {
  health: () => import('#jobs/health_ping_job'),
  transcode: () => import('#jobs/transcode_job'),
  transcode_chunk: () => import('#jobs/transcode_chunk_job'),
  watermark: () => import('#jobs/watermark_job'),
  watermark_ahead: () => import('#jobs/watermark_job'),
  forensic_trace: () => import('#jobs/forensic_trace_job'),
  mail: () => import('#jobs/receipt_mail_job'),
} satisfies Record<QueueName, () => Promise<{ default: JobHandler }>>
