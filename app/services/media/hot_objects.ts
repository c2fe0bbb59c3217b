import playbackConfig from '#config/playback'
import storage from '#services/storage_service'
import type { StoredObjectHead } from '#hooks/contracts'

/** Heads held for objects nginx sends (a head is a few hundred bytes). */
const MAX_HEADS = 50_000

/** A whole stored object held in memory, with what its head said. */
export interface HotObject {
  bytes: Buffer
  contentType: string | undefined
  /** When it was read (ms): older than the TTL, it is read again. */
  loadedAt: number
}

/**
 * The media segments (and init segments) of videos, whole, in this web
 * process's memory: a premiere's viewers all fetch the same few segments
 * (two variants each for a forensic video), so after the first request each
 * one is written from memory, without a stat, an open, reads and fresh
 * buffers per request (which is most of what serving a segment from disk
 * costs Node). Only bytes are kept here: every request is still checked
 * (signature, session, entitlement) before it reaches them.
 *
 * Bounded by bytes (least recently used go first) and by a per-object size;
 * entries are read again after a TTL, and a changed video drops its own at
 * once (PlaybackSessionCache calls dropVideo on every node), so a new
 * transcode is never served from old bytes for longer than that.
 */
export class HotObjectCache {
  #entries = new Map<string, HotObject>()
  #heads = new Map<string, { head: StoredObjectHead; loadedAt: number }>()
  #loading = new Map<string, Promise<HotObject | null>>()
  #bytes = 0
  /** Bumped by every drop: a read that began before one must not be kept. */
  #generation = 0

  get enabled() {
    return playbackConfig.hotObjects.maxBytes > 0
  }

  /** Bytes held now. */
  get size() {
    return this.#bytes
  }

  /** The object if held and fresh (and marks it recently used). */
  get(key: string): HotObject | null {
    const entry = this.#entries.get(key)
    if (!entry) return null
    if (Date.now() - entry.loadedAt > playbackConfig.hotObjects.ttlSeconds * 1000) {
      this.#delete(key)
      return null
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry
  }

  /**
   * The object, from memory or read whole from storage now (one read for
   * all the requests that arrive while it loads). Null when it does not
   * exist or is too large to keep (the caller streams it instead).
   */
  async load(key: string): Promise<HotObject | null> {
    const held = this.get(key)
    if (held) return held
    const pending = this.#loading.get(key)
    if (pending) return pending
    const loading = this.#read(key).finally(() => this.#loading.delete(key))
    this.#loading.set(key, loading)
    return loading
  }

  async #read(key: string): Promise<HotObject | null> {
    const generation = this.#generation
    const head = await storage.head(key)
    if (!head || head.size > playbackConfig.hotObjects.maxObjectBytes) return null
    const stored = await storage.get(key)
    const chunks: Buffer[] = []
    for await (const chunk of stored.body) chunks.push(chunk as Buffer)
    const entry: HotObject = { bytes: Buffer.concat(chunks), contentType: stored.contentType ?? head.contentType, loadedAt: Date.now() }
    if (this.enabled && generation === this.#generation && entry.bytes.length <= playbackConfig.hotObjects.maxObjectBytes) this.#keep(key, entry)
    return entry
  }

  /**
   * Only the head of an object (size and type), when nginx sends the bytes
   * (STORAGE_ACCEL_REDIRECT_PREFIX): the app still answers a missing object
   * or a bad range itself, without asking a remote store on every request.
   * Same TTL and drops as the objects; bounded by count.
   */
  async head(key: string): Promise<StoredObjectHead | null> {
    const held = this.#heads.get(key)
    if (held && Date.now() - held.loadedAt <= playbackConfig.hotObjects.ttlSeconds * 1000) return held.head
    const generation = this.#generation
    const head = await storage.head(key)
    if (head && this.enabled && generation === this.#generation) {
      this.#heads.delete(key)
      if (this.#heads.size >= MAX_HEADS) this.#heads.delete(this.#heads.keys().next().value!)
      this.#heads.set(key, { head, loadedAt: Date.now() })
    }
    return head
  }

  #keep(key: string, entry: HotObject) {
    this.#delete(key)
    this.#entries.set(key, entry)
    this.#bytes += entry.bytes.length
    while (this.#bytes > playbackConfig.hotObjects.maxBytes && this.#entries.size) {
      this.#delete(this.#entries.keys().next().value!)
    }
  }

  /** Drops every object under a prefix (a video's folder). */
  dropPrefix(prefix: string) {
    this.#generation++
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#delete(key)
    for (const key of this.#heads.keys()) if (key.startsWith(prefix)) this.#heads.delete(key)
  }

  clear() {
    this.#generation++
    this.#entries.clear()
    this.#heads.clear()
    this.#bytes = 0
  }

  #delete(key: string) {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    this.#bytes -= entry.bytes.length
  }
}

const hotObjects = new HotObjectCache()
export default hotObjects
