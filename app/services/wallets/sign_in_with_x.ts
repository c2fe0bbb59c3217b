import { randomBytes } from 'node:crypto'
import vine from '@vinejs/vine'
import { getAddress, verifyMessage } from 'ethers'
import redis from '@adonisjs/redis/services/main'
import walletSignInConfig from '#config/wallet_sign_in'
import { PlaybackError } from '#exceptions/playback_error'

/** The x402 v2 extension key and request header (specs/extensions/sign-in-with-x.md in the x402 repository). */
export const SIGN_IN_WITH_X = 'sign-in-with-x'
export const SIGN_IN_WITH_X_HEADER = 'SIGN-IN-WITH-X'

const STATEMENT = 'Sign in to reopen a video this wallet bought'
const nonceKey = (nonce: string) => `siwx:nonce:${nonce}`
const isoDate = () => vine.string().maxLength(40).regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/)

/** The proof a client sends (base64 JSON in SIGN-IN-WITH-X): the server's fields echoed, plus address and signature. */
const proofValidator = vine.create({
  domain: vine.string().maxLength(255),
  address: vine.string().regex(/^0x[0-9a-fA-F]{40}$/),
  statement: vine.string().maxLength(500).optional(),
  uri: vine.string().maxLength(2000),
  version: vine.string().in(['1']),
  chainId: vine.string().regex(/^eip155:\d{1,12}$/),
  type: vine.string().in(['eip191']),
  nonce: vine.string().regex(/^[0-9a-f]{32}$/),
  issuedAt: isoDate(),
  expirationTime: isoDate().optional(),
  notBefore: isoDate().optional(),
  requestId: vine.string().maxLength(200).optional(),
  resources: vine.array(vine.string().maxLength(2000)).maxLength(10).optional(),
  signatureScheme: vine.string().in(['eip191']).optional(),
  signature: vine.string().regex(/^0x[0-9a-fA-F]{130}$/),
})

export type SiwxProof = Awaited<ReturnType<typeof proofValidator.validate>>

/** What the server declares in a 402's `extensions["sign-in-with-x"]` (and the challenge endpoint answers). */
export interface SiwxExtension {
  info: {
    domain: string
    uri: string
    version: '1'
    nonce: string
    issuedAt: string
    expirationTime: string
    statement: string
    resources: string[]
  }
  supportedChains: Array<{ chainId: string; type: 'eip191'; signatureScheme: 'eip191' }>
}

/** A refused sign-in: 400 for a header that is not a proof at all, 401 for a proof we do not accept. */
function refused(message: string, status = 401) {
  return new PlaybackError(status === 400 ? 'invalid_sign_in' : 'sign_in_refused', status, message)
}

/**
 * The EIP-4361 message for a proof's fields, as the wallet signed it
 * (the same text as viem's createSiweMessage and the siwe package).
 */
export function siweMessage(fields: Omit<SiwxProof, 'signature' | 'type' | 'signatureScheme'>) {
  const chainId = fields.chainId.split(':')[1]
  const lines = [`${fields.domain} wants you to sign in with your Ethereum account:`, fields.address, '']
  if (fields.statement) lines.push(fields.statement, '')
  lines.push(`URI: ${fields.uri}`, `Version: ${fields.version}`, `Chain ID: ${chainId}`, `Nonce: ${fields.nonce}`, `Issued At: ${fields.issuedAt}`)
  if (fields.expirationTime) lines.push(`Expiration Time: ${fields.expirationTime}`)
  if (fields.notBefore) lines.push(`Not Before: ${fields.notBefore}`)
  if (fields.requestId) lines.push(`Request ID: ${fields.requestId}`)
  if (fields.resources?.length) lines.push('Resources:', ...fields.resources.map((resource) => `- ${resource}`))
  return lines.join('\n')
}

/**
 * Sign-In With Ethereum (the x402 `sign-in-with-x` extension, EIP-4361
 * messages): the server issues a challenge whose nonce it keeps in Redis
 * (single use, expires with the challenge); the client signs the message
 * with its wallet and sends the proof; the server checks domain, URI,
 * chain, time window and signature, and spends the nonce. Who the wallet
 * is to the shop (which orders it paid) is the caller's business.
 */
