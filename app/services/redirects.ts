/** Only same-site paths: never redirect to another origin ("//host", "/\\host"). */
export function safeReturnPath(value: unknown, fallback = '/') {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : fallback
}

/**
 * Where an admin action on a list goes back to: the list page the form was
 * sent from, with its filters and page (`?status=failed&page=2`), read from
 * the Referer the site's `same-origin` policy sends. Only that list's own
 * path is taken from it (never another page or origin); else the bare list.
 */
export function listReturnPath(referer: string | undefined, listPath: string) {
  if (!referer) return listPath
  try {
    const url = new URL(referer, 'http://referer.invalid')
    return url.pathname === listPath ? `${listPath}${url.search}` : listPath
  } catch {
    return listPath
  }
}
