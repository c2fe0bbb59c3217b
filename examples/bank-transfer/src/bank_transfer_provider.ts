import {
  escapeHtml,
  PaymentProviderError,
  WebhookVerificationError,
  type BuyButtonInput,
  type CheckoutOrder,
  type CheckoutResult,
  type ClientCheckoutInput,
  type PaymentProvider,
  type PluginHealth,
  type VerifiedPaymentEvent,
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

  async handleWebhook(): Promise<VerifiedPaymentEvent[]> {
    throw new WebhookVerificationError('Bank transfers take no webhooks: an admin confirms each payment')
  }

  async health(): Promise<PluginHealth> {
    const missing = missingBankDetails(await this.bankDetails.get())
    if (missing.length) {
      return { ok: false, message: `Checkout refused until the bank details are set: ${missing.join(', ')} missing (Settings).` }
    }
    const awaiting = (await this.transfers.awaiting()).length
    return { ok: true, message: `On: ${awaiting} transfer${awaiting === 1 ? '' : 's'} awaiting payment` }
  }

  renderBuyButton(input: BuyButtonInput) {
    return `<form method="POST" action="${escapeHtml(input.action)}" class="buy-form buy-bank-transfer">${input.hiddenFields}
  <button type="submit" class="button">Pay ${escapeHtml(input.priceText)} by bank transfer</button>
  <span class="hint">You get our bank details and a reference; the video unlocks once the transfer has arrived (usually 1–3 business days).</span>
</form>`
  }

  renderCheckout(input: ClientCheckoutInput) {
    const { reference, bank } = input.action as unknown as TransferInstructions
    const row = (label: string, value: string, attribute: string) =>
      `<dt>${label}</dt><dd><code ${attribute}>${escapeHtml(value)}</code></dd>`
    return `<div class="bank-transfer" data-bank-transfer data-reference="${escapeHtml(reference)}">
  <h2>Pay by bank transfer</h2>
  <p>Transfer exactly <strong data-amount>${escapeHtml(input.priceText)}</strong> to:</p>
  <dl>
    ${row('Account holder', bank.accountHolder, 'data-account-holder')}
    ${row('IBAN', groupedInFours(bank.iban), 'data-iban')}
    ${row('BIC', bank.bic, 'data-bic')}
    <dt>Bank</dt><dd>${escapeHtml(bank.bankName)}</dd>
    ${row('Reference', groupedInFours(reference), 'data-payment-reference')}
  </dl>
  <p class="alert notice">Write the reference <strong>${escapeHtml(groupedInFours(reference))}</strong> in your transfer's reference field exactly as shown: it is how we find your order.</p>
  ${bank.instructions ? `<p class="hint" data-instructions>${escapeHtml(bank.instructions)}</p>` : ''}
  <p>The video unlocks as soon as we have received the transfer and checked it, usually within 1–3 business days. This page updates by itself.</p>
</div>`
  }
}
