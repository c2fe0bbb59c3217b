import receipts from '#services/commerce/receipts'

/** Mails one recorded receipt (a no-op once it was sent). */
export default async function receiptMail(data: { receiptId: number }) {
  await receipts.send(data.receiptId)
  return { receiptId: data.receiptId }
}
