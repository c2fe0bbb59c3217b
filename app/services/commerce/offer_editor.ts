import { randomUUID } from 'node:crypto'
import { Exception } from '@adonisjs/core/exceptions'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Offer from '#models/offer'
import Video from '#models/video'
import type User from '#models/user'
import audit from '#services/audit_service'
import { isUuid } from '#services/ids'
import { describeOffer } from '#services/commerce/offers'
import { CommerceError } from '#exceptions/commerce_error'
import { BUNDLE_MAX_VIDEOS, PASS_DAYS, RENTAL_HOURS, START_WINDOW_DAYS } from '#validators/offer'

export interface RentalInput {
  hours: number
  startWindowDays: number
  priceMinor: number
}

export interface BundleInput {
  title: string
  description?: string | null
  priceMinor: number
  currency: string
  videoIds: string[]
}

export interface PassInput {
  title?: string | null
  description?: string | null
  priceMinor: number
  currency: string
  days: number
  /** creator: all the creator's videos; bundle: `videoIds`. */
  scope: 'creator' | 'bundle'
  videoIds?: string[]
}

/** What an offer is, for the audit log's before/after. */
function snapshot(offer: Offer, videoIds?: string[]) {
  return {
    kind: offer.kind,
    scope: offer.scope,
    title: offer.title,
    priceMinor: offer.priceMinor,
    currency: offer.currency,
    rentalHours: offer.rentalHours,
    startWindowDays: offer.startWindowDays,
    passDays: offer.passDays,
    active: offer.active,
    ...(videoIds ? { videoIds } : {}),
  }
}

/**
 * The Studio's side of offers (issue 17): a video's rental beside its buy
 * price, bundles of a creator's videos, passes to all of them or to chosen
 * ones. Offers are never deleted once made (orders name them): they are
 * deactivated, which takes them off sale and leaves every grant bought
 * with them alone. Every change is audited like a creator's other changes
 * to what they sell (video_service). The validators check the input first;
 * the rules are checked here again, so no caller can get around them.
 * Memberships are the membership service's.
 */
export class OfferEditor {
  /** A video's live rental, or null. */
  rentalOf(video: Video) {
    return Offer.query().where({ videoId: video.id, kind: 'rental', active: true }).first()
  }

