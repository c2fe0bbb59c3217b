import type { LedgerAccount } from '#models/ledger_entry'
import type { CreatorPayout } from '#models/order'

export interface LedgerLine {
  account: LedgerAccount
  amountMinor: number
}

/** The platform's fee on a price: rounded down, so creators never lose a fraction. */
export function platformFeeFor(amountMinor: number, feeBps: number) {
  return Math.floor((amountMinor * feeBps) / 10_000)
}

/**
 * How a payment splits between the creator, the platform and the payment
 * provider. The lines always sum to exactly `amountMinor`.
 *
 * - `owed` (the platform collected the money): the provider's fee comes out
 *   of the creator's share, as on most marketplaces; the creator is owed the rest.
 * - `direct` (the provider paid the creator, e.g. a Stripe destination charge
 *   with an application fee): the creator received `amount - platformFee`
 *   and the provider's fee was taken from the platform's fee.
 * A share never goes below zero: a fee larger than what it comes out of is
 * taken from the other share.
 */
export function splitPayment(input: {
  amountMinor: number
  platformFeeMinor: number
  providerFeeMinor: number
  payout: CreatorPayout
}): LedgerLine[] {
  const { amountMinor } = input
  const providerFee = Math.min(Math.max(0, input.providerFeeMinor), amountMinor)
  let platform = Math.min(Math.max(0, input.platformFeeMinor), amountMinor)
  let creator = amountMinor - platform
  if (input.payout === 'owed') {
    creator -= providerFee
    if (creator < 0) {
      platform += creator
      creator = 0
    }
  } else {
    platform -= providerFee
    if (platform < 0) {
      creator += platform
      platform = 0
    }
  }
  const lines: LedgerLine[] = [
    { account: 'creator', amountMinor: creator },
    { account: 'platform', amountMinor: platform },
  ]
  if (providerFee > 0) lines.push({ account: 'provider_fee', amountMinor: providerFee })
  return lines
}

/** `part × numerator / denominator`, rounded half up, in exact integer arithmetic (BigInt: no float error). */
export function proportionOf(part: number, numerator: number, denominator: number) {
  if (denominator <= 0) return 0
  const scaled = 2n * BigInt(part) * BigInt(numerator) + BigInt(denominator)
  return Number(scaled / (2n * BigInt(denominator)))
}

/**
 * Who pays back money given back to a buyer (a refund, or a dispute lost):
 * lines summing to exactly `-givenBackNowMinor`.
 *
 * - `owed` (the platform still holds the creator's share): the creator's
 *   share shrinks in proportion to what went back in total, rounded on the
 *   running total so that once everything went back the creator gave back
 *   exactly their share, never a unit more or less.
 * - `direct` (the provider paid the creator): the creator gives back what the
 *   provider says it took back from them so far (`creatorReversedTotalMinor`,
 *   a Stripe transfer reversal net of the application fee refunded); without
 *   that, nothing, and the platform bears it all.
 * The provider's processing fee is not returned (Stripe keeps it), so its
 * line is untouched and the platform bears it: the platform gives back the
 * rest.
 */
export function givenBackLines(input: {
  payout: CreatorPayout
  amountMinor: number
  /** The creator's line of the payment. */
  creatorShareMinor: number
  givenBackBeforeMinor: number
  givenBackNowMinor: number
  /** What the creator already gave back (earlier refund/dispute lines, positive). */
  creatorReversedBeforeMinor: number
  creatorReversedTotalMinor?: number
}): LedgerLine[] {
  const { givenBackNowMinor: now, creatorReversedBeforeMinor: before } = input
  const share = Math.max(0, input.creatorShareMinor)
  const total =
    input.payout === 'owed'
      ? proportionOf(share, input.givenBackBeforeMinor + now, input.amountMinor)
      : (input.creatorReversedTotalMinor ?? before)
  const creator = Math.min(now, Math.max(0, Math.min(total, share) - before))
  // `0 - x` rather than `-x`: a share of nothing is 0, not -0.
  return [
    { account: 'creator', amountMinor: 0 - creator },
    { account: 'platform', amountMinor: 0 - (now - creator) },
  ]
}
