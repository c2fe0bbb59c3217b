/*
| HLS playlists as stored by the transcoder are rewritten per session: every
| URI (variant playlists, EXT-X-MAP init segments, media segments) becomes a
| signed URL of that session, and entries the session may not use are dropped.
*/

export type PlaylistUriKind = 'variant' | 'media' | 'map' | 'segment'

export interface PlaylistUri {
  kind: PlaylistUriKind
  /** The URI resolved against the playlist's folder, e.g. "720p/seg_00001.m4s". */
  path: string
  /** Attributes of the tag that carries or precedes the URI. */
  attributes: Record<string, string>
}

/** The URL to write instead, or null to drop the entry. */
export type UriRewriter = (uri: PlaylistUri) => string | null

const ATTRIBUTE = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g
const TAGS_WITH_URI: Record<string, PlaylistUriKind> = {
  '#EXT-X-MAP': 'map',
  '#EXT-X-MEDIA': 'media',
  '#EXT-X-I-FRAME-STREAM-INF': 'variant',
}

export function parseAttributes(list: string) {
  const attributes: Record<string, string> = {}
  for (const match of list.matchAll(ATTRIBUTE)) attributes[match[1]] = match[2].replace(/^"|"$/g, '')
  return attributes
}

/** Resolves a relative URI of a playlist in `folder`; anything else is refused. */
export function resolveUri(folder: string, uri: string) {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(uri) || uri.includes('..') || uri.includes('//')) {
    throw new Error(`Playlist URI "${uri}" is not a plain relative path`)
  }
  return folder ? `${folder}/${uri}` : uri
}

/**
 * Rewrites every URI of a playlist stored at `path` (relative to the video's
 * HLS folder, e.g. "master.m3u8" or "720p/index.m3u8").
 */
export function rewritePlaylist(text: string, path: string, rewrite: UriRewriter) {
  const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
  const out: string[] = []
  let pending: { line: string; kind: PlaylistUriKind; attributes: Record<string, string> } | null = null

  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line) continue
    if (line.startsWith('#')) {
      const colon = line.indexOf(':')
      const tag = colon === -1 ? line : line.slice(0, colon)
      if (tag === '#EXT-X-STREAM-INF' || tag === '#EXTINF') {
        pending = { line, kind: tag === '#EXTINF' ? 'segment' : 'variant', attributes: parseAttributes(line.slice(colon + 1)) }
        continue
      }
      const kind = TAGS_WITH_URI[tag]
      const uriMatch = kind ? line.match(/URI="([^"]*)"/) : null
      if (kind && uriMatch) {
        const attributes = parseAttributes(line.slice(colon + 1))
        const url = rewrite({ kind, path: resolveUri(folder, uriMatch[1]), attributes })
        if (url !== null) out.push(line.replace(uriMatch[0], `URI="${url}"`))
        continue
      }
      out.push(line)
      continue
    }
    // A URI line: the segment or variant announced by the tag before it.
    const kind = pending?.kind ?? 'segment'
    const url = rewrite({ kind, path: resolveUri(folder, line), attributes: pending?.attributes ?? {} })
    if (url !== null) {
      if (pending) out.push(pending.line)
      out.push(url)
    }
    pending = null
  }
  return out.join('\n') + '\n'
}

/** What a playback URL path names, or null when it names nothing we serve. */
export type PlayTarget =
  | { kind: 'master' }
  | { kind: 'variant'; rendition: string }
  | { kind: 'init'; rendition: string; file: string }
  | { kind: 'segment'; rendition: string; index: number }
  | { kind: 'watermarked'; rendition: string; index: number }
  /** The seek bar's preview thumbnails: a WebVTT of #xywh tiles, and the sheet they cut. */
  | { kind: 'thumbnails' }
  | { kind: 'sprite' }
  /** Subtitles in one language (a BCP 47 tag). */
  | { kind: 'captions'; language: string }

const PLAY_PATH =
  /^(?:(?<master>master\.m3u8)|(?<thumbnails>thumbnails\.vtt)|(?<sprite>thumbnails\.jpg)|captions\/(?<language>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3})\.vtt|(?<rendition>[a-z0-9]{1,16})\/(?:(?<variant>index\.m3u8)|(?<init>init(?:_\d{1,2})?\.mp4)|seg_(?<segment>\d{5})\.m4s|wm_(?<watermarked>\d{5})\.ts))$/

export function parsePlayPath(path: string): PlayTarget | null {
  const groups = PLAY_PATH.exec(path)?.groups
  if (!groups) return null
  const { master, thumbnails, sprite, language, rendition, variant, init, segment, watermarked } = groups
  if (master) return { kind: 'master' }
  if (thumbnails) return { kind: 'thumbnails' }
  if (sprite) return { kind: 'sprite' }
  if (language) return { kind: 'captions', language }
  if (variant) return { kind: 'variant', rendition }
  if (init) return { kind: 'init', rendition, file: init }
  if (segment) return { kind: 'segment', rendition, index: Number(segment) }
  return { kind: 'watermarked', rendition, index: Number(watermarked) }
}

// File names of segments belong to the storage key layout.
export { segmentName, watermarkedName } from '#services/media/storage_keys'
