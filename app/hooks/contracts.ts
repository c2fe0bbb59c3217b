/*
| The provider contracts a plugin implements. The core talks to storage,
| payments and watermarking only through these shapes; first implementations
| come with the media, commerce and playback work, as plugins.
*/
import type { Readable } from 'node:stream'
import type { DataStore, KvStore } from '@tus/utils'

/* ---------------------------------------------------------------- storage */

export interface StoredObjectMeta {
  contentType?: string
  /** Known size in bytes, when the caller has it (lets backends pick multipart). */
  size?: number
  metadata?: Record<string, string>
}

export interface StoredObjectHead {
  key: string
  size: number
  contentType?: string
  lastModified?: Date
  etag?: string
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number
  /** Last byte, inclusive; omitted means to the end. */
  end?: number
}

export interface StoredObjectStream extends StoredObjectHead {
  body: Readable
  /** The range actually served, when a range was asked for. */
  range?: { start: number; end: number }
}

/**
 * Where media lives. Objects are never served to viewers directly: the web app
 * streams them after its entitlement checks. Keys are relative, slash-separated
 * and validated by the core (see `assertValidStorageKey`) before any call.
 */
export interface StorageBackend {
  readonly id: string
  readonly label: string
  put(key: string, body: Readable | Buffer, meta?: StoredObjectMeta): Promise<StoredObjectHead>
  get(key: string, options?: { range?: ByteRange }): Promise<StoredObjectStream>
  /** `null` when the object does not exist. */
  head(key: string): Promise<StoredObjectHead | null>
  /** Deletes one object, or every object under a prefix ending in "/". */
  delete(keyOrPrefix: string): Promise<void>
  list(prefix: string): AsyncIterable<StoredObjectHead>
  /** Optional health probe shown to admins. */
  health?(): Promise<PluginHealth>
  /**
   * Optional: where resumable (tus) uploads wait until they are complete, in
   * a place every web node reaches, so that any chunk of an upload may land
   * on any node (S3: multipart uploads in the bucket). Without it, the core
   * stages uploads in its shared upload folder (UPLOAD_TMP_DIR).
   */
  uploadStore?(options: UploadStoreOptions): UploadStore
  /**
   * Optional: what follows STORAGE_ACCEL_REDIRECT_PREFIX in the app's
   * `X-Accel-Redirect` answer, once a request is checked, for the web server
   * in front (nginx) to send the object itself. Without it, the key: nginx
   * maps the prefix to a folder that holds the keys (local storage). A
   * remote store returns what fetching it privately takes, e.g. S3: the path
   * and query of a presigned GET, which nginx proxies (and caches) from the
   * endpoint; the store stays private.
   */
  offloadPath?(key: string): Promise<string>
}

/** What the core hands a backend that stages uploads (see `StorageBackend.uploadStore`). */
export interface UploadStoreOptions {
  /** Unfinished uploads older than this are deleted by the core (`DataStore.remove`). */
  expirationPeriodInMilliseconds: number
  /** A cache every web node shares (Redis), for the store's per-upload metadata. */
  cache: KvStore<any>
}

export interface UploadStore {
  /**
   * A tus data store (e.g. `@tus/s3-store`'s `S3Store`); its ids are
   * `idPrefix` + a random hex id. `read` streams a complete upload, once,
   * to the node that checks it.
   */
  datastore: DataStore & { read(id: string): Readable | Promise<Readable> }
  /** Prefixed to upload ids inside the store (an S3 key prefix such as "tus-uploads/"); never in URLs. */
  idPrefix?: string
}

/** The object does not exist. Backends throw it from `get`. */
export class ObjectNotFoundError extends Error {
  code = 'E_OBJECT_NOT_FOUND'
  constructor(public key: string) {
    super(`No stored object at "${key}"`)
  }
}

/** The byte range lies outside the object. Backends throw it from `get`. */
export class InvalidRangeError extends Error {
  code = 'E_INVALID_RANGE'
  constructor(
    public key: string,
    public size: number
  ) {
    super(`Range not satisfiable for "${key}" (${size} bytes)`)
  }
}

/* --------------------------------------------------------------- payments */

/** Money is always an integer amount of the currency's minor unit (cents, wei...). */
export interface Money {
  amount: number
  /** ISO 4217 code, upper case (or a token symbol for chains). */
  currency: string
}

/**
 * What a provider needs to start a payment. The amount is the core's, read
 * from the database (after the `video:price` filter), never from the browser.
 */
