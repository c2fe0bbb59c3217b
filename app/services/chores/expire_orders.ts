import orders from '#services/order_service'
import type { Chore } from '#services/chores/chore'

/** Checkouts nobody finished become expired (providers that report expiry do it sooner). */
export default {
  name: 'expire-orders',
  everyMs: 5 * 60_000,
  scope: 'cluster',
  run: () => orders.expireStale(),
} satisfies Chore
