/*
| Keys everybody has: the accounts of the development chains' default
| mnemonics and the documentation example key. On a local chain they are
| handy (make dev, the tests); anywhere else whatever they hold or sign is
| anyone's, so `x402:deploy` refuses them there.
*/
import { HDNodeWallet, Mnemonic, Wallet, getAddress } from 'ethers'

/** Mnemonics whose accounts development chains fund by default. */
const PUBLIC_MNEMONICS = [
  // Hardhat, Anvil (Foundry): `npx hardhat node`, `anvil`.
  'test test test test test test test test test test test junk',
  // Ganache with --deterministic.
  'myth like bonus scare over problem client lizard pioneer submit female collect',
]
/** Accounts per mnemonic: Hardhat funds 20, Anvil and Ganache 10. */
const ACCOUNTS_PER_MNEMONIC = 20

/** Private keys printed in the ethers and web3.js documentation. */
const PUBLIC_KEYS = ['0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318']

let addresses: Set<string> | undefined

/** The addresses of every public development key (derived once, ~0.1 s). */
function publicAddresses() {
  if (!addresses) {
    addresses = new Set(PUBLIC_KEYS.map((key) => new Wallet(key).address))
    for (const phrase of PUBLIC_MNEMONICS) {
      const mnemonic = Mnemonic.fromPhrase(phrase)
      for (let index = 0; index < ACCOUNTS_PER_MNEMONIC; index++) {
        addresses.add(HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${index}`).address)
      }
    }
  }
  return addresses
}

/** Whether `address` belongs to a public development key. */
export function isDevelopmentAddress(address: string) {
  return publicAddresses().has(getAddress(address))
}

