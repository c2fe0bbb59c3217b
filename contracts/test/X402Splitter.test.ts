import { expect } from 'chai'
import { describe, it } from 'mocha'
import { network } from 'hardhat'
import type { Contract } from 'ethers'
import {
  as,
  DOMAIN_NAME,
  DOMAIN_VERSION,
  QUOTE_TYPE_STRING,
  QUOTE_TYPES,
  quoteDomain,
  signPermit,
  signQuote,
  type Quote,
} from './helpers/quotes.js'

const { ethers, networkHelpers } = await network.create()
const { loadFixture, time } = networkHelpers

const ZERO = ethers.ZeroAddress
const ONE_ETH = ethers.parseEther('1')
const USD = (n: number) => BigInt(Math.round(n * 1_000_000)) // 6 decimals
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

async function deployFixture() {
  const [owner, quoteSigner, feeRecipient, creator, payer, other, newSigner] = await ethers.getSigners()
  const chainId = (await ethers.provider.getNetwork()).chainId

  const usd = await ethers.deployContract('TestStablecoin', [owner.address])
  const noReturn = await ethers.deployContract('NoReturnToken')
  const falseReturn = await ethers.deployContract('FalseReturnToken')
  const feeToken = await ethers.deployContract('FeeOnTransferToken')
  const notAllowed = await ethers.deployContract('TestStablecoin', [owner.address])

  const allowed = [
    await usd.getAddress(),
    await noReturn.getAddress(),
    await falseReturn.getAddress(),
    await feeToken.getAddress(),
  ]
  const splitter = await ethers.deployContract('X402Splitter', [
    owner.address,
    quoteSigner.address,
    feeRecipient.address,
    allowed,
  ])
  const splitterAddress = await splitter.getAddress()

  await usd.mint(payer.address, USD(1_000_000))
  await notAllowed.mint(payer.address, USD(1_000_000))
  await noReturn.mint(payer.address, USD(1_000_000))
  await falseReturn.mint(payer.address, ethers.parseEther('1000000'))
  await feeToken.mint(payer.address, ethers.parseEther('1000000'))

  const revertingCreator = await ethers.deployContract('RevertingCreator')
  const reentrantCreator = await ethers.deployContract('ReentrantCreator')

  return {
    owner,
    quoteSigner,
    feeRecipient,
    creator,
    payer,
    other,
    newSigner,
    chainId,
    usd,
    noReturn,
    falseReturn,
    feeToken,
    notAllowed,
    splitter,
    splitterAddress,
    revertingCreator,
    reentrantCreator,
  }
}

type Fixture = Awaited<ReturnType<typeof deployFixture>>

let invoiceCounter = 0

async function makeQuote(f: Fixture, overrides: Partial<Quote> = {}): Promise<Quote> {
  invoiceCounter += 1
  return {
    invoiceId: ethers.id(`invoice-${invoiceCounter}`),
    videoIdHash: ethers.id('video-42'),
    payer: f.payer.address,
    token: ZERO,
    amount: ONE_ETH,
    creator: f.creator.address,
    creatorShareBps: 8000,
    deadline: BigInt(await time.latest()) + 600n,
    ...overrides,
  }
}

async function signed(f: Fixture, overrides: Partial<Quote> = {}): Promise<[Quote, string]> {
  const q = await makeQuote(f, overrides)
  return [q, await signQuote(f.quoteSigner, f.splitter, f.chainId, q)]
}

function split(amount: bigint, bps: number): [bigint, bigint] {
  const creatorAmount = (amount * BigInt(bps)) / 10_000n
  return [creatorAmount, amount - creatorAmount]
}

async function approve(token: Contract, f: Fixture, amount: bigint) {
  await as(token, f.payer).approve(f.splitterAddress, amount)
}

