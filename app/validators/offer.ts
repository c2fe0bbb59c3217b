import vine, { SimpleMessagesProvider } from '@vinejs/vine'
import db from '@adonisjs/lucid/services/db'
import currencies from '#services/currency_service'
import { isUuid } from '#services/ids'
import { reportPriceProblems } from '#validators/video'

/**
 * What a creator types to sell a video or their work in other ways than a
 * video's buy price (issue 17): a rental beside it, a bundle, a pass. Prices
 * are decimal text and follow the buy price's rules (PRICE_CAP, the
 * currency's decimals) and must be above zero: an offer that costs nothing
 * is no offer (a free video is made free by its own price).
 */

/** Limits people read in the errors; the service trusts them. */
export const RENTAL_HOURS = { min: 1, max: 720 } as const
export const START_WINDOW_DAYS = { min: 1, max: 90 } as const
export const PASS_DAYS = { min: 1, max: 366 } as const
export const BUNDLE_MAX_VIDEOS = 200

/**
 * An offer's price in the currency given by the metadata (a rental is in
 * its video's currency) or by the form's `currency` field.
 */
const offerPriceRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string') return
  const fromMeta = typeof field.meta?.currency === 'string' ? field.meta.currency : null
  const currency = fromMeta ?? (typeof field.parent.currency === 'string' ? field.parent.currency : 'USD')
  const minor = reportPriceProblems(value, currency, field)
  if (minor === 0) field.report('The price must be above zero', 'price.zero', field)
})

/**
 * The videos of a bundle or a pass: each must be the creator's own (the
 * creator is `meta.creatorId`: the offer's, not whoever edits it). Ids that
 * are not theirs (another creator's, deleted, forged) are refused together.
 */
const ownVideosRule = vine.createRule(
  async (value, _options, field) => {
    if (!Array.isArray(value) || !value.length || !field.isValid) return
    // Ids that are no UUIDs were reported by the element's rule.
    const ids = (value as unknown[]).filter(isUuid)
    if (ids.length !== value.length) return
    const creatorId = Number(field.meta?.creatorId)
    const rows = await db.from('videos').whereIn('id', ids).where('owner_id', creatorId).select('id')
    const found = new Set(rows.map((row) => row.id as string))
    const missing = ids.filter((id) => !found.has(id))
    if (missing.length) {
      field.report(
        missing.length === 1 ? 'One of the chosen videos is not yours: a bundle holds only your own videos' : `${missing.length} of the chosen videos are not yours: a bundle holds only your own videos`,
        'videos.owned',
        field
      )
    }
  },
  { isAsync: true }
)

const videoList = () =>
  vine
    .array(vine.string().trim().uuid())
    .minLength(1)
    .maxLength(BUNDLE_MAX_VIDEOS)
    .distinct()
    .use(ownVideosRule())

const messages = new SimpleMessagesProvider(
  {
    'rental_hours.required': 'Enter how many hours the rental lasts',
    'rental_hours.number': 'The rental lasts a whole number of hours',
    'rental_hours.withoutDecimals': 'The rental lasts a whole number of hours',
    'rental_hours.min': `A rental lasts at least ${RENTAL_HOURS.min} hour`,
    'rental_hours.max': `A rental lasts at most ${RENTAL_HOURS.max} hours (30 days)`,
    'rental_start_days.required': 'Enter within how many days the viewer must start watching',
    'rental_start_days.number': 'The start window is a whole number of days',
    'rental_start_days.withoutDecimals': 'The start window is a whole number of days',
    'rental_start_days.min': `The start window is at least ${START_WINDOW_DAYS.min} day`,
    'rental_start_days.max': `The start window is at most ${START_WINDOW_DAYS.max} days`,
    'rental_price.required': 'Enter the rental’s price',
    'price.required': 'Enter a price',
    'days.required': 'Enter how many days the pass lasts',
    'days.number': 'A pass lasts a whole number of days',
    'days.withoutDecimals': 'A pass lasts a whole number of days',
    'days.min': `A pass lasts at least ${PASS_DAYS.min} day`,
    'days.max': `A pass lasts at most ${PASS_DAYS.max} days`,
    'title.required': 'Give it a title',
    'title.minLength': 'Give it a title',
    'title.maxLength': 'The title must be at most {{ max }} characters long',
    'description.maxLength': 'The description must be at most {{ max }} characters long',
    'currency.required': 'Choose a currency',
    'enum': 'Choose one of the options',
    'videos.required': 'Choose at least one of your videos',
    'videos.array': 'Choose at least one of your videos',
    'videos.array.minLength': 'Choose at least one of your videos',
    'videos.array.maxLength': `A bundle holds at most ${BUNDLE_MAX_VIDEOS} videos`,
    'videos.distinct': 'A video is chosen twice',
    'videos.*.uuid': 'One of the chosen videos does not exist',
    'videos.*.string': 'One of the chosen videos does not exist',
  },
  { rental_hours: 'rental length', rental_start_days: 'start window', rental_price: 'rental price' }
)

function withMessages<T extends { messagesProvider: unknown }>(validator: T) {
  validator.messagesProvider = messages
  return validator
}

/** A video's rental (its currency is the video's: `meta.currency`). */
export const rentalValidator = withMessages(
  vine.withMetaData<{ currency: string }>().create({
    rental_hours: vine.number().withoutDecimals().min(RENTAL_HOURS.min).max(RENTAL_HOURS.max),
    rental_start_days: vine.number().withoutDecimals().min(START_WINDOW_DAYS.min).max(START_WINDOW_DAYS.max),
    rental_price: vine.string().trim().maxLength(20).use(offerPriceRule()),
  })
)

/** A bundle: a title, the creator's own videos (at least one), a price. */
export const bundleValidator = withMessages(
  vine.withMetaData<{ creatorId: number }>().create({
    title: vine.string().trim().minLength(1).maxLength(120),
    description: vine.string().trim().maxLength(500).optional(),
    currency: vine.enum(currencies.supported()),
    price: vine.string().trim().maxLength(20).use(offerPriceRule()),
    videos: videoList(),
  })
)

/**
 * A pass: N days of all the creator's videos (`scope` creator), or of the
 * videos chosen (`scope` bundle, at least one of their own).
 */
export const passValidator = withMessages(
  vine.withMetaData<{ creatorId: number }>().create({
    title: vine.string().trim().maxLength(120).optional(),
    description: vine.string().trim().maxLength(500).optional(),
    currency: vine.enum(currencies.supported()),
    price: vine.string().trim().maxLength(20).use(offerPriceRule()),
    days: vine.number().withoutDecimals().min(PASS_DAYS.min).max(PASS_DAYS.max),
    scope: vine.enum(['creator', 'bundle'] as const),
    videos: videoList().optional().requiredWhen('scope', '=', 'bundle'),
  })
)
