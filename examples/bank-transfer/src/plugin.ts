import vine from '@vinejs/vine'
import { definePlugin } from '@matinee/plugin-kit'
import { bankDetailsFields, bankDetailsSchema, DEMO_BANK_DETAILS } from './bank_details.js'
import { BankTransferProvider } from './bank_transfer_provider.js'
import { ADMIN_PAGE, registerAdminRoutes } from './admin_routes.js'
import { TransferBook } from './transfers.js'

/**
 * Manual bank transfers: the buyer gets the platform's bank details, the
 * exact amount and a payment reference; an admin who sees the money arrive
 * marks the order paid. Uses only the public plugin API.
 */
export default definePlugin({
  name: 'bank-transfer',
  version: '1.0.0',
  description: 'Manual bank transfers: buyers get the bank details and a reference, an admin marks the order paid',
  options: vine.object({
    /** Currencies the account takes (ISO 4217); default EUR. */
    currencies: vine.array(vine.string().trim().fixedLength(3).toUpperCase()).minLength(1).distinct().optional(),
    /** How long an order waits for its transfer before the core expires it (a later confirmation still pays it). */
    daysToPay: vine.number().withoutDecimals().min(1).max(60).optional(),
  }),
  register(api) {
    const settings = api.settings.define(bankDetailsSchema, {}, bankDetailsFields)
    const transfers = new TransferBook(api.state, 'bank-transfer')
    const provider = new BankTransferProvider(api.options.currencies ?? ['EUR'], api.options.daysToPay ?? 7, settings, transfers)
    api.views.mount(new URL('../views/', import.meta.url))
    api.payments.register(provider)
    api.health(() => provider.health())
    registerAdminRoutes(api, provider)
    api.hooks.addFilter('admin:nav', (items) => [...items, { label: 'Bank transfers', href: ADMIN_PAGE }])
    // make dev: sample details so bank transfers can be tried at once; never over what an admin entered.
    api.hooks.onAction('demo:seeded', async () => {
      const current = await settings.get()
      if (Object.values(current).some(Boolean)) return
      await settings.set(DEMO_BANK_DETAILS)
      api.logger.info('bank-transfer: sample bank details set for the demo')
    })
  },
})
