import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Coupon from '#models/coupon'
import CouponTarget from '#models/coupon_target'
import Offer from '#models/offer'
import Video from '#models/video'
import type User from '#models/user'
import audit from '#services/audit_service'
import currencies from '#services/currency_service'
import { formatMoney, toMinorUnits } from '#services/money'
import { isUuid } from '#services/ids'
import { platformFeeFor } from '#services/commerce/ledger'
import { CommerceError } from '#exceptions/commerce_error'
import type { Money } from '#hooks/contracts'

/** Advisory lock namespace: one reservation at a time per coupon, so its limits hold when checkouts race. */
const COUPON_LOCK = 7405

/** What a coupon code may look like (a form field, case-insensitive). */
export const COUPON_CODE = /^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$/

/**
 * Order statuses whose redemption holds its slot for good. A pending order
 * holds it until it expires; an order that expired or failed frees it. A
 * refunded order keeps its use: a refund does not hand the code back.
 */
const USED = `(o.status IN ('paid', 'disputed', 'refunded', 'charged_back') OR (o.status = 'pending' AND o.expires_at > now()))`

/**
 * Fields a checkout form never has: a price or a discount sent by the
 * browser is a forgery (the server computes the price), refused outright
 * so nobody believes it was honoured.
 */
export const FORGED_PRICE_FIELDS = ['amount', 'amount_minor', 'price', 'price_minor', 'discount', 'discount_minor', 'total'] as const

/** Refuses a checkout form carrying a price or a discount (see FORGED_PRICE_FIELDS): only the server prices. */
export function refuseForgedPrice(fields: Record<string, unknown>) {
  const forged = FORGED_PRICE_FIELDS.find((name) => fields[name] !== undefined)
  if (forged) throw new CommerceError('forged_price', 422, 'The price is set by the server: the form may not carry an amount or a discount')
}

/** What a checkout sells, as far as a coupon cares. */
export interface CouponItem {
  offerId: string | null
  videoId: string | null
  creatorId: number
  price: Money
}

/** A coupon applied to an item: what the buyer pays and who bears the discount. */
export interface CouponQuote {
  coupon: Coupon
  item: CouponItem
  listPrice: Money
  discountMinor: number
  /** listPrice − discount: what the buyer pays (0 for a 100 % coupon). */
  amountMinor: number
  /** The platform's fee on this sale (see `feeWithDiscount`). */
  platformFeeMinor: number
}

export interface CouponInput {
  code: string
  percentOff?: number | null
  amountOffMinor?: number | null
  currency?: string | null
  maxUses?: number | null
  maxUsesPerViewer?: number | null
  expiresAt?: DateTime | null
  /** Empty: every offer and buy price (of the creator, or of every creator for a platform coupon). */
  offerIds?: string[]
  /** Videos whose own buy price the coupon applies to. */
  videoIds?: string[]
}

/**
 * The discount: percent off rounded down (the buyer never gets a fraction
 * more than the code says; 100 % is the whole price), or a fixed amount off,
 * never more than the price.
 */
export function discountFor(coupon: Pick<Coupon, 'percentOff' | 'amountOffMinor'>, priceMinor: number) {
  if (coupon.percentOff) return Math.floor((priceMinor * coupon.percentOff) / 100)
  return Math.min(priceMinor, coupon.amountOffMinor ?? 0)
}

/**
 * Who bears a discount, as the platform's fee on the sale:
 * - a creator's coupon comes out of the creator's share: the platform keeps
 *   its fee on the list price (capped at what the buyer pays);
 * - a platform coupon comes out of the platform's fee first, and only what
 *   exceeds the fee out of the creator's share (a provider that pays the
 *   creator directly, a Connect destination charge or the splitter
 *   contract, cannot pay a creator more than the buyer paid).
 * The ledger's lines then follow from the fee as for any sale.
 */
export function feeWithDiscount(listMinor: number, discountMinor: number, feeBps: number, platformWide: boolean) {
  const fee = platformFeeFor(listMinor, feeBps)
  const paid = listMinor - discountMinor
  return platformWide ? Math.max(0, fee - discountMinor) : Math.min(fee, paid)
}

