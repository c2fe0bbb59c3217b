import Stripe from 'stripe'
import { paymentProviderContract } from '@matinee/plugin-kit/testing'
import type { RawWebhookRequest } from '@matinee/plugin-kit'
import env from '#start/env'
import plugins from '#services/plugins'
import { startStripe } from '#tests/helpers/commerce'
import type { StripeEvent } from '#tests/helpers/stripe_stand_in'

/** An event as Stripe POSTs it: pretty-printed JSON, signed over those exact bytes. */
function stripeNotification(event: StripeEvent, secret: string): RawWebhookRequest {
  const payload = JSON.stringify(event, null, 2)
  return {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
    },
    rawBody: Buffer.from(payload, 'utf8'),
  }
}

/*
| The Stripe plugin's provider as the app registered it (.env.test keys,
| STRIPE_API_BASE pointing at the stand-in), against the contract.
*/
paymentProviderContract('stripe (the app’s provider, Stripe stand-in)', async () => {
  const stripe = await startStripe()
  // The suite hands notifications to the provider itself: the stand-in sends none to the app.
  stripe.webhookUrl = undefined
  return {
    provider: plugins.payments.getOrFail('stripe'),
    price: { amount: 1250, currency: 'USD' },
    notifications: {
      kind: 'webhook',
      async paid({ result }) {
        // Paid at the stand-in first: handling the event looks up the payment's fee there.
        const event = await stripe.pay(result.providerReference)
        return stripeNotification(event, env.get('STRIPE_WEBHOOK_SECRET')!)
      },
      async forged({ result }) {
        const session = stripe.checkoutSession(result.providerReference)!
        const event = stripe.event('checkout.session.completed', { ...session, status: 'complete', payment_status: 'paid' })
        return stripeNotification(event, 'whsec_not_the_apps_secret')
      },
    },
    cleanup: () => stripe.stop(),
  }
})
