import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { run } from '#services/media/ffmpeg'

/** SCHED_OTHER and SCHED_IDLE, as /proc/<pid>/stat's 41st field gives a thread's policy. */
const NORMAL = 0
const IDLE = 5

/**
 * The scheduling policy of every thread of this process's running `ffmpeg`
 * child, and the nice of its session's autogroup (null without autogroup).
 */
async function ffmpegScheduling() {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
      const match = stat.match(/^\d+ \((.*)\) \S (\d+)/)
      if (!match || match[1] !== 'ffmpeg' || Number(match[2]) !== process.pid) continue
      const threads = await readdir(`/proc/${entry}/task`)
      const policies = await Promise.all(
        threads.map(async (thread) => {
          const fields = (await readFile(`/proc/${entry}/task/${thread}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ')
          // Fields from the 3rd (state) on: policy is the 41st of the whole line.
          return Number(fields[41 - 3])
        })
      )
      const autogroup = await readFile(`/proc/${entry}/autogroup`, 'utf8').catch(() => null)
      // The run sets it just after the exec: read it once the threads are up.
      if (threads.length > 1) return { policies, autogroupNice: autogroup === null ? null : Number(autogroup.match(/nice (-?\d+)/)![1]) }
    }
    await sleep(50)
  }
  throw new Error('no multi-threaded ffmpeg child was seen')
}

/** A few seconds of x264 work (threads of its own) that the test reads while it runs. */
const encode = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'null', '-']

test.group('FFmpeg runs: CPU class', () => {
  test('a background run (transcodes) is in the idle class, every thread of it, in a session of the lowest weight', async ({ assert }) => {
    const finished = run('ffmpeg', encode, { cpu: 'background' })
    const { policies, autogroupNice } = await ffmpegScheduling()
    await finished
    assert.isAbove(policies.length, 1)
    assert.deepEqual([...new Set(policies)], [IDLE])
    // Its own session would otherwise weigh as much as every web node of the machine together.
    if (autogroupNice !== null) assert.equal(autogroupNice, 19)
  }).timeout(30_000)

  test('a normal run (a watermark render a player waits for) stays in the normal class', async ({ assert }) => {
    const finished = run('ffmpeg', encode)
    const { policies, autogroupNice } = await ffmpegScheduling()
    await finished
    assert.deepEqual([...new Set(policies)], [NORMAL])
    if (autogroupNice !== null) assert.equal(autogroupNice, 0)
  }).timeout(30_000)
})
