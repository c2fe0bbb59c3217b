/*
| Pay-per-request over HTTP: a plugin that speaks an HTTP payment protocol
| (x402: 402 + PAYMENT-REQUIRED, retried with PAYMENT-SIGNATURE) answers the
| JSON API's session endpoint for a client that may not watch a video yet.
| The core owns the route, the accounts, the orders and the sessions; the
| plugin only speaks the protocol and settles, through the functions the
| core hands it here (the same order a browser buyer gets, the same
| playback sessions).
*/
import type { Money } from './contracts.js'

/** A header-and-body answer the core writes as it is. */
export interface PaywallReply {
  status: number
  headers?: Record<string, string>
  body: unknown
}

/** A buyer as the core knows them. */
export interface PaywallBuyer {
  id: number
  /** Created by `accountFor` for a wallet (no password, no email of its own). */
  walletAccount: boolean
}

export interface PaywallRequest {
  /** The absolute URL of the resource (what x402 calls `resource.url`). */
  resourceUrl: string
  /** Request headers, lower-case names. */
  headers: Record<string, string | undefined>
  video: { id: string; title: string; price: Money; creatorId: number }
  /** The user the request authenticated as (an API token), if any. */
  user: PaywallBuyer | null
  /** The account of a paying wallet: found, or created as a viewer (`walletAccount`). */
  accountFor(wallet: { chain: string; address: string }): Promise<PaywallBuyer>
  /** Whether `buyer` may watch the video already (bought it before, owns it...). */
  mayWatch(buyer: PaywallBuyer): Promise<boolean>
  /**
   * Starts (or resumes) `buyer`'s order of the video through `providerId`:
   * the core's checkout, so the provider's `createCheckout` runs as for a
   * browser buyer. Throws a `PaywallRefusal` when the video cannot be bought.
   */
  checkout(buyer: PaywallBuyer, providerId: string): Promise<{ orderId: string; status: string; amount: Money }>
  /**
   * Opens a playback session for `buyer` (the entitlement chain decides, as
   * for the player): its signed master playlist URL and expiry, and a
   * personal API token (scope sessions:open) when the buyer has no other way
   * to authenticate its playlist and segment requests.
   */
  openSession(buyer: PaywallBuyer, device: string): Promise<Record<string, unknown>>
  /**
   * Extensions the core declares for this resource, to list in the payment
   * request (x402's `extensions`): `sign-in-with-x`, a challenge a wallet
   * that paid before signs instead of paying again (its nonce is single use).
   */
  extensions?(): Promise<Record<string, unknown>>
}

/** A refusal from one of the core's functions above: its status and words, for the protocol's error. */
export class PaywallRefusal extends Error {
  constructor(
    public code: string,
    public status: number,
    message: string
  ) {
    super(message)
  }
}

export interface Paywall {
  readonly id: string
  /** Whether this request speaks the paywall's protocol (x402: a PAYMENT-SIGNATURE header). */
  claims(headers: Record<string, string | undefined>): boolean
  /** The answer: a 402 with what to pay, or the settled payment's session, or a refusal. */
  handle(request: PaywallRequest): Promise<PaywallReply>
}
