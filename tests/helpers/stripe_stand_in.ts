/**
 * A local stand-in for the slice of Stripe's API this app uses (Checkout,
 * PaymentIntents/Charges/BalanceTransactions, Refunds, Connect onboarding,
 * destination charges with their Transfers and ApplicationFees, transfer
 * reversals, application fee refunds, Disputes, Balances, and Billing:
 * Checkout in subscription mode, Customers, Subscriptions, Invoices with
 * their InvoicePayments, and test clocks) plus the hosted pages a buyer or
 * seller would click through.
 *
 * Billing runs on test clocks as on Stripe: a customer created while
 * `clockForNewCustomers` is set lives on that clock (Stripe attaches a clock
 * to a customer at creation); `advanceClock` moves it forward, and every
 * subscription of its customers renews at each period end it passes (a new
 * invoice, charged to the card on file: `invoice.paid`, or
 * `invoice.payment_failed` and `past_due` with retries 3, 5 and 7 days later,
 * after which the subscription is cancelled), a subscription set to cancel at
 * period end is deleted there; each step's signed webhooks are delivered in
 * order before the call resolves.
 *
 * Money moves between balances the way Stripe moves it, so tests can assert
 * what the platform and each connected account hold:
 * - a charge credits the platform (amount, minus Stripe's fee);
 * - a destination charge then transfers the whole amount to the connected
 *   account (`transfer`) and collects the application fee back from it
 *   (`application_fee`): the platform nets fee − Stripe's fee;
 * - a refund debits the platform the refunded amount (Stripe keeps its fee);
 *   `reverse_transfer` pulls the same share of the transfer back from the
 *   connected account and `refund_application_fee` returns the same share of
 *   the application fee to it;
 * - a dispute debits the platform the disputed amount and a 15.00 dispute
 *   fee (for destination charges too: the transfer stays unless the platform
 *   reverses it); won, both come back; lost, they are gone.
 *
 * Why a wire-level stand-in rather than mocking the SDK: the app talks to
 * Stripe through the real `stripe` package, so the exact things that break in
 * production (form encoding of nested params, error classes chosen from HTTP
 * status, idempotency keys, webhook signatures, the raw body the app must
 * verify) are exercised for real. Point the SDK at it with
 * `new Stripe(secretKey, standIn.sdkConfig)`.
 *
 * Only `node:http`, `node:crypto` and `stripe` (to sign webhooks exactly like
 * Stripe does) are used. Everything is kept in memory; nothing is persisted.
 *
 * Deliberate strictness, mirroring real Stripe so app bugs surface locally:
 * unknown parameters are rejected ("Received unknown parameter"), amounts must
 * be integers, totals must clear Stripe's per-currency minimum, and a
 * `transfer_data[destination]` account must exist and have finished onboarding.
 */
import { createServer, request as httpRequest } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import Stripe from 'stripe'

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface StripeStandInOptions {
  /** Requests must carry `Authorization: Bearer <secretKey>`. */
  secretKey: string
  /** `whsec_...` secret used to sign webhook events. */
  webhookSecret: string
  /** Where events are POSTed; can also be set later through `standIn.webhookUrl`. */
  webhookUrl?: string
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number
}

export type Metadata = Record<string, string>

export type StripeEvent = {
  id: string
  object: 'event'
  api_version: string
  created: number
  type: string
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> }
  livemode: false
  pending_webhooks: number
  request: { id: string | null; idempotency_key: string | null }
  /** Set on Connect events (e.g. `account.updated`), like Stripe does. */
  account?: string
}

export type CheckoutSession = {
  id: string
  object: 'checkout.session'
  /** Hosted page URL while open; Stripe nulls it once the session is complete/expired. */
  url: string | null
  status: 'open' | 'complete' | 'expired'
  payment_status: 'paid' | 'unpaid'
  amount_subtotal: number
  amount_total: number
  currency: string
  client_reference_id: string | null
  customer: string | null
  customer_email: string | null
  customer_details: { email: string | null } | null
  metadata: Metadata
  mode: 'payment' | 'subscription'
  payment_intent: string | null
  /** Subscription mode: what the completed session started. */
  subscription: string | null
  invoice: string | null
  payment_method_types: string[]
  success_url: string
  cancel_url: string | null
  ui_mode: 'hosted'
  expires_at: number
  created: number
  livemode: false
}

export type Price = {
  id: string
  object: 'price'
  active: boolean
  currency: string
  unit_amount: number
  product: string
  type: 'one_time' | 'recurring'
  recurring: { interval: 'day' | 'week' | 'month' | 'year'; interval_count: number } | null
  created: number
  livemode: false
}

export type Product = {
  id: string
  object: 'product'
  active: boolean
  name: string
  description: string | null
  metadata: Metadata
  created: number
  livemode: false
}

export type LineItem = {
  id: string
  object: 'item'
  amount_discount: number
  amount_subtotal: number
  amount_tax: number
  amount_total: number
  currency: string
  description: string
  quantity: number
  price: Price
  metadata: Metadata
}

export type TransferData = { destination: string; amount?: number }

export type TestClock = {
  id: string
  object: 'test_helpers.test_clock'
  created: number
  deletes_after: number
  frozen_time: number
  livemode: false
  name: string | null
  status: 'ready' | 'advancing'
  status_details: Record<string, unknown>
}

export type Customer = {
  id: string
  object: 'customer'
  created: number
  email: string | null
  metadata: Metadata
  test_clock: string | null
  invoice_settings: { default_payment_method: string | null }
  livemode: false
}

export type SubscriptionItem = {
  id: string
  object: 'subscription_item'
  created: number
  current_period_start: number
  current_period_end: number
  metadata: Metadata
  price: Price
  quantity: number
  subscription: string
}

export type Subscription = {
  id: string
  object: 'subscription'
  billing_cycle_anchor: number
  cancel_at: number | null
  cancel_at_period_end: boolean
  canceled_at: number | null
  cancellation_details: { comment: string | null; feedback: string | null; reason: 'cancellation_requested' | 'payment_failed' | null }
  collection_method: 'charge_automatically'
  created: number
  currency: string
  customer: string
  default_payment_method: string | null
  ended_at: number | null
  items: { object: 'list'; data: SubscriptionItem[]; has_more: false; total_count: number; url: string }
  latest_invoice: string | null
  livemode: false
  metadata: Metadata
  start_date: number
  status: 'active' | 'past_due' | 'canceled' | 'incomplete' | 'unpaid'
  test_clock: string | null
}

export type InvoiceLine = {
  id: string
  object: 'line_item'
  amount: number
  currency: string
  description: string
  invoice: string
  metadata: Metadata
  parent: {
    type: 'subscription_item_details'
    invoice_item_details: null
    subscription_item_details: { invoice_item: null; proration: false; proration_details: { credited_items: null }; subscription: string; subscription_item: string }
  }
  period: { start: number; end: number }
  pricing: { type: 'price_details'; price_details: { price: string; product: string }; unit_amount_decimal: string }
  quantity: number
}

export type Invoice = {
  id: string
  object: 'invoice'
  amount_due: number
  amount_paid: number
  amount_remaining: number
  attempt_count: number
  attempted: boolean
  auto_advance: boolean
  billing_reason: 'subscription_create' | 'subscription_cycle'
  collection_method: 'charge_automatically'
  created: number
  currency: string
  customer: string
  customer_email: string | null
  hosted_invoice_url: string
  lines: { object: 'list'; data: InvoiceLine[]; has_more: false; total_count: number; url: string }
  livemode: false
  metadata: Metadata
  next_payment_attempt: number | null
  number: string
  parent: { type: 'subscription_details'; quote_details: null; subscription_details: { metadata: Metadata; subscription: string } }
  /** For subscription invoices Stripe sets these to the period before the one billed (usage); the line's period is the one paid for. */
  period_start: number
  period_end: number
  status: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible'
  status_transitions: { finalized_at: number | null; paid_at: number | null; voided_at: number | null; marked_uncollectible_at: number | null }
  subtotal: number
  total: number
  test_clock: string | null
}

export type InvoicePayment = {
  id: string
  object: 'invoice_payment'
  amount_paid: number | null
  amount_requested: number
  created: number
  currency: string
  invoice: string
  is_default: boolean
  livemode: false
  payment: { type: 'payment_intent'; payment_intent: string }
  status: 'open' | 'paid' | 'canceled'
  status_transitions: { canceled_at: number | null; paid_at: number | null }
}

export type PaymentIntent = {
  id: string
  object: 'payment_intent'
  amount: number
  amount_received: number
  currency: string
  status: 'processing' | 'succeeded' | 'requires_payment_method'
  description: string | null
  metadata: Metadata
  latest_charge: string | null
  application_fee_amount: number | null
  on_behalf_of: string | null
  transfer_data: TransferData | null
  transfer_group: string | null
  payment_method_types: string[]
  created: number
  livemode: false
}

export type Refund = {
  id: string
  object: 'refund'
  amount: number
  balance_transaction: string
  charge: string
  currency: string
  metadata: Metadata
  payment_intent: string | null
  reason: string | null
  status: 'succeeded'
  /** Set when the refund reversed part of the destination charge's transfer. */
  transfer_reversal: string | null
  created: number
}

export type TransferReversal = {
  id: string
  object: 'transfer_reversal'
  amount: number
  balance_transaction: string
  created: number
  currency: string
  destination_payment_refund: string
  metadata: Metadata
  source_refund: string | null
  transfer: string
}

export type Transfer = {
  id: string
  object: 'transfer'
  amount: number
  amount_reversed: number
  balance_transaction: string
  created: number
  currency: string
  description: string | null
  destination: string
  destination_payment: string
  livemode: false
  metadata: Metadata
  reversals: { object: 'list'; data: TransferReversal[]; has_more: false; total_count: number; url: string }
  reversed: boolean
  source_transaction: string
  source_type: 'card'
  transfer_group: string | null
}

export type FeeRefund = {
  id: string
  object: 'fee_refund'
  amount: number
  balance_transaction: string
  created: number
  currency: string
  fee: string
  metadata: Metadata
}

export type ApplicationFee = {
  id: string
  object: 'application_fee'
  account: string
  amount: number
  amount_refunded: number
  application: string
  balance_transaction: string
  charge: string
  created: number
  currency: string
  livemode: false
  originating_transaction: string
  refunded: boolean
  refunds: { object: 'list'; data: FeeRefund[]; has_more: false; total_count: number; url: string }
}

export type Dispute = {
  id: string
  object: 'dispute'
  amount: number
  /** Full BalanceTransaction objects (not ids), as Stripe sends them. */
  balance_transactions: BalanceTransaction[]
  charge: string
  created: number
  currency: string
  evidence: Record<string, string | null>
  evidence_details: { due_by: number; has_evidence: boolean; past_due: boolean; submission_count: number }
  is_charge_refundable: boolean
  livemode: false
  metadata: Metadata
  payment_intent: string | null
  reason: string
  status: 'warning_needs_response' | 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost'
}

export type Balance = {
  object: 'balance'
  available: Array<{ amount: number; currency: string; source_types: { card: number } }>
  pending: Array<{ amount: number; currency: string; source_types: { card: number } }>
  livemode: false
}

export type Charge = {
  id: string
  object: 'charge'
  amount: number
  amount_captured: number
  amount_refunded: number
  application_fee_amount: number | null
  balance_transaction: string | null
  captured: boolean
  currency: string
  description: string | null
  failure_code: string | null
  failure_message: string | null
  metadata: Metadata
  paid: boolean
  payment_intent: string
  refunded: boolean
  refunds: { object: 'list'; data: Refund[]; has_more: false; total_count: number; url: string }
  status: 'pending' | 'succeeded' | 'failed'
  /** Destination charges: the transfer to the connected account and the fee collected back. */
  transfer: string | null
  application_fee: string | null
  disputed: boolean
  transfer_data: TransferData | null
  created: number
  livemode: false
}

export type BalanceTransaction = {
  id: string
  object: 'balance_transaction'
  amount: number
  fee: number
  net: number
  currency: string
  type:
    | 'charge'
    | 'refund'
    | 'transfer'
    | 'transfer_refund'
    | 'application_fee'
    | 'application_fee_refund'
    | 'payment'
    | 'payment_refund'
    | 'adjustment'
  reporting_category: string
  source: string
  status: 'pending'
  fee_details: Array<{ amount: number; currency: string; type: 'stripe_fee'; description: string }>
  created: number
  available_on: number
}

export type Account = {
  id: string
  object: 'account'
  type: string
  country: string
  default_currency: string
  email: string | null
  metadata: Metadata
  charges_enabled: boolean
  details_submitted: boolean
  payouts_enabled: boolean
  capabilities: Record<string, 'inactive' | 'active'>
  requirements: { currently_due: string[]; disabled_reason: string | null }
  created: number
}

export interface RecordedRequest {
  method: string
  path: string
  /** Decoded form/query params; indexed lists (`line_items[0]...`) appear as arrays. */
  params: Record<string, any>
  idempotencyKey?: string
  /** The `Stripe-Version` header the SDK sent. */
  stripeVersion?: string
  requestId: string
  /** HTTP status answered (set once the response is written). */
  status?: number
}

/** An automatic delivery (one the stand-in triggered itself) that did not get a 2xx. */
export interface FailedDelivery {
  event: StripeEvent
  status?: number
  body?: string
  error?: string
}

export interface DeliverOptions {
  timestamp?: number
  secret?: string
  /** Send this exact body instead of the serialized event (signature covers it). */
  payload?: string
}

/** Stripe's documented test card numbers the hosted page understands. */
export const TEST_CARDS = {
  success: '4242 4242 4242 4242',
  declined: '4000 0000 0000 0002',
  insufficientFunds: '4000 0000 0000 9995',
  expired: '4000 0000 0000 0069',
  incorrectCvc: '4000 0000 0000 0127',
  /** Completes the session with payment_status 'unpaid'; settle with succeedAsync/failAsync. */
  async: '4000 0000 0000 3220',
} as const

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Events carry the version the SDK pins, as an endpoint created with it would. */
const API_VERSION: string = Stripe.API_VERSION

const HOST = '127.0.0.1'

/** Declines are keyed by the digits only, so spaced or unspaced input both work. */
const DECLINES: Record<string, string> = {
  '4000000000000002': 'Your card was declined.',
  '4000000000009995': 'Your card has insufficient funds.',
  '4000000000000069': 'Your card has expired.',
  '4000000000000127': "Your card's security code is incorrect.",
}
const ASYNC_CARD = '4000000000003220'

/**
 * Top-level parameter names the real API accepts (taken from the SDK's
 * `*CreateParams` types). Names here but not implemented are accepted and
 * ignored; anything else is an "unknown parameter" error, as on Stripe.
 */
