import { test } from '@japa/runner'
import queues from '#services/queue_service'
import { resetState } from '#tests/helpers/state'
import { loggedIn } from '#tests/helpers/videos'
import { startAce, stopProcess, waitForOutput } from '#tests/helpers/processes'

test.group('Worker process', (group) => {
  group.each.setup(() => resetState())
  group.teardown(() => queues.closeAll())

  test('a worker consumes the health queue, reports its heartbeat, and stops on SIGTERM', async ({ assert }) => {
    const worker = startAce(['queue:work'])
    try {
      await waitForOutput(worker, /consuming health/)
      const pong = await queues.run<{ pong: boolean; pid: number }>('health', { sentAt: Date.now() })
      assert.isTrue(pong.pong)
      assert.equal(pong.pid, worker.pid)

      // Only admins see the details (the public gets up or down).
      const { client: admin } = await loggedIn('admin', 'admin')
      const health = JSON.parse((await admin.request('GET', '/health', undefined, { accept: 'application/json' })).text)
      assert.equal(health.status, 'up')
      assert.isTrue(health.ok)
      assert.isTrue(health.database.ok)
      assert.isTrue(health.redis.ok)
      assert.lengthOf(health.workers, 1)
    } finally {
      const code = await stopProcess(worker)
      assert.equal(code, 0)
    }
    assert.lengthOf(await queues.liveWorkers(), 0)
  }).timeout(60_000)

  test('a ping nobody answers fails with a clear error', async ({ assert }) => {
    const error = (await queues.run('health', {}, 500).catch((e: Error) => e)) as Error
    assert.match(error.message, /No worker answered job health#\d+ within 500 ms/)
  })

  test('an unknown queue name stops the worker with a message', async ({ assert }) => {
    const worker = startAce(['queue:work', '--queue', 'transcodr'])
    const output = await waitForOutput(worker, /Unknown queue/)
    assert.include(output, 'Unknown queue(s): transcodr')
    assert.notEqual(await stopProcess(worker), 0)
  }).timeout(60_000)
})
