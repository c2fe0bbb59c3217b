/*
| Every queue a worker consumes, with its handler. A handler receives the job
| data and returns a JSON-serialisable result; throwing fails the job.
*/
export type JobHandler = (data: any, job: { id: string; reportProgress(p: unknown): void }) => Promise<unknown>

export const JOBS: Record<string, () => Promise<{ default: JobHandler }>> = {
  health: () => import('#jobs/health_ping_job'),
}

export type QueueName = keyof typeof JOBS
