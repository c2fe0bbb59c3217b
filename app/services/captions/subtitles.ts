/*
| Subtitle files as creators upload them: WebVTT, or SRT (converted). Both are
| parsed into cues and written back as clean WebVTT, so what we store and
| serve is always a file the browser's <track> parser accepts, whatever the
| upload looked like (a BOM, CRLF line ends, SRT's comma decimals, cue
| numbers). Anything that is not subtitles is refused with the reason.
*/

export interface Cue {
  /** Seconds, to the millisecond. */
  start: number
  end: number
  /** WebVTT cue settings (position, align, ...), kept as written. */
  settings: string
  text: string
}

/** Why an upload was refused, and the form field it is about. */
export class SubtitleError extends Error {
  constructor(
    message: string,
    readonly field: 'file' | 'language' = 'file'
  ) {
    super(message)
  }
}

/** hh:mm:ss.mmm or mm:ss.mmm (WebVTT); SRT writes hh:mm:ss,mmm. */
const TIMESTAMP = /^(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)[.,](\d{3})$/
const TIMING = /^(\S+)\s+-->\s+(\S+)(?:\s+(.*))?$/

function seconds(stamp: string): number | null {
  const match = TIMESTAMP.exec(stamp)
  if (!match) return null
  const [, hours, minutes, secs, millis] = match
  return Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(secs) + Number(millis) / 1000
}

function stamp(value: number) {
  const ms = Math.round(value * 1000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`
}

/** UTF-8 text of an upload, or the reason it is not a text file. */
function decode(bytes: Uint8Array) {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new SubtitleError('This file is not UTF-8 text, so it is not a subtitle file (save it as UTF-8 WebVTT or SRT).')
  }
  if (text.includes('\u0000')) throw new SubtitleError('This file is binary, not a WebVTT or SRT subtitle file.')
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
}

/**
 * Reads a WebVTT or SRT upload into cues. The format is decided by the
 * content (a WebVTT file starts with "WEBVTT"), not the file name.
 */
export function parseSubtitles(bytes: Uint8Array): { format: 'vtt' | 'srt'; cues: Cue[] } {
  const text = decode(bytes)
  const format = /^WEBVTT(?:[ \t].*)?(?:\n|$)/.test(text) ? 'vtt' : 'srt'
  const blocks = text.split(/\n{2,}/).map((block) => block.trim()).filter(Boolean)
  if (format === 'vtt') blocks.shift()

  const cues: Cue[] = []
  for (const block of blocks) {
    const lines = block.split('\n')
    // WebVTT blocks that carry no cue.
    if (format === 'vtt' && /^(NOTE|STYLE|REGION)(?:\s|$)/.test(lines[0])) continue
    const timingAt = lines.findIndex((line) => line.includes('-->'))
    // A cue identifier (SRT's counter) may come before the timing line, nothing else.
    if (timingAt === -1 || timingAt > 1) throw notSubtitles(format, cues.length, lines[0])
    const timing = TIMING.exec(lines[timingAt].trim())
    const start = timing ? seconds(timing[1]) : null
    const end = timing ? seconds(timing[2]) : null
    if (start === null || end === null || end < start) {
      throw new SubtitleError(`Cue ${cues.length + 1} has a bad timing line "${lines[timingAt].slice(0, 80)}" (expected 00:00:01.000 --> 00:00:02.500).`)
    }
    const settings = format === 'vtt' ? (timing![3] ?? '').trim() : ''
    const body = lines.slice(timingAt + 1).join('\n')
    // "-->" may not appear in cue text; an empty cue carries nothing.
    if (!body.trim() || body.includes('-->')) continue
    cues.push({ start, end, settings, text: body })
  }
  if (!cues.length) {
    throw new SubtitleError(format === 'vtt' ? 'This WebVTT file has no cues.' : 'This is not a WebVTT or SRT subtitle file: no timed cues were found.')
  }
  return { format, cues }
}

function notSubtitles(format: 'vtt' | 'srt', parsed: number, line: string) {
  const what = format === 'vtt' ? 'WebVTT' : 'WebVTT or SRT subtitle'
  return new SubtitleError(`This is not a ${what} file: after ${parsed} cue(s) came "${line.slice(0, 80)}" where a timing line (00:00:01.000 --> 00:00:02.500) was expected.`)
}

/** The cues as a WebVTT file. */
export function toWebVtt(cues: Cue[]) {
  const lines = ['WEBVTT', '']
  for (const cue of cues) {
    lines.push(`${stamp(cue.start)} --> ${stamp(cue.end)}${cue.settings ? ' ' + cue.settings : ''}`, cue.text, '')
  }
  return lines.join('\n')
}
