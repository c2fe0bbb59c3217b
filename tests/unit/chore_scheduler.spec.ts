import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { ChoreScheduler } from '#services/chores/scheduler'
import type { Chore } from '#services/chores/chore'

/** A chore that records its runs and how many overlapped. */
function countingChore(overrides: Partial<Chore> & { workMs?: number } = {}) {
  const stats = { runs: 0, active: 0, maxActive: 0 }
  const chore: Chore = {
    name: `test-${randomUUID()}`,
    everyMs: 40,
    scope: 'cluster',
    async run() {
      stats.runs++
      stats.active++
      stats.maxActive = Math.max(stats.maxActive, stats.active)
      try {
        await sleep(overrides.workMs ?? 5)
      } finally {
        stats.active--
      }
    },
    ...overrides,
  }
  return { chore, stats }
}

/**
 * Waits until `condition` holds (a loaded CI machine may take far longer
 * than the intervals below), failing after `timeoutMs`.
 */
async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(5)
  }
}

test.group('Chore scheduler', () => {
  test('a chore runs at start and then on its interval', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 1000 })
    const scheduler = new ChoreScheduler([chore])
    const started = Date.now()
    scheduler.start()
    // The first run does not wait for an interval (started well before one)...
    await eventually(() => stats.runs === 1, 'the first run', 900)
    // ...and the next ones wait an interval each.
    await eventually(() => stats.runs === 3, 'two more runs')
    await scheduler.stop()
    assert.isAtLeast(Date.now() - started, 2 * 1000)
  })

  test('a throwing chore is logged and runs again next time', async ({ assert }) => {
    let runs = 0
    const scheduler = new ChoreScheduler([
      {
        name: `test-${randomUUID()}`,
        everyMs: 30,
        scope: 'node',
        async run() {
          runs++
          throw new Error('the chore broke')
        },
      },
    ])
    scheduler.start()
    await eventually(() => runs >= 3, 'three runs of the throwing chore')
    await scheduler.stop()
    assert.isAtLeast(runs, 3)
  })

  test('a cluster chore runs in one process of the cluster at a time', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 10, workMs: 60 })
    // Two processes' schedulers, sharing Redis.
    const schedulers = [new ChoreScheduler([chore]), new ChoreScheduler([chore])]
    schedulers.forEach((scheduler) => scheduler.start())
    await eventually(() => stats.runs >= 3, 'three runs')
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()))
    assert.isAtLeast(stats.runs, 3)
    assert.equal(stats.maxActive, 1)
  })

  test('a node chore runs in every process', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 60_000, workMs: 1000, scope: 'node' })
    const schedulers = [new ChoreScheduler([chore]), new ChoreScheduler([chore])]
    schedulers.forEach((scheduler) => scheduler.start())
    await eventually(() => stats.runs === 2, 'a run in each process')
    assert.equal(stats.maxActive, 2)
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()))
  })

  test('once stopping, nothing new starts and the run in flight is awaited', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 10, workMs: 80 })
    const scheduler = new ChoreScheduler([chore])
    scheduler.start()
    await sleep(20)
    await scheduler.stop()
    assert.equal(stats.active, 0, 'stop() returned with the run finished')
    const runs = stats.runs
    await scheduler.runNow(chore.name)
    await sleep(100)
    assert.equal(stats.runs, runs)
  })

  test('runNow joins a run in flight instead of starting another', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 60_000, workMs: 50 })
    const scheduler = new ChoreScheduler([chore])
    scheduler.start()
    await Promise.all([scheduler.runNow(chore.name), scheduler.runNow(chore.name)])
    assert.equal(stats.runs, 1)
    await scheduler.runNow(chore.name)
    assert.equal(stats.runs, 2)
    await scheduler.stop()
  })
})
