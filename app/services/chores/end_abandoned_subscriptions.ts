import memberships from '#services/commerce/memberships'
import type { Chore } from '#services/chores/chore'

/**
 * Membership checkouts nobody paid (Stripe's Checkout Session lives 24 hours)
 * end, so the viewer's library and the creator's counts never carry them.
 */
export default {
  name: 'end-abandoned-subscriptions',
  everyMs: 15 * 60_000,
  scope: 'cluster',
  run: () => memberships.endAbandoned(),
} satisfies Chore
