/*
| The wallet panel of a pending x402 order (plugins/x402/checkout_panel.ts).
| Plain browser ES module, no build step; ethers v6 comes from the plugin's
| /plugins/x402/ethers.js route (the package's browser build), amounts are
| written by the kit's formatTokenAmount from /plugins/x402/token-amount.js.
|
|   1. finds the browser's wallets (EIP-6963, else window.ethereum);
|   2. connects one, on the order's chain (switching or adding it);
|   3. asks Matinee for a quote signed for that account and token;
|   4. pays the splitter: payNative, payERC20WithPermit (EIP-2612 permit,
|      no approve transaction), or approve + payERC20;
|   5. shows the confirmations of the transaction until the order is paid,
|      then reloads the page (which then shows the purchase).
|
| The transaction hash is kept in sessionStorage per order, so a reload
| resumes at step 5.
*/
import * as ethers from '/plugins/x402/ethers.js'
import { formatTokenAmount } from '/plugins/x402/token-amount.js'

// The splitter's ABI as the server ships it, plus the token errors that
// bubble up through safeTransferFrom.
const SPLITTER_ABI = [
  ...(await (await fetch('/plugins/x402/splitter-abi.json')).json()),
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
]

const TOKEN_ABI = [
  'function balanceOf(address account) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function nonces(address owner) view returns (uint256)',
  'function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
  'error ERC20InvalidSpender(address spender)',
]

const PERMIT_TYPES = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
}

const DISCOVERY_MS = 500
const POLL_MS = 1000

for (const root of document.querySelectorAll('[data-x402-checkout]')) {
  try {
    setUp(root)
  } catch (error) {
    const status = root.querySelector('[data-x402-status]')
    if (status) status.textContent = 'The wallet payment could not start on this page. Reload it to try again.'
    console.error(error)
  }
}

