import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import storage from '#services/storage_service'
import { makeWorkDir } from '#services/media/work_dirs'

/** Scratch folders of cached sources: swept like transcode folders when their process died. */
export const SOURCE_CACHE_PREFIX = 'matinee-source-'

interface Entry {
  dir: Promise<string>
  path: Promise<string>
  users: number
}

/**
 * A worker's copy of the sources it transcodes, on its own disk. The chunks
 * of one long video mostly land on the same few workers, and each needs the
 * whole source (FFmpeg seeks in it): a worker downloads it once and keeps it
 * while it works on that video. Unused copies are deleted as soon as another
 * source is fetched, so a worker holds at most one idle copy; the worker that
 * joins a video drops its copy, and a killed worker's folder is swept.
 */
export class SourceCache {
  #entries = new Map<string, Entry>()

  /** Runs `work` with a local path of the stored object `key` (downloaded once per process). */
  async use<T>(key: string, filename: string, work: (path: string) => Promise<T>): Promise<T> {
    let entry = this.#entries.get(key)
    if (!entry) {
      await this.#evictIdle()
      const dir = makeWorkDir(SOURCE_CACHE_PREFIX)
      const path = dir.then(async (folder) => {
        const file = join(folder, `source-${filename.replace(/[^A-Za-z0-9._-]/g, '_')}`)
        const object = await storage.get(key)
        await pipeline(object.body, createWriteStream(file))
        return file
      })
      entry = { dir, path, users: 0 }
      this.#entries.set(key, entry)
      // A failed download is not kept: the next use fetches again.
      path.catch(() => this.#remove(key, entry!))
    }
    entry.users++
    try {
      return await work(await entry.path)
    } finally {
      entry.users--
    }
  }

  /** Deletes the copy of `key` if no run is using it (the video is done here). */
  async drop(key: string) {
    const entry = this.#entries.get(key)
    if (entry && entry.users === 0) await this.#remove(key, entry)
  }

  async #evictIdle() {
    for (const [key, entry] of [...this.#entries]) if (entry.users === 0) await this.#remove(key, entry)
  }

  async #remove(key: string, entry: Entry) {
    if (this.#entries.get(key) === entry) this.#entries.delete(key)
    const dir = await entry.dir.catch(() => null)
    if (dir) await rm(dir, { recursive: true, force: true })
  }
}

const sourceCache = new SourceCache()
export default sourceCache
