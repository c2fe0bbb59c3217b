/*
| The x402 protocol (version 2, HTTP transport, `exact` scheme on EVM with
| EIP-3009), spoken by the JSON API's session endpoint: Matinee is its own
| facilitator. A client without access gets 402 with PAYMENT-REQUIRED (what
| to pay: the test stablecoin, to the splitter); it retries with
| PAYMENT-SIGNATURE (an EIP-3009 authorization to the splitter); the plugin
| verifies it, claims its nonce once, makes the buyer's order through the
| core's checkout, signs the order's quote, simulates and sends the
| splitter's settlement (one transaction: pull, check the quote, pay creator
| and platform), waits for the chain's confirmations, hands the Paid log to
| the core like the watcher does (same event id, so the watcher's later
| copy is a duplicate), and only then asks the core for the session.
| Spec: github.com/coinbase/x402 specs/x402-specification-v2.md,
| specs/transports-v2/http.md, specs/schemes/exact/scheme_exact_evm.md.
*/
import { Contract, Interface, NonceManager, Signature, Wallet, getAddress, verifyTypedData, type TypedDataField } from 'ethers'
import { PaywallRefusal, minorDigits, type Paywall, type PaywallReply, type PaywallRequest, type PluginApi } from '@matinee/plugin-kit'
import { PAID_TOPIC, SPLITTER_ARTIFACT, normalizeAddress, sameAddress, toTokenUnits } from './chain.js'
import { ChainWatcher } from './chain_watcher.js'
import { termsKey, type OrderTerms, type X402PaymentProvider } from './x402_payment_provider.js'
import type { X402Runtime } from './x402_runtime.js'

export const X402_VERSION = 2
export const PAYMENT_REQUIRED_HEADER = 'PAYMENT-REQUIRED'
export const PAYMENT_SIGNATURE_HEADER = 'PAYMENT-SIGNATURE'
export const PAYMENT_RESPONSE_HEADER = 'PAYMENT-RESPONSE'
/** Browsers' scripts may read these (CORS). */
export const EXPOSED_HEADERS = `${PAYMENT_REQUIRED_HEADER}, ${PAYMENT_RESPONSE_HEADER}`
/** How long a client's authorization may be valid for (it becomes its validBefore). */
export const MAX_TIMEOUT_SECONDS = 300
/** An authorization must stay valid this long after we check it: the settlement has to be mined first. */
const SETTLE_MARGIN_SECONDS = 30
/** The longest a paying client waits for the chain's confirmations. */
const CONFIRMATION_TIMEOUT_MS = 120_000
/** A PAYMENT-SIGNATURE header larger than this is not a payment. */
const MAX_HEADER_BYTES = 8192

const AUTHORIZATION_FIELDS: TypedDataField[] = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
]
const FRONT_RUN_ABI = [
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]
const TOKEN_ABI = [
  'function balanceOf(address) view returns (uint256)',
  'function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)',
  'function name() view returns (string)',
]

/** x402's PaymentRequirements. */
export interface PaymentRequirements {
  scheme: 'exact'
  network: string
  amount: string
  asset: string
  payTo: string
  maxTimeoutSeconds: number
  extra: { name: string; version: string }
}

export interface Eip3009Authorization {
  from: string
  to: string
  value: string
  validAfter: string
  validBefore: string
  nonce: string
}

/** A refused payment: its x402 reason (the spec's error codes), an explanation, the HTTP status. */
class PaymentRefused extends Error {
  constructor(
    public reason: string,
    message: string,
    public status = 402,
    public payer: string | null = null,
    public settled: { transaction: string } | null = null
  ) {
    super(message)
  }
}

const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64')

/** The payment payload from a PAYMENT-SIGNATURE header: base64 of JSON, or a 400 saying which. */
export function decodePaymentHeader(header: string): Record<string, any> {
  const text = header.trim()
  if (!text || text.length > MAX_HEADER_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new PaymentRefused('invalid_payload', 'PAYMENT-SIGNATURE is not base64', 400)
  }
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(text, 'base64').toString('utf8'))
  } catch {
    throw new PaymentRefused('invalid_payload', 'PAYMENT-SIGNATURE is not base64-encoded JSON', 400)
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PaymentRefused('invalid_payload', 'PAYMENT-SIGNATURE is not a payment payload object', 400)
  }
  return payload as Record<string, any>
}