/** One panel: its data, its elements, its state. */
function setUp(root) {
  const action = JSON.parse(root.dataset.action || '{}')
  const orderId = root.dataset.order || ''
  const urls = { quote: root.dataset.quoteUrl, progress: root.dataset.progressUrl, status: root.dataset.statusUrl }
  const csrf = root.dataset.csrf || document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || ''
  const walletsBox = root.querySelector('[data-x402-wallets]')
  const tokenSelect = root.querySelector('select[data-x402-token]')
  const payButton = root.querySelector('button[data-x402-pay]')
  const statusLine = root.querySelector('[data-x402-status]')
  const storageKey = `x402:tx:${orderId}`
  const options = Array.isArray(action.options) ? action.options : []

  /** Discovered wallets by uuid: { info, provider }. */
  const wallets = new Map()
  const state = {
    wallet: null, // the connected { info, provider }
    account: null, // checksummed address
    browserProvider: null,
    busy: false, // connecting or paying
    tracking: null, // the tx hash being confirmed
    listening: new WeakSet(), // EIP-1193 providers we listen to
  }

  const say = (text) => {
    statusLine.textContent = text
  }
  const selectedOption = () => options.find((option) => sameAddress(option.token, tokenSelect?.value)) ?? options[0] ?? null

  function refreshPayButton() {
    const option = selectedOption()
    if (state.tracking) {
      payButton.disabled = true
      payButton.textContent = 'Payment sent'
    } else if (!state.account) {
      payButton.disabled = true
      payButton.textContent = 'Connect a wallet first'
    } else if (!option) {
      payButton.disabled = true
      payButton.textContent = 'No way to pay this order'
    } else {
      payButton.disabled = state.busy
      payButton.textContent = `Pay ${option.display}`
    }
    if (tokenSelect) tokenSelect.disabled = state.busy || !!state.tracking
    for (const button of walletsBox.querySelectorAll('button')) button.disabled = state.busy || !!state.tracking
  }

  // ---------------------------------------------------------------- wallets

  function renderWallets() {
    walletsBox.replaceChildren()
    const list = document.createElement('div')
    list.className = 'x402-wallets'
    for (const [uuid, wallet] of wallets) {
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'button secondary'
      button.dataset.x402Wallet = uuid
      const icon = typeof wallet.info.icon === 'string' && /^data:image\//.test(wallet.info.icon) ? wallet.info.icon : null
      if (icon) {
        const image = document.createElement('img')
        image.src = icon
        image.alt = ''
        image.width = 20
        image.height = 20
        image.style.verticalAlign = 'middle'
        image.style.marginRight = '0.4em'
        button.append(image)
      }
      const connected = state.wallet === wallet && state.account
      button.append(document.createTextNode(connected ? `${wallet.info.name} (connected)` : wallet.info.name))
      button.addEventListener('click', () => connect(wallet))
      list.append(button)
    }
    walletsBox.append(list)
    if (state.account) {
      const line = document.createElement('p')
      line.dataset.x402Account = state.account
      line.append('Connected: ')
      const code = document.createElement('code')
      code.textContent = state.account
      line.append(code)
      walletsBox.append(line)
    } else if (wallets.size) {
      const hint = document.createElement('p')
      hint.className = 'muted'
      hint.textContent = 'Choose the wallet to pay with.'
      walletsBox.append(hint)
    }
    refreshPayButton()
  }

  function addWallet(uuid, info, provider) {
    if (!provider || typeof provider.request !== 'function' || wallets.has(uuid)) return
    wallets.set(uuid, { info: { ...info, name: String(info.name || 'Wallet') }, provider })
    renderWallets()
  }

  window.addEventListener('eip6963:announceProvider', (event) => {
    const detail = event.detail
    if (!detail || !detail.info || !detail.provider) return
    addWallet(String(detail.info.uuid || detail.info.rdns || detail.info.name), detail.info, detail.provider)
  })
  window.dispatchEvent(new Event('eip6963:requestProvider'))

  setTimeout(() => {
    if (wallets.size) return
    if (window.ethereum && typeof window.ethereum.request === 'function') {
      addWallet('injected', { name: 'Browser wallet', icon: null }, window.ethereum)
      return
    }
    walletsBox.replaceChildren()
    const message = document.createElement('p')
    message.className = 'alert notice'
    message.dataset.x402NoWallet = ''
    message.append('No wallet was found in this browser. To pay with crypto you need a wallet extension, such as ')
    const link = document.createElement('a')
    link.href = 'https://metamask.io/download/'
    link.rel = 'noopener'
    link.target = '_blank'
    link.textContent = 'MetaMask'
    message.append(link, '. Install one, then reload this page.')
    walletsBox.append(message)
    refreshPayButton()
  }, DISCOVERY_MS)

  // ---------------------------------------------------------------- connect

  async function connect(wallet) {
    if (state.busy || state.tracking) return
    state.busy = true
    refreshPayButton()
    say(`Waiting for your wallet: allow ${wallet.info.name} to connect to Matinee…`)
    try {
      const accounts = await wallet.provider.request({ method: 'eth_requestAccounts' })
      if (!Array.isArray(accounts) || !accounts.length) throw new Error('The wallet gave no account')
      const account = ethers.getAddress(accounts[0])
      await ensureChain(wallet.provider)
      state.wallet = wallet
      state.account = account
      state.browserProvider = new ethers.BrowserProvider(wallet.provider, undefined, { pollingInterval: POLL_MS })
      listenTo(wallet)
      say(`Connected to ${wallet.info.name}. Choose a token and press Pay.`)
    } catch (error) {
      state.wallet = null
      state.account = null
      state.browserProvider = null
      say(isRejection(error) ? 'You declined in your wallet. Choose a wallet to try again.' : `Could not connect the wallet: ${shortMessage(error)}`)
    } finally {
      state.busy = false
      renderWallets()
    }
  }

  /** Puts the wallet on the order's chain: switch, or add it when the wallet does not know it (4902). */
  async function ensureChain(provider) {
    const wanted = BigInt(action.chainId)
    const current = await provider.request({ method: 'eth_chainId' })
    if (BigInt(current) === wanted) return
    const chainId = ethers.toQuantity(wanted)
    say(`Waiting for your wallet: switch to ${action.chainName || `chain ${action.chainId}`}…`)
    try {
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] })
    } catch (error) {
      if (!hasCode(error, 4902)) throw error
      // Wallets need an RPC URL to add a network; the server sends a public one or none.
      if (!action.rpcUrl) {
        throw new Error(
          `your wallet does not know ${action.chainName || 'this network'} (chain id ${action.chainId}): add it in your wallet, then connect again`
        )
      }
      say(`Waiting for your wallet: add ${action.chainName || `chain ${action.chainId}`}…`)
      await provider.request({
        method: 'wallet_addEthereumChain',
        params: [
          {
            chainId,
            chainName: action.chainName || `Chain ${action.chainId}`,
            rpcUrls: [action.rpcUrl],
            nativeCurrency: { name: action.nativeSymbol || 'ETH', symbol: action.nativeSymbol || 'ETH', decimals: 18 },
          },
        ],
      })
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] }).catch(() => {})
    }
    const after = await provider.request({ method: 'eth_chainId' })
    if (BigInt(after) !== wanted) throw new Error(`your wallet is still on another network; switch it to ${action.chainName || `chain ${action.chainId}`}`)
  }

  /** A wallet that changes account or network mid-way must be connected again. */
  function listenTo(wallet) {
    const provider = wallet.provider
    if (typeof provider.on !== 'function' || state.listening.has(provider)) return
    state.listening.add(provider)
    const reset = (why) => {
      if (state.wallet !== wallet || state.tracking) return
      state.account = null
      state.browserProvider = null
      state.wallet = null
      renderWallets()
      say(`${why} Choose the wallet again to continue.`)
    }
    provider.on('accountsChanged', (accounts) => {
      if (state.account && Array.isArray(accounts) && accounts[0] && sameAddress(accounts[0], state.account)) return
      reset('Your wallet switched accounts.')
    })
    provider.on('chainChanged', (chainId) => {
      try {
        if (BigInt(chainId) === BigInt(action.chainId)) return
      } catch {}
      reset('Your wallet switched networks.')
    })
  }

  // ---------------------------------------------------------------- pay

  tokenSelect?.addEventListener('change', refreshPayButton)
  payButton.addEventListener('click', () => pay())

  async function pay() {
    const option = selectedOption()
    if (state.busy || state.tracking || !state.account || !option) return
    state.busy = true
    refreshPayButton()
    try {
      // Still on the right chain (the wallet may have been switched since).
      await ensureChain(state.wallet.provider)
      const provider = state.browserProvider
      const signer = await provider.getSigner(state.account)

      say('Asking Matinee for a quote…')
      const signed = await requestQuote(state.account, option.token)
      const quote = signed.quote
      const amount = BigInt(quote.amount)
      if (
        !sameAddress(quote.payer, state.account) ||
        !sameAddress(quote.token, option.token) ||
        !sameAddress(signed.contract, action.contract) ||
        Number(signed.chainId) !== Number(action.chainId) ||
        amount.toString() !== String(option.amount)
      ) {
        throw new Failure('The quote from the server does not match this order. Reload the page and try again.')
      }
      if (quote.deadline * 1000 <= Date.now()) throw new Failure('This quote has expired. Start the purchase again from the video page.')

      const splitter = new ethers.Contract(signed.contract, SPLITTER_ABI, signer)
      const q = { ...quote, amount }
      let hash
      if (option.token === ethers.ZeroAddress) {
        const balance = await provider.getBalance(state.account)
        if (balance < amount) throw new Failure(`Your wallet holds ${formatTokenAmount(balance, 18, option.symbol)}; this costs ${option.display} plus the network fee.`)
        await preflight(splitter, 'payNative', [q, signed.signature, { value: amount }])
        hash = await send(signer, splitter, 'payNative', [q, signed.signature, { value: amount }])
      } else {
        const token = new ethers.Contract(option.token, TOKEN_ABI, signer)
        const balance = await token.balanceOf(state.account)
        if (balance < amount) {
          throw new Failure(`Your wallet holds ${formatTokenAmount(balance, option.decimals, option.symbol)}; this costs ${option.display}.`)
        }
        const permit = option.permit ? await signPermit(signer, token, signed.contract, amount, quote.deadline) : null
        if (permit) {
          const args = [q, signed.signature, quote.deadline, permit.v, permit.r, permit.s]
          await preflight(splitter, 'payERC20WithPermit', args)
          hash = await send(signer, splitter, 'payERC20WithPermit', args)
        } else {
          const allowance = await token.allowance(state.account, signed.contract)
          if (allowance < amount) {
            say(`Waiting for your wallet: allow the payment contract to take ${option.display}…`)
            const approval = await send(signer, token, 'approve', [signed.contract, amount], { quiet: true })
            say(`Approving ${option.display}…`)
            await waitForReceipt(provider, approval, 'The approval')
          }
          await preflight(splitter, 'payERC20', [q, signed.signature])
          hash = await send(signer, splitter, 'payERC20', [q, signed.signature])
        }
      }
      track(hash)
    } catch (error) {
      state.busy = false
      say(explain(error, option))
      refreshPayButton()
      console.error(error)
    }
  }

  async function requestQuote(payer, token) {
    let response
    try {
      response = await fetch(urls.quote, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ payer, token }),
      })
    } catch {
      throw new Failure('Matinee cannot be reached. Check your connection and press Pay again.')
    }
    const body = await response.json().catch(() => null)
    if (!response.ok || !body || !body.quote) {
      if (response.status === 419 || response.status === 403) throw new Failure('Your session has expired. Reload the page and try again.')
      // A rate limit (429) says when to try again in `message`; the plugin's own refusals are sentences in `error`.
      throw new Failure(body && (body.message || body.error) ? String(body.message || body.error) : `Matinee could not make a quote (HTTP ${response.status}). Try again in a moment.`)
    }
    return body
  }

  /**
   * An EIP-2612 permit for `amount` to the splitter, signed by the wallet.
   * Null when the wallet or the token cannot do it (then approve + pay);
   * a refusal by the person is not a reason to fall back, it is an answer.
   */
  async function signPermit(signer, token, spender, amount, deadline) {
    let domain
    let nonce
    try {
      const [fields, name, version, chainId, verifyingContract, salt] = await token.eip712Domain()
      const bits = Number(fields)
      domain = {}
      if (bits & 1) domain.name = name
      if (bits & 2) domain.version = version
      if (bits & 4) domain.chainId = chainId
      if (bits & 8) domain.verifyingContract = verifyingContract
      if (bits & 16) domain.salt = salt
      nonce = await token.nonces(state.account)
    } catch (error) {
      console.warn('x402: no EIP-5267 domain on the token, approving instead', error)
      return null
    }
    say('Waiting for your wallet: sign the permit for this payment (no network fee)…')
    try {
      const signature = await signer.signTypedData(domain, PERMIT_TYPES, {
        owner: state.account,
        spender,
        value: amount,
        nonce,
        deadline,
      })
      return ethers.Signature.from(signature)
    } catch (error) {
      if (isRejection(error)) throw error
      console.warn('x402: the wallet did not sign the permit, approving instead', error)
      return null
    }
  }

  /** A dry run of the payment, so the contract's refusal is explained before the wallet asks. */
  async function preflight(contract, method, args) {
    say('Checking the payment…')
    await contract[method].staticCall(...args)
  }

  /** Sends one transaction through the wallet; resolves with its hash as soon as the wallet has it. */
  async function send(signer, contract, method, args, { quiet = false } = {}) {
    if (!quiet) say('Waiting for your wallet: confirm the payment…')
    const request = await contract[method].populateTransaction(...args)
    const hash = await signer.sendUncheckedTransaction(request)
    if (!/^0x[0-9a-fA-F]{64}$/.test(String(hash))) throw new Error('The wallet did not return a transaction hash')
    return hash
  }

  async function waitForReceipt(provider, hash, what) {
    for (;;) {
      const receipt = await provider.getTransactionReceipt(hash).catch(() => null)
      if (receipt) {
        if (receipt.status !== 1) throw new Failure(`${what} failed on chain. Nothing was paid; press Pay to try again.`)
        return receipt
      }
      await sleep(POLL_MS)
    }
  }

  // ---------------------------------------------------------------- confirmations

  /** Follows the payment until the order is paid (then the page reloads into the purchase). */
  function track(hash) {
    state.tracking = hash
    state.busy = false
    try {
      sessionStorage.setItem(storageKey, hash)
    } catch {}
    refreshPayButton()
    say('Transaction sent…')
    void pollProgress(hash)
    void pollStatus(hash)
  }

  function stopTracking(message) {
    state.tracking = null
    try {
      sessionStorage.removeItem(storageKey)
    } catch {}
    say(message)
    refreshPayButton()
  }

  async function pollProgress(hash) {
    while (state.tracking === hash) {
      try {
        const response = await fetch(`${urls.progress}?tx=${encodeURIComponent(hash)}`, {
          credentials: 'same-origin',
          headers: { accept: 'application/json' },
        })
        const body = await response.json().catch(() => ({}))
        if (state.tracking !== hash) return
        if (response.ok) {
          if (body.state === 'reverted') {
            return stopTracking('The transaction was reverted by the contract: nothing was paid. Press Pay to try again.')
          }
          if (body.state === 'pending') {
            say('Transaction sent… waiting for it to be included in a block.')
          } else if (body.state === 'mined') {
            const required = Number(body.required) || Number(action.confirmations) || 1
            const confirmations = Number(body.confirmations) || 0
            say(confirmations >= required ? 'Confirmed. Waiting for Matinee to record the payment…' : `Confirming ${confirmations} / ${required}`)
          }
        } else if (response.status === 422 || response.status === 404) {
          return stopTracking(body.error ? `${body.error}. Press Pay to try again.` : 'This transaction does not pay this order. Press Pay to try again.')
        } else {
          say('The blockchain node cannot be reached right now; still checking your transaction…')
        }
      } catch {
        // Offline for a moment: keep trying.
      }
      await sleep(POLL_MS)
    }
  }

  async function pollStatus(hash) {
    while (state.tracking === hash) {
      try {
        const response = await fetch(urls.status, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        if (response.ok) {
          const body = await response.json()
          if (body.status && body.status !== 'pending') {
            try {
              sessionStorage.removeItem(storageKey)
            } catch {}
            location.reload()
            return
          }
        }
      } catch {}
      await sleep(POLL_MS)
    }
  }

  // ---------------------------------------------------------------- start

  refreshPayButton()
  let resumed = null
  try {
    resumed = sessionStorage.getItem(storageKey)
  } catch {}
  if (resumed && /^0x[0-9a-fA-F]{64}$/.test(resumed)) {
    track(resumed)
    say('Confirming your payment…')
  }
}