const SESSION_CREATE_PARAMS = [
  'adaptive_pricing', 'after_expiration', 'allow_promotion_codes', 'allowed_payment_method_types',
  'automatic_tax', 'billing_address_collection', 'branding_settings', 'cancel_url',
  'client_reference_id', 'consent_collection', 'currency', 'custom_fields', 'custom_text',
  'customer', 'customer_account', 'customer_creation', 'customer_email', 'customer_update',
  'discounts', 'excluded_payment_method_types', 'expand', 'expires_at', 'integration_identifier',
  'invoice_creation', 'line_items', 'locale', 'managed_payments', 'metadata', 'mode',
  'name_collection', 'optional_items', 'origin_context', 'payment_intent_data',
  'payment_method_collection', 'payment_method_configuration', 'payment_method_data',
  'payment_method_options', 'payment_method_types', 'permissions', 'phone_number_collection',
  'redirect_on_completion', 'return_url', 'saved_payment_method_options', 'setup_intent_data',
  'shipping_address_collection', 'shipping_options', 'submit_type', 'subscription_data',
  'success_url', 'tax_id_collection', 'ui_mode', 'wallet_options',
]
const LINE_ITEM_PARAMS = ['adjustable_quantity', 'metadata', 'price', 'price_data', 'quantity', 'tax_rates']
const RECURRING_PARAMS = ['interval', 'interval_count']
const SUBSCRIPTION_DATA_PARAMS = [
  'application_fee_percent', 'billing_cycle_anchor', 'billing_mode', 'default_tax_rates', 'description',
  'invoice_settings', 'metadata', 'on_behalf_of', 'proration_behavior', 'transfer_data', 'trial_end',
  'trial_period_days', 'trial_settings',
]
const SUBSCRIPTION_UPDATE_PARAMS = [
  'add_invoice_items', 'application_fee_percent', 'automatic_tax', 'billing_cycle_anchor', 'cancel_at',
  'cancel_at_period_end', 'cancellation_details', 'collection_method', 'default_payment_method', 'description',
  'expand', 'items', 'metadata', 'off_session', 'pause_collection', 'payment_behavior', 'proration_behavior',
  'trial_end',
]
const SUBSCRIPTION_CANCEL_PARAMS = ['cancellation_details', 'expand', 'invoice_now', 'prorate']
const CUSTOMER_CREATE_PARAMS = ['address', 'description', 'email', 'expand', 'metadata', 'name', 'payment_method', 'phone', 'test_clock']
/** Stripe retries a failed renewal (Smart Retries stand-in): these many days after the first attempt, then cancels. */
const RETRY_DAYS = [3, 5, 7]
const PRICE_DATA_PARAMS = [
  'currency', 'product', 'product_data', 'recurring', 'tax_behavior', 'unit_amount', 'unit_amount_decimal',
]
const PRODUCT_DATA_PARAMS = ['description', 'images', 'metadata', 'name', 'tax_code', 'tax_details', 'unit_label']
const PAYMENT_INTENT_DATA_PARAMS = [
  'application_fee_amount', 'capture_method', 'description', 'metadata', 'on_behalf_of', 'receipt_email',
  'setup_future_usage', 'shipping', 'statement_descriptor', 'statement_descriptor_suffix',
  'transfer_data', 'transfer_group',
]
const TRANSFER_REVERSAL_PARAMS = ['amount', 'description', 'expand', 'metadata', 'refund_application_fee']
const FEE_REFUND_PARAMS = ['amount', 'expand', 'metadata']
const REFUND_CREATE_PARAMS = [
  'amount', 'charge', 'currency', 'customer', 'expand', 'instructions_email', 'metadata', 'origin',
  'payment_intent', 'reason', 'refund_application_fee', 'reverse_transfer',
]
const ACCOUNT_CREATE_PARAMS = [
  'account_token', 'business_profile', 'business_type', 'capabilities', 'company', 'controller',
  'country', 'default_currency', 'documents', 'email', 'expand', 'external_account', 'groups',
  'individual', 'metadata', 'settings', 'tos_acceptance', 'type',
]
const ACCOUNT_UPDATE_PARAMS = ACCOUNT_CREATE_PARAMS.filter((name) => !['controller', 'country', 'type'].includes(name))
const ACCOUNT_LINK_PARAMS = ['account', 'collect', 'collection_options', 'expand', 'refresh_url', 'return_url', 'type']

/** Stripe's zero- and three-decimal currencies; every other currency has 2 minor-unit digits. */
const ZERO_DECIMAL = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
])
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd'])

/** Stripe's minimum charge amounts (minor units); others default to 50. */
const MINIMUM_AMOUNTS: Record<string, number> = {
  usd: 50, aed: 200, aud: 50, bgn: 100, brl: 50, cad: 50, chf: 50, czk: 1500, dkk: 250, eur: 50,
  gbp: 30, hkd: 400, huf: 17500, inr: 50, jpy: 50, mxn: 1000, myr: 200, nok: 300, nzd: 50,
  pln: 200, ron: 200, sek: 300, sgd: 50, thb: 1000,
}
/** Stripe's ceiling for a single payment (999,999.99 in 2-decimal currencies). */
const MAXIMUM_AMOUNT = 99_999_999

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency').map((code) => code.toLowerCase()))

/** Stripe retries failed deliveries for days; tests can't wait, so a few quick tries stand in. */
const DELIVERY_RETRIES = 3
const DELIVERY_BACKOFF_MS = 50
const DELIVERY_TIMEOUT_MS = 10_000

const MAX_BODY_BYTES = 1024 * 1024

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

type StripeErrorBody = { type: string; message: string; param?: string; code?: string }

/** Thrown by handlers; turned into Stripe's `{ error: {...} }` body with the given status. */
class ApiError extends Error {
  readonly status: number
  readonly body: StripeErrorBody

  constructor(status: number, body: StripeErrorBody) {
    super(body.message)
    this.status = status
    this.body = body
  }
}

function invalid(message: string, param?: string, code?: string, status = 400): ApiError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message }
  if (param !== undefined) body.param = param
  if (code !== undefined) body.code = code
  return new ApiError(status, body)
}

function missing(param: string): ApiError {
  return invalid(`Missing required param: ${param}.`, param, 'parameter_missing')
}

// ---------------------------------------------------------------------------
// Form decoding (Stripe's bracket notation)
// ---------------------------------------------------------------------------

type FormValue = string | FormValue[] | FormObject
type FormObject = { [key: string]: FormValue }

/** Keys that would reach Object.prototype if assigned on a plain object. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/** `a[b][0][]` → ['a', 'b', '0', '']; a malformed key is kept whole, as a literal name. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[')
  if (open <= 0) return [key]
  const segments = [key.slice(0, open)]
  const pattern = /\[([^[\]]*)\]/y
  pattern.lastIndex = open
  while (pattern.lastIndex < key.length) {
    const match = pattern.exec(key)
    if (!match) return [key]
    segments.push(match[1])
  }
  return segments
}

/**
 * Numeric segments become object keys ("0", "1"), not array slots: `metadata[0]`
 * is a legitimate metadata key, and only the consumer knows whether it expects
 * a list (see `asArray`). `[]` appends to a real array.
 */
function assign(container: FormObject | FormValue[], segments: string[], value: string): void {
  const [head, ...rest] = segments
  if (Array.isArray(container)) {
    // `a[]=x&a[k]=y` mixes shapes; drop the odd one out rather than guess.
    if (head !== '') return
    if (rest.length === 0) {
      container.push(value)
    } else {
      const child: FormObject | FormValue[] = rest[0] === '' ? [] : {}
      container.push(child)
      assign(child, rest, value)
    }
    return
  }
  const key = head === '' ? String(Object.keys(container).length) : head
  if (rest.length === 0) {
    container[key] = value
    return
  }
  let child = container[key]
  if (child === undefined || typeof child === 'string') {
    child = rest[0] === '' ? [] : {}
    container[key] = child
  }
  assign(child, rest, value)
}

export function parseStripeForm(raw: string): FormObject {
  const root: FormObject = {}
  for (const pair of raw.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq))
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1))
    const segments = splitKey(key)
    if (segments.some((segment) => UNSAFE_KEYS.has(segment))) continue
    assign(root, segments, value)
  }
  return root
}

// ---------------------------------------------------------------------------
// Parameter readers: each throws the error Stripe would, naming the param
// ---------------------------------------------------------------------------

function paramName(prefix: string, key: string): string {
  return prefix ? `${prefix}[${key}]` : key
}

function checkKnown(object: FormObject, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      const name = paramName(prefix, key)
      throw invalid(`Received unknown parameter: ${name}`, name, 'parameter_unknown')
    }
  }
}

function readString(object: FormObject, key: string, prefix = '', required = false): string | undefined {
  const value: FormValue | undefined = object[key]
  const name = paramName(prefix, key)
  // An empty string is how the form encoding says "unset" (null).
  if (value === undefined || value === '') {
    if (required) throw missing(name)
    return undefined
  }
  if (typeof value !== 'string') throw invalid(`Invalid string: ${JSON.stringify(value)}`, name)
  return value
}

function readInteger(
  object: FormObject,
  key: string,
  prefix = '',
  options: { required?: boolean; min?: number } = {}
): number | undefined {
  const text = readString(object, key, prefix, options.required)
  if (text === undefined) return undefined
  const name = paramName(prefix, key)
  if (!/^-?\d+$/.test(text)) throw invalid(`Invalid integer: ${text}`, name, 'parameter_invalid_integer')
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw invalid(`Invalid integer: ${text}`, name, 'parameter_invalid_integer')
  if (options.min !== undefined && value < options.min) {
    throw invalid(`This value must be greater than or equal to ${options.min}.`, name)
  }
  return value
}

function readObject(object: FormObject, key: string, prefix = ''): FormObject | undefined {
  const value: FormValue | undefined = object[key]
  if (value === undefined) return undefined
  if (value === '') return {}
  if (typeof value === 'string' || Array.isArray(value)) throw invalid('Invalid object', paramName(prefix, key))
  return value
}

/** Lists arrive as `x[0]=..&x[1]=..` (object with index keys) or `x[]=..` (array). */
function asArray(value: FormValue | undefined, name: string): FormValue[] | undefined {
  if (value === undefined) return undefined
  if (value === '') return []
  if (Array.isArray(value)) return value
  if (typeof value === 'object') {
    const keys = Object.keys(value)
    if (keys.every((key) => /^\d+$/.test(key))) {
      return keys.sort((a, b) => Number(a) - Number(b)).map((key) => value[key])
    }
  }
  throw invalid('Invalid array', name)
}

/**
 * For the request log only: `{ "0": a, "1": b }` becomes `[a, b]` so assertions
 * can use `params.line_items.length`. (Handlers keep the raw shape, where a
 * numeric key may be a real metadata key.)
 */
function listify(value: FormValue): unknown {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(listify)
  const keys = Object.keys(value)
  const contiguous = keys.length > 0 && keys.every((key, index) => key === String(index))
  if (contiguous) return keys.map((key) => listify(value[key]))
  return Object.fromEntries(keys.map((key) => [key, listify(value[key])]))
}

function readUrl(object: FormObject, key: string, required = false): string | undefined {
  const value = readString(object, key, '', required)
  if (value === undefined) return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(value)
  } catch {
    parsed = undefined
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw invalid('Not a valid URL', key, 'url_invalid')
  }
  return value
}

function readCurrency(object: FormObject, key: string, prefix: string): string {
  const value = readString(object, key, prefix, true)!.toLowerCase()
  // Stripe accepts any case and answers lowercase.
  if (!/^[a-z]{3}$/.test(value) || !KNOWN_CURRENCIES.has(value)) {
    throw invalid(`Invalid currency: ${value}`, paramName(prefix, key))
  }
  return value
}

/** Metadata follows Stripe's rules: strings only, '' unsets a key, ≤50 keys, ≤40-char keys, ≤500-char values. */
function readMetadata(object: FormObject, key: string, prefix = ''): Metadata | undefined {
  const value = readObject(object, key, prefix)
  if (value === undefined) return undefined
  const name = paramName(prefix, key)
  const metadata: Metadata = {}
  for (const [metaKey, metaValue] of Object.entries(value)) {
    if (typeof metaValue !== 'string') {
      throw invalid(`Invalid value for metadata key ${metaKey}: metadata values must be strings.`, paramName(name, metaKey))
    }
    if (metaKey.length > 40) {
      throw invalid(`Metadata keys can have up to 40 characters, but you passed in a key that is ${metaKey.length} characters.`, name)
    }
    if (metaValue.length > 500) {
      throw invalid(
        `Metadata values can have up to 500 characters, but you passed in a value that is ${metaValue.length} characters.`,
        paramName(name, metaKey)
      )
    }
    if (metaValue !== '') metadata[metaKey] = metaValue
  }
  if (Object.keys(metadata).length > 50) throw invalid('You can have up to 50 metadata keys.', name)
  return metadata
}

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function randomId(prefix: string, length = 24): string {
  let id = prefix
  for (const byte of randomBytes(length)) id += ALPHABET[byte % ALPHABET.length]
  return id
}

function unix(): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * One month after `from` (unix seconds), on the billing anchor's day of the
 * month, or the month's last day when it has fewer days (Stripe's rule: a
 * subscription started on 31 January renews on 28 or 29 February, then 31 March).
 */
function addMonth(from: number, anchor: number): number {
  const start = new Date(from * 1000)
  const anchorDay = new Date(anchor * 1000).getUTCDate()
  const year = start.getUTCFullYear()
  const month = start.getUTCMonth() + 1
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  const next = Date.UTC(year, month, Math.min(anchorDay, lastDay), start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds())
  return Math.floor(next / 1000)
}

function minorUnitDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0
  return THREE_DECIMAL.has(currency) ? 3 : 2
}

/** "$12.00" for (1200, 'usd'); "¥500" for (500, 'jpy'). */
export function formatMoney(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency)
  const major = amount / 10 ** digits
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: currency.toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major)
  } catch {
    return `${major.toFixed(digits)} ${currency.toUpperCase()}`
  }
}

/** Stripe's dispute fee (15.00), charged in the charge's currency here; returned if the dispute is won. */
const DISPUTE_FEE = 1500

/** `total × part / whole` rounded half up, in integers: Stripe's share of a transfer or fee for a partial refund. */
function shareOf(total: number, part: number, whole: number): number {
  return Number((2n * BigInt(total) * BigInt(part) + BigInt(whole)) / (2n * BigInt(whole)))
}

function readBoolean(object: FormObject, key: string, prefix = ''): boolean | undefined {
  const text = readString(object, key, prefix)
  if (text === undefined) return undefined
  if (text !== 'true' && text !== 'false') throw invalid(`Invalid boolean: ${text}`, paramName(prefix, key))
  return text === 'true'
}

/** Stripe's standard card pricing: 2.9% + 30 minor units, rounded to an integer. */
function stripeFee(amount: number): number {
  return Math.round(amount * 0.029) + 30
}

function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48
    if (double) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
    double = !double
  }
  return sum % 10 === 0
}

