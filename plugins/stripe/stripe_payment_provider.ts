import Stripe from 'stripe'
import {
  escapeHtml,
  PaymentProviderError,
  WebhookVerificationError,
  type BuyButtonInput,
  type CheckoutOrder,
  type CheckoutResult,
  type PaymentProvider,
  type PayoutAccounts,
  type PluginHealth,
  type RawWebhookRequest,
  type RefundRequest,
  type VerifiedPaymentEvent,
} from '@matinee/plugin-kit'
import { fromStripeAmount, toStripeAmount } from './amounts.js'

export interface StripeProviderOptions {
  webhookSecret: string
  webhookToleranceSeconds: number
  currencies: string[]
}

/** Stripe refuses Checkout Sessions that expire sooner than 30 minutes or later than 24 hours. */
const MIN_EXPIRY_SECONDS = 31 * 60
const MAX_EXPIRY_SECONDS = 24 * 3600 - 60

/**
 * Cards through Stripe Checkout. The price comes from the core's order;
 * webhooks are verified over the raw body with a timestamp tolerance. When
 * the creator connected a Stripe account that can take charges, the charge is
 * a destination charge with the platform's fee as the application fee.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly id = 'stripe'
  readonly label = 'Card (Stripe)'
  readonly currencies: readonly string[]
  #lastWebhookAt?: Date
  #lastError?: { at: Date; message: string }

  constructor(
    private stripe: Stripe,
    private options: StripeProviderOptions,
    private payoutAccounts: PayoutAccounts
  ) {
    this.currencies = options.currencies
  }

  async createCheckout(order: CheckoutOrder): Promise<CheckoutResult> {
    const nowSeconds = Math.floor(Date.now() / 1000)
    const expiresAt = Math.min(
      nowSeconds + MAX_EXPIRY_SECONDS,
      Math.max(nowSeconds + MIN_EXPIRY_SECONDS, Math.floor(order.expiresAt.getTime() / 1000))
    )
    const destination = order.creator.payoutAccount
    const metadata = { orderId: order.orderId, videoId: order.videoId }
    const session = await this.#call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: order.price.currency.toLowerCase(),
                unit_amount: toStripeAmount(order.price.amount, order.price.currency),
                product_data: { name: order.videoTitle.slice(0, 250) || 'Video' },
              },
            },
          ],
          success_url: `${order.successUrl}?session_id={CHECKOUT_SESSION_ID}`,
          cancel_url: order.cancelUrl,
          client_reference_id: order.orderId,
          customer_email: order.buyer.email,
          metadata,
          expires_at: expiresAt,
          payment_intent_data: {
            metadata,
            ...(destination
              ? {
                  transfer_data: { destination },
                  ...(order.platformFee.amount > 0
                    ? { application_fee_amount: toStripeAmount(order.platformFee.amount, order.platformFee.currency) }
                    : {}),
                }
              : {}),
          },
        },
        // A retried checkout of the same order never makes a second session.
        { idempotencyKey: `matinee-checkout-${order.orderId}` }
      )
    )
    if (!session.url) throw new PaymentProviderError('Stripe returned no checkout page')
    return { kind: 'redirect', url: session.url, providerReference: session.id }
  }

  async handleWebhook(request: RawWebhookRequest): Promise<VerifiedPaymentEvent[]> {
    const header = request.headers['stripe-signature']
    if (typeof header !== 'string' || !header) throw new WebhookVerificationError('Missing Stripe-Signature header')
    let event: Stripe.Event
    try {
      event = await this.stripe.webhooks.constructEventAsync(
        request.rawBody,
        header,
        this.options.webhookSecret,
        this.options.webhookToleranceSeconds
      )
    } catch (error) {
      throw new WebhookVerificationError((error as Error).message)
    }
    this.#lastWebhookAt = new Date()

    switch (event.type) {
      case 'checkout.session.completed':
        // Delayed methods (bank debits) complete unpaid; their outcome comes later.
        return event.data.object.payment_status === 'paid' ? [await this.#succeeded(event.id, event.data.object)] : []
      case 'checkout.session.async_payment_succeeded':
        return [await this.#succeeded(event.id, event.data.object)]
      case 'checkout.session.async_payment_failed':
        return [{ ...this.#sessionRef(event.id, event.data.object), type: 'payment.failed', reason: 'The payment did not go through' }]
      case 'checkout.session.expired':
        return [{ ...this.#sessionRef(event.id, event.data.object), type: 'payment.expired', reason: 'The checkout expired' }]
      case 'charge.refunded': {
        const charge = event.data.object
        return [
          {
            eventId: event.id,
            type: 'payment.refunded',
            orderId: charge.metadata?.orderId,
            paymentReference: typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id,
            amount: { amount: fromStripeAmount(charge.amount_refunded, charge.currency), currency: charge.currency.toUpperCase() },
          },
        ]
      }
      case 'account.updated': {
        // A creator finished (or lost) Connect onboarding.
        const account = event.data.object
        const userId = Number(account.metadata?.userId)
        if (Number.isSafeInteger(userId) && userId > 0) {
          await this.payoutAccounts.set(this.id, userId, { accountRef: account.id, ready: !!account.charges_enabled })
        }
        return []
      }
      default:
        return []
    }
  }

  async refund(request: RefundRequest) {
    if (!request.paymentReference) throw new PaymentProviderError('This order has no Stripe payment to refund')
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: request.paymentReference,
          reason: 'requested_by_customer',
          metadata: { orderId: request.orderId },
        },
        { idempotencyKey: `matinee-refund-${request.orderId}` }
      )
      return { refundReference: refund.id }
    } catch (error) {
      // Refunded in the Stripe dashboard meanwhile: the goal is reached.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'charge_already_refunded') {
        return { refundReference: 'already_refunded' }
      }
      throw this.#providerError(error)
    }
  }

  async health(): Promise<PluginHealth> {
    if (this.#lastError && Date.now() - this.#lastError.at.getTime() < 15 * 60_000) {
      return { ok: false, message: `Stripe call failed at ${this.#lastError.at.toISOString()}: ${this.#lastError.message}` }
    }
    const webhook = this.#lastWebhookAt ? `last webhook ${this.#lastWebhookAt.toISOString()}` : 'no webhook received yet'
    return { ok: true, message: `On (${webhook})` }
  }

  renderBuyButton(input: BuyButtonInput) {
    return `<form method="POST" action="${escapeHtml(input.action)}" class="buy-form buy-stripe">${input.hiddenFields}
  <button type="submit" class="button">Pay ${escapeHtml(input.priceText)} by card</button>
  <span class="hint">Visa, Mastercard, Amex and more, through Stripe</span>
</form>`
  }

  #sessionRef(eventId: string, session: Stripe.Checkout.Session) {
    return { eventId, orderId: session.metadata?.orderId ?? session.client_reference_id ?? undefined, providerReference: session.id }
  }

  async #succeeded(eventId: string, session: Stripe.Checkout.Session): Promise<VerifiedPaymentEvent> {
    const paymentIntent = typeof session.payment_intent === 'string' ? session.payment_intent : session.payment_intent?.id
    return {
      ...this.#sessionRef(eventId, session),
      type: 'payment.succeeded',
      amount: { amount: fromStripeAmount(session.amount_total ?? Number.NaN, session.currency ?? 'USD'), currency: (session.currency ?? '').toUpperCase() },
      providerFee: paymentIntent ? await this.#feeOf(paymentIntent) : undefined,
      paymentReference: paymentIntent,
    }
  }

  /** Stripe's fee sits on the charge's balance transaction; unknown if Stripe does not answer. */
  async #feeOf(paymentIntentId: string) {
    try {
      const intent = await this.stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge.balance_transaction'] })
      const charge = intent.latest_charge
      const balance = charge && typeof charge !== 'string' ? charge.balance_transaction : null
      if (!balance || typeof balance === 'string') return undefined
      return { amount: fromStripeAmount(balance.fee, balance.currency, { round: true }), currency: balance.currency.toUpperCase() }
    } catch (error) {
      this.#remember(error)
      return undefined
    }
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw this.#providerError(error)
    }
  }

  #providerError(error: unknown) {
    this.#remember(error)
    if (error instanceof Stripe.errors.StripeConnectionError) return new PaymentProviderError('Stripe cannot be reached')
    if (error instanceof Stripe.errors.StripeError) return new PaymentProviderError(error.message)
    return error as Error
  }

  #remember(error: unknown) {
    this.#lastError = { at: new Date(), message: (error as Error).message }
  }
}