export interface CheckoutOrder {
  orderId: string
  /**
   * What is sold, as an opaque reference and a title a buyer reads on the
   * provider's page ("My film", "48-hour rental: My film", "All of @ann for
   * 30 days"). A provider never needs to know whether it is a video, a
   * rental, a bundle or a pass.
   */
  itemId: string
  itemTitle: string
  /** Same as `itemId` (kept for plugins written before offers). */
  videoId: string
  /** Same as `itemTitle` (kept for plugins written before offers). */
  videoTitle: string
  buyer: { id: number; email: string; username: string }
  creator: {
    id: number
    username: string
    /** The creator's account at this provider, when they connected one and it can receive money. */
    payoutAccount: string | null
  }
  price: Money
  /** The platform's share (PLATFORM_FEE_BPS of the price, rounded down), for providers that split at source. */
  platformFee: Money
  /** The platform's fee rate in basis points (PLATFORM_FEE_BPS when the order was made). */
  platformFeeBps: number
  /** Where the buyer returns. Providers may append their own query parameters. */
  successUrl: string
  cancelUrl: string
  /** After this the core treats the order as expired; the provider's checkout should not outlive it. */
  expiresAt: Date
}

export type CheckoutResult =
  /** Send the buyer to a hosted payment page. */
  | { kind: 'redirect'; url: string; providerReference: string }
  /** The browser completes the payment itself (e.g. a wallet transaction). */
  | { kind: 'client_action'; action: Record<string, unknown>; providerReference: string }

export interface RawWebhookRequest {
  headers: Record<string, string | string[] | undefined>
  /** The exact bytes received: signatures are computed over them. */
  rawBody: Buffer
}

export const PAYMENT_EVENT_TYPES = [
  'payment.succeeded',
  'payment.failed',
  'payment.expired',
  'payment.refunded',
  'payment.underpaid',
  /**
   * The provider saw money arrive that matches no checkout it started, or
   * disagrees with it (a chain log with another amount, payer or creator
   * than the quote). Recorded for admins; grants nothing.
   */
  'payment.unmatched',
  /**
   * Chargebacks: the buyer's bank disputes a payment. `disputed` suspends the
   * buyer's access while it is open; `dispute_won` gives it back;
   * `dispute_lost` means the money went back to the buyer (access stays
   * revoked; the core books the disputed `amount` and the provider's dispute
   * fee as `providerFee`). Each carries `disputeReference`.
   */
  'payment.disputed',
  'payment.dispute_won',
  'payment.dispute_lost',
] as const

export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number]

/**
 * A provider event whose authenticity the provider has verified. The core
 * applies it to the order's state machine once (keyed by provider + eventId),
 * checks amount and currency against the order, and writes the ledger.
 */
export interface VerifiedPaymentEvent {
  /** The provider's own unique event id: the core's idempotency key. */
  eventId: string
  type: PaymentEventType
  /** The core's order id, when the provider carried it (metadata, invoice...). */
  orderId?: string
  /** Otherwise the checkout's reference returned by `createCheckout`. */
  providerReference?: string
  /** succeeded: the amount paid; refunded: the amount refunded so far; disputes: the disputed amount. */
  amount?: Money
  /**
   * What the provider kept, when it says (becomes a `provider_fee` ledger
   * entry): its processing fee on `succeeded`, its dispute fee (net of any it
   * returned) on `dispute_lost`.
   */
  providerFee?: Money
  /**
   * refunded / dispute_lost, for payments the provider paid the creator
   * directly (a Connect destination charge): how much of the creator's share
   * the provider has taken back from the creator so far (transfer reversals
   * net of application fee refunds), counted like `amount`. Without it the
   * creator keeps what they received and the platform bears the loss.
   */
  creatorReversed?: Money
  /** disputes: the provider's id for the dispute (one chargeback, however many events). */
  disputeReference?: string
  /** The provider's id for the payment itself (what `refund` needs). */
  paymentReference?: string
  /** failed / expired / unmatched: why, in words a buyer (or an admin) may read. */
  reason?: string
  /**
   * succeeded, when the provider itself paid the creator and the platform
   * their shares (a splitter contract): what each side received, in the
   * order's minor units, summing to `amount` minus `providerFee`. The ledger
   * then records these instead of the platform's fee rule.
   */
  split?: { creator: number; platform: number }
  /** Facts admins may want to see with the event (transaction hash, payer...). Stored as given. */
  details?: Record<string, string | number | boolean | null>
}

