import env from '#start/env'

/**
 * Selling videos: the platform's fee, order lifetimes, the price cap and the
 * display rates for prices in the viewer's currency.
 */
const commerceConfig = {
  /** The platform's share of each sale, in basis points (may be 0). */
  platformFeeBps: env.get('PLATFORM_FEE_BPS', 0),
  /** An unpaid checkout expires after this long (Stripe requires 30 min or more). */
  orderTtlMinutes: env.get('ORDER_TTL_MINUTES', 60),
  /** Highest price, in whole units of `currencyBase`. */
  priceCap: env.get('PRICE_CAP', 1000),
  currencyBase: env.get('CURRENCY_BASE', 'USD').toUpperCase(),
  /** "IDR:17000,EUR:0.92": units of each currency per one `currencyBase`. */
  currencyRates: env.get('CURRENCY_RATES', ''),
  /** A membership whose renewal failed (or is late) keeps access this many days past its paid period. */
  membershipGraceDays: env.get('MEMBERSHIP_GRACE_DAYS', 3),
  /**
   * Offer kinds whose partial refund also ends the buyer's access
   * ("rental,pass"); by default a partial refund keeps it (a goodwill
   * gesture), and a whole refund always ends it.
   */
  partialRefundEndsAccess: env
    .get('PARTIAL_REFUND_ENDS_ACCESS', '')
    .split(',')
    .map((kind) => kind.trim())
    .filter(Boolean) as string[],
}

export default commerceConfig