/** Coupons: made in the Studio (a creator's) or in Admin (the platform's), applied at checkout. */
export class CouponService {
  /**
   * The coupon `code` applied to `item` bought by `buyer`, or a clear refusal:
   * unknown, another creator's, inactive, expired, not for this offer, in
   * another currency, used up, already used by this viewer. The creator's
   * own code wins over a platform-wide one with the same letters.
   */
  async quote(buyer: User, item: CouponItem, rawCode: string, feeBps: number, trx?: TransactionClientContract): Promise<CouponQuote> {
    const code = rawCode.trim()
    if (/[\s,;]/.test(code)) throw new CommerceError('one_coupon', 422, 'Enter one coupon code per order')
    if (!COUPON_CODE.test(code)) throw new CommerceError('coupon_unknown', 422, `There is no coupon “${code.slice(0, 40)}”`)
    const found = await Coupon.query({ client: trx })
      .whereRaw('lower(code) = lower(?)', [code])
      .where((q) => q.where('creatorId', item.creatorId).orWhereNull('creatorId'))
      .preload('targets')
      .orderByRaw('creator_id IS NULL')
    const coupon = found[0]
    if (!coupon) {
      const elsewhere = await Coupon.query({ client: trx }).whereRaw('lower(code) = lower(?)', [code]).first()
      if (elsewhere) throw new CommerceError('coupon_other_creator', 422, `The coupon “${code}” is for another creator’s videos`)
      throw new CommerceError('coupon_unknown', 422, `There is no coupon “${code}”`)
    }
    if (!coupon.active) throw new CommerceError('coupon_inactive', 422, `The coupon “${coupon.code}” is no longer valid`)
    if (coupon.expiresAt && coupon.expiresAt <= DateTime.now()) {
      throw new CommerceError('coupon_expired', 422, `The coupon “${coupon.code}” expired on ${coupon.expiresAt.toUTC().toFormat('d LLL yyyy')}`)
    }
    if (coupon.appliesTo === 'chosen' && !this.#targets(coupon, item)) {
      throw new CommerceError('coupon_not_applicable', 422, `The coupon “${coupon.code}” does not apply to this offer`)
    }
    if (coupon.amountOffMinor && coupon.currency !== item.price.currency) {
      throw new CommerceError('coupon_currency', 422, `The coupon “${coupon.code}” is in ${coupon.currency}; this offer is priced in ${item.price.currency}`)
    }
    await this.#refuseIfUsedUp(coupon, buyer, item, trx)
    const discountMinor = discountFor(coupon, item.price.amount)
    return {
      coupon,
      item,
      listPrice: item.price,
      discountMinor,
      amountMinor: item.price.amount - discountMinor,
      platformFeeMinor: feeWithDiscount(item.price.amount, discountMinor, feeBps, coupon.isPlatformWide),
    }
  }

  /**
   * What a coupon typed on a video page does to each way of getting it, for
   * the page to show before anyone pays: the price after the coupon, or why
   * it does not apply (keyed by offer id, `buy` for the video's own price).
   * The checkout quotes again; this changes nothing.
   */
  async preview(viewer: User, video: { id: string; ownerId: number }, options: Array<{ offerId: string | null; kind: string; scope: string; price: Money }>, code: string) {
    const previews = new Map<string, { amountMinor: number; discountMinor: number } | { error: string }>()
    for (const option of options) {
      if (option.kind === 'membership') continue
      const item = { offerId: option.offerId, videoId: option.scope === 'video' ? video.id : null, creatorId: video.ownerId, price: option.price }
      try {
        const quote = await this.quote(viewer, item, code, 0)
        previews.set(option.offerId ?? 'buy', { amountMinor: quote.amountMinor, discountMinor: quote.discountMinor })
      } catch (error) {
        if (!(error instanceof CommerceError)) throw error
        previews.set(option.offerId ?? 'buy', { error: error.message })
      }
    }
    return previews
  }

