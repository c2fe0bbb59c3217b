import type { ClientCheckoutInput, PluginView } from '@matinee/plugin-kit'

/** The plugin's view of the wallet panel (views/checkout_panel.edge). */
export const CHECKOUT_PANEL_VIEW = 'x402::checkout_panel'

/** The wallet panel on a pending order's page: the view and its data (the core renders it escaped). */
export function checkoutPanel(input: ClientCheckoutInput): PluginView {
  const action = input.action as {
    options?: Array<{ token: string; display: string; permit: boolean }>
    confirmations?: number
    deadline?: number
  }
  const validUntil = new Date(Math.min((action.deadline ?? Infinity) * 1000, input.expiresAt.getTime()))
  return {
    view: CHECKOUT_PANEL_VIEW,
    data: {
      orderId: input.orderId,
      actionJson: JSON.stringify(input.action),
      statusUrl: input.statusUrl,
      csrfToken: input.csrfToken,
      expiresAt: input.expiresAt.toISOString(),
      priceText: input.priceText,
      options: (action.options ?? []).map(({ token, display }) => ({ token, display })),
      confirmations: action.confirmations ?? 1,
      validUntil: validUntil.toISOString().slice(11, 16),
    },
  }
}
