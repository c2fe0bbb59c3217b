/** What applying one provider event did, as recorded in payment_events.outcome. */
export type EventOutcome = 'applied' | 'duplicate' | 'ignored' | 'deferred' | 'rejected'

export interface EventResult {
  eventId: string
  outcome: EventOutcome
  orderId?: string
  detail?: string
}

export const outcome = (kind: EventOutcome, detail?: string, orderId?: string) => ({ outcome: kind, detail, orderId })

export type AppliedEvent = ReturnType<typeof outcome>
