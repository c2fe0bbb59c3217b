import vine from '@vinejs/vine'
import type { Infer } from '@vinejs/vine/types'
import type { PluginSettings, SettingsFields } from '@matinee/plugin-kit'

/** ISO 9362: bank (4 letters), country (2), location (2), optional branch (3). */
const BIC = /^[A-Za-z]{6}[A-Za-z0-9]{2}(?:[A-Za-z0-9]{3})?$/

/**
 * The account buyers pay into, edited by an admin (Admin → Plugins →
 * bank-transfer → Settings). Every field may be empty, so the plugin can be
 * switched on before an admin fills them in; a value given must be valid
 * (the IBAN's country format and check digits, the BIC's shape).
 */
export const bankDetailsSchema = vine.object({
  accountHolder: vine.string().trim().minLength(2).maxLength(140).optional(),
  iban: vine
    .string()
    .trim()
    .toUpperCase()
    .iban()
    .transform((iban) => iban.replace(/[\s-]+/g, ''))
    .optional(),
  bic: vine.string().trim().toUpperCase().regex(BIC).optional(),
  bankName: vine.string().trim().minLength(2).maxLength(140).optional(),
  instructions: vine.string().trim().maxLength(500).optional(),
})

export type BankDetailsSettings = PluginSettings<typeof bankDetailsSchema>

export const bankDetailsFields: SettingsFields<typeof bankDetailsSchema> = {
  accountHolder: { label: 'Account holder', help: 'The name on the account, as the buyer’s bank must write it.' },
  iban: { label: 'IBAN', help: 'Spaces are fine; it is checked (country format and check digits) when you save.' },
  bic: { label: 'BIC (SWIFT code)', help: '8 or 11 characters, e.g. COBADEFFXXX.' },
  bankName: { label: 'Bank name' },
  instructions: { label: 'Extra instructions (optional)', help: 'Shown to buyers under the bank details.' },
}

/** What the demo seeder (make dev) fills in: the IBAN standard's own example account. */
export const DEMO_BANK_DETAILS = {
  accountHolder: 'Matinee Demo (not a real account)',
  iban: 'DE89370400440532013000',
  bic: 'COBADEFFXXX',
  bankName: 'Demo Bank',
  instructions: 'Demo data from make dev: send no real money. Mark the order paid under Admin → Bank transfers.',
}

/** Bank details with every field a buyer needs. */
export interface BankDetails {
  accountHolder: string
  iban: string
  bic: string
  bankName: string
  instructions?: string
}

const REQUIRED: Array<[keyof BankDetails, string]> = [
  ['accountHolder', 'account holder'],
  ['iban', 'IBAN'],
  ['bic', 'BIC'],
  ['bankName', 'bank name'],
]

/** The names of the details buyers would miss ([] when complete). */
export function missingBankDetails(settings: Infer<typeof bankDetailsSchema>) {
  return REQUIRED.filter(([field]) => !settings[field]).map(([, label]) => label)
}

/** The details when complete, else null. */
export function completeBankDetails(settings: Infer<typeof bankDetailsSchema>): BankDetails | null {
  if (missingBankDetails(settings).length) return null
  const { accountHolder, iban, bic, bankName, instructions } = settings
  return { accountHolder: accountHolder!, iban: iban!, bic: bic!, bankName: bankName!, ...(instructions ? { instructions } : {}) }
}
