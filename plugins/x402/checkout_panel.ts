import { escapeHtml, type ClientCheckoutInput } from '@matinee/plugin-kit'

/**
 * The wallet panel on a pending order's page. Everything the script needs is
 * in data attributes; public/checkout.js does the wallet work (EIP-6963
 * discovery, chain switch, approve or permit, pay, live confirmations).
 */
export function renderCheckoutPanel(input: ClientCheckoutInput) {
  const action = input.action as {
    options?: Array<{ token: string; display: string; permit: boolean }>
    confirmations?: number
    deadline?: number
  }
  const validUntil = new Date(Math.min((action.deadline ?? Infinity) * 1000, input.expiresAt.getTime()))
  const options = (action.options ?? [])
    .map((option, index) => `<option value="${escapeHtml(option.token)}"${index === 0 ? ' selected' : ''}>${escapeHtml(option.display)}</option>`)
    .join('')
  return `<div class="x402-checkout" data-x402-checkout
  data-order="${escapeHtml(input.orderId)}"
  data-action="${escapeHtml(JSON.stringify(input.action))}"
  data-quote-url="/plugins/x402/orders/${escapeHtml(input.orderId)}/quote"
  data-progress-url="/plugins/x402/orders/${escapeHtml(input.orderId)}/progress"
  data-status-url="${escapeHtml(input.statusUrl)}"
  data-csrf="${escapeHtml(input.csrfToken)}"
  data-expires-at="${escapeHtml(input.expiresAt.toISOString())}">
  <p>Pay <strong>${escapeHtml(input.priceText)}</strong> from your wallet. One transaction pays the creator and the platform.</p>
  <div data-x402-wallets><p class="muted">Looking for wallets in this browser…</p></div>
  <label>Pay with <select data-x402-token>${options}</select></label>
  <p><button type="button" class="button" data-x402-pay disabled>Connect a wallet first</button></p>
  <p role="status" aria-live="polite" data-x402-status></p>
  <p class="muted">Confirmed after ${escapeHtml(String(action.confirmations ?? 1))} blocks. This quote is valid until ${escapeHtml(validUntil.toISOString().slice(11, 16))} UTC.</p>
</div>
<script type="module" src="/plugins/x402/checkout.js"></script>`
}