/** Thrown by `handleWebhook` when a request is not authentic (the core answers 400). */
export class WebhookVerificationError extends Error {
  code = 'E_WEBHOOK_VERIFICATION'
}

/** Thrown by provider calls the buyer or an admin should see the message of. */
export class PaymentProviderError extends Error {
  code = 'E_PAYMENT_PROVIDER'
}

export interface RefundRequest {
  orderId: string
  /**
   * Names this refund (one order may be refunded in parts): providers with
   * idempotency keys use it, so a retried call never gives money back twice.
   * Absent for the core's older callers: the order id is then the key.
   */
  refundKey?: string
  providerReference: string | null
  paymentReference: string | null
  /** What to give back now: the order's amount less what was refunded before. */
  amount: Money
}

export interface RefundResult {
  refundReference: string
  /**
   * For payments the provider paid the creator directly: how much of the
   * creator's share has been taken back from them, counting this refund and
   * earlier ones (see `VerifiedPaymentEvent.creatorReversed`).
   */
  creatorReversed?: Money
}

/**
 * What a plugin shows inside the site's pages: the name of one of its own
 * Edge templates (`<plugin>::<file>`, from the folder it mounted with
 * `api.views.mount`) and the data it is rendered with. The core renders it
 * in its page, inside the site's layout; Edge escapes every `{{ value }}`,
 * and plugin templates may not print raw HTML (`{{{ }}}` is refused).
 */
export interface PluginView {
  view: string
  data?: Record<string, unknown>
}

export interface BuyButtonInput {
  /** POST target of the checkout form, and its hidden fields (CSRF token, provider), to render as `<input type="hidden">`. */
  action: string
  hiddenFields: Array<{ name: string; value: string }>
  /** The price as the buyer sees it, formatted. */
  priceText: string
  videoTitle: string
}

export interface PaymentProvider {
  readonly id: string
  readonly label: string
  /** ISO 4217 codes (or token symbols) this provider can charge in, upper case. */
  readonly currencies: readonly string[]
  /**
   * How long an order made with this provider waits for its payment, in
   * whole minutes (default ORDER_TTL_MINUTES), for payments that take days
   * such as bank transfers. A payment confirmed later still pays the order.
   */
  readonly checkoutLifetimeMinutes?: number
  /**
   * Starts a payment for a pending order. Called at most once per order; must
   * be safe to retry with the same orderId (use it as an idempotency key).
   */
  createCheckout(order: CheckoutOrder): Promise<CheckoutResult>
  /**
   * Verifies a webhook request (signature, timestamp) and returns the payment
   * events it carries (none for event types it ignores). Throws
   * `WebhookVerificationError` when the request is not authentic. Optional:
   * a provider that receives no webhooks (it hands events to
   * `api.payments.deliver`: a chain watcher, an admin's "mark paid") leaves it
   * out, and no `/webhooks/<id>` route is mounted for it.
   */
  handleWebhook?(request: RawWebhookRequest): Promise<Array<VerifiedPaymentEvent | VerifiedSubscriptionEvent>>
  /**
   * Refunds what is left of a paid order. Resolves once the provider accepted
   * it; the core then marks the order refunded (a later refund event is
   * ignored). Where the provider paid the creator directly, the refund takes
   * the creator's share back from them in proportion (Stripe: reverse the
   * transfer, refund the application fee) and says how much in the result.
   */
  refund?(request: RefundRequest): Promise<RefundResult>
  /**
   * Who may start `refund`: 'admins' when the money comes from the
   * platform's own funds (x402's refund wallet), so a creator cannot refund
   * their own sales at the platform's expense. Default: the order's creator
   * and admins.
   */
  refundsBy?: 'admins' | 'creator_and_admins'
  health?(): Promise<PluginHealth>
  /**
   * The provider's own buy button: a view of its plugin and its data. Without
   * it the core renders a plain button labelled with `label`. Must submit the
   * form it is given.
   */
  renderBuyButton?(input: BuyButtonInput): PluginView
  /**
   * For `client_action` checkouts: the view the buyer's order page shows
   * while the order is pending (a wallet's connect-and-pay panel). It is
   * given the action `createCheckout` returned, as stored on the order.
   */
  renderCheckout?(input: ClientCheckoutInput): PluginView
  /**
   * Optional: the provider bills repeatedly (a card kept on file, Stripe
   * Billing), so it can sell memberships. Providers without it (a wallet, a
   * bank transfer) sell passes instead. Its webhooks then also return
   * `VerifiedSubscriptionEvent`s.
   */
  readonly subscriptions?: SubscriptionBilling
}

