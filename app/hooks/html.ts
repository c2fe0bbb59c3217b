/** Escapes text for HTML a plugin renders itself (buy buttons, pages). */
export function escapeHtml(text: string) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!
  )
}
