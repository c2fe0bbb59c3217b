/**
 * Shared helpers for the X402Splitter tests: the EIP-712 domain/types an off-chain client uses
 * to sign quotes (ethers v6), and small typed wrappers.
 *
 * This file sits in the mocha tests folder, so Hardhat loads it as a test file too; it only
 * exports helpers and declares no tests.
 */
import { Signature } from 'ethers'
import type { Contract, Signer, TypedDataDomain, TypedDataField } from 'ethers'

export const DOMAIN_NAME = 'Matinee X402Splitter'
export const DOMAIN_VERSION = '1'

export const QUOTE_TYPE_STRING =
  'Quote(bytes32 invoiceId,bytes32 videoIdHash,address payer,address token,uint256 amount,address creator,uint16 creatorShareBps,uint64 deadline)'

// The one definition of the quote's EIP-712 type: the one the server signs with.
export { QUOTE_TYPES } from '../../../plugins/x402/chain.js'
import { QUOTE_TYPES } from '../../../plugins/x402/chain.js'

export interface Quote {
  invoiceId: string
  videoIdHash: string
  payer: string
  token: string
  amount: bigint
  creator: string
  creatorShareBps: number
  deadline: bigint
}

export const PERMIT_TYPES: Record<string, TypedDataField[]> = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
}

/** ethers v6 `Contract.connect` is typed as returning `BaseContract`; keep the dynamic methods. */
export function as(contract: Contract, signer: Signer): Contract {
  return contract.connect(signer) as Contract
}

export async function quoteDomain(splitter: Contract, chainId: bigint): Promise<TypedDataDomain> {
  return {
    name: DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId,
    verifyingContract: await splitter.getAddress(),
  }
}

export async function signQuote(
  signer: Signer,
  splitter: Contract,
  chainId: bigint,
  quote: Quote
): Promise<string> {
  return signer.signTypedData(await quoteDomain(splitter, chainId), QUOTE_TYPES, quote)
}

/** EIP-2612 permit signature split into v, r, s. */
export async function signPermit(
  owner: Signer,
  token: Contract,
  chainId: bigint,
  spender: string,
  value: bigint,
  deadline: bigint
): Promise<{ v: number; r: string; s: string }> {
  const ownerAddress = await owner.getAddress()
  const domain: TypedDataDomain = {
    name: await token.name(),
    version: '1',
    chainId,
    verifyingContract: await token.getAddress(),
  }
  const nonce: bigint = await token.nonces(ownerAddress)
  const signature = await owner.signTypedData(domain, PERMIT_TYPES, {
    owner: ownerAddress,
    spender,
    value,
    nonce,
    deadline,
  })
  const { v, r, s } = Signature.from(signature)
  return { v, r, s }
}

/** EIP-3009 (USDC's gasless transfers): the two authorization types a payer can sign. */
export const AUTHORIZATION_FIELDS: TypedDataField[] = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
]

export interface Eip3009Authorization {
  from: string
  to: string
  value: bigint
  validAfter: bigint
  validBefore: bigint
  nonce: string
}

/**
 * Signs an EIP-3009 authorization with the token's EIP-712 domain (version "1"), returning the
 * authorization and its v, r, s as the splitter's `Authorization` struct takes them.
 */
export async function signAuthorization(
  payer: Signer,
  token: Contract,
  chainId: bigint,
  kind: 'TransferWithAuthorization' | 'ReceiveWithAuthorization',
  authorization: Eip3009Authorization
) {
  const domain: TypedDataDomain = { name: await token.name(), version: '1', chainId, verifyingContract: await token.getAddress() }
  const signature = await payer.signTypedData(domain, { [kind]: AUTHORIZATION_FIELDS }, authorization)
  const { v, r, s } = Signature.from(signature)
  return {
    signature,
    v,
    r,
    s,
    /** The splitter's `Authorization` struct. */
    struct: { validAfter: authorization.validAfter, validBefore: authorization.validBefore, nonce: authorization.nonce, v, r, s },
  }
}
