/**
 * Whether a process of this machine is still running (part of the plugin
 * API: lets a backend sweep what a killed process left behind).
 */
export function isProcessAlive(pid: number) {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error: any) {
    return error.code === 'EPERM'
  }
}