/** Key order doesn't change meaning, so idempotency compares params in a canonical form. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}

/** Stripe echoes a rejected key back with the middle starred out. */
function redactKey(key: string): string {
  const prefix = /^[a-z]+_(?:test_|live_)?/.exec(key)?.[0] ?? ''
  const tail = key.length - prefix.length > 4 ? key.slice(-4) : ''
  return prefix + '*'.repeat(Math.max(0, key.length - prefix.length - tail.length)) + tail
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * One webhook POST. `agent: false` gives each delivery a fresh connection so
 * a keep-alive socket the app server already closed can't turn into a
 * spurious ECONNRESET (and a spurious retry).
 */
function postOnce(
  target: URL,
  payload: string,
  headers: Record<string, string>
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      target,
      { method: 'POST', agent: false, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      }
    )
    req.setTimeout(DELIVERY_TIMEOUT_MS, () => {
      req.destroy(new Error(`webhook delivery timed out after ${DELIVERY_TIMEOUT_MS}ms`))
    })
    req.on('error', reject)
    req.end(payload)
  })
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #1a1f36; }
  label { display: block; margin-top: 1rem; font-size: .875rem; }
  input { display: block; width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
  button { margin-top: 1.5rem; width: 100%; padding: .75rem; font-size: 1rem; background: #635bff; color: #fff; border: 0; border-radius: 4px; }
  .error { color: #df1b41; }
  .muted { color: #697386; }
  ul { padding-left: 1.25rem; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}

// ---------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------

interface SessionRecord {
  session: CheckoutSession
  lineItems: LineItem[]
  productNames: string[]
  /** Subscription mode: the subscription's metadata (`subscription_data[metadata]`). */
  subscriptionData: { metadata: Metadata } | null
  paymentIntentData: {
    metadata: Metadata
    description: string | null
    applicationFeeAmount: number | null
    onBehalfOf: string | null
    transferData: TransferData | null
    transferGroup: string | null
  }
}

interface ApiContext {
  params: FormObject
  requestId: string
  idempotencyKey: string | null
  stripeAccount?: string
}

interface Route {
  method: string
  pattern: RegExp
  handle: (context: ApiContext, ids: string[]) => Record<string, unknown>
}

interface IdempotentResult {
  fingerprint: string
  status: number
  body: unknown
  requestId: string
}

/** `events`: what a completed payment announces, in the order Stripe would send it. */
type PaymentOutcome = { declined: string } | { events: StripeEvent[] }

// ---------------------------------------------------------------------------
// The stand-in
// ---------------------------------------------------------------------------

export class StripeStandIn {
  webhookUrl?: string
  /** Every event created, in order (including ones built with `event()`). */
  readonly events: StripeEvent[] = []
  readonly refunds: Refund[] = []
  /** Every `/v1` API call, in order. */
  readonly requests: RecordedRequest[] = []
  /** Automatic deliveries that didn't get a 2xx (Stripe would retry these later). */
  readonly failedDeliveries: FailedDelivery[] = []
  /**
   * While true, events the stand-in triggers itself are kept in `heldEvents`
   * instead of being delivered: for a test or bench that sends them itself
   * (duplicated, shuffled, at its own concurrency).
   */
  holdWebhooks = false
  readonly heldEvents: StripeEvent[] = []

  readonly #secretKey: string
  readonly #webhookSecret: string
  readonly #port: number
  #server?: Server
  #address?: { host: string; port: number; url: string }

  readonly #sessions = new Map<string, SessionRecord>()
  readonly #paymentIntents = new Map<string, PaymentIntent>()
  readonly #charges = new Map<string, Charge>()
  readonly #balanceTransactions = new Map<string, BalanceTransaction>()
  readonly #refundsById = new Map<string, Refund>()
  readonly #transfers = new Map<string, Transfer>()
  readonly #applicationFees = new Map<string, ApplicationFee>()
  readonly #disputes = new Map<string, Dispute>()
  /** Whose balance each balance transaction moves: 'platform' or a connected account id. */
  readonly #balanceOwners = new Map<string, string>()
  readonly #accounts = new Map<string, Account>()
  readonly #products = new Map<string, Product>()
  readonly #prices = new Map<string, Price>()
  readonly #idempotency = new Map<string, IdempotentResult>()
  readonly #testClocks = new Map<string, TestClock>()
  readonly #customers = new Map<string, Customer>()
  /** The card each customer saved at checkout (renewals charge it); see `setCard`. */
  readonly #customerCards = new Map<string, string>()
  readonly #subscriptions = new Map<string, Subscription>()
  readonly #invoices = new Map<string, Invoice>()
  readonly #invoicePayments = new Map<string, InvoicePayment>()
  #invoiceNumber = 0
  /**
   * Customers Checkout creates while this is set live on this test clock (on
   * Stripe a clock is given when the customer is created). Tests set it
   * before the viewer subscribes, then `advanceClock`.
   */
  clockForNewCustomers?: string
  /** Deliveries in flight, so `settled()`/`stop()` can wait for them. */
  readonly #inFlight = new Set<Promise<void>>()
  readonly #routes: Route[]

  constructor(options: StripeStandInOptions) {
    this.#secretKey = options.secretKey
    this.#webhookSecret = options.webhookSecret
    this.webhookUrl = options.webhookUrl
    this.#port = options.port ?? 0
    this.#routes = [
      { method: 'POST', pattern: /^\/v1\/checkout\/sessions$/, handle: (c) => this.#createSession(c) },
      { method: 'GET', pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/, handle: (c, [id]) => this.#retrieveSession(c, id) },
      {
        method: 'GET',
        pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/,
        handle: (c, [id]) => this.#listLineItems(c, id),
      },
      {
        method: 'POST',
        pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/,
        handle: (c, [id]) => this.#expireSession(c, id),
      },
      {
        method: 'GET',
        pattern: /^\/v1\/payment_intents\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#paymentIntents.get(id), 'payment_intent', id, 'intent'),
      },
      {
        method: 'GET',
        pattern: /^\/v1\/charges\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#charges.get(id), 'charge', id, 'charge'),
      },
      {
        method: 'GET',
        pattern: /^\/v1\/balance_transactions\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#balanceTransactions.get(id), 'balance_transaction', id, 'id'),
      },
      { method: 'POST', pattern: /^\/v1\/refunds$/, handle: (c) => this.#createRefund(c) },
      {
        method: 'GET',
        pattern: /^\/v1\/refunds\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#refundsById.get(id), 'refund', id, 'refund'),
      },
      {
        method: 'GET',
        pattern: /^\/v1\/events\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.events.find((e) => e.id === id), 'event', id, 'id'),
      },
      { method: 'GET', pattern: /^\/v1\/balance$/, handle: (c) => this.#retrieveBalance(c) },
      {
        method: 'GET',
        pattern: /^\/v1\/transfers\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#transfers.get(id), 'transfer', id, 'id'),
      },
      { method: 'POST', pattern: /^\/v1\/transfers\/([^/]+)\/reversals$/, handle: (c, [id]) => this.#createTransferReversal(c, id) },
      {
        method: 'GET',
        pattern: /^\/v1\/application_fees\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#applicationFees.get(id), 'application_fee', id, 'id'),
      },
      { method: 'POST', pattern: /^\/v1\/application_fees\/([^/]+)\/refunds$/, handle: (c, [id]) => this.#createFeeRefund(c, id) },
      {
        method: 'GET',
        pattern: /^\/v1\/disputes\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#disputes.get(id), 'dispute', id, 'dispute'),
      },
      { method: 'POST', pattern: /^\/v1\/accounts$/, handle: (c) => this.#createAccount(c) },
      { method: 'GET', pattern: /^\/v1\/accounts\/([^/]+)$/, handle: (c, [id]) => this.#retrieveAccount(c, id) },
      { method: 'POST', pattern: /^\/v1\/accounts\/([^/]+)$/, handle: (c, [id]) => this.#updateAccount(c, id) },
      { method: 'POST', pattern: /^\/v1\/account_links$/, handle: (c) => this.#createAccountLink(c) },
      { method: 'POST', pattern: /^\/v1\/customers$/, handle: (c) => this.#createCustomer(c) },
      {
        method: 'GET',
        pattern: /^\/v1\/customers\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#customers.get(id), 'customer', id, 'id'),
      },
      {
        method: 'GET',
        pattern: /^\/v1\/subscriptions\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#subscriptions.get(id), 'subscription', id, 'id'),
      },
      { method: 'POST', pattern: /^\/v1\/subscriptions\/([^/]+)$/, handle: (c, [id]) => this.#updateSubscription(c, id) },
      { method: 'DELETE', pattern: /^\/v1\/subscriptions\/([^/]+)$/, handle: (c, [id]) => this.#cancelSubscriptionNow(c, id) },
      {
        method: 'GET',
        pattern: /^\/v1\/invoices\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#invoices.get(id), 'invoice', id, 'invoice'),
      },
      { method: 'GET', pattern: /^\/v1\/invoice_payments$/, handle: (c) => this.#listInvoicePayments(c) },
      { method: 'POST', pattern: /^\/v1\/test_helpers\/test_clocks$/, handle: (c) => this.#createTestClockApi(c) },
      {
        method: 'GET',
        pattern: /^\/v1\/test_helpers\/test_clocks\/([^/]+)$/,
        handle: (c, [id]) => this.#retrieve(c, this.#testClocks.get(id), 'test_helpers.test_clock', id, 'test_clock'),
      },
      {
        method: 'POST',
        pattern: /^\/v1\/test_helpers\/test_clocks\/([^/]+)\/advance$/,
        handle: (c, [id]) => this.#advanceClockApi(c, id),
      },
    ]
  }

  // ---- lifecycle ----------------------------------------------------------

  async start(): Promise<{ host: string; port: number; url: string }> {
    if (this.#address) return { ...this.#address }
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => this.#crash(res, error))
    })
    // The SDK keeps sockets alive; a long server-side timeout avoids racing
    // its reuse of a socket we are about to close (stop() closes them all).
    server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#port, HOST, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const { port } = server.address() as AddressInfo
    this.#server = server
    this.#address = { host: HOST, port, url: `http://${HOST}:${port}` }
    return { ...this.#address }
  }

  /** Waits for in-flight webhook deliveries, then closes every connection. */
  async stop(): Promise<void> {
    await this.settled()
    const server = this.#server
    if (!server) return
    this.#server = undefined
    this.#address = undefined
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  /** Base URL (`http://127.0.0.1:<port>`); throws before `start()`. */
  get url(): string {
    if (!this.#address) throw new Error('StripeStandIn is not started')
    return this.#address.url
  }

  /** Config for the SDK: `new Stripe(key, standIn.sdkConfig)`. */
  get sdkConfig(): { host: string; port: number; protocol: 'http' } {
    if (!this.#address) throw new Error('StripeStandIn is not started')
    return { host: this.#address.host, port: this.#address.port, protocol: 'http' }
  }

  /** Resolves once no webhook delivery is in flight (refund/expire events are sent after the API answers). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Forgets all objects, events, requests and idempotency keys (keeps the server and webhookUrl). */
  reset(): void {
    this.events.length = 0
    this.refunds.length = 0
    this.requests.length = 0
    this.failedDeliveries.length = 0
    this.heldEvents.length = 0
    this.holdWebhooks = false
    for (const map of [
      this.#sessions, this.#paymentIntents, this.#charges, this.#balanceTransactions, this.#refundsById,
      this.#transfers, this.#applicationFees, this.#disputes, this.#balanceOwners,
      this.#accounts, this.#products, this.#prices, this.#idempotency, this.#testClocks, this.#customers,
      this.#customerCards, this.#subscriptions, this.#invoices, this.#invoicePayments,
    ]) {
      map.clear()
    }
    this.clockForNewCustomers = undefined
  }

  // ---- look-ups for assertions (live objects, not copies) ------------------

  checkoutSession(id: string): CheckoutSession | undefined {
    return this.#sessions.get(id)?.session
  }

  paymentIntent(id: string): PaymentIntent | undefined {
    return this.#paymentIntents.get(id)
  }

  charge(id: string): Charge | undefined {
    return this.#charges.get(id)
  }

  balanceTransaction(id: string): BalanceTransaction | undefined {
    return this.#balanceTransactions.get(id)
  }

  account(id: string): Account | undefined {
    return this.#accounts.get(id)
  }

  transfer(id: string): Transfer | undefined {
    return this.#transfers.get(id)
  }

  applicationFee(id: string): ApplicationFee | undefined {
    return this.#applicationFees.get(id)
  }

  disputeById(id: string): Dispute | undefined {
    return this.#disputes.get(id)
  }

  /**
   * What a balance holds per currency (available + pending, in Stripe's
   * minor units): the platform's by default, or a connected account's.
   */
  balance(account = 'platform'): Record<string, number> {
    const totals: Record<string, number> = {}
    for (const [id, owner] of this.#balanceOwners) {
      if (owner !== account) continue
      const transaction = this.#balanceTransactions.get(id)!
      totals[transaction.currency] = (totals[transaction.currency] ?? 0) + transaction.net
    }
    return totals
  }

  /**
   * The buyer's bank disputes a charge (by PaymentIntent or Charge id), as
   * Stripe does: the disputed amount (what was not refunded) and the dispute
   * fee leave the platform's balance, then `charge.dispute.created` and
   * `charge.dispute.funds_withdrawn` are delivered. Returns the dispute.
   */
  async dispute(paymentIntentOrCharge: string, options: { reason?: string } = {}): Promise<Dispute> {
    const charge = this.#charges.get(paymentIntentOrCharge) ?? this.#charges.get(this.#paymentIntents.get(paymentIntentOrCharge)?.latest_charge ?? '')
    if (!charge || charge.status !== 'succeeded') throw new Error(`StripeStandIn: no succeeded charge for ${paymentIntentOrCharge}`)
    if (charge.disputed) throw new Error(`StripeStandIn: charge ${charge.id} is already disputed`)
    const amount = charge.amount - charge.amount_refunded
    if (amount <= 0) throw new Error(`StripeStandIn: charge ${charge.id} was refunded in full; there is nothing to dispute`)
    const now = unix()
    const id = randomId('dp_')
    const withdrawal = this.#book('platform', {
      type: 'adjustment',
      reporting_category: 'dispute',
      amount: -amount,
      fee: DISPUTE_FEE,
      currency: charge.currency,
      source: id,
      feeDescription: 'Dispute fee',
    })
    const dispute: Dispute = {
      id,
      object: 'dispute',
      amount,
      balance_transactions: [structuredClone(withdrawal)],
      charge: charge.id,
      created: now,
      currency: charge.currency,
      evidence: { customer_email_address: null, product_description: null, uncategorized_text: null },
      evidence_details: { due_by: now + 7 * 24 * 3600, has_evidence: false, past_due: false, submission_count: 0 },
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: charge.payment_intent,
      reason: options.reason ?? 'fraudulent',
      status: 'needs_response',
    }
    this.#disputes.set(id, dispute)
    charge.disputed = true
    const created = this.event('charge.dispute.created', dispute)
    await this.#dispatch(created)
    await this.#dispatch(this.event('charge.dispute.funds_withdrawn', dispute))
    return dispute
  }

  /**
   * The card network decides: `won` gives the disputed amount and the fee
   * back to the platform (`charge.dispute.funds_reinstated`); `lost` keeps
   * them. Delivers `charge.dispute.closed` and returns that event.
   */
  async closeDispute(id: string, outcome: 'won' | 'lost'): Promise<StripeEvent> {
    const dispute = this.#disputes.get(id)
    if (!dispute) throw new Error(`StripeStandIn: no dispute ${id}`)
    if (dispute.status === 'won' || dispute.status === 'lost') throw new Error(`StripeStandIn: dispute ${id} is already ${dispute.status}`)
    const previousAttributes = { status: dispute.status }
    dispute.status = outcome
    if (outcome === 'won') {
      const reinstated = this.#book('platform', {
        type: 'adjustment',
        reporting_category: 'dispute_reversal',
        amount: dispute.amount,
        fee: -DISPUTE_FEE,
        currency: dispute.currency,
        source: dispute.id,
        feeDescription: 'Dispute fee refund',
      })
      dispute.balance_transactions.push(structuredClone(reinstated))
    }
    const closed = this.event('charge.dispute.closed', dispute, { previousAttributes })
    await this.#dispatch(closed)
    if (outcome === 'won') await this.#dispatch(this.event('charge.dispute.funds_reinstated', dispute))
    return closed
  }

  // ---- events & webhooks --------------------------------------------------

  /**
   * Builds (and records in `events`) an event without sending it. `data.object`
   * is a snapshot, as in a real event: later changes don't leak into it.
   */
  event(
    type: string,
    object: Record<string, unknown>,
    options: {
      previousAttributes?: Record<string, unknown>
      request?: { id: string | null; idempotency_key: string | null }
      account?: string
    } = {}
  ): StripeEvent {
    const event: StripeEvent = {
      id: randomId('evt_'),
      object: 'event',
      api_version: API_VERSION,
      created: unix(),
      type,
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: options.request ?? { id: null, idempotency_key: null },
    }
    if (options.previousAttributes) event.data.previous_attributes = structuredClone(options.previousAttributes)
    if (options.account) event.account = options.account
    this.events.push(event)
    return event
  }

  /** The `Stripe-Signature` header value for `payload`, computed exactly as Stripe does. */
  sign(payload: string, options: { timestamp?: number; secret?: string } = {}): string {
    return Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: options.secret ?? this.#webhookSecret,
      timestamp: options.timestamp,
    })
  }

  /**
   * POSTs a signed event to `webhookUrl`. Retries network errors and 5xx up
   * to 3 times with a short backoff, re-signing each attempt like Stripe.
   * Resolves with the last answer; rejects if the endpoint was never reached.
   */
  async deliver(event: StripeEvent, options: DeliverOptions = {}): Promise<{ status: number; body: string }> {
    if (!this.webhookUrl) throw new Error('StripeStandIn: set webhookUrl before delivering events')
    const target = new URL(this.webhookUrl)
    if (target.protocol !== 'http:') throw new Error(`StripeStandIn only delivers to http:// URLs (got ${this.webhookUrl})`)
    // Stripe sends pretty-printed JSON; apps that re-serialize the parsed body
    // before verifying the signature break on it, as they would in production.
    const payload = options.payload ?? JSON.stringify(event, null, 2)
    let lastError: unknown
    for (let attempt = 0; attempt <= DELIVERY_RETRIES; attempt++) {
      if (attempt > 0) await sleep(DELIVERY_BACKOFF_MS * 2 ** (attempt - 1))
      const headers = {
        'Content-Type': 'application/json; charset=utf-8',
        'Stripe-Signature': this.sign(payload, { timestamp: options.timestamp, secret: options.secret }),
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'Accept': '*/*; q=0.5, application/xml',
        'Cache-Control': 'no-cache',
      }
      try {
        const result = await postOnce(target, payload, headers)
        if (result.status < 500 || attempt === DELIVERY_RETRIES) return result
      } catch (error) {
        lastError = error
      }
    }
    throw lastError
  }

  /**
   * Pays an open session as the hosted page would, then delivers and returns
   * `checkout.session.completed`. A declined card throws with Stripe's message.
   */
  async pay(sessionId: string, options: { card?: string; email?: string } = {}): Promise<StripeEvent> {
    const record = this.#sessions.get(sessionId)
    if (!record) throw new Error(`StripeStandIn: no checkout session ${sessionId}`)
    if (record.session.status !== 'open') {
      throw new Error(`StripeStandIn: checkout session ${sessionId} is ${record.session.status}, not open`)
    }
    const outcome = this.#attemptPayment(record, options.card ?? TEST_CARDS.success, options.email ?? '')
    if ('declined' in outcome) throw new Error(outcome.declined)
    for (const event of outcome.events) await this.#dispatch(event)
    return outcome.events.find((event) => event.type === 'checkout.session.completed')!
  }

  /** Settles an async (card 4000 0000 0000 3220) payment: delivers `checkout.session.async_payment_succeeded`. */
  async succeedAsync(sessionId: string): Promise<StripeEvent> {
    const { record, intent, charge } = this.#pendingAsync(sessionId)
    this.#settleCharge(intent, charge)
    record.session.payment_status = 'paid'
    const event = this.event('checkout.session.async_payment_succeeded', record.session)
    await this.#dispatch(event)
    return event
  }

  /** Fails an async payment: delivers `checkout.session.async_payment_failed` (payment_status stays 'unpaid'). */
  async failAsync(sessionId: string): Promise<StripeEvent> {
    const { record, intent, charge } = this.#pendingAsync(sessionId)
    charge.status = 'failed'
    charge.failure_code = 'generic_decline'
    charge.failure_message = 'Your card was declined.'
    intent.status = 'requires_payment_method'
    record.session.payment_status = 'unpaid'
    const event = this.event('checkout.session.async_payment_failed', record.session)
    await this.#dispatch(event)
    return event
  }

  // ---- HTTP plumbing -------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}`)
    const method = (req.method ?? 'GET').toUpperCase()
    const body = await readBody(req)
    const path = url.pathname
    if (path === '/v1' || path.startsWith('/v1/')) {
      this.#handleApi(req, res, method, path, method === 'POST' ? body : url.search.slice(1))
      return
    }
    let match = /^\/c\/pay\/([^/]+)$/.exec(path)
    if (match) return this.#checkoutPage(res, method, decodeURIComponent(match[1]), body)
    match = /^\/connect\/onboard\/([^/]+)$/.exec(path)
    if (match) return this.#onboardingPage(res, method, decodeURIComponent(match[1]), url)
    if (path === '/test_clocks') return this.#testClocksPage(res, method, body)
    this.#sendHtml(res, 404, htmlPage('Not found', '<h1>Not found</h1>'))
  }

  #handleApi(req: IncomingMessage, res: ServerResponse, method: string, path: string, rawParams: string): void {
    const requestId = randomId('req_', 14)
    const params = parseStripeForm(rawParams)
    // Only POSTs are idempotent on Stripe; the SDK adds a key to every POST.
    const idempotencyKey = method === 'POST' ? headerValue(req, 'idempotency-key') : undefined
    const stripeVersion = headerValue(req, 'stripe-version')
    const entry: RecordedRequest = { method, path, params: listify(params) as Record<string, any>, requestId }
    if (idempotencyKey !== undefined) entry.idempotencyKey = idempotencyKey
    if (stripeVersion !== undefined) entry.stripeVersion = stripeVersion
    this.requests.push(entry)

    const headers: Record<string, string> = { 'Request-Id': requestId, 'Stripe-Version': stripeVersion ?? API_VERSION }
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      entry.status = status
      this.#sendJson(res, status, payload, { ...headers, ...extra })
    }

    try {
      this.#authenticate(req)
      const fingerprint = canonicalJson({ method, path, params })
      if (idempotencyKey !== undefined) {
        if (idempotencyKey.length > 255) throw invalid('Idempotency-Key must be at most 255 characters long.')
        const stored = this.#idempotency.get(idempotencyKey)
        if (stored) {
          if (stored.fingerprint !== fingerprint) {
            throw new ApiError(400, {
              type: 'idempotency_error',
              message:
                'Keys for idempotent requests can only be used with the same parameters they were first used with. ' +
                `Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            })
          }
          send(stored.status, stored.body, { 'Idempotent-Replayed': 'true', 'Original-Request': stored.requestId })
          return
        }
      }

      let handled: Record<string, unknown> | undefined
      for (const route of this.#routes) {
        const match = route.method === method ? route.pattern.exec(path) : null
        if (!match) continue
        const context: ApiContext = { params, requestId, idempotencyKey: idempotencyKey ?? null }
        const stripeAccount = headerValue(req, 'stripe-account')
        if (stripeAccount !== undefined) context.stripeAccount = stripeAccount
        handled = route.handle(context, match.slice(1).map(decodeURIComponent))
        break
      }
      if (!handled) {
        throw new ApiError(404, {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        })
      }
      const paths = (asArray(params.expand, 'expand') ?? []).map((value, index) => {
        if (typeof value !== 'string') throw invalid('Invalid string', `expand[${index}]`)
        return value
      })
      const responseBody = this.#expand(handled, paths)
      // Stripe only saves results of requests that actually executed, so
      // validation errors can be retried with the same key after a fix.
      if (idempotencyKey !== undefined) {
        this.#idempotency.set(idempotencyKey, { fingerprint, status: 200, body: responseBody, requestId })
      }
      send(200, responseBody)
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      const extra: Record<string, string> = error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="Stripe"' } : {}
      send(error.status, { error: error.body }, extra)
    }
  }

  #authenticate(req: IncomingMessage): void {
    const header = headerValue(req, 'authorization') ?? ''
    let key = ''
    if (/^bearer /i.test(header)) key = header.slice(7).trim()
    // Stripe also takes the key as the Basic-auth username (curl -u sk_...:).
    else if (/^basic /i.test(header)) key = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0]
    if (!key) {
      throw invalid(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        undefined,
        undefined,
        401
      )
    }
    if (key !== this.#secretKey) throw invalid(`Invalid API Key provided: ${redactKey(key)}`, undefined, undefined, 401)
  }

  #sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string>): void {
    // Stripe pretty-prints its JSON responses.
    const body = JSON.stringify(payload, null, 2)
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-cache, no-store',
    })
    res.end(body)
  }

  #sendHtml(res: ServerResponse, status: number, html: string): void {
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(html)),
      'Cache-Control': 'no-store',
    })
    res.end(html)
  }

  #redirect(res: ServerResponse, location: string): void {
    res.writeHead(303, { 'Location': location, 'Content-Length': '0' })
    res.end()
  }

  /** A bug in the stand-in itself: answer like Stripe's 500 and say so loudly. */
  #crash(res: ServerResponse, error: unknown): void {
    console.error('[stripe-stand-in] internal error:', error)
    if (res.headersSent) {
      res.destroy()
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    this.#sendJson(res, 500, { error: { type: 'api_error', message: `Stripe stand-in internal error: ${message}` } }, {})
  }

  /** Runs a delivery after the current API response is written (Stripe sends webhooks asynchronously). */
  #later(task: () => Promise<void>): void {
    this.#track(
      new Promise<void>((resolve) => {
        setImmediate(() => {
          task().then(
            () => resolve(),
            () => resolve()
          )
        })
      })
    )
  }

  #track(promise: Promise<void>): Promise<void> {
    this.#inFlight.add(promise)
    void promise.finally(() => this.#inFlight.delete(promise))
    return promise
  }

  /** Delivers an event the stand-in triggered itself; failures are recorded, never thrown. */
  #dispatch(event: StripeEvent): Promise<void> {
    if (this.holdWebhooks) {
      this.heldEvents.push(event)
      return Promise.resolve()
    }
    const run = async () => {
      try {
        const { status, body } = await this.deliver(event)
        if (status < 200 || status >= 300) this.failedDeliveries.push({ event, status, body })
      } catch (error) {
        this.failedDeliveries.push({ event, error: error instanceof Error ? error.message : String(error) })
      }
    }
    return this.#track(run())
  }

  // ---- expansion -----------------------------------------------------------

  #findObject(id: string): Record<string, unknown> | undefined {
    return (
      this.#sessions.get(id)?.session ??
      this.#paymentIntents.get(id) ??
      this.#charges.get(id) ??
      this.#balanceTransactions.get(id) ??
      this.#refundsById.get(id) ??
      this.#transfers.get(id) ??
      this.#applicationFees.get(id) ??
      this.#disputes.get(id) ??
      this.#accounts.get(id) ??
      this.#products.get(id) ??
      this.#prices.get(id) ??
      this.#customers.get(id) ??
      this.#subscriptions.get(id) ??
      this.#invoices.get(id) ??
      this.#testClocks.get(id)
    )
  }

  /** Returns a copy of `object` with each dotted `expand` path's ids replaced by objects. */
  #expand(object: Record<string, unknown>, paths: string[]): Record<string, unknown> {
    const copy = structuredClone(object)
    for (const path of paths) {
      const parts = path.split('.')
      if (parts.length > 4) {
        throw invalid(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand')
      }
      this.#expandPath(copy, parts, path)
    }
    return copy
  }

  #expandPath(node: Record<string, unknown>, parts: string[], path: string): void {
    const [key, ...rest] = parts
    const cannot = () => invalid(`This property cannot be expanded (${path}).`, 'expand')
    // Lists expand element-wise through `data`.
    if (node.object === 'list' && key === 'data' && Array.isArray(node.data)) {
      if (rest.length === 0) return
      for (const item of node.data as Array<Record<string, unknown>>) this.#expandPath(item, rest, path)
      return
    }
    let value = node[key]
    if (node.object === 'checkout.session' && key === 'line_items') {
      value = this.#lineItemList(String(node.id))
    } else if (typeof value === 'string') {
      const found = this.#findObject(value)
      if (!found) throw cannot()
      value = structuredClone(found)
    } else if (value === undefined || (value !== null && typeof value !== 'object')) {
      throw cannot()
    }
    node[key] = value
    if (rest.length > 0 && value !== null && typeof value === 'object') {
      this.#expandPath(value as Record<string, unknown>, rest, path)
    }
  }

  // ---- Checkout ------------------------------------------------------------

  #createSession({ params, stripeAccount }: ApiContext): CheckoutSession {
    checkKnown(params, SESSION_CREATE_PARAMS)
    const mode = readString(params, 'mode', '', true)!
    if (!['payment', 'setup', 'subscription'].includes(mode)) {
      throw invalid('Invalid mode: must be one of payment, setup, or subscription', 'mode')
    }
    if (mode === 'setup') throw invalid('The Stripe stand-in does not support mode=setup.', 'mode')
    const subscriptionMode = mode === 'subscription'
    if (subscriptionMode && params.payment_intent_data !== undefined) {
      throw invalid('You can not pass `payment_intent_data` in `subscription` mode.', 'payment_intent_data')
    }
    if (!subscriptionMode && params.subscription_data !== undefined) {
      throw invalid('You can only pass `subscription_data` in `subscription` mode.', 'subscription_data')
    }
    const uiMode = readString(params, 'ui_mode')
    if (uiMode !== undefined && uiMode !== 'hosted') {
      throw invalid(`The Stripe stand-in only supports ui_mode=hosted (got ${uiMode}).`, 'ui_mode')
    }
    const successUrl = readUrl(params, 'success_url', true)!
    const cancelUrl = readUrl(params, 'cancel_url') ?? null
    const customer = readString(params, 'customer')
    if (customer !== undefined) throw invalid(`No such customer: '${customer}'`, 'customer', 'resource_missing')

    const customerEmail = readString(params, 'customer_email') ?? null
    if (customerEmail !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(customerEmail)) {
      throw invalid(`Invalid email address: ${customerEmail}`, 'customer_email', 'email_invalid')
    }
    const clientReferenceId = readString(params, 'client_reference_id') ?? null
    if (clientReferenceId !== null && clientReferenceId.length > 200) {
      throw invalid('client_reference_id can be at most 200 characters.', 'client_reference_id')
    }
    const metadata = readMetadata(params, 'metadata') ?? {}

    const now = unix()
    const expiresAt = readInteger(params, 'expires_at')
    // Stripe requires 30 min – 24 h from creation; a few seconds of slack absorbs clock skew.
    if (expiresAt !== undefined && (expiresAt < now + 30 * 60 - 5 || expiresAt > now + 24 * 3600 + 5)) {
      throw invalid(
        'The `expires_at` timestamp must be between 30 minutes and 24 hours after the Checkout Session is created.',
        'expires_at'
      )
    }

    // Line items: only ad-hoc `price_data` is supported (no Price objects exist here).
    const rawItems = asArray(params.line_items, 'line_items')
    if (!rawItems || rawItems.length === 0) throw missing('line_items')
    const lineItems: LineItem[] = []
    const productNames: string[] = []
    let currency = ''
    rawItems.forEach((raw, index) => {
      const prefix = `line_items[${index}]`
      if (typeof raw === 'string' || Array.isArray(raw)) throw invalid('Invalid object', prefix)
      checkKnown(raw, LINE_ITEM_PARAMS, prefix)
      const price = readString(raw, 'price', prefix)
      if (price !== undefined) throw invalid(`No such price: '${price}'`, `${prefix}[price]`, 'resource_missing')
      const priceData = readObject(raw, 'price_data', prefix)
      if (!priceData) throw missing(`${prefix}[price_data]`)
      const pricePrefix = `${prefix}[price_data]`
      checkKnown(priceData, PRICE_DATA_PARAMS, pricePrefix)
      const itemCurrency = readCurrency(priceData, 'currency', pricePrefix)
      let recurring: Price['recurring'] = null
      if (priceData.recurring !== undefined && !subscriptionMode) {
        throw invalid(
          'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
          `${pricePrefix}[recurring]`
        )
      }
      if (subscriptionMode) {
        const raw = readObject(priceData, 'recurring', pricePrefix)
        if (!raw) {
          throw invalid(
            'You must provide at least one recurring price in `subscription` mode when using prices.',
            `${pricePrefix}[recurring]`
          )
        }
        checkKnown(raw, RECURRING_PARAMS, `${pricePrefix}[recurring]`)
        const interval = readString(raw, 'interval', `${pricePrefix}[recurring]`, true)!
        if (interval !== 'month') {
          throw invalid(`The Stripe stand-in bills monthly prices only (got interval=${interval}).`, `${pricePrefix}[recurring][interval]`)
        }
        const intervalCount = readInteger(raw, 'interval_count', `${pricePrefix}[recurring]`, { min: 1 }) ?? 1
        if (intervalCount !== 1) throw invalid('The Stripe stand-in bills every month only (interval_count=1).', `${pricePrefix}[recurring][interval_count]`)
        recurring = { interval: 'month', interval_count: 1 }
      }
      const unitAmount = readInteger(priceData, 'unit_amount', pricePrefix, { required: true, min: 0 })!
      const quantity = readInteger(raw, 'quantity', prefix, { required: true, min: 1 })!
      if (currency && itemCurrency !== currency) {
        throw invalid(
          `All line items must use the same currency: line_items[0] is in ${currency} but ${prefix} is in ${itemCurrency}.`,
          `${pricePrefix}[currency]`
        )
      }
      currency = itemCurrency

      const product = this.#productFor(priceData, pricePrefix)
      const priceObject: Price = {
        id: randomId('price_'),
        object: 'price',
        active: false,
        currency: itemCurrency,
        unit_amount: unitAmount,
        product: product.id,
        type: recurring ? 'recurring' : 'one_time',
        recurring,
        created: now,
        livemode: false,
      }
      this.#prices.set(priceObject.id, priceObject)
      productNames.push(product.name)
      lineItems.push({
        id: randomId('li_'),
        object: 'item',
        amount_discount: 0,
        amount_subtotal: unitAmount * quantity,
        amount_tax: 0,
        amount_total: unitAmount * quantity,
        currency: itemCurrency,
        description: product.name,
        quantity,
        price: priceObject,
        metadata: readMetadata(raw, 'metadata', prefix) ?? {},
      })
    })
    const amountTotal = lineItems.reduce((sum, item) => sum + item.amount_total, 0)
    const minimum = MINIMUM_AMOUNTS[currency] ?? 50
    if (amountTotal < minimum) {
      throw invalid(
        `The Checkout Session's total amount due must add up to at least ${formatMoney(minimum, currency)} ${currency}`,
        undefined,
        'amount_too_small'
      )
    }
    if (amountTotal > MAXIMUM_AMOUNT) {
      throw invalid(
        `The Checkout Session's total amount due must be no more than ${formatMoney(MAXIMUM_AMOUNT, currency)} ${currency}`,
        undefined,
        'amount_too_large'
      )
    }

    const paymentIntentData = this.#readPaymentIntentData(params, amountTotal, stripeAccount)
    let subscriptionData: SessionRecord['subscriptionData'] = null
    if (subscriptionMode) {
      const raw = readObject(params, 'subscription_data') ?? {}
      checkKnown(raw, SUBSCRIPTION_DATA_PARAMS, 'subscription_data')
      for (const unsupported of ['transfer_data', 'application_fee_percent', 'on_behalf_of', 'trial_end', 'trial_period_days']) {
        if (raw[unsupported] !== undefined) throw invalid(`The Stripe stand-in does not support subscription_data[${unsupported}].`, `subscription_data[${unsupported}]`)
      }
      subscriptionData = { metadata: readMetadata(raw, 'metadata', 'subscription_data') ?? {} }
    }
    const id = randomId('cs_test_', 58)
    const session: CheckoutSession = {
      id,
      object: 'checkout.session',
      url: `${this.url}/c/pay/${id}`,
      status: 'open',
      payment_status: 'unpaid',
      amount_subtotal: amountTotal,
      amount_total: amountTotal,
      currency,
      client_reference_id: clientReferenceId,
      customer: null,
      customer_email: customerEmail,
      customer_details: null,
      metadata,
      mode: subscriptionMode ? 'subscription' : 'payment',
      payment_intent: null,
      subscription: null,
      invoice: null,
      payment_method_types: ['card'],
      success_url: successUrl,
      cancel_url: cancelUrl,
      ui_mode: 'hosted',
      expires_at: expiresAt ?? now + 24 * 3600,
      created: now,
      livemode: false,
    }
    this.#sessions.set(id, { session, lineItems, productNames, paymentIntentData, subscriptionData })
    return session
  }

  #productFor(priceData: FormObject, pricePrefix: string): Product {
    const productId = readString(priceData, 'product', pricePrefix)
    if (productId !== undefined) {
      const existing = this.#products.get(productId)
      if (!existing) throw invalid(`No such product: '${productId}'`, `${pricePrefix}[product]`, 'resource_missing')
      return existing
    }
    const productPrefix = `${pricePrefix}[product_data]`
    const productData = readObject(priceData, 'product_data', pricePrefix)
    if (!productData) throw missing(productPrefix)
    checkKnown(productData, PRODUCT_DATA_PARAMS, productPrefix)
    const product: Product = {
      id: randomId('prod_', 14),
      object: 'product',
      active: true,
      name: readString(productData, 'name', productPrefix, true)!,
      description: readString(productData, 'description', productPrefix) ?? null,
      metadata: readMetadata(productData, 'metadata', productPrefix) ?? {},
      created: unix(),
      livemode: false,
    }
    this.#products.set(product.id, product)
    return product
  }

  #readPaymentIntentData(params: FormObject, amountTotal: number, stripeAccount?: string): SessionRecord['paymentIntentData'] {
    const prefix = 'payment_intent_data'
    const data = readObject(params, prefix) ?? {}
    checkKnown(data, PAYMENT_INTENT_DATA_PARAMS, prefix)
    const captureMethod = readString(data, 'capture_method', prefix)
    if (captureMethod !== undefined && captureMethod !== 'automatic' && captureMethod !== 'automatic_async') {
      throw invalid(`The Stripe stand-in does not support capture_method=${captureMethod}.`, `${prefix}[capture_method]`)
    }
    const onBehalfOf = readString(data, 'on_behalf_of', prefix) ?? null
    if (onBehalfOf !== null) this.#connectedAccount(onBehalfOf, `${prefix}[on_behalf_of]`)

    let transferData: TransferData | null = null
    const rawTransfer = readObject(data, 'transfer_data', prefix)
    if (rawTransfer) {
      const transferPrefix = `${prefix}[transfer_data]`
      checkKnown(rawTransfer, ['amount', 'destination'], transferPrefix)
      const destination = readString(rawTransfer, 'destination', transferPrefix, true)!
      this.#connectedAccount(destination, `${transferPrefix}[destination]`)
      transferData = { destination }
      const amount = readInteger(rawTransfer, 'amount', transferPrefix, { min: 0 })
      if (amount !== undefined) {
        if (amount > amountTotal) {
          throw invalid('The transfer amount cannot be greater than the amount of the charge.', `${transferPrefix}[amount]`)
        }
        transferData.amount = amount
      }
    }

    const feeParam = `${prefix}[application_fee_amount]`
    const applicationFeeAmount = readInteger(data, 'application_fee_amount', prefix, { min: 0 }) ?? null
    if (applicationFeeAmount !== null) {
      if (!transferData && !onBehalfOf && !stripeAccount) {
        throw invalid(
          'Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).',
          feeParam
        )
      }
      if (applicationFeeAmount > amountTotal) {
        throw invalid(`The application fee amount (${applicationFeeAmount}) cannot be greater than the amount (${amountTotal}).`, feeParam)
      }
    }
    return {
      metadata: readMetadata(data, 'metadata', prefix) ?? {},
      description: readString(data, 'description', prefix) ?? null,
      applicationFeeAmount,
      onBehalfOf,
      transferData,
      transferGroup: readString(data, 'transfer_group', prefix) ?? null,
    }
  }

  /** Destination charges need an existing account whose `transfers` capability is active (i.e. onboarded). */
  #connectedAccount(id: string, param: string): Account {
    const account = this.#accounts.get(id)
    if (!account) throw invalid(`No such destination: '${id}'`, param, 'resource_missing')
    if (account.capabilities.transfers !== 'active') {
      throw invalid(
        'Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments',
        param,
        'insufficient_capabilities_for_transfer'
      )
    }
    return account
  }

  #requireSession(id: string): SessionRecord {
    const record = this.#sessions.get(id)
    if (!record) throw invalid(`No such checkout.session: '${id}'`, 'session', 'resource_missing', 404)
    return record
  }

  #retrieveSession({ params }: ApiContext, id: string): CheckoutSession {
    checkKnown(params, ['expand'])
    return this.#requireSession(id).session
  }

  #lineItemList(sessionId: string): Record<string, unknown> {
    const record = this.#requireSession(sessionId)
    return {
      object: 'list',
      data: structuredClone(record.lineItems),
      has_more: false,
      url: `/v1/checkout/sessions/${sessionId}/line_items`,
    }
  }

  #listLineItems({ params }: ApiContext, id: string): Record<string, unknown> {
    checkKnown(params, ['ending_before', 'expand', 'limit', 'starting_after'])
    return this.#lineItemList(id)
  }

  #expireSession({ params, requestId, idempotencyKey }: ApiContext, id: string): CheckoutSession {
    checkKnown(params, ['expand'])
    const record = this.#requireSession(id)
    const { session } = record
    if (session.status !== 'open') {
      throw invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This session has status "${session.status}".`)
    }
    session.status = 'expired'
    session.url = null
    const event = this.event('checkout.session.expired', session, {
      request: { id: requestId, idempotency_key: idempotencyKey },
    })
    this.#later(() => this.#dispatch(event))
    return session
  }

  /** The hosted page's "Pay" button: charges the card and completes the session (no I/O). */
  #attemptPayment(record: SessionRecord, card: string, email: string): PaymentOutcome {
    const digits = card.replace(/[\s-]/g, '')
    if (!/^\d{12,19}$/.test(digits) || !luhnValid(digits)) return { declined: 'Your card number is invalid.' }
    const decline = DECLINES[digits]
    if (decline) return { declined: decline }

    if (record.session.mode === 'subscription') return this.#startSubscription(record, digits, email)
    const { session, paymentIntentData: data } = record
    const now = unix()
    const intent: PaymentIntent = {
      id: randomId('pi_'),
      object: 'payment_intent',
      amount: session.amount_total,
      amount_received: 0,
      currency: session.currency,
      status: 'processing',
      description: data.description,
      metadata: { ...data.metadata },
      latest_charge: null,
      application_fee_amount: data.applicationFeeAmount,
      on_behalf_of: data.onBehalfOf,
      transfer_data: data.transferData ? { ...data.transferData } : null,
      transfer_group: data.transferGroup,
      payment_method_types: ['card'],
      created: now,
      livemode: false,
    }
    const charge: Charge = {
      id: randomId('ch_'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: 0,
      amount_refunded: 0,
      application_fee_amount: intent.application_fee_amount,
      balance_transaction: null,
      captured: false,
      currency: intent.currency,
      description: intent.description,
      failure_code: null,
      failure_message: null,
      // Stripe copies the PaymentIntent's metadata onto the charge it creates.
      metadata: { ...intent.metadata },
      paid: false,
      payment_intent: intent.id,
      refunded: false,
      refunds: { object: 'list', data: [], has_more: false, total_count: 0, url: '' },
      status: 'pending',
      transfer: null,
      application_fee: null,
      disputed: false,
      transfer_data: intent.transfer_data ? { ...intent.transfer_data } : null,
      created: now,
      livemode: false,
    }
    charge.refunds.url = `/v1/charges/${charge.id}/refunds`
    intent.latest_charge = charge.id
    this.#paymentIntents.set(intent.id, intent)
    this.#charges.set(charge.id, charge)

    const asyncPayment = digits === ASYNC_CARD
    if (!asyncPayment) this.#settleCharge(intent, charge)
    session.status = 'complete'
    session.url = null
    session.payment_status = asyncPayment ? 'unpaid' : 'paid'
    session.payment_intent = intent.id
    session.customer_details = { email: email || session.customer_email }
    return { events: [this.event('checkout.session.completed', session)] }
  }

  /**
   * Books a balance transaction on the platform's balance or a connected
   * account's (`owner`). A positive `fee` is what Stripe (or, on a connected
   * account's payment, the platform's application fee) takes; negative, what
   * it gives back.
   */
  #book(
    owner: string,
    input: {
      type: BalanceTransaction['type']
      reporting_category: string
      amount: number
      fee?: number
      currency: string
      source: string
      feeDescription?: string
      feeType?: 'stripe_fee' | 'application_fee'
      availableOn?: number
    }
  ): BalanceTransaction {
    const now = unix()
    const fee = input.fee ?? 0
    const transaction: BalanceTransaction = {
      id: randomId('txn_'),
      object: 'balance_transaction',
      amount: input.amount,
      fee,
      net: input.amount - fee,
      currency: input.currency,
      type: input.type,
      reporting_category: input.reporting_category,
      source: input.source,
      status: 'pending',
      fee_details: fee
        ? [{ amount: fee, currency: input.currency, type: input.feeType ?? 'stripe_fee', description: input.feeDescription ?? 'Stripe processing fees' } as BalanceTransaction['fee_details'][number]]
        : [],
      created: now,
      available_on: input.availableOn ?? now,
    }
    this.#balanceTransactions.set(transaction.id, transaction)
    this.#balanceOwners.set(transaction.id, owner)
    return transaction
  }

  /**
   * Marks the charge captured and books it on the platform (amount, Stripe's
   * fee, net). A destination charge then transfers the whole amount to the
   * connected account and collects the application fee back from it.
   */
  #settleCharge(intent: PaymentIntent, charge: Charge): void {
    const now = unix()
    const transaction = this.#book('platform', {
      type: 'charge',
      reporting_category: 'charge',
      amount: charge.amount,
      fee: stripeFee(charge.amount),
      currency: charge.currency,
      source: charge.id,
      availableOn: now + 2 * 24 * 3600,
    })
    charge.balance_transaction = transaction.id
    charge.status = 'succeeded'
    charge.paid = true
    charge.captured = true
    charge.amount_captured = charge.amount
    intent.status = 'succeeded'
    intent.amount_received = intent.amount
    if (charge.transfer_data) this.#transferToDestination(charge, charge.transfer_data)
  }

  #transferToDestination(charge: Charge, data: TransferData): void {
    const destination = data.destination
    const amount = data.amount ?? charge.amount
    const transferId = randomId('tr_')
    const paymentId = randomId('py_')
    const fee = charge.application_fee_amount ?? 0
    const feeId = fee > 0 ? randomId('fee_') : null
    const outgoing = this.#book('platform', { type: 'transfer', reporting_category: 'transfer', amount: -amount, currency: charge.currency, source: transferId })
    // The connected account's side: the payment, less the platform's application fee.
    this.#book(destination, {
      type: 'payment',
      reporting_category: 'charge',
      amount,
      fee,
      feeType: 'application_fee',
      feeDescription: 'Application fee',
      currency: charge.currency,
      source: paymentId,
    })
    this.#transfers.set(transferId, {
      id: transferId,
      object: 'transfer',
      amount,
      amount_reversed: 0,
      balance_transaction: outgoing.id,
      created: unix(),
      currency: charge.currency,
      description: null,
      destination,
      destination_payment: paymentId,
      livemode: false,
      metadata: {},
      reversals: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/transfers/${transferId}/reversals` },
      reversed: false,
      source_transaction: charge.id,
      source_type: 'card',
      transfer_group: `group_${charge.payment_intent}`,
    })
    charge.transfer = transferId
    if (feeId) {
      const collected = this.#book('platform', { type: 'application_fee', reporting_category: 'platform_earning', amount: fee, currency: charge.currency, source: feeId })
      this.#applicationFees.set(feeId, {
        id: feeId,
        object: 'application_fee',
        account: destination,
        amount: fee,
        amount_refunded: 0,
        application: 'ca_matinee_stand_in',
        balance_transaction: collected.id,
        charge: charge.id,
        created: unix(),
        currency: charge.currency,
        livemode: false,
        originating_transaction: charge.id,
        refunded: false,
        refunds: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/application_fees/${feeId}/refunds` },
      })
      charge.application_fee = feeId
    }
  }

  /** Pulls `amount` of a transfer back from its connected account to the platform. */
  #reverseTransfer(transfer: Transfer, amount: number, metadata: Metadata, sourceRefund: string | null): TransferReversal {
    const remaining = transfer.amount - transfer.amount_reversed
    if (amount > remaining) {
      throw invalid(
        `Transfer reversal amount (${formatMoney(amount, transfer.currency)}) is greater than the amount left on the transfer (${formatMoney(remaining, transfer.currency)}).`,
        'amount'
      )
    }
    const id = randomId('trr_')
    const back = this.#book('platform', { type: 'transfer_refund', reporting_category: 'transfer_reversal', amount, currency: transfer.currency, source: id })
    const refundId = randomId('pyr_')
    this.#book(transfer.destination, { type: 'payment_refund', reporting_category: 'refund', amount: -amount, currency: transfer.currency, source: refundId })
    const reversal: TransferReversal = {
      id,
      object: 'transfer_reversal',
      amount,
      balance_transaction: back.id,
      created: unix(),
      currency: transfer.currency,
      destination_payment_refund: refundId,
      metadata,
      source_refund: sourceRefund,
      transfer: transfer.id,
    }
    transfer.amount_reversed += amount
    transfer.reversed = transfer.amount_reversed === transfer.amount
    transfer.reversals.data.unshift(structuredClone(reversal))
    transfer.reversals.total_count += 1
    return reversal
  }

  /** Returns `amount` of an application fee to the connected account it was taken from. */
  #refundFee(fee: ApplicationFee, amount: number, metadata: Metadata): FeeRefund {
    const remaining = fee.amount - fee.amount_refunded
    if (amount > remaining) {
      throw invalid(
        `Refund amount (${formatMoney(amount, fee.currency)}) is greater than unrefunded amount on fee (${formatMoney(remaining, fee.currency)})`,
        'amount'
      )
    }
    const id = randomId('fr_')
    const back = this.#book('platform', { type: 'application_fee_refund', reporting_category: 'platform_earning_refund', amount: -amount, currency: fee.currency, source: id })
    this.#book(fee.account, { type: 'application_fee_refund', reporting_category: 'fee', amount, currency: fee.currency, source: id })
    const refund: FeeRefund = { id, object: 'fee_refund', amount, balance_transaction: back.id, created: unix(), currency: fee.currency, fee: fee.id, metadata }
    fee.amount_refunded += amount
    fee.refunded = fee.amount_refunded === fee.amount
    fee.refunds.data.unshift(structuredClone(refund))
    fee.refunds.total_count += 1
    return refund
  }

  /**
   * The share of a transfer (or an application fee) a partial refund takes,
   * proportional to the amount refunded; computed on the running total so
   * that refunding everything reverses exactly everything.
   */
  #proportional(total: number, chargeAmount: number, refundedBefore: number, refundedNow: number): number {
    return shareOf(total, refundedBefore + refundedNow, chargeAmount) - shareOf(total, refundedBefore, chargeAmount)
  }

  #createTransferReversal({ params }: ApiContext, transferId: string): TransferReversal {
    checkKnown(params, TRANSFER_REVERSAL_PARAMS)
    const transfer = this.#transfers.get(transferId)
    if (!transfer) throw invalid(`No such transfer: '${transferId}'`, 'id', 'resource_missing', 404)
    const remaining = transfer.amount - transfer.amount_reversed
    if (remaining <= 0) throw invalid(`Transfer ${transferId} has already been fully reversed.`, undefined, 'transfer_already_reversed')
    const amount = readInteger(params, 'amount', '', { min: 1 }) ?? remaining
    const metadata = readMetadata(params, 'metadata') ?? {}
    const charge = this.#charges.get(transfer.source_transaction)
    const fee = charge?.application_fee ? this.#applicationFees.get(charge.application_fee) : undefined
    if (readBoolean(params, 'refund_application_fee') && fee) {
      // Stripe refunds the same share of the application fee as of the transfer reversed.
      const share = this.#proportional(fee.amount, transfer.amount, transfer.amount_reversed, amount)
      const reversal = this.#reverseTransfer(transfer, amount, metadata, null)
      if (share > 0) this.#refundFee(fee, Math.min(share, fee.amount - fee.amount_refunded), {})
      return reversal
    }
    return this.#reverseTransfer(transfer, amount, metadata, null)
  }

  #createFeeRefund({ params }: ApiContext, feeId: string): FeeRefund {
    checkKnown(params, FEE_REFUND_PARAMS)
    const fee = this.#applicationFees.get(feeId)
    if (!fee) throw invalid(`No such application fee: '${feeId}'`, 'id', 'resource_missing', 404)
    const remaining = fee.amount - fee.amount_refunded
    if (remaining <= 0) throw invalid(`Application fee ${feeId} has already been refunded.`, undefined, 'charge_already_refunded')
    const amount = readInteger(params, 'amount', '', { min: 1 }) ?? remaining
    return this.#refundFee(fee, amount, readMetadata(params, 'metadata') ?? {})
  }

  #retrieveBalance({ params, stripeAccount }: ApiContext): Balance {
    checkKnown(params, ['expand'])
    if (stripeAccount !== undefined) this.#requireAccount(stripeAccount)
    const owner = stripeAccount ?? 'platform'
    const now = unix()
    const available: Record<string, number> = {}
    const pending: Record<string, number> = {}
    for (const [id, holder] of this.#balanceOwners) {
      if (holder !== owner) continue
      const transaction = this.#balanceTransactions.get(id)!
      const bucket = transaction.available_on <= now ? available : pending
      bucket[transaction.currency] = (bucket[transaction.currency] ?? 0) + transaction.net
    }
    const list = (totals: Record<string, number>) =>
      Object.entries(totals).map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }))
    return { object: 'balance', available: list(available), pending: list(pending), livemode: false }
  }

  #pendingAsync(sessionId: string): { record: SessionRecord; intent: PaymentIntent; charge: Charge } {
    const record = this.#sessions.get(sessionId)
    const intent = record?.session.payment_intent ? this.#paymentIntents.get(record.session.payment_intent) : undefined
    const charge = intent?.latest_charge ? this.#charges.get(intent.latest_charge) : undefined
    if (!record || !intent || !charge || intent.status !== 'processing') {
      throw new Error(`StripeStandIn: checkout session ${sessionId} has no pending async payment (pay it with card ${TEST_CARDS.async})`)
    }
    return { record, intent, charge }
  }

  async #checkoutPage(res: ServerResponse, method: string, id: string, body: string): Promise<void> {
    const record = this.#sessions.get(id)
    if (!record) {
      this.#sendHtml(res, 404, htmlPage('Checkout session not found', '<h1>Checkout session not found</h1>'))
      return
    }
    if (method === 'GET') {
      this.#sendHtml(res, 200, this.#checkoutHtml(record))
      return
    }
    if (method !== 'POST') {
      this.#sendHtml(res, 405, htmlPage('Method not allowed', '<h1>Method not allowed</h1>'))
      return
    }
    if (record.session.status !== 'open') {
      this.#sendHtml(res, 400, this.#checkoutHtml(record))
      return
    }
    const form = parseStripeForm(body)
    const card = typeof form.card === 'string' ? form.card : ''
    const email = typeof form.email === 'string' ? form.email.trim() : ''
    const outcome = this.#attemptPayment(record, card, email)
    if ('declined' in outcome) {
      // Nothing changes on a decline; the buyer can try another card.
      this.#sendHtml(res, 402, this.#checkoutHtml(record, { error: outcome.declined, card, email }))
      return
    }
    // Stripe doesn't wait for the webhook before redirecting, but tests are far
    // easier to reason about if the app has seen the event by the time the
    // browser lands on success_url. A failed delivery still redirects.
    for (const event of outcome.events) await this.#dispatch(event)
    this.#redirect(res, record.session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', id))
  }

  #checkoutHtml(record: SessionRecord, state: { error?: string; card?: string; email?: string } = {}): string {
    const { session, lineItems, productNames } = record
    const name = productNames.length > 1 ? `${productNames[0]} and ${productNames.length - 1} more` : productNames[0]
    const total = `${formatMoney(session.amount_total, session.currency)} ${session.currency.toUpperCase()}`
    const items = lineItems
      .map(
        (item) =>
          `<li><span class="product">${escapeHtml(item.description)}</span>` +
          (item.quantity > 1 ? ` × ${item.quantity}` : '') +
          ` — <span class="line-amount">${escapeHtml(formatMoney(item.amount_total, item.currency))}</span></li>`
      )
      .join('\n')
    const header = `<h1>Pay ${escapeHtml(name)}</h1>
<ul class="line-items">
${items}
</ul>
<p>Total due <strong class="amount" data-testid="amount-total">${escapeHtml(total)}</strong></p>`

    if (session.status !== 'open') {
      const message =
        session.status === 'complete'
          ? '<h2 class="status">Payment complete</h2><p class="muted">This checkout session is complete.</p>'
          : '<h2 class="status">Session expired</h2><p class="muted">This checkout session has expired.</p>'
      return htmlPage(`Pay ${name}`, `${header}\n${message}`)
    }

    const email = state.email ?? session.customer_email ?? ''
    const error = state.error ? `<p class="error" role="alert">${escapeHtml(state.error)}</p>` : ''
    const cancel = session.cancel_url
      ? `<p><a href="${escapeHtml(session.cancel_url)}">Cancel</a></p>`
      : ''
    const form = `${error}
<form method="post" action="/c/pay/${escapeHtml(session.id)}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" value="${escapeHtml(email)}"${session.customer_email ? ' readonly' : ''}>
  <label for="card">Card number</label>
  <input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value="${escapeHtml(state.card ?? TEST_CARDS.success)}">
  <button type="submit">Pay</button>
</form>
${cancel}`
    return htmlPage(`Pay ${name}`, `${header}\n${form}`)
  }

  // ---- Billing: customers, subscriptions, invoices, test clocks ------------

  customer(id: string): Customer | undefined {
    return this.#customers.get(id)
  }

  subscription(id: string): Subscription | undefined {
    return this.#subscriptions.get(id)
  }

  invoice(id: string): Invoice | undefined {
    return this.#invoices.get(id)
  }

  /** A subscription's invoices, oldest first. */
  invoicesOf(subscriptionId: string): Invoice[] {
    return [...this.#invoices.values()].filter((invoice) => invoice.parent.subscription_details.subscription === subscriptionId)
  }

  testClock(id: string): TestClock | undefined {
    return this.#testClocks.get(id)
  }

  /** A test clock frozen at `frozenTime` (unix seconds), as `POST /v1/test_helpers/test_clocks` makes. */
  createTestClock(frozenTime: number, name: string | null = null): TestClock {
    if (!Number.isSafeInteger(frozenTime) || frozenTime <= 0) throw new Error('StripeStandIn: frozen_time must be unix seconds')
    const clock: TestClock = {
      id: randomId('clock_'),
      object: 'test_helpers.test_clock',
      created: unix(),
      deletes_after: unix() + 30 * 24 * 3600,
      frozen_time: frozenTime,
      livemode: false,
      name,
      status: 'ready',
      status_details: {},
    }
    this.#testClocks.set(clock.id, clock)
    return clock
  }

  /**
   * Moves a test clock forward to `frozenTime` and runs what Stripe would in
   * between, in time order: renewals at each period end (a new invoice
   * charged to the saved card), retries of failed invoices, cancellations at
   * period end. Resolves once every resulting webhook was delivered.
   */
  async advanceClock(clockId: string, frozenTime: number): Promise<StripeEvent[]> {
    const clock = this.#testClocks.get(clockId)
    if (!clock) throw new Error(`StripeStandIn: no test clock ${clockId}`)
    if (frozenTime <= clock.frozen_time) throw new Error('StripeStandIn: a test clock only moves forward')
    const events = this.#advance(clock, frozenTime)
    for (const event of events) await this.#dispatch(event)
    return events
  }

  /** The card a customer's renewals are charged to from now on (e.g. `TEST_CARDS.declined`). */
  setCard(customerId: string, card: string): void {
    if (!this.#customers.has(customerId)) throw new Error(`StripeStandIn: no customer ${customerId}`)
    this.#customerCards.set(customerId, card.replace(/[\s-]/g, ''))
  }

  /** Now for a customer: its test clock's frozen time, or the wall clock. */
  #nowOf(customerId: string): number {
    const clockId = this.#customers.get(customerId)?.test_clock
    return clockId ? this.#testClocks.get(clockId)!.frozen_time : unix()
  }

  #newCustomer(email: string | null, metadata: Metadata, clockId: string | null): Customer {
    const customer: Customer = {
      id: randomId('cus_', 14),
      object: 'customer',
      created: clockId ? this.#testClocks.get(clockId)!.frozen_time : unix(),
      email,
      metadata,
      test_clock: clockId,
      invoice_settings: { default_payment_method: null },
      livemode: false,
    }
    this.#customers.set(customer.id, customer)
    return customer
  }

  #createCustomer({ params }: ApiContext): Customer {
    checkKnown(params, CUSTOMER_CREATE_PARAMS)
    const clockId = readString(params, 'test_clock') ?? null
    if (clockId !== null && !this.#testClocks.has(clockId)) throw invalid(`No such test clock: '${clockId}'`, 'test_clock', 'resource_missing')
    return this.#newCustomer(readString(params, 'email') ?? null, readMetadata(params, 'metadata') ?? {}, clockId)
  }

  /**
   * The hosted page's "Subscribe": a customer (on `clockForNewCustomers`),
   * its card saved, a subscription whose first invoice is charged now.
   * Nothing is created when the card is declined.
   */
  #startSubscription(record: SessionRecord, digits: string, email: string): PaymentOutcome {
    const decline = DECLINES[digits]
    if (decline) return { declined: decline }
    if (digits === ASYNC_CARD) return { declined: 'The Stripe stand-in does not take delayed payment methods for subscriptions.' }
    const { session, lineItems } = record
    const customer = this.#newCustomer(email || session.customer_email, {}, this.clockForNewCustomers ?? null)
    const paymentMethod = randomId('pm_')
    customer.invoice_settings.default_payment_method = paymentMethod
    this.#customerCards.set(customer.id, digits)
    const now = this.#nowOf(customer.id)
    const id = randomId('sub_')
    const subscription: Subscription = {
      id,
      object: 'subscription',
      billing_cycle_anchor: now,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
      collection_method: 'charge_automatically',
      created: now,
      currency: session.currency,
      customer: customer.id,
      default_payment_method: paymentMethod,
      ended_at: null,
      items: {
        object: 'list',
        data: lineItems.map((item) => ({
          id: randomId('si_', 14),
          object: 'subscription_item',
          created: now,
          current_period_start: now,
          current_period_end: addMonth(now, now),
          metadata: {},
          price: structuredClone(item.price),
          quantity: item.quantity,
          subscription: id,
        })),
        has_more: false,
        total_count: lineItems.length,
        url: `/v1/subscription_items?subscription=${id}`,
      },
      latest_invoice: null,
      livemode: false,
      metadata: { ...(record.subscriptionData?.metadata ?? {}) },
      start_date: now,
      status: 'active',
      test_clock: customer.test_clock,
    }
    this.#subscriptions.set(id, subscription)
    const invoice = this.#newInvoice(subscription, 'subscription_create')
    const charged = this.#chargeInvoice(invoice, subscription)
    if (!charged) throw new Error('StripeStandIn: the first invoice of a subscription failed with a card that passed')
    session.status = 'complete'
    session.url = null
    session.payment_status = 'paid'
    session.customer = customer.id
    session.subscription = id
    session.invoice = invoice.id
    session.customer_details = { email: email || session.customer_email }
    // Stripe sends these in no guaranteed order; this is a common one.
    return {
      events: [
        this.event('customer.created', customer),
        this.event('customer.subscription.created', subscription),
        this.event('invoice.created', invoice),
        this.event('invoice.finalized', invoice),
        this.event('invoice.paid', invoice),
        this.event('invoice.payment_succeeded', invoice),
        this.event('checkout.session.completed', session),
      ],
    }
  }

  /** A finalized (open) invoice for the subscription's current period. */
  #newInvoice(subscription: Subscription, reason: Invoice['billing_reason']): Invoice {
    const customer = this.#customers.get(subscription.customer)!
    const now = this.#nowOf(customer.id)
    const id = randomId('in_')
    const lines: InvoiceLine[] = subscription.items.data.map((item) => ({
      id: randomId('il_'),
      object: 'line_item',
      amount: item.price.unit_amount * item.quantity,
      currency: subscription.currency,
      description: `${item.quantity} × ${this.#products.get(item.price.product)?.name ?? 'Subscription'}`,
      invoice: id,
      metadata: {},
      parent: {
        type: 'subscription_item_details',
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: null,
          proration: false,
          proration_details: { credited_items: null },
          subscription: subscription.id,
          subscription_item: item.id,
        },
      },
      period: { start: item.current_period_start, end: item.current_period_end },
      pricing: { type: 'price_details', price_details: { price: item.price.id, product: item.price.product }, unit_amount_decimal: String(item.price.unit_amount) },
      quantity: item.quantity,
    }))
    const total = lines.reduce((sum, line) => sum + line.amount, 0)
    const previousStart = subscription.items.data[0]?.current_period_start ?? now
    const invoice: Invoice = {
      id,
      object: 'invoice',
      amount_due: total,
      amount_paid: 0,
      amount_remaining: total,
      attempt_count: 0,
      attempted: false,
      auto_advance: true,
      billing_reason: reason,
      collection_method: 'charge_automatically',
      created: now,
      currency: subscription.currency,
      customer: customer.id,
      customer_email: customer.email,
      hosted_invoice_url: `${this.url}/i/${id}`,
      lines: { object: 'list', data: lines, has_more: false, total_count: lines.length, url: `/v1/invoices/${id}/lines` },
      livemode: false,
      metadata: {},
      next_payment_attempt: now,
      number: `STANDIN-${String(++this.#invoiceNumber).padStart(4, '0')}`,
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { metadata: { ...subscription.metadata }, subscription: subscription.id },
      },
      period_start: reason === 'subscription_create' ? now : previousStart,
      period_end: now,
      status: 'open',
      status_transitions: { finalized_at: now, paid_at: null, voided_at: null, marked_uncollectible_at: null },
      subtotal: total,
      total,
      test_clock: customer.test_clock,
    }
    this.#invoices.set(id, invoice)
    subscription.latest_invoice = id
    return invoice
  }

  /**
   * Charges an open invoice to the customer's saved card: a PaymentIntent and
   * its charge (booked on the platform like any charge) and an
   * InvoicePayment. Returns whether it was paid.
   */
  #chargeInvoice(invoice: Invoice, subscription: Subscription): boolean {
    const now = this.#nowOf(invoice.customer)
    const card = this.#customerCards.get(invoice.customer) ?? ''
    const decline = DECLINES[card]
    const intent: PaymentIntent = {
      id: randomId('pi_'),
      object: 'payment_intent',
      amount: invoice.amount_due,
      amount_received: 0,
      currency: invoice.currency,
      status: 'processing',
      description: invoice.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
      metadata: {},
      latest_charge: null,
      application_fee_amount: null,
      on_behalf_of: null,
      transfer_data: null,
      transfer_group: null,
      payment_method_types: ['card'],
      created: unix(),
      livemode: false,
    }
    const charge: Charge = {
      id: randomId('ch_'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: 0,
      amount_refunded: 0,
      application_fee_amount: null,
      balance_transaction: null,
      captured: false,
      currency: intent.currency,
      description: intent.description,
      failure_code: null,
      failure_message: null,
      metadata: {},
      paid: false,
      payment_intent: intent.id,
      refunded: false,
      refunds: { object: 'list', data: [], has_more: false, total_count: 0, url: '' },
      status: 'pending',
      transfer: null,
      application_fee: null,
      disputed: false,
      transfer_data: null,
      created: unix(),
      livemode: false,
    }
    charge.refunds.url = `/v1/charges/${charge.id}/refunds`
    intent.latest_charge = charge.id
    this.#paymentIntents.set(intent.id, intent)
    this.#charges.set(charge.id, charge)
    const payment: InvoicePayment = {
      id: randomId('inpay_'),
      object: 'invoice_payment',
      amount_paid: null,
      amount_requested: invoice.amount_due,
      created: now,
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status: 'open',
      status_transitions: { canceled_at: null, paid_at: null },
    }
    this.#invoicePayments.set(payment.id, payment)
    invoice.attempt_count += 1
    invoice.attempted = true
    if (decline) {
      charge.status = 'failed'
      charge.failure_code = 'card_declined'
      charge.failure_message = decline
      intent.status = 'requires_payment_method'
      payment.status = 'canceled'
      payment.status_transitions.canceled_at = now
      const retryIn = RETRY_DAYS[invoice.attempt_count - 1]
      invoice.next_payment_attempt = retryIn === undefined ? null : invoice.created + retryIn * 24 * 3600
      return false
    }
    this.#settleCharge(intent, charge)
    payment.status = 'paid'
    payment.amount_paid = invoice.amount_due
    payment.status_transitions.paid_at = now
    invoice.status = 'paid'
    invoice.amount_paid = invoice.amount_due
    invoice.amount_remaining = 0
    invoice.next_payment_attempt = null
    invoice.status_transitions.paid_at = now
    void subscription
    return true
  }

  /** Runs a clock forward, step by step in time order; returns the events to deliver. */
  #advance(clock: TestClock, target: number): StripeEvent[] {
    const events: StripeEvent[] = []
    const onClock = () =>
      [...this.#subscriptions.values()].filter((sub) => sub.test_clock === clock.id && sub.status !== 'canceled')
    for (;;) {
      // The earliest thing due: a period end (renewal or cancellation) or a retry of an open invoice.
      let next: { at: number; run: () => void } | null = null
      for (const subscription of onClock()) {
        const periodEnd = subscription.items.data[0].current_period_end
        if (periodEnd <= target && (!next || periodEnd < next.at)) next = { at: periodEnd, run: () => this.#periodEnds(subscription, events) }
        const open = subscription.latest_invoice ? this.#invoices.get(subscription.latest_invoice) : undefined
        if (open?.status === 'open' && open.attempt_count > 0) {
          const retryAt = open.next_payment_attempt
          if (retryAt === null) continue
          if (retryAt <= target && (!next || retryAt < next.at)) next = { at: retryAt, run: () => this.#retry(subscription, open, events) }
        }
      }
      if (!next) break
      clock.frozen_time = next.at
      next.run()
    }
    clock.frozen_time = target
    return events
  }

  #periodEnds(subscription: Subscription, events: StripeEvent[]): void {
    const previous = { status: subscription.status, cancel_at_period_end: subscription.cancel_at_period_end }
    if (subscription.cancel_at_period_end) {
      const end = subscription.items.data[0].current_period_end
      this.#end(subscription, end, 'cancellation_requested', events)
      return
    }
    // The open invoice of a past period is left open (its retries go on); the new period is billed.
    const anchor = subscription.billing_cycle_anchor
    for (const item of subscription.items.data) {
      item.current_period_start = item.current_period_end
      item.current_period_end = addMonth(item.current_period_start, anchor)
    }
    const invoice = this.#newInvoice(subscription, 'subscription_cycle')
    events.push(this.event('invoice.created', invoice), this.event('invoice.finalized', invoice))
    this.#collect(subscription, invoice, previous, events)
  }

  #retry(subscription: Subscription, invoice: Invoice, events: StripeEvent[]): void {
    const previous = { status: subscription.status, cancel_at_period_end: subscription.cancel_at_period_end }
    this.#collect(subscription, invoice, previous, events)
    // Every retry failed: the subscription is cancelled (the default "if all retries fail" setting).
    if (invoice.status === 'open' && invoice.next_payment_attempt === null) {
      this.#end(subscription, this.#nowOf(subscription.customer), 'payment_failed', events)
    }
  }

  #collect(subscription: Subscription, invoice: Invoice, previous: { status: Subscription['status']; cancel_at_period_end: boolean }, events: StripeEvent[]): void {
    const paid = this.#chargeInvoice(invoice, subscription)
    subscription.status = paid ? 'active' : 'past_due'
    if (paid) {
      events.push(this.event('invoice.paid', invoice), this.event('invoice.payment_succeeded', invoice))
    } else {
      events.push(this.event('invoice.payment_failed', invoice))
    }
    // Stripe announces the new period (and any status change) with customer.subscription.updated.
    events.push(this.event('customer.subscription.updated', subscription, { previousAttributes: { status: previous.status } }))
  }

  #end(subscription: Subscription, at: number, reason: 'cancellation_requested' | 'payment_failed', events: StripeEvent[]): void {
    subscription.status = 'canceled'
    subscription.ended_at = at
    subscription.canceled_at ??= at
    subscription.cancellation_details.reason = reason
    const open = subscription.latest_invoice ? this.#invoices.get(subscription.latest_invoice) : undefined
    if (open?.status === 'open') {
      open.status = 'void'
      open.next_payment_attempt = null
      open.status_transitions.voided_at = at
    }
    events.push(this.event('customer.subscription.deleted', subscription))
  }

  #requireSubscription(id: string): Subscription {
    const subscription = this.#subscriptions.get(id)
    if (!subscription) throw invalid(`No such subscription: '${id}'`, 'id', 'resource_missing', 404)
    return subscription
  }

  #updateSubscription({ params, requestId, idempotencyKey }: ApiContext, id: string): Subscription {
    checkKnown(params, SUBSCRIPTION_UPDATE_PARAMS)
    const subscription = this.#requireSubscription(id)
    if (subscription.status === 'canceled') {
      throw invalid('A canceled subscription can only update its cancellation_details and metadata.', undefined, 'resource_missing')
    }
    const previous: Record<string, unknown> = {}
    const cancel = readBoolean(params, 'cancel_at_period_end')
    if (cancel !== undefined && cancel !== subscription.cancel_at_period_end) {
      previous.cancel_at_period_end = subscription.cancel_at_period_end
      previous.cancel_at = subscription.cancel_at
      previous.canceled_at = subscription.canceled_at
      subscription.cancel_at_period_end = cancel
      subscription.cancel_at = cancel ? subscription.items.data[0].current_period_end : null
      subscription.canceled_at = cancel ? this.#nowOf(subscription.customer) : null
      subscription.cancellation_details.reason = cancel ? 'cancellation_requested' : null
    }
    const metadata = readMetadata(params, 'metadata')
    if (metadata) {
      previous.metadata = { ...subscription.metadata }
      subscription.metadata = { ...subscription.metadata, ...metadata }
    }
    if (Object.keys(previous).length > 0) {
      const event = this.event('customer.subscription.updated', subscription, {
        previousAttributes: previous,
        request: { id: requestId, idempotency_key: idempotencyKey },
      })
      this.#later(() => this.#dispatch(event))
    }
    return subscription
  }

  #cancelSubscriptionNow({ params }: ApiContext, id: string): Subscription {
    checkKnown(params, SUBSCRIPTION_CANCEL_PARAMS)
    const subscription = this.#requireSubscription(id)
    if (subscription.status === 'canceled') {
      throw invalid(`No such subscription: '${id}'`, 'id', 'resource_missing', 404)
    }
    const events: StripeEvent[] = []
    this.#end(subscription, this.#nowOf(subscription.customer), 'cancellation_requested', events)
    this.#later(async () => {
      for (const event of events) await this.#dispatch(event)
    })
    return subscription
  }

  #listInvoicePayments({ params }: ApiContext): Record<string, unknown> {
    checkKnown(params, ['ending_before', 'expand', 'invoice', 'limit', 'payment', 'starting_after', 'status'])
    const invoice = readString(params, 'invoice')
    const status = readString(params, 'status')
    const data = [...this.#invoicePayments.values()].filter(
      (payment) => (invoice === undefined || payment.invoice === invoice) && (status === undefined || payment.status === status)
    )
    return { object: 'list', data: structuredClone(data), has_more: false, url: '/v1/invoice_payments' }
  }

  #createTestClockApi({ params }: ApiContext): TestClock {
    checkKnown(params, ['expand', 'frozen_time', 'name'])
    return this.createTestClock(readInteger(params, 'frozen_time', '', { required: true, min: 1 })!, readString(params, 'name') ?? null)
  }

  #advanceClockApi({ params }: ApiContext, id: string): TestClock {
    checkKnown(params, ['expand', 'frozen_time'])
    const clock = this.#testClocks.get(id)
    if (!clock) throw invalid(`No such test clock: '${id}'`, 'test_clock', 'resource_missing', 404)
    const target = readInteger(params, 'frozen_time', '', { required: true, min: 1 })!
    if (target <= clock.frozen_time) throw invalid('The frozen_time must be after the current frozen_time of the test clock.', 'frozen_time')
    // Stripe answers "advancing" and works in the background; so does this.
    clock.status = 'advancing'
    const answer = structuredClone(clock)
    this.#later(async () => {
      const events = this.#advance(clock, target)
      clock.status = 'ready'
      for (const event of events) await this.#dispatch(event)
    })
    return answer
  }

  /**
   * The stand-in's test clocks page (Stripe's dashboard has one): each clock,
   * its subscriptions, and buttons that advance it (renewals, retries and
   * cancellations happen, their webhooks are delivered) or make a customer's
   * card decline its next renewals. For trying memberships by hand (make dev).
   */
  async #testClocksPage(res: ServerResponse, method: string, body: string): Promise<void> {
    if (method === 'POST') {
      const form = parseStripeForm(body)
      const clock = typeof form.clock === 'string' ? this.#testClocks.get(form.clock) : undefined
      const customer = typeof form.customer === 'string' ? this.#customers.get(form.customer) : undefined
      if (clock && typeof form.advance === 'string') {
        const target = form.advance === 'month' ? addMonth(clock.frozen_time, clock.frozen_time) + 3600 : clock.frozen_time + 24 * 3600
        await this.advanceClock(clock.id, target)
      } else if (customer && typeof form.card === 'string') {
        this.setCard(customer.id, form.card === 'decline' ? TEST_CARDS.declined : TEST_CARDS.success)
      }
      this.#redirect(res, '/test_clocks')
      return
    }
    const when = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
    const clocks = [...this.#testClocks.values()]
      .map((clock) => {
        const subscriptions = [...this.#subscriptions.values()]
          .filter((subscription) => subscription.test_clock === clock.id)
          .map((subscription) => {
            const card = this.#customerCards.get(subscription.customer) ?? ''
            const declines = !!DECLINES[card]
            const paid = this.invoicesOf(subscription.id).filter((invoice) => invoice.status === 'paid').length
            return `<li data-subscription="${escapeHtml(subscription.id)}"><strong>${escapeHtml(subscription.id)}</strong> · ${escapeHtml(subscription.status)}${subscription.cancel_at_period_end ? ' (cancels at period end)' : ''} · period ends ${when(subscription.items.data[0].current_period_end)} · ${paid} paid invoice(s) · card ${declines ? 'declines' : 'pays'}
<form method="post" action="/test_clocks" style="display:inline"><input type="hidden" name="customer" value="${escapeHtml(subscription.customer)}"><input type="hidden" name="card" value="${declines ? 'pay' : 'decline'}"><button type="submit" style="width:auto;margin:0;padding:.25rem .5rem;font-size:.8rem">${declines ? 'Pay renewals again' : 'Decline renewals'}</button></form></li>`
          })
          .join('\n')
        return `<section data-clock="${escapeHtml(clock.id)}"><h2>${escapeHtml(clock.name ?? clock.id)}</h2>
<p>Frozen at <strong>${when(clock.frozen_time)}</strong></p>
<ul>${subscriptions || '<li class="muted">No subscription on this clock yet.</li>'}</ul>
<form method="post" action="/test_clocks"><input type="hidden" name="clock" value="${escapeHtml(clock.id)}"><input type="hidden" name="advance" value="month"><button type="submit">Advance one month</button></form>
<form method="post" action="/test_clocks"><input type="hidden" name="clock" value="${escapeHtml(clock.id)}"><input type="hidden" name="advance" value="day"><button type="submit">Advance one day</button></form></section>`
      })
      .join('\n')
    this.#sendHtml(res, 200, htmlPage('Test clocks', `<h1>Test clocks</h1>\n<p class="muted">Stripe stand-in: customers who subscribe now live on ${this.clockForNewCustomers ? `<code>${escapeHtml(this.clockForNewCustomers)}</code>` : 'the wall clock'}.</p>\n${clocks || '<p>No test clock.</p>'}`))
  }

  // ---- PaymentIntents, Charges, Refunds --------------------------------------

  #retrieve(
    { params }: ApiContext,
    object: Record<string, unknown> | undefined,
    kind: string,
    id: string,
    param: string
  ): Record<string, unknown> {
    checkKnown(params, ['expand'])
    if (!object) throw invalid(`No such ${kind}: '${id}'`, param, 'resource_missing', 404)
    return object
  }

  #createRefund({ params, requestId, idempotencyKey }: ApiContext): Refund {
    checkKnown(params, REFUND_CREATE_PARAMS)
    const intentId = readString(params, 'payment_intent')
    const chargeId = readString(params, 'charge')
    if (intentId === undefined && chargeId === undefined) {
      throw invalid('One of the following params should be provided for this request: payment_intent or charge.', undefined, 'parameter_missing')
    }
    let charge: Charge | undefined
    if (intentId !== undefined) {
      const intent = this.#paymentIntents.get(intentId)
      if (!intent) throw invalid(`No such payment_intent: '${intentId}'`, 'payment_intent', 'resource_missing')
      charge = intent.latest_charge ? this.#charges.get(intent.latest_charge) : undefined
    }
    if (chargeId !== undefined) {
      const byId = this.#charges.get(chargeId)
      if (!byId) throw invalid(`No such charge: '${chargeId}'`, 'charge', 'resource_missing')
      if (charge && charge.id !== byId.id) {
        throw invalid(`Charge ${chargeId} does not belong to PaymentIntent ${intentId}.`, 'charge')
      }
      charge = byId
    }
    if (!charge || charge.status !== 'succeeded') {
      throw invalid(
        intentId !== undefined
          ? `This PaymentIntent (${intentId}) does not have a successful charge to refund.`
          : `Charge ${chargeId} has not succeeded and cannot be refunded.`,
        intentId !== undefined ? 'payment_intent' : 'charge',
        'charge_not_refundable'
      )
    }
    const remaining = charge.amount - charge.amount_refunded
    if (remaining <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, undefined, 'charge_already_refunded')
    const amount = readInteger(params, 'amount', '', { min: 1 }) ?? remaining
    if (amount > remaining) {
      throw invalid(
        `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(remaining, charge.currency)})`,
        'amount',
        'amount_too_large'
      )
    }
    const reason = readString(params, 'reason') ?? null
    if (reason !== null && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) {
      throw invalid('Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer', 'reason')
    }
    const metadata = readMetadata(params, 'metadata') ?? {}
    if (charge.disputed) {
      throw invalid(`Charge ${charge.id} has been charged back; cannot issue a refund.`, undefined, 'charge_disputed')
    }
    const transfer = charge.transfer ? this.#transfers.get(charge.transfer) : undefined
    const reverseTransfer = readBoolean(params, 'reverse_transfer') ?? false
    if (reverseTransfer && !transfer) {
      throw invalid(`The charge ${charge.id} has no transfer to reverse.`, 'reverse_transfer')
    }
    const fee = charge.application_fee ? this.#applicationFees.get(charge.application_fee) : undefined
    const refundApplicationFee = readBoolean(params, 'refund_application_fee') ?? false
    if (refundApplicationFee && !fee) {
      throw invalid(`The charge ${charge.id} has no application fee to refund.`, 'refund_application_fee')
    }

    const now = unix()
    const refundId = randomId('re_')
    // Stripe keeps its processing fee: the platform's balance pays the whole refund.
    const transaction = this.#book('platform', { type: 'refund', reporting_category: 'refund', amount: -amount, currency: charge.currency, source: refundId })
    // Destination charges: the same share of the transfer and of the application fee goes back.
    const reversal =
      reverseTransfer && transfer
        ? this.#reverseTransfer(transfer, this.#proportional(transfer.amount, charge.amount, charge.amount_refunded, amount), {}, refundId)
        : null
    if (refundApplicationFee && fee) {
      const share = this.#proportional(fee.amount, charge.amount, charge.amount_refunded, amount)
      if (share > 0) this.#refundFee(fee, share, {})
    }
    const refund: Refund = {
      id: refundId,
      object: 'refund',
      amount,
      balance_transaction: transaction.id,
      charge: charge.id,
      currency: charge.currency,
      metadata,
      payment_intent: charge.payment_intent,
      reason,
      status: 'succeeded',
      transfer_reversal: reversal?.id ?? null,
      created: now,
    }
    this.refunds.push(refund)
    this.#refundsById.set(refund.id, refund)

    const previousAttributes = { amount_refunded: charge.amount_refunded, refunded: charge.refunded }
    charge.amount_refunded += amount
    charge.refunded = charge.amount_refunded === charge.amount
    charge.refunds.data.unshift(structuredClone(refund))
    charge.refunds.total_count += 1

    const event = this.event('charge.refunded', charge, {
      previousAttributes,
      request: { id: requestId, idempotency_key: idempotencyKey },
    })
    this.#later(() => this.#dispatch(event))
    return refund
  }

  // ---- Connect ---------------------------------------------------------------

  #createAccount({ params }: ApiContext): Account {
    checkKnown(params, ACCOUNT_CREATE_PARAMS)
    const type = readString(params, 'type')
    if (type === undefined && params.controller === undefined) throw missing('type')
    if (type !== undefined && !['custom', 'express', 'standard'].includes(type)) {
      throw invalid('Invalid type: must be one of custom, express, or standard', 'type')
    }
    const capabilities: Account['capabilities'] = {}
    const requested = readObject(params, 'capabilities') ?? {}
    for (const [name, value] of Object.entries(requested)) {
      if (typeof value === 'object' && !Array.isArray(value) && value.requested === 'true') capabilities[name] = 'inactive'
    }
    const country = (readString(params, 'country') ?? 'US').toUpperCase()
    const account: Account = {
      id: randomId('acct_', 16),
      object: 'account',
      type: type ?? 'none',
      country,
      default_currency: readString(params, 'default_currency')?.toLowerCase() ?? 'usd',
      email: readString(params, 'email') ?? null,
      metadata: readMetadata(params, 'metadata') ?? {},
      charges_enabled: false,
      details_submitted: false,
      payouts_enabled: false,
      capabilities,
      requirements: {
        currently_due: ['business_profile.url', 'external_account', 'tos_acceptance.date'],
        disabled_reason: 'requirements.past_due',
      },
      created: unix(),
    }
    this.#accounts.set(account.id, account)
    return account
  }

  /** Stripe answers an unknown/unreachable connected account with 403 `account_invalid`. */
  #requireAccount(id: string): Account {
    const account = this.#accounts.get(id)
    if (!account) {
      throw invalid(
        `The provided key '${redactKey(this.#secretKey)}' does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`,
        undefined,
        'account_invalid',
        403
      )
    }
    return account
  }

  #retrieveAccount({ params }: ApiContext, id: string): Account {
    checkKnown(params, ['expand'])
    return this.#requireAccount(id)
  }

  #updateAccount({ params }: ApiContext, id: string): Account {
    checkKnown(params, ACCOUNT_UPDATE_PARAMS)
    const account = this.#requireAccount(id)
    const email = readString(params, 'email')
    if (email !== undefined) account.email = email
    // Metadata updates merge; '' removes a key.
    const raw = readObject(params, 'metadata')
    if (raw !== undefined) {
      const updates = readMetadata(params, 'metadata') ?? {}
      for (const key of Object.keys(raw)) delete account.metadata[key]
      Object.assign(account.metadata, updates)
    }
    return account
  }

  #createAccountLink({ params }: ApiContext): Record<string, unknown> {
    checkKnown(params, ACCOUNT_LINK_PARAMS)
    const accountId = readString(params, 'account', '', true)!
    const account = this.#accounts.get(accountId)
    if (!account) throw invalid(`No such account: '${accountId}'`, 'account', 'resource_missing')
    const type = readString(params, 'type', '', true)!
    if (!['account_onboarding', 'account_update'].includes(type)) {
      throw invalid('Invalid type: must be one of account_onboarding or account_update', 'type')
    }
    if (type === 'account_update' && account.type !== 'custom') {
      throw invalid(`You cannot create \`account_update\` type Account Links for ${account.type} accounts.`, 'type')
    }
    const refreshUrl = readUrl(params, 'refresh_url', true)!
    const returnUrl = readUrl(params, 'return_url', true)!
    const created = unix()
    const query = new URLSearchParams({ return: returnUrl, refresh: refreshUrl })
    return {
      object: 'account_link',
      created,
      expires_at: created + 300,
      url: `${this.url}/connect/onboard/${account.id}?${query}`,
    }
  }

  async #onboardingPage(res: ServerResponse, method: string, accountId: string, url: URL): Promise<void> {
    const account = this.#accounts.get(accountId)
    if (!account) {
      this.#sendHtml(res, 404, htmlPage('Account not found', '<h1>Account not found</h1>'))
      return
    }
    if (method === 'GET') {
      const title = `Onboard ${account.email ?? account.id}`
      const body = `<h1>${escapeHtml(title)}</h1>
<p class="muted">Stripe stand-in: pretend to submit business details and a bank account.</p>
<form method="post" action="${escapeHtml(url.pathname + url.search)}">
  <button type="submit">Finish onboarding</button>
</form>`
      this.#sendHtml(res, 200, htmlPage(title, body))
      return
    }
    if (method !== 'POST') {
      this.#sendHtml(res, 405, htmlPage('Method not allowed', '<h1>Method not allowed</h1>'))
      return
    }
    const returnUrl = url.searchParams.get('return')
    if (!returnUrl || !/^https?:\/\//.test(returnUrl)) {
      this.#sendHtml(res, 400, htmlPage('Invalid link', '<h1>This onboarding link has no return URL</h1>'))
      return
    }
    const previousAttributes = {
      charges_enabled: account.charges_enabled,
      details_submitted: account.details_submitted,
      payouts_enabled: account.payouts_enabled,
      capabilities: { ...account.capabilities },
    }
    account.charges_enabled = true
    account.details_submitted = true
    account.payouts_enabled = true
    // Express accounts normally request these two; activate whatever was requested.
    const names = Object.keys(account.capabilities)
    for (const name of names.length > 0 ? names : ['card_payments', 'transfers']) account.capabilities[name] = 'active'
    account.requirements = { currently_due: [], disabled_reason: null }
    // Delivered before redirecting so the app already knows when the seller lands on return_url.
    const event = this.event('account.updated', account, { previousAttributes, account: account.id })
    await this.#dispatch(event)
    this.#redirect(res, returnUrl)
  }
}
