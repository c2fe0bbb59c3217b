import { test } from '@japa/runner'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/** The pids whose parent is `parent` and whose command is `name` (from /proc). */
async function childrenNamed(parent: number, name: string) {
  const { readdir } = await import('node:fs/promises')
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    const match = stat.match(/^\d+ \((.*)\) (\S) (\d+)/)
    if (match && match[1] === name && Number(match[3]) === parent && match[2] !== 'Z') found.push(Number(entry))
  }
  return found
}

async function alive(pid: number) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
  return stat !== null && !/^\d+ \(.*\) Z/.test(stat)
}

test.group('FFmpeg runs die with their worker', () => {
  test('a worker killed with SIGKILL takes its FFmpeg with it at once', async ({ assert }) => {
    const worker = spawn(process.execPath, ['--import', '@poppinss/ts-exec', 'tests/fixtures/media/encode_forever.ts'], { stdio: 'ignore' })
    let ffmpeg: number[] = []
    for (let i = 0; i < 100 && !ffmpeg.length; i++) {
      await sleep(100)
      ffmpeg = await childrenNamed(worker.pid!, 'ffmpeg')
    }
    assert.lengthOf(ffmpeg, 1, 'the encode started')
    worker.kill('SIGKILL')
    let gone = false
    for (let i = 0; i < 30 && !gone; i++) {
      await sleep(100)
      gone = !(await alive(ffmpeg[0]))
    }
    if (!gone) process.kill(ffmpeg[0], 'SIGKILL')
    assert.isTrue(gone, 'FFmpeg outlived its worker')
  }).timeout(30_000)
})
