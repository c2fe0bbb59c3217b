import type { HttpContext } from '@adonisjs/core/http'
import logger from '@adonisjs/core/services/logger'
import plugins from '#services/plugins'
import orders from '#services/order_service'
import { WebhookVerificationError } from '#hooks/contracts'

/**
 * POST /webhooks/<provider id>, mounted by the plugin kernel for every
 * payment provider. The provider verifies the request and names its events;
 * the core applies them. Answers: 400 not authentic (nothing recorded),
 * 200 handled (including replays and events recorded as rejected: sending
 * them again would not help), 500 when we could not record them (the
 * provider retries).
 */
export default class PaymentWebhooksController {
  async handle({ request, response }: HttpContext, providerId: string) {
    const provider = plugins.payments.get(providerId)
    if (!provider?.handleWebhook) return response.notFound({ error: 'unknown_provider' })
    // The body parser keeps the raw text; signatures are over its UTF-8 bytes.
    const rawBody = Buffer.from(request.raw() ?? '', 'utf8')
    let events
    try {
      events = await provider.handleWebhook({ headers: request.headers(), rawBody })
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        logger.warn({ provider: providerId, reason: error.message }, 'webhook refused')
        return response.badRequest({ error: 'invalid_webhook', message: error.message })
      }
      throw error
    }
    const results = await orders.receive(providerId, events)
    return response.ok({ received: results.length, results })
  }
}
