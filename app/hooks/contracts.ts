/*
| The provider contracts a plugin implements. The core talks to storage,
| payments and watermarking only through these shapes; first implementations
| come with the media, commerce and playback work, as plugins.
*/
import type { Readable } from 'node:stream'

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
  amount: bigint | number
  currency: string
}

export interface CheckoutOrder {
  orderId: string
  videoId: string | number
  videoTitle: string
  buyer: { id: number; email: string; username: string }
  creator: { id: number; username: string }
  price: Money
  successUrl: string
  cancelUrl: string
}

export type CheckoutResult =
  | { kind: 'redirect'; url: string; providerReference?: string }
  | { kind: 'client_action'; action: Record<string, unknown>; providerReference?: string }

export interface RawWebhookRequest {
  headers: Record<string, string | string[] | undefined>
  rawBody: Buffer
}

export type PaymentEventType =
  | 'payment.succeeded'
  | 'payment.failed'
  | 'payment.expired'
  | 'payment.refunded'
  | 'payment.underpaid'

/** A provider event whose authenticity the provider has verified. */
export interface VerifiedPaymentEvent {
  /** The provider's own unique event id: the core's idempotency key. */
  eventId: string
  type: PaymentEventType
  orderId: string
  amount?: Money
  providerFee?: Money
  providerReference?: string
  raw?: unknown
}

export interface PaymentProvider {
  readonly id: string
  readonly label: string
  /** ISO 4217 codes (or token symbols) this provider can charge in. */
  readonly currencies: readonly string[]
  createCheckout(order: CheckoutOrder): Promise<CheckoutResult>
  /** Throws when the request is not authentic; returns the events it carries. */
  handleWebhook(request: RawWebhookRequest): Promise<VerifiedPaymentEvent[]>
  refund?(order: { orderId: string; providerReference: string; amount: Money }): Promise<void>
  /** Long-running background watcher (chains); resolves when `signal` aborts. */
  watch?(emit: (event: VerifiedPaymentEvent) => Promise<void>, signal: AbortSignal): Promise<void>
  health?(): Promise<PluginHealth>
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
   */
  buildFilter(input: VisibleWatermarkInput): string
}

export interface ForensicWatermarker {
  readonly id: string
  readonly kind: 'forensic'
  readonly label: string
  /** Prepares variants at transcode time. */
  prepare(input: { videoId: string | number; sourceKey: string; outputPrefix: string }): Promise<void>
  /** Names the session that leaked a file, or null. */
  identify(input: { videoId: string | number; leakedFile: Readable }): Promise<string | null>
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
