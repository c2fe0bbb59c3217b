import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { HttpContext } from '@adonisjs/core/http'

export type StreamedFile = { path: string; clientName: string; cleanup: () => Promise<void> }

/**
 * One file of a multipart request on a `processManually` route (see
 * config/bodyparser.ts), written to a temporary folder as it arrives and
 * refused past `size` without buffering it: for files far larger than the
 * body parser's limit for ordinary forms. Answers the file, or the reason it
 * was refused (nothing is kept then).
 */
export async function receiveStreamedFile(request: HttpContext['request'], field: string, size: string): Promise<StreamedFile | { error: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'matinee-upload-'))
  const cleanup = () => rm(dir, { recursive: true, force: true })
  const path = join(dir, 'file')
  request.multipart.onFile(field, { size }, async (part, reportChunk) => {
    part.pause()
    part.on('data', reportChunk)
    await pipeline(part, createWriteStream(path))
    return { tmpPath: path }
  })
  const tooLarge = `The file is larger than ${size}, the most this form accepts.`
  try {
    await request.multipart.process({ limit: size })
  } catch (error) {
    await cleanup()
    return { error: (error as { status?: number }).status === 413 ? tooLarge : (error as Error).message }
  }
  const file = request.file(field)
  if (!file || !file.isValid || !file.tmpPath) {
    await cleanup()
    return { error: file?.errors[0]?.type === 'size' ? tooLarge : (file?.errors[0]?.message ?? '') }
  }
  return { path: file.tmpPath, clientName: file.clientName, cleanup }
}
