import vine, { errors } from '@vinejs/vine'
import type { DeliveryResult, PluginApi } from '@matinee/plugin-kit'
import type { BankTransferProvider } from './bank_transfer_provider.js'
import { decimalOf, formatMoney, parseDecimal } from './money.js'
import { groupedInFours } from './reference.js'
import { TransferRefusedError, type Transfer } from './transfers.js'

export const ADMIN_PAGE = '/plugins/bank-transfer/transfers'

/** Admin → Bank transfers (views/transfers.edge, inside the site's layout). */
const TRANSFERS_VIEW = 'bank-transfer::transfers'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const markPaidValidator = vine.create(
  vine.object({
    amount_received: vine.string().trim().maxLength(20),
  })
)

const when = (iso: string) => iso.slice(0, 16).replace('T', ' ')

function row(transfer: Transfer) {
  return {
    ...transfer,
    referenceText: groupedInFours(transfer.reference),
    dueText: formatMoney(transfer.amount),
    startedText: when(transfer.startedAt),
    expiresText: when(transfer.expiresAt),
    expired: new Date(transfer.expiresAt).getTime() < Date.now(),
  }
}

/**
 * Admin → Bank transfers (/plugins/bank-transfer/transfers): the transfers
 * awaiting payment, and "Mark paid" once the money is on the account.
 */
export function registerAdminRoutes(api: PluginApi<any>, provider: BankTransferProvider) {
  const transfers = provider.transfers

  api.router.get(
    '/transfers',
    async ({ view }) => view.render(TRANSFERS_VIEW, { transfers: (await transfers.awaiting()).map(row) }),
    { roles: ['admin'] }
  )

  api.router.post(
    '/transfers/:orderId/mark-paid',
    async ({ params, request, response, session, auth }) => {
      const admin = auth.getUserOrFail()
      const orderId = String(params.orderId)
      const transfer = UUID.test(orderId) ? await transfers.find(orderId) : null
      if (!transfer) return response.notFound('There is no bank transfer for this order')
      const back = () => response.redirect().toPath(ADMIN_PAGE)

      let typed: string
      try {
        typed = (await markPaidValidator.validate(request.body())).amount_received
      } catch (error) {
        if (!(error instanceof errors.E_VALIDATION_ERROR)) throw error
        session.flash('error', `${groupedInFours(transfer.reference)}: enter the amount that arrived, e.g. ${decimalOf(transfer.amount)}`)
        return back()
      }
      const amount = parseDecimal(typed, transfer.amount.currency)
      if (amount === null) {
        session.flash('error', `${groupedInFours(transfer.reference)}: "${typed}" is not an amount in ${transfer.amount.currency} (e.g. ${decimalOf(transfer.amount)})`)
        return back()
      }
      const received = { amount, currency: transfer.amount.currency }

      let event
      try {
        event = await transfers.confirmation(orderId, received)
      } catch (error) {
        if (!(error instanceof TransferRefusedError)) throw error
        session.flash('error', error.message)
        return back()
      }
      let result: DeliveryResult
      try {
        result = (await api.payments.deliver(provider.id, [event]))[0]
      } catch (error) {
        // Not recorded, so nothing changed: the same confirmation can be made again later.
        api.logger.error({ err: error, orderId }, 'a bank transfer confirmation could not be recorded')
        session.flash('error', `${groupedInFours(transfer.reference)} could not be marked paid: ${(error as Error).message}. Nothing changed.`)
        return back()
      }
      if (result.outcome === 'rejected' || result.outcome === 'deferred') {
        session.flash('error', `${groupedInFours(transfer.reference)} was not marked paid: ${result.detail ?? result.outcome}`)
        return back()
      }
      await transfers.markPaid(orderId, { at: new Date().toISOString(), by: admin.username, received })
      if (result.outcome !== 'applied') {
        // Marked before (another click, another admin) or paid another way: nothing changed.
        session.flash('success', `${groupedInFours(transfer.reference)} was already paid; nothing changed.`)
        return back()
      }
      await api.audit.record({
        actor: admin,
        action: 'mark_paid',
        subjectType: 'order',
        subjectId: orderId,
        targetUserId: transfer.buyer.id,
        before: { transfer: 'awaiting' },
        after: { transfer: 'paid', reference: transfer.reference, received: decimalOf(received), currency: received.currency },
        summary: `${admin.username} confirmed bank transfer ${transfer.reference} (${formatMoney(received)} from ${transfer.buyer.username}): order paid`,
      })
      session.flash('success', `${groupedInFours(transfer.reference)} marked paid: ${transfer.buyer.username} can now watch “${transfer.videoTitle}”.`)
      return back()
    },
    { roles: ['admin'] }
  )
}
