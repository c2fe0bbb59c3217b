import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import { AbiCoder, Wallet, ZeroAddress, verifyTypedData, zeroPadValue } from 'ethers'
import { formatTokenAmount } from '#hooks/money'
import {
  PAID_TOPIC,
  decodePaidLog,
  invoiceIdFor,
  orderIdOf,
  parseRate,
  quoteDomain,
  QUOTE_TYPES,
  signQuote,
  splitInMinorUnits,
  toTokenUnits,
  videoIdHashFor,
  normalizeAddress,
} from '../../plugins/x402/chain.js'

const ORDER_ID = '0f8fad5b-d9cb-469f-a165-70867728950e'

test.group('x402: chain arithmetic and encoding', () => {
  test('an order id round-trips through the invoice id; anything else is not ours', ({ assert }) => {
    const invoice = invoiceIdFor(ORDER_ID)
    assert.match(invoice, /^0x[0-9a-f]{64}$/)
    assert.equal(orderIdOf(invoice), ORDER_ID)
    assert.isNull(orderIdOf(`0x${'ab'.repeat(32)}`))
    assert.isNull(orderIdOf('0x1234'))
    assert.throws(() => invoiceIdFor('not-a-uuid'))
    assert.notEqual(videoIdHashFor('a'), videoIdHashFor('b'))
  })

  test('prices become token units exactly, rounded up, never in the platform’s disfavour', ({ assert }) => {
    assert.equal(toTokenUnits({ minor: 841, currencyExponent: 2, rate: '1', decimals: 6 }), 8_410_000n)
    assert.equal(toTokenUnits({ minor: 3000, currencyExponent: 2, rate: '3000', decimals: 18 }), 10n ** 16n)
    // 1 cent at 3000 USD/ETH = 3.33...e12 wei: rounded up.
    assert.equal(toTokenUnits({ minor: 1, currencyExponent: 2, rate: '3000', decimals: 18 }), 3_333_333_333_334n)
    assert.equal(toTokenUnits({ minor: 500, currencyExponent: 0, rate: '150.5', decimals: 6 }), 3_322_260n)
    assert.throws(() => toTokenUnits({ minor: 1, currencyExponent: 2, rate: '0', decimals: 6 }))
    assert.isNull(parseRate('-1'))
    assert.isNull(parseRate('1e3'))
    assert.isNull(parseRate('abc'))
    // Amounts for people: six significant digits, exact rounding, one formatter (the plugin kit's).
    assert.equal(formatTokenAmount(8_410_000n, 6, 'USDC'), '8.41 USDC')
    assert.equal(formatTokenAmount(10n ** 16n, 18), '0.01')
    assert.equal(formatTokenAmount(5n, 0), '5')
    assert.equal(formatTokenAmount(1_666_666_666_666_667n, 18, 'ETH'), '0.00166667 ETH')
    assert.equal(formatTokenAmount(999_999_999n, 9), '1')
    assert.equal(formatTokenAmount(1_234_567_891_234n, 6), '1,234,568')
    assert.equal(formatTokenAmount(0n, 18, 'ETH'), '0 ETH')
  })

  test('the chain’s split in minor units: creator rounded down, the remainder to the platform, always summing to the price', ({ assert }) => {
    assert.deepEqual(splitInMinorUnits({ priceMinor: 841, amount: 8_410_000n, creatorAmount: 7_569_000n }), { creator: 756, platform: 85 })
    assert.deepEqual(splitInMinorUnits({ priceMinor: 300, amount: 3_000_000n, creatorAmount: 2_700_000n }), { creator: 270, platform: 30 })
    for (const price of [1, 7, 99, 100, 12345]) {
      for (const bps of [0, 1, 4999, 9000, 9999, 10000]) {
        const amount = BigInt(price) * 10_000n
        const creatorAmount = (amount * BigInt(bps)) / 10_000n
        const split = splitInMinorUnits({ priceMinor: price, amount, creatorAmount })
        assert.equal(split.creator + split.platform, price)
        assert.isAtLeast(split.creator, 0)
      }
    }
  })

  test('a signed quote recovers to the signer under the domain of one chain and contract only', async ({ assert }) => {
    const signer = new Wallet(Wallet.createRandom().privateKey)
    const contract = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
    const quote = {
      invoiceId: invoiceIdFor(ORDER_ID),
      videoIdHash: videoIdHashFor('v'),
      payer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      token: ZeroAddress,
      amount: '123',
      creator: '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
      creatorShareBps: 9000,
      deadline: 2_000_000_000,
    }
    const signature = await signQuote(signer, 31337, contract, quote)
    const value = { ...quote, amount: 123n }
    assert.equal(verifyTypedData(quoteDomain(31337, contract), QUOTE_TYPES, value, signature), signer.address)
    assert.notEqual(verifyTypedData(quoteDomain(1, contract), QUOTE_TYPES, value, signature), signer.address)
    assert.notEqual(verifyTypedData(quoteDomain(31337, ZeroAddress.replace(/0$/, '1')), QUOTE_TYPES, value, signature), signer.address)
  })

  test('Paid logs decode; truncated, padded or inconsistent ones are refused', ({ assert }) => {
    const coder = AbiCoder.defaultAbiCoder()
    const payer = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    const creator = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
    const topics = [PAID_TOPIC, invoiceIdFor(ORDER_ID), zeroPadValue(payer, 32), zeroPadValue(creator, 32)]
    const data = (amount: bigint, creatorAmount: bigint, platformAmount: bigint) =>
      coder.encode(['address', 'uint256', 'uint256', 'uint256', 'bytes32'], [ZeroAddress, amount, creatorAmount, platformAmount, videoIdHashFor('v')])

    const paid = decodePaidLog({ topics, data: data(10n, 9n, 1n) })
    assert.equal(paid.payer, payer)
    assert.equal(paid.amount, 10n)
    assert.throws(() => decodePaidLog({ topics, data: '0x1234' }))
    assert.throws(() => decodePaidLog({ topics, data: data(10n, 9n, 1n) + '00'.repeat(32) }), /not 160/)
    assert.throws(() => decodePaidLog({ topics, data: data(10n, 9n, 2n) }), /add up/)
    assert.throws(() => decodePaidLog({ topics: topics.slice(0, 3), data: data(10n, 9n, 1n) }))
    assert.throws(() => decodePaidLog({ topics: [`0x${'00'.repeat(32)}`, ...topics.slice(1)], data: data(10n, 9n, 1n) }))
  })

  test('addresses: checksummed, or refused (and the zero address too)', ({ assert }) => {
    assert.equal(normalizeAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8'), '0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
    assert.isNull(normalizeAddress(ZeroAddress))
    assert.isNull(normalizeAddress('0x123'))
    assert.isNull(normalizeAddress(42))
  })

  test('the ABIs the plugin ships are the ones Hardhat compiled (run scripts/export-contracts.mjs after a change)', async ({ assert }) => {
    for (const [name, path] of [
      ['X402Splitter', 'contracts/artifacts/contracts/src/X402Splitter.sol/X402Splitter.json'],
      ['TestStablecoin', 'contracts/artifacts/contracts/src/test/TestStablecoin.sol/TestStablecoin.json'],
    ]) {
      const compiled = JSON.parse(await readFile(app.makePath(path), 'utf8'))
      const shipped = JSON.parse(await readFile(app.makePath(`plugins/x402/contracts/${name}.json`), 'utf8'))
      assert.deepEqual(shipped.abi, compiled.abi, `${name} ABI`)
      assert.equal(shipped.bytecode, compiled.bytecode, `${name} bytecode`)
    }
  })
})
