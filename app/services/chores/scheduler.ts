import logger from '@adonisjs/core/services/logger'
import { withLock } from '#services/lock_service'
import type { Chore } from '#services/chores/chore'

/**
 * Runs each chore at start and then every `everyMs`: never two runs of one
 * chore at once in this process, and, for cluster chores, in the cluster
 * (a Redis lock held while it runs). A chore that throws is logged and runs
 * again next time; once the process is stopping nothing new starts, since
 * its database and Redis connections are closing and a run would reopen them.
 */
export class ChoreScheduler {
  #timers = new Map<string, NodeJS.Timeout>()
  #running = new Map<string, Promise<void>>()
  #stopping = false

  constructor(readonly chores: Chore[]) {}

  /** Runs every chore now (without waiting) and schedules the next runs. */
  start() {
    for (const chore of this.chores) void this.#tick(chore)
  }

  /**
   * Runs a chore now (e.g. the reconciler when Redis comes back), unless it
   * is running already; resolves when that run ends.
   */
  runNow(name: string): Promise<void> {
    const chore = this.chores.find((candidate) => candidate.name === name)
    if (!chore) return Promise.resolve()
    return this.#running.get(name) ?? this.#tick(chore)
  }

  /** No chore starts after this; waits (up to `graceMs`) for the runs in flight. */
  async stop(graceMs = 10_000) {
    this.#stopping = true
    this.#timers.forEach(clearTimeout)
    this.#timers.clear()
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))
    await Promise.race([Promise.allSettled([...this.#running.values()]), grace])
    clearTimeout(timer)
  }

  #tick(chore: Chore): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    clearTimeout(this.#timers.get(chore.name))
    const run = this.#runOnce(chore).finally(() => {
      this.#running.delete(chore.name)
      if (this.#stopping) return
      const timer = setTimeout(() => void this.#tick(chore), chore.everyMs)
      timer.unref()
      this.#timers.set(chore.name, timer)
    })
    this.#running.set(chore.name, run)
    return run
  }

  async #runOnce(chore: Chore) {
    try {
      if (chore.scope === 'node') {
        await chore.run()
      } else {
        // The lock outlives a run that overruns its interval only by a
        // minute: a process that died holding it blocks the chore no longer.
        await withLock(`chore:${chore.name}`, chore.everyMs + 60_000, () => chore.run())
      }
    } catch (error) {
      logger.error({ err: error, chore: chore.name }, `chore ${chore.name} failed: ${(error as Error).message}`)
    }
  }
}
