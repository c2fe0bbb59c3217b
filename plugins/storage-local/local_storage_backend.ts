import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, unlink, access, constants } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type {
  ByteRange,
  PluginHealth,
  StorageBackend,
  StoredObjectHead,
  StoredObjectMeta,
  StoredObjectStream,
} from '@matinee/plugin-kit'
import { InvalidRangeError, ObjectNotFoundError, contentTypeFor, isProcessAlive } from '@matinee/plugin-kit'

/** Read size when streaming objects: segments go out in a few large writes, not many 64 KB ones. */
const READ_CHUNK = 256 * 1024

/**
 * Objects are files under `root`. Writes go to a temporary file renamed into
 * place, so a reader never sees half an object and a crash leaves no partial
 * object under its key.
 */
export class LocalStorageBackend implements StorageBackend {
  readonly id = 'local'
  readonly label = 'Local disk'
  readonly root: string

  /** Writes in progress live here (same filesystem, so the final rename is atomic). */
  readonly #partialDir: string

  constructor(root: string) {
    this.root = resolve(root)
    this.#partialDir = join(this.root, '.partial')
  }

  /**
   * Removes writes a killed process left unfinished (their writer's pid is
   * gone). Called when the backend starts; returns how many it removed.
   */
  async sweepPartials() {
    let removed = 0
    const names = await readdir(this.#partialDir).catch(() => [] as string[])
    for (const name of names) {
      const pid = Number(name.split('-')[0])
      if (pid === process.pid || isProcessAlive(pid)) continue
      await rm(join(this.#partialDir, name), { force: true })
      removed++
    }
    return removed
  }

  #path(key: string) {
    const path = resolve(this.root, key)
    // Defence in depth: the core validates keys, the backend still refuses to leave its root.
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`key "${key}" escapes the storage root`)
    return path
  }

  async put(key: string, body: Readable | Buffer, meta?: StoredObjectMeta): Promise<StoredObjectHead> {
    const path = this.#path(key)
    await mkdir(dirname(path), { recursive: true })
    await mkdir(this.#partialDir, { recursive: true })
    const temporary = join(this.#partialDir, `${process.pid}-${randomBytes(8).toString('hex')}`)
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(temporary))
      await rename(temporary, path)
    } catch (error) {
      await unlink(temporary).catch(() => {})
      throw error
    }
    const head = await this.head(key)
    return { ...head!, contentType: meta?.contentType ?? head!.contentType }
  }

  async get(key: string, options: { range?: ByteRange } = {}): Promise<StoredObjectStream> {
    const head = await this.head(key)
    if (!head) throw new ObjectNotFoundError(key)
    const range = options.range
    if (!range) return { ...head, body: createReadStream(this.#path(key), { highWaterMark: READ_CHUNK }) }
    const end = range.end === undefined ? head.size - 1 : Math.min(range.end, head.size - 1)
    if (range.start < 0 || range.start >= head.size || end < range.start) throw new InvalidRangeError(key, head.size)
    return {
      ...head,
      body: createReadStream(this.#path(key), { start: range.start, end, highWaterMark: READ_CHUNK }),
      range: { start: range.start, end },
    }
  }

  async head(key: string): Promise<StoredObjectHead | null> {
    try {
      const info = await stat(this.#path(key))
      if (!info.isFile()) return null
      return { key, size: info.size, contentType: contentTypeFor(key), lastModified: info.mtime }
    } catch (error: any) {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null
      throw error
    }
  }

  async delete(keyOrPrefix: string) {
    const path = this.#path(keyOrPrefix)
    if (keyOrPrefix.endsWith('/')) {
      await rm(path, { recursive: true, force: true })
    } else {
      await unlink(path).catch((error) => {
        if (error.code !== 'ENOENT') throw error
      })
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectHead> {
    const base = prefix.endsWith('/') ? this.#path(prefix) : dirname(this.#path(prefix))
    for await (const file of walk(base)) {
      const key = relative(this.root, file).split(sep).join('/')
      if (!key.startsWith(prefix) || key.startsWith('.partial/')) continue
      const head = await this.head(key)
      if (head) yield head
    }
  }

  async health(): Promise<PluginHealth> {
    try {
      await mkdir(this.root, { recursive: true })
      await access(this.root, constants.W_OK)
      return { ok: true, message: `writable at ${this.root}` }
    } catch (error) {
      return { ok: false, message: `${this.root} is not writable: ${(error as Error).message}` }
    }
  }
}

async function* walk(dir: string): AsyncIterable<string> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error: any) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return
    throw error
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* walk(path)
    else if (entry.isFile()) yield path
  }
}
