import vine, { SimpleMessagesProvider } from '@vinejs/vine'
import currencies from '#services/currency_service'
import { reportPriceProblems } from '#validators/video'

/** A membership's monthly price: decimal text in the form's currency, above zero, under PRICE_CAP. */
const monthlyPriceRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string') return
  const currency = typeof field.parent.currency === 'string' ? field.parent.currency : 'USD'
  const minor = reportPriceProblems(value, currency, field)
  if (minor === 0) field.report('A membership costs something: enter a monthly price above zero', 'price.zero', field)
})

/** Studio → Membership: the monthly price, its currency, an optional title and description. */
export const membershipValidator = vine.create({
  currency: vine.enum(currencies.supported()),
  price: vine.string().trim().maxLength(20).use(monthlyPriceRule()),
  title: vine.string().trim().maxLength(120).optional(),
  description: vine.string().trim().maxLength(500).optional(),
})
membershipValidator.messagesProvider = new SimpleMessagesProvider({
  'price.required': 'Enter the monthly price',
  'currency.required': 'Choose a currency',
  'enum': 'Choose one of the options',
  'title.maxLength': 'The title must be at most {{ max }} characters long',
  'description.maxLength': 'The description must be at most {{ max }} characters long',
})

/** Subscribing: which payment method (the membership is in the URL; its price is the server's). */
export const subscribeValidator = vine.create({
  provider: vine.string().trim().maxLength(64),
})
