/**
 * How a video's playback sessions are protected: nothing, the visible
 * just-in-time render, the forensic A/B sequence, or the render drawn on the
 * sequence (see admission.ts).
 */
export const WATERMARK_MODES = ['off', 'visible', 'forensic', 'both'] as const
export type WatermarkMode = (typeof WATERMARK_MODES)[number]
