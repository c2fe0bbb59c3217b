import { randomUUID } from 'node:crypto'
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils'
import redis from '@adonisjs/redis/services/main'

const RELEASE_CHANNEL = 'matinee:tus-lock:release'
const ASK_AGAIN_MS = 1000
/** Release a lock only if it is still ours (it may have expired and been taken). */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
const RENEW_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"

export interface RedisLockerOptions {
  /** A lock not renewed for this long (its holder died) is free again. */
  ttlMs?: number
  /** How long a request waits for a lock before tus answers it with an error. */
  acquireTimeoutMs?: number
}

/**
 * tus's locker across every web node: one Redis key per upload (SET NX PX,
 * renewed while held), so that two requests for the same upload, on any two
 * nodes, never write at once. As tus asks of a locker, a request that wants a
 * held lock asks its holder to let go (a message on a Redis channel every node
 * listens to; the holder's request is cancelled, as with @tus/server's
 * in-memory locker), then retries until the holder has unlocked.
 */
export class RedisLocker implements Locker {
  readonly ttlMs: number
  readonly acquireTimeoutMs: number
  /** Locks this process holds, by upload id: how to ask each holder to let go. */
  readonly held = new Map<string, RequestRelease>()
  #subscribed = false

  constructor(options: RedisLockerOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000
  }

  newLock(id: string): Lock {
    this.#subscribe()
    return new RedisLock(id, this)
  }

  #subscribe() {
    if (this.#subscribed) return
    this.#subscribed = true
    redis.subscribe(RELEASE_CHANNEL, (id: string) => {
      const release = this.held.get(id)
      if (release) Promise.resolve(release()).catch(() => {})
    })
  }

  requestRelease(id: string) {
    return redis.publish(RELEASE_CHANNEL, id)
  }
}

class RedisLock implements Lock {
  readonly #key: string
  readonly #token = randomUUID()
  #renewal?: NodeJS.Timeout

  constructor(
    private id: string,
    private locker: RedisLocker
  ) {
    this.#key = `matinee:tus-lock:${id}`
  }

  async lock(signal: AbortSignal, requestRelease: RequestRelease) {
    const deadline = Date.now() + this.locker.acquireTimeoutMs
    let askedAt = 0
    let delay = 10
    while (true) {
      if (signal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT
      const acquired = await redis.set(this.#key, this.#token, 'PX', this.locker.ttlMs, 'NX')
      if (acquired) break
      // Asked again every second while it waits: a message published before
      // the holder's node finished subscribing (or while it was reconnecting) is lost.
      if (Date.now() - askedAt >= ASK_AGAIN_MS) {
        askedAt = Date.now()
        await this.locker.requestRelease(this.id)
      }
      if (Date.now() + delay > deadline) throw ERRORS.ERR_LOCK_TIMEOUT
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 250)
    }
    this.locker.held.set(this.id, requestRelease)
    // Renewed while the request runs (a 2 GB chunk may take minutes); a dead
    // node stops renewing and its lock expires.
    this.#renewal = setInterval(() => {
      redis.eval(RENEW_SCRIPT, 1, this.#key, this.#token, String(this.locker.ttlMs)).catch(() => {})
    }, Math.floor(this.locker.ttlMs / 3))
    this.#renewal.unref()
  }

  async unlock() {
    clearInterval(this.#renewal)
    if (this.locker.held.get(this.id)) this.locker.held.delete(this.id)
    await redis.eval(RELEASE_SCRIPT, 1, this.#key, this.#token)
  }
}
