/*
| The withdraw buttons of Studio → Crypto payouts (plugins/x402/views/wallet.edge).
| The splitter credits a creator's share it could not pay at sale time to
| the creator's wallet; only that wallet can take it out, so the creator's
| own wallet (window.ethereum) sends `withdraw(token)`. The page then
| reloads and shows what is left.
*/
import * as ethers from '/plugins/x402/ethers.js'

const ABI = ['function withdraw(address token)', 'function credits(address account, address token) view returns (uint256)']

for (const section of document.querySelectorAll('[data-x402-credits]')) {
  const status = section.querySelector('[data-x402-credits-status]')
  const say = (text) => (status.textContent = text)
  const { contract, wallet, chainId } = section.dataset
  for (const button of section.querySelectorAll('[data-withdraw-token]')) {
    button.addEventListener('click', async () => {
      if (!window.ethereum) return say('No wallet found in this browser: install one (MetaMask...) and reload the page.')
      button.disabled = true
      try {
        say('Confirm in your wallet…')
        const accounts = await window.ethereum.request({ method: 'eth_requestAccounts' })
        if (!accounts.some((account) => account.toLowerCase() === wallet.toLowerCase())) {
          throw new Error(`Switch your wallet to ${wallet}: only that address can withdraw its credits.`)
        }
        const hexChain = '0x' + Number(chainId).toString(16)
        if ((await window.ethereum.request({ method: 'eth_chainId' })) !== hexChain) {
          await window.ethereum.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: hexChain }] })
        }
        const provider = new ethers.BrowserProvider(window.ethereum)
        const signer = await provider.getSigner(wallet)
        const splitter = new ethers.Contract(contract, ABI, signer)
        const tx = await splitter.withdraw(button.dataset.withdrawToken)
        say(`Withdrawal sent (${tx.hash.slice(0, 10)}…), waiting for the chain…`)
        await tx.wait()
        say('Withdrawn to your wallet.')
        location.reload()
      } catch (error) {
        button.disabled = false
        say(error?.shortMessage ?? error?.info?.error?.message ?? error?.message ?? 'The withdrawal failed.')
      }
    })
  }
}
