import vine from '@vinejs/vine'
import { definePlugin } from '@matinee/plugin-kit'
import { LumaWatermarker } from './luma_watermarker.js'

/**
 * The forensic watermark: for videos in `forensic` or `both` mode the
 * transcoder encodes every segment of the configured renditions twice more,
 * as variants A and B carrying a keyed, imperceptible luma mark of opposite
 * signs. The core derives each video's key from APP_KEY and hands it in;
 * this plugin only turns a key into a mark and reads a mark back.
 */
export default definePlugin({
  name: 'watermark-forensic',
  version: '1.0.0',
  description: 'Forensic A/B watermark: an imperceptible keyed luma mark in two variants of every segment',
  options: vine.object({
    /** Luma levels (of 255) the mark may add or remove: 2 costs about 47 dB before encoding. */
    amplitude: vine.number().withoutDecimals().min(1).max(4).optional(),
  }),
  register(api) {
    api.watermarks.register(new LumaWatermarker(api.options.amplitude ?? 2))
  },
})
