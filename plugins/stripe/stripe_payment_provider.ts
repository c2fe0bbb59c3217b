import Stripe from 'stripe'
import {
  PaymentProviderError,
  WebhookVerificationError,
  type BuyButtonInput,
  type CheckoutOrder,
  type CheckoutResult,
  type PaymentProvider,
  type PayoutAccounts,
  type PluginHealth,
  type PluginView,
  type RawWebhookRequest,
  type Money,
  type RefundRequest,
  type RefundResult,
  type SubscriptionBilling,
  type SubscriptionCheckoutInput,
  type SubscriptionCheckoutResult,
  type VerifiedPaymentEvent,
  type VerifiedSubscriptionEvent,
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
 * a destination charge with the platform's fee as the application fee; a
 * refund of it then reverses the transfer and refunds the application fee in
 * proportion, and a dispute lost reverses what is left of the transfer, so
 * the creator never keeps money the platform paid back.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly id = 'stripe'
  readonly label = 'Card (Stripe)'
  readonly currencies: readonly string[]
  #lastWebhookAt?: Date
  #lastError?: { at: Date; message: string }

  /**
   * Memberships through Stripe Billing: Checkout in subscription mode, a
   * monthly price; Stripe charges the card on file each month and says so
   * with `invoice.paid` / `invoice.payment_failed` and subscription events.
   */
  readonly subscriptions: SubscriptionBilling = {
    createSubscriptionCheckout: (input) => this.#createSubscriptionCheckout(input),
    cancelSubscription: (reference, options) => this.#cancelSubscription(reference, options),
  }

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

  async handleWebhook(request: RawWebhookRequest): Promise<Array<VerifiedPaymentEvent | VerifiedSubscriptionEvent>> {
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
    // A subscription's checkout: its invoices say what was paid (invoice.paid); the core ends unpaid ones itself.
    if (event.type.startsWith('checkout.session.') && (event.data.object as Stripe.Checkout.Session).mode === 'subscription') return []

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
            paymentReference: idOf(charge.payment_intent),
            amount: { amount: fromStripeAmount(charge.amount_refunded, charge.currency), currency: charge.currency.toUpperCase() },
            creatorReversed: await this.#creatorReversed(charge),
          },
        ]
      }
      case 'charge.dispute.created': {
        // Inquiries (warning_*) move no money and may never become disputes.
        const dispute = event.data.object
        if (dispute.status.startsWith('warning_')) return []
        return [{ ...(await this.#disputeRef(event.id, dispute)), type: 'payment.disputed' }]
      }
      case 'charge.dispute.closed': {
        const dispute = event.data.object
        if (dispute.status === 'won') return [{ ...(await this.#disputeRef(event.id, dispute)), type: 'payment.dispute_won' }]
        if (dispute.status !== 'lost') return []
        const charge = await this.#call(() => this.stripe.charges.retrieve(idOf(dispute.charge)!))
        await this.#recoverFromCreator(charge, dispute.id)
        // Stripe's dispute fee, less any it gave back, from the dispute's own balance transactions.
        const fee = dispute.balance_transactions.reduce((sum, transaction) => sum + transaction.fee, 0)
        return [
          {
            ...(await this.#disputeRef(event.id, dispute)),
            type: 'payment.dispute_lost',
            providerFee: { amount: fromStripeAmount(Math.max(0, fee), dispute.currency, { round: true }), currency: dispute.currency.toUpperCase() },
            creatorReversed: await this.#creatorReversed(charge),
          },
        ]
      }
      case 'invoice.paid': {
        const invoice = event.data.object
        const subscription = subscriptionOf(invoice)
        if (!subscription || !invoice.id) return []
        const line = invoice.lines.data.find((item) => item.period) ?? null
        const paymentReference = await this.#invoicePaymentIntent(invoice.id)
        return [
          {
            ...subscription,
            eventId: event.id,
            type: 'subscription.invoice_paid',
            customerReference: idOf(invoice.customer),
            invoiceReference: invoice.id,
            amount: { amount: fromStripeAmount(invoice.amount_paid, invoice.currency), currency: invoice.currency.toUpperCase() },
            providerFee: paymentReference ? await this.#feeOf(paymentReference) : undefined,
            paymentReference,
            // The line's period is the one paid for (invoice.period_* is the previous one, for usage).
            periodStart: line ? new Date(line.period.start * 1000) : undefined,
            periodEnd: line ? new Date(line.period.end * 1000) : undefined,
          },
        ]
      }
      case 'invoice.payment_failed': {
        const invoice = event.data.object
        const subscription = subscriptionOf(invoice)
        if (!subscription || !invoice.id) return []
        return [
          {
            ...subscription,
            eventId: event.id,
            type: 'subscription.payment_failed',
            customerReference: idOf(invoice.customer),
            invoiceReference: invoice.id,
            amount: { amount: fromStripeAmount(invoice.amount_due, invoice.currency), currency: invoice.currency.toUpperCase() },
            reason: 'The card on file was declined for this month’s renewal',
          },
        ]
      }
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        const subscription = event.data.object
        const ended = event.type === 'customer.subscription.deleted' || ENDED_STATUSES.has(subscription.status)
        const periodEnd = subscription.items.data.reduce((latest, item) => Math.max(latest, item.current_period_end ?? 0), 0)
        return [
          {
            eventId: event.id,
            type: ended ? 'subscription.ended' : 'subscription.updated',
            subscriptionReference: subscription.id,
            subscriptionId: subscription.metadata?.matineeSubscriptionId,
            customerReference: idOf(subscription.customer),
            status: ended ? 'ended' : RENEWING_STATUSES.has(subscription.status) ? 'active' : 'past_due',
            cancelAtPeriodEnd: subscription.cancel_at_period_end,
            currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : undefined,
            reason: ended ? (subscription.cancellation_details?.reason === 'payment_failed' ? 'Payments failed: the membership ended' : undefined) : undefined,
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

  /**
   * A destination charge's refund takes the creator's share back with it:
   * `reverse_transfer` pulls the refunded share of the transfer back from the
   * connected account and `refund_application_fee` returns the same share of
   * the platform's fee, so neither side keeps money the buyer got back.
   */
  async refund(request: RefundRequest): Promise<RefundResult> {
    if (!request.paymentReference) throw new PaymentProviderError('This order has no Stripe payment to refund')
    const paymentReference = request.paymentReference
    const intent = await this.#call(() => this.stripe.paymentIntents.retrieve(paymentReference, { expand: ['latest_charge'] }))
    const charge = intent.latest_charge && typeof intent.latest_charge !== 'string' ? intent.latest_charge : null
    const destination = !!charge?.transfer
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: paymentReference,
          amount: toStripeAmount(request.amount.amount, request.amount.currency),
          reason: 'requested_by_customer',
          metadata: { orderId: request.orderId },
          ...(destination ? { reverse_transfer: true, ...(charge!.application_fee ? { refund_application_fee: true } : {}) } : {}),
        },
        { idempotencyKey: `matinee-refund-${request.orderId}${request.refundKey ? `-${request.refundKey}` : ''}` }
      )
      return { refundReference: refund.id, creatorReversed: charge ? await this.#creatorReversed(charge) : undefined }
    } catch (error) {
      // Refunded in the Stripe dashboard meanwhile: the goal is reached.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'charge_already_refunded') {
        return { refundReference: 'already_refunded', creatorReversed: charge ? await this.#creatorReversed(charge) : undefined }
      }
      throw this.#providerError(error)
    }
  }

  async #createSubscriptionCheckout(input: SubscriptionCheckoutInput): Promise<SubscriptionCheckoutResult> {
    const metadata = { matineeSubscriptionId: input.subscriptionId }
    const session = await this.#call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: 'subscription',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: input.price.currency.toLowerCase(),
                unit_amount: toStripeAmount(input.price.amount, input.price.currency),
                recurring: { interval: input.interval },
                product_data: { name: input.itemTitle.slice(0, 250) || 'Membership' },
              },
            },
          ],
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          client_reference_id: input.subscriptionId,
          customer_email: input.buyer.email,
          metadata,
          // Copied onto the subscription, then snapshotted on each of its invoices: every event names our subscription.
          subscription_data: { metadata },
        },
        { idempotencyKey: `matinee-subscription-checkout-${input.subscriptionId}` }
      )
    )
    if (!session.url) throw new PaymentProviderError('Stripe returned no checkout page')
    return { kind: 'redirect', url: session.url, providerReference: session.id }
  }

  async #cancelSubscription(reference: string, options: { atPeriodEnd: boolean }) {
    try {
      if (options.atPeriodEnd) await this.stripe.subscriptions.update(reference, { cancel_at_period_end: true })
      else await this.stripe.subscriptions.cancel(reference)
    } catch (error) {
      // Cancelled already (in the dashboard, or by Stripe after failed payments): the goal is reached.
      if (error instanceof Stripe.errors.StripeInvalidRequestError) {
        const current = await this.#call(() => this.stripe.subscriptions.retrieve(reference))
        if (current.status === 'canceled' || current.status === 'incomplete_expired') return
      }
      throw this.#providerError(error)
    }
  }

  /** The PaymentIntent that paid an invoice (invoices name their payments in a list of their own). */
  async #invoicePaymentIntent(invoiceId: string) {
    const payments = await this.#call(() => this.stripe.invoicePayments.list({ invoice: invoiceId, limit: 10 }))
    const paid = payments.data.find((payment) => payment.status === 'paid' && payment.payment.payment_intent) ?? payments.data[0]
    return idOf(paid?.payment.payment_intent)
  }

  async health(): Promise<PluginHealth> {
    if (this.#lastError && Date.now() - this.#lastError.at.getTime() < 15 * 60_000) {
      return { ok: false, message: `Stripe call failed at ${this.#lastError.at.toISOString()}: ${this.#lastError.message}` }
    }
    const webhook = this.#lastWebhookAt ? `last webhook ${this.#lastWebhookAt.toISOString()}` : 'no webhook received yet'
    return { ok: true, message: `On (${webhook})` }
  }

  /** The plugin's views/buy_button.edge, given the form's target, fields and price. */
  renderBuyButton(input: BuyButtonInput): PluginView {
    return { view: 'stripe::buy_button', data: { ...input } }
  }

  /**
   * Disputes carry no metadata of ours: the order id comes from the
   * PaymentIntent's, so a dispute whose payment the core has not seen yet (its
   * webhook still being retried) waits for it instead of matching nothing.
   */
  async #disputeRef(eventId: string, dispute: Stripe.Dispute) {
    const paymentReference = idOf(dispute.payment_intent)
    const intent = paymentReference ? await this.#call(() => this.stripe.paymentIntents.retrieve(paymentReference)) : null
    return {
      eventId,
      orderId: intent?.metadata?.orderId,
      paymentReference,
      disputeReference: dispute.id,
      amount: { amount: fromStripeAmount(dispute.amount, dispute.currency), currency: dispute.currency.toUpperCase() },
    }
  }

  /**
   * Stripe debits a lost dispute from the platform, never from the connected
   * account: the platform takes back what is left of the transfer (and gives
   * back the same share of its application fee, so the creator ends at zero,
   * not below). The idempotency key makes a replayed event reverse nothing more.
   */
  async #recoverFromCreator(charge: Stripe.Charge, disputeId: string) {
    const transferId = idOf(charge.transfer)
    if (!transferId) return
    const transfer = await this.#call(() => this.stripe.transfers.retrieve(transferId))
    if (transfer.amount_reversed >= transfer.amount) return
    await this.#call(() =>
      this.stripe.transfers.createReversal(
        transferId,
        { refund_application_fee: !!charge.application_fee, metadata: { dispute: disputeId } },
        { idempotencyKey: `matinee-dispute-reversal-${disputeId}` }
      )
    )
  }

  /**
   * For a destination charge: how much of the creator's share Stripe has
   * taken back from them so far (transfer reversals net of the application
   * fee refunded to them). Undefined for charges without a transfer. Throws
   * when Stripe cannot say, so the webhook is retried rather than booked wrong.
   */
  async #creatorReversed(charge: Stripe.Charge): Promise<Money | undefined> {
    const transferId = idOf(charge.transfer)
    if (!transferId) return undefined
    const feeId = idOf(charge.application_fee)
    const [transfer, fee] = await Promise.all([
      this.#call(() => this.stripe.transfers.retrieve(transferId)),
      feeId ? this.#call(() => this.stripe.applicationFees.retrieve(feeId)) : null,
    ])
    const reversed = Math.max(0, transfer.amount_reversed - (fee?.amount_refunded ?? 0))
    return { amount: fromStripeAmount(reversed, charge.currency, { round: true }), currency: charge.currency.toUpperCase() }
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

/** Stripe's subscription statuses that bill as usual, and those that are over. */
const RENEWING_STATUSES = new Set(['active', 'trialing'])
const ENDED_STATUSES = new Set(['canceled', 'incomplete_expired'])

/** The subscription an invoice bills (none for one-off invoices), with the id we gave it at checkout. */
function subscriptionOf(invoice: Stripe.Invoice) {
  const details = invoice.parent?.subscription_details
  const reference = idOf(details?.subscription)
  if (!reference) return null
  return { subscriptionReference: reference, subscriptionId: details?.metadata?.matineeSubscriptionId }
}

/** The id of an expandable Stripe field, whether it came as an id or expanded. */
function idOf(field: string | { id: string } | null | undefined) {
  return typeof field === 'string' ? field : (field?.id ?? undefined)
}
