import { execFile } from 'node:child_process'
import { mkdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { performance } from 'node:perf_hooks'

export const exec = promisify(execFile)
export const benchDir = join(tmpdir(), 'matinee-bench')

export function figure(name: string, value: number, unit: string) {
  console.log(`FIGURE ${name} ${Number.isInteger(value) ? value : value.toFixed(3)} ${unit}`)
}

export async function timed<T>(fn: () => Promise<T>) {
  const start = performance.now()
  const result = await fn()
  return { result, seconds: (performance.now() - start) / 1000 }
}

/** Generates a source once (kept in the temp folder between runs). */
export async function source(name: string, args: string[]) {
  await mkdir(benchDir, { recursive: true })
  const path = join(benchDir, name)
  if (!(await stat(path).catch(() => null))) {
    console.error(`generating ${name}...`)
    await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, path], { maxBuffer: 1 << 20 })
  }
  return path
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * Smoke mode (BENCH_SMOKE=1): every bench runs its real code path at a tiny size in seconds, still
 * printing its FIGURE lines, so `make test` can run them all and a bench that rots fails CI.
 * The figures of a smoke run measure nothing worth keeping.
 */
export function isSmoke() {
  return ['1', 'true', 'yes'].includes((process.env.BENCH_SMOKE ?? '').toLowerCase())
}

/** The full-size value in a real run, the small one in smoke mode. */
export function smokeOr<T>(full: T, small: T): T {
  return isSmoke() ? small : full
}
