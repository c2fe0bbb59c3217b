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

test.group('Chore scheduler', () => {
  test('a chore runs at start and then on its interval', async ({ assert }) => {
    const { chore, stats } = countingChore()
    const scheduler = new ChoreScheduler([chore])
    scheduler.start()
    await sleep(20)
    assert.equal(stats.runs, 1)
    await sleep(200)
    await scheduler.stop()
    assert.isAtLeast(stats.runs, 3)
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
    await sleep(150)
    await scheduler.stop()
    assert.isAtLeast(runs, 3)
  })

  test('a cluster chore runs in one process of the cluster at a time', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 10, workMs: 60 })
    // Two processes' schedulers, sharing Redis.
    const schedulers = [new ChoreScheduler([chore]), new ChoreScheduler([chore])]
    schedulers.forEach((scheduler) => scheduler.start())
    await sleep(400)
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()))
    assert.isAtLeast(stats.runs, 3)
    assert.equal(stats.maxActive, 1)
  })

  test('a node chore runs in every process', async ({ assert }) => {
    const { chore, stats } = countingChore({ everyMs: 1000, workMs: 60, scope: 'node' })
    const schedulers = [new ChoreScheduler([chore]), new ChoreScheduler([chore])]
    schedulers.forEach((scheduler) => scheduler.start())
    await sleep(30)
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
