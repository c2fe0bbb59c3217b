import type Stripe from 'stripe'
import type { PluginApi } from '@matinee/plugin-kit'

const PAGE = `@component('components/layout', { title: 'Card payouts' })
  <section class="narrow">
    <h1>Card payouts (Stripe Connect)</h1>
    @if(account && account.ready)
      <p class="alert success" data-connect="ready">Your Stripe account <code>{{ account.accountRef }}</code> receives card sales directly. The platform's fee is taken as an application fee.</p>
    @else
      <p>Without a connected account, the platform collects card payments and your sales page shows what you are owed.</p>
      @if(account)
        <p class="alert notice" data-connect="pending">Your Stripe account <code>{{ account.accountRef }}</code> is not ready to take payments yet. Finish onboarding:</p>
      @end
      <form method="POST" action="/plugins/stripe/connect">
        {{ csrfField() }}
        <button type="submit" class="button">{{ account ? 'Continue onboarding at Stripe' : 'Connect a Stripe account' }}</button>
      </form>
    @end
    <p><a href="/studio/sales">Back to sales</a></p>
  </section>
@end`

/**
 * Stripe Connect onboarding for creators: an Express account, Stripe's
 * hosted onboarding, then the account's readiness stored through the
 * kernel's payout accounts (the core then makes destination charges).
 */
export function registerConnectRoutes(api: PluginApi<any>, stripe: Stripe, providerId: string) {
  const accounts = api.payments.payoutAccounts
  const baseUrl = (request: { protocol(): string; host(): string | null }) => `${request.protocol()}://${request.host()}`

  api.router.get(
    '/connect',
    async ({ view, auth }) => {
      const user = auth.getUserOrFail()
      let account = await accounts.get(providerId, user.id)
      if (account && !account.ready) account = await refresh(user.id, account.accountRef)
      return view.renderRaw(PAGE, { account })
    },
    { roles: ['creator'] }
  )

  api.router.post(
    '/connect',
    async ({ request, response, auth, session }) => {
      const user = auth.getUserOrFail()
      try {
        let account = await accounts.get(providerId, user.id)
        if (!account) {
          const created = await stripe.accounts.create(
            { type: 'express', email: user.email, metadata: { userId: String(user.id) } },
            { idempotencyKey: `matinee-connect-${user.id}` }
          )
          account = { accountRef: created.id, ready: !!created.charges_enabled }
          await accounts.set(providerId, user.id, account)
        }
        const link = await stripe.accountLinks.create({
          account: account.accountRef,
          type: 'account_onboarding',
          refresh_url: `${baseUrl(request)}/plugins/stripe/connect`,
          return_url: `${baseUrl(request)}/plugins/stripe/connect/return`,
        })
        return response.redirect(link.url)
      } catch (error) {
        api.logger.error({ err: error, userId: user.id }, 'Stripe Connect onboarding failed')
        session.flash('error', `Stripe could not start onboarding: ${(error as Error).message}`)
        return response.redirect('/plugins/stripe/connect')
      }
    },
    { roles: ['creator'] }
  )

  api.router.get(
    '/connect/return',
    async ({ response, auth, session }) => {
      const user = auth.getUserOrFail()
      const account = await accounts.get(providerId, user.id)
      if (account) {
        const current = await refresh(user.id, account.accountRef)
        session.flash(current.ready ? 'success' : 'error', current.ready ? 'Your Stripe account is connected.' : 'Stripe has not finished checking your account yet.')
      }
      return response.redirect('/plugins/stripe/connect')
    },
    { roles: ['creator'] }
  )

  async function refresh(userId: number, accountRef: string) {
    try {
      const remote = await stripe.accounts.retrieve(accountRef)
      const account = { accountRef, ready: !!remote.charges_enabled }
      await accounts.set(providerId, userId, account)
      return account
    } catch (error) {
      api.logger.warn({ err: error, accountRef }, 'could not refresh a Stripe account')
      return { accountRef, ready: false }
    }
  }
}
