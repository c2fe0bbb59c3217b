import { readFile } from 'node:fs/promises'
import captionsConfig from '#config/captions'
import type Video from '#models/video'
import VideoCaption from '#models/video_caption'
import storage from '#services/storage_service'
import { parseSubtitles, SubtitleError, toWebVtt } from '#services/captions/subtitles'

const names = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' })
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$/

/**
 * A BCP 47 language tag in canonical case ("pt-br" → "pt-BR") with its
 * English name, or null when it names no language we know (the player shows
 * the name in its captions menu and the browser uses the tag).
 */
export function canonicalLanguage(input: string): { tag: string; name: string } | null {
  if (!LANGUAGE_TAG.test(input)) return null
  let tag: string
  try {
    tag = Intl.getCanonicalLocales(input)[0]
  } catch {
    return null
  }
  const name = names.of(tag)
  return name && LANGUAGE_TAG.test(tag) ? { tag, name } : null
}

/** Subtitles of videos: one WebVTT file per language, uploaded by the video's creator (or an admin). */
export class CaptionService {
  list(video: Video) {
    return VideoCaption.query().where('videoId', video.id).orderBy('label')
  }

  /**
   * Stores an uploaded WebVTT or SRT file as the video's subtitles in
   * `language`, replacing the ones it had in that language. Throws a
   * SubtitleError (nothing changed) when the file is not subtitles.
   */
  async save(video: Video, input: { language: string; path: string; fileName: string }) {
    if (!/\.(vtt|srt)$/i.test(input.fileName)) {
      throw new SubtitleError(`"${input.fileName.slice(0, 100)}" is not a subtitle file: upload WebVTT (.vtt) or SRT (.srt).`)
    }
    const language = canonicalLanguage(input.language)
    if (!language) throw new SubtitleError(`"${input.language}" is not a language code (use a code like en, fr or pt-BR).`, 'language')
    const { format, cues } = parseSubtitles(await readFile(input.path))
    const existing = await VideoCaption.query().where({ videoId: video.id, language: language.tag }).first()
    if (!existing && (await this.list(video)).length >= captionsConfig.maxPerVideo) {
      throw new SubtitleError(`A video carries at most ${captionsConfig.maxPerVideo} caption languages; delete one first.`, 'language')
    }
    const vtt = Buffer.from(toWebVtt(cues))
    const caption = existing ?? new VideoCaption()
    caption.merge({ videoId: video.id, language: language.tag, label: language.name, sizeBytes: vtt.length, cueCount: cues.length })
    // The file first: a row never names a file that is not there.
    await storage.put(caption.storageKey, vtt, { contentType: 'text/vtt' })
    await caption.save()
    return { caption, replaced: !!existing, format }
  }

  async remove(video: Video, language: string) {
    const caption = await VideoCaption.query().where({ videoId: video.id, language }).first()
    if (!caption) return null
    await caption.delete()
    await storage.delete(caption.storageKey)
    return caption
  }

  /** The caption of a video in a language, if it has one (for playback). */
  find(videoId: string, language: string) {
    return VideoCaption.query().where({ videoId, language }).first()
  }
}

const captions = new CaptionService()
export default captions
