/*
| The tests' Stripe stand-in (tests/helpers/stripe_stand_in.ts) as a
| process, for trying cards and memberships in development without a Stripe
| account: `make dev` starts it when .env points STRIPE_API_BASE at
| 127.0.0.1. It speaks Stripe's API on that port with .env's
| STRIPE_SECRET_KEY, signs webhooks with STRIPE_WEBHOOK_SECRET and sends them
| to APP_URL/webhooks/stripe. Customers who subscribe live on a test clock;
| http://127.0.0.1:<port>/test_clocks advances it (a month: the membership
| renews) or makes renewals decline.
|   node --import @poppinss/ts-exec scripts/stripe-stand-in.ts
*/
import { readFileSync } from 'node:fs'
import { StripeStandIn } from '../tests/helpers/stripe_stand_in.js'

/** .env's values (KEY=value lines), under the process's own environment. */
function readEnv(): Record<string, string | undefined> {
  const values: Record<string, string> = {}
  try {
    for (const line of readFileSync(new URL('../.env', import.meta.url), 'utf8').split('\n')) {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim())
      if (match) values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2')
    }
  } catch {
    // No .env: the environment alone.
  }
  return { ...values, ...process.env }
}

const env = readEnv()
const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : null
if (!base || !['127.0.0.1', 'localhost'].includes(base.hostname) || !env.STRIPE_SECRET_KEY || !env.STRIPE_WEBHOOK_SECRET) {
  console.error('[stripe] the stand-in needs STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE=http://127.0.0.1:<port> in .env')
  process.exit(2)
}
const appUrl = env.APP_URL || `http://${env.HOST || '127.0.0.1'}:${env.PORT || '3333'}`
const standIn = new StripeStandIn({
  secretKey: env.STRIPE_SECRET_KEY,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET,
  webhookUrl: `${appUrl}/webhooks/stripe`,
  port: Number(base.port || 80),
})
const address = await standIn.start()
standIn.clockForNewCustomers = standIn.createTestClock(Math.floor(Date.now() / 1000), 'Development clock').id
console.error(`[stripe] stand-in on ${address.url} (webhooks to ${appUrl}/webhooks/stripe); test clocks: ${address.url}/test_clocks`)

const stop = async () => {
  await standIn.stop()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
