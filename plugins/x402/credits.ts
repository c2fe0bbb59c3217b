import { Contract } from 'ethers'
import { formatTokenAmount } from '@matinee/plugin-kit'
import { NATIVE_TOKEN, SPLITTER_ARTIFACT } from './chain.js'
import type { X402Runtime } from './x402_runtime.js'

/** A creator's credited balance of one token in the splitter. */
export interface CreatorCredit {
  token: string
  symbol: string
  decimals: number
  /** Token units, decimal string. */
  units: string
  display: string
}

/**
 * What the splitter holds for a creator's wallet: shares it could not pay
 * at sale time (a wallet contract that refused the coin, a token that
 * refused the transfer), credited to `credits[wallet][token]` on chain. The
 * creator withdraws them with their own wallet (`withdraw(token)`), from
 * Studio → Crypto payouts; the server never holds that key.
 */
export async function creditsOf(runtime: X402Runtime, wallet: string): Promise<{ contract: string; credits: CreatorCredit[] } | null> {
  const contract = await runtime.contract()
  if (!contract) return null
  const splitter = new Contract(contract.address, SPLITTER_ARTIFACT.abi, runtime.provider)
  const tokens = [NATIVE_TOKEN]
  const stablecoin = await runtime.stablecoin()
  if (stablecoin) tokens.unshift(stablecoin)
  const credits: CreatorCredit[] = []
  for (const token of tokens) {
    const units: bigint = await splitter.credits(wallet, token)
    if (units === 0n) continue
    const info = await runtime.token(token)
    credits.push({ token, symbol: info.symbol, decimals: info.decimals, units: units.toString(), display: formatTokenAmount(units, info.decimals, info.symbol) })
  }
  return { contract: contract.address, credits }
}