  /**
   * Sets a video's rental: edits the live one in place (a new price or
   * window applies to rentals bought from now on; those bought keep theirs,
   * copied into their grant), or makes one. Priced in the video's currency.
   */
  async setRental(actor: User, video: Video, input: RentalInput) {
    this.#checkRental(input)
    return db.transaction(async (trx) => {
      // Two saves at once make one rental (the unique index would refuse the second anyway).
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?, hashtext(?))', [7403, video.id])
      const current = await Offer.query({ client: trx }).where({ videoId: video.id, kind: 'rental', active: true }).forUpdate().first()
      const before = current ? snapshot(current) : null
      const offer =
        current ??
        new Offer().merge({ id: randomUUID(), creatorId: video.ownerId, kind: 'rental', scope: 'video', videoId: video.id, active: true })
      offer.merge({
        rentalHours: input.hours,
        startWindowDays: input.startWindowDays,
        priceMinor: input.priceMinor,
        currency: video.currency,
        title: null,
      })
      await offer.useTransaction(trx).save()
      await this.#audit(trx, actor, offer, current ? 'offer.update' : 'offer.create', before, snapshot(offer), `${actor.username} ${current ? 'changed' : 'set'} the rental of "${video.title}": ${input.hours} h, start within ${input.startWindowDays} days`)
      return offer
    })
  }

  /** Takes a video's rental off sale (rentals bought still play). Returns whether there was one. */
  async removeRental(actor: User, video: Video) {
    return db.transaction(async (trx) => {
      const current = await Offer.query({ client: trx }).where({ videoId: video.id, kind: 'rental', active: true }).forUpdate().first()
      if (!current) return false
      const before = snapshot(current)
      current.active = false
      await current.useTransaction(trx).save()
      await this.#audit(trx, actor, current, 'offer.deactivate', before, snapshot(current), `${actor.username} removed the rental of "${video.title}"`)
      return true
    })
  }

  /** A new bundle of `creator`'s own videos (at least one). */
  async createBundle(actor: User, creator: User, input: BundleInput) {
    this.#checkPrice(input.priceMinor)
    const videoIds = await this.#ownVideos(creator, input.videoIds)
    return db.transaction(async (trx) => {
      const offer = new Offer().merge({
        id: randomUUID(),
        creatorId: creator.id,
        kind: 'purchase',
        scope: 'bundle',
        videoId: null,
        title: input.title,
        description: input.description || null,
        priceMinor: input.priceMinor,
        currency: input.currency,
        active: true,
      })
      await offer.useTransaction(trx).save()
      await this.#setVideos(trx, offer, videoIds)
      await this.#audit(trx, actor, offer, 'offer.create', null, snapshot(offer, videoIds), `${actor.username} created the bundle "${input.title}" (${videoIds.length} videos)`)
      return offer
    })
  }

  /** A new pass: `days` of all `creator`'s videos, or of chosen ones of theirs. */
  async createPass(actor: User, creator: User, input: PassInput) {
    this.#checkPass(input)
    const videoIds = input.scope === 'bundle' ? await this.#ownVideos(creator, input.videoIds ?? []) : []
    return db.transaction(async (trx) => {
      const offer = new Offer().merge({
        id: randomUUID(),
        creatorId: creator.id,
        kind: 'pass',
        scope: input.scope,
        videoId: null,
        title: input.title || null,
        description: input.description || null,
        priceMinor: input.priceMinor,
        currency: input.currency,
        passDays: input.days,
        active: true,
      })
      await offer.useTransaction(trx).save()
      if (input.scope === 'bundle') await this.#setVideos(trx, offer, videoIds)
      await this.#audit(trx, actor, offer, 'offer.create', null, snapshot(offer, videoIds), `${actor.username} created the pass "${describeOffer(offer)}"`)
      return offer
    })
  }

  /**
   * Edits a bundle or a pass. What was bought stays bought: a bundle's
   * buyers keep the videos copied into their grants, a pass running keeps
   * its end; new terms apply to the next sale.
   */
  async update(actor: User, offer: Offer, input: BundleInput | PassInput) {
    if (offer.kind === 'pass') this.#checkPass(input as PassInput)
    else this.#checkPrice(input.priceMinor)
    const creator = await offer.related('creator').query().firstOrFail()
    const scope = offer.kind === 'pass' ? (input as PassInput).scope : 'bundle'
    const videoIds = scope === 'bundle' ? await this.#ownVideos(creator, input.videoIds ?? []) : []
    return db.transaction(async (trx) => {
      const locked = await Offer.query({ client: trx }).where('id', offer.id).forUpdate().firstOrFail()
      const oldVideos = await this.#videosOf(trx, locked)
      const before = snapshot(locked, oldVideos)
      locked.merge({
        title: input.title || null,
        description: input.description || null,
        priceMinor: input.priceMinor,
        currency: input.currency,
        scope,
        ...(locked.kind === 'pass' ? { passDays: (input as PassInput).days } : {}),
      })
      await locked.useTransaction(trx).save()
      await this.#setVideos(trx, locked, videoIds)
      await this.#audit(trx, actor, locked, 'offer.update', before, snapshot(locked, videoIds), `${actor.username} edited "${describeOffer(locked)}"`)
      return locked
    })
  }

  /** Takes an offer off sale (`active` false) or puts it back; what was bought stays. */
  async setActive(actor: User, offer: Offer, active: boolean) {
    return db.transaction(async (trx) => {
      const locked = await Offer.query({ client: trx }).where('id', offer.id).forUpdate().firstOrFail()
      if (locked.active === active) return locked
      if (active && locked.kind === 'rental') {
        const other = await Offer.query({ client: trx }).where({ videoId: locked.videoId!, kind: 'rental', active: true }).first()
        if (other) throw new CommerceError('rental_exists', 409, 'This video has another rental on sale: remove it first')
      }
      const before = snapshot(locked)
      locked.active = active
      await locked.useTransaction(trx).save()
      await this.#audit(trx, actor, locked, active ? 'offer.activate' : 'offer.deactivate', before, snapshot(locked), `${actor.username} ${active ? 'put back on sale' : 'took off sale'} "${describeOffer(locked)}"`)
      return locked
    })
  }

  /**
   * An offer `actor` may edit: 404 for an id that names no offer (or a
   * forged one), 403 for another creator's (admins may edit any).
   * Memberships are edited on their own page.
   */
  async findEditable(actor: User, id: unknown, { kinds = ['purchase', 'pass'] as string[] } = {}) {
    const offer = isUuid(id) ? await Offer.query().where('id', id).preload('videos', (q) => q.orderBy('offer_videos.position')).first() : null
    if (!offer || !kinds.includes(offer.kind) || (offer.kind === 'purchase' && offer.scope !== 'bundle')) {
      throw new Exception('There is no such offer', { status: 404, code: 'E_OFFER_NOT_FOUND' })
    }
    if (offer.creatorId !== actor.id && !actor.isAdmin) {
      throw new Exception('This offer is another creator’s', { status: 403, code: 'E_OFFER_FORBIDDEN' })
    }
    return offer
  }

  /** The creator's bundles and passes (live first), for the Studio's Offers page. */
  async bundlesAndPassesOf(creator: User) {
    return Offer.query()
      .where('creatorId', creator.id)
      .where((q) => q.where((r) => r.where('kind', 'purchase').where('scope', 'bundle')).orWhere('kind', 'pass'))
      .preload('videos', (q) => q.orderBy('offer_videos.position'))
      .orderBy('active', 'desc')
      .orderBy('createdAt', 'desc')
  }

  /** The creator's live rentals by video id, for the Studio's list. */
  async rentalsOf(creator: User) {
    const rows = await Offer.query().where({ creatorId: creator.id, kind: 'rental', active: true })
    return new Map(rows.map((offer) => [offer.videoId!, offer]))
  }

  /** How many paid orders each offer has, for the Studio's list. */
  async salesOf(offerIds: string[]) {
    if (!offerIds.length) return new Map<string, number>()
    const rows = await db.from('orders').whereIn('offer_id', offerIds).whereIn('status', ['paid', 'disputed', 'refunded']).groupBy('offer_id').select('offer_id').count('* as n')
    return new Map(rows.map((row) => [row.offer_id as string, Number(row.n)]))
  }

  #checkPrice(priceMinor: number) {
    if (!Number.isSafeInteger(priceMinor) || priceMinor <= 0) throw new CommerceError('invalid_price', 422, 'The price must be above zero')
  }

  #checkRental(input: RentalInput) {
    this.#checkPrice(input.priceMinor)
    if (!Number.isInteger(input.hours) || input.hours < RENTAL_HOURS.min || input.hours > RENTAL_HOURS.max) {
      throw new CommerceError('invalid_rental', 422, `A rental lasts ${RENTAL_HOURS.min} to ${RENTAL_HOURS.max} hours`)
    }
    if (!Number.isInteger(input.startWindowDays) || input.startWindowDays < START_WINDOW_DAYS.min || input.startWindowDays > START_WINDOW_DAYS.max) {
      throw new CommerceError('invalid_rental', 422, `A rental starts within ${START_WINDOW_DAYS.min} to ${START_WINDOW_DAYS.max} days`)
    }
  }

  #checkPass(input: PassInput) {
    this.#checkPrice(input.priceMinor)
    if (!Number.isInteger(input.days) || input.days < PASS_DAYS.min || input.days > PASS_DAYS.max) {
      throw new CommerceError('invalid_pass', 422, `A pass lasts ${PASS_DAYS.min} to ${PASS_DAYS.max} days`)
    }
  }

  /** The ids, in the order given, if every one is `creator`'s video; else refused. */
  async #ownVideos(creator: User, ids: string[]) {
    const unique = [...new Set(ids)]
    if (!unique.length) throw new CommerceError('empty_bundle', 422, 'Choose at least one of your videos')
    if (unique.length > BUNDLE_MAX_VIDEOS) throw new CommerceError('bundle_too_large', 422, `A bundle holds at most ${BUNDLE_MAX_VIDEOS} videos`)
    if (!unique.every(isUuid)) throw new CommerceError('not_your_video', 422, 'A bundle holds only your own videos')
    const owned = await Video.query().whereIn('id', unique).where('ownerId', creator.id).select('id')
    if (owned.length !== unique.length) throw new CommerceError('not_your_video', 422, 'A bundle holds only your own videos')
    return unique
  }

  async #videosOf(trx: TransactionClientContract, offer: Offer) {
    const rows = await trx.from('offer_videos').where('offer_id', offer.id).orderBy('position').select('video_id')
    return rows.map((row) => row.video_id as string)
  }

  async #setVideos(trx: TransactionClientContract, offer: Offer, videoIds: string[]) {
    await trx.from('offer_videos').where('offer_id', offer.id).delete()
    if (videoIds.length) {
      await trx.table('offer_videos').multiInsert(videoIds.map((videoId, position) => ({ offer_id: offer.id, video_id: videoId, position })))
    }
  }

  async #audit(trx: TransactionClientContract, actor: User, offer: Offer, action: string, before: object | null, after: object | null, summary: string) {
    await audit.record(
      { actor, action, subjectType: 'offer', subjectId: offer.id, targetUserId: offer.creatorId, before: before as any, after: after as any, summary },
      trx
    )
  }
}

const offerEditor = new OfferEditor()
export default offerEditor
