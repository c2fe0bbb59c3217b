/**
 * EIP-3009 in the test stablecoin, and the splitter's settlement with a payer's authorization
 * (x402's `exact` scheme): one transaction pulls the tokens and splits them; a transfer executed
 * straight at the token by a front-runner leaves the tokens unallocated, and the owner refunds them.
 */
import { expect } from 'chai'
import { describe, it } from 'mocha'
import { network } from 'hardhat'
import { as, signAuthorization, signPermit, signQuote, type Quote } from './helpers/quotes.js'

const { ethers, networkHelpers } = await network.create()
const { loadFixture, time } = networkHelpers

const ZERO = ethers.ZeroAddress
const USD = (n: number) => BigInt(Math.round(n * 1_000_000))

async function deployFixture() {
  const [owner, quoteSigner, feeRecipient, creator, payer, facilitator, other] = await ethers.getSigners()
  const chainId = (await ethers.provider.getNetwork()).chainId
  const usd = await ethers.deployContract('TestStablecoin', [owner.address])
  const falseReturn = await ethers.deployContract('FalseReturnToken')
  const splitter = await ethers.deployContract('X402Splitter', [
    owner.address,
    quoteSigner.address,
    feeRecipient.address,
    [await usd.getAddress(), await falseReturn.getAddress()],
  ])
  await usd.mint(payer.address, USD(1000))
  return { owner, quoteSigner, feeRecipient, creator, payer, facilitator, other, chainId, usd, falseReturn, splitter, splitterAddress: await splitter.getAddress() }
}
type Fixture = Awaited<ReturnType<typeof deployFixture>>

let counter = 0
async function quote(f: Fixture, overrides: Partial<Quote> = {}): Promise<[Quote, string]> {
  counter += 1
  const q: Quote = {
    invoiceId: ethers.id(`auth-invoice-${counter}`),
    videoIdHash: ethers.id('video-7'),
    payer: f.payer.address,
    token: await f.usd.getAddress(),
    amount: USD(8.41),
    creator: f.creator.address,
    creatorShareBps: 8500,
    deadline: BigInt(await time.latest()) + 600n,
    ...overrides,
  }
  return [q, await signQuote(f.quoteSigner, f.splitter, f.chainId, q)]
}

async function authorize(
  f: Fixture,
  kind: 'TransferWithAuthorization' | 'ReceiveWithAuthorization',
  overrides: Partial<{ from: string; to: string; value: bigint; validAfter: bigint; validBefore: bigint; nonce: string }> = {},
  signer = f.payer
) {
  const now = BigInt(await time.latest())
  return signAuthorization(signer, f.usd, f.chainId, kind, {
    from: f.payer.address,
    to: f.splitterAddress,
    value: USD(8.41),
    validAfter: now - 60n,
    validBefore: now + 300n,
    nonce: ethers.hexlify(ethers.randomBytes(32)),
    ...overrides,
  })
}

function split(amount: bigint, bps: number): [bigint, bigint] {
  const creatorAmount = (amount * BigInt(bps)) / 10_000n
  return [creatorAmount, amount - creatorAmount]
}

