/*
| What the x402 plugin knows about the chain: the splitter's ABI, invoice and
| video ids as bytes32, the EIP-712 quote, and money conversions between an
| order's minor units and token units. No I/O here except `rpcProvider`.
*/
import { createRequire } from 'node:module'
import {
  Interface,
  JsonRpcProvider,
  ZeroAddress,
  getAddress,
  isAddress,
  keccak256,
  toUtf8Bytes,
  type InterfaceAbi,
  type TypedDataDomain,
  type TypedDataField,
  type Wallet,
} from 'ethers'

const require = createRequire(import.meta.url)

export interface ContractArtifact {
  contractName: string
  abi: InterfaceAbi
  bytecode: string
}

/** Exported from Hardhat's build by scripts/export-contracts.mjs. */
export const SPLITTER_ARTIFACT: ContractArtifact = require('./contracts/X402Splitter.json')
export const TEST_STABLECOIN_ARTIFACT: ContractArtifact = require('./contracts/TestStablecoin.json')
export const splitterInterface = new Interface(SPLITTER_ARTIFACT.abi)
export const PAID_TOPIC = splitterInterface.getEvent('Paid')!.topicHash

export const NATIVE_TOKEN = ZeroAddress

/** Development chains (Hardhat, Ganache): test tokens may be minted, demo wallets are public. */
export const LOCAL_CHAIN_IDS = new Set([31337, 1337])

/** Hardhat's public test account #3: the demo creator's payout wallet on a local chain. */
export const DEMO_CREATOR_WALLET = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'

export const QUOTE_TYPES: Record<string, TypedDataField[]> = {
  Quote: [
    { name: 'invoiceId', type: 'bytes32' },
    { name: 'videoIdHash', type: 'bytes32' },
    { name: 'payer', type: 'address' },
    { name: 'token', type: 'address' },
    { name: 'amount', type: 'uint256' },
    { name: 'creator', type: 'address' },
    { name: 'creatorShareBps', type: 'uint16' },
    { name: 'deadline', type: 'uint64' },
  ],
}

/** A quote as JSON carries it (uint256 as decimal strings). */
export interface Quote {
  invoiceId: string
  videoIdHash: string
  payer: string
  token: string
  amount: string
  creator: string
  creatorShareBps: number
  deadline: number
}

export function quoteDomain(chainId: number, contract: string): TypedDataDomain {
  return { name: 'Matinee X402Splitter', version: '1', chainId, verifyingContract: contract }
}

export function signQuote(signer: Wallet, chainId: number, contract: string, quote: Quote) {
  return signer.signTypedData(quoteDomain(chainId, contract), QUOTE_TYPES, { ...quote, amount: BigInt(quote.amount) })
}

/**
 * An order id (a UUID) as the quote's invoice id: its 16 bytes, then 16 zero
 * bytes. Reversible, so a log names its order without a lookup table.
 */
export function invoiceIdFor(orderId: string) {
  const hex = orderId.replace(/-/g, '').toLowerCase()
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`Not an order id: ${orderId}`)
  return `0x${hex}${'0'.repeat(32)}`
}

/** The order id an invoice id names, or null when it is not one of ours. */
export function orderIdOf(invoiceId: string): string | null {
  const match = /^0x([0-9a-f]{32})0{32}$/.exec(String(invoiceId).toLowerCase())
  if (!match) return null
  const h = match[1]
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** What the quote binds the video by: no video id is readable on chain. */
export function videoIdHashFor(videoId: string) {
  return keccak256(toUtf8Bytes(`matinee:video:${videoId}`))
}

/** A checksummed address, or null for anything else (and for the zero address). */
export function normalizeAddress(value: unknown): string | null {
  if (typeof value !== 'string' || !isAddress(value)) return null
  const address = getAddress(value)
  return address === ZeroAddress ? null : address
}

export function sameAddress(a: string, b: string) {
  return a.toLowerCase() === b.toLowerCase()
}

/**
 * The decimal `rate` (price of one whole token in the currency, "3000" or
 * "0.9995") as an exact fraction.
 */
export function parseRate(rate: string): { numerator: bigint; denominator: bigint } | null {
  const match = /^(\d{1,30})(?:\.(\d{1,30}))?$/.exec(String(rate).trim())
  if (!match) return null
  const fraction = match[2] ?? ''
  const numerator = BigInt(match[1] + fraction)
  if (numerator === 0n) return null
  return { numerator, denominator: 10n ** BigInt(fraction.length) }
}

/**
 * A price in the currency's minor units → token units, rounded up (the
 * platform is never paid less than the price): units = minor / 10^currencyExp
 * / rate × 10^tokenDecimals.
 */
export function toTokenUnits(input: { minor: number; currencyExponent: number; rate: string; decimals: number }) {
  const rate = parseRate(input.rate)
  if (!rate) throw new Error(`Invalid rate "${input.rate}"`)
  const numerator = BigInt(input.minor) * 10n ** BigInt(input.decimals) * rate.denominator
  const denominator = 10n ** BigInt(input.currencyExponent) * rate.numerator
  return (numerator + denominator - 1n) / denominator
}

/**
 * What the chain paid each side, in the order's minor units: the creator's
 * part in proportion, rounded down, the rest to the platform (the contract's
 * own rounding rule: remainders go to the platform).
 */
export function splitInMinorUnits(input: { priceMinor: number; amount: bigint; creatorAmount: bigint }) {
  if (input.amount <= 0n) return { creator: 0, platform: input.priceMinor }
  const creator = Number((BigInt(input.priceMinor) * input.creatorAmount) / input.amount)
  return { creator, platform: input.priceMinor - creator }
}

export interface PaidLog {
  invoiceId: string
  payer: string
  creator: string
  token: string
  amount: bigint
  creatorAmount: bigint
  platformAmount: bigint
  videoIdHash: string
}

/** Decodes a `Paid` log; throws on anything that is not one (wrong topic, truncated data...). */
export function decodePaidLog(log: { topics: readonly string[]; data: string }): PaidLog {
  if (log.topics[0] !== PAID_TOPIC || log.topics.length !== 4) throw new Error('not a Paid log (topics)')
  const parsed = splitterInterface.parseLog({ topics: [...log.topics], data: log.data })
  if (!parsed) throw new Error('not a Paid log')
  // parseLog tolerates trailing bytes; a well-formed Paid has exactly 5 words.
  if ((log.data.length - 2) / 2 !== 5 * 32) throw new Error(`Paid log data is ${(log.data.length - 2) / 2} bytes, not 160`)
  const [invoiceId, payer, creator, token, amount, creatorAmount, platformAmount, videoIdHash] = parsed.args
  if (creatorAmount + platformAmount !== amount) throw new Error('Paid log shares do not add up to its amount')
  return {
    invoiceId,
    payer: getAddress(payer),
    creator: getAddress(creator),
    token: getAddress(token),
    amount,
    creatorAmount,
    platformAmount,
    videoIdHash,
  }
}

/**
 * A JSON-RPC provider for a fixed chain: no network detection (that retries
 * forever against a dead RPC) and no response cache (stale nonces and heads).
 */
export function rpcProvider(url: string, chainId: number) {
  return new JsonRpcProvider(url, chainId, { staticNetwork: true, cacheTimeout: -1 })
}
