import { paymentProviderContract } from '@matinee/plugin-kit/testing'
// The host's test helpers, by relative path: `#tests/...` is the host package's import map.
import { definedSettings, registeredPaymentProvider } from '../../../tests/helpers/plugins.js'
import type { BankTransferProvider } from '../src/bank_transfer_provider.js'
import { BANK_DETAILS } from './bank_details_fixture.js'

/*
| The provider the app registered from config/plugins.ts, against the
| PaymentProvider contract. It takes no webhooks: a payment is confirmed by
| an admin, and `paid` makes the event the "Mark paid" button delivers.
*/
paymentProviderContract('bank-transfer', async () => {
  await definedSettings('bank-transfer').set(BANK_DETAILS)
  const provider = registeredPaymentProvider<BankTransferProvider>('bank-transfer')
  return {
    provider,
    price: { amount: 1250, currency: 'EUR' },
    notifications: {
      kind: 'deliver',
      paid: async ({ order }) => [await provider.transfers.confirmation(order.orderId, order.price)],
    },
  }
})
