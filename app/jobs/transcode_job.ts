import transcoder, { type TranscodeJobData } from '#services/transcode_service'

/** A transcode attempt; retries, stalls and final failure are the service's rules. */
export default async function transcodeJob(data: TranscodeJobData) {
  return { outcome: await transcoder.process(data) }
}
