import { test } from '@japa/runner'
import edge from 'edge.js'
import { randomBytes, randomUUID } from 'node:crypto'
import {
  WebhookVerificationError,
  type CheckoutOrder,
  type CheckoutResult,
  type Money,
  PAYMENT_EVENT_TYPES,
  type PaymentProvider,
  type RawWebhookRequest,
  type SubscriptionCheckoutInput,
  type VerifiedPaymentEvent,
} from '../contracts.js'

/** A checkout the contract suite started: the order it sent and what `createCheckout` answered. */
export interface StartedCheckout {
  order: CheckoutOrder
  result: CheckoutResult
}

/**
 * How a provider's payments become events, for `paymentProviderContract`.
 *
 * `webhook`: the payment service POSTs a notification to `/webhooks/<provider id>` and the
 * provider's `handleWebhook` verifies it.
 */
export interface WebhookNotifications {
  kind: 'webhook'
  /**
   * The request the service sends once `checkout` is paid, built and signed exactly as the
   * service does it (for Stripe: the event's JSON, signed with
   * `Stripe.webhooks.generateTestHeaderString`). If the provider looks anything up while
   * handling it (a fee, a charge), complete the payment at the service's test double first.
   * Called once per checkout.
   */
  paid(checkout: StartedCheckout): Promise<RawWebhookRequest>
  /** The same kind of notification, signed with a key that is not the provider's (an attacker's). */
  forged(checkout: StartedCheckout): Promise<RawWebhookRequest>
}

/**
 * `deliver`: the plugin confirms payments itself (an admin's "Mark paid", a chain watcher) and
 * hands the events to `api.payments.deliver`; it has no `handleWebhook` (or one that accepts nothing).
 */
export interface DeliveredNotifications {
  kind: 'deliver'
  /**
   * The events the plugin hands to `api.payments.deliver` when `checkout` is confirmed paid,
   * made by the plugin's own code (not written by the test). May be called more than once for
   * one checkout, as a confirmation may be repeated.
   */
  paid(checkout: StartedCheckout): Promise<VerifiedPaymentEvent[]>
}

/** What `paymentProviderContract` needs to exercise one provider. */
export interface PaymentProviderFixture {
  /** The provider under test, configured as in production but talking to a test double of its service. */
  provider: PaymentProvider
  /** The price of the sample orders; default 1250 minor units of the provider's first currency. */
  price?: Money
  /** How the provider learns that a checkout was paid. */
  notifications: WebhookNotifications | DeliveredNotifications
  /** Stops what the setup started (servers, timers); runs after the suite. */
  cleanup?(): Promise<void>
}

/**
 * What every PaymentProvider must guarantee to the core (see `PaymentProvider` in contracts.ts):
 * usable id, label and currencies; a checkout the buyer can be sent to, started once per order;
 * a genuine "paid" notification becomes exactly one `payment.succeeded` event for that order with
 * its exact amount, under an event id that stays the same when the notification comes again (the
 * core applies each id once); anything not authentic is refused with `WebhookVerificationError`
 * (the core answers 400 and records nothing); a refund, when offered, resolves with a reference.
 *
 * `paymentProviderContract('my provider', async () => ({ provider, notifications: {...} }))`
 * in a japa spec file. Each test starts its own sample order.
 */
