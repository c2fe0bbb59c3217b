#!/usr/bin/env node
// Buys a video over x402 with the official client and prints its first segment's size (README: "Pay by HTTP").
// Usage: X402_BUYER_KEY=0x<funded key> node scripts/x402-buy.mjs http://127.0.0.1:3333 <video id>
import { wrapFetchWithPaymentFromConfig, decodePaymentResponseHeader } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm'
import { privateKeyToAccount } from 'viem/accounts'

const [site, videoId] = process.argv.slice(2)
const client = new ExactEvmScheme(privateKeyToAccount(process.env.X402_BUYER_KEY))
// The client pays only assets it knows (USDC...) unless told: the local test stablecoin is allowed here.
const pay = wrapFetchWithPaymentFromConfig(fetch, { schemes: [{ network: 'eip155:*', client }], spendControls: { allowedAssets: true } })
const response = await pay(`${site}/api/v1/videos/${videoId}/session`)
if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`)
const session = await response.json()
const get = (url) => fetch(url, { headers: { authorization: `Bearer ${session.accessToken}` } })
const firstUri = (text, base) => new URL(text.split('\n').find((line) => line && !line.startsWith('#')), base)
const variant = firstUri(await (await get(session.masterUrl)).text(), session.masterUrl)
const segment = await get(firstUri(await (await get(variant)).text(), variant))
const { transaction } = decodePaymentResponseHeader(response.headers.get('payment-response'))
console.log(`paid in ${transaction}; first segment: ${(await segment.arrayBuffer()).byteLength} bytes`)
