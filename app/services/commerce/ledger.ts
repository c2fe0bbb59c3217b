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
