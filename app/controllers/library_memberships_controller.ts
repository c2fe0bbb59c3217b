import type { HttpContext } from '@adonisjs/core/http'
import memberships from '#services/commerce/memberships'
import { formatMoney } from '#services/money'

/** Library → Memberships: what the viewer is a member of, until when, and cancelling. */
export default class LibraryMembershipsController {
  /** GET /library/memberships */
  async index({ view, auth, request }: HttpContext) {
    const user = auth.getUserOrFail()
    const rows = await memberships.ofViewer(user.id)
    const joined = Number(request.input('joined'))
    return view.render('pages/library/memberships', {
      memberships: rows.map((subscription) => ({
        subscription,
        priceText: formatMoney(subscription.priceMinor, subscription.currency),
        accessEndsAt: memberships.accessEndsAt(subscription),
      })),
      // Back from the provider's checkout: its first invoice may still be on its way.
      waiting: Number.isSafeInteger(joined) && joined > 0 && !rows.some((row) => row.id === joined),
      graceDays: memberships.graceDays,
    })
  }

  /** POST /library/memberships/:id/cancel: no more renewals; access to the end of the paid period. */
  async cancel({ params, response, session, auth }: HttpContext) {
    const subscription = await memberships.cancel(auth.getUserOrFail(), params.id)
    const until = subscription.paidThrough ? subscription.paidThrough.toUTC().toFormat('d LLL yyyy, HH:mm') + ' UTC' : 'the end of the paid period'
    session.flash('success', `Membership cancelled: nothing more is charged, and you keep access until ${until}.`)
    return response.redirect('/library/memberships')
  }
}