  /**
   * Takes one use of the coupon for `orderId`, inside the order's
   * transaction, under a lock per coupon: two checkouts racing for the last
   * use are counted one after the other, and the second is refused. The use
   * is held while the order is pending (until it expires) and for good once
   * paid.
   */
  async reserve(trx: TransactionClientContract, quote: CouponQuote, buyer: User, orderId: string) {
    await trx.rawQuery('SELECT pg_advisory_xact_lock(?, hashtext(?))', [COUPON_LOCK, quote.coupon.id])
    await this.#refuseIfUsedUp(quote.coupon, buyer, quote.item, trx)
    await trx.table('coupon_redemptions').insert({
      coupon_id: quote.coupon.id,
      order_id: orderId,
      user_id: buyer.id,
      discount_minor: quote.discountMinor,
      created_at: new Date(),
    })
  }

  #targets(coupon: Coupon, item: CouponItem) {
    return coupon.targets.some((target) => (item.offerId ? target.offerId === item.offerId : !target.offerId && target.videoId === item.videoId))
  }

  /**
   * Refuses a coupon with no use left, in all or for this viewer. The
   * viewer's own open checkout of the same item is not counted: pressing Buy
   * again resumes it (or, through another provider, makes a second order of
   * the same item, of which only one can end paid).
   */
  async #refuseIfUsedUp(coupon: Coupon, buyer: User, item: CouponItem, trx?: TransactionClientContract) {
    const client = trx ?? db
    const sameItem = item.offerId ? 'o.offer_id = ?' : 'o.offer_id IS NULL AND o.video_id = ?'
    const [row] = (
      await client.rawQuery(
        `SELECT COUNT(*) AS uses, COUNT(*) FILTER (WHERE r.user_id = ?) AS mine
           FROM coupon_redemptions r JOIN orders o ON o.id = r.order_id
          WHERE r.coupon_id = ? AND ${USED}
            AND NOT (r.user_id = ? AND o.status = 'pending' AND ${sameItem})`,
        [buyer.id, coupon.id, buyer.id, item.offerId ?? item.videoId]
      )
    ).rows
    if (coupon.maxUses !== null && Number(row.uses) >= coupon.maxUses) {
      throw new CommerceError('coupon_used_up', 409, `The coupon “${coupon.code}” has been used up`)
    }
    if (coupon.maxUsesPerViewer !== null && Number(row.mine) >= coupon.maxUsesPerViewer) {
      throw new CommerceError(
        'coupon_already_used',
        409,
        coupon.maxUsesPerViewer === 1 ? `You have already used the coupon “${coupon.code}”` : `You have used the coupon “${coupon.code}” ${row.mine} times, its limit`
      )
    }
  }

  /**
   * Makes a coupon: a creator's (`platform` false; only their own offers and
   * videos may be chosen) or a platform-wide one (an admin; audited).
   */
  async create(actor: User, input: CouponInput, options: { platform: boolean }): Promise<Coupon> {
    const creatorId = options.platform ? null : actor.id
    const code = input.code.trim()
    if (!COUPON_CODE.test(code)) throw new CommerceError('invalid_code', 422, 'A code is 3 to 40 letters, digits, - or _')
    const percent = input.percentOff ?? null
    const amount = input.amountOffMinor ?? null
    if ((percent === null) === (amount === null)) throw new CommerceError('invalid_discount', 422, 'Give either a percentage or an amount off')
    if (percent !== null && (!Number.isInteger(percent) || percent < 1 || percent > 100)) {
      throw new CommerceError('invalid_percent', 422, 'A percentage off is a whole number from 1 to 100')
    }
    const currency = amount !== null ? (input.currency ?? '').toUpperCase() : null
    if (amount !== null) {
      if (!Number.isSafeInteger(amount) || amount <= 0) throw new CommerceError('invalid_amount', 422, 'An amount off is more than zero')
      if (!currency || !currencies.isSupported(currency)) throw new CommerceError('invalid_currency', 422, 'Choose the currency of the amount off')
    }
    for (const limit of [input.maxUses, input.maxUsesPerViewer]) {
      if (limit !== null && limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000)) {
        throw new CommerceError('invalid_limit', 422, 'A limit of uses is a whole number from 1 to 1,000,000, or empty for none')
      }
    }
    if (input.expiresAt && input.expiresAt <= DateTime.now()) throw new CommerceError('invalid_expiry', 422, 'The expiry is in the past')
    const offerIds = [...new Set(input.offerIds ?? [])]
    const videoIds = [...new Set(input.videoIds ?? [])]
    if (![...offerIds, ...videoIds].every(isUuid)) throw new CommerceError('invalid_target', 422, 'Choose offers from the list')
    if (offerIds.length) {
      const owned = await Offer.query().whereIn('id', offerIds).if(creatorId !== null, (q) => q.where('creatorId', creatorId!))
      if (owned.length !== offerIds.length) throw new CommerceError('invalid_target', 422, 'A coupon applies only to your own offers')
    }
    if (videoIds.length) {
      const owned = await Video.query().whereIn('id', videoIds).if(creatorId !== null, (q) => q.where('ownerId', creatorId!))
      if (owned.length !== videoIds.length) throw new CommerceError('invalid_target', 422, 'A coupon applies only to your own videos')
    }

    return db.transaction(async (trx) => {
      const taken = await Coupon.query({ client: trx })
        .whereRaw('lower(code) = lower(?)', [code])
        .if(creatorId === null, (q) => q.whereNull('creatorId'), (q) => q.where('creatorId', creatorId!))
        .first()
      if (taken) throw new CommerceError('code_taken', 409, `You already have a coupon “${taken.code}”`)
      const coupon = await Coupon.create(
        {
          id: randomUUID(),
          creatorId,
          code,
          percentOff: percent,
          amountOffMinor: amount,
          currency,
          maxUses: input.maxUses ?? null,
          maxUsesPerViewer: input.maxUsesPerViewer ?? null,
          expiresAt: input.expiresAt ?? null,
          appliesTo: offerIds.length || videoIds.length ? 'chosen' : 'all',
          active: true,
          createdBy: actor.id,
        },
        { client: trx }
      )
      const targets = [...offerIds.map((offerId) => ({ couponId: coupon.id, offerId })), ...videoIds.map((videoId) => ({ couponId: coupon.id, videoId }))]
      if (targets.length) await CouponTarget.createMany(targets, { client: trx })
      if (options.platform) {
        await audit.record(
          {
            actor,
            action: 'coupon.create',
            subjectType: 'coupon',
            subjectId: coupon.id,
            after: { code, percentOff: percent, amountOffMinor: amount, currency, maxUses: coupon.maxUses, maxUsesPerViewer: coupon.maxUsesPerViewer },
            summary: `Created the platform coupon ${code} (${describeDiscount(coupon)})`,
          },
          trx
        )
      }
      return coupon
    })
  }

  /** Ends a coupon (a creator's own; any platform coupon by an admin, audited). Orders already made keep their price. */
  async deactivate(actor: User, couponId: string, options: { platform: boolean }) {
    const coupon = isUuid(couponId) ? await Coupon.find(couponId) : null
    const mine = coupon && (options.platform ? coupon.creatorId === null && actor.isAdmin : coupon.creatorId === actor.id)
    if (!coupon || !mine) throw new CommerceError('not_found', 404, 'There is no such coupon')
    await db.transaction(async (trx) => {
      coupon.useTransaction(trx)
      coupon.active = false
      await coupon.save()
      if (options.platform) {
        await audit.record(
          { actor, action: 'coupon.deactivate', subjectType: 'coupon', subjectId: coupon.id, summary: `Ended the platform coupon ${coupon.code}` },
          trx
        )
      }
    })
    return coupon
  }

  /**
   * Coupons with their uses (paid orders, and pending ones holding a slot)
   * and what they took off paid orders: a creator's, or the platform's
   * (`creatorId` null).
   */
  async listWithUses(creatorId: number | null) {
    const coupons = await Coupon.query()
      .if(creatorId === null, (q) => q.whereNull('creatorId'), (q) => q.where('creatorId', creatorId!))
      .preload('targets')
      .orderBy('createdAt', 'desc')
    if (!coupons.length) return []
    const rows = await db.rawQuery(
      `SELECT r.coupon_id, o.currency,
              COUNT(*) FILTER (WHERE o.status IN ('paid', 'disputed', 'refunded', 'charged_back')) AS paid,
              COUNT(*) FILTER (WHERE o.status = 'pending' AND o.expires_at > now()) AS pending,
              COALESCE(SUM(r.discount_minor) FILTER (WHERE o.status IN ('paid', 'disputed', 'refunded', 'charged_back')), 0) AS discount
         FROM coupon_redemptions r JOIN orders o ON o.id = r.order_id
        WHERE r.coupon_id = ANY(?)
        GROUP BY r.coupon_id, o.currency`,
      [coupons.map((c) => c.id)]
    )
    return coupons.map((coupon) => {
      const mine = rows.rows.filter((row: any) => row.coupon_id === coupon.id)
      const paid = mine.reduce((sum: number, row: any) => sum + Number(row.paid), 0)
      const pending = mine.reduce((sum: number, row: any) => sum + Number(row.pending), 0)
      const expired = !!coupon.expiresAt && coupon.expiresAt <= DateTime.now()
      return {
        coupon,
        discount: describeDiscount(coupon),
        paidUses: paid,
        pendingUses: pending,
        discounts: mine.filter((row: any) => Number(row.discount) > 0).map((row: any) => formatMoney(Number(row.discount), row.currency)),
        state: !coupon.active ? 'ended' : expired ? 'expired' : coupon.maxUses !== null && paid + pending >= coupon.maxUses ? 'used up' : 'active',
      }
    })
  }
}

