import { PaymentProviderError, type CheckoutOrder, type Money, type PluginState, type VerifiedPaymentEvent } from '@matinee/plugin-kit'
import type { BankDetails } from './bank_details.js'
import { formatMoney } from './money.js'
import { paymentReferenceFor } from './reference.js'

/** One order paid (or to be paid) by bank transfer, as the plugin keeps it in `api.state`. */
export interface Transfer {
  orderId: string
  /** The ISO 11649 reference the buyer writes on the transfer. */
  reference: string
  /** What the buyer must send: the order's price, in minor units. */
  amount: Money
  videoTitle: string
  buyer: { id: number; username: string; email: string }
  /** The account the buyer was told to pay into. */
  bank: BankDetails
  startedAt: string
  /** When the core expires the order if nobody confirmed it (a later confirmation still pays it). */
  expiresAt: string
  /** Set once an admin confirmed the money arrived. */
  paid?: { at: string; by: string; received: Money }
}

/** A confirmation the plugin refuses (nothing is delivered to the core). */
export class TransferRefusedError extends Error {}

/*
| Keys in api.state: "awaiting:<orderId>" while unpaid, "paid:<orderId>"
| after, so the admin's list reads only the open ones; "reference:<ref>"
| finds an order from what a bank statement shows.
*/
const awaitingKey = (orderId: string) => `awaiting:${orderId}`
const paidKey = (orderId: string) => `paid:${orderId}`
const referenceKey = (reference: string) => `reference:${reference}`

/** The plugin's book of bank transfers: what each buyer owes and what admins confirmed. */
export class TransferBook {
  constructor(
    private state: PluginState,
    readonly providerId: string
  ) {}

  /**
   * Records the transfer a checkout asks for (or returns the one already
   * recorded: a retried checkout of the order gives the same reference).
   */
  async open(order: CheckoutOrder, bank: BankDetails): Promise<Transfer> {
    const existing = await this.find(order.orderId)
    if (existing) return existing
    const reference = paymentReferenceFor(order.orderId)
    const holder = await this.state.get<string>(referenceKey(reference))
    if (holder && holder !== order.orderId) {
      // 48 random bits make this all but impossible; two orders must never share a reference.
      throw new PaymentProviderError('a payment reference could not be made for this order; please start the checkout again')
    }
    const transfer: Transfer = {
      orderId: order.orderId,
      reference,
      amount: { ...order.price },
      videoTitle: order.videoTitle,
      buyer: { ...order.buyer },
      bank,
      startedAt: new Date().toISOString(),
      expiresAt: order.expiresAt.toISOString(),
    }
    await this.state.set(referenceKey(reference), order.orderId)
    await this.state.set(awaitingKey(order.orderId), transfer)
    return transfer
  }

  async find(orderId: string): Promise<Transfer | null> {
    return (await this.state.get<Transfer>(awaitingKey(orderId))) ?? (await this.state.get<Transfer>(paidKey(orderId)))
  }

  async findByReference(reference: string): Promise<Transfer | null> {
    const orderId = await this.state.get<string>(referenceKey(reference.replace(/\s+/g, '').toUpperCase()))
    return orderId ? this.find(orderId) : null
  }

  /** Transfers nobody has confirmed yet, oldest first. */
  async awaiting(): Promise<Transfer[]> {
    const records = await this.state.list<Transfer>('awaiting:')
    return records.map((record) => record.value).sort((a, b) => a.startedAt.localeCompare(b.startedAt))
  }

  /**
   * The event that tells the core the order is paid, once an admin saw
   * `received` arrive. Its id is the order's own, so confirming twice (two
   * clicks, two admins) is one payment. Refuses an amount or currency other
   * than the one due: the core would refuse it too, and the admin should
   * settle the difference with the buyer instead.
   */
  async confirmation(orderId: string, received: Money): Promise<VerifiedPaymentEvent> {
    const transfer = await this.find(orderId)
    if (!transfer) throw new TransferRefusedError('There is no bank transfer for this order')
    if (received.currency !== transfer.amount.currency || received.amount !== transfer.amount.amount) {
      throw new TransferRefusedError(
        `${transfer.reference}: ${formatMoney(received)} received is not the ${formatMoney(transfer.amount)} due. ` +
          'Nothing was marked paid: settle the difference with the buyer first.'
      )
    }
    return {
      eventId: `${this.providerId}:${orderId}:paid`,
      type: 'payment.succeeded',
      orderId,
      providerReference: transfer.reference,
      paymentReference: transfer.reference,
      amount: { ...transfer.amount },
      details: { reference: transfer.reference },
    }
  }

  /** Moves a transfer from the awaiting list to the paid ones. */
  async markPaid(orderId: string, paid: NonNullable<Transfer['paid']>) {
    const transfer = await this.state.get<Transfer>(awaitingKey(orderId))
    if (!transfer) return
    await this.state.set(paidKey(orderId), { ...transfer, paid })
    await this.state.delete(awaitingKey(orderId))
  }
}