/* ------------------------------------------------------- repeated billing */

/**
 * What a provider needs to start a subscription: a price billed every
 * `interval`, from the core. As with orders, the provider never learns what
 * it buys (a membership), only a title and an opaque reference.
 */
export interface SubscriptionCheckoutInput {
  /** The core's id for this subscription: carry it on the provider's subscription (metadata) so its events name it. */
  subscriptionId: string
  itemId: string
  itemTitle: string
  buyer: { id: number; email: string; username: string }
  creator: { id: number; username: string }
  /** Charged every interval. */
  price: Money
  interval: 'month'
  successUrl: string
  cancelUrl: string
}

export interface SubscriptionCheckoutResult {
  kind: 'redirect'
  url: string
  /** The checkout's reference (a Checkout Session id), not yet the subscription's. */
  providerReference: string
}

export interface SubscriptionBilling {
  /** Sends the buyer to the provider's page that takes a payment method and starts billing. */
  createSubscriptionCheckout(input: SubscriptionCheckoutInput): Promise<SubscriptionCheckoutResult>
  /**
   * Stops billing. `atPeriodEnd`: the subscription runs to the end of the
   * paid period, then ends (a `subscription.ended` event follows then);
   * otherwise it ends now. Resolves once the provider accepted it; safe to repeat.
   */
  cancelSubscription(reference: string, options: { atPeriodEnd: boolean }): Promise<void>
}

export const SUBSCRIPTION_EVENT_TYPES = [
  /** An invoice was paid: `invoiceReference`, `amount`, the period it pays for (`periodStart`/`periodEnd`). */
  'subscription.invoice_paid',
  /** A renewal could not be charged (the provider retries): `invoiceReference`, `reason`. */
  'subscription.payment_failed',
  /** The provider's subscription changed: `status`, `cancelAtPeriodEnd`, `currentPeriodEnd`. */
  'subscription.updated',
  /** The subscription is over (cancelled, or unpaid after the provider's retries). */
  'subscription.ended',
] as const

export type SubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number]

/**
 * A verified event about a subscription. The core applies it once (provider +
 * `eventId`, shared with payment events), to the subscription it knows by
 * `subscriptionReference` (or, for its first events, by the `subscriptionId`
 * the checkout carried). An event for a subscription or customer the core
 * does not know is rejected and grants nothing.
 */
export interface VerifiedSubscriptionEvent {
  eventId: string
  type: SubscriptionEventType
  /** The provider's subscription id. */
  subscriptionReference: string
  /** The provider's customer id (checked against the one the subscription was bound to). */
  customerReference?: string
  /** The core's id given to `createSubscriptionCheckout`, as the provider carried it back. */
  subscriptionId?: string
  /** invoice_paid / payment_failed: the provider's invoice id (each paid invoice is one order, once). */
  invoiceReference?: string
  /** invoice_paid: what was paid; payment_failed: what was due. */
  amount?: Money
  /** invoice_paid: the provider's processing fee, when it says. */
  providerFee?: Money
  /** invoice_paid: the provider's id for the payment (what `refund` needs). */
  paymentReference?: string
  /** invoice_paid: the period the invoice pays for. */
  periodStart?: Date
  periodEnd?: Date
  /** updated: the provider's state in the core's words. */
  status?: 'active' | 'past_due' | 'ended'
  cancelAtPeriodEnd?: boolean
  currentPeriodEnd?: Date
  /** payment_failed / ended: why, in words a buyer may read. */
  reason?: string
}

/** Anything a provider's webhook (or `api.payments.deliver`) hands the core. */
export type ProviderEvent = VerifiedPaymentEvent | VerifiedSubscriptionEvent

export function isSubscriptionEvent(event: ProviderEvent): event is VerifiedSubscriptionEvent {
  return typeof event?.type === 'string' && (SUBSCRIPTION_EVENT_TYPES as readonly string[]).includes(event.type)
}

export interface ClientCheckoutInput {
  orderId: string
  action: Record<string, unknown>
  videoTitle: string
  /** The price as the buyer sees it, formatted. */
  priceText: string
  /** GET: `{ status }` of the order (pending, paid...), for polling. */
  statusUrl: string
  /** The CSRF token for POSTs to the plugin's own routes (header `x-csrf-token`). */
  csrfToken: string
  expiresAt: Date
}