describe('X402Splitter', function () {
  describe('deployment and EIP-712', function () {
    it('stores owner, quote signer, fee recipient and the token allowlist, with events', async function () {
      const f = await loadFixture(deployFixture)
      const { splitter } = f
      expect(await splitter.owner()).to.equal(f.owner.address)
      expect(await splitter.quoteSigner()).to.equal(f.quoteSigner.address)
      expect(await splitter.feeRecipient()).to.equal(f.feeRecipient.address)
      expect(await splitter.allowedTokens(await f.usd.getAddress())).to.equal(true)
      expect(await splitter.isTokenAllowed(await f.noReturn.getAddress())).to.equal(true)
      expect(await splitter.isTokenAllowed(await f.notAllowed.getAddress())).to.equal(false)
      // the native coin is always allowed
      expect(await splitter.isTokenAllowed(ZERO)).to.equal(true)
      expect(await splitter.allowedTokens(ZERO)).to.equal(false)
      expect(await splitter.paused()).to.equal(false)

      const deployTx = splitter.deploymentTransaction()!
      await expect(deployTx).to.emit(splitter, 'QuoteSignerChanged').withArgs(ZERO, f.quoteSigner.address)
      await expect(deployTx).to.emit(splitter, 'FeeRecipientChanged').withArgs(ZERO, f.feeRecipient.address)
      await expect(deployTx)
        .to.emit(splitter, 'TokenAllowedSet')
        .withArgs(await f.usd.getAddress(), true)
    })

    it('refuses zero addresses in the constructor', async function () {
      const f = await loadFixture(deployFixture)
      const factory = await ethers.getContractFactory('X402Splitter')
      const a = f.owner.address
      await expect(factory.deploy(ZERO, a, a, [])).to.be.revertedWithCustomError(factory, 'OwnableInvalidOwner')
      await expect(factory.deploy(a, ZERO, a, [])).to.be.revertedWithCustomError(factory, 'ZeroAddress')
      await expect(factory.deploy(a, a, ZERO, [])).to.be.revertedWithCustomError(factory, 'ZeroAddress')
      await expect(factory.deploy(a, a, a, [ZERO])).to.be.revertedWithCustomError(factory, 'ZeroAddress')
    })

    it('exposes the EIP-712 domain, type hash, struct hash and digest that ethers computes', async function () {
      const f = await loadFixture(deployFixture)
      const { splitter } = f
      const domain = await quoteDomain(splitter, f.chainId)
      const [q, sig] = await signed(f)

      const d = await splitter.eip712Domain()
      expect(d.name).to.equal(DOMAIN_NAME)
      expect(d.version).to.equal(DOMAIN_VERSION)
      expect(d.chainId).to.equal(f.chainId)
      expect(d.verifyingContract).to.equal(f.splitterAddress)

      expect(ethers.TypedDataEncoder.from(QUOTE_TYPES).encodeType('Quote')).to.equal(QUOTE_TYPE_STRING)
      expect(await splitter.QUOTE_TYPEHASH()).to.equal(ethers.id(QUOTE_TYPE_STRING))
      expect(await splitter.domainSeparator()).to.equal(ethers.TypedDataEncoder.hashDomain(domain))
      expect(await splitter.hashQuote(q)).to.equal(ethers.TypedDataEncoder.hashStruct('Quote', QUOTE_TYPES, q))
      const digest = await splitter.quoteDigest(q)
      expect(digest).to.equal(ethers.TypedDataEncoder.hash(domain, QUOTE_TYPES, q))
      expect(ethers.recoverAddress(digest, sig)).to.equal(f.quoteSigner.address)
      expect(ethers.verifyTypedData(domain, QUOTE_TYPES, q, sig)).to.equal(f.quoteSigner.address)
    })
  })

  describe('payNative', function () {
    it('splits the payment between creator and platform in the same transaction', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f, { amount: ethers.parseEther('0.05'), creatorShareBps: 8500 })
      const [creatorAmount, platformAmount] = split(q.amount, 8500)
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(false)

      const tx = as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      await expect(tx)
        .to.emit(f.splitter, 'Paid')
        .withArgs(q.invoiceId, q.payer, q.creator, ZERO, q.amount, creatorAmount, platformAmount, q.videoIdHash)
      await expect(tx).to.changeEtherBalances(
        ethers,
        [f.payer, f.creator, f.feeRecipient, f.splitterAddress],
        [-q.amount, creatorAmount, platformAmount, 0n]
      )
      await expect(tx).not.to.emit(f.splitter, 'CreatorCredited')
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(true)
      expect(await ethers.provider.getBalance(f.splitterAddress)).to.equal(0n)
    })

    it('refuses a replayed invoice (same quote, or another quote reusing the invoice id)', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f)
      await as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount }))
        .to.be.revertedWithCustomError(f.splitter, 'InvoiceUsed')
        .withArgs(q.invoiceId)

      // a freshly signed quote for the same invoice, even on the ERC-20 path, is refused too
      const [q2, sig2] = await signed(f, {
        invoiceId: q.invoiceId,
        token: await f.usd.getAddress(),
        amount: USD(5),
      })
      await approve(f.usd, f, USD(5))
      await expect(as(f.splitter, f.payer).payERC20(q2, sig2))
        .to.be.revertedWithCustomError(f.splitter, 'InvoiceUsed')
        .withArgs(q.invoiceId)
    })

    it('accepts a quote up to and including its deadline, refuses it after', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f)
      await time.setNextBlockTimestamp(q.deadline)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })).to.emit(f.splitter, 'Paid')

      const [q2, sig2] = await signed(f)
      await time.increaseTo(q2.deadline)
      await time.setNextBlockTimestamp(q2.deadline + 1n)
      await expect(as(f.splitter, f.payer).payNative(q2, sig2, { value: q2.amount }))
        .to.be.revertedWithCustomError(f.splitter, 'QuoteExpired')
        .withArgs(q2.deadline, q2.deadline + 1n)
      expect(await f.splitter.usedInvoices(q2.invoiceId)).to.equal(false)
    })

    it('refuses a quote not signed by the quote signer', async function () {
      const f = await loadFixture(deployFixture)
      const pay = (q: Quote, sig: string) => as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })

      // signed by someone else
      const q1 = await makeQuote(f)
      const sigOther = await signQuote(f.other, f.splitter, f.chainId, q1)
      await expect(pay(q1, sigOther)).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')

      // a field changed after signing
      const [q2, sig2] = await signed(f)
      await expect(pay({ ...q2, creatorShareBps: 9000 }, sig2)).to.be.revertedWithCustomError(
        f.splitter,
        'InvalidSignature'
      )
      await expect(pay({ ...q2, amount: q2.amount - 1n }, sig2)).to.be.revertedWithCustomError(
        f.splitter,
        'InvalidSignature'
      )

      // signed for another chain id
      const q3 = await makeQuote(f)
      const sigChain = await signQuote(f.quoteSigner, f.splitter, f.chainId + 1n, q3)
      await expect(pay(q3, sigChain)).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')

      // signed for another deployment (verifyingContract)
      const otherSplitter = await ethers.deployContract('X402Splitter', [
        f.owner.address,
        f.quoteSigner.address,
        f.feeRecipient.address,
        [],
      ])
      const q4 = await makeQuote(f)
      const sigDeployment = await signQuote(f.quoteSigner, otherSplitter, f.chainId, q4)
      await expect(pay(q4, sigDeployment)).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')

      // malformed signatures
      const [q5, sig5] = await signed(f)
      await expect(pay(q5, '0x')).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')
      await expect(pay(q5, sig5.slice(0, -2))).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')
      await expect(pay(q5, '0x' + '11'.repeat(65))).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')

      // malleated (high-s) version of a valid signature
      const parsed = ethers.Signature.from(sig5)
      const highS = ethers.toBeHex(SECP256K1_N - BigInt(parsed.s), 32)
      const flippedV = parsed.v === 27 ? '1c' : '1b'
      const malleated = ethers.concat([parsed.r, highS, '0x' + flippedV])
      await expect(pay(q5, malleated)).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')

      // and the untouched one still works
      await expect(pay(q5, sig5)).to.emit(f.splitter, 'Paid')
    })

    it('refuses a value different from the quoted amount', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount - 1n }))
        .to.be.revertedWithCustomError(f.splitter, 'WrongAmount')
        .withArgs(q.amount, q.amount - 1n)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount + 1n }))
        .to.be.revertedWithCustomError(f.splitter, 'WrongAmount')
        .withArgs(q.amount, q.amount + 1n)
      await expect(as(f.splitter, f.payer).payNative(q, sig))
        .to.be.revertedWithCustomError(f.splitter, 'WrongAmount')
        .withArgs(q.amount, 0n)
    })

    it('refuses a quote submitted by someone other than its payer', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f)
      await expect(as(f.splitter, f.other).payNative(q, sig, { value: q.amount }))
        .to.be.revertedWithCustomError(f.splitter, 'WrongPayer')
        .withArgs(f.payer.address, f.other.address)
    })

    it('refuses a share above 10000 bps, a zero creator and a zero amount', async function () {
      const f = await loadFixture(deployFixture)
      const pay = (q: Quote, sig: string) => as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      const [q1, sig1] = await signed(f, { creatorShareBps: 10_001 })
      await expect(pay(q1, sig1)).to.be.revertedWithCustomError(f.splitter, 'BadShare').withArgs(10_001)
      const [q2, sig2] = await signed(f, { creatorShareBps: 65_535 })
      await expect(pay(q2, sig2)).to.be.revertedWithCustomError(f.splitter, 'BadShare').withArgs(65_535)
      const [q3, sig3] = await signed(f, { creator: ZERO })
      await expect(pay(q3, sig3)).to.be.revertedWithCustomError(f.splitter, 'ZeroCreator')
      const [q4, sig4] = await signed(f, { amount: 0n })
      await expect(pay(q4, sig4)).to.be.revertedWithCustomError(f.splitter, 'ZeroAmount')
    })

    it('refuses an ERC-20 quote on the native path and a native quote on the ERC-20 paths', async function () {
      const f = await loadFixture(deployFixture)
      const usdAddress = await f.usd.getAddress()
      const [q1, sig1] = await signed(f, { token: usdAddress, amount: USD(1) })
      await expect(as(f.splitter, f.payer).payNative(q1, sig1, { value: q1.amount }))
        .to.be.revertedWithCustomError(f.splitter, 'WrongToken')
        .withArgs(usdAddress)
      const [q2, sig2] = await signed(f)
      await expect(as(f.splitter, f.payer).payERC20(q2, sig2))
        .to.be.revertedWithCustomError(f.splitter, 'WrongToken')
        .withArgs(ZERO)
      await expect(
        as(f.splitter, f.payer).payERC20WithPermit(q2, sig2, 0n, 27, ethers.ZeroHash, ethers.ZeroHash)
      )
        .to.be.revertedWithCustomError(f.splitter, 'WrongToken')
        .withArgs(ZERO)
    })
  })

  describe('payERC20', function () {
    it('pulls a 6-decimal stablecoin and splits it', async function () {
      const f = await loadFixture(deployFixture)
      const usdAddress = await f.usd.getAddress()
      expect(await f.usd.decimals()).to.equal(6n)
      expect(await f.usd.name()).to.equal('Matinee Test USD')
      expect(await f.usd.symbol()).to.equal('mUSD')

      const amount = USD(4.99)
      const [q, sig] = await signed(f, { token: usdAddress, amount, creatorShareBps: 8000 })
      const [creatorAmount, platformAmount] = split(amount, 8000)
      expect(creatorAmount).to.equal(3_992_000n)
      expect(platformAmount).to.equal(998_000n)
      await approve(f.usd, f, amount)

      const tx = as(f.splitter, f.payer).payERC20(q, sig)
      await expect(tx)
        .to.emit(f.splitter, 'Paid')
        .withArgs(q.invoiceId, q.payer, q.creator, usdAddress, amount, creatorAmount, platformAmount, q.videoIdHash)
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.usd,
        [f.payer, f.creator, f.feeRecipient, f.splitterAddress],
        [-amount, creatorAmount, platformAmount, 0n]
      )
      expect(await f.usd.allowance(f.payer.address, f.splitterAddress)).to.equal(0n)
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(true)
    })

    it('refuses when the allowance is missing (nothing moves, invoice stays unused)', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f, { token: await f.usd.getAddress(), amount: USD(2) })
      await expect(as(f.splitter, f.payer).payERC20(q, sig)).to.be.revertedWithCustomError(
        f.usd,
        'ERC20InsufficientAllowance'
      )
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(false)
    })

    it('works with a token whose transfer/transferFrom return nothing (USDT-style)', async function () {
      const f = await loadFixture(deployFixture)
      const tokenAddress = await f.noReturn.getAddress()
      const amount = 1_234_567n
      const [q, sig] = await signed(f, { token: tokenAddress, amount, creatorShareBps: 7000 })
      const [creatorAmount, platformAmount] = split(amount, 7000)
      await approve(f.noReturn, f, amount)
      const tx = as(f.splitter, f.payer).payERC20(q, sig)
      await expect(tx)
        .to.emit(f.splitter, 'Paid')
        .withArgs(q.invoiceId, q.payer, q.creator, tokenAddress, amount, creatorAmount, platformAmount, q.videoIdHash)
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.noReturn,
        [f.payer, f.creator, f.feeRecipient],
        [-amount, creatorAmount, platformAmount]
      )
    })

    it('refuses a token that is not on the allowlist until the owner allows it', async function () {
      const f = await loadFixture(deployFixture)
      const tokenAddress = await f.notAllowed.getAddress()
      const [q, sig] = await signed(f, { token: tokenAddress, amount: USD(3) })
      await approve(f.notAllowed, f, USD(3))
      await expect(as(f.splitter, f.payer).payERC20(q, sig))
        .to.be.revertedWithCustomError(f.splitter, 'TokenNotAllowed')
        .withArgs(tokenAddress)

      await expect(f.splitter.setTokenAllowed(tokenAddress, true))
        .to.emit(f.splitter, 'TokenAllowedSet')
        .withArgs(tokenAddress, true)
      await expect(as(f.splitter, f.payer).payERC20(q, sig)).to.emit(f.splitter, 'Paid')

      // and removing a token stops it again
      await expect(f.splitter.setTokenAllowed(tokenAddress, false))
        .to.emit(f.splitter, 'TokenAllowedSet')
        .withArgs(tokenAddress, false)
      const [q2, sig2] = await signed(f, { token: tokenAddress, amount: USD(3) })
      await approve(f.notAllowed, f, USD(3))
      await expect(as(f.splitter, f.payer).payERC20(q2, sig2))
        .to.be.revertedWithCustomError(f.splitter, 'TokenNotAllowed')
        .withArgs(tokenAddress)
    })

    it('refuses native coin sent along an ERC-20 payment (non-payable function)', async function () {
      const f = await loadFixture(deployFixture)
      const [q, sig] = await signed(f, { token: await f.usd.getAddress(), amount: USD(1) })
      await approve(f.usd, f, USD(1))
      const data = f.splitter.interface.encodeFunctionData('payERC20', [q, sig])
      await expect(f.payer.sendTransaction({ to: f.splitterAddress, data, value: 1n })).to.be.revertedWithoutReason(
        ethers
      )
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(false)
      await expect(f.payer.sendTransaction({ to: f.splitterAddress, data })).to.emit(f.splitter, 'Paid')
    })

    it('refuses a fee-on-transfer token (the contract must receive exactly the amount)', async function () {
      const f = await loadFixture(deployFixture)
      const amount = ethers.parseEther('10')
      const [q, sig] = await signed(f, { token: await f.feeToken.getAddress(), amount })
      await approve(f.feeToken, f, amount)
      await expect(as(f.splitter, f.payer).payERC20(q, sig))
        .to.be.revertedWithCustomError(f.splitter, 'TransferAmountMismatch')
        .withArgs(amount, amount - amount / 100n)
    })

    it('applies the payer, expiry and signature checks on the ERC-20 path too', async function () {
      const f = await loadFixture(deployFixture)
      const usdAddress = await f.usd.getAddress()
      await approve(f.usd, f, USD(100))

      const [q1, sig1] = await signed(f, { token: usdAddress, amount: USD(1) })
      await expect(as(f.splitter, f.other).payERC20(q1, sig1))
        .to.be.revertedWithCustomError(f.splitter, 'WrongPayer')
        .withArgs(f.payer.address, f.other.address)

      const q2 = await makeQuote(f, { token: usdAddress, amount: USD(1) })
      const bad = await signQuote(f.other, f.splitter, f.chainId, q2)
      await expect(as(f.splitter, f.payer).payERC20(q2, bad)).to.be.revertedWithCustomError(
        f.splitter,
        'InvalidSignature'
      )

      const [q3, sig3] = await signed(f, { token: usdAddress, amount: USD(1) })
      await time.increaseTo(q3.deadline + 1n)
      await expect(as(f.splitter, f.payer).payERC20(q3, sig3)).to.be.revertedWithCustomError(
        f.splitter,
        'QuoteExpired'
      )

      const [q4, sig4] = await signed(f, { token: usdAddress, amount: USD(1), creatorShareBps: 10_001 })
      await expect(as(f.splitter, f.payer).payERC20(q4, sig4)).to.be.revertedWithCustomError(f.splitter, 'BadShare')
    })
  })

  describe('payERC20WithPermit', function () {
    it('approves with an EIP-2612 permit and pays in one transaction', async function () {
      const f = await loadFixture(deployFixture)
      const usdAddress = await f.usd.getAddress()
      const amount = USD(9.99)
      const [q, sig] = await signed(f, { token: usdAddress, amount, creatorShareBps: 9000 })
      const permitDeadline = q.deadline
      const { v, r, s } = await signPermit(f.payer, f.usd, f.chainId, f.splitterAddress, amount, permitDeadline)
      const [creatorAmount, platformAmount] = split(amount, 9000)

      const tx = as(f.splitter, f.payer).payERC20WithPermit(q, sig, permitDeadline, v, r, s)
      await expect(tx)
        .to.emit(f.splitter, 'Paid')
        .withArgs(q.invoiceId, q.payer, q.creator, usdAddress, amount, creatorAmount, platformAmount, q.videoIdHash)
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.usd,
        [f.payer, f.creator, f.feeRecipient],
        [-amount, creatorAmount, platformAmount]
      )
      expect(await f.usd.nonces(f.payer.address)).to.equal(1n)
    })

    it('still pays when the permit was front-run (already used)', async function () {
      const f = await loadFixture(deployFixture)
      const amount = USD(1.5)
      const [q, sig] = await signed(f, { token: await f.usd.getAddress(), amount })
      const { v, r, s } = await signPermit(f.payer, f.usd, f.chainId, f.splitterAddress, amount, q.deadline)

      // someone copies the permit from the mempool and submits it first
      await as(f.usd, f.other).permit(f.payer.address, f.splitterAddress, amount, q.deadline, v, r, s)
      expect(await f.usd.allowance(f.payer.address, f.splitterAddress)).to.equal(amount)

      await expect(as(f.splitter, f.payer).payERC20WithPermit(q, sig, q.deadline, v, r, s)).to.emit(
        f.splitter,
        'Paid'
      )
    })

    it('fails on the transfer when the permit is invalid and there is no allowance', async function () {
      const f = await loadFixture(deployFixture)
      const amount = USD(2)
      const [q, sig] = await signed(f, { token: await f.usd.getAddress(), amount })
      // permit signed by someone else than the payer
      const { v, r, s } = await signPermit(f.other, f.usd, f.chainId, f.splitterAddress, amount, q.deadline)
      await expect(as(f.splitter, f.payer).payERC20WithPermit(q, sig, q.deadline, v, r, s)).to.be.revertedWithCustomError(
        f.usd,
        'ERC20InsufficientAllowance'
      )
    })

    it('works with a token without permit when an allowance exists', async function () {
      const f = await loadFixture(deployFixture)
      const amount = 777n
      const [q, sig] = await signed(f, { token: await f.noReturn.getAddress(), amount })
      await approve(f.noReturn, f, amount)
      await expect(
        as(f.splitter, f.payer).payERC20WithPermit(q, sig, 0n, 0, ethers.ZeroHash, ethers.ZeroHash)
      ).to.emit(f.splitter, 'Paid')
    })
  })

  describe('split rounding', function () {
    const shares = [0, 1, 2, 3333, 5000, 9999, 10_000]
    const amounts = [1n, 2n, 3n, 7n, 9_999n, 10_001n, 123_456_789n, 10n ** 18n + 1n, 2n ** 256n - 1n]

    it('creator = floor(amount * bps / 10000), platform gets the remainder, the sum is always the amount', async function () {
      const f = await loadFixture(deployFixture)
      for (const bps of shares) {
        for (const amount of amounts) {
          const [c, p] = await f.splitter.splitAmount(amount, bps)
          const [ec, ep] = split(amount, bps)
          expect(c, `creator ${amount}@${bps}`).to.equal(ec)
          expect(p, `platform ${amount}@${bps}`).to.equal(ep)
          expect(c + p).to.equal(amount)
        }
      }
      // a few hand-checked edges
      expect(await f.splitter.splitAmount(1n, 9999)).to.deep.equal([0n, 1n])
      expect(await f.splitter.splitAmount(9_999n, 1)).to.deep.equal([0n, 9_999n])
      expect(await f.splitter.splitAmount(10_001n, 9999)).to.deep.equal([9_999n, 2n])
      expect(await f.splitter.splitAmount(10_000n, 1)).to.deep.equal([1n, 9_999n])
      expect(await f.splitter.splitAmount(1n, 10_000)).to.deep.equal([1n, 0n])
      expect(await f.splitter.splitAmount(1n, 0)).to.deep.equal([0n, 1n])
      await expect(f.splitter.splitAmount(1n, 10_001)).to.be.revertedWithCustomError(f.splitter, 'BadShare')
    })

    for (const bps of [0, 1, 9999, 10_000]) {
      it(`pays exactly the computed split on-chain at ${bps} bps (native and 6-decimal token)`, async function () {
        const f = await loadFixture(deployFixture)
        const usdAddress = await f.usd.getAddress()
        for (const amount of [1n, 3n, 9_999n, 10_001n, 4_990_001n]) {
          const [creatorAmount, platformAmount] = split(amount, bps)
          expect(creatorAmount + platformAmount).to.equal(amount)

          const [q, sig] = await signed(f, { amount, creatorShareBps: bps })
          const tx = as(f.splitter, f.payer).payNative(q, sig, { value: amount })
          await expect(tx)
            .to.emit(f.splitter, 'Paid')
            .withArgs(q.invoiceId, q.payer, q.creator, ZERO, amount, creatorAmount, platformAmount, q.videoIdHash)
          await expect(tx).to.changeEtherBalances(
            ethers,
            [f.payer, f.creator, f.feeRecipient],
            [-amount, creatorAmount, platformAmount]
          )

          const [qt, sigt] = await signed(f, { token: usdAddress, amount, creatorShareBps: bps })
          await approve(f.usd, f, amount)
          const txt = as(f.splitter, f.payer).payERC20(qt, sigt)
          await expect(txt).to.changeTokenBalances(
            ethers,
            f.usd,
            [f.payer, f.creator, f.feeRecipient, f.splitterAddress],
            [-amount, creatorAmount, platformAmount, 0n]
          )
        }
      })
    }
  })

  describe('creator payout failures become credits', function () {
    it('native: a creator contract that reverts on receive is credited, the sale goes through', async function () {
      const f = await loadFixture(deployFixture)
      const rc = f.revertingCreator
      const rcAddress = await rc.getAddress()
      const [q, sig] = await signed(f, { creator: rcAddress, amount: 1001n, creatorShareBps: 5000 })
      const [creatorAmount, platformAmount] = split(1001n, 5000)

      const tx = as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      await expect(tx).to.emit(f.splitter, 'CreatorCredited').withArgs(q.invoiceId, rcAddress, ZERO, creatorAmount)
      await expect(tx)
        .to.emit(f.splitter, 'Paid')
        .withArgs(q.invoiceId, q.payer, rcAddress, ZERO, q.amount, creatorAmount, platformAmount, q.videoIdHash)
      await expect(tx).to.changeEtherBalances(
        ethers,
        [f.payer, rcAddress, f.feeRecipient, f.splitterAddress],
        [-q.amount, 0n, platformAmount, creatorAmount]
      )
      expect(await f.splitter.credits(rcAddress, ZERO)).to.equal(creatorAmount)

      // a second sale accumulates
      const [q2, sig2] = await signed(f, { creator: rcAddress, amount: 2000n, creatorShareBps: 5000 })
      await as(f.splitter, f.payer).payNative(q2, sig2, { value: q2.amount })
      const total = creatorAmount + 1000n
      expect(await f.splitter.credits(rcAddress, ZERO)).to.equal(total)

      // withdrawing to itself still fails while it refuses coins (credit kept)...
      await expect(rc.withdrawFrom(f.splitterAddress, ZERO)).to.be.revertedWithCustomError(rc, 'NoThanks')
      expect(await f.splitter.credits(rcAddress, ZERO)).to.equal(total)

      // ...and works once it accepts
      await rc.setAccepting(true)
      const w = rc.withdrawFrom(f.splitterAddress, ZERO)
      await expect(w).to.emit(f.splitter, 'Withdrawn').withArgs(rcAddress, ZERO, rcAddress, total)
      await expect(w).to.changeEtherBalances(ethers, [rcAddress, f.splitterAddress], [total, -total])
      expect(await f.splitter.credits(rcAddress, ZERO)).to.equal(0n)
      await expect(rc.withdrawFrom(f.splitterAddress, ZERO)).to.be.revertedWithCustomError(
        f.splitter,
        'NothingToWithdraw'
      )
    })

    it('native: a credited creator can withdraw to another address', async function () {
      const f = await loadFixture(deployFixture)
      const rc = f.revertingCreator
      const rcAddress = await rc.getAddress()
      const [q, sig] = await signed(f, { creator: rcAddress, amount: ONE_ETH, creatorShareBps: 7500 })
      await as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      const [creatorAmount] = split(ONE_ETH, 7500)

      const w = rc.withdrawToFrom(f.splitterAddress, ZERO, f.other.address)
      await expect(w).to.emit(f.splitter, 'Withdrawn').withArgs(rcAddress, ZERO, f.other.address, creatorAmount)
      await expect(w).to.changeEtherBalances(ethers, [f.other, f.splitterAddress], [creatorAmount, -creatorAmount])
    })

    it('native: no credit when the creator share is zero', async function () {
      const f = await loadFixture(deployFixture)
      const rcAddress = await f.revertingCreator.getAddress()
      const [q, sig] = await signed(f, { creator: rcAddress, creatorShareBps: 0 })
      const tx = as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      await expect(tx).not.to.emit(f.splitter, 'CreatorCredited')
      await expect(tx).to.changeEtherBalances(ethers, [f.feeRecipient], [q.amount])
    })

    it('token (no-return, reverting): a blocklisted creator is credited and can withdraw later', async function () {
      const f = await loadFixture(deployFixture)
      const tokenAddress = await f.noReturn.getAddress()
      await f.noReturn.setBlocked(f.creator.address, true)
      const amount = 10_000_001n
      const [q, sig] = await signed(f, { token: tokenAddress, amount, creatorShareBps: 8000 })
      const [creatorAmount, platformAmount] = split(amount, 8000)
      await approve(f.noReturn, f, amount)

      const tx = as(f.splitter, f.payer).payERC20(q, sig)
      await expect(tx)
        .to.emit(f.splitter, 'CreatorCredited')
        .withArgs(q.invoiceId, f.creator.address, tokenAddress, creatorAmount)
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.noReturn,
        [f.payer, f.creator, f.feeRecipient, f.splitterAddress],
        [-amount, 0n, platformAmount, creatorAmount]
      )
      expect(await f.splitter.credits(f.creator.address, tokenAddress)).to.equal(creatorAmount)
      expect(await f.splitter.credits(f.creator.address, ZERO)).to.equal(0n)

      // still blocked: withdraw to itself fails, the credit is kept
      await expect(as(f.splitter, f.creator).withdraw(tokenAddress)).to.be.revertedWith('blocked')
      expect(await f.splitter.credits(f.creator.address, tokenAddress)).to.equal(creatorAmount)

      // unblocked: withdraw works
      await f.noReturn.setBlocked(f.creator.address, false)
      const w = as(f.splitter, f.creator).withdraw(tokenAddress)
      await expect(w)
        .to.emit(f.splitter, 'Withdrawn')
        .withArgs(f.creator.address, tokenAddress, f.creator.address, creatorAmount)
      await expect(w).to.changeTokenBalances(
        ethers,
        f.noReturn,
        [f.creator, f.splitterAddress],
        [creatorAmount, -creatorAmount]
      )
    })

    it('token (returns false): a refused transfer to the creator becomes a credit', async function () {
      const f = await loadFixture(deployFixture)
      const tokenAddress = await f.falseReturn.getAddress()
      await f.falseReturn.setBlocked(f.creator.address, true)
      const amount = ethers.parseEther('3')
      const [q, sig] = await signed(f, { token: tokenAddress, amount, creatorShareBps: 6000 })
      const [creatorAmount, platformAmount] = split(amount, 6000)
      await approve(f.falseReturn, f, amount)

      const tx = as(f.splitter, f.payer).payERC20(q, sig)
      await expect(tx)
        .to.emit(f.splitter, 'CreatorCredited')
        .withArgs(q.invoiceId, f.creator.address, tokenAddress, creatorAmount)
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.falseReturn,
        [f.creator, f.feeRecipient, f.splitterAddress],
        [0n, platformAmount, creatorAmount]
      )

      await expect(as(f.splitter, f.creator).withdraw(tokenAddress))
        .to.be.revertedWithCustomError(f.splitter, 'SafeERC20FailedOperation')
        .withArgs(tokenAddress)
      // withdrawTo another address works even while blocked
      await expect(as(f.splitter, f.creator).withdrawTo(tokenAddress, f.other.address))
        .to.emit(f.splitter, 'Withdrawn')
        .withArgs(f.creator.address, tokenAddress, f.other.address, creatorAmount)
      expect(await f.falseReturn.balanceOf(f.other.address)).to.equal(creatorAmount)
    })

    it('withdraw refuses an empty credit and a zero destination', async function () {
      const f = await loadFixture(deployFixture)
      await expect(as(f.splitter, f.creator).withdraw(ZERO)).to.be.revertedWithCustomError(
        f.splitter,
        'NothingToWithdraw'
      )
      await expect(as(f.splitter, f.creator).withdrawTo(ZERO, ZERO)).to.be.revertedWithCustomError(
        f.splitter,
        'ZeroAddress'
      )
    })

    it('a failing platform payout reverts the whole payment (the payer keeps the funds)', async function () {
      const f = await loadFixture(deployFixture)
      const rc = f.revertingCreator
      await f.splitter.setFeeRecipient(await rc.getAddress())
      const [q, sig] = await signed(f)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })).to.be.revertedWithCustomError(
        rc,
        'NoThanks'
      )
      expect(await f.splitter.usedInvoices(q.invoiceId)).to.equal(false)

      await f.splitter.setFeeRecipient(f.feeRecipient.address)
      await f.noReturn.setBlocked(f.feeRecipient.address, true)
      const [qt, sigt] = await signed(f, { token: await f.noReturn.getAddress(), amount: 100n })
      await approve(f.noReturn, f, 100n)
      await expect(as(f.splitter, f.payer).payERC20(qt, sigt)).to.be.revertedWith('blocked')
      expect(await f.noReturn.balanceOf(f.payer.address)).to.equal(USD(1_000_000))
    })
  })

  describe('pause', function () {
    it('blocks payments while paused, keeps withdrawals open, resumes on unpause', async function () {
      const f = await loadFixture(deployFixture)
      const rcAddress = await f.revertingCreator.getAddress()
      const [q0, sig0] = await signed(f, { creator: rcAddress })
      await as(f.splitter, f.payer).payNative(q0, sig0, { value: q0.amount })

      await expect(f.splitter.pause()).to.emit(f.splitter, 'Paused').withArgs(f.owner.address)
      const [q, sig] = await signed(f)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })).to.be.revertedWithCustomError(
        f.splitter,
        'EnforcedPause'
      )
      const [qt, sigt] = await signed(f, { token: await f.usd.getAddress(), amount: USD(1) })
      await approve(f.usd, f, USD(1))
      await expect(as(f.splitter, f.payer).payERC20(qt, sigt)).to.be.revertedWithCustomError(
        f.splitter,
        'EnforcedPause'
      )
      await expect(
        as(f.splitter, f.payer).payERC20WithPermit(qt, sigt, 0n, 0, ethers.ZeroHash, ethers.ZeroHash)
      ).to.be.revertedWithCustomError(f.splitter, 'EnforcedPause')

      // credited creators can still get their money out
      await expect(f.revertingCreator.withdrawToFrom(f.splitterAddress, ZERO, f.other.address)).to.emit(
        f.splitter,
        'Withdrawn'
      )

      await expect(f.splitter.unpause()).to.emit(f.splitter, 'Unpaused').withArgs(f.owner.address)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })).to.emit(f.splitter, 'Paid')
      await expect(as(f.splitter, f.payer).payERC20(qt, sigt)).to.emit(f.splitter, 'Paid')
    })

    it('only the owner can pause and unpause', async function () {
      const f = await loadFixture(deployFixture)
      await expect(as(f.splitter, f.other).pause())
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.other.address)
      await f.splitter.pause()
      await expect(as(f.splitter, f.other).unpause())
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.other.address)
    })
  })

  describe('owner setters', function () {
    it('setQuoteSigner: owner only, emits, refuses zero, old signatures stop working', async function () {
      const f = await loadFixture(deployFixture)
      await expect(as(f.splitter, f.other).setQuoteSigner(f.newSigner.address))
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.other.address)
      await expect(f.splitter.setQuoteSigner(ZERO)).to.be.revertedWithCustomError(f.splitter, 'ZeroAddress')

      const [qOld, sigOld] = await signed(f) // signed by the current signer
      await expect(f.splitter.setQuoteSigner(f.newSigner.address))
        .to.emit(f.splitter, 'QuoteSignerChanged')
        .withArgs(f.quoteSigner.address, f.newSigner.address)
      expect(await f.splitter.quoteSigner()).to.equal(f.newSigner.address)

      await expect(
        as(f.splitter, f.payer).payNative(qOld, sigOld, { value: qOld.amount })
      ).to.be.revertedWithCustomError(f.splitter, 'InvalidSignature')
      const sigNew = await signQuote(f.newSigner, f.splitter, f.chainId, qOld)
      await expect(as(f.splitter, f.payer).payNative(qOld, sigNew, { value: qOld.amount })).to.emit(
        f.splitter,
        'Paid'
      )
    })

    it('setFeeRecipient: owner only, emits, refuses zero, next payments go to the new recipient', async function () {
      const f = await loadFixture(deployFixture)
      await expect(as(f.splitter, f.other).setFeeRecipient(f.other.address))
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.other.address)
      await expect(f.splitter.setFeeRecipient(ZERO)).to.be.revertedWithCustomError(f.splitter, 'ZeroAddress')
      await expect(f.splitter.setFeeRecipient(f.other.address))
        .to.emit(f.splitter, 'FeeRecipientChanged')
        .withArgs(f.feeRecipient.address, f.other.address)
      expect(await f.splitter.feeRecipient()).to.equal(f.other.address)

      const [q, sig] = await signed(f, { creatorShareBps: 8000 })
      const [, platformAmount] = split(q.amount, 8000)
      await expect(as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })).to.changeEtherBalances(
        ethers,
        [f.other, f.feeRecipient],
        [platformAmount, 0n]
      )
    })

    it('setTokenAllowed: owner only, emits, refuses the zero address (native is always allowed)', async function () {
      const f = await loadFixture(deployFixture)
      const tokenAddress = await f.notAllowed.getAddress()
      await expect(as(f.splitter, f.other).setTokenAllowed(tokenAddress, true))
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.other.address)
      await expect(f.splitter.setTokenAllowed(ZERO, false)).to.be.revertedWithCustomError(f.splitter, 'ZeroAddress')
      await expect(f.splitter.setTokenAllowed(tokenAddress, true))
        .to.emit(f.splitter, 'TokenAllowedSet')
        .withArgs(tokenAddress, true)
      expect(await f.splitter.allowedTokens(tokenAddress)).to.equal(true)
    })
  })

  describe('ownership', function () {
    it('the owner given to the constructor is not the deployer: only the owner controls the contract', async function () {
      const f = await loadFixture(deployFixture)
      const [deployer] = await ethers.getSigners()
      const cold = f.newSigner // a wallet that is not the deployer (x402:deploy takes X402_OWNER_ADDRESS)
      const splitter = await ethers.deployContract(
        'X402Splitter',
        [cold.address, f.quoteSigner.address, f.feeRecipient.address, []],
        deployer
      )
      await expect(splitter.deploymentTransaction()).to.emit(splitter, 'OwnershipTransferred').withArgs(ZERO, cold.address)
      expect(await splitter.owner()).to.equal(cold.address)

      const asDeployer = as(splitter, deployer)
      for (const call of [
        () => asDeployer.pause(),
        () => asDeployer.setQuoteSigner(f.other.address),
        () => asDeployer.setFeeRecipient(f.other.address),
        () => asDeployer.setTokenAllowed(f.other.address, true),
        () => asDeployer.transferOwnership(deployer.address),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(splitter, 'OwnableUnauthorizedAccount').withArgs(deployer.address)
      }
      await expect(as(splitter, cold).pause()).to.emit(splitter, 'Paused').withArgs(cold.address)
      expect(await splitter.paused()).to.equal(true)
    })

    it('moves in two steps: the new owner must accept; until then the old one keeps control', async function () {
      const f = await loadFixture(deployFixture)
      await expect(f.splitter.transferOwnership(f.other.address))
        .to.emit(f.splitter, 'OwnershipTransferStarted')
        .withArgs(f.owner.address, f.other.address)
      expect(await f.splitter.owner()).to.equal(f.owner.address)
      expect(await f.splitter.pendingOwner()).to.equal(f.other.address)
      await expect(as(f.splitter, f.payer).acceptOwnership())
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.payer.address)
      await expect(as(f.splitter, f.other).pause()).to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')

      await expect(as(f.splitter, f.other).acceptOwnership())
        .to.emit(f.splitter, 'OwnershipTransferred')
        .withArgs(f.owner.address, f.other.address)
      expect(await f.splitter.owner()).to.equal(f.other.address)
      await expect(f.splitter.pause()).to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
      await expect(as(f.splitter, f.other).pause()).to.emit(f.splitter, 'Paused')
    })

    it('cannot be renounced (a leaked quote signer must stay replaceable)', async function () {
      const f = await loadFixture(deployFixture)
      await expect(f.splitter.renounceOwnership()).to.be.revertedWithCustomError(f.splitter, 'OwnershipCannotBeRenounced')
      await expect(as(f.splitter, f.other).renounceOwnership())
        .to.be.revertedWithCustomError(f.splitter, 'OwnableUnauthorizedAccount')
        .withArgs(f.other.address)
      expect(await f.splitter.owner()).to.equal(f.owner.address)
    })
  })

  describe('reentrancy', function () {
    it('a creator re-entering payNative from its receive hook is stopped by the guard', async function () {
      const f = await loadFixture(deployFixture)
      const attacker = f.reentrantCreator
      const attackerAddress = await attacker.getAddress()

      // a perfectly valid quote for the attacker itself, to be used from inside the payout
      const inner = await makeQuote(f, { payer: attackerAddress, creator: attackerAddress, amount: 1000n })
      const innerSig = await signQuote(f.quoteSigner, f.splitter, f.chainId, inner)
      const innerData = f.splitter.interface.encodeFunctionData('payNative', [inner, innerSig])
      await f.owner.sendTransaction({ to: attackerAddress, value: ethers.parseEther('1') })
      await attacker.arm(f.splitterAddress, innerData, inner.amount)

      const [q, sig] = await signed(f, { creator: attackerAddress, creatorShareBps: 5000 })
      const [creatorAmount] = split(q.amount, 5000)
      const tx = as(f.splitter, f.payer).payNative(q, sig, { value: q.amount })
      await expect(tx).to.emit(f.splitter, 'Paid')
      await expect(tx).to.changeEtherBalances(ethers, [attackerAddress], [creatorAmount])

      expect(await attacker.attempts()).to.equal(1n)
      expect(await attacker.lastSucceeded()).to.equal(false)
      const guardError = f.splitter.interface.getError('ReentrancyGuardReentrantCall')!.selector
      expect(await attacker.lastRevertData()).to.equal(guardError)
      expect(await f.splitter.usedInvoices(inner.invoiceId)).to.equal(false)

      // the inner quote was valid: outside a payout it goes through
      await expect(attacker.execute(f.splitterAddress, innerData, { value: inner.amount })).to.emit(f.splitter, 'Paid')
    })

    it('a creator re-entering withdraw while being paid out is stopped by the guard', async function () {
      const f = await loadFixture(deployFixture)
      const attacker = f.reentrantCreator
      const attackerAddress = await attacker.getAddress()

      // build up a credit: the attacker refuses the first payout
      await attacker.setRejecting(true)
      const [q0, sig0] = await signed(f, { creator: attackerAddress, creatorShareBps: 10_000 })
      await expect(as(f.splitter, f.payer).payNative(q0, sig0, { value: q0.amount })).to.emit(
        f.splitter,
        'CreatorCredited'
      )
      await attacker.setRejecting(false)
      expect(await f.splitter.credits(attackerAddress, ZERO)).to.equal(q0.amount)

      const withdrawData = f.splitter.interface.encodeFunctionData('withdraw', [ZERO])
      const guardError = f.splitter.interface.getError('ReentrancyGuardReentrantCall')!.selector

      // re-enter withdraw during withdraw
      await attacker.arm(f.splitterAddress, withdrawData, 0n)
      const w = attacker.execute(f.splitterAddress, withdrawData)
      await expect(w).to.changeEtherBalances(ethers, [attackerAddress, f.splitterAddress], [q0.amount, -q0.amount])
      expect(await attacker.lastSucceeded()).to.equal(false)
      expect(await attacker.lastRevertData()).to.equal(guardError)
      expect(await f.splitter.credits(attackerAddress, ZERO)).to.equal(0n)

      // re-enter withdraw during a payment's creator payout
      await attacker.setRejecting(true)
      const [q1, sig1] = await signed(f, { creator: attackerAddress, creatorShareBps: 10_000 })
      await as(f.splitter, f.payer).payNative(q1, sig1, { value: q1.amount })
      await attacker.setRejecting(false)
      await attacker.arm(f.splitterAddress, withdrawData, 0n)
      const [q2, sig2] = await signed(f, { creator: attackerAddress, creatorShareBps: 10_000 })
      await expect(as(f.splitter, f.payer).payNative(q2, sig2, { value: q2.amount })).to.emit(f.splitter, 'Paid')
      expect(await attacker.attempts()).to.equal(2n)
      expect(await attacker.lastSucceeded()).to.equal(false)
      expect(await attacker.lastRevertData()).to.equal(guardError)
      expect(await f.splitter.credits(attackerAddress, ZERO)).to.equal(q1.amount)
      // the splitter holds exactly the outstanding credit
      expect(await ethers.provider.getBalance(f.splitterAddress)).to.equal(q1.amount)
    })
  })
})
