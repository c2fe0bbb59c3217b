import watermarker, { type WatermarkJobData } from '#services/watermark/just_in_time'

/** Renders one watermarked segment of a playback session. */
export default async function watermarkJob(data: WatermarkJobData) {
  return { outcome: await watermarker.render(data) }
}