/* ------------------------------------------------------------- watermarks */

export interface WatermarkSession {
  sessionId: string
  userId: number
  username: string
  /** Text after the `watermark:text` filter. */
  text: string
  /**
   * Secret bytes unique to the session (derived by the core from its key).
   * Derive positions from it (e.g. an HMAC of the time slot) so two sessions
   * of one video differ and nobody can predict a session's schedule.
   */
  seed: Buffer
}

export interface VisibleWatermarkInput {
  session: WatermarkSession
  /** Presentation time of the first frame, in seconds of the video. */
  startSeconds: number
  durationSeconds: number
  /** Size of the frames the filter draws on. */
  width: number
  height: number
  /** The mark moves to a new position every `intervalSeconds`. */
  intervalSeconds: number
}

export interface VisibleWatermarker {
  readonly id: string
  readonly kind: 'visible'
  readonly label: string
  /**
   * An FFmpeg filter chain (filters joined by commas, no labels) drawing the
   * mark on frames of this session and time range. Inside it, `t` is the
   * frame's presentation time in the video (timestamps are kept), so a
   * segment rendered alone continues its neighbours' schedule exactly.
   * May be async (to read the plugin's settings, for example).
   */
  buildFilter(input: VisibleWatermarkInput): string | Promise<string>
}

/** The two marked copies of every segment: a session is served one of them per segment. */
export type ForensicVariant = 'A' | 'B'

export interface ForensicVariantInput {
  videoId: string
  /**
   * Secret bytes of this video, derived by the core from APP_KEY. Derive the
   * mark from it (never from the video id alone), so nobody without the key
   * can compute the mark, and two videos carry unrelated marks.
   */
  key: Buffer
  /** The rendition's name ("720p") and the size of its frames. */
  rendition: string
  width: number
  height: number
  variant: ForensicVariant
  /**
   * Labels of the fragment's only input and output pads in the transcode's
   * filter graph. Any other label the fragment needs must start with
   * `outLabel` followed by "_" (labels are global to the graph).
   */
  inLabel: string
  outLabel: string
}

export interface ForensicPatternInput {
  key: Buffer
  /** The grid the pattern is evaluated on: pixel centres of a width × height frame. */
  width: number
  height: number
}

/**
 * A watermark that costs nothing per viewer: at transcode time every segment
 * of the configured renditions is encoded twice more, as variant A and
 * variant B, which differ only by an imperceptible mark. A session is later
 * served A or B per segment by the bits of its code, so a leaked copy spells
 * out its session.
 */
export interface ForensicWatermarker {
  readonly id: string
  readonly kind: 'forensic'
  readonly label: string
  /**
   * An FFmpeg filter graph fragment reading `[inLabel]` and writing
   * `[outLabel]`: the frames of one rendition with the variant's mark added.
   * It must keep the frame size, rate, timestamps and pixel format, and may
   * create its own sources (lavfi filters) but open no file. The same input
   * must always give the same fragment.
   */
  variantFilter(input: ForensicVariantInput): string | Promise<string>
  /**
   * The mark of variant A as luma offsets, row-major (variant B carries the
   * negative), for detection: a leaked frame minus the unmarked one is
   * correlated with it.
   */
  pattern(input: ForensicPatternInput): Float32Array
  /**
   * One soft bit: `difference` (row-major luma, a suspect minus the unmarked
   * rendition, averaged over a segment) correlated with the pattern. Near +1
   * reads A, near -1 reads B, near 0 carries no mark of this key.
   */
  score(input: ForensicPatternInput & { difference: Float32Array }): number
}

export type Watermarker = VisibleWatermarker | ForensicWatermarker

/* ----------------------------------------------------------- entitlements */

export interface EntitlementRequest {
  user: { id: number; username: string; role: string }
  video: { id: string; ownerId: number; priceMinor: number; currency: string }
}

/**
 * One reason a viewer may watch a video (owning it, being an admin, being on
 * its allowlist, having bought it...). The core asks every source, in order,
 * after its own checks (the video exists, is ready, published, not taken
 * down, the viewer is logged in); the first that grants wins.
 */
export interface EntitlementSource {
  readonly id: string
  readonly label: string
  grants(request: EntitlementRequest): boolean | Promise<boolean>
}

/* ------------------------------------------------------------------ common */

export interface PluginHealth {
  ok: boolean
  message: string
}
