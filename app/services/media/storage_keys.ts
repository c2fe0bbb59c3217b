/*
| The storage key layout of everything stored for a video and for a playback
| session, in one place: the transcoder writes these keys, playback and the
| watermarkers read them, cleanup deletes their prefixes. Nothing else builds
| a media key by hand.
|
|   videos/<video>/                       everything of one video
|     poster.jpg | poster-custom.<ext>    poster (generated | uploaded)
|     sprite.jpg, sprite.vtt              scrubbing thumbnails
|     captions/<language>.vtt             subtitles a creator uploaded (WebVTT)
|     hls/master.m3u8                     the ladder
|     hls/<rendition>/index.m3u8          a rendition's playlist
|     hls/<rendition>/init.mp4            its init segment
|     hls/<rendition>/seg_00001.m4s       its media segments
|     hls/<rendition>/ab/<a|b>/seg_00001.m4s  forensic A/B variants of a segment
|     chunks/<generation>/<index>/<file>  a chunked transcode's pieces (until joined)
|   playback/<session>/                   everything of one playback session
|     <rendition>/wm_00001.ts             just-in-time visible watermark renders
|
| Forensic variants live under the rendition's folder in hls/, so a new
| transcode attempt (which clears hls/) and a video's deletion take them too;
| no playback URL path can name them (see parsePlayPath), so a session can
| only reach the variant its code selects.
*/

export type ForensicVariant = 'a' | 'b'

export const segmentName = (index: number) => `seg_${String(index).padStart(5, '0')}.m4s`
export const watermarkedName = (index: number) => `wm_${String(index).padStart(5, '0')}.ts`

/** Everything stored for a video lives under this prefix. */
export const videoPrefix = (videoId: string) => `videos/${videoId}/`

/** The HLS folder of a video as the transcoder writes it (stored on the row as `hlsPrefix`). */
export const hlsPrefixOf = (videoId: string) => `${videoPrefix(videoId)}hls/`

export const generatedPosterKey = (videoId: string) => `${videoPrefix(videoId)}poster.jpg`
export const customPosterKey = (videoId: string, extname: 'jpg' | 'png' | 'webp') => `${videoPrefix(videoId)}poster-custom.${extname}`
export const spriteKey = (videoId: string) => `${videoPrefix(videoId)}sprite.jpg`
export const spriteVttKey = (videoId: string) => `${videoPrefix(videoId)}sprite.vtt`

/**
 * The pieces of a segment-parallel transcode (one folder per chunk of one
 * plan): encoded by any worker, read by the worker that joins them, deleted
 * once joined. Under the video's prefix, so a deletion takes them too.
 */
export const chunkPrefix = (videoId: string) => `${videoPrefix(videoId)}chunks/`
export const chunkKey = (videoId: string, generation: number, index: number, file: string) =>
  `${chunkPrefix(videoId)}${generation}/${index}/${file}`

/** The HLS folder stored on a video row; a video that was never transcoded has none. */
function folder(hlsPrefix: string | null) {
  if (!hlsPrefix) throw new Error('This video has no HLS renditions yet')
  return hlsPrefix
}

/** Keys inside a video's HLS folder (`hlsPrefix` as stored on the row). */
export const hlsKeys = {
  master: (hlsPrefix: string | null) => `${folder(hlsPrefix)}master.m3u8`,
  /** A file named relative to the HLS folder, e.g. a rendition's playlist "720p/index.m3u8". */
  file: (hlsPrefix: string | null, relativePath: string) => `${folder(hlsPrefix)}${relativePath}`,
  init: (hlsPrefix: string | null, rendition: string, file: string) => `${folder(hlsPrefix)}${rendition}/${file}`,
  segment: (hlsPrefix: string | null, rendition: string, index: number) => `${folder(hlsPrefix)}${rendition}/${segmentName(index)}`,
  /** A forensic variant of a segment: same boundaries and init segment as the unmarked one. */
  variantSegment: (hlsPrefix: string | null, rendition: string, variant: ForensicVariant, index: number) =>
    `${folder(hlsPrefix)}${rendition}/ab/${variant}/${segmentName(index)}`,
  /** All forensic variants of a rendition (to delete or list them). */
  variantPrefix: (hlsPrefix: string | null, rendition: string) => `${folder(hlsPrefix)}${rendition}/ab/`,
}

/**
 * A video's HLS media (init segments, media segments, forensic variants): the
 * same bytes for every viewer of the video, rewritten only by a new transcode,
 * so a web node may keep them in memory (app/services/media/hot_objects.ts).
 */
export const isSharedMediaKey = (key: string) => /^videos\/[^/]+\/hls\/[^/]+\/.+\.(?:m4s|mp4)$/.test(key)

/** Everything stored for a playback session (its just-in-time renders) lives under this prefix. */
export const sessionPrefix = (sessionId: string) => `playback/${sessionId}/`

/** A just-in-time visible watermark render of one segment for one session. */
export const renderKey = (sessionId: string, rendition: string, index: number) =>
  `${sessionPrefix(sessionId)}${rendition}/${watermarkedName(index)}`

/** A video's subtitles in one language (a BCP 47 tag), stored as WebVTT. */
export const captionKey = (videoId: string, language: string) => `${videoPrefix(videoId)}captions/${language}.vtt`
