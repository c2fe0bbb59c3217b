import Video from '#models/video'
import { FinalJobFailure } from '#jobs/queues'
import transcoder from '#services/transcode_service'
import type { ChunkJobData } from '#services/media/chunked_transcode'

/**
 * One piece of a long video's segment-parallel transcode (a chunk of frames,
 * the soundtrack, or the join); its rules are the chunked transcoder's. A
 * piece whose failure failed the video leaves its job in the failed list.
 */
export default async function transcodeChunkJob(data: ChunkJobData) {
  const outcome = await transcoder.chunks.process(data)
  if (outcome === 'failed') {
    const video = await Video.find(data.videoId)
    throw new FinalJobFailure(video?.lastError ?? 'The transcode failed')
  }
  return { outcome }
}