/**
 * A coupon form's fields as the service takes them: the value read as whole
 * percent, or as an amount in the currency's decimals ("5.00" USD → 500);
 * the expiry at the end of the day given (UTC).
 */
export function couponInputFromForm(form: {
  code: string
  discount_type: 'percent' | 'amount'
  value: string
  currency?: string | null
  max_uses?: number | null
  max_uses_per_viewer?: number | null
  expires_on?: Date | null
  offers?: string[]
  videos?: string[]
}): CouponInput {
  let percentOff: number | null = null
  let amountOffMinor: number | null = null
  if (form.discount_type === 'percent') {
    percentOff = /^\d{1,4}$/.test(form.value) ? Number(form.value) : Number.NaN
    if (!Number.isInteger(percentOff)) throw new CommerceError('invalid_percent', 422, 'A percentage off is a whole number from 1 to 100')
  } else {
    const currency = form.currency ?? ''
    if (!currencies.isSupported(currency)) throw new CommerceError('invalid_currency', 422, 'Choose the currency of the amount off')
    amountOffMinor = toMinorUnits(form.value, currency)
    if (amountOffMinor === null) throw new CommerceError('invalid_amount', 422, `Enter the amount off in ${currency}, like 5.00`)
  }
  return {
    code: form.code,
    percentOff,
    amountOffMinor,
    currency: form.discount_type === 'amount' ? (form.currency ?? null) : null,
    maxUses: form.max_uses ?? null,
    maxUsesPerViewer: form.max_uses_per_viewer ?? null,
    expiresAt: form.expires_on ? DateTime.fromJSDate(form.expires_on, { zone: 'utc' }).endOf('day') : null,
    offerIds: form.offers ?? [],
    videoIds: form.videos ?? [],
  }
}

/** "25 % off" or "$5.00 off". */
export function describeDiscount(coupon: Pick<Coupon, 'percentOff' | 'amountOffMinor' | 'currency'>) {
  return coupon.percentOff ? `${coupon.percentOff} % off` : `${formatMoney(coupon.amountOffMinor ?? 0, coupon.currency ?? 'USD')} off`
}

const coupons = new CouponService()
export default coupons
