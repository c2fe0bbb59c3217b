import { spawn } from 'node:child_process'

export class MediaRejectedError extends Error {
  code = 'E_MEDIA_REJECTED'
}

export interface RunOptions {
  /** Called with seconds of output written so far (from -progress). */
  onProgress?: (seconds: number) => void
  signal?: AbortSignal
}

/**
 * Runs ffmpeg or ffprobe; rejects with the tail of stderr on failure.
 * With `onProgress`, ffmpeg must be given `-progress pipe:1`.
 */
export function run(binary: 'ffmpeg' | 'ffprobe', args: string[], options: RunOptions = {}) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal })
    let stdout = ''
    let stderr = ''
    let pending = ''
    child.stdout.on('data', (chunk: Buffer) => {
      if (!options.onProgress) {
        stdout += chunk
        return
      }
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const match = line.match(/^out_time_(?:us|ms)=(\d+)/)
        if (match) options.onProgress(Number(match[1]) / 1_000_000)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk).slice(-8000)
    })
    child.on('error', (error: any) => {
      reject(error.code === 'ENOENT' ? new Error(`${binary} is not installed (apt-get install ffmpeg)`) : error)
    })
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr })
      else reject(new Error(`${binary} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}