export function paymentProviderContract(name: string, setup: () => Promise<PaymentProviderFixture>) {
  test.group(`PaymentProvider contract: ${name}`, (group) => {
    let fixture: PaymentProviderFixture
    let provider: PaymentProvider
    group.setup(async () => {
      fixture = await setup()
      provider = fixture.provider
      return () => fixture.cleanup?.()
    })

    const priceOf = (): Money => fixture.price ?? { amount: 1250, currency: provider.currencies[0] }
    const hasWebhooks = () => fixture.notifications.kind === 'webhook'

    async function startCheckout(): Promise<StartedCheckout> {
      const order = sampleOrder(priceOf())
      return { order, result: await provider.createCheckout(order) }
    }

    /** The events the core would receive for a paid checkout, and the notification they came from. */
    async function paidEvents(checkout: StartedCheckout) {
      const notifications = fixture.notifications
      if (notifications.kind === 'deliver') return { events: await notifications.paid(checkout), request: null }
      const request = await notifications.paid(checkout)
      return { events: await provider.handleWebhook!(request), request }
    }

    async function genuineRequest() {
      const checkout = await startCheckout()
      const notifications = fixture.notifications as WebhookNotifications
      return { checkout, request: await notifications.paid(checkout) }
    }

    async function refused(assert: any, request: RawWebhookRequest) {
      let outcome: unknown
      try {
        outcome = await provider.handleWebhook!(request)
      } catch (error) {
        outcome = error
      }
      assert.instanceOf(
        outcome,
        WebhookVerificationError,
        `expected handleWebhook to throw WebhookVerificationError, got ${describe(outcome)}`
      )
    }

    test('id, label and currencies are what the core can use', ({ assert }) => {
      assert.match(provider.id, /^[a-z0-9][a-z0-9_-]*$/, 'the id names routes (/webhooks/<id>) and orders')
      assert.isString(provider.label)
      assert.isAbove(provider.label.trim().length, 0, 'the label is what buyers and admins read')
      assert.isArray(provider.currencies)
      assert.isAbove(provider.currencies.length, 0, 'a provider charges in at least one currency')
      for (const currency of provider.currencies) {
        assert.match(currency, /^[A-Z0-9]{2,12}$/, `currency "${currency}": ISO 4217 code or token symbol, upper case`)
      }
      assert.equal(new Set(provider.currencies).size, provider.currencies.length, 'no currency twice')
      assert.include(provider.currencies, priceOf().currency, 'the fixture price is in a currency the provider offers')
      if (provider.checkoutLifetimeMinutes !== undefined) {
        assert.isTrue(
          Number.isSafeInteger(provider.checkoutLifetimeMinutes) && provider.checkoutLifetimeMinutes > 0,
          'checkoutLifetimeMinutes is a positive whole number of minutes'
        )
      }
    })

    test('createCheckout starts a payment the core can send the buyer to', async ({ assert }) => {
      const { order, result } = await startCheckout()
      assert.oneOf(result.kind, ['redirect', 'client_action'])
      assert.isString(result.providerReference)
      assert.isAbove(result.providerReference.length, 0, 'the core finds the order by it when an event has no orderId')
      assert.isAtMost(result.providerReference.length, 255)
      if (result.kind === 'redirect') {
        assert.isTrue(URL.canParse(result.url), `the buyer is redirected to an absolute URL, not "${result.url}"`)
        assert.oneOf(new URL(result.url).protocol, ['http:', 'https:'])
        return
      }
      assert.isObject(result.action)
      // The order row stores the action as JSON; the order page hands it back.
      assert.deepEqual(JSON.parse(JSON.stringify(result.action)), result.action, 'the action survives JSON storage')
      assert.isFunction(provider.renderCheckout, 'a client_action checkout needs renderCheckout: the order page has nothing else')
      const panel = provider.renderCheckout!({
        orderId: order.orderId,
        action: JSON.parse(JSON.stringify(result.action)),
        videoTitle: order.videoTitle,
        priceText: `${order.price.amount} ${order.price.currency}`,
        statusUrl: `/orders/${order.orderId}/status`,
        csrfToken: 'contract-csrf-token',
        expiresAt: order.expiresAt,
      })
      // A view of the plugin and its data (never HTML), rendered escaped by the host's template engine.
      assert.isString(panel.view, 'renderCheckout returns { view, data }')
      assert.match(panel.view, /^[a-z0-9][a-z0-9_-]*::/, 'the view is one of the plugin\'s (<plugin>::<file>, from api.views.mount)')
      const html = await edge.render(panel.view, panel.data ?? {})
      assert.isAbove(html.trim().length, 0)
    })

    test('a retried createCheckout of the same order starts no second payment', async ({ assert }) => {
      const { order, result } = await startCheckout()
      const again = await provider.createCheckout(order)
      assert.equal(again.kind, result.kind)
      assert.equal(again.providerReference, result.providerReference)
      if (result.kind === 'redirect' && again.kind === 'redirect') assert.equal(again.url, result.url)
    })

    test('a genuine "paid" notification yields one payment.succeeded for the order, with its exact amount', async ({ assert }) => {
      const checkout = await startCheckout()
      const { events } = await paidEvents(checkout)
      assert.isArray(events)
      for (const event of events) {
        assert.oneOf(event.type, [...PAYMENT_EVENT_TYPES])
        assert.isString(event.eventId)
        assert.isAbove(event.eventId.length, 0, 'the event id is the core’s idempotency key')
        assert.isAtMost(event.eventId.length, 255)
      }
      const succeeded = events.filter((event) => event.type === 'payment.succeeded') as VerifiedPaymentEvent[]
      assert.lengthOf(succeeded, 1, 'exactly one payment.succeeded')
      const [event] = succeeded
      // The core finds the order by orderId, else by the checkout's providerReference.
      if (event.orderId !== undefined) assert.equal(event.orderId, checkout.order.orderId)
      else assert.equal(event.providerReference, checkout.result.providerReference)
      assert.isDefined(event.amount, 'the core checks the amount paid against the order')
      assert.isTrue(Number.isSafeInteger(event.amount!.amount), 'amounts are integers in minor units')
      assert.deepEqual(event.amount, checkout.order.price)
      if (event.providerFee) {
        assert.isTrue(Number.isSafeInteger(event.providerFee.amount) && event.providerFee.amount >= 0, 'a fee is a non-negative integer')
        assert.equal(event.providerFee.currency, checkout.order.price.currency)
      }
    })

    test('the same notification again names the same event ids (the core applies each id once)', async ({ assert }) => {
      const checkout = await startCheckout()
      const first = await paidEvents(checkout)
      const again =
        first.request === null
          ? await (fixture.notifications as DeliveredNotifications).paid(checkout)
          : await provider.handleWebhook!(first.request)
      assert.isAbove(first.events.length, 0)
      assert.deepEqual(
        again.map((event) => [event.eventId, event.type]),
        first.events.map((event) => [event.eventId, event.type])
      )
    })

    test('a request that merely claims the order was paid is refused', async ({ assert }) => {
      const { order } = await startCheckout()
      const claim = { type: 'payment.succeeded', orderId: order.orderId, amount: order.price, status: 'paid' }
      await refused(assert, { headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(JSON.stringify(claim)) })
    }).skip(() => !provider.handleWebhook, 'the provider takes no webhooks: the core mounts no webhook route for it')

    test('a garbled request is refused, not crashed on', async ({ assert }) => {
      const headers = hasWebhooks() ? (await genuineRequest()).request.headers : { 'content-type': 'application/json' }
      await refused(assert, { headers, rawBody: randomBytes(64) })
      await refused(assert, { headers, rawBody: Buffer.from('{"id": "evt_1", "type": "checkout.session') })
      await refused(assert, { headers, rawBody: Buffer.alloc(0) })
    }).skip(() => !provider.handleWebhook, 'the provider takes no webhooks: the core mounts no webhook route for it')

    test('a notification signed with another key is refused', async ({ assert }) => {
      const checkout = await startCheckout()
      await refused(assert, await (fixture.notifications as WebhookNotifications).forged(checkout))
    }).skip(() => !hasWebhooks(), 'the provider takes no webhooks')

    test('a notification changed after signing is refused', async ({ assert }) => {
      const { checkout, request } = await genuineRequest()
      await refused(assert, { headers: request.headers, rawBody: tamper(request.rawBody, checkout.order.price.amount) })
    }).skip(() => !hasWebhooks(), 'the provider takes no webhooks')

    test('an unsigned notification is refused', async ({ assert }) => {
      const { request } = await genuineRequest()
      await refused(assert, { headers: { 'content-type': 'application/json' }, rawBody: request.rawBody })
    }).skip(() => !hasWebhooks(), 'the provider takes no webhooks')

    test('refunding a paid order resolves with the provider’s refund reference', async ({ assert }) => {
      const checkout = await startCheckout()
      const { events } = await paidEvents(checkout)
      const paid = events.find((event) => event.type === 'payment.succeeded')!
      const refund = await provider.refund!({
        orderId: checkout.order.orderId,
        providerReference: checkout.result.providerReference,
        paymentReference: paid.paymentReference ?? null,
        amount: checkout.order.price,
      })
      assert.isString(refund.refundReference)
      assert.isAbove(refund.refundReference.length, 0)
    }).skip(() => typeof provider.refund !== 'function', 'the provider has no refund')

    test('repeated billing, when offered: a subscription checkout to send the buyer to, started once per subscription id', async ({ assert }) => {
      const input = sampleSubscription(priceOf())
      const started = await provider.subscriptions!.createSubscriptionCheckout(input)
      assert.equal(started.kind, 'redirect')
      assert.match(started.url, /^https?:\/\//)
      assert.isString(started.providerReference)
      assert.isAbove(started.providerReference.length, 0)
      const again = await provider.subscriptions!.createSubscriptionCheckout(input)
      assert.equal(again.providerReference, started.providerReference, 'a retried subscription checkout starts no second one')
      assert.equal(again.url, started.url)
      assert.isFunction(provider.subscriptions!.cancelSubscription)
    }).skip(() => !provider.subscriptions, 'the provider cannot bill repeatedly')
  })
}

/** A subscription checkout as the core would start it (`subscriptions.createSubscriptionCheckout`). */
function sampleSubscription(price: Money): SubscriptionCheckoutInput {
  const subscriptionId = String(Math.floor(Math.random() * 1e9) + 1)
  const base = 'http://127.0.0.1:3333'
  return {
    subscriptionId,
    itemId: randomUUID(),
    itemTitle: 'Monthly membership: Contract test',
    buyer: { id: 1, email: 'buyer@example.com', username: 'buyer' },
    creator: { id: 2, username: 'maker' },
    price,
    interval: 'month',
    successUrl: `${base}/library/memberships?joined=${subscriptionId}`,
    cancelUrl: `${base}/memberships/${subscriptionId}`,
  }
}

/** An order as the core would send it (ids are fresh UUIDs, the buyer and creator made up). */
function sampleOrder(price: Money): CheckoutOrder {
  const orderId = randomUUID()
  const base = 'http://127.0.0.1:3333'
  const itemId = randomUUID()
  return {
    orderId,
    itemId,
    itemTitle: 'Contract test film',
    videoId: itemId,
    videoTitle: 'Contract test film',
    buyer: { id: 1, email: 'buyer@example.com', username: 'buyer' },
    creator: { id: 2, username: 'maker', payoutAccount: null },
    price,
    platformFee: { amount: Math.floor(price.amount / 10), currency: price.currency },
    platformFeeBps: 1000,
    successUrl: `${base}/orders/${orderId}/complete`,
    cancelUrl: `${base}/orders/${orderId}/cancel`,
    expiresAt: new Date(Date.now() + 60 * 60_000),
  }
}

/** The body with the amount changed (an attacker paying less), or one byte changed if it does not appear. */
function tamper(body: Buffer, amount: number) {
  const text = body.toString('utf8')
  const pattern = new RegExp(`(?<![\\d.])${amount}(?![\\d.])`, 'g')
  if (pattern.test(text)) return Buffer.from(text.replace(pattern, String(amount > 1 ? amount - 1 : amount + 1)), 'utf8')
  const changed = Buffer.from(body)
  const middle = Math.floor(changed.length / 2)
  changed[middle] = changed[middle] ^ 0x01
  return changed
}

function describe(outcome: unknown) {
  if (outcome instanceof Error) return `${outcome.constructor.name}: ${outcome.message}`
  return `a result (${JSON.stringify(outcome)?.slice(0, 200)})`
}
