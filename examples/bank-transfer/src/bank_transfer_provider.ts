import {
  PaymentProviderError,
  type BuyButtonInput,
  type CheckoutOrder,
  type CheckoutResult,
  type ClientCheckoutInput,
  type PaymentProvider,
  type PluginHealth,
  type PluginView,
} from '@matinee/plugin-kit'
import { completeBankDetails, missingBankDetails, type BankDetails, type BankDetailsSettings } from './bank_details.js'
import { groupedInFours } from './reference.js'
import type { TransferBook } from './transfers.js'

/** What the order page gets back from the order row (`createCheckout`'s action). */
export interface TransferInstructions {
  reference: string
  bank: BankDetails
}

/**
 * Manual bank transfers: the checkout tells the buyer where to send the
 * money and with which reference; an admin who sees it arrive marks the
 * order paid (see routes.ts), which hands the core a `payment.succeeded`
 * through `api.payments.deliver`. Nothing arrives by webhook.
 */
export class BankTransferProvider implements PaymentProvider {
  readonly id = 'bank-transfer'
  readonly label = 'Bank transfer'
  readonly checkoutLifetimeMinutes: number

  constructor(
    readonly currencies: readonly string[],
    daysToPay: number,
    private bankDetails: BankDetailsSettings,
    readonly transfers: TransferBook
  ) {
    this.checkoutLifetimeMinutes = daysToPay * 24 * 60
  }

  async createCheckout(order: CheckoutOrder): Promise<CheckoutResult> {
    const bank = completeBankDetails(await this.bankDetails.get())
    if (!bank) {
      throw new PaymentProviderError('bank transfers are not set up yet (the platform has not entered its bank details). Please choose another payment method.')
    }
    const transfer = await this.transfers.open(order, bank)
    const action: TransferInstructions = { reference: transfer.reference, bank: transfer.bank }
    return { kind: 'client_action', action: { ...action }, providerReference: transfer.reference }
  }

  async health(): Promise<PluginHealth> {
    const missing = missingBankDetails(await this.bankDetails.get())
    if (missing.length) {
      return { ok: false, message: `Checkout refused until the bank details are set: ${missing.join(', ')} missing (Settings).` }
    }
    const awaiting = (await this.transfers.awaiting()).length
    return { ok: true, message: `On: ${awaiting} transfer${awaiting === 1 ? '' : 's'} awaiting payment` }
  }

  /** views/buy_button.edge, given the form's target, fields and price. */
  renderBuyButton(input: BuyButtonInput): PluginView {
    return { view: 'bank-transfer::buy_button', data: { ...input } }
  }

  /** views/checkout.edge: the bank details and the reference to write on the transfer. */
  renderCheckout(input: ClientCheckoutInput): PluginView {
    const { reference, bank } = input.action as unknown as TransferInstructions
    return {
      view: 'bank-transfer::checkout',
      data: { reference, referenceText: groupedInFours(reference), bank, iban: groupedInFours(bank.iban), priceText: input.priceText },
    }
  }
}