const DIGITS = /^\d{1,78}$/
const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/

/**
 * x402 for the session endpoint, settled by Matinee itself through the
 * splitter (see the top of this file).
 */
export class X402Protocol implements Paywall {
  readonly id = 'x402'
  #domains = new Map<string, Promise<{ name: string; version: string }>>()
  #settler: NonceManager | null
  #settlerAddress: string | null
  #sending: Promise<unknown> = Promise.resolve()
  #watcher: ChainWatcher

  constructor(
    private runtime: X402Runtime,
    private provider: X402PaymentProvider,
    private api: Pick<PluginApi, 'hooks' | 'state' | 'logger' | 'payments'>,
    settlerKey: string | null
  ) {
    const wallet = settlerKey ? new Wallet(settlerKey, runtime.provider) : null
    this.#settler = wallet ? new NonceManager(wallet) : null
    this.#settlerAddress = wallet?.address ?? null
    this.#watcher = new ChainWatcher(runtime, api, (events) => api.payments.deliver(provider.id, events))
  }

  get settlerAddress() {
    return this.#settlerAddress
  }

  claims(headers: Record<string, string | undefined>) {
    return typeof headers['payment-signature'] === 'string'
  }

  async handle(request: PaywallRequest): Promise<PaywallReply> {
    const requirements = await this.requirementsFor(request).catch((error) => {
      this.api.logger.error({ err: error }, 'x402: cannot price the video on chain')
      return null
    })
    const header = request.headers['payment-signature']
    if (!header) {
      // The server's extensions (sign-in-with-x: a returning wallet signs instead of paying again).
      const extensions = (await request.extensions?.()) ?? {}
      return this.#paymentRequired(request, requirements, 'payment_required', 'Pay with x402 (or send a personal API token): retry with a PAYMENT-SIGNATURE header', 402, extensions)
    }
    if (!requirements) {
      return this.#paymentRequired(request, null, 'unexpected_verify_error', 'Crypto payments are not available right now (no contract or token, or the chain cannot be reached)')
    }
    try {
      return await this.#pay(request, requirements, header)
    } catch (error) {
      if (error instanceof PaymentRefused) {
        const reply = this.#paymentRequired(request, requirements, error.reason, error.message, error.status)
        reply.headers![PAYMENT_RESPONSE_HEADER] = base64Json({
          success: false,
          errorReason: error.reason,
          errorMessage: error.message,
          transaction: error.settled?.transaction ?? '',
          network: requirements.network,
          ...(error.payer ? { payer: error.payer } : {}),
        })
        return reply
      }
      if (error instanceof PaywallRefusal) throw error
      this.api.logger.error({ err: error }, 'x402: payment failed unexpectedly')
      return this.#paymentRequired(request, requirements, 'unexpected_settle_error', 'The payment could not be processed; nothing was charged unless PAYMENT-RESPONSE names a transaction', 500)
    }
  }

  /** What this video costs over x402: the stablecoin's exact amount, to the splitter. Null when not payable that way. */
  async requirementsFor(request: Pick<PaywallRequest, 'video'>): Promise<PaymentRequirements | null> {
    const { config } = this.runtime
    const [contract, token] = await Promise.all([this.runtime.contract(), this.runtime.stablecoin()])
    if (!contract || !token) return null
    const { price } = request.video
    // The same rule as the checkout's options (x402_payment_provider): the stablecoin pays its own currency.
    const rate = await this.api.hooks.applyFilters('crypto:rate', price.currency === config.tokenCurrency ? '1' : null, {
      token,
      symbol: (await this.runtime.token(token)).symbol,
      currency: price.currency,
      chainId: config.chainId,
    })
    if (!rate) return null
    const info = await this.runtime.token(token)
    const amount = toTokenUnits({ minor: price.amount, currencyExponent: minorDigits(price.currency), rate, decimals: info.decimals })
    return {
      scheme: 'exact',
      network: `eip155:${config.chainId}`,
      amount: amount.toString(),
      asset: getAddress(token),
      payTo: getAddress(contract.address),
      maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
      extra: await this.#domainOf(token),
    }
  }

