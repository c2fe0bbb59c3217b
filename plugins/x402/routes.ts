import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTokenAmount, type PluginApi } from '@matinee/plugin-kit'
import { SPLITTER_ARTIFACT, normalizeAddress } from './chain.js'
import { QuoteError, termsKey, type OrderTerms, type X402PaymentProvider } from './x402_payment_provider.js'
import type { X402Runtime } from './x402_runtime.js'
import { creditsOf } from './credits.js'

const CHECKOUT_SCRIPT = fileURLToPath(new URL('./public/checkout.js', import.meta.url))
const CREDITS_SCRIPT = fileURLToPath(new URL('./public/credits.js', import.meta.url))
/** ethers' browser build (an ES module with named exports), from the installed package: lib.commonjs/ → dist/. */
const ETHERS_BUNDLE = join(dirname(createRequire(import.meta.url).resolve('ethers')), '..', 'dist', 'ethers.min.js')
/** The payout wallet page (views/wallet.edge), inside the site's layout. */
const WALLET_VIEW = 'x402::wallet'
const TX_HASH = /^0x[0-9a-fA-F]{64}$/

/**
 * The plugin's pages and endpoints, under /plugins/x402:
 *   POST /orders/:id/quote      a quote signed for the buyer's wallet and token
 *   GET  /orders/:id/progress   confirmations of the buyer's transaction
 *   GET  /checkout.js           the wallet script of the order page (with /ethers.js, /splitter-abi.json)
 *   GET  /ethers.js             ethers v6 for that script (the package's browser build)
 *   GET  /token-amount.js       the kit's formatTokenAmount for that script
 *   GET|POST /wallet            a creator's payout wallet, and the credits it may withdraw
 *   GET  /credits.js            the withdraw button's script of that page
 */
export function registerRoutes(api: PluginApi<any>, runtime: X402Runtime, provider: X402PaymentProvider) {
  api.router.post(
    '/orders/:id/quote',
    async ({ params, request, response, auth }) => {
      try {
        const signed = await provider.quoteFor({
          orderId: String(params.id),
          buyerId: auth.getUserOrFail().id,
          payer: request.input('payer'),
          token: request.input('token'),
        })
        return response.json(signed)
      } catch (error) {
        if (error instanceof QuoteError) return response.status(error.status).json({ error: error.message })
        throw error
      }
    },
    // Each quote is signed with the server's key and stored: limited per buyer.
    { auth: true, rateLimit: 'crypto_quote' }
  )

  api.router.get(
    '/orders/:id/progress',
    async ({ params, request, response, auth }) => {
      const terms = await api.state.get<OrderTerms>(termsKey(String(params.id)))
      if (!terms || terms.buyerId !== auth.getUserOrFail().id) return response.notFound({ error: 'There is no such order' })
      const tx = String(request.input('tx', ''))
      if (!TX_HASH.test(tx)) return response.unprocessableEntity({ error: 'tx must be a transaction hash' })
      const required = runtime.config.confirmations
      try {
        const receipt = await runtime.provider.getTransactionReceipt(tx)
        if (!receipt) return { state: 'pending', confirmations: 0, required }
        if (receipt.status !== 1) return { state: 'reverted', confirmations: 0, required }
        if (!receipt.to || receipt.to.toLowerCase() !== terms.contract.toLowerCase()) {
          return response.unprocessableEntity({ error: 'This transaction is not a payment to the contract of this order' })
        }
        const head = await runtime.provider.getBlockNumber()
        return { state: 'mined', confirmations: Math.max(0, head - receipt.blockNumber + 1), required, block: receipt.blockNumber }
      } catch {
        return response.serviceUnavailable({ error: 'The blockchain node cannot be reached right now' })
      }
    },
    { auth: true }
  )

  api.router.get('/checkout.js', async ({ response }) => {
    response.header('content-type', 'text/javascript; charset=utf-8')
    response.header('cache-control', 'public, max-age=300')
    return response.send(await readFile(CHECKOUT_SCRIPT, 'utf8'))
  })

  api.router.get('/ethers.js', async ({ response }) => {
    response.header('content-type', 'text/javascript; charset=utf-8')
    response.header('cache-control', 'public, max-age=300')
    return response.send(await readFile(ETHERS_BUNDLE, 'utf8'))
  })

  // The kit's token formatter itself (a plain function, no imports), so the wallet
  // script writes a balance to the same 6 significant digits as the prices it shows.
  const tokenAmountModule = `export const formatTokenAmount = ${formatTokenAmount.toString()}\n`
  api.router.get('/token-amount.js', async ({ response }) => {
    response.header('content-type', 'text/javascript; charset=utf-8')
    response.header('cache-control', 'public, max-age=300')
    return response.send(tokenAmountModule)
  })

  // The contract's ABI as the plugin ships it (one copy for the server and the browser).
  api.router.get('/splitter-abi.json', async ({ response }) => {
    response.header('cache-control', 'public, max-age=300')
    return response.json(SPLITTER_ARTIFACT.abi)
  })

  // The withdraw button's script (Studio → Crypto payouts): the creator's own wallet calls withdraw(token).
  api.router.get('/credits.js', async ({ response }) => {
    response.header('content-type', 'text/javascript; charset=utf-8')
    response.header('cache-control', 'public, max-age=300')
    return response.send(await readFile(CREDITS_SCRIPT, 'utf8'))
  })

  api.router.get(
    '/wallet',
    async ({ auth, request, view }) => {
      const user = auth.getUserOrFail()
      const account = await api.payments.payoutAccounts.get(provider.id, user.id)
      const address = account?.accountRef ?? null
      // Shares the splitter could not pay this wallet at sale time, withdrawable by it.
      let credits: Awaited<ReturnType<typeof creditsOf>> = null
      let creditsError: string | null = null
      if (address) {
        credits = await creditsOf(runtime, address).catch(() => {
          creditsError = 'The blockchain node cannot be reached right now: credits are not shown.'
          return null
        })
      }
      return view.render(WALLET_VIEW, {
        address,
        saved: Boolean(request.qs().saved),
        error: null,
        credits,
        creditsError,
        chainId: runtime.config.chainId,
        chainName: runtime.config.chainName,
      })
    },
    { roles: ['creator', 'admin'] }
  )

  api.router.post(
    '/wallet',
    async ({ auth, request, response, view }) => {
      const user = auth.getUserOrFail()
      const raw = String(request.input('address', '')).trim()
      if (!raw) {
        await api.payments.payoutAccounts.remove(provider.id, user.id)
        return response.redirect('/plugins/x402/wallet?saved=1')
      }
      const address = normalizeAddress(raw)
      if (!address) {
        response.status(422)
        return view.render(WALLET_VIEW, {
          address: raw,
          saved: false,
          error: 'That is not a wallet address (0x followed by 40 hexadecimal characters, not the zero address).',
        })
      }
      await api.payments.payoutAccounts.set(provider.id, user.id, { accountRef: address, ready: true })
      return response.redirect('/plugins/x402/wallet?saved=1')
    },
    { roles: ['creator', 'admin'] }
  )
}