describe('TestStablecoin: EIP-3009', function () {
  it('transferWithAuthorization moves the tokens once, submitted by anyone', async function () {
    const f = await loadFixture(deployFixture)
    const nonce = ethers.id('n-1')
    const auth = await authorize(f, 'TransferWithAuthorization', { to: f.other.address, value: 5n, nonce })
    const call = () =>
      as(f.usd, f.facilitator).transferWithAuthorization(f.payer.address, f.other.address, 5n, auth.struct.validAfter, auth.struct.validBefore, nonce, auth.v, auth.r, auth.s)
    expect(await f.usd.authorizationState(f.payer.address, nonce)).to.equal(false)
    await expect(call()).to.emit(f.usd, 'AuthorizationUsed').withArgs(f.payer.address, nonce)
    expect(await f.usd.balanceOf(f.other.address)).to.equal(5n)
    expect(await f.usd.authorizationState(f.payer.address, nonce)).to.equal(true)
    await expect(call()).to.be.revertedWithCustomError(f.usd, 'ERC3009UsedAuthorization')
  })

  it('refuses another value, another signer, and a time window that is not now', async function () {
    const f = await loadFixture(deployFixture)
    const now = BigInt(await time.latest())
    const auth = await authorize(f, 'TransferWithAuthorization', { to: f.other.address, value: 5n })
    const { validAfter, validBefore, nonce } = auth.struct
    await expect(
      f.usd.transferWithAuthorization(f.payer.address, f.other.address, 6n, validAfter, validBefore, nonce, auth.v, auth.r, auth.s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    const forged = await authorize(f, 'TransferWithAuthorization', { to: f.other.address, value: 5n }, f.other)
    await expect(
      f.usd.transferWithAuthorization(f.payer.address, f.other.address, 5n, forged.struct.validAfter, forged.struct.validBefore, forged.struct.nonce, forged.v, forged.r, forged.s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    const early = await authorize(f, 'TransferWithAuthorization', { to: f.other.address, value: 5n, validAfter: now + 100n })
    await expect(
      f.usd.transferWithAuthorization(f.payer.address, f.other.address, 5n, now + 100n, early.struct.validBefore, early.struct.nonce, early.v, early.r, early.s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidAuthorizationTime')
    const late = await authorize(f, 'TransferWithAuthorization', { to: f.other.address, value: 5n, validBefore: now - 1n, validAfter: 0n })
    await expect(
      f.usd.transferWithAuthorization(f.payer.address, f.other.address, 5n, 0n, now - 1n, late.struct.nonce, late.v, late.r, late.s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidAuthorizationTime')
    expect(await f.usd.balanceOf(f.other.address)).to.equal(0n)
  })

  it('receiveWithAuthorization can only be executed by its payee', async function () {
    const f = await loadFixture(deployFixture)
    const auth = await authorize(f, 'ReceiveWithAuthorization', { to: f.other.address, value: 7n })
    const { validAfter, validBefore, nonce } = auth.struct
    await expect(
      as(f.usd, f.facilitator).receiveWithAuthorization(f.payer.address, f.other.address, 7n, validAfter, validBefore, nonce, auth.v, auth.r, auth.s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC20InvalidReceiver')
    await as(f.usd, f.other).receiveWithAuthorization(f.payer.address, f.other.address, 7n, validAfter, validBefore, nonce, auth.v, auth.r, auth.s)
    expect(await f.usd.balanceOf(f.other.address)).to.equal(7n)
  })

  it('a cancelled authorization cannot be used, and permit still works', async function () {
    const f = await loadFixture(deployFixture)
    const auth = await authorize(f, 'TransferWithAuthorization', { to: f.other.address, value: 5n })
    const domain = { name: await f.usd.name(), version: '1', chainId: f.chainId, verifyingContract: await f.usd.getAddress() }
    const cancel = ethers.Signature.from(
      await f.payer.signTypedData(domain, { CancelAuthorization: [{ name: 'authorizer', type: 'address' }, { name: 'nonce', type: 'bytes32' }] }, { authorizer: f.payer.address, nonce: auth.struct.nonce })
    )
    await expect(f.usd.cancelAuthorization(f.payer.address, auth.struct.nonce, cancel.v, cancel.r, cancel.s))
      .to.emit(f.usd, 'AuthorizationCanceled')
      .withArgs(f.payer.address, auth.struct.nonce)
    await expect(
      f.usd.transferWithAuthorization(f.payer.address, f.other.address, 5n, auth.struct.validAfter, auth.struct.validBefore, auth.struct.nonce, auth.v, auth.r, auth.s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC3009UsedAuthorization')

    const deadline = BigInt(await time.latest()) + 600n
    const permit = await signPermit(f.payer, f.usd, f.chainId, f.other.address, 9n, deadline)
    await f.usd.permit(f.payer.address, f.other.address, 9n, deadline, permit.v, permit.r, permit.s)
    expect(await f.usd.allowance(f.payer.address, f.other.address)).to.equal(9n)
  })
})

describe('X402Splitter: settlement with an EIP-3009 authorization', function () {
  for (const [method, kind] of [
    ['settleWithReceiveAuthorization', 'ReceiveWithAuthorization'],
    ['settleWithTransferAuthorization', 'TransferWithAuthorization'],
  ] as const) {
    it(`${method}: a third party submits it; one transaction pulls and splits`, async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await quote(f)
      const auth = await authorize(f, kind)
      const [creatorAmount, platformAmount] = split(q.amount, q.creatorShareBps)
      const tx = as(f.splitter, f.facilitator)[method](q, sig, auth.struct)
      await expect(tx)
        .to.emit(f.splitter, 'Paid')
        .withArgs(q.invoiceId, q.payer, q.creator, q.token, q.amount, creatorAmount, platformAmount, q.videoIdHash)
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.usd,
        [f.payer, f.creator, f.feeRecipient, f.splitter, f.facilitator],
        [-q.amount, creatorAmount, platformAmount, 0n, 0n]
      )
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(true)
      expect(await f.usd.authorizationState(f.payer.address, auth.struct.nonce)).to.equal(true)

      // Neither the invoice nor the authorization settles twice.
      await expect(as(f.splitter, f.facilitator)[method](q, sig, auth.struct)).to.be.revertedWithCustomError(f.splitter, 'InvoiceUsed')
      const [q2, sig2] = await quote(f)
      await expect(as(f.splitter, f.facilitator)[method](q2, sig2, auth.struct)).to.be.revertedWithCustomError(f.usd, 'ERC3009UsedAuthorization')
    })
  }

  it('refuses an authorization for another amount, recipient, payer or kind, and a quote not signed by the signer', async function () {
    const f = await loadFixture(deployFixture)
    const [q, sig] = await quote(f)
    const settle = (auth: { struct: object }, qq = q, s = sig) => as(f.splitter, f.facilitator).settleWithTransferAuthorization(qq, s, auth.struct)
    await expect(settle(await authorize(f, 'TransferWithAuthorization', { value: q.amount - 1n }))).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    await expect(settle(await authorize(f, 'TransferWithAuthorization', { to: f.other.address }))).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    await expect(settle(await authorize(f, 'TransferWithAuthorization', {}, f.other))).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    // A ReceiveWithAuthorization is not a TransferWithAuthorization (and the other way round).
    await expect(settle(await authorize(f, 'ReceiveWithAuthorization'))).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    await expect(
      as(f.splitter, f.facilitator).settleWithReceiveAuthorization(q, sig, (await authorize(f, 'TransferWithAuthorization')).struct)
    ).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    // The payer cannot write their own quote.
    const forgedQuote = await signQuote(f.payer, f.splitter, f.chainId, q)
    await expect(settle(await authorize(f, 'TransferWithAuthorization'), q, forgedQuote)).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')
    // The quote names the payer: another wallet's authorization does not pay it.
    const [forOther, forOtherSig] = await quote(f, { payer: f.other.address })
    await f.usd.mint(f.other.address, USD(100))
    await expect(settle(await authorize(f, 'TransferWithAuthorization'), forOther, forOtherSig)).to.be.revertedWithCustomError(f.usd, 'ERC3009InvalidSignature')
    expect(await f.usd.balanceOf(f.payer.address)).to.equal(USD(1000))
    expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(false)
  })

  it('refuses an expired quote, a native-coin quote, and any settlement while paused', async function () {
    const f = await loadFixture(deployFixture)
    const [expired, expiredSig] = await quote(f, { deadline: BigInt(await time.latest()) - 1n })
    await expect(
      as(f.splitter, f.facilitator).settleWithReceiveAuthorization(expired, expiredSig, (await authorize(f, 'ReceiveWithAuthorization')).struct)
    ).to.be.revertedWithCustomError(f.splitter, 'QuoteExpired')
    const [native, nativeSig] = await quote(f, { token: ZERO })
    await expect(
      as(f.splitter, f.facilitator).settleWithReceiveAuthorization(native, nativeSig, (await authorize(f, 'ReceiveWithAuthorization')).struct)
    ).to.be.revertedWithCustomError(f.splitter, 'WrongToken')
    await f.splitter.pause()
    const [q, sig] = await quote(f)
    await expect(
      as(f.splitter, f.facilitator).settleWithReceiveAuthorization(q, sig, (await authorize(f, 'ReceiveWithAuthorization')).struct)
    ).to.be.revertedWithCustomError(f.splitter, 'EnforcedPause')
  })

  it('a receive authorization cannot be front-run at the token', async function () {
    const f = await loadFixture(deployFixture)
    const [q, sig] = await quote(f)
    const auth = await authorize(f, 'ReceiveWithAuthorization')
    const { validAfter, validBefore, nonce, v, r, s } = auth.struct
    await expect(
      as(f.usd, f.other).receiveWithAuthorization(f.payer.address, f.splitterAddress, q.amount, validAfter, validBefore, nonce, v, r, s)
    ).to.be.revertedWithCustomError(f.usd, 'ERC20InvalidReceiver')
    await expect(as(f.splitter, f.facilitator).settleWithReceiveAuthorization(q, sig, auth.struct)).to.emit(f.splitter, 'Paid')
  })

  it('a transfer authorization front-run at the token: the settlement reverts, the tokens are unallocated and the owner refunds them', async function () {
    const f = await loadFixture(deployFixture)
    const [q, sig] = await quote(f)
    const auth = await authorize(f, 'TransferWithAuthorization')
    const { validAfter, validBefore, nonce, v, r, s } = auth.struct
    // Someone copies the authorization from the mempool and executes it straight at the token.
    await as(f.usd, f.other).transferWithAuthorization(f.payer.address, f.splitterAddress, q.amount, validAfter, validBefore, nonce, v, r, s)
    expect(await f.usd.balanceOf(f.splitterAddress)).to.equal(q.amount)
    await expect(as(f.splitter, f.facilitator).settleWithTransferAuthorization(q, sig, auth.struct)).to.be.revertedWithCustomError(f.usd, 'ERC3009UsedAuthorization')
    expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(false)
    const usd = await f.usd.getAddress()
    expect(await f.splitter.unallocated(usd)).to.equal(q.amount)

    await expect(as(f.splitter, f.other).refundUnallocated(usd, f.other.address, q.amount)).to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
    await expect(f.splitter.refundUnallocated(usd, f.payer.address, q.amount + 1n))
      .to.be.revertedWithCustomError(f.splitter, 'NotEnoughUnallocated')
      .withArgs(q.amount, q.amount + 1n)
    await expect(f.splitter.refundUnallocated(usd, ZERO, q.amount)).to.be.revertedWithCustomError(f.splitter, 'ZeroAddress')
    await expect(f.splitter.refundUnallocated(usd, f.payer.address, 0n)).to.be.revertedWithCustomError(f.splitter, 'ZeroAmount')
    // It works while paused: a pause never freezes a buyer's money.
    await f.splitter.pause()
    await expect(f.splitter.refundUnallocated(usd, f.payer.address, q.amount))
      .to.emit(f.splitter, 'UnallocatedRefunded')
      .withArgs(usd, f.payer.address, q.amount)
    expect(await f.usd.balanceOf(f.payer.address)).to.equal(USD(1000))
    expect(await f.splitter.unallocated(usd)).to.equal(0n)
  })

  it('refundUnallocated never touches what is owed to creators as credits', async function () {
    const f = await loadFixture(deployFixture)
    const frt = f.falseReturn
    const frtAddress = await frt.getAddress()
    await frt.mint(f.payer.address, 10_000n)
    await frt.setBlocked(f.creator.address, true)
    const [q, sig] = await quote(f, { token: frtAddress, amount: 1000n, creatorShareBps: 9000 })
    await as(frt, f.payer).approve(f.splitterAddress, 1000n)
    await expect(as(f.splitter, f.payer).payERC20(q, sig)).to.emit(f.splitter, 'CreatorCredited')
    expect(await f.splitter.totalCredits(frtAddress)).to.equal(900n)
    expect(await f.splitter.unallocated(frtAddress)).to.equal(0n)
    await expect(f.splitter.refundUnallocated(frtAddress, f.owner.address, 1n)).to.be.revertedWithCustomError(f.splitter, 'NotEnoughUnallocated')

    // A stray transfer on top of the credit: only the stray part can be refunded.
    await as(frt, f.payer).transfer(f.splitterAddress, 50n)
    expect(await f.splitter.unallocated(frtAddress)).to.equal(50n)
    await f.splitter.refundUnallocated(frtAddress, f.payer.address, 50n)
    await frt.setBlocked(f.creator.address, false)
    await expect(as(f.splitter, f.creator).withdraw(frtAddress)).to.emit(f.splitter, 'Withdrawn').withArgs(f.creator.address, frtAddress, f.creator.address, 900n)
    expect(await f.splitter.totalCredits(frtAddress)).to.equal(0n)
  })
})