  /** The token's EIP-712 name and version (EIP-5267), which the client signs with. */
  #domainOf(token: string) {
    let domain = this.#domains.get(token.toLowerCase())
    if (!domain) {
      const erc20 = new Contract(token, TOKEN_ABI, this.runtime.provider)
      domain = erc20.eip712Domain().then(
        (fields: any) => ({ name: String(fields.name), version: String(fields.version) }),
        async () => ({ name: String(await erc20.name()), version: '1' })
      )
      domain.catch(() => this.#domains.delete(token.toLowerCase()))
      this.#domains.set(token.toLowerCase(), domain)
    }
    return domain
  }

  #paymentRequired(request: PaywallRequest, requirements: PaymentRequirements | null, error: string, message: string, status = 402, extensions: Record<string, unknown> = {}): PaywallReply {
    const body = {
      x402Version: X402_VERSION,
      error,
      message,
      resource: { url: request.resourceUrl, description: `Watch "${request.video.title}" (a playback session)`, mimeType: 'application/json' },
      accepts: requirements ? [requirements] : [],
      ...(Object.keys(extensions).length ? { extensions } : {}),
    }
    return {
      status,
      headers: { [PAYMENT_REQUIRED_HEADER]: base64Json(body), 'Access-Control-Expose-Headers': EXPOSED_HEADERS },
      body,
    }
  }

  /** Checks a payment against the requirements; throws PaymentRefused with x402's reason. */
  verify(request: Pick<PaywallRequest, 'resourceUrl'>, requirements: PaymentRequirements, payload: Record<string, any>) {
    if (payload.x402Version !== X402_VERSION) throw new PaymentRefused('invalid_x402_version', `x402Version must be ${X402_VERSION}`)
    const accepted = payload.accepted
    if (!accepted || typeof accepted !== 'object') throw new PaymentRefused('invalid_payload', 'The payload has no "accepted" payment requirements', 400)
    if (payload.resource?.url !== undefined && payload.resource.url !== request.resourceUrl) {
      throw new PaymentRefused('invalid_payment_requirements', `The payment is for another resource (${String(payload.resource.url).slice(0, 200)})`)
    }
    if (accepted.scheme !== 'exact') throw new PaymentRefused('invalid_exact_evm_scheme', 'Only the "exact" scheme is accepted')
    if (accepted.network !== requirements.network) throw new PaymentRefused('invalid_exact_evm_network_mismatch', `The payment is for network ${String(accepted.network).slice(0, 40)}, not ${requirements.network}`)
    if (typeof accepted.asset !== 'string' || !sameAddress(accepted.asset, requirements.asset)) {
      throw new PaymentRefused('invalid_payment_requirements', `The payment is in another asset; this video is paid in ${requirements.asset}`)
    }
    if (typeof accepted.payTo !== 'string' || !sameAddress(accepted.payTo, requirements.payTo)) {
      throw new PaymentRefused('invalid_exact_evm_recipient_mismatch', `The payment goes to another payTo; pay ${requirements.payTo}`)
    }
    const inner = payload.payload
    const authorization = inner?.authorization as Eip3009Authorization | undefined
    const signature = inner?.signature
    if (!authorization || typeof authorization !== 'object' || typeof signature !== 'string' || !SIGNATURE.test(signature)) {
      throw new PaymentRefused('invalid_payload', 'The payload needs an EIP-3009 authorization and its 65-byte signature', 400)
    }
    const from = normalizeAddress(authorization.from)
    const to = normalizeAddress(authorization.to)
    const numbers = [authorization.value, authorization.validAfter, authorization.validBefore]
    if (!from || !to || !numbers.every((n) => typeof n === 'string' && DIGITS.test(n)) || typeof authorization.nonce !== 'string' || !BYTES32.test(authorization.nonce)) {
      throw new PaymentRefused('invalid_payload', 'The authorization is malformed (from, to, value, validAfter, validBefore, nonce)', 400)
    }
    if (!sameAddress(to, requirements.payTo)) throw new PaymentRefused('invalid_exact_evm_recipient_mismatch', `The authorization pays ${to}, not ${requirements.payTo}`, 402, from)
    if (BigInt(authorization.value) !== BigInt(requirements.amount) || String(accepted.amount) !== requirements.amount) {
      throw new PaymentRefused('invalid_exact_evm_authorization_value', `The authorization is for ${authorization.value}; this costs exactly ${requirements.amount}`, 402, from)
    }
    const now = BigInt(Math.floor(Date.now() / 1000))
    if (BigInt(authorization.validBefore) < now + BigInt(SETTLE_MARGIN_SECONDS)) {
      throw new PaymentRefused('invalid_exact_evm_payload_authorization_valid_before', 'The authorization has expired (or expires before it can be settled)', 402, from)
    }
    if (BigInt(authorization.validAfter) >= now) {
      throw new PaymentRefused('invalid_exact_evm_payload_authorization_valid_after', 'The authorization is not valid yet', 402, from)
    }
    // The official clients sign a TransferWithAuthorization; a ReceiveWithAuthorization (only the
    // splitter can execute it, so nobody can front-run it) is taken too.
    const domain = { ...requirements.extra, chainId: Number(requirements.network.split(':')[1]), verifyingContract: requirements.asset }
    const message = { ...authorization, from, to }
    let kind: 'transfer' | 'receive' | null = null
    for (const [candidate, type] of [['transfer', 'TransferWithAuthorization'], ['receive', 'ReceiveWithAuthorization']] as const) {
      try {
        if (sameAddress(verifyTypedData(domain, { [type]: AUTHORIZATION_FIELDS }, message, signature), from)) kind = candidate
      } catch {}
      if (kind) break
    }
    if (!kind) throw new PaymentRefused('invalid_exact_evm_signature', 'The signature does not recover to authorization.from', 402, from)
    return { from, authorization: message, signature, kind }
  }

  async #pay(request: PaywallRequest, requirements: PaymentRequirements, header: string): Promise<PaywallReply> {
    const { config } = this.runtime
    const payload = decodePaymentHeader(header)
    const { from, authorization, signature, kind } = this.verify(request, requirements, payload)

    const token = new Contract(requirements.asset, TOKEN_ABI, this.runtime.provider)
    const balance: bigint = await token.balanceOf(from)
    if (balance < BigInt(requirements.amount)) {
      throw new PaymentRefused('invalid_exact_evm_insufficient_balance', `The wallet holds ${balance} of ${requirements.amount} needed`, 402, from)
    }
    if (!this.#settler) throw new PaymentRefused('unexpected_settle_error', 'This server has no settlement key (X402_SETTLER_KEY)', 503, from)

    // One use per authorization, whatever races: the nonce's row is written once.
    const nonceKey = `x402-nonce:${config.chainId}:${requirements.asset.toLowerCase()}:${from.toLowerCase()}:${authorization.nonce.toLowerCase()}`
    if (!(await this.api.state.claim(nonceKey, { at: new Date().toISOString(), resource: request.resourceUrl, videoId: request.video.id }))) {
      throw new PaymentRefused('invalid_exact_evm_nonce_already_used', 'This authorization was already presented (replayed nonce)', 402, from)
    }

    const buyer = request.user ?? (await request.accountFor({ chain: requirements.network, address: from }))
    // A wallet that already bought the video proved itself with this fresh signature: no second payment.
    if (await request.mayWatch(buyer)) {
      await this.api.state.set(nonceKey, { outcome: 'already_owned', buyerId: buyer.id })
      const session = await request.openSession(buyer, `x402:${from.toLowerCase()}`)
      return { status: 200, headers: { 'Access-Control-Expose-Headers': EXPOSED_HEADERS }, body: { ...session, paid: false, payer: from } }
    }

    const order = await request.checkout(buyer, this.provider.id)
    const terms = await this.api.state.get<OrderTerms>(termsKey(order.orderId))
    const option = terms?.options.find((candidate) => sameAddress(candidate.token, requirements.asset))
    if (!terms || !option) throw new PaymentRefused('invalid_payment_requirements', 'This order cannot be paid in this asset', 402, from)
    if (option.amount !== requirements.amount) {
      throw new PaymentRefused('invalid_exact_evm_authorization_value', `The price changed: the order costs ${option.amount} now`, 402, from)
    }
    const signed = await this.provider.quoteFor({ orderId: order.orderId, buyerId: buyer.id, payer: from, token: requirements.asset })
    const { v, r, s } = Signature.from(signature)
    const auth = { validAfter: authorization.validAfter, validBefore: authorization.validBefore, nonce: authorization.nonce, v, r, s }
    const splitter = new Contract(signed.contract, SPLITTER_ARTIFACT.abi, this.#settler)
    const method = kind === 'receive' ? 'settleWithReceiveAuthorization' : 'settleWithTransferAuthorization'
    const quote = { ...signed.quote, amount: BigInt(signed.quote.amount) }

    // The whole settlement is simulated first: a revert (nonce used at the token, paused...) costs no gas.
    try {
      await splitter[method].staticCall(quote, signed.signature, auth)
    } catch (error) {
      const reason = revertReason(error)
      if (reason.startsWith('ERC3009UsedAuthorization')) await this.#reportFrontRun(order.orderId, requirements, authorization).catch(() => {})
      throw new PaymentRefused('invalid_exact_evm_transaction_simulation_failed', `The settlement would revert: ${reason}`, 402, from)
    }
    const receipt = await this.#send(() => splitter[method](quote, signed.signature, auth)).catch((error) => {
      throw new PaymentRefused('invalid_exact_evm_transaction_failed', `The settlement failed: ${revertReason(error)}`, 402, from)
    })
    if (!receipt || receipt.status !== 1) {
      throw new PaymentRefused('invalid_exact_evm_transaction_failed', 'The settlement reverted', 402, from, receipt ? { transaction: receipt.hash } : null)
    }
    await this.api.state.set(nonceKey, { outcome: 'settled', orderId: order.orderId, transaction: receipt.hash, block: receipt.blockNumber })
    await this.#confirmations(receipt.blockNumber).catch(() => {
      throw new PaymentRefused('unexpected_settle_error', 'Paid, but the chain did not confirm it in time: the order completes when it does', 504, from, { transaction: receipt.hash })
    })

    // Credited as the watcher would (same checks, same event id: its own copy later is a duplicate).
    const logs = receipt.logs.filter((log: any) => log.topics[0] === PAID_TOPIC && sameAddress(log.address, signed.contract))
    const events = await Promise.all(logs.map((log: any) => this.#watcher.eventFor(log)))
    const results = events.length ? await this.api.payments.deliver(this.provider.id, events) : []
    const credited = results.some((result) => result.orderId === order.orderId && (result.outcome === 'applied' || result.outcome === 'duplicate'))
    if (!credited) {
      this.api.logger.error({ orderId: order.orderId, tx: receipt.hash, results }, 'x402: a settled payment was not credited')
      throw new PaymentRefused('unexpected_settle_error', 'Paid, but the payment could not be credited; an admin sees it', 500, from, { transaction: receipt.hash })
    }

    const session = await request.openSession(buyer, `x402:${from.toLowerCase()}`)
    return {
      status: 200,
      headers: {
        [PAYMENT_RESPONSE_HEADER]: base64Json({ success: true, transaction: receipt.hash, network: requirements.network, payer: from }),
        'Access-Control-Expose-Headers': EXPOSED_HEADERS,
      },
      body: { ...session, paid: true, orderId: order.orderId, transaction: receipt.hash, payer: from },
    }
  }

  /**
   * Someone executed this authorization straight at the token (a front-run):
   * if that moved the tokens to the splitter, they wait there unallocated.
   * Admins are told (Admin → Orders, payments to settle by hand) so the
   * splitter's owner returns them with refundUnallocated.
   */
  async #reportFrontRun(orderId: string, requirements: PaymentRequirements, authorization: Eip3009Authorization) {
    const token = new Contract(requirements.asset, FRONT_RUN_ABI, this.runtime.provider)
    const used = await token.queryFilter(token.filters.AuthorizationUsed(authorization.from, authorization.nonce))
    const receipt = used.length ? await this.runtime.provider.getTransactionReceipt(used[0].transactionHash) : null
    const moved = receipt?.logs.some((log) => {
      const parsed = sameAddress(log.address, requirements.asset) ? token.interface.parseLog(log) : null
      return parsed?.name === 'Transfer' && sameAddress(parsed.args[0], authorization.from) && sameAddress(parsed.args[1], requirements.payTo)
    })
    if (!receipt || !moved) return
    await this.api.payments.deliver(this.provider.id, [
      {
        eventId: `${this.runtime.config.chainId}:${receipt.hash.toLowerCase()}:front-run`,
        type: 'payment.unmatched',
        orderId,
        reason: `an x402 authorization was executed straight at the token (front-run): ${authorization.value} units of ${requirements.asset} from ${authorization.from} wait in the splitter; its owner returns them with refundUnallocated`,
        details: { txHash: receipt.hash, payer: authorization.from, amount: authorization.value, token: requirements.asset, nonce: authorization.nonce },
      },
    ])
  }

  /**
   * Sends settlements one at a time from the settler's key (a NonceManager
   * numbers them in order; only the send is queued, not the wait), then waits
   * for the receipt. A send that fails resets the numbering from the chain;
   * one refused for its nonce (several web nodes share the key) is sent again.
   */
  #send(send: () => Promise<any>) {
    // Another web node sending from the same key takes nonces this one counted on: renumber from the chain once.
    const sent = this.#sending.then(() =>
      send().catch((error) => {
        if (!isNonceError(error)) throw error
        this.#settler?.reset()
        return send()
      })
    )
    this.#sending = sent.catch(() => this.#settler?.reset())
    return sent.then((tx) => this.#receipt(tx.hash))
  }

  /**
   * The transaction's receipt, polled every 100 ms (ethers' tx.wait polls the
   * node every 4 s: seconds of a paying client's wait).
   */
  async #receipt(hash: string) {
    const deadline = Date.now() + CONFIRMATION_TIMEOUT_MS
    for (;;) {
      const receipt = await this.runtime.provider.getTransactionReceipt(hash)
      if (receipt) return receipt
      if (Date.now() > deadline) throw new Error(`no receipt for ${hash} in ${CONFIRMATION_TIMEOUT_MS / 1000} s`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async #confirmations(block: number) {
    const deadline = Date.now() + CONFIRMATION_TIMEOUT_MS
    while ((await this.runtime.provider.getBlockNumber()) - block + 1 < this.runtime.config.confirmations) {
      if (Date.now() > deadline) throw new Error('confirmation timeout')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/**
 * Whether a send was refused for its numbering. Hardhat's "nonce too low"
 * often reaches ethers as an error it cannot map ("could not coalesce
 * error"), with the node's words only in the wrapped JSON-RPC error.
 */
function isNonceError(error: unknown) {
  const e = error as any
  if (e?.code === 'NONCE_EXPIRED') return true
  const words = [e?.shortMessage, e?.message, e?.error?.message, e?.info?.error?.message, e?.info?.payload && JSON.stringify(e.info)]
  return words.some((text) => typeof text === 'string' && /nonce/i.test(text))
}

/** Errors an EIP-3009 token (OpenZeppelin's, USDC's messages aside) reverts the settlement with. */
const TOKEN_ERRORS = new Interface([
  'error ERC3009InvalidSignature()',
  'error ERC3009InvalidAuthorizationTime(uint256 validAfter, uint256 validBefore)',
  'error ERC3009UsedAuthorization(address authorizer, bytes32 nonce)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
])

/** A revert in words: the splitter's or the token's custom error by name, else the node's message. */
function revertReason(error: unknown) {
  const e = error as any
  if (e?.revert?.name) return `${e.revert.name}(${e.revert.args.join(', ')})`
  const data = e?.data ?? e?.info?.error?.data
  if (typeof data === 'string' && data.length >= 10) {
    const parsed = TOKEN_ERRORS.parseError(data)
    if (parsed) return `${parsed.name}(${parsed.args.join(', ')})`
  }
  return String(e?.shortMessage ?? e?.message ?? 'unknown error').slice(0, 200)
}