// ---------------------------------------------------------------- errors

/** An error whose message is already meant for the person. */
class Failure extends Error {}

const CONTRACT_ERRORS = {
  QuoteExpired: () => 'This price quote has expired. Start the purchase again from the video page.',
  InvoiceUsed: () => 'This order has already been paid on chain. This page updates once the payment is recorded.',
  WrongPayer: () => 'The quote was made for another account than the one your wallet uses now. Press Pay again.',
  InvalidSignature: () => "The payment contract did not accept the platform's signature on the quote. Try again later or contact support.",
  WrongAmount: () => 'The amount sent does not match the quote. Press Pay again.',
  WrongToken: () => 'This token cannot pay this quote. Choose another one and press Pay again.',
  TokenNotAllowed: (_, option) => `The payment contract does not accept ${option?.symbol ?? 'this token'} right now. Choose another one.`,
  EnforcedPause: () => 'Payments are paused on the payment contract right now. Try again later.',
  TransferAmountMismatch: () => 'The token moved a different amount than quoted (tokens that take a fee on transfers cannot pay).',
  ERC20InsufficientBalance: (_, option) => `Your wallet does not hold enough ${option?.symbol ?? 'tokens'} for this payment.`,
  ERC20InsufficientAllowance: (_, option) => `The payment contract was not allowed to take your ${option?.symbol ?? 'tokens'} (the permit or approval did not go through). Press Pay to try again.`,
  BadShare: () => 'The quote is invalid (creator share). Start the purchase again.',
  ZeroCreator: () => 'The quote is invalid (no creator wallet). Start the purchase again.',
  ZeroAmount: () => 'The quote is invalid (nothing to pay). Start the purchase again.',
}

