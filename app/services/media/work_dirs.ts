import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isProcessAlive } from '#hooks/processes'

/**
 * Scratch folders for FFmpeg work, named `<prefix><pid>-<label>-<random>` so
 * that the folders of a killed process can be recognised and swept.
 */
export function makeWorkDir(prefix: string, label?: string) {
  return mkdtemp(join(tmpdir(), `${prefix}${process.pid}-${label ? `${label}-` : ''}`))
}

/** Removes the folders with this prefix whose process is gone; returns how many. */
export async function sweepWorkDirs(prefix: string) {
  let removed = 0
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length).split('-')[0])
    if (pid === process.pid || isProcessAlive(pid)) continue
    await rm(join(tmpdir(), name), { recursive: true, force: true })
    removed++
  }
  return removed
}
