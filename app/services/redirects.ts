/** Only same-site paths: never redirect to another origin ("//host", "/\\host"). */
export function safeReturnPath(value: unknown, fallback = '/') {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : fallback
}