export class SignInWithX {
  /** The resource a challenge is for: the session URL of one video. */
  resourceUri(videoId: string) {
    return `${walletSignInConfig.origin}/api/v1/videos/${videoId}/session`
  }

  /** A fresh challenge for one video, its nonce kept (single use) until it expires. */
  async challenge(videoId: string): Promise<SiwxExtension> {
    const nonce = randomBytes(16).toString('hex')
    const issuedAt = new Date()
    const expiresAt = new Date(issuedAt.getTime() + walletSignInConfig.challengeTtlSeconds * 1000)
    await redis.set(nonceKey(nonce), videoId, 'EX', walletSignInConfig.challengeTtlSeconds)
    const uri = this.resourceUri(videoId)
    return {
      info: {
        domain: new URL(walletSignInConfig.origin).host,
        uri,
        version: '1',
        nonce,
        issuedAt: issuedAt.toISOString(),
        expirationTime: expiresAt.toISOString(),
        statement: STATEMENT,
        resources: [uri],
      },
      supportedChains: [{ chainId: `eip155:${walletSignInConfig.chainId}`, type: 'eip191', signatureScheme: 'eip191' }],
    }
  }

  /** Decodes the SIGN-IN-WITH-X header (base64 JSON, or plain JSON as some clients send). */
  async parse(header: string): Promise<SiwxProof> {
    let decoded: unknown
    try {
      const text = header.trim().startsWith('{') ? header : Buffer.from(header.trim(), 'base64').toString('utf8')
      decoded = JSON.parse(text)
    } catch {
      throw refused(`${SIGN_IN_WITH_X_HEADER} must be base64-encoded JSON`, 400)
    }
    try {
      return await proofValidator.validate(decoded)
    } catch (error) {
      const first = (error as { messages?: Array<{ field: string; message: string }> }).messages?.[0]
      throw refused(`${SIGN_IN_WITH_X_HEADER} is not a valid proof${first ? `: ${first.field}: ${first.message}` : ''}`, 400)
    }
  }

  /**
   * Checks a proof for one video and spends its nonce; returns the wallet
   * (checksummed) that signed it. Every refusal says why.
   */
  async verify(header: string, videoId: string): Promise<string> {
    const proof = await this.parse(header)
    const origin = walletSignInConfig.origin
    const now = Date.now()
    if (proof.domain !== new URL(origin).host) throw refused(`The message was signed for ${proof.domain}, not for this site`)
    let uri: URL
    try {
      uri = new URL(proof.uri)
    } catch {
      throw refused('The message\'s URI is not a URL', 400)
    }
    if (uri.origin !== origin) throw refused(`The message's URI is on ${uri.origin}, not on this site`)
    if (proof.uri !== this.resourceUri(videoId)) throw refused('The message was signed for another video')
    if (proof.chainId !== `eip155:${walletSignInConfig.chainId}`) throw refused(`Sign in on chain eip155:${walletSignInConfig.chainId}, not ${proof.chainId}`)
    const issuedAt = Date.parse(proof.issuedAt)
    if (issuedAt > now + 30_000) throw refused('The message is issued in the future')
    if (issuedAt < now - walletSignInConfig.challengeTtlSeconds * 1000) throw refused('The challenge is too old: ask for a new one')
    if (proof.expirationTime && Date.parse(proof.expirationTime) <= now) throw refused('The message has expired: ask for a new challenge')
    if (proof.notBefore && Date.parse(proof.notBefore) > now) throw refused('The message is not valid yet')

    let signer: string
    try {
      signer = verifyMessage(siweMessage(proof), proof.signature)
    } catch {
      throw refused('The signature is not valid')
    }
    const address = getAddress(proof.address.toLowerCase())
    if (signer !== address) throw refused('The signature was not made by the address in the message')

    // Single use: the first request to spend the nonce wins, a replay finds it gone.
    const challengedVideo = await redis.getdel(nonceKey(proof.nonce))
    if (challengedVideo === null) throw refused('This challenge was already used or has expired: ask for a new one')
    if (challengedVideo !== videoId) throw refused('The challenge was issued for another video')
    return address
  }
}

const signInWithX = new SignInWithX()
export default signInWithX
