/*
| The core's hook names and their payloads. This file is the single list of
| the core's hooks: the hook bus accepts these names and those a plugin
| declares (`definePlugin({ hooks })`, e.g. x402's `crypto:rate`), so a typo is
| a boot error, and the plugin docs are checked against it.
*/

/** What `purchase:*` actions carry: the order, what it sold, and to whom. */
export interface PurchaseHookPayload {
  orderId: string
  videoId: string | null
  offerId: string | null
  offerKind: 'purchase' | 'rental' | 'pass' | 'membership'
  offerScope: 'video' | 'bundle' | 'creator'
  buyerId: number
  provider: string
}

export interface HookUser {
  id: number
  username: string
  email: string
  role: string
}

/**
 * Action hooks: something happened. Listeners run after the fact, in order of
 * registration; a listener that throws is logged and skipped.
 */
export interface ActionHooks {
  'user:registered': { user: HookUser }
  'user:logged_in': { user: HookUser }
  'user:password_changed': { user: HookUser }
  'user:role_changed': { user: HookUser; from: string; to: string }
  'video:uploaded': { videoId: string | number; ownerId: number }
  'video:ready': { videoId: string | number; ownerId: number }
  'video:failed': { videoId: string | number; ownerId: number; error: string }
  /** `videoId` is null for what is not about one video (a bundle, a pass, a membership): `offerKind`/`offerScope` say what was sold. */
  'purchase:completed': PurchaseHookPayload
  'purchase:refunded': PurchaseHookPayload
  'playback:started': { sessionId: string; videoId: string | number; userId: number }
  'demo:seeded': { users: Array<{ id: number; username: string; role: string }> }
}

/**
 * Filter hooks: transform a value. Each filter receives the current value and
 * a context and returns the new value; a filter that throws is logged and the
 * value it was given is kept.
 */
export interface FilterHooks {
  'video:price': { value: { amount: number; currency: string }; context: { videoId: string | number; viewerId?: number } }
  'watermark:text': { value: string; context: { sessionId: string; userId: number; username: string } }
  'nav:items': { value: Array<{ label: string; href: string }>; context: { role?: string } }
  'admin:nav': { value: Array<{ label: string; href: string }>; context: Record<string, never> }
}

export type ActionName = keyof ActionHooks
export type FilterName = keyof FilterHooks

/** One line of documentation per hook (rendered in docs/plugins.md). */
export const ACTION_HOOK_DOCS: Record<ActionName, string> = {
  'user:registered': 'A new account was created (after it is saved).',
  'user:logged_in': 'A user logged in with a password.',
  'user:password_changed': 'A user changed or reset their password.',
  'user:role_changed': 'A user became creator or admin (or lost it).',
  'video:uploaded': 'An upload finished and its video row exists.',
  'video:ready': 'A video finished transcoding and can be played.',
  'video:failed': 'Transcoding failed for good (after retries).',
  'purchase:completed': 'A payment was confirmed and access granted (fires once per order).',
  'purchase:refunded': 'A purchase was refunded in full, or charged back (a dispute lost), and access revoked.',
  'playback:started': 'A playback session was opened.',
  'demo:seeded': 'The demo seeder made its accounts (make dev); plugins may add their own demo data.',
}

export const FILTER_HOOK_DOCS: Record<FilterName, string> = {
  'video:price': 'The price shown and charged for a video, in minor units.',
  'watermark:text': 'The text drawn by the visible watermark of a session.',
  'nav:items': 'Extra links in the main navigation.',
  'admin:nav': "Extra links in the admin console's navigation (a plugin's admin pages, mounted with `roles: ['admin']`).",
}

export const ACTION_HOOK_NAMES = Object.keys(ACTION_HOOK_DOCS) as ActionName[]
export const FILTER_HOOK_NAMES = Object.keys(FILTER_HOOK_DOCS) as FilterName[]
