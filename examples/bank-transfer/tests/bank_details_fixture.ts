/** A real-format account (the IBAN is the standard's published example; its check digits are valid). */
export const BANK_DETAILS = {
  accountHolder: 'Matinee Films GmbH',
  iban: 'DE89 3704 0044 0532 0130 00',
  bic: 'COBADEFFXXX',
  bankName: 'Commerzbank',
  instructions: 'Transfers from outside the EU may take a few days longer.',
}
