import env from '#start/env'

/**
 * Sign-In With Ethereum for returning wallets (the x402 `sign-in-with-x`
 * extension): a wallet that paid for a video signs a challenge to reopen it.
 */
const walletSignInConfig = {
  /**
   * The public origin wallets sign for (domain and URI are checked against
   * it, never against the request's Host header, which the caller sets).
   */
  origin: new URL(env.get('APP_URL')).origin,
  /** The chain wallets pay on: signatures for another chain id are refused. */
  chainId: Number(env.get('X402_CHAIN_ID') || 31337),
  /** How long a challenge (its nonce) may be answered; the spec's default is 5 minutes. */
  challengeTtlSeconds: env.get('WALLET_SIGN_IN_TTL_SECONDS', 300),
}

export default walletSignInConfig