const splitterInterface = new ethers.Interface(SPLITTER_ABI)

/** What went wrong, in words, with what to do next. */
function explain(error, option) {
  if (error instanceof Failure) return error.message
  if (isRejection(error)) return 'You rejected the request in your wallet. Nothing was paid; press Pay to try again.'
  const revert = decodeRevert(error)
  if (revert) {
    const words = CONTRACT_ERRORS[revert.name]
    return words ? words(revert, option) : `The payment contract refused the payment (${revert.name}). Nothing was paid.`
  }
  if (error?.code === 'INSUFFICIENT_FUNDS') {
    return 'Your wallet does not have enough funds for this payment and its network fee.'
  }
  if (error?.code === 'CALL_EXCEPTION') {
    return `The payment contract refused the payment${error.reason ? ` (${error.reason})` : ''}. Nothing was paid.`
  }
  return `Something went wrong: ${shortMessage(error)}. Nothing was paid; press Pay to try again.`
}

function decodeRevert(error) {
  if (error?.revert?.name) return error.revert
  const data = revertData(error)
  if (!data) return null
  try {
    return splitterInterface.parseError(data)
  } catch {
    return null
  }
}

/** Revert data somewhere in an ethers or wallet error (wallets nest it differently). */
function revertData(error, depth = 0) {
  if (!error || typeof error !== 'object' || depth > 5) return null
  const data = error.data
  if (typeof data === 'string' && /^0x[0-9a-fA-F]{8}/.test(data)) return data
  if (data && typeof data === 'object') {
    const nested = revertData(data, depth + 1)
    if (nested) return nested
  }
  for (const key of ['error', 'info', 'cause', 'originalError']) {
    const nested = revertData(error[key], depth + 1)
    if (nested) return nested
  }
  return null
}

/** Whether an EIP-1193 error code appears in the error or what it wraps (wallets nest them: data.originalError...). */
function hasCode(error, code, depth = 0) {
  if (!error || typeof error !== 'object' || depth > 5) return false
  if (error.code === code) return true
  return ['data', 'error', 'info', 'cause', 'originalError'].some((key) => hasCode(error[key], code, depth + 1))
}

function isRejection(error) {
  return error?.code === 'ACTION_REJECTED' || hasCode(error, 4001)
}

function shortMessage(error) {
  const text = String(error?.shortMessage || error?.message || error || 'unknown error')
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

function sameAddress(a, b) {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase()
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
