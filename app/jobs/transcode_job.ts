import Video from '#models/video'
import { FinalJobFailure } from '#jobs/queues'
import transcoder, { type TranscodeJobData } from '#services/transcode_service'

/**
 * A transcode attempt; retries, stalls and final failure are the service's
 * rules. A video that failed for good leaves its job in the queue's failed
 * list, with the video's error, for Admin → Jobs.
 */
export default async function transcodeJob(data: TranscodeJobData) {
  const outcome = await transcoder.process(data)
  if (outcome === 'failed') {
    const video = await Video.find(data.videoId)
    throw new FinalJobFailure(video?.lastError ?? 'The transcode failed')
  }
  return { outcome }
}
